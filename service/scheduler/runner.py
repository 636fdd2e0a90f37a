"""The job runner: APScheduler 3 in a process of its own (``flask scheduler run``), never in a web
worker. Its clock is the program's timezone, not the machine's, and it follows changes to the
program's times without a restart.

| job      | when (program's local time)       | does                                            |
|----------|-----------------------------------|-------------------------------------------------|
| catch_up | at start, and when times change   | what was missed while the runner was down, once |
| schedule | ``schedule_time`` (18:00)          | tomorrow's deliveries                           |
| cutoff   | ``delivery_cutoff`` (21:00)        | today's unconfirmed meals become missed; flags  |
| sweep    | 00:05                             | recipients of lapsed stalls move                |
| purge    | 03:30                             | idempotency keys older than 72 hours go         |
| tasks    | 06:00, at start, cut-off + 1 min  | recurring agency work is opened                 |
| coverage | every minute                      | a snapshot of today's coverage, for GET /coverage |

Every job is idempotent and takes the database's locks, so a second runner (by mistake, or
during a deploy) waits and then finds nothing left to do.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from service.database import unavailable
from service.extensions import db
from service.program.service import settings
from service.scheduler import jobs

log = logging.getLogger("rantang.scheduler")

SWEEP_AT = dt.time(0, 5)
PURGE_AT = dt.time(3, 30)
TASKS_AT = dt.time(6, 0)
AFTER_CUTOFF = dt.timedelta(minutes=1)  # the follow-ups of those the cut-off flagged


@dataclass(frozen=True)
class Times:
    """The program settings the runner's triggers depend on."""

    timezone: str
    schedule_time: dt.time
    delivery_cutoff: dt.time


def read_times(app: Flask) -> Times:
    with app.app_context():
        try:
            program = settings()
            return Times(program.timezone, program.schedule_time, program.delivery_cutoff)
        finally:
            db.session.remove()


def wait_for_database(app: Flask) -> Times:
    """The program's times, once the database answers: a runner started while it is down (a
    machine booting, a failover) waits for it rather than exiting."""
    while True:
        try:
            return read_times(app)
        except Exception as exc:
            if not unavailable(exc):
                raise
            log.warning("the database is unavailable (%s): trying again in %ss", getattr(exc, "orig", exc),
                        app.config["SCHEDULER_DATABASE_RETRY_SECONDS"])
            time.sleep(app.config["SCHEDULER_DATABASE_RETRY_SECONDS"])


def _daily(at: dt.time, timezone: str) -> CronTrigger:
    return CronTrigger(hour=at.hour, minute=at.minute, second=at.second, timezone=timezone)


def configure(scheduler: BaseScheduler, app: Flask, times: Times) -> None:
    """Add (or replace) the daily jobs for ``times``."""
    after_cutoff = (dt.datetime.combine(dt.date(2000, 1, 1), times.delivery_cutoff) + AFTER_CUTOFF).time()
    for job_id, name, at in (("schedule", "schedule", times.schedule_time), ("cutoff", "cutoff", times.delivery_cutoff),
                             ("sweep", "sweep", SWEEP_AT), ("purge", "purge", PURGE_AT), ("tasks", "tasks", TASKS_AT),
                             ("complaints", "complaints", TASKS_AT),
                             ("tasks_after_cutoff", "tasks", after_cutoff)):
        scheduler.add_job(jobs.run_scheduled, _daily(at, times.timezone), args=[app, name], id=job_id, name=job_id,
                          replace_existing=True)


class SettingsWatch:
    """Re-reads the program's times every minute; when they change, moves the jobs and catches up
    (an earlier ``schedule_time`` that has passed today schedules tomorrow at once). When the
    database answers again after jobs could not run, runs them (``jobs.recover``)."""

    def __init__(self, scheduler: BaseScheduler, app: Flask, times: Times) -> None:
        self.scheduler, self.app, self.times = scheduler, app, times

    def __call__(self) -> None:
        try:
            times = read_times(self.app)
        except Exception as exc:
            if not unavailable(exc):
                raise
            log.warning("the database is unavailable (%s): jobs wait for it", getattr(exc, "orig", exc))
            return
        if times != self.times:
            log.info("program times changed to %s: jobs moved", times)
            self.times = times
            configure(self.scheduler, self.app, times)
            jobs.run_scheduled(self.app, "catch_up")
        if jobs.missed(self.app):
            log.info("the database answers again: running %s", ", ".join(jobs.recover(self.app)))


def build(app: Flask, scheduler_class: type[BaseScheduler] = BlockingScheduler) -> BaseScheduler:
    """A scheduler with the program's jobs, not started (once the database answers)."""
    times = wait_for_database(app)
    scheduler = scheduler_class(
        timezone=times.timezone,
        job_defaults={
            # A job whose time passed while the runner was busy or suspended still runs, once.
            "misfire_grace_time": app.config["SCHEDULER_MISFIRE_GRACE_SECONDS"],
            "coalesce": True,
            "max_instances": 1,
        },
    )
    configure(scheduler, app, times)
    scheduler.add_job(jobs.run_scheduled, IntervalTrigger(seconds=app.config["COVERAGE_SNAPSHOT_SECONDS"]),
                      args=[app, "coverage"], kwargs={"quiet": True}, id="coverage", name="coverage")
    scheduler.add_job(SettingsWatch(scheduler, app, times),
                      IntervalTrigger(seconds=app.config["SCHEDULER_SETTINGS_POLL_SECONDS"]),
                      id="settings", name="settings")
    return scheduler


def start(app: Flask, scheduler_class: type[BaseScheduler] = BlockingScheduler) -> BaseScheduler:
    """Once the database answers, catch up on what was missed, then run the jobs at their times
    (blocks with the default class)."""
    wait_for_database(app)
    for name in ("catch_up", "tasks", "complaints"):  # the recurring work too: the runner may have been down at 06:00
        jobs.run_scheduled(app, name)  # a failure is logged; the daily jobs still get their chance
    scheduler = build(app, scheduler_class)
    for job in scheduler.get_jobs():
        log.info("job %-8s %s", job.id, job.trigger)
    scheduler.start()
    return scheduler
