"""response inbox: submissions wait, encrypted, for the weekly shuffled flush

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 22:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('response_inbox',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.Column('invite_tag', sa.String(length=64), nullable=True),
    sa.Column('receipt_tag', sa.String(length=64), nullable=True),
    sa.Column('box', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_response_inbox_survey_id_surveys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_response_inbox')),
    sa.UniqueConstraint('invite_tag', name=op.f('uq_response_inbox_invite_tag')),
    sa.UniqueConstraint('receipt_tag', name=op.f('uq_response_inbox_receipt_tag')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('response_inbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_response_inbox_survey_id'), ['survey_id'], unique=False)


def downgrade():
    with op.batch_alter_table('response_inbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_response_inbox_survey_id'))

    op.drop_table('response_inbox')
