"""codes, not sentences: assignment reasons, flag reasons, why a meal was cancelled or missed, and the
titles, notes and outcomes the service writes on tasks are stored as codes with parameters; the
sentences already stored are read into codes

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 14:00:00

"""
import json
import re

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
CHUNK = 2000

# The sentences the service wrote before this revision, and the codes they become. A sentence that
# matches none (written by hand, or by a benchmark) is kept as {"code": "text", "text": ...}.
TASK_TYPES = {"verification_visit": "Verification visit", "hygiene_inspection": "Hygiene inspection",
              "nutrition_check": "Nutrition check", "school_visit": "School visit", "follow_up": "Follow-up",
              "complaint": "Complaint", "other": "Task"}
CAUSES = [
    (r"is (?P<status>active|suspended|closed)", "stall_status"),
    (r"hygiene certificate expired on (?P<on>\S+)", "certificate_expired"),
    (r"failed its hygiene inspection of (?P<on>\S+)", "inspection_failed"),
    (r"passed its hygiene inspection of (?P<on>\S+)", "inspection_passed"),
    (r"has no hygiene certificate", "no_certificate"),
    (r"is beyond the program's reach of (?P<reach_km>[\d.]+) km", "beyond_reach"),
]
PLACES = [
    (r"enrolled: nearest eligible stall with room \((?P<km>[\d.]+) km\)", "enrolled_placed"),
    (r"enrolled: no eligible stall with room within (?P<reach_km>[\d.]+) km", "enrolled_unplaced"),
    (r"moved: stall (?P<from_vendor_id>\d+) (?P<cause>.+) \((?P<km>[\d.]+) km\)", "moved"),
    (r"uncovered: stall (?P<from_vendor_id>\d+) (?P<cause>.+); no eligible stall with room within "
     r"(?P<reach_km>[\d.]+) km", "uncovered"),
    (r"placed: stall (?P<vendor_id>\d+) (?P<cause>.+) \((?P<km>[\d.]+) km\)", "placed"),
    (r"rebalance: placed at stall (?P<vendor_id>\d+) \((?P<km>[\d.]+) km\)", "rebalance_placed"),
    (r"rebalance: moved from stall (?P<from_vendor_id>\d+) \((?P<km>[\d.]+) km\)", "rebalance_moved"),
    (r"rebalance: no eligible stall with room within (?P<reach_km>[\d.]+) km"
     r"(?:; stall (?P<from_vendor_id>\d+) (?P<why>cannot keep them|may not cook))?", "rebalance_unplaced"),
]
MEALS = {"recipient exited": "recipient_exited", "recipient paused": "recipient_paused",
         "no stall may cook for the recipient": "no_stall", "not confirmed by the cut-off": "not_confirmed"}
UNFED = r"no meal delivered from (?P<from>\S+) to (?P<to>\S+) \(failed or missed\)"
NOTES = [(r"certificate valid until (?P<on>\S+)", "certificate_valid_until"),
         (r"no valid certificate: the stall may not cook until it passes", "no_valid_certificate"), (UNFED, "unfed")]
OUTCOMES = {"no longer needed: the recipient left or the stall closed": "no_longer_needed",
            "flag cleared": "flag_cleared"}
WHY = {"cannot keep them": "cannot_keep", "may not cook": "may_not_cook"}
NUMBERS = {"km", "reach_km"}
IDS = {"vendor_id", "from_vendor_id"}


def _params(match):
    out = {}
    for key, value in match.groupdict().items():
        if value is None:
            continue
        if key in NUMBERS:
            value = float(value)
        elif key in IDS:
            value = int(value)
        elif key == "why":
            value = WHY[value]
        elif key == "cause":
            value = cause_code(value)
        out[key] = value
    return out


def _first(text, patterns):
    for pattern, name in patterns:
        match = re.fullmatch(pattern, text)
        if match:
            return {"code": name, **_params(match)}
    return None


def cause_code(text):
    if text.startswith("changed: "):
        changes = {}
        for part in text[len("changed: "):].split(", "):
            field, _, rest = part.partition(" ")
            old, _, new = rest.partition(" -> ")
            changes[field] = [old, new]
        return {"code": "stall_changed", "changes": changes}
    return _first(text, CAUSES) or {"code": "text", "text": text}


def place_code(text):
    return _first(text, PLACES) or {"code": "text", "text": text}


def flag_code(text):
    return _first(text, [(UNFED, "unfed")]) or {"code": "text", "text": text}


def title_code(type_, title):
    name = TASK_TYPES.get(type_)
    if name and title == name:
        return {"code": "task_title", "type": type_}
    if name and title.startswith(f"{name}: "):
        return {"code": "task_title", "type": type_, "subject": title[len(name) + 2:]}
    match = re.fullmatch(r"Referral from (?P<agency>.+?): (?P<reason>.*)", title, flags=re.S)
    if match:
        return {"code": "referral", **match.groupdict()}
    match = re.fullmatch(r"Unfed three days: (?P<subject>.+)", title, flags=re.S)
    if match:
        return {"code": "unfed_follow_up", **match.groupdict()}
    return None


def _rewrite_column(table, key, column, new_column, convert, nullable):
    """``table.column`` (text) becomes JSON: a column beside it filled with ``convert(text)``, then
    put in its place."""
    bind = op.get_bind()
    with op.batch_alter_table(table) as batch_op:
        batch_op.add_column(sa.Column(new_column, JSON, nullable=True))
    old = sa.table(table, sa.column(key), sa.column(column, sa.String))
    new = sa.table(table, sa.column(key), sa.column(new_column, JSON))
    rows = bind.execute(sa.select(old.c[key], old.c[column]).where(old.c[column].is_not(None))).all()
    for first in range(0, len(rows), CHUNK):
        bind.execute(new.update().where(new.c[key] == sa.bindparam("_key")).values({new_column: sa.bindparam("_code")}),
                     [{"_key": k, "_code": convert(text)} for k, text in rows[first:first + CHUNK]])
    with op.batch_alter_table(table) as batch_op:
        batch_op.drop_column(column)
    with op.batch_alter_table(table) as batch_op:
        batch_op.alter_column(new_column, new_column_name=column, existing_type=JSON, nullable=nullable)


def upgrade():
    bind = op.get_bind()
    _rewrite_column("assignments", "recipient_id", "reason", "reason_code", place_code, nullable=False)
    _rewrite_column("recipients", "id", "flag_reason", "flag_code", flag_code, nullable=True)

    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cause', JSON, nullable=True))
    meals = sa.table("deliveries", sa.column("status"), sa.column("reason", sa.String), sa.column("cause", JSON))
    for sentence, name in MEALS.items():
        bind.execute(meals.update().where(meals.c.status.in_(("cancelled", "missed")), meals.c.reason == sentence)
                     .values(cause={"code": name}, reason=None))

    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title_code', JSON, nullable=True))
        batch_op.add_column(sa.Column('notes_code', JSON, nullable=True))
        batch_op.add_column(sa.Column('outcome_code', JSON, nullable=True))
        batch_op.alter_column('title', existing_type=sa.String(length=200), nullable=True)
    tasks = sa.table("tasks", sa.column("id"), sa.column("type", sa.String), sa.column("title", sa.String),
                     sa.column("notes", sa.String), sa.column("outcome_notes", sa.String),
                     sa.column("title_code", JSON), sa.column("notes_code", JSON), sa.column("outcome_code", JSON))
    changes = []
    for task_id, type_, title, notes, outcome_notes in bind.execute(
            sa.select(tasks.c.id, tasks.c.type, tasks.c.title, tasks.c.notes, tasks.c.outcome_notes)):
        row = {"_id": task_id, "title": title, "notes": notes, "outcome_notes": outcome_notes,
               "title_code": None, "notes_code": None, "outcome_code": None}
        if title and (code := title_code(type_, title)):
            row.update(title=None, title_code=code)
        if notes and (code := _first(notes, NOTES)):
            row.update(notes=None, notes_code=code)
        if outcome_notes in OUTCOMES:
            row.update(outcome_notes=None, outcome_code={"code": OUTCOMES[outcome_notes]})
        if row["title_code"] or row["notes_code"] or row["outcome_code"]:
            changes.append(row)
    for first in range(0, len(changes), CHUNK):
        bind.execute(tasks.update().where(tasks.c.id == sa.bindparam("_id")).values(
            title=sa.bindparam("title"), notes=sa.bindparam("notes"), outcome_notes=sa.bindparam("outcome_notes"),
            title_code=sa.bindparam("title_code"), notes_code=sa.bindparam("notes_code"),
            outcome_code=sa.bindparam("outcome_code")), changes[first:first + CHUNK])


def _as_text(code):
    """A code back as text, for a downgrade: the sentence it came from where that is simple."""
    if not code:
        return None
    if code.get("code") == "text":
        return code.get("text")
    return json.dumps(code)


def downgrade():
    bind = op.get_bind()
    tasks = sa.table("tasks", sa.column("id"), sa.column("type", sa.String), sa.column("title", sa.String),
                     sa.column("title_code", JSON))
    for task_id, type_, code in bind.execute(sa.select(tasks.c.id, tasks.c.type, tasks.c.title_code)
                                            .where(tasks.c.title.is_(None))).all():
        subject = (code or {}).get("subject")
        title = f"{TASK_TYPES.get(type_, 'Task')}: {subject}" if subject else TASK_TYPES.get(type_, "Task")
        bind.execute(tasks.update().where(tasks.c.id == task_id).values(title=title[:200]))
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.alter_column('title', existing_type=sa.String(length=200), nullable=False)
        batch_op.drop_column('outcome_code')
        batch_op.drop_column('notes_code')
        batch_op.drop_column('title_code')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_column('cause')
    for table, key, column, nullable in (("recipients", "id", "flag_reason", True),
                                         ("assignments", "recipient_id", "reason", False)):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column(f"{column}_text", sa.String(length=300), nullable=True))
        coded = sa.table(table, sa.column(key), sa.column(column, JSON), sa.column(f"{column}_text", sa.String))
        for k, code in bind.execute(sa.select(coded.c[key], coded.c[column])).all():
            bind.execute(coded.update().where(coded.c[key] == k).values({f"{column}_text": (_as_text(code) or "")[:300]
                                                                        if code else None}))
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column(column)
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(f"{column}_text", new_column_name=column, existing_type=sa.String(length=300),
                                  nullable=nullable)
