"""The regions' commands. They stand in accounts, above program, because a command acts as a
``Scope`` (the audit trail names it) and only a Scope names the actor."""
import datetime as dt

import click
from flask.cli import AppGroup

from service.accounts.scope import Scope
from service.errors import DomainError
from service.extensions import db
from service.i18n import _
from service.program import regions, service

regions_cli = AppGroup("regions", help="The regions (regencies and cities) the program runs in.")


def _time(value: str | None) -> dt.time | None:
    return dt.time.fromisoformat(value) if value else None


@regions_cli.command("create")
@click.option("--code", required=True, help="Kemendagri's code of the regency or city: 35.09.")
@click.option("--name", required=True)
@click.option("--timezone", required=True, type=click.Choice(regions.TIMEZONES))
@click.option("--meal-price", type=int, default=None, help="Its own price of a meal (else the program's).")
@click.option("--schedule-time", default=None, help="Its own evening scheduling time, HH:MM (else the program's).")
@click.option("--delivery-cutoff", default=None, help="Its own cut-off, HH:MM (else the program's).")
@click.option("--pass-mark", type=int, default=None, help="Its own inspections' pass mark (else the program's).")
def create_region(code, name, timezone, meal_price, schedule_time, delivery_cutoff, pass_mark):
    """Add a region. Its villages, agencies and staff are added in it next (--region)."""
    Scope.system("regions create", region=None).act_in(db.session)
    try:
        row = regions.create(code, name, timezone, meal_price=meal_price, schedule_time=_time(schedule_time),
                             delivery_cutoff=_time(delivery_cutoff), pass_mark=pass_mark)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    except DomainError as exc:
        raise click.ClickException(exc.detail) from None
    db.session.commit()
    click.echo(_("created region %(code)s %(name)s (%(timezone)s)", code=row.code, name=row.name,
                 timezone=row.timezone))


INHERIT = "program"  # a setting given back to the program's


def _own(value: str | None, read) -> object:
    """A setting from the command line: not given (``...``), the program's again (``program``), or
    its own value."""
    if value is None:
        return ...
    return None if value == INHERIT else read(value)


@regions_cli.command("update")
@click.option("--code", required=True, help="The region's code: 35.09.")
@click.option("--name", default=None)
@click.option("--meal-price", default=None, help="Its own price of a meal, or 'program' for the program's.")
@click.option("--schedule-time", default=None, help="Its own evening scheduling time, HH:MM, or 'program'.")
@click.option("--delivery-cutoff", default=None, help="Its own cut-off, HH:MM, or 'program'.")
@click.option("--pass-mark", default=None, help="Its own inspections' pass mark, or 'program'.")
def update_region(code, name, meal_price, schedule_time, delivery_cutoff, pass_mark):
    """Change a region's name or its own settings, as PATCH /regions/{code} does."""
    Scope.system("regions update", region=None).act_in(db.session)  # every region; the trail names the command
    try:
        changes = {"name": name if name is not None else ..., "meal_price": _own(meal_price, int),
                   "schedule_time": _own(schedule_time, dt.time.fromisoformat),
                   "delivery_cutoff": _own(delivery_cutoff, dt.time.fromisoformat),
                   "pass_mark": _own(pass_mark, int)}
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    changes = {k: v for k, v in changes.items() if v is not ...}
    try:
        row = service.update_region(code, changes)
    except DomainError as exc:
        raise click.ClickException(exc.detail) from None
    db.session.commit()
    own = ", ".join(f"{k}={getattr(row, k) if getattr(row, k) is not None else INHERIT}"
                    for k in service.REGION_CHANGES)
    click.echo(_("updated region %(code)s %(name)s: %(settings)s", code=row.code, name=row.name, settings=own))


@regions_cli.command("list")
def list_regions():
    """Every region, by code."""
    Scope.system("regions list", region=None).act_in(db.session)
    for row in regions.visible():
        click.echo(f"{row.code}\t{row.name}\t{row.timezone}")
