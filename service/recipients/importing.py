"""Bulk import of recipients from the data agency's lists (CSV or a JSON list of objects).

Every row gets every check a single registration gets (NIK digits, NIK against birth date and
sex, minimum age, village); valid rows are inserted in bulk in the caller's transaction, every
invalid row is reported with its row number, field and reason, and duplicates (within the file or
already registered) are counted, listed and not created. Rows without coordinates are placed at
their village centre: geocoding ten thousand addresses one by one would take hours, and a later
edit of the address can still geocode one recipient.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from service.audit.service import creation_changes, record
from service.db import EARLIEST_BIRTH, STATISTICS_AFTER_ROWS, bulk_insert, refresh_statistics
from service.errors import Invalid
from service.extensions import db
from service.i18n import _l, lazy
from service.program.clock import today
from service.program.models import Area
from service.program.service import settings
from service.recipients.models import NikHolder, Recipient
from service.recipients.rules import (
    ADDRESS_MAX,
    NAME_MAX,
    NOTES_MAX,
    PHONE_MAX,
    coordinates_error,
    identity_errors,
    needs_error,
    point_error,
)
from service.recipients.service import hold_niks
from service.text import phone_error, text_error, unstorable

REQUIRED = ("nik", "name", "birth_date", "sex", "address")
OPTIONAL = ("village_id", "village_code", "phone", "latitude", "longitude", "dietary_needs", "notes")
SEX_CODES = {"F": "F", "M": "M", "P": "F", "L": "M"}  # P(erempuan) and L(aki-laki) on Indonesian forms
CHUNK = 1000

class _Key:
    """A key of a row read from a CSV that no column can be named (columns are strings)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


EXTRA = _Key("extra")  # where a CSV row's values beyond the header's columns go
SWALLOWED = _Key("swallowed")  # the file's lines an unclosed quote took into a row: (first, last)
LONG_CELL = _Key("long cell")  # a cell longer than CELL_LIMIT: its length
LINE = _Key("line")  # the file's line a CSV row begins on: its number as a spreadsheet shows it
CELL_LIMIT = 100_000  # characters in one cell: a longer one is refused with its row
# The csv module's own limit (131,072 characters) would stop the whole file at a long cell: a cell
# is never longer than a request.
csv.field_size_limit(max(csv.field_size_limit(), 32 * 1024 * 1024))


@dataclass
class RowError:
    row: int
    field: str
    message: str


@dataclass
class Duplicate:
    row: int
    nik: str
    existing_id: int | None = None  # already registered as this recipient
    first_row: int | None = None  # or first seen at this row of the same file
    region: str | None = None  # or enrolled in another region (its code: nothing else of theirs)


@dataclass
class ImportReport:
    dry_run: bool
    created: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    duplicate_rows: list[Duplicate] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    created_ids: list[int] = field(default_factory=list)


def read_csv(data: bytes) -> list[dict[Any, Any]]:
    """Rows of a CSV file as saved by a spreadsheet: UTF-8 (BOM or not), comma or semicolon. Each
    row carries the line it begins on (``LINE``), as a spreadsheet numbers it."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid({"file": [_l("is not UTF-8 text; save the sheet as 'CSV UTF-8'")]}) from None
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    source = _Lines(text)
    reader = csv.DictReader(source, delimiter=delimiter, restkey=EXTRA)
    try:
        header = reader.fieldnames
    except csv.Error as exc:
        raise Invalid({"file": [_l("the header row cannot be read: %(exc)s", exc=exc)]}) from None
    if not header:
        raise Invalid({"file": [_l("is empty: a header row and at least one data row are needed")]})
    reader.fieldnames = [(name or "").strip().lower() for name in header]
    twice = sorted({name for name in reader.fieldnames if reader.fieldnames.count(name) > 1})
    if twice:
        raise Invalid({"file": [_l("the header names %(value)s more than once: which is meant?",
                                   value=', '.join(map(repr, twice)))]})
    return list(_records(reader, source, delimiter))


class _Lines:
    """The file's lines for the csv module, counting them: ``first`` is the first line that is not
    blank since it was last cleared (where the next row begins)."""

    def __init__(self, text: str) -> None:
        self.lines = io.StringIO(text, newline="")
        self.number = 0
        self.first: int | None = None

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = next(self.lines)
        self.number += 1
        if self.first is None and line.strip():
            self.first = self.number
        return line


def _records(reader: csv.DictReader, source: _Lines, delimiter: str):
    """The reader's rows, each with the line it begins on, and with what the csv module cannot
    tell: a cell longer than a cell can be, and the file's lines an unclosed quote took into one
    row (``SWALLOWED``)."""
    columns = len(reader.fieldnames or ())
    while True:
        source.first = None
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error:  # what the module cannot read at all: the rest is lost, and said so
            first = source.first or source.number
            yield {SWALLOWED: (first, None), LINE: first}
            return
        first, last = source.first or source.number, source.number
        longest = max((len(v) for v in row.values() if isinstance(v, str)), default=0)
        if last > first and any(_holds_rows(value, delimiter, columns) for value in row.values()):
            row = {SWALLOWED: (first, last)}
        elif longest > CELL_LIMIT:
            row = {LONG_CELL: longest}
        row[LINE] = first
        yield row


def _holds_rows(value: Any, delimiter: str, columns: int) -> bool:
    """Whether a cell holds whole rows of the file after a line break (a quote left open)."""
    if not isinstance(value, str) or "\n" not in value:
        return False
    return any(line.count(delimiter) >= columns - 1 for line in value.split("\n")[1:])


def _text(value: Any, limit: int, required: bool) -> str | None:
    text = "" if value is None else str(value).strip()
    if not text:
        if required:
            raise ValueError(_l("is required"))
        return None
    if len(text) > limit:
        raise ValueError(_l("is longer than %(limit)s characters", limit=limit))
    if error := text_error(text):
        raise ValueError(error)
    return text


def _nik(value: Any) -> str:
    text = "" if value is None else str(value).strip()
    if not text:
        raise ValueError(_l("is required"))
    if "E+" in text.upper() or "." in text:
        raise ValueError(_l("looks like a number a spreadsheet rounded; format the NIK column as text"))
    return text


def _date(value: Any) -> dt.date:
    text = "" if value is None else str(value).strip()
    if not text:
        raise ValueError(_l("is required"))
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"):
        try:
            day = dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if day < EARLIEST_BIRTH:
            raise ValueError(_l("must be from %(EARLIEST_BIRTH)s", EARLIEST_BIRTH=EARLIEST_BIRTH))
        return day
    raise ValueError(_l("%(text)s is not a date (YYYY-MM-DD or DD/MM/YYYY)", text=repr(text)))


def _sex(value: Any) -> str:
    text = "" if value is None else str(value).strip().upper()
    if text not in SEX_CODES:
        raise ValueError(_l("must be F or M (P or L also accepted)"))
    return SEX_CODES[text]


def _coordinate(value: Any, bound: float) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(_l("is not a number"))
    try:
        number = float(str(value).replace(",", ".")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise ValueError(_l("%(value)s is not a number", value=repr(value))) from None
    if not -bound <= number <= bound:
        raise ValueError(_l("must be between -%(bound)s and %(bound)s", bound=bound))
    return number


def _needs(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else str(value).replace(",", ";").split(";")
    needs = [str(item).strip() for item in items if str(item).strip()]
    if error := needs_error(needs) or next(filter(None, map(text_error, needs)), None):
        raise ValueError(error)
    return needs


def _phone(value: Any) -> str | None:
    phone = _text(value, PHONE_MAX, False)
    if phone is not None and (error := phone_error(phone)):
        raise ValueError(error)
    return phone


class _Villages:
    """Every village, loaded once, looked up by id or by code."""

    def __init__(self) -> None:
        rows = db.session.execute(
            select(Area.id, Area.code, Area.name, Area.latitude, Area.longitude).where(Area.kind == "village")
        ).all()
        self.by_id = {r.id: r for r in rows}
        self.by_code = {r.code: r for r in rows if r.code}

    def find(self, row: Mapping[str, Any]):
        raw_id, code = row.get("village_id"), row.get("village_code")
        by_code = None
        if code not in (None, ""):
            by_code = self.by_code.get(str(code).strip())
            if by_code is None:
                raise ValueError(_l("no village has code %(code)s", code=repr(code)))
        if raw_id not in (None, ""):
            try:
                village = self.by_id.get(int(str(raw_id).strip()))
            except (TypeError, ValueError):
                raise ValueError(_l("%(raw_id)s is not a village id", raw_id=repr(raw_id))) from None
            if village is None:
                raise ValueError(_l("village %(raw_id)s does not exist", raw_id=raw_id))
            if by_code is not None and by_code.id != village.id:
                raise ValueError(_l("village %(id)s does not have code %(code)s (village %(id2)s has): "
                                    "which is meant?",
                                    id=village.id, code=repr(code), id2=by_code.id))
            return village
        if by_code is not None:
            return by_code
        raise ValueError(_l("village_id or village_code is required"))


def _parse(row: Mapping[str, Any], villages: _Villages, min_age: int, day: dt.date):
    """One row as the values of a recipient, or the errors that keep it out: (values, errors)."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if LONG_CELL in row:
        return None, {"_row": _l("a cell holds %(length)s characters (at most %(limit)s)",
                                 length=format(row[LONG_CELL], ","), limit=format(CELL_LIMIT, ","))}
    if SWALLOWED in row:
        first, last = row[SWALLOWED]
        lines = (_l("lines %(first)s to %(last)s", first=first, last=last) if last is not None
                 else _l("every line from %(first)s to the end", first=first))
        return None, {"_row": _l("a quote opened here is never closed: it took %(lines)s of the file into one "
                                 "cell; close the quote (or double a quote inside a value) and import those rows "
                                 "again", lines=lines)}
    if row.get(EXTRA):
        return None, {"_row": _l("has %(count)s more value(s) than the header has columns; quote values that hold "
                                 "the delimiter", count=len(row[EXTRA]))}
    for name, value in row.items():
        if isinstance(value, str) and (error := unstorable(value)):
            return None, {name if name in REQUIRED + OPTIONAL else "_row": error}
    parsers: dict[str, Callable[[Any], Any]] = {
        "nik": _nik,
        "name": lambda v: _text(v, NAME_MAX, True),
        "birth_date": _date,
        "sex": _sex,
        "address": lambda v: _text(v, ADDRESS_MAX, True),
        "phone": _phone,
        "latitude": lambda v: _coordinate(v, 90),
        "longitude": lambda v: _coordinate(v, 180),
        "dietary_needs": _needs,
        "notes": lambda v: _text(v, NOTES_MAX, False),
    }
    for name, parse in parsers.items():
        try:
            values[name] = parse(row.get(name))
        except ValueError as exc:
            errors[name] = exc.args[0]
    try:
        village = villages.find(row)
    except ValueError as exc:
        errors["village_id"] = exc.args[0]
        village = None
    if "nik" not in errors:
        identity = identity_errors(values["nik"], values.get("birth_date"), values.get("sex"), min_age, day)
        for name, messages in identity.items():
            errors.setdefault(name, messages[0])
    if errors:
        return None, errors
    error = coordinates_error(values["latitude"], values["longitude"])
    if error is None and values["latitude"] is not None:
        error = point_error(values["latitude"], values["longitude"], village)
    if error:
        return None, dict([error])
    if values["latitude"] is None:
        values.update(latitude=village.latitude, longitude=village.longitude, location_source="village")
    else:
        values["location_source"] = "gps"
    values["village_id"] = village.id
    return values, {}


def import_recipients(
    rows: Sequence[Mapping[str, Any]], dry_run: bool = False, first_row: int = 1,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import ``rows``; row numbers in the report start at ``first_row`` (2 for a CSV's first data row)."""
    report = ImportReport(dry_run=dry_run, ignored_columns=_check_columns(rows))
    valid = _read(rows, report, first_row, progress)
    new_rows = _not_registered(valid, report)
    report.duplicate_rows.sort(key=lambda d: d.row)
    report.created = len(new_rows)
    if not dry_run and new_rows:
        report.created_ids = _insert(new_rows)
    return report


def _check_columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Refuse a file without rows or without a column every row needs; the columns ignored."""
    if not rows:
        raise Invalid({"file": [_l("holds no rows")]})
    if not all(isinstance(row, Mapping) for row in rows):
        raise Invalid({"file": [_l("every row must be an object of named fields")]})
    columns = {key for row in rows for key in row}
    missing = [c for c in REQUIRED if c not in columns]
    if "village_id" not in columns and "village_code" not in columns:
        missing.append(_l("village_id or village_code"))
    if missing:
        raise Invalid({"file": [_l("missing columns: %(value)s", value=lazy(lambda: ", ".join(map(str, missing))))]})
    return sorted(c for c in columns - set(REQUIRED) - set(OPTIONAL) if isinstance(c, str))


def _read(rows: Sequence[Mapping[str, Any]], report: ImportReport, first_row: int,
          progress: Callable[[int], None] | None) -> list[tuple[int, dict[str, Any]]]:
    """Each row checked: the valid ones (with their row numbers), the rest reported."""
    program = settings()
    day = today(program)
    villages = _Villages()
    valid: list[tuple[int, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        number = row.get(LINE, first_row + index)
        values, errors = _parse(row, villages, program.min_age, day)
        if errors:
            report.rejected += 1
            report.errors.extend(RowError(number, name, message) for name, message in errors.items())
        elif values["nik"] in seen:
            report.duplicates += 1
            report.duplicate_rows.append(Duplicate(number, values["nik"], first_row=seen[values["nik"]]))
        else:
            seen[values["nik"]] = number
            valid.append((number, values))
        if progress and (index + 1) % CHUNK == 0:
            progress(CHUNK)
    if progress and len(rows) % CHUNK:
        progress(len(rows) % CHUNK)
    return valid


def _not_registered(valid: list[tuple[int, dict[str, Any]]], report: ImportReport) -> list[dict[str, Any]]:
    """The valid rows whose NIK is not registered yet; the others reported as duplicates."""
    existing, elsewhere = _existing_niks([values["nik"] for _, values in valid])
    new_rows = []
    for number, values in valid:
        if values["nik"] in existing:
            report.duplicates += 1
            report.duplicate_rows.append(Duplicate(number, values["nik"], existing_id=existing[values["nik"]]))
        elif values["nik"] in elsewhere:  # a person is enrolled in one region: named by its code alone
            report.duplicates += 1
            report.duplicate_rows.append(Duplicate(number, values["nik"], region=elsewhere[values["nik"]]))
        else:
            new_rows.append(values)
    return new_rows


def _existing_niks(niks: list[str]) -> tuple[dict[str, int], dict[str, str]]:
    """The NIKs registered here (NIK -> id), and those another region holds (NIK -> its code)."""
    found: dict[str, int] = {}
    held: dict[str, str] = {}
    for start in range(0, len(niks), 5000):
        chunk = niks[start:start + 5000]
        found.update(db.session.execute(select(Recipient.nik, Recipient.id).where(Recipient.nik.in_(chunk))).all())
        held.update(db.session.execute(select(NikHolder.nik, NikHolder.region_code)
                                       .where(NikHolder.nik.in_(chunk))).all())
    return found, {nik: code for nik, code in held.items() if nik not in found}


def _insert(rows: list[dict[str, Any]]) -> list[int]:
    """Insert in chunks, each with its audit events; the model's defaults (status candidate,
    version 1, timestamps) are filled in by ``bulk_insert``."""
    ids: list[int] = []
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        chunk_ids = bulk_insert(db.session, Recipient.__table__, chunk)
        ids.extend(chunk_ids)
        hold_niks([(values["nik"], rid) for rid, values in zip(chunk_ids, chunk, strict=True)])
        record(db.session, (
            ("create", "recipient", rid, creation_changes(values)) for rid, values in zip(chunk_ids, chunk, strict=True)
        ))
    if len(rows) >= STATISTICS_AFTER_ROWS:
        refresh_statistics(db.session, "recipients")
    return ids
