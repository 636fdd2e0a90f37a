"""``flask demo load``: its words in the program's language (``LANGUAGE``, Indonesian by default)."""
import time

import click
from flask.cli import AppGroup

from service.accounts.scope import Scope
from service.demo import data
from service.extensions import db
from service.i18n import _

demo_cli = AppGroup("demo", help="Demo data.")


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing (but print the logins) if data exists.")
@click.option("--recipients", "count", default=300, show_default=True, help="How many recipients.")
def load(if_empty: bool, count: int):
    """Load a complete demo program in Banyuwangi (areas, agencies, users, recipients)."""
    if not data.is_empty():
        if not if_empty:
            raise click.ClickException(_("the database holds data already; demo load needs an empty one"))
        click.echo(_("The database holds data already: demo data not loaded."))
    else:
        Scope.system("demo").act_in(db.session)
        started = time.monotonic()
        data.load(recipient_count=count,
                  say=lambda stage: click.echo(f"[{time.monotonic() - started:6.1f} s] {stage}"))
        click.echo(f"[{time.monotonic() - started:6.1f} s] {_('saving')}")
        db.session.commit()
        click.echo(f"[{time.monotonic() - started:6.1f} s] {_('demo program loaded')}")
    click.echo(_("Demo logins (POST /api/v1/auth/token with email and password):"))
    for cred in data.credentials():
        click.echo(f"  {cred.role:<22} {cred.email:<32} {cred.password}")
