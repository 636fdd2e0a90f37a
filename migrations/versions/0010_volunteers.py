"""volunteers: the public signs up (pending), the coordinator or the social agency vets; a user may
sign in with a phone (a volunteer without an email), so users.email may be null

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 16:00:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    op.create_table(
        'volunteers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('phone', sa.String(length=16), nullable=True),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('village_id', sa.Integer(), nullable=False),
        sa.Column('latitude', sa.Double(), nullable=True),
        sa.Column('longitude', sa.Double(), nullable=True),
        sa.Column('skills', JSON, nullable=False),
        sa.Column('capacity', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('status_reason', sa.String(length=500), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decided_by', sa.Integer(), nullable=True),
        sa.Column('consented_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.CheckConstraint('capacity BETWEEN 1 AND 5', name=op.f('ck_volunteers_capacity_range')),
        sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_volunteers_decided_by_users')),
        sa.ForeignKeyConstraint(['village_id'], ['areas.id'], name=op.f('fk_volunteers_village_id_areas')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteers')),
        sa.UniqueConstraint('email', name=op.f('uq_volunteers_email')),
        sa.UniqueConstraint('phone', name=op.f('uq_volunteers_phone')),
    )
    op.create_index(op.f('ix_volunteers_status'), 'volunteers', ['status'], unique=False)
    op.create_index(op.f('ix_volunteers_village_id'), 'volunteers', ['village_id'], unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=16), nullable=True))
        batch_op.alter_column('email', existing_type=sa.String(length=254), nullable=True)
        batch_op.create_unique_constraint(batch_op.f('uq_users_phone'), ['phone'])
        batch_op.create_index(batch_op.f('ix_users_volunteer_id'), ['volunteer_id'], unique=False)


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_volunteer_id'))
        batch_op.drop_constraint(batch_op.f('uq_users_phone'), type_='unique')
        batch_op.alter_column('email', existing_type=sa.String(length=254), nullable=False)
        batch_op.drop_column('phone')
    op.drop_index(op.f('ix_volunteers_village_id'), table_name='volunteers')
    op.drop_index(op.f('ix_volunteers_status'), table_name='volunteers')
    op.drop_table('volunteers')
