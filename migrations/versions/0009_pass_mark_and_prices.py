"""an inspection's pass mark is a program setting (70): `passed` must agree with the score; the meal
price has a history, so that a statement of a past day pays the price of that day

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 15:00:00

"""
import datetime as dt

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

EARLIEST_DAY = dt.date(2000, 1, 1)  # service.db.EARLIEST_DAY: the price so far held since then


def upgrade():
    with op.batch_alter_table('program', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pass_mark', sa.Integer(), nullable=False, server_default='70'))
    with op.batch_alter_table('program', schema=None) as batch_op:
        batch_op.alter_column('pass_mark', server_default=None)
    prices = op.create_table(
        'meal_prices',
        sa.Column('valid_from', sa.Date(), nullable=False),
        sa.Column('price', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('valid_from', name=op.f('pk_meal_prices')),
    )
    price = op.get_bind().execute(sa.text("SELECT meal_price FROM program WHERE id = 1")).scalar()
    if price is not None:
        op.bulk_insert(prices, [{"valid_from": EARLIEST_DAY, "price": price}])


def downgrade():
    op.drop_table('meal_prices')
    with op.batch_alter_table('program', schema=None) as batch_op:
        batch_op.drop_column('pass_mark')
