"""coverage says how many eligible people had no meal planned (unplanned) instead of a count of
another population under the name uncovered (verified or enrolled people reached by nobody, which
was neither part of eligible nor eligible minus covered); uncovered is now eligible minus covered,
worked out, not stored. Days counted before keep null: they were not counted so.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 17:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('coverage_days', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unplanned', sa.Integer(), nullable=True))
        batch_op.drop_column('uncovered')


def downgrade():
    # The old count (verified or enrolled, reached by nobody) cannot be told from the new: 0.
    with op.batch_alter_table('coverage_days', schema=None) as batch_op:
        batch_op.add_column(sa.Column('uncovered', sa.Integer(), nullable=False, server_default='0'))
        batch_op.drop_column('unplanned')
    with op.batch_alter_table('coverage_days', schema=None) as batch_op:
        batch_op.alter_column('uncovered', server_default=None)
