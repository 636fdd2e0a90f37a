"""The declarative base, column types and query helpers shared by every domain area."""
from __future__ import annotations

import datetime as dt
import os
import re
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    ARRAY,
    JSON,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Select,
    String,
    and_,
    any_,
    bindparam,
    event,
    func,
    select,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    mapped_column,
    registry,
    with_loader_criteria,
)
from sqlalchemy.orm.util import LoaderCriteriaOption
from sqlalchemy.types import TypeDecorator

from service.errors import Invalid, NotFound, PreconditionFailed, entity_words
from service.i18n import _l

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# The largest integer an INTEGER column holds on PostgreSQL (SQLite's hold 64 bits), and a BIGINT
# column on both: the bounds of every integer the API accepts, ids in paths included.
MAX_INT = 2**31 - 1
MAX_BIG_ID = 2**63 - 1

# The days a record of this program can carry (birth dates aside): none before the program's
# earliest paper records, none beyond this century. Old paper inspections after the floor stay
# valid history; year 93 or 1324 is a typing mistake, and year 1 or 9999 would break date sums.
EARLIEST_DAY = dt.date(2000, 1, 1)
LATEST_DAY = dt.date(2099, 12, 31)
EARLIEST_BIRTH = dt.date(1900, 1, 1)

# JSON everywhere; JSONB on PostgreSQL (indexable, compact).
JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator):
    """An aware timestamp, stored in UTC on every engine (SQLite keeps no offset of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store aware timestamps only")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def render_item(type_: str, obj: object, autogen_context) -> str | bool:
    """Alembic autogenerate: write our column types as plain SQLAlchemy ones in migrations."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={dt.datetime: UTCDateTime()},
    )


class Regional:
    """A row that belongs to one region (a regency or city, ``program.models.Region``): its
    ``region_code``. A session bound to regions (``program.regions.bind``) reads and changes only
    theirs, on every ORM statement, and gives its new rows its region; nothing else sets it."""

    region_code: Mapped[str] = mapped_column(String(8), ForeignKey("regions.code"))


REGIONS = "regions"  # session.info: the region codes the session reaches; None: every region


def default_region() -> str:
    """The region a one-region program is: ``RANTANG_DEFAULT_REGION``, 35.10 (Banyuwangi)."""
    return os.environ.get("RANTANG_DEFAULT_REGION", "35.10")


def bind(session: Session, codes: Sequence[str] | None) -> None:
    """From now on ``session`` reaches the rows of the regions ``codes`` only (None: every region)."""
    session.info[REGIONS] = None if codes is None else tuple(codes)


@contextmanager
def in_region(session: Session, code: str) -> Iterator[None]:
    """Within the block the session works in region ``code`` alone (its rows, its clock and
    settings); after it, in what it reached before. What is measured of one region's row (a
    target's indicator) is that region's, whoever reads it, a provincial coordinator included."""
    had, before = REGIONS in session.info, session.info.get(REGIONS)
    bind(session, (code,))
    try:
        yield
    finally:
        if had:
            session.info[REGIONS] = before
        else:
            session.info.pop(REGIONS, None)


def bound(session: Session) -> tuple[str, ...] | None:
    """The regions the session reaches (None: every region). A session nobody bound works in the
    default region: a one-region program's commands, shells and tests work as they always did,
    and reaching several regions is always asked for."""
    return session.info[REGIONS] if REGIONS in session.info else (default_region(),)


def one_region(session: Session) -> str | None:
    """The one region the session works in, or None when it reaches several or every one."""
    codes = bound(session)
    return codes[0] if codes is not None and len(codes) == 1 else None


def working_region(session: Session) -> str:
    """The one region the session works in; staff of several regions are asked to say which (a
    422 on ``region``), as for any new row of theirs."""
    code = one_region(session)
    if code is None:
        raise Invalid({"region": [_l("say which region this is for (region=35.10, say): you reach several")]})
    return code


def in_bound_regions(session: Session, column) -> Any:
    """SQL for Core statements, which the ORM's rule does not reach: ``column`` (a region code)
    is one of the session's regions."""
    codes = bound(session)
    return true() if codes is None else column.in_(codes)


def one_of(session: Session, column: Any, ids: Sequence[int]) -> Any:
    """SQL: ``column`` is one of ``ids``. On PostgreSQL one array parameter, so that the statement
    is the same whatever their number (prepared once, not parsed again per length, and 50,000 ids
    cost no 50,000 placeholders); elsewhere ``IN``, which the caller keeps to ``IN_CHUNK`` ids."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("ids", list(ids), type_=ARRAY(Integer)))
    return column.in_(ids)


def array_text(values: Sequence[Any]) -> str:
    """A PostgreSQL array literal of numbers or plain words (None: NULL), for ``CAST(:p AS type[])``:
    50,000 values sent as one string cost a twentieth of what adapting a Python list costs. Words
    must be codes (letters, digits, underscores), which need no quoting."""
    return "{" + ",".join("NULL" if v is None else str(v) for v in values) + "}"


_CITUS: dict[Any, bool] = {}  # engine -> whether its database is a Citus coordinator


def on_citus(connection: Any) -> bool:
    """Whether ``connection``'s database is distributed by Citus (the extension is installed there):
    asked once per engine (a dictionary lookup on the confirmation's path). The few statements
    Citus would not run on one shard take another form there."""
    if connection.dialect.name != "postgresql":
        return False
    engine = connection.engine
    if engine not in _CITUS:
        _CITUS[engine] = connection.exec_driver_sql(
            "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')").scalar()
    return _CITUS[engine]


def in_same_region(key: Any, target: Any) -> Any:
    """A relationship's join between regional tables: ``key`` (``Pause.recipient_id``) names the
    ``target`` (``Recipient``) row of its ``id`` in the same region (the region a composite foreign
    key holds on Citus), so that loading one through the other stays in one region's shard."""
    return and_(key == target.id, same_region(key.class_, target))


def same_region(one: Any, other: Any) -> Any:
    """SQL joining two regional tables (or aliases): the same region. Said beside the ids in every
    join between regional tables, as their foreign keys hold it on Citus: there a join on the
    distribution column stays on one shard, and a join on ids alone is refused or fans out."""
    return one.region_code == other.region_code


IN_CHUNK = 5_000  # ids in one IN (...) where the engine takes no array parameter


def _criteria(codes: tuple[str, ...]):
    if len(codes) == 1:
        code = codes[0]
        return lambda cls: cls.region_code == code
    return lambda cls: cls.region_code.in_(codes)


@event.listens_for(Session, "do_orm_execute")
def _only_bound_regions(state: ORMExecuteState) -> None:
    """Every ORM statement of a bound session reaches only its regions' rows."""
    codes = bound(state.session)
    if codes is None or state.is_insert or state.execution_options.get("every_region"):
        return
    if any(isinstance(option, LoaderCriteriaOption) and option.root_entity is Regional
           for option in state.statement._with_options):
        return  # the rule came with the objects of an earlier load (their later loads carry it)
    if state.is_select or state.is_update or state.is_delete:
        only = with_loader_criteria(Regional, _criteria(codes), include_aliases=True)
        state.statement = state.statement.options(only)


@event.listens_for(Session, "before_flush")
def _new_rows_take_the_region(session: Session, flush_context, instances) -> None:
    """A new row of a session bound to one region is that region's; one bound to several must say
    which (a user who coordinates several regions, ``regions``, belongs to none)."""
    for obj in session.new:
        if isinstance(obj, Regional) and obj.region_code is None and not getattr(obj, "regions", None):
            obj.region_code = working_region(session)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    items: Sequence[T]
    page: int
    per_page: int
    total: int


class Showing:
    """A result that shows an entity (``subject``) with what the service read beside it (for today,
    or from other tables): its own fields first, then the entity's. Schemas dump it as they would
    the entity, and nothing is stuck on the entity itself."""

    subject: Any

    def __getattr__(self, name: str) -> Any:
        if name == "subject":  # asked before the field is set: not the entity's to answer
            raise AttributeError(name)
        return getattr(self.subject, name)


def entity_name(obj_or_cls: Any) -> str:
    """What the program calls a model's rows: ``ApiToken`` -> ``api_token``."""
    cls = obj_or_cls if isinstance(obj_or_cls, type) else type(obj_or_cls)
    return re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()


def fetch(session: Session, model: type[T], entity_id: int, **kwargs: Any) -> T:
    """The row with this id, or the domain's NotFound (a 404 on the wire)."""
    found = session.get(model, entity_id, **kwargs)
    if found is None:
        raise NotFound(entity_name(model).replace("_", " "), entity_id)
    return found


def fetch_visible(session: Session, model: type[T], entity_id: int, scope: Any, *, entity: str | None = None,
                  for_update: bool = False, options: Sequence[Any] = ()) -> T:
    """The row with this id if ``scope`` may see it (``model.visible_to(scope)``), else NotFound:
    another's row answers exactly as one that does not exist. ``for_update`` locks the row (only)."""
    query = select(model).where(model.id == entity_id, model.visible_to(scope)).options(*options)
    found = session.scalar(query.with_for_update(of=model) if for_update else query)
    if found is None:
        raise NotFound(entity or entity_name(model).replace("_", " "), entity_id)
    return found


def equals(column: Any, value: Any) -> Any:
    """SQL: ``column`` is ``value``, or one of them when ``value`` is a list (a filter's
    comma-separated values)."""
    return column.in_(list(value)) if isinstance(value, list | tuple) else column == value


def check_version(obj: Any, expected: int | None) -> None:
    """``If-Match``: the version the client read (None: not sent) must still be the stored one."""
    if expected is not None and expected != obj.version:
        raise PreconditionFailed(_l("%(entity)s %(id)s is at version %(version)s, not %(expected)s",
                                    entity=entity_words(entity_name(obj).replace('_', ' ')),
                                    id=getattr(obj, "id", None) or getattr(obj, "code", "?"),  # a region: its code
                                    version=obj.version,
                                    expected=expected), version=obj.version)


def paginate(session: Session, query: Select, page: int, per_page: int) -> Page[Any]:
    """One page of ``query`` (which must already have a deterministic order) and the total.

    The total is counted only when the page cannot tell it: a search that finds one NIK answers
    in one query, not two.
    """
    offset = (page - 1) * per_page
    result = session.execute(query.limit(per_page).offset(offset))
    # Entities (one per row, joined loads folded), or rows of columns as they are.
    items = result.scalars().unique().all() if _of_one_entity(query) else result.all()
    if 0 < len(items) < per_page or (offset == 0 and not items):
        total = offset + len(items)
    else:
        total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    return Page(items=items, page=page, per_page=per_page, total=total)


def _of_one_entity(query: Select) -> bool:
    descriptions = query.column_descriptions
    return len(descriptions) == 1 and descriptions[0]["entity"] is not None and \
        descriptions[0]["type"] is descriptions[0]["entity"]


def advisory_lock(session: Session, key: int) -> None:
    """Hold PostgreSQL's advisory lock ``key`` of the session's region until the transaction ends,
    so that work guarded by it runs one transaction at a time across processes in each region, and
    two runners share the regions without doing one region's work twice (SQLite has one writer at
    a time anyway)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        region = zlib.crc32((one_region(session) or "*").encode()) & 0x7FFFFFFF
        connection.execute(text("SELECT pg_advisory_xact_lock(:key, :region)"), {"key": key, "region": region})


COPY_FROM_ROWS = 100  # below this, one INSERT round trip beats COPY's two


def _is_json(column) -> bool:
    return isinstance(column.type, JSON)


def bulk_insert(session: Session, table, rows: list[dict[str, Any]], ids: bool = True) -> list[int]:
    """Insert ``rows`` into ``table`` in the session's transaction; their new ids, in order
    (none for a table without a serial ``id``, or when not asked for: ``ids=False`` spares
    PostgreSQL drawing them first and SQLite a statement per row).

    PostgreSQL gets COPY with ids drawn from the table's sequence in one round trip (parsing a
    giant multi-row INSERT costs more than the insert itself); other engines a multi-row INSERT
    with RETURNING. Python-side column defaults are applied as for an ORM insert.
    """
    if not rows:
        return []
    columns = [c for c in table.columns if c.name != "id"]
    _fill_defaults(rows, columns)
    if "region_code" in table.c:  # a regional row takes the session's region, as an ORM insert does
        needed = not table.c.region_code.nullable and any("region_code" not in row for row in rows)
        code = working_region(session) if needed else one_region(session)
        for row in rows:
            row.setdefault("region_code", code)
    connection = session.connection()
    serial = "id" in table.c  # tables keyed otherwise (assignments by recipient) bring their key
    if connection.dialect.name == "postgresql" and len(rows) >= COPY_FROM_ROWS:
        return _copy(connection, table, columns, rows, serial and ids)  # else the ids are the column's default
    if not serial or not ids:
        connection.execute(table.insert(), rows)
        return []
    return list(connection.execute(table.insert().returning(table.c.id, sort_by_parameter_order=True), rows).scalars())


# A bulk write of at least this many rows refreshes the planner's statistics of its tables.
STATISTICS_AFTER_ROWS = 10_000


def refresh_statistics(session: Session, *tables: str) -> None:
    """After a bulk load on PostgreSQL, the planner's statistics of ``tables`` (all: none named)
    as autovacuum would gather them a minute later. Without them PostgreSQL took 4,000 stalls for
    one and joined them to 100,000 recipients in a nested loop: scheduling the next day took
    minutes, not seconds. ANALYZE counts this transaction's own new rows.

    SQLite is left to plan without statistics, as it always has: with ``sqlite_stat1`` written
    after the same load, scheduling a day took 30% longer (``bench/schedule.py``)."""
    if session.connection().dialect.name == "postgresql":
        session.execute(text(f"ANALYZE {', '.join(tables)}" if tables else "ANALYZE"))


def _fill_defaults(rows: list[dict[str, Any]], columns) -> None:
    """The Python-side defaults of ``columns`` in each row that does not say otherwise."""
    defaults = [c for c in columns if c.default is not None and (c.default.is_scalar or c.default.is_callable)]
    for row in rows:
        for column in defaults:
            if column.name not in row:
                row[column.name] = column.default.arg if column.default.is_scalar else column.default.arg(None)


def _copy(connection, table, columns, rows: list[dict[str, Any]], serial: bool) -> list[int]:
    """PostgreSQL's COPY of ``rows``, with their ids drawn from the table's sequence first."""
    from psycopg.types.json import Jsonb

    names = [c.name for c in columns]
    json_columns = {c.name for c in columns if _is_json(c)}
    with connection.connection.driver_connection.cursor() as cursor:
        ids: list[int] = []
        if serial:
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                           (table.name, len(rows)))
            ids = [row[0] for row in cursor.fetchall()]  # the one column selected
        key = ["id"] if serial else []
        with cursor.copy(f"COPY {table.name} ({', '.join(key + names)}) FROM STDIN") as copy:
            for index, row in enumerate(rows):
                copy.write_row(([ids[index]] if serial else []) + [
                    Jsonb(row.get(n)) if n in json_columns and row.get(n) is not None else row.get(n)
                    for n in names
                ])
    return ids
