"""Keys by region, and the schema distributed when the database is a Citus coordinator.

On every engine: each unique key of a regional table starts with ``region_code`` (a NIK, a
tracking code, a photo's hash, a volunteer's phone and email, a meal of a day, an agency's
reference, the open task of a need, the open claim of a person), so that a key is one region's
and, on Citus, enforced on one shard. What must stay unique across regions is kept in a table
keyed by that value alone: ``nik_holders`` (0020) and now ``complaint_codes`` (a tracking code finds
its region in one row). Every audit event names a region (the program's own changes: the default
region's), as a distributed table's key may not be null.

On Citus only (the ``citus`` extension in the database):

* regional tables are distributed by ``region_code``, all co-located: each primary key becomes
  ``(region_code, ...)`` and each foreign key between them ``(region_code, x_id)``, so that a
  region's rows, and every join between them, sit on one shard;
* the small shared tables (regions, the program, villages, agencies, users and their tokens and
  places, prices, leave days, complaint routes) are reference tables, copied to every node; the
  one foreign key from them to a distributed table (a stall's user to the stall) is dropped;
* ``nik_holders`` and ``complaint_codes`` are distributed by their own key, and ``idempotency_records``
  by the user: each check is one shard, whatever the region;
* the triggers that notify processes of changes to callers (0005) are dropped: Citus refuses
  triggers on distributed and reference tables; there the service sends the notice itself.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 02:00:00

"""
import os

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

# (table, old unique constraint, its columns after region_code, the new name)
UNIQUES = (('recipients', 'uq_recipients_nik', ['nik']),
           ('deliveries', 'uq_deliveries_recipient_id_date_meal', ['recipient_id', 'date', 'meal']),
           ('delivery_photos', 'uq_delivery_photos_sha256', ['sha256']),
           ('volunteers', 'uq_volunteers_phone', ['phone']),
           ('volunteers', 'uq_volunteers_email', ['email']),
           ('complaints', 'uq_complaints_code', ['code']),
           ('tasks', 'uq_tasks_agency_id_external_ref', ['agency_id', 'external_ref']))
# (table, old partial unique index, its columns after region_code, the new name)
PARTIAL = (('tasks', 'uq_tasks_open_dedupe_key', ['dedupe_key'], 'uq_tasks_open_region_code_dedupe_key'),
           ('claims', 'uq_claims_open_recipient_id_kind', ['recipient_id', 'kind'],
            'uq_claims_open_region_code_recipient_id_kind'))

REFERENCE = ('regions', 'program', 'areas', 'agencies', 'users', 'api_tokens', 'sign_in_places', 'meal_prices',
             'leave_days', 'complaint_routes')
BY_REGION = ('recipients', 'vendors', 'inspections', 'pauses', 'assignments', 'volunteers', 'claims',
             'volunteer_visits', 'deliveries', 'delivery_photos', 'delivery_days', 'coverage_days', 'tasks',
             'complaints', 'complaint_events', 'targets', 'target_signatories', 'audit_events')
BY_OWN_KEY = (('nik_holders', 'nik'), ('complaint_codes', 'code'), ('idempotency_records', 'user_id'))
CALLER_TRIGGERS = ('api_tokens', 'users', 'agencies', 'program')


def _new_name(table, columns):
    return f"uq_{table}_region_code_{'_'.join(columns)}"


def upgrade():
    code = os.environ.get('RANTANG_DEFAULT_REGION', '35.10')
    op.create_table(
        'complaint_codes',
        sa.Column('code', sa.String(length=16), nullable=False),
        sa.Column('region_code', sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(['region_code'], ['regions.code'],
                                name=op.f('fk_complaint_codes_region_code_regions')),
        sa.PrimaryKeyConstraint('code', name=op.f('pk_complaint_codes')),
    )
    op.execute("INSERT INTO complaint_codes (code, region_code) SELECT code, region_code FROM complaints")
    op.execute(sa.text("UPDATE audit_events SET region_code = :code WHERE region_code IS NULL").bindparams(code=code))
    with op.batch_alter_table('audit_events') as batch_op:
        batch_op.alter_column('region_code', existing_type=sa.String(length=8), nullable=False)
    for table in dict.fromkeys(t for t, _, _ in UNIQUES):
        with op.batch_alter_table(table) as batch_op:
            for _, old, columns in (u for u in UNIQUES if u[0] == table):
                batch_op.drop_constraint(old, type_='unique')
                batch_op.create_unique_constraint(_new_name(table, columns), ['region_code', *columns])
    for table, old, columns, new in PARTIAL:
        op.drop_index(old, table_name=table)
        op.create_index(new, table, ['region_code', *columns], unique=True,
                        postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
    if _citus():
        _distribute()


def downgrade():
    if _citus():
        raise RuntimeError("a schema distributed on Citus is not undistributed by a downgrade")
    for table, old, columns, new in PARTIAL:
        op.drop_index(new, table_name=table)
        op.create_index(old, table, columns, unique=True,
                        postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
    for table in dict.fromkeys(t for t, _, _ in UNIQUES):
        with op.batch_alter_table(table) as batch_op:
            for _, old, columns in (u for u in UNIQUES if u[0] == table):
                batch_op.drop_constraint(_new_name(table, columns), type_='unique')
                batch_op.create_unique_constraint(old, columns)
    with op.batch_alter_table('audit_events') as batch_op:
        batch_op.alter_column('region_code', existing_type=sa.String(length=8), nullable=True)
    op.drop_table('complaint_codes')


def _citus() -> bool:
    bind = op.get_bind()
    return bind.dialect.name == 'postgresql' and bind.execute(
        sa.text("SELECT 1 FROM pg_extension WHERE extname = 'citus'")).first() is not None


def _constraints(kind: str):
    """(table, name, definition) of the public schema's constraints of ``kind`` (p, f)."""
    return op.get_bind().execute(sa.text(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE connamespace = 'public'::regnamespace AND contype = :kind ORDER BY 1, 2"), {'kind': kind}).all()


def _columns(definition: str, keyword: str) -> list[str]:
    """The column list after ``keyword`` in a constraint's definition: 'FOREIGN KEY (a, b) ...'."""
    start = definition.index(keyword) + len(keyword)
    inner = definition[definition.index('(', start) + 1:definition.index(')', start)]
    return [c.strip() for c in inner.split(',')]


def _distribute():
    execute = op.execute
    # Every DDL of this transaction on one connection per node: Citus refuses a distributed table's
    # DDL after a parallel step in the same transaction otherwise.
    execute("SET LOCAL citus.multi_shard_modify_mode TO 'sequential'")
    for table in CALLER_TRIGGERS:
        execute(f"DROP TRIGGER IF EXISTS {table}_callers_changed ON {table}")
    execute("DROP FUNCTION IF EXISTS rantang_callers_changed()")
    regional = set(BY_REGION)
    foreign = _constraints('f')
    for table, name, _ in foreign:
        execute(f'ALTER TABLE {table} DROP CONSTRAINT {name}')
    for table, name, definition in _constraints('p'):
        columns = _columns(definition, 'PRIMARY KEY')
        if table in regional and columns[0] != 'region_code':
            execute(f'ALTER TABLE {table} DROP CONSTRAINT {name}')
            execute(f'ALTER TABLE {table} ADD CONSTRAINT {name} PRIMARY KEY (region_code, {", ".join(columns)})')
    for table in REFERENCE:
        execute(f"SELECT create_reference_table('{table}')")
    for table in BY_REGION:
        execute(f"SELECT create_distributed_table('{table}', 'region_code', colocate_with => "
                f"'{'default' if table == BY_REGION[0] else BY_REGION[0]}')")
    for table, column in BY_OWN_KEY:
        execute(f"SELECT create_distributed_table('{table}', '{column}', colocate_with => 'none')")
    for table, name, definition in foreign:
        columns = _columns(definition, 'FOREIGN KEY')
        target = definition[definition.index('REFERENCES ') + len('REFERENCES '):].split('(')[0].strip()
        rest = definition[definition.index(')', definition.index('REFERENCES')) + 1:]
        if table in REFERENCE and target not in REFERENCE:
            continue  # a reference table may not point into a distributed one (users.vendor_id)
        if table in regional and target in regional:
            referred = _columns(definition, 'REFERENCES')
            execute(f'ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY (region_code, {", ".join(columns)}) '
                    f'REFERENCES {target} (region_code, {", ".join(referred)}){rest}')
        else:
            execute(f'ALTER TABLE {table} ADD CONSTRAINT {name} {definition}')
