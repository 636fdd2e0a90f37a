"""The schema comes only from Alembic migrations, and they give exactly the models' schema."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from blueprints import create_web_app
from service.extensions import db
from service.program.service import get_program


def pending_changes(connection) -> list:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, db.metadata)


def test_upgrade_from_empty_gives_exactly_the_models_schema(app, transaction):
    # The session's database was made empty, then `flask db upgrade` ran on it in the app
    # fixture (on SQLite, or on PostgreSQL with TEST_DATABASE_URL).
    assert pending_changes(transaction) == []


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
