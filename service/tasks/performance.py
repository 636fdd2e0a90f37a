"""Each agency's work over a period: tasks opened, done on time and late, cancelled, overdue."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, case, func, select

from service.accounts.models import Agency
from service.accounts.scope import Scope
from service.errors import NotFound
from service.extensions import db
from service.program.clock import today
from service.rates import rate
from service.tasks.models import Task


@dataclass
class TaskCounts:
    type: str | None
    opened: int = 0
    done_on_time: int = 0
    done_late: int = 0
    cancelled: int = 0
    overdue: int = 0  # open, and due before today
    open: int = 0

    @property
    def on_time_rate(self) -> float | None:
        done = self.done_on_time + self.done_late
        return rate(self.done_on_time, done)


def task_counts(agency_id: int, first: dt.date, last: dt.date) -> tuple[TaskCounts, list[TaskCounts]]:
    """The agency's tasks in the period ``first``..``last``, in total and by type: opened in it,
    done in it (on time: on or before the due date), cancelled in it, and of the tasks due in it,
    how many are still open, overdue or not."""
    day = today()
    done = Task.status == "done"
    finished_in = Task.completed_on.between(first, last)
    due_in = Task.due_date.between(first, last)
    still_open = and_(Task.status == "open", due_in)

    def n(condition):
        return func.sum(case((condition, 1), else_=0))

    rows = db.session.execute(
        select(Task.type, n(Task.opened_on.between(first, last)),
               n(and_(done, finished_in, Task.completed_on <= Task.due_date)),
               n(and_(done, finished_in, Task.completed_on > Task.due_date)),
               n(and_(Task.status == "cancelled", finished_in)),
               n(and_(still_open, Task.due_date < day)), n(still_open))
        .where(Task.agency_id == agency_id).group_by(Task.type).order_by(Task.type)
    ).all()
    by_type = [TaskCounts(type_, *(int(v or 0) for v in values)) for type_, *values in rows]
    total = TaskCounts(None)
    for counts in by_type:
        for name in ("opened", "done_on_time", "done_late", "cancelled", "overdue", "open"):
            setattr(total, name, getattr(total, name) + getattr(counts, name))
    return total, [c for c in by_type if any((c.opened, c.done_on_time, c.done_late, c.cancelled, c.open))]


def agency_for(agency_id: int, scope: Scope) -> Agency:
    """The agency, if the caller may see its work (its own staff, or the coordinator)."""
    agency = db.session.get(Agency, agency_id)
    if agency is None or (scope.agency is not None and agency_id != scope.agency):
        raise NotFound("agency", agency_id)
    return agency
