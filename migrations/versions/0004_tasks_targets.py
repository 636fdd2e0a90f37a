"""tasks (agency work, recurring work, referrals), targets with their signatories, weekly meal counts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 16:04:40.315420

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    # Days closed before this keep a null count: weekly_meal_rate counts them from the deliveries.
    with op.batch_alter_table('coverage_days', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fed_week', sa.Integer(), nullable=True))

    op.create_table('targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('indicator', sa.String(length=32), nullable=False),
    sa.Column('threshold', sa.Double(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('owner_agency_id', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_targets_created_by_users')),
    sa.ForeignKeyConstraint(['owner_agency_id'], ['agencies.id'], name=op.f('fk_targets_owner_agency_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_targets'))
    )
    with op.batch_alter_table('targets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_targets_owner_agency_id'), ['owner_agency_id'], unique=False)

    op.create_table('target_signatories',
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('signed_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_target_signatories_agency_id_agencies')),
    sa.ForeignKeyConstraint(['signed_by'], ['users.id'], name=op.f('fk_target_signatories_signed_by_users')),
    sa.ForeignKeyConstraint(['target_id'], ['targets.id'], name=op.f('fk_target_signatories_target_id_targets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('target_id', 'agency_id', name=op.f('pk_target_signatories'))
    )
    op.create_table('tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=True),
    sa.Column('vendor_id', sa.Integer(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('source_task_id', sa.Integer(), nullable=True),
    sa.Column('dedupe_key', sa.String(length=120), nullable=True),
    sa.Column('external_ref', sa.String(length=100), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.Column('outcome_notes', sa.Text(), nullable=True),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_by', sa.Integer(), nullable=True),
    sa.Column('inspection_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_tasks_agency_id_agencies')),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_tasks_assignee_id_users')),
    sa.ForeignKeyConstraint(['completed_by'], ['users.id'], name=op.f('fk_tasks_completed_by_users')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_tasks_created_by_users')),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_tasks_inspection_id_inspections')),
    sa.ForeignKeyConstraint(['recipient_id'], ['recipients.id'], name=op.f('fk_tasks_recipient_id_recipients')),
    sa.ForeignKeyConstraint(['source_task_id'], ['tasks.id'], name=op.f('fk_tasks_source_task_id_tasks')),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_tasks_vendor_id_vendors')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks')),
    sa.UniqueConstraint('agency_id', 'external_ref', name='uq_tasks_agency_id_external_ref')
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tasks_agency_id_status_due_date', ['agency_id', 'status', 'due_date'], unique=False)
        batch_op.create_index('ix_tasks_recipient_id_type', ['recipient_id', 'type'], unique=False)
        batch_op.create_index('ix_tasks_source_task_id', ['source_task_id'], unique=False)
        batch_op.create_index('ix_tasks_type_status_completed_on', ['type', 'status', 'completed_on'], unique=False)
        batch_op.create_index('ix_tasks_vendor_id_type', ['vendor_id', 'type'], unique=False)
        batch_op.create_index('uq_tasks_open_dedupe_key', ['dedupe_key'], unique=True, postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))



def downgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('uq_tasks_open_dedupe_key', postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
        batch_op.drop_index('ix_tasks_vendor_id_type')
        batch_op.drop_index('ix_tasks_type_status_completed_on')
        batch_op.drop_index('ix_tasks_source_task_id')
        batch_op.drop_index('ix_tasks_recipient_id_type')
        batch_op.drop_index('ix_tasks_agency_id_status_due_date')

    op.drop_table('tasks')
    op.drop_table('target_signatories')
    with op.batch_alter_table('targets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_targets_owner_agency_id'))

    op.drop_table('targets')
    with op.batch_alter_table('coverage_days', schema=None) as batch_op:
        batch_op.drop_column('fed_week')
