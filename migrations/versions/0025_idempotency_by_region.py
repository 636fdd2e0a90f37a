"""An idempotency record is kept in the region its request worked in (``region_code``, first in
its key), beside the meal it answers. On Citus it was distributed by its user, so a stall's
confirmation wrote to the meal's shard and to its user's, on another worker half the time: every
such confirmation was a two-phase commit across two workers. Now it is distributed by the region,
co-located with the meals, and a confirmation's transaction stays on one shard. Existing records
(kept 72 hours at most) take their user's region, or the default region for staff of several.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05 17:45:00

"""
import os

import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

FOREIGN_KEY = 'fk_idempotency_records_user_id_users'
CO_LOCATED_WITH = 'recipients'  # the first of the tables distributed by region (0021)


def _citus() -> bool:
    bind = op.get_bind()
    return bind.dialect.name == 'postgresql' and bind.execute(
        sa.text("SELECT 1 FROM pg_extension WHERE extname = 'citus'")).first() is not None


def upgrade():
    citus = _citus()
    if citus:
        op.execute("SET LOCAL citus.multi_shard_modify_mode TO 'sequential'")
    with op.batch_alter_table('idempotency_records') as batch_op:
        batch_op.add_column(sa.Column('region_code', sa.String(length=8), nullable=True))
    # filled while still distributed on Citus: there a local table joined to a reference table is
    # routed to a worker, which has no such table
    op.execute(sa.text(
        "UPDATE idempotency_records SET region_code = COALESCE("
        "(SELECT users.region_code FROM users WHERE users.id = idempotency_records.user_id), :code)"
    ).bindparams(code=os.environ.get('RANTANG_DEFAULT_REGION', '35.10')))
    if citus:
        op.drop_constraint(FOREIGN_KEY, 'idempotency_records', type_='foreignkey')
        op.execute("SELECT undistribute_table('idempotency_records')")
    with op.batch_alter_table('idempotency_records') as batch_op:
        batch_op.alter_column('region_code', existing_type=sa.String(length=8), nullable=False)
        batch_op.drop_constraint('pk_idempotency_records', type_='primary')
        batch_op.create_primary_key('pk_idempotency_records', ['region_code', 'user_id', 'key'])
    if citus:
        op.execute("SELECT create_distributed_table('idempotency_records', 'region_code', "
                   f"colocate_with => '{CO_LOCATED_WITH}')")
        op.create_foreign_key(FOREIGN_KEY, 'idempotency_records', 'users', ['user_id'], ['id'], ondelete='CASCADE')


def downgrade():
    if _citus():
        raise RuntimeError("a schema distributed on Citus is not undistributed by a downgrade")
    # a user's keys in several regions become one: the newest answer of each key is kept
    op.execute("DELETE FROM idempotency_records WHERE EXISTS (SELECT 1 FROM idempotency_records newer "
               "WHERE newer.user_id = idempotency_records.user_id AND newer.key = idempotency_records.key "
               "AND (newer.created_at > idempotency_records.created_at OR (newer.created_at = "
               "idempotency_records.created_at AND newer.region_code > idempotency_records.region_code)))")
    with op.batch_alter_table('idempotency_records') as batch_op:
        batch_op.drop_constraint('pk_idempotency_records', type_='primary')
        batch_op.create_primary_key('pk_idempotency_records', ['user_id', 'key'])
        batch_op.drop_column('region_code')
