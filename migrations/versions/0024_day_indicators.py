"""The cut-off keeps, on each region's closed day, what the targets' other indicators need: the
recipients enrolled at its end, the eligible visited in the visit interval ending it, and the
active stalls with (of them) a valid hygiene certificate. ``GET /targets`` read them live for
each day it measures (visit_rate alone about 0.3 s a day at 100,000 recipients); a closed day is
history, so they are counted once (null: a day closed before they were kept, read live).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05 14:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

COLUMNS = ('enrolled', 'visited', 'stalls_active', 'stalls_certified')


def upgrade():
    with op.batch_alter_table('delivery_days') as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('delivery_days') as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
