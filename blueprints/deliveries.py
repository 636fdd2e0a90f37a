import csv
import io
from collections.abc import Iterable, Sequence

from flask import current_app, g, request, send_file

from blueprints.extensions import Blueprint
from blueprints.idempotency import idempotent
from schemas.common import page_of
from schemas.deliveries import (
    CloseOut,
    ConfirmIn,
    CoverageArgs,
    CoverageOut,
    DayIn,
    DeliveryArgs,
    DeliveryOut,
    ManifestArgs,
    ManifestOut,
    PhotoIn,
    ScheduleOut,
    StatementArgs,
    StatementOut,
    TrendArgs,
    TrendOut,
    month_of,
)
from service.deliveries import coverage, photos, scheduling, service
from service.errors import Invalid, NotFound
from service.extensions import db
from service.i18n import _l

blp = Blueprint("deliveries", __name__, url_prefix="/api/v1",
                description="The daily loop: scheduling, the stalls' manifests and confirmations, statements, "
                            "coverage.")

CSV = "text/csv"
TEXT = {"type": "string"}  # the schema of a CSV answer
BINARY = {"type": "string", "format": "binary"}  # of an image


def wants_csv() -> bool:
    return request.accept_mimetypes.best_match(["application/json", CSV]) == CSV


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell):
    """A text cell a spreadsheet would run as a formula (OWASP's CSV injection rule: it begins
    with = + - @, a tab or a carriage return) is written after a quote, which shows as text."""
    return f"'{cell}" if isinstance(cell, str) and cell.startswith(FORMULA_START) else cell


# A CSV column's name in the reader's language (the rows' values are as the JSON gives them).
COLUMNS = {
    "date": _l("date"), "delivered": _l("delivered"), "with_evidence": _l("with_evidence"), "failed": _l("failed"),
    "missed": _l("missed"), "meal_price": _l("meal_price"), "amount": _l("amount"), "closed": _l("closed"),
    "counted_at": _l("counted_at"), "eligible": _l("eligible"), "covered": _l("covered"),
    "uncovered": _l("uncovered"), "unplanned": _l("unplanned"), "scheduled": _l("scheduled"),
    "pending": _l("pending"), "coverage_rate": _l("coverage_rate"), "delivery_rate": _l("delivery_rate"),
    "total": _l("total"),
}


def csv_response(header: Sequence[str], rows: Iterable[Sequence], filename: str):
    """A CSV answer: ``header`` (column codes, written in the reader's language) then ``rows``."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([str(COLUMNS.get(name, name)) for name in header])
    writer.writerows([spreadsheet_safe(cell) for cell in row] for row in rows)
    response = current_app.response_class(out.getvalue(), mimetype=CSV)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@blp.route("/deliveries/schedule", methods=["POST"])
@blp.arguments(DayIn())
@blp.response(200, ScheduleOut)
def schedule_deliveries(data):
    """Schedule a day's meals now (the job runner does it every evening at `schedule_time`).

    One delivery per meal slot for each enrolled recipient not paused that day and placed at a
    stall that may cook that day; recipients of stalls that may not cook that day move first.
    Running it again creates nothing twice (`created` 0, `existing` all)."""
    report = scheduling.schedule_day(data["date"])
    db.session.commit()
    return report


@blp.route("/deliveries/close", methods=["POST"])
@blp.arguments(DayIn())
@blp.response(200, CloseOut)
def close_day(data):
    """Close a day after its cut-off (the job runner does it at `delivery_cutoff`): meals not
    confirmed become `missed`, recipients without a meal three days running are flagged for the
    social agency, and the day's coverage is stored. Closing again changes nothing more."""
    report = scheduling.close_day(data["date"])
    db.session.commit()
    return report


@blp.route("/deliveries", methods=["GET"])
@blp.arguments(DeliveryArgs(), location="query")
@blp.response(200, page_of(DeliveryOut))
@blp.alt_response(403, description="`recipient_id` by an agency that does not keep the registry.")
def list_deliveries(args):
    """Deliveries, newest day first. A stall sees only its own. The health, education and other
    agencies see each meal without whom it fed or where (no `recipient_id`, GPS point, reason or
    photo) and cannot filter by recipient."""
    return service.list_deliveries(**args, scope=g.caller)


@blp.route("/deliveries/<bigid:delivery_id>", methods=["GET"])
@blp.response(200, DeliveryOut)
def get_delivery(delivery_id):
    """One meal; as in the list, without whom it fed or where for agencies that do not keep the registry."""
    return service.get_delivery(delivery_id, g.caller)


@blp.route("/deliveries/<bigid:delivery_id>/confirm", methods=["POST"])
@idempotent
@blp.arguments(ConfirmIn())
@blp.response(200, DeliveryOut)
@blp.alt_response(409, description="Confirmed already with another outcome, missed, cancelled, or the day is closed.")
def confirm_delivery(data, delivery_id):
    """The stall confirms one meal: `delivered`, or `failed` with a reason; optionally when and where.

    Send an `Idempotency-Key`: a retry gets the first answer. Confirming again with the same
    outcome changes nothing; with another it is a 409, as is any confirmation after the day's
    cut-off (the meal is `missed`). Another stall's delivery is a 404."""
    return service.confirm(delivery_id, **data, scope=g.caller)


@blp.route("/deliveries/<bigid:delivery_id>/photo", methods=["POST"])
@idempotent
@blp.arguments(PhotoIn(), location="files")
@blp.response(200, DeliveryOut)
@blp.alt_response(409, description="Not confirmed delivered or failed; the day is closed (a stall); the image is "
                                   "evidence for another delivery.")
@blp.alt_response(413, description="Larger than 5 MB or 40 million pixels.")
@blp.alt_response(415, description="Not a JPEG or PNG image (checked by its content).")
def upload_photo(files, delivery_id):
    """Photo evidence of a meal confirmed delivered or failed (multipart field `file`): JPEG or PNG,
    at most 5 MB and 40 million pixels, kept by its sha256, which the delivery shows. A stall adds
    it to its own meal on the meal's day, before the cut-off; after that only the program office
    may. One image is evidence for one delivery only; every upload is in the audit trail."""
    extra = sorted(set(request.form) | (set(request.files) - {"file"}))
    if extra or len(request.files.getlist("file")) > 1:
        raise Invalid({name: [_l("send one image as 'file' and nothing else")] for name in extra or ["file"]})
    limit = current_app.config["PHOTO_MAX_BYTES"]
    data = files["file"].stream.read(limit + 1)  # enough to know it is too large, and no more
    return photos.attach_photo(delivery_id, data, scope=g.caller)


@blp.route("/deliveries/<bigid:delivery_id>/photo", methods=["GET"])
@blp.response(200, BINARY, description="The photo, as the type its content was checked to be.",
              content_type="image/jpeg")
@blp.alt_response(200, schema=BINARY, description="The photo, as the type its content was checked to be.",
                  content_type="image/png", success=True)
def get_photo(delivery_id):
    """The photo evidence of a delivery, for the program office and the stall that sent it."""
    delivery = service.own_delivery(delivery_id, g.caller)
    found = photos.photo_file(delivery)
    if found is None:
        raise NotFound("photo of delivery", delivery_id)
    path, media_type = found
    response = send_file(path, mimetype=media_type, max_age=0, conditional=False)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.route("/vendors/me/manifest", methods=["GET"])
@blp.arguments(ManifestArgs(), location="query")
@blp.response(200, ManifestOut)
def manifest(args):
    """The calling stall's meals of a day (today by default): whom to feed, where, and what they
    may not eat; each item's `id` is the delivery to confirm."""
    return service.manifest(args.get("date"), scope=g.caller)


@blp.route("/vendors/<int:vendor_id>/statement", methods=["GET"])
@blp.arguments(StatementArgs(), location="query")
@blp.response(200, StatementOut)
@blp.alt_response(200, schema=TEXT, description="JSON, or with `Accept: text/csv` one line per day.", content_type=CSV,
                  success=True)
def statement(args, vendor_id):
    """What a stall is owed for a month: delivered meals per day, how many carry evidence (a photo
    or GPS), and the amount at the meal price in force each day (a price changed later does not
    change what was owed). JSON, or CSV with `Accept: text/csv`."""
    result = service.statement(vendor_id, month_of(args["month"]), scope=g.caller)
    if wants_csv():
        rows = [(line.date.isoformat(), line.delivered, line.with_evidence, line.failed, line.missed,
                 line.meal_price, line.amount) for line in result.lines]
        rows.append((str(COLUMNS["total"]), result.delivered, result.with_evidence, "", "", "", result.amount))
        return csv_response(("date", "delivered", "with_evidence", "failed", "missed", "meal_price", "amount"),
                            rows, f"statement-{vendor_id}-{result.month}.csv")
    return result


COUNTS = ("eligible", "covered", "uncovered", "unplanned", "scheduled", "delivered", "failed", "missed", "pending",
          "coverage_rate", "delivery_rate")


@blp.route("/coverage", methods=["GET"])
@blp.arguments(CoverageArgs(), location="query")
@blp.response(200, CoverageOut)
def get_coverage(args):
    """A day's coverage (today by default), in total and by village. A closed day as its cut-off
    counted it; an open day from the job runner's snapshot of the last minute (`counted_at`), or
    counted now with `live=true` or when the snapshot is older than five minutes."""
    return coverage.day_coverage(args.get("date"), live=args["live"])


@blp.route("/coverage/trend", methods=["GET"])
@blp.arguments(TrendArgs(), location="query")
@blp.response(200, TrendOut)
@blp.alt_response(200, schema=TEXT, description="JSON, or CSV with `Accept: text/csv`.", content_type=CSV,
                  success=True)
def coverage_trend(args):
    """One row per day, `from` to `to` (the last 30 days by default, at most 366)."""
    days = coverage.trend(args.get("from_"), args.get("to"))
    if wants_csv():
        return _trend_csv(days)
    return {"days": days}


@blp.route("/coverage/export.csv", methods=["GET"])
@blp.arguments(TrendArgs(), location="query")
@blp.response(200, TEXT, description="The trend as CSV.", content_type=CSV)
def export_coverage(args):
    """The trend as a CSV file, for spreadsheets."""
    return _trend_csv(coverage.trend(args.get("from_"), args.get("to")))


def _trend_csv(days):
    return csv_response(("date", "closed", "counted_at", *COUNTS),
                        ((d.date.isoformat(), d.closed, d.counted_at.isoformat(),
                          *(getattr(d.counts, c) for c in COUNTS)) for d in days),
                        "coverage.csv")
