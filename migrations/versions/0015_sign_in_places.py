"""where each account signs in from (keyed hashes of addresses): strangers' guesses do not lock an
account out where it signs in every day

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 15:57:38.356279

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sign_in_places',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('place', sa.String(length=64), nullable=False),
    sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sign_in_places_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', 'place', name=op.f('pk_sign_in_places'))
    )


def downgrade():
    op.drop_table('sign_in_places')
