"""a volunteer's new phone or email waits for confirmation, kept apart from the sign-in

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 15:50:05.784323

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('volunteers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending_phone', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('pending_email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('contact_requested_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('volunteers', schema=None) as batch_op:
        batch_op.drop_column('contact_requested_at')
        batch_op.drop_column('pending_email')
        batch_op.drop_column('pending_phone')

