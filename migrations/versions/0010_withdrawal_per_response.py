"""withdrawal ends per response: a response counted in a published version can't be
withdrawn (responses.counted), and a version published after closing ends it for
the whole survey (surveys.withdrawal_ended)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 03:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('counted', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('withdrawal_ended', sa.Boolean(), server_default=sa.false(), nullable=False)
        )

    # Before this revision withdrawal ended for everyone at the first version, and
    # which stored responses a version counted was not recorded: every response of a
    # survey with a published version counts as counted (never fewer than were), so
    # published counts still only grow.
    surveys = sa.table(
        'surveys',
        sa.column('id', sa.Integer()),
        sa.column('report_published_week', sa.String(length=8)),
    )
    responses = sa.table(
        'responses',
        sa.column('survey_id', sa.Integer()),
        sa.column('counted', sa.Boolean()),
    )
    published = sa.select(surveys.c.id).where(surveys.c.report_published_week.is_not(None))
    op.get_bind().execute(
        responses.update().where(responses.c.survey_id.in_(published)).values(counted=True)
    )


def downgrade():
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.drop_column('withdrawal_ended')
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_column('counted')
