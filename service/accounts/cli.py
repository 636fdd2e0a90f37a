import click
from flask.cli import AppGroup

from service.accounts import service
from service.accounts.models import ROLES
from service.accounts.scope import Scope
from service.errors import DomainError
from service.extensions import db
from service.i18n import _

users_cli = AppGroup("users", help="Manage users.")


@users_cli.command("create")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--email", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", default=None, help="Defaults to the part of the email before the @.")
@click.option("--agency-id", type=int, default=None)
@click.option("--vendor-id", type=int, default=None)
@click.option("--volunteer-id", type=int, default=None)
@click.option("--region", default=None, help="The region the user works in, by code (35.09); the default region "
                                              "unless given.")
@click.option("--regions", default=None, help="Provincial or national staff: the regions they read and coordinate, "
                                               "comma-separated (35.09,35.10), or '*' for every region.")
def create_user(role, email, password, name, agency_id, vendor_id, volunteer_id, region, regions):
    """Create a user (the first coordinator, say)."""
    Scope.system("cli", region=region or "default").act_in(db.session)
    try:
        user = service.create_user(
            email=email, password=password, name=name or email.split("@")[0], role=role,
            agency_id=agency_id, vendor_id=vendor_id, volunteer_id=volunteer_id, region_code=region,
            regions=[code.strip() for code in regions.split(",") if code.strip()] if regions is not None else None,
        )
    except DomainError as exc:
        raise click.ClickException(exc.detail) from None
    db.session.commit()
    click.echo(_("created %(role)s user %(id)s <%(login)s>", role=user.role, id=user.id, login=user.login))


@users_cli.command("revoke-tokens")
@click.argument("user_id", type=int)
def revoke_tokens(user_id):
    """Revoke every live token of a user (a lost phone, someone who left)."""
    Scope.system("cli").act_in(db.session)
    try:
        count = service.revoke_user_tokens(user_id)
    except DomainError as exc:
        raise click.ClickException(exc.detail) from None
    db.session.commit()
    click.echo(_("revoked %(count)s token(s) of user %(id)s", count=count, id=user_id))
