"""delivery photos: one image is evidence for one delivery only; audit events of deliveries
(bigint ids) for confirmations and photos

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 10:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('delivery_photos',
    sa.Column('id', BigId, nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('delivery_id', BigId, nullable=False),
    sa.Column('delivery_date', sa.Date(), nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'], name=op.f('fk_delivery_photos_delivery_id_deliveries')),
    sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'], name=op.f('fk_delivery_photos_uploaded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_photos')),
    sa.UniqueConstraint('sha256', name=op.f('uq_delivery_photos_sha256'))
    )
    with op.batch_alter_table('delivery_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_photos_delivery_id'), ['delivery_id'], unique=False)
    # The photos already kept: each image stays with the first delivery that showed it.
    op.execute("""
        INSERT INTO delivery_photos (sha256, delivery_id, delivery_date, uploaded_by, uploaded_at)
        SELECT d.photo_sha256, d.id, d.date, d.confirmed_by, coalesce(d.confirmed_at, d.created_at)
        FROM deliveries d
        WHERE d.id IN (SELECT min(id) FROM deliveries WHERE photo_sha256 IS NOT NULL GROUP BY photo_sha256)
    """)
    if op.get_bind().dialect.name == 'postgresql':  # SQLite's integers are 64-bit already
        op.alter_column('audit_events', 'entity_id', type_=sa.BigInteger(), existing_nullable=False)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.alter_column('audit_events', 'entity_id', type_=sa.Integer(), existing_nullable=False)
    with op.batch_alter_table('delivery_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_photos_delivery_id'))
    op.drop_table('delivery_photos')
