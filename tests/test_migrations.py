"""The schema comes only from Alembic migrations, and they give exactly the models' schema."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from blueprints import create_web_app
from service.db import on_citus
from service.extensions import db
from service.program.service import get_program


def pending_changes(connection) -> list:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, db.metadata)


def _fk(constraint) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    return (constraint.table.name, tuple(c.name for c in constraint.columns),
            tuple(e.column.name if hasattr(e, "column") else e.target_fullname.split(".")[-1]
                  for e in constraint.elements))


def citus_changes(changes: list) -> list:
    """What is left of ``changes`` once the Citus step of migration 0021 is allowed for: each foreign
    key between regional tables carries ``region_code`` on both sides, and the stall's user points
    no longer at the stall (a reference table may not point into a distributed one)."""
    removed = {_fk(c[1]) for c in changes if c[0] == "remove_fk"}
    left = []
    for change in changes:
        if change[0] == "add_fk":
            table, columns, referred = _fk(change[1])
            if (table, ("region_code", *columns), ("region_code", *referred)) in removed:
                continue
            if (table, columns) == ("users", ("vendor_id",)):
                continue
        if change[0] == "remove_fk" and _fk(change[1])[1][0] == "region_code":
            continue
        left.append(change)
    return left


def test_upgrade_from_empty_gives_exactly_the_models_schema(app, transaction):
    # The session's database was made empty, then `flask db upgrade` ran on it in the app
    # fixture (on SQLite, or on PostgreSQL or Citus with TEST_DATABASE_URL).
    changes = pending_changes(transaction)
    if on_citus(transaction):
        changes = citus_changes(changes)
    assert changes == []


def test_on_citus_every_regional_table_is_distributed_by_its_region(app, transaction):
    """On SQLite and PostgreSQL: no table of Citus's; on Citus, none left local but Alembic's."""
    if not on_citus(transaction):
        assert transaction.execute(text("SELECT to_regclass('pg_dist_partition')" if transaction.dialect.name
                                        == "postgresql" else "SELECT NULL")).scalar() is None
        return
    kinds = dict(transaction.execute(text(
        "SELECT table_name::text, CASE WHEN citus_table_type = 'reference' THEN 'reference' "
        "ELSE distribution_column END FROM citus_tables")).all())
    tables = set(transaction.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())
    assert tables - set(kinds) == {"alembic_version"}
    regional = {t.name for t in db.metadata.sorted_tables if "region_code" in t.c}
    by_own_key = {"nik_holders": "nik", "complaint_codes": "code"}  # idempotency records: by region (0025)
    reference = {"regions", "program", "areas", "agencies", "users", "api_tokens", "sign_in_places", "meal_prices",
                 "leave_days", "complaint_routes"}
    assert {t: k for t, k in kinds.items() if k == "reference"} == dict.fromkeys(reference, "reference")
    assert {t: k for t, k in kinds.items() if k not in ("reference", "region_code")} == by_own_key
    assert {t for t, k in kinds.items() if k == "region_code"} == regional - reference - set(by_own_key)
    colocated = transaction.execute(text(
        "SELECT count(DISTINCT colocationid) FROM pg_dist_partition WHERE partkey IS NOT NULL "
        "AND column_to_column_name(logicalrelid, partkey) = 'region_code'")).scalar()
    assert colocated == 1
    triggers = text("SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                    "WHERE NOT t.tgisinternal AND c.relnamespace = 'public'::regnamespace")
    assert transaction.execute(triggers).scalar() == 0


def test_the_first_migration_creates_the_program_settings(app):
    program = get_program()
    assert (program.timezone, program.min_age, program.meal_slots, program.meal_price) == (
        "Asia/Jakarta", 60, ["lunch", "dinner"], 12000)


def test_flask_db_upgrade_and_downgrade_on_a_new_sqlite_file(tmp_path):
    fresh = create_web_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/fresh.db"})
    runner = fresh.test_cli_runner()
    # Flask's CLI reuses an app context that is already pushed: push the fresh app's.
    with fresh.app_context():
        result = runner.invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        with db.engine.connect() as connection:
            assert pending_changes(connection) == []
        assert runner.invoke(args=["db", "downgrade", "base"]).exit_code == 0
        with db.engine.connect() as connection:
            assert len([c for c in pending_changes(connection) if c[0] == "add_table"]) == len(db.metadata.tables)
        db.engine.dispose()
