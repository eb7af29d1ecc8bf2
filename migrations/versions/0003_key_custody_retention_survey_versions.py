"""key custody, retention, survey versions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 11:42:01.963498

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('survey_key_wraps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_survey_key_wraps_user_id'), ['user_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_survey_key_wraps_user_id_users'), 'users', ['user_id'], ['id'], ondelete='CASCADE')

    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retain_until', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('recovery_check', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('previous_version_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_surveys_previous_version_id_surveys'), 'surveys', ['previous_version_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('custodian_public_key', sa.LargeBinary(length=32), nullable=True))
        batch_op.add_column(sa.Column('custodian_key_sealed', sa.LargeBinary(length=128), nullable=True))
        batch_op.add_column(sa.Column('custodian_key_salt', sa.LargeBinary(length=16), nullable=True))
        batch_op.add_column(sa.Column('custodian_key_kdf', sa.String(length=64), nullable=True))



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('custodian_key_kdf')
        batch_op.drop_column('custodian_key_salt')
        batch_op.drop_column('custodian_key_sealed')
        batch_op.drop_column('custodian_public_key')

    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_surveys_previous_version_id_surveys'), type_='foreignkey')
        batch_op.drop_column('previous_version_id')
        batch_op.drop_column('recovery_check')
        batch_op.drop_column('retain_until')

    with op.batch_alter_table('survey_key_wraps', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_survey_key_wraps_user_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_survey_key_wraps_user_id'))
        batch_op.drop_column('user_id')

