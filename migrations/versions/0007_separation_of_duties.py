"""separation of duties: who opened a survey, and restores waiting for approval

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 22:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opened_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_surveys_opened_by_id_users'), 'users', ['opened_by_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('survey_key_wraps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('survey_key_wraps', schema=None) as batch_op:
        batch_op.drop_column('pending')

    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_surveys_opened_by_id_users'), type_='foreignkey')
        batch_op.drop_column('opened_by_id')
