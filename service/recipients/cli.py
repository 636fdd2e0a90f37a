import json
from pathlib import Path

import click
from flask.cli import AppGroup
from tqdm import tqdm

from service.accounts.scope import Scope
from service.errors import Invalid
from service.extensions import db
from service.i18n import _, _l
from service.recipients.importing import import_recipients, read_csv

recipients_cli = AppGroup("recipients", help="The recipient registry.")


def load_rows(path: Path) -> tuple[list, int]:
    """The rows of a CSV or JSON file, and the number the first row carries in reports."""
    data = path.read_bytes()
    if path.suffix.lower() == ".json":
        try:
            rows = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise Invalid({"file": [_l("is not valid JSON: %(exc)s", exc=exc)]}) from None
        if not isinstance(rows, list):
            raise Invalid({"file": [_l("must hold a JSON list of recipients")]})
        return rows, 1
    return read_csv(data), 2


@recipients_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row; create nothing.")
def import_command(file: Path, dry_run: bool):
    """Import recipients from a CSV (header row; comma or semicolon) or JSON file."""
    Scope.system("cli").act_in(db.session)
    try:
        rows, first_row = load_rows(file)
        with tqdm(total=len(rows), unit="row", desc="checking", disable=None) as bar:
            report = import_recipients(rows, dry_run=dry_run, first_row=first_row, progress=bar.update)
    except Invalid as exc:
        raise click.ClickException(exc.detail) from None
    db.session.commit()
    for error in report.errors:
        click.echo(_("row %(row)s: %(field)s: %(message)s", row=error.row, field=error.field, message=error.message),
                   err=True)
    for dup in report.duplicate_rows:
        where = (_("recipient %(id)s", id=dup.existing_id) if dup.existing_id
                 else _("row %(row)s", row=dup.first_row))
        click.echo(_("row %(row)s: duplicate NIK %(nik)s (as %(where)s)", row=dup.row, nik=dup.nik, where=where),
                   err=True)
    said = _("would create %(created)s, duplicates %(duplicates)s, rejected %(rejected)s") if dry_run \
        else _("created %(created)s, duplicates %(duplicates)s, rejected %(rejected)s")
    click.echo(said % {"created": report.created, "duplicates": report.duplicates, "rejected": report.rejected})
