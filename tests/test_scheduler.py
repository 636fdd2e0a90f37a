"""The job runner: its jobs and triggers in the program's timezone, the catch-up after downtime,
settings changes, a real run, and two runners at once."""
from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select

from service.deliveries import scheduling
from service.deliveries.models import Delivery, DeliveryDay
from service.extensions import db
from service.program import clock
from service.program import service as program_service
from service.program.models import Area
from service.scheduler import jobs, runner
from tests.conftest import at_jakarta, race_twice, seed_stall_and_people
from tests.test_deliveries import TODAY, TOMORROW, deliveries_of


def days(status: str) -> list[str]:
    column = DeliveryDay.scheduled_at if status == "scheduled" else DeliveryDay.closed_at
    return [d.isoformat() for d in db.session.scalars(select(DeliveryDay.date).where(column.is_not(None))
                                                      .order_by(DeliveryDay.date))]


def test_the_runner_has_the_programs_jobs_in_its_timezone(app):
    scheduler = runner.build(app, BackgroundScheduler)
    jobs_by_id = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs_by_id) == {"schedule", "cutoff", "sweep", "purge", "tasks", "tasks_after_cutoff", "complaints",
                               "coverage", "settings"}
    schedule = jobs_by_id["schedule"].trigger
    assert str(schedule.timezone) == "Asia/Jakarta"
    assert {f.name: str(f) for f in schedule.fields if f.name in ("hour", "minute")} == {"hour": "18", "minute": "0"}
    assert {f.name: str(f) for f in jobs_by_id["cutoff"].trigger.fields if f.name == "hour"} == {"hour": "21"}
    # the follow-ups of those the cut-off flagged are opened a minute later, in a job of their own
    fields = jobs_by_id["tasks_after_cutoff"].trigger.fields
    assert {f.name: str(f) for f in fields if f.name in ("hour", "minute")} == {
        "hour": "21", "minute": "1"}
    assert scheduler._job_defaults["coalesce"] is True and scheduler._job_defaults["max_instances"] == 1
    assert scheduler._job_defaults["misfire_grace_time"] >= 3600
    # the next run is 18:00 in Jakarta, whatever the machine's zone
    after = dt.datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
    fire = schedule.get_next_fire_time(None, after)
    assert fire.astimezone(dt.UTC) == dt.datetime(2026, 11, 23, 11, 0, tzinfo=dt.UTC)


def test_a_change_of_the_programs_times_moves_the_jobs(app, client, coordinator, loop, monkeypatch):
    scheduler = runner.build(app, BackgroundScheduler)
    scheduler.start(paused=True)  # jobs in the store, none run
    watch = scheduler.get_job("settings").func
    at_jakarta(monkeypatch, TODAY, hour=17)
    changed = client.patch("/api/v1/program", json={"schedule_time": "16:30:00"}, headers=coordinator)
    assert changed.status_code == 200, changed.json
    watch()
    trigger = scheduler.get_job("schedule").trigger
    scheduler.shutdown()
    assert {f.name: str(f) for f in trigger.fields if f.name in ("hour", "minute")} == {"hour": "16", "minute": "30"}
    assert TOMORROW.isoformat() in days("scheduled")  # 16:30 has passed today: caught up at once


def test_catch_up_does_what_was_missed_once(app, client, coordinator, loop, monkeypatch):
    # The runner was down from yesterday morning: nothing was scheduled for today.
    at_jakarta(monkeypatch, TODAY, hour=9)
    assert jobs.run(app, "catch_up") == {"closed": [], "scheduled": [TODAY.isoformat()]}
    assert len(deliveries_of(client, coordinator, date=TODAY.isoformat())) == 6
    assert jobs.run(app, "catch_up") == {"closed": [], "scheduled": []}
    # Down again from 10:00 until 22:00: today's cut-off and the evening's scheduling were missed.
    at_jakarta(monkeypatch, TODAY, hour=22)
    assert jobs.run(app, "catch_up") == {"closed": [TODAY.isoformat()], "scheduled": [TOMORROW.isoformat()]}
    assert {d["status"] for d in deliveries_of(client, coordinator, date=TODAY.isoformat())} == {"missed"}
    assert jobs.run(app, "catch_up") == {"closed": [], "scheduled": []}
    # Two days later, with nothing run in between: the open day is closed, today scheduled.
    at_jakarta(monkeypatch, TODAY + dt.timedelta(days=3), hour=8)
    assert jobs.run(app, "catch_up") == {"closed": [TOMORROW.isoformat()],
                                         "scheduled": [(TODAY + dt.timedelta(days=3)).isoformat()]}


def test_the_daily_jobs(app, client, coordinator, loop, monkeypatch):
    at_jakarta(monkeypatch, TODAY, hour=18)
    report = jobs.run(app, "schedule")
    assert (report.date, report.created) == (TOMORROW, 6)
    at_jakarta(monkeypatch, TOMORROW, hour=21)
    closed = jobs.run(app, "cutoff")
    assert (closed.date, closed.missed) == (TOMORROW, 6)
    assert jobs.run(app, "sweep") == {}
    assert jobs.run(app, "purge") == 0


def test_a_failing_job_is_logged_and_rolled_back(app, monkeypatch, caplog):
    def broken():
        program_service.create_area("Written before the failure", "district", -8.3, 114.1, code="BROKEN")
        raise RuntimeError("disk full")

    monkeypatch.setitem(jobs.JOBS, "schedule", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        jobs.run(app, "schedule")
    assert "job schedule failed" in caplog.text
    assert db.session.scalar(select(Area).where(Area.code == "BROKEN")) is None  # rolled back



def test_a_rollback_that_fails_after_a_job_is_logged_and_the_jobs_failure_raised(app, monkeypatch, caplog):
    def broken():
        raise RuntimeError("disk full")

    rollback = type(db.session()).rollback
    failed: list[bool] = []

    def rollback_once(session):
        if not failed:
            failed.append(True)
            raise RuntimeError("connection reset")
        return rollback(session)

    monkeypatch.setitem(jobs.JOBS, "schedule", broken)
    monkeypatch.setattr(type(db.session()), "rollback", rollback_once)
    with pytest.raises(RuntimeError, match="disk full"):  # the job's failure, not the rollback's
        jobs.run(app, "schedule")
    assert failed and "job schedule: the rollback after its failure failed too" in caplog.text
    assert "connection reset" in caplog.text and "job schedule failed" in caplog.text


def test_the_runner_logs_a_job_that_could_not_even_start(app, monkeypatch, caplog):
    """Whatever keeps a job from running (here the actor it writes as) is logged, not dropped; the
    runner goes on."""

    class Nobody:
        def narrowed(self, code):
            return self

        def act_in(self, session):
            raise RuntimeError("no actor")

    monkeypatch.setattr(jobs, "SCHEDULER", Nobody())
    assert jobs.run_scheduled(app, "purge") is None  # no exception escapes to the runner
    assert "job purge failed" in caplog.text and "no actor" in caplog.text

def test_run_a_job_from_the_command_line(cli, loop, monkeypatch):
    at_jakarta(monkeypatch, TODAY, hour=19)
    result = cli.invoke(args=["scheduler", "run-job", "schedule"])
    assert result.exit_code == 0, result.output
    assert '"created": 6' in result.output


def test_two_runners_scheduling_at_once_create_each_meal_once(own_app, monkeypatch):
    app = own_app
    at_jakarta(monkeypatch, TODAY, hour=18)
    with app.app_context():
        seed_stall_and_people(capacity=10, people=3, enrol=True)
    reports, failures = race_twice(app, lambda: scheduling.schedule_day(TOMORROW).created)
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Delivery))
    assert count == 6
    # the advisory lock (on SQLite, the write lock) made the second wait; it then found every meal there
    assert sorted(reports) == [0, 6] and not failures


def meals_of_tomorrow(app, scheduler, wanted: int, seconds: float = 15) -> int:
    """Tomorrow's meals once the running ``scheduler`` made ``wanted`` of them (or ``seconds``
    passed); the scheduler is shut down after."""
    try:
        deadline = time.monotonic() + seconds
        while True:
            with app.app_context():
                tomorrow = clock.today() + dt.timedelta(days=1)
                done = db.session.scalar(select(func.count()).select_from(Delivery).where(Delivery.date == tomorrow))
                db.session.remove()
            if done == wanted or time.monotonic() >= deadline:
                return done
            time.sleep(0.3)
    finally:
        scheduler.shutdown()


def test_the_runner_runs_the_evening_job_at_its_time(own_app):
    app = own_app
    with app.app_context():
        seed_stall_and_people(capacity=10, people=3, enrol=True)
    zone = ZoneInfo("Asia/Jakarta")
    soon = (dt.datetime.now(zone) + dt.timedelta(seconds=3)).time().replace(microsecond=0)
    with app.app_context():
        program = program_service.get_program()
        program.schedule_time = soon
        program.delivery_cutoff = dt.time(23, 59, 59)
        db.session.commit()
    scheduler = runner.start(app, BackgroundScheduler)  # catches up first, then waits for `soon`
    assert meals_of_tomorrow(app, scheduler, wanted=6) == 6


def test_an_evening_that_passes_while_the_runner_starts_is_not_lost(own_app, monkeypatch):
    """A runner whose start is slow (a long catch-up on a busy machine) must not find its evening
    already gone and wait until tomorrow: each daily job's next run counts from when the start
    began, so the evening that passed meanwhile runs at once."""
    app = own_app
    with app.app_context():
        seed_stall_and_people(capacity=10, people=3, enrol=True)
    zone = ZoneInfo("Asia/Jakarta")
    soon = dt.datetime.now(zone) + dt.timedelta(seconds=2)
    with app.app_context():
        program = program_service.get_program()
        program.schedule_time = soon.time().replace(microsecond=0)
        program.delivery_cutoff = dt.time(23, 59, 59)
        db.session.commit()
    run_everywhere = jobs.run_everywhere

    def slow_start(app, name, **kwargs):
        result = run_everywhere(app, name, **kwargs)
        if name == "complaints":  # the last of the start's own work: the evening passes meanwhile
            time.sleep(max(0.0, (soon - dt.datetime.now(zone)).total_seconds()) + 1.5)
        return result

    monkeypatch.setattr(jobs, "run_everywhere", slow_start)
    scheduler = runner.start(app, BackgroundScheduler)
    assert meals_of_tomorrow(app, scheduler, wanted=6) == 6
