"""The trail is written lighter: no index on ``at`` (nothing reads the trail by time; it is read by
its id and by entity), and no foreign key from an event's region to the regions, as none from its
actor or its entity: the trail records what was, it holds nothing in place. Every audited write
paid both, per event: a rebalance of 50,000 places a tenth of its time.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 08:00:00

"""
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_events') as batch_op:
        batch_op.drop_constraint('fk_audit_events_region_code_regions', type_='foreignkey')
        batch_op.drop_index('ix_audit_events_at')


def downgrade():
    with op.batch_alter_table('audit_events') as batch_op:
        batch_op.create_index('ix_audit_events_at', ['at'], unique=False)
        batch_op.create_foreign_key('fk_audit_events_region_code_regions', 'regions', ['region_code'], ['code'])
