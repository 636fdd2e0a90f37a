"""``flask demo load``: its words in the program's language (``LANGUAGE``, Indonesian by default)."""
import time

import click
from flask.cli import AppGroup

from service.accounts.scope import Scope
from service.db import bind
from service.demo import data
from service.extensions import db
from service.i18n import _
from service.program import regions

demo_cli = AppGroup("demo", help="Demo data.")


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing (but print the logins) if data exists.")
@click.option("--recipients", "count", default=300, show_default=True, help="How many recipients (in each region).")
@click.option("--regions", "region_count", default=1, show_default=True, type=click.IntRange(1, 14),
              help="How many regions: Banyuwangi, then regencies and cities of other provinces over the real "
                   "places of indonesia_places.csv, across the three time zones.")
def load(if_empty: bool, count: int, region_count: int):
    """Load a complete demo program in Banyuwangi (areas, agencies, users, recipients), and in as
    many other regions as asked."""
    sites = [(None, None)]
    if region_count > 1:
        sites += data.other_sites(region_count - 1)
    if not data.is_empty():
        if not if_empty:
            raise click.ClickException(_("the database holds data already; demo load needs an empty one"))
        click.echo(_("The database holds data already: demo data not loaded."))
    else:
        started = time.monotonic()
        for n, (where, zone) in enumerate(sites):
            if where is not None:
                bind(db.session, None)
                regions.create(where.code, where.name, zone)
                click.echo(f"[{time.monotonic() - started:6.1f} s] {where.code} {where.name} ({zone})")
            Scope.system("demo", region="default" if where is None else where.code).act_in(db.session)
            data.load(recipient_count=count, seed=2026 + n, where=where,
                      say=lambda stage: click.echo(f"[{time.monotonic() - started:6.1f} s] {stage}"))
            click.echo(f"[{time.monotonic() - started:6.1f} s] {_('saving')}")
            db.session.commit()
        click.echo(f"[{time.monotonic() - started:6.1f} s] {_('demo program loaded')}")
    click.echo(_("Demo logins (POST /api/v1/auth/token with email and password):"))
    for where, _zone in sites:
        for cred in data.credentials(where):
            click.echo(f"  {cred.role:<22} {cred.email:<40} {cred.password}")
