import click
from flask.cli import AppGroup

from service.accounts.scope import Scope
from service.assignments import placement
from service.assignments import rebalance as rebalancing
from service.errors import DomainError
from service.extensions import db
from service.i18n import _
from service.program import regions

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
        click.echo(_("Every stall may cook and reaches its recipients today: no stall to sweep."))
    for vendor_id, moves in result.items():
        click.echo(_("stall %(id)s: %(moved)s moved, %(uncovered)s uncovered, %(placed)s taken in",
                     id=vendor_id, moved=moves.moved, uncovered=moves.uncovered, placed=moves.placed))


@assignments_cli.command("rebalance")
@click.option("--region", default=None, help="The region to rebalance, by code (35.09); the default region unless "
                                              "given. Each region is its own problem.")
def rebalance(region: str | None):
    """Place every enrolled recipient of a region again, optimally (as POST
    /api/v1/assignments/rebalance)."""
    Scope.system("assignments rebalance", region=region or "default").act_in(db.session)
    if region is not None:
        try:
            regions.region(region)
        except DomainError as exc:
            raise click.ClickException(exc.detail) from None
    click.echo(_("Rebalancing..."))
    report = rebalancing.rebalance()
    db.session.commit()
    click.echo(_("%(enrolled)s enrolled: %(covered)s covered (%(assigned)s newly placed, %(moved)s moved), "
                 "%(unassigned)s without a stall within reach; mean distance %(km)s km; %(seconds)s s",
                 enrolled=report.enrolled, covered=report.covered, assigned=report.assigned, moved=report.moved,
                 unassigned=report.unassigned, km=report.mean_distance_km, seconds=report.seconds))
