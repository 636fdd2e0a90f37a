"""Which region holds each NIK: a person is enrolled in one region only, checked on one row keyed
by the NIK (on Citus, one shard) rather than in every region's recipients. Filled from the
recipients as they stand.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 23:05:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'nik_holders',
        sa.Column('nik', sa.String(length=16), nullable=False),
        sa.Column('region_code', sa.String(length=8), nullable=False),
        sa.Column('recipient_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['region_code'], ['regions.code'], name=op.f('fk_nik_holders_region_code_regions')),
        sa.PrimaryKeyConstraint('nik', name=op.f('pk_nik_holders')),
    )
    op.execute("INSERT INTO nik_holders (nik, region_code, recipient_id) SELECT nik, region_code, id FROM recipients")


def downgrade():
    op.drop_table('nik_holders')
