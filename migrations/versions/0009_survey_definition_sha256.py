"""survey definition's SHA-256, read with the row: parsed definitions are cached
per survey version (survey/surveys.py, `definition_of`)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 09:00:00.000000

"""
import hashlib

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('definition_sha256', sa.String(length=64), nullable=True))

    surveys = sa.table(
        'surveys',
        sa.column('id', sa.Integer()),
        sa.column('definition_json', sa.Text()),
        sa.column('definition_sha256', sa.String(length=64)),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(surveys.c.id, surveys.c.definition_json)).all()
    for survey_id, document in rows:
        digest = hashlib.sha256(document.encode('utf-8')).hexdigest()
        connection.execute(
            surveys.update().where(surveys.c.id == survey_id).values(definition_sha256=digest)
        )

    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.alter_column('definition_sha256', existing_type=sa.String(length=64), nullable=False)


def downgrade():
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.drop_column('definition_sha256')
