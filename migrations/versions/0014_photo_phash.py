"""photos known by what they show: a perceptual hash beside the sha256, the photos of a window of
days found by their date

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 15:54:41.545152

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('delivery_photos', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phash', sa.BigInteger(), nullable=True))
        batch_op.create_index('ix_delivery_photos_delivery_date', ['delivery_date'], unique=False)


def downgrade():
    with op.batch_alter_table('delivery_photos', schema=None) as batch_op:
        batch_op.drop_index('ix_delivery_photos_delivery_date')
        batch_op.drop_column('phash')

