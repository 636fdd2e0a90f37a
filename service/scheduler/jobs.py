"""The program's jobs. Each runs for one region (its day is the region's day, at the region's
times), in its own app context and transaction, as ``scheduler``, and is idempotent: running it
twice, in two runners at once, or late after downtime does no harm (its locks are the region's).

Every job is a plain function that the CLI and the tests call too.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from flask import Flask
from sqlalchemy import select

from service.accounts.scope import Scope
from service.assignments import placement
from service.complaints import service as complaints
from service.database import unavailable
from service.db import default_region
from service.deliveries import coverage, scheduling
from service.deliveries.models import DeliveryDay
from service.extensions import db
from service.idempotency import service as idempotency
from service.program import clock
from service.program.clock import today
from service.program.models import Region
from service.program.service import settings
from service.tasks import recurring

log = logging.getLogger("rantang.jobs")
SCHEDULER = Scope.system("scheduler", region=None)  # who the audit trail says wrote what a job writes


def missed(app: Flask) -> set[tuple[str, str]]:
    """Jobs (name, region) that could not run because the database was unavailable: the runner
    runs them (the catch-up first) as soon as it answers again (``recover``)."""
    return app.extensions.setdefault("rantang_missed_jobs", set())


def every_region(app: Flask) -> list[str]:
    """The codes of the program's regions."""
    with app.app_context():
        try:
            return list(db.session.scalars(select(Region.code).order_by(Region.code)))
        finally:
            db.session.remove()


def run(app: Flask, name: str, quiet: bool = False, *, reraise: bool = True, region: str | None = None) -> object:
    """Run job ``name`` for ``region`` (the default region unless said) inside an app context, in
    one transaction committed at its end.

    A failure is logged here, whatever raised it (the job, its commit, the app context or the
    session's end), and raised again, unless ``reraise`` is false: the runner, which goes on to
    its next job (``run_scheduled``), gets None."""
    job = JOBS[name]
    code = region or default_region()
    try:
        with app.app_context():
            SCHEDULER.narrowed(code).act_in(db.session)
            try:
                result = job()
                db.session.commit()
            except Exception as exc:
                _roll_back(name, exc)
                raise
            finally:
                db.session.remove()
    except Exception as exc:
        if unavailable(exc):
            missed(app).add((name, code))
            log.warning("job %s: the database is unavailable in %s (%s); it runs once the database answers",
                        name, code, getattr(exc, "orig", exc))
        else:
            log.exception("job %s failed in %s; it runs again at its next time (or at the runner's start)", name, code)
        if reraise:
            raise
        return None
    missed(app).discard((name, code))
    log.log(logging.DEBUG if quiet else logging.INFO, "job %s (%s): %s", name, code, result)
    return result


def run_everywhere(app: Flask, name: str, quiet: bool = False) -> dict[str, object]:
    """``run_scheduled`` in every region in turn (each its own transaction): region -> result."""
    return {code: run(app, name, quiet, reraise=False, region=code) for code in every_region(app)}


def _roll_back(name: str, cause: Exception) -> None:
    """Undo what a failed job wrote. A rollback that fails too is logged beside the job's own
    failure, which ``run`` logs and raises: as a warning with its traceback, unless the job failed
    because the database is unavailable (then the connection is gone, and its transaction with it)."""
    try:
        db.session.rollback()
    except Exception as exc:
        if unavailable(cause):
            log.info("job %s: no rollback, the connection is gone (%s)", name, getattr(exc, "orig", exc))
        else:
            log.warning("job %s: the rollback after its failure failed too", name, exc_info=True)


def run_scheduled(app: Flask, name: str, region: str | None = None, quiet: bool = False) -> None:
    """``run`` as the runner calls it at a job's time in a region: a failure is logged and the
    runner goes on; a job the database kept from running is run again by ``recover``."""
    run(app, name, quiet=quiet, reraise=False, region=region)


# What recovery runs for each missed job: the catch-up does what scheduling and the cut-off missed;
# the snapshot of coverage is taken again within the minute anyway.
RECOVERY = {"schedule": "catch_up", "cutoff": "catch_up", "catch_up": "catch_up", "coverage": None}


def recover(app: Flask) -> list[tuple[str, str]]:
    """Once the database answers again, run what it kept from running, once in each region: the
    catch-up first, then the other missed jobs. The jobs run (name, region), in order."""
    jobs = missed(app)
    wanted = {(RECOVERY.get(name, name), code) for name, code in jobs} - {(None, code) for _, code in jobs}
    order = sorted(wanted, key=lambda job: (job[1], job[0] != "catch_up", job[0]))
    for name, code in order:
        run_scheduled(app, name, code)  # a success takes it off the missed ones
    for (name, code) in list(jobs):  # what the catch-up stands for is done once it has run
        instead = RECOVERY.get(name, name)
        if name != instead and (instead is None or (instead, code) not in jobs):
            jobs.discard((name, code))
    return order


def schedule_next_day() -> scheduling.ScheduleReport:
    """The evening job: tomorrow's meals (in the program's timezone)."""
    return scheduling.schedule_day(today() + dt.timedelta(days=1))


def close_today() -> scheduling.CloseReport | None:
    """The cut-off job: close today (the runner opens follow-ups of those it flagged just after);
    nothing before the loop's first scheduled day."""
    day, first = today(), scheduling.first_scheduled_day()
    if first is None or day < first:
        log.info("cut-off of %s: nothing to close, the loop has not begun", day)
        return None
    return scheduling.close_day(day)


def open_recurring_work() -> dict:
    """Every morning and just after the cut-off, in a transaction of its own (a failure here never
    undoes a cut-off): school visits, inspections before expiry, verification visits, follow-ups."""
    return vars(recurring.open_recurring())


def sweep() -> dict:
    """Just after midnight: recipients of stalls whose certificate lapsed move to stalls that may cook."""
    moves = placement.sweep()
    return {vendor_id: vars(m) for vendor_id, m in moves.items()}


def count_today() -> dict:
    """Every minute: a snapshot of today's coverage, which GET /coverage serves."""
    counts = coverage.refresh_today()
    return {"eligible": counts.eligible, "covered": counts.covered, "delivered": counts.delivered}


def watch_complaints() -> dict:
    """Every morning: complaints past a deadline are marked and escalated to the coordinator;
    answers not reopened within 10 days are closed."""
    return vars(complaints.watch_deadlines())


def purge_idempotency_keys() -> int:
    return idempotency.purge()


def catch_up() -> dict[str, list[str]]:
    """Do what was missed while the runner was down, once: close every scheduled day whose
    cut-off has passed, schedule today if it was never scheduled and is still open, and tomorrow
    if its evening scheduling time has passed. Run at the runner's start and when the program's
    times change."""
    program = settings()
    moment = clock.now()
    day = today(program)
    done: dict[str, list[str]] = {"closed": [], "scheduled": []}
    open_days = db.session.scalars(
        select(DeliveryDay.date).where(DeliveryDay.closed_at.is_(None), DeliveryDay.date <= day)
        .order_by(DeliveryDay.date)
    ).all()
    for past in open_days:
        if moment >= scheduling.cutoff_at(past, program):
            scheduling.close_day(past)
            done["closed"].append(past.isoformat())
    scheduled = set(scheduling.scheduled_days(day))
    if day not in scheduled and scheduling.first_open_day(program) == day:
        scheduling.schedule_day(day)
        done["scheduled"].append(day.isoformat())
    tomorrow = day + dt.timedelta(days=1)
    if tomorrow not in scheduled and moment >= clock.at(day, program.schedule_time, program):
        scheduling.schedule_day(tomorrow)
        done["scheduled"].append(tomorrow.isoformat())
    return done


JOBS: dict[str, Callable[[], object]] = {
    "schedule": schedule_next_day,
    "cutoff": close_today,
    "sweep": sweep,
    "purge": purge_idempotency_keys,
    "tasks": open_recurring_work,
    "complaints": watch_complaints,
    "coverage": count_today,
    "catch_up": catch_up,
}
