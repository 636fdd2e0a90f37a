"""The job runner: APScheduler 3 in a process of its own (``flask scheduler run``), never in a web
worker. Each region's jobs run on the region's clock (its timezone, not the machine's) at its own
times, and the runner follows changes to them (and new regions) without a restart.

| job      | when (each region's local time)   | does                                            |
|----------|-----------------------------------|-------------------------------------------------|
| catch_up | at start, and when times change   | what was missed while the runner was down, once |
| schedule | ``schedule_time`` (18:00)          | tomorrow's deliveries                           |
| cutoff   | ``delivery_cutoff`` (21:00)        | today's unconfirmed meals become missed; flags  |
| sweep    | 00:05                             | recipients of lapsed stalls move                |
| purge    | 03:30                             | idempotency keys older than 72 hours go         |
| tasks    | 06:00, at start, cut-off + 1 min  | recurring agency work is opened                 |
| coverage | every minute                      | a snapshot of today's coverage, for GET /coverage |

Every job is idempotent and takes the database's locks, which are the region's: a second runner
(by mistake, during a deploy, or to share a province's regions) waits for a region another is
doing and then finds nothing left to do there; it never does one region's day twice.
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
from sqlalchemy import select

from service.database import unavailable
from service.db import bind, default_region
from service.extensions import db
from service.program.models import Region
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


def read_times(app: Flask) -> dict[str, Times]:
    """Each region's times, by its code."""
    times = {}
    with app.app_context():
        try:
            for code in db.session.scalars(select(Region.code).order_by(Region.code)).all():
                bind(db.session, (code,))
                program = settings()
                times[code] = Times(program.timezone, program.schedule_time, program.delivery_cutoff)
            return times
        finally:
            db.session.remove()


def wait_for_database(app: Flask) -> dict[str, Times]:
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


def configure(scheduler: BaseScheduler, app: Flask, times: dict[str, Times]) -> None:
    """Add (or replace) each region's daily jobs for its ``times``, on its clock; the job of the
    default region keeps the job's plain name (``schedule``), another's names its region
    (``schedule@35.09``)."""
    for code, at_times in times.items():
        after_cutoff = (dt.datetime.combine(dt.date(2000, 1, 1), at_times.delivery_cutoff) + AFTER_CUTOFF).time()
        for job_id, name, at in (("schedule", "schedule", at_times.schedule_time),
                                 ("cutoff", "cutoff", at_times.delivery_cutoff),
                                 ("sweep", "sweep", SWEEP_AT), ("purge", "purge", PURGE_AT),
                                 ("tasks", "tasks", TASKS_AT), ("complaints", "complaints", TASKS_AT),
                                 ("tasks_after_cutoff", "tasks", after_cutoff)):
            job_id = job_id if code == default_region() else f"{job_id}@{code}"
            scheduler.add_job(jobs.run_scheduled, _daily(at, at_times.timezone), args=[app, name, code], id=job_id,
                              name=job_id, replace_existing=True)


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
            changed = [code for code in times if times[code] != self.times.get(code)]
            log.info("times changed in %s: jobs moved", ", ".join(changed))
            self.times = times
            configure(self.scheduler, self.app, times)
            for code in changed:
                jobs.run_scheduled(self.app, "catch_up", code)
        if jobs.missed(self.app):
            ran = jobs.recover(self.app)
            log.info("the database answers again: ran %s", ", ".join(f"{name} ({code})" for name, code in ran))


def build(app: Flask, scheduler_class: type[BaseScheduler] = BlockingScheduler) -> BaseScheduler:
    """A scheduler with the program's jobs, not started (once the database answers)."""
    times = wait_for_database(app)
    scheduler = scheduler_class(
        timezone=times[default_region()].timezone if default_region() in times else "UTC",
        job_defaults={
            # A job whose time passed while the runner was busy or suspended still runs, once.
            "misfire_grace_time": app.config["SCHEDULER_MISFIRE_GRACE_SECONDS"],
            "coalesce": True,
            "max_instances": 1,
        },
    )
    configure(scheduler, app, times)
    scheduler.add_job(jobs.run_everywhere, IntervalTrigger(seconds=app.config["COVERAGE_SNAPSHOT_SECONDS"]),
                      args=[app, "coverage"], kwargs={"quiet": True}, id="coverage", name="coverage")
    scheduler.add_job(SettingsWatch(scheduler, app, times),
                      IntervalTrigger(seconds=app.config["SCHEDULER_SETTINGS_POLL_SECONDS"]),
                      id="settings", name="settings")
    return scheduler


def start(app: Flask, scheduler_class: type[BaseScheduler] = BlockingScheduler) -> BaseScheduler:
    """Once the database answers, catch up on what was missed, then run the jobs at their times
    (blocks with the default class)."""
    wait_for_database(app)
    began = dt.datetime.now(dt.UTC)
    for name in ("catch_up", "tasks", "complaints"):  # the recurring work too: the runner may have been down at 06:00
        jobs.run_everywhere(app, name)  # a failure is logged; the daily jobs still get their chance
    scheduler = build(app, scheduler_class)
    # Each daily job's next run counts from when this work began, not from when the scheduler
    # starts: a time that passed meanwhile (a long catch-up begun at 17:59:59) runs at once, within
    # the misfire grace, instead of waiting until tomorrow.
    for job in scheduler.get_jobs():
        if isinstance(job.trigger, CronTrigger):
            scheduler.modify_job(job.id, next_run_time=job.trigger.get_next_fire_time(None, began))
    for job in scheduler.get_jobs():
        log.info("job %-8s %s", job.id, job.trigger)
    scheduler.start()
    return scheduler
