import json
import logging
import signal
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from service.i18n import _
from service.scheduler import jobs, runner

scheduler_cli = AppGroup("scheduler", help="The job runner: daily scheduling, cut-off, sweeps, recurring agency work.")


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


@scheduler_cli.command("run")
def run_command():
    """Run the program's jobs at their times, in the program's timezone, until stopped (Ctrl-C
    or SIGTERM). Catches up on what was missed first. Run one per database."""
    _logging()
    app = current_app._get_current_object()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop between jobs; a job cut off rolls back
    click.echo(_("job runner started; Ctrl-C to stop"))
    try:
        runner.start(app)
    except (KeyboardInterrupt, SystemExit):
        click.echo(_("job runner stopped"))


@scheduler_cli.command("run-job")
@click.argument("name", type=click.Choice(sorted(jobs.JOBS)))
@click.option("--region", default=None, help="the region's code (the default region unless given); 'all': every region")
def run_job(name: str, region: str | None):
    """Run one job now, as the runner would (catch_up, schedule, cutoff, sweep, purge, tasks)."""
    _logging()
    app = current_app._get_current_object()
    result = jobs.run_everywhere(app, name) if region == "all" else jobs.run(app, name, region=region)
    click.echo(json.dumps(result, default=lambda o: getattr(o, "__dict__", str(o)), indent=2))
