"""Regions: today's single program becomes its default region, and every regional row says its
region (``region_code``). The default region is ``RANTANG_DEFAULT_REGION`` (35.10, Banyuwangi,
unless set), on the program's timezone; every row is kept. Natural keys that were the program's
(a day of the loop, a price's first day, a leave day, an agency's code, a category's route) are
now a region's.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 22:40:00

"""
import datetime as dt
import os

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

# Every table of regional rows; those where a row may belong to no region (national staff, the
# program's own changes) keep the column nullable.
TABLES = ('areas', 'meal_prices', 'leave_days', 'agencies', 'users', 'vendors', 'inspections', 'recipients', 'pauses',
          'assignments', 'volunteers', 'claims', 'volunteer_visits', 'deliveries', 'delivery_photos',
          'delivery_days', 'coverage_days', 'tasks', 'complaints', 'complaint_events', 'complaint_routes', 'targets',
          'target_signatories', 'audit_events')
NULLABLE = ('users', 'audit_events')
NAMES = {'35.10': 'Banyuwangi', '35.09': 'Jember', '51.71': 'Denpasar'}
# (table, old unique constraint or primary key, its kind, the new one's columns)
KEYS = (('meal_prices', 'pk_meal_prices', 'primary', ['region_code', 'valid_from']),
        ('delivery_days', 'pk_delivery_days', 'primary', ['region_code', 'date']),
        ('leave_days', 'uq_leave_days_date', 'unique', ['region_code', 'date']),
        ('agencies', 'uq_agencies_code', 'unique', ['region_code', 'code']),
        ('complaint_routes', 'uq_complaint_routes_category', 'unique', ['region_code', 'category']))


def upgrade():
    code = os.environ.get('RANTANG_DEFAULT_REGION', '35.10')
    regions = op.create_table(
        'regions',
        sa.Column('code', sa.String(length=8), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('timezone', sa.String(length=64), nullable=False),
        sa.Column('meal_price', sa.Integer(), nullable=True),
        sa.Column('schedule_time', sa.Time(), nullable=True),
        sa.Column('delivery_cutoff', sa.Time(), nullable=True),
        sa.Column('pass_mark', sa.Integer(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('code', name=op.f('pk_regions')),
    )
    bind = op.get_bind()
    timezone = bind.execute(sa.text("SELECT timezone FROM program WHERE id = 1")).scalar() or 'Asia/Jakarta'
    op.bulk_insert(regions, [{'code': code, 'name': NAMES.get(code, code), 'timezone': timezone, 'version': 1,
                              'created_at': dt.datetime.now(dt.UTC)}])
    for table in TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column('region_code', sa.String(length=8), nullable=True))
            if table == 'users':
                batch_op.add_column(sa.Column('regions', sa.JSON().with_variant(
                    postgresql.JSONB(), 'postgresql'), nullable=True))
        op.execute(sa.text(f"UPDATE {table} SET region_code = :code").bindparams(code=code))
        keys = [k for k in KEYS if k[0] == table]
        with op.batch_alter_table(table) as batch_op:
            if table not in NULLABLE:
                batch_op.alter_column('region_code', existing_type=sa.String(length=8), nullable=False)
            batch_op.create_foreign_key(op.f(f'fk_{table}_region_code_regions'), 'regions', ['region_code'], ['code'])
            for _, name, kind, columns in keys:
                batch_op.drop_constraint(name, type_=kind)
                if kind == 'primary':
                    batch_op.create_primary_key(name, columns)
                else:
                    batch_op.create_unique_constraint(f'uq_{table}_region_code_{columns[1]}', columns)


def downgrade():
    for table in reversed(TABLES):
        keys = [k for k in KEYS if k[0] == table]
        with op.batch_alter_table(table) as batch_op:
            for _, name, kind, columns in keys:
                if kind == 'primary':
                    batch_op.drop_constraint(name, type_='primary')
                    batch_op.create_primary_key(name, columns[1:])
                else:
                    batch_op.drop_constraint(f'uq_{table}_region_code_{columns[1]}', type_='unique')
                    batch_op.create_unique_constraint(name, columns[1:])
            batch_op.drop_constraint(op.f(f'fk_{table}_region_code_regions'), type_='foreignkey')
            batch_op.drop_column('region_code')
            if table == 'users':
                batch_op.drop_column('regions')
    op.drop_table('regions')
