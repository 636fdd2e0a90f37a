"""A change to a region notifies the processes that remember callers, as a change to the program
does (0005): what authentication reads includes the caller's region's stamp, and a region's own
settings can now be changed (PATCH /regions/{region_code}). PostgreSQL only; not on Citus, which
refuses triggers on its reference tables (there the service sends the notice itself).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05 11:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def _plain_postgresql() -> bool:
    bind = op.get_bind()
    return bind.dialect.name == "postgresql" and bind.execute(
        sa.text("SELECT 1 FROM pg_extension WHERE extname = 'citus'")).first() is None


def upgrade():
    if _plain_postgresql():
        op.execute("CREATE TRIGGER regions_callers_changed AFTER UPDATE OR DELETE OR TRUNCATE ON regions "
                   "FOR EACH STATEMENT EXECUTE FUNCTION rantang_callers_changed()")


def downgrade():
    if _plain_postgresql():
        op.execute("DROP TRIGGER IF EXISTS regions_callers_changed ON regions")
