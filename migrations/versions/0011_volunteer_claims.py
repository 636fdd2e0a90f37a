"""volunteers take the elderly on (claims) and log visits; a meal is a stall's or a volunteer's
(never both); coverage counts what volunteers brought; recipients are found near a point by index

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 19:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=16), nullable=True),
    sa.Column('end_note', sa.String(length=500), nullable=True),
    sa.Column('ended_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['ended_by'], ['users.id'], name=op.f('fk_claims_ended_by_users')),
    sa.ForeignKeyConstraint(['recipient_id'], ['recipients.id'], name=op.f('fk_claims_recipient_id_recipients')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'], name=op.f('fk_claims_volunteer_id_volunteers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claims'))
    )
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.create_index('ix_claims_volunteer_id_status', ['volunteer_id', 'status'], unique=False)
        batch_op.create_index('uq_claims_open_recipient_id_kind', ['recipient_id', 'kind'], unique=True, postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))

    op.create_table('volunteer_visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('visited_on', sa.Date(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('concern', sa.String(length=500), nullable=True),
    sa.Column('hours', sa.Double(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_volunteer_visits_claim_id_claims')),
    sa.ForeignKeyConstraint(['recipient_id'], ['recipients.id'], name=op.f('fk_volunteer_visits_recipient_id_recipients')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'], name=op.f('fk_volunteer_visits_volunteer_id_volunteers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_visits'))
    )
    with op.batch_alter_table('volunteer_visits', schema=None) as batch_op:
        batch_op.create_index('ix_volunteer_visits_outcome_visited_on', ['outcome', 'visited_on'], unique=False)
        batch_op.create_index('ix_volunteer_visits_volunteer_id', ['volunteer_id'], unique=False)

    with op.batch_alter_table('coverage_days', schema=None) as batch_op:
        batch_op.add_column(sa.Column('volunteer_covered', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('volunteer_delivered', sa.Integer(), nullable=False, server_default='0'))

    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deliveries_date_village_id_status_recipient_id'))
        batch_op.create_index('ix_deliveries_date_village_id_status_recipient_id_volunteer_id', ['date', 'village_id', 'status', 'recipient_id', 'volunteer_id'], unique=False)
        batch_op.create_index('ix_deliveries_volunteer_id_date', ['volunteer_id', 'date'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_deliveries_volunteer_id_volunteers'), 'volunteers', ['volunteer_id'], ['id'])
        batch_op.create_check_constraint(batch_op.f('ck_deliveries_one_carrier'), 'vendor_id IS NULL OR volunteer_id IS NULL')

    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.create_index('ix_recipients_latitude_longitude', ['latitude', 'longitude'], unique=False)

    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('volunteer_visit_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_tasks_volunteer_visit_id'), ['volunteer_visit_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_tasks_volunteer_visit_id_volunteer_visits'), 'volunteer_visits', ['volunteer_visit_id'], ['id'])



def downgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_tasks_volunteer_visit_id_volunteer_visits'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_tasks_volunteer_visit_id'))
        batch_op.drop_column('volunteer_visit_id')

    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.drop_index('ix_recipients_latitude_longitude')

    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_deliveries_one_carrier'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_deliveries_volunteer_id_volunteers'), type_='foreignkey')
        batch_op.drop_index('ix_deliveries_volunteer_id_date')
        batch_op.drop_index('ix_deliveries_date_village_id_status_recipient_id_volunteer_id')
        batch_op.create_index(batch_op.f('ix_deliveries_date_village_id_status_recipient_id'), ['date', 'village_id', 'status', 'recipient_id'], unique=False)

    with op.batch_alter_table('coverage_days', schema=None) as batch_op:
        batch_op.drop_column('volunteer_delivered')
        batch_op.drop_column('volunteer_covered')

    with op.batch_alter_table('volunteer_visits', schema=None) as batch_op:
        batch_op.drop_index('ix_volunteer_visits_volunteer_id')
        batch_op.drop_index('ix_volunteer_visits_outcome_visited_on')

    op.drop_table('volunteer_visits')
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_index('uq_claims_open_recipient_id_kind', postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
        batch_op.drop_index('ix_claims_volunteer_id_status')

    op.drop_table('claims')
