import click
from flask.cli import AppGroup

from service.accounts.scope import Scope
from service.assignments import placement
from service.assignments import rebalance as rebalancing
from service.extensions import db

assignments_cli = AppGroup("assignments", help="Who feeds whom.")


@assignments_cli.command("sweep")
def sweep():
    """Bring stalls in line with today's rules: move the recipients of stalls that may no longer
    cook (expired certificates) and those beyond the program's reach.

    Idempotent; the job runner runs it daily, just after midnight in the program's timezone.
    """
    Scope.system("assignments sweep").act_in(db.session)
    result = placement.sweep()
    db.session.commit()
    if not result:
        click.echo("Every stall may cook and reaches its recipients today: no stall to sweep.")
    for vendor_id, moves in result.items():
        click.echo(f"stall {vendor_id}: {moves.moved} moved, {moves.uncovered} uncovered, "
                   f"{moves.placed} taken in")


@assignments_cli.command("rebalance")
def rebalance():
    """Place every enrolled recipient again, optimally (as POST /api/v1/assignments/rebalance)."""
    Scope.system("assignments rebalance").act_in(db.session)
    click.echo("Rebalancing...")
    report = rebalancing.rebalance()
    db.session.commit()
    click.echo(f"{report.enrolled} enrolled: {report.covered} covered ({report.assigned} newly placed, "
               f"{report.moved} moved), {report.unassigned} without a stall within reach; "
               f"mean distance {report.mean_distance_km} km; {report.seconds} s")
