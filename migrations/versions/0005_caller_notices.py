"""notices of changes to what authentication reads (tokens, users, agencies, the program), for the
processes that remember callers (service/accounts/callers.py); PostgreSQL only

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 18:40:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# Statement triggers: one notice per changing statement, whoever runs it (the service, another
# process, an operator in psql); PostgreSQL sends it at commit, and folds repeats into one.
# A new token or user needs none: nobody can remember what did not exist.
TABLES = ("api_tokens", "users", "agencies", "program")


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite cannot notify: there, processes do not remember callers
    op.execute("""
        CREATE FUNCTION rantang_callers_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('rantang_callers', TG_TABLE_NAME);
            RETURN NULL;
        END $$
    """)
    for table in TABLES:
        op.execute(f"CREATE TRIGGER {table}_callers_changed AFTER UPDATE OR DELETE OR TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION rantang_callers_changed()")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_callers_changed ON {table}")
    op.execute("DROP FUNCTION rantang_callers_changed()")
