"""Task logs pushed in bulk from an agency's own system: each log opens a task, completes one, or
both; each is taken or refused on its own, and reported by row."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from sqlalchemy import select

from service.accounts.scope import Scope
from service.errors import DomainError, Forbidden, Invalid
from service.extensions import db
from service.i18n import _l
from service.program.clock import today
from service.tasks.models import Task
from service.tasks.service import complete_task, create_task

MAX_LOGS = 5000  # task logs in one push


@dataclass
class LogError:
    row: int
    field: str
    message: str


@dataclass
class LogResult:
    row: int
    status: str  # created | completed | duplicate | rejected
    task_id: int | None = None


@dataclass
class LogReport:
    dry_run: bool
    created: int = 0
    completed: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: list[LogError] = field(default_factory=list)
    items: list[LogResult] = field(default_factory=list)


def push_logs(logs: Iterable[tuple[int, dict[str, Any] | None, dict[str, list[str]]]], *, dry_run: bool,
              scope: Scope) -> LogReport:
    """Many task logs from an agency's own system, each on its own: a log with ``task_id``
    completes that task; one without opens a task (and completes it too when it carries
    ``complete``). A log whose ``external_ref`` was pushed before is a duplicate and changes
    nothing. Every bad log is reported by row and field, and the good ones are kept. ``items``
    are ``(row, fields or None, wire errors)`` as the schema reads them; no more than the limit
    (and one) is read before a push over it is refused."""
    items = list(islice(logs, MAX_LOGS + 1))
    if len(items) > MAX_LOGS:
        raise Invalid({"_body": [_l("at most %(MAX_LOGS)s logs in one push; split the list", MAX_LOGS=MAX_LOGS)]})
    report = LogReport(dry_run=dry_run)
    for row, log, wire_errors in items:
        if wire_errors or log is None:
            _reject(report, row, wire_errors or {"_body": [_l("not a task log")]})
            continue
        savepoint = db.session.begin_nested()
        try:
            status, task_id, created = _push_one(log, scope=scope)
        except DomainError as error:
            savepoint.rollback()
            _reject(report, row, error.errors if isinstance(error, Invalid) else {_blamed(error, log): [error.detail]})
            continue
        savepoint.commit()
        # A dry run names no task it only pretended to open: that id will be another's.
        shown = None if dry_run and created else task_id
        report.items.append(LogResult(row=row, status=status, task_id=shown))
        report.duplicates += status == "duplicate"
        report.created += created
        report.completed += status == "completed"
    if dry_run:
        db.session.rollback()
    return report


def _blamed(error: DomainError, log: dict[str, Any]) -> str:
    """The field a refusal other than invalid values is reported under."""
    if isinstance(error, Forbidden):
        return "agency_id"
    return "task_id" if log.get("task_id") is not None else "complete"


def _reject(report: LogReport, row: int, errors: dict[str, list[str]]) -> None:
    report.rejected += 1
    report.items.append(LogResult(row=row, status="rejected"))
    report.errors.extend(LogError(row=row, field=f, message=m) for f, messages in errors.items() for m in messages)


def _push_one(log: dict[str, Any], *, scope: Scope) -> tuple[str, int, bool]:
    """What became of one log: its status (completed, created, duplicate), the task, and whether
    the task is new."""
    completion = log.get("complete")
    if log.get("task_id") is not None:
        if completion is None:
            raise Invalid({"complete": [_l("a log of an existing task says how it ended")]})
        task = complete_task(log["task_id"], **completion, scope=scope)
        return "completed", task.id, False
    ref = log.get("external_ref")
    agency_id = log.get("agency_id") if scope.agency is None else scope.agency
    if ref is not None and agency_id is not None:
        existing = db.session.scalar(select(Task.id).where(Task.agency_id == agency_id, Task.external_ref == ref))
        if existing is not None:
            return "duplicate", existing, False
    fields = {k: v for k, v in log.items() if k not in ("complete", "task_id")}
    done_on = (completion or {}).get("completed_on") or today()
    fields.setdefault("due_date", done_on)
    # Work logged after it was done was opened when it was due or done, whichever came first.
    opened_on = min(fields["due_date"], done_on, today()) if completion is not None else None
    task = create_task(**fields, scope=scope, origin="log", opened_on=opened_on)
    if completion is not None:
        complete_task(task.id, **completion, scope=scope)
    return ("created" if completion is None else "completed"), task.id, True
