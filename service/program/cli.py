import datetime as dt

import click
from flask.cli import AppGroup

from service.db import bind
from service.errors import DomainError
from service.extensions import db
from service.i18n import _
from service.program import regions

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
    bind(db.session, None)
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


@regions_cli.command("list")
def list_regions():
    """Every region, by code."""
    bind(db.session, None)
    for row in regions.visible():
        click.echo(f"{row.code}\t{row.name}\t{row.timezone}")
