"""published reports, addressees and company answers

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 12:23:28.064578

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('config_json', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_report_drafts_survey_id_surveys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_drafts')),
    sa.UniqueConstraint('survey_id', name=op.f('uq_report_drafts_survey_id'))
    )
    op.create_table('report_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('previous_id', sa.Integer(), nullable=True),
    sa.Column('published_week', sa.String(length=8), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_by', sa.String(length=254), nullable=False),
    sa.Column('respondents', sa.Integer(), nullable=False),
    sa.Column('snapshot_json', sa.Text(), nullable=False),
    sa.Column('html', sa.Text(), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['previous_id'], ['report_versions.id'], name=op.f('fk_report_versions_previous_id_report_versions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_report_versions_survey_id_surveys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_versions')),
    sa.UniqueConstraint('survey_id', 'version', name=op.f('uq_report_versions_survey_id'))
    )
    with op.batch_alter_table('report_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_versions_survey_id'), ['survey_id'], unique=False)

    op.create_table('finding_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('finding_id', sa.String(length=64), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('planned_for', sa.Date(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('author', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_finding_answers_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['report_versions.id'], name=op.f('fk_finding_answers_version_id_report_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finding_answers'))
    )
    with op.batch_alter_table('finding_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finding_answers_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_finding_answers_version_id'), ['version_id'], unique=False)

    op.create_table('report_addressees',
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_report_addressees_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['report_versions.id'], name=op.f('fk_report_addressees_version_id_report_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('version_id', 'organisation_id', name=op.f('pk_report_addressees'))
    )


def downgrade():
    op.drop_table('report_addressees')
    with op.batch_alter_table('finding_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finding_answers_version_id'))
        batch_op.drop_index(batch_op.f('ix_finding_answers_organisation_id'))

    op.drop_table('finding_answers')
    with op.batch_alter_table('report_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_versions_survey_id'))

    op.drop_table('report_versions')
    op.drop_table('report_drafts')
