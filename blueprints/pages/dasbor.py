"""The dashboard (``/dasbor``) of the program office and the agencies: today's figures with their
change from a week before, the 30 days' trend, the map, the targets, the uncovered by village,
complaints and volunteers waiting; each agency's own view; a village's figures and list; a month's
report for the Bupati that prints to PDF. Plain HTML and SVG drawn on the server: no script, no
tile server, no other host, so that an office on a slow link or none still reads it.

Each part is read with the service function its API route uses, and shown only to a caller that
route lets in (``may``): a role sees here what the API lets it see, no more. Every table has a
CSV export (``?unduh=<table>``) of what the table shows."""
from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, g, render_template, request

from blueprints.access import PUBLIC, allowed
from blueprints.deliveries import csv_response
from blueprints.pages import CONTENT_SECURITY_POLICY, setup
from blueprints.pages.public import CATEGORY_WORDS, STATUS_WORDS
from schemas.tasks import task_title as api_task_title
from service.accounts import service as accounts
from service.complaints import service as complaints
from service.complaints.models import OPEN
from service.dashboard import figures
from service.db import MAX_INT
from service.deliveries import coverage
from service.deliveries import service as deliveries
from service.deliveries.models import STATUSES as DELIVERY_STATUSES
from service.errors import Invalid, NotFound
from service.i18n import _, pgettext
from service.program import regions
from service.program.clock import today
from service.recipients import service as recipients
from service.targets import service as targets
from service.tasks import service as tasks
from service.vendors import service as vendors
from service.volunteers import service as volunteers

dasbor = Blueprint("dasbor", __name__, template_folder="templates")
setup(dasbor)

LIST_SIZE = 50  # rows of a list on a page; the CSV has them all (up to EXPORT_SIZE)
EXPORT_SIZE = 10_000


@dasbor.context_processor
def _narrowed() -> dict:
    """The one region staff of several narrowed the dashboard to (``?region=``, checked already:
    one not theirs answered 404), shown with the way back to all of theirs."""
    if not request.args.get("region"):
        return {"narrowed_to": None}
    shown = regions.visible()
    return {"narrowed_to": shown[0] if len(shown) == 1 else None}


def task_title(task) -> str:
    """A task's title on a page: the API's (``schemas.tasks.task_title``), else its type."""
    return api_task_title(task) or task.type


@dasbor.context_processor
def _helpers() -> dict:
    return {"task_title": task_title}


def may(endpoint: str) -> bool:
    """The caller may call the API route ``endpoint`` (the one permission table)."""
    rule = allowed(endpoint)
    return rule == PUBLIC or (rule is not None and g.caller is not None and g.caller.principal in rule)


# --- the map: the villages' own centres, on a plain background or a tile server's tiles -----------

MAP_WIDTH, MAP_HEIGHT, MAP_MARGIN, TILE = 640, 480, 16, 256
MAX_ZOOM = 17
# Stalls drawn at most: a province's 20,000 would be a solid blot on 640 pixels and a first load
# of megabytes. Beyond it the map draws the stalls the health agency must act on (certificate
# failed, lapsed or never given) and says how many certified ones it left out; a region's own map,
# or the health agency's list, has each.
MAX_STALL_MARKS = 5_000
ACT_ON_FIRST = {"failed": 0, "expired": 1, "none": 2}


def band(rate: float | None) -> str:
    """A village's colour on the map by today's coverage (the legend's bands)."""
    if rate is None:
        return "none"
    return "good" if rate >= 0.95 else "fair" if rate >= 0.8 else "poor"


def world_pixel(latitude: float, longitude: float, zoom: int) -> tuple[float, float]:
    """Web Mercator (EPSG:3857) pixel of a point at ``zoom``, as tile servers cut their tiles."""
    size = TILE * 2 ** zoom
    latitude = max(min(latitude, 85.05112878), -85.05112878)
    x = (longitude + 180.0) / 360.0 * size
    sin = math.sin(math.radians(latitude))
    y = (0.5 - math.log((1 + sin) / (1 - sin)) / (4 * math.pi)) * size
    return x, y


class Projection:
    """Longitude and latitude to the map's pixels: Web Mercator at the largest zoom at which every
    village fits the map, scaled to fill it and centred (a tile server's tiles, scaled alike, then
    lie exactly under the points)."""

    def __init__(self, points: Iterable[tuple[float, float]]):
        points = list(points) or [(0.0, 0.0)]
        self.zoom = MAX_ZOOM
        while self.zoom > 0:
            xs, ys = zip(*(world_pixel(lat, lon, self.zoom) for lat, lon in points), strict=True)
            if max(xs) - min(xs) <= MAP_WIDTH - 2 * MAP_MARGIN and max(ys) - min(ys) <= MAP_HEIGHT - 2 * MAP_MARGIN:
                break
            self.zoom -= 1
        xs, ys = zip(*(world_pixel(lat, lon, self.zoom) for lat, lon in points), strict=True)
        # scaled up (less than twice) to fill the map, as the next zoom would not hold them all
        width, height = max(max(xs) - min(xs), 1e-9), max(max(ys) - min(ys), 1e-9)
        self.fit = min((MAP_WIDTH - 2 * MAP_MARGIN) / width, (MAP_HEIGHT - 2 * MAP_MARGIN) / height, 2.0)
        # the map's top-left corner in world pixels at the zoom: the points' box in the middle
        self.left = (max(xs) + min(xs)) / 2 - MAP_WIDTH / 2 / self.fit
        self.top = (max(ys) + min(ys)) / 2 - MAP_HEIGHT / 2 / self.fit

    def __call__(self, latitude: float, longitude: float) -> tuple[float, float]:
        x, y = world_pixel(latitude, longitude, self.zoom)
        return round((x - self.left) * self.fit, 1), round((y - self.top) * self.fit, 1)

    def tiles(self, template: str) -> list[dict]:
        """The tiles under the map from ``template`` ({z}/{x}/{y}), each at its place and size on
        the map."""
        if not template:
            return []
        count = 2 ** self.zoom
        right, bottom = self.left + MAP_WIDTH / self.fit, self.top + MAP_HEIGHT / self.fit
        out = []
        for ty in range(max(int(self.top // TILE), 0), min(int(bottom // TILE), count - 1) + 1):
            for tx in range(int(self.left // TILE), int(right // TILE) + 1):
                url = template.replace("{z}", str(self.zoom)).replace("{x}", str(tx % count)).replace("{y}", str(ty))
                out.append({"url": url, "x": round((tx * TILE - self.left) * self.fit, 1),
                            "y": round((ty * TILE - self.top) * self.fit, 1), "size": round(TILE * self.fit, 1)})
        return out


HOST = re.compile(r"[A-Za-z0-9.-]+")


def tile_origin() -> str | None:
    """The tile server's origin (``https://host:port``) for the pages' policy, when a tile URL is
    set and names a plain host (no user or password, no ``{s}`` of several hosts); else None, and
    no tiles are drawn."""
    parts = urlsplit(current_app.config.get("MAP_TILE_URL") or "")
    try:
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or parts.username or parts.password or not parts.hostname \
            or not HOST.fullmatch(parts.hostname):
        return None
    return f"{parts.scheme}://{parts.hostname}" + (f":{port}" if port else "")


def map_of(by_village: Sequence[coverage.VillageCoverage], stalls: Sequence[figures.Point] | None) -> dict:
    places = figures.villages()
    counted = {v.village_id: v for v in by_village}
    project = Projection([(lat, lon) for _, lat, lon in places.values()])
    villages = []
    for village_id, (name, lat, lon) in sorted(places.items(), key=lambda item: item[1][0]):
        counts = counted[village_id].counts if village_id in counted else coverage.Counts()
        x, y = project(lat, lon)
        villages.append({"id": village_id, "name": name, "x": x, "y": y, "counts": counts,
                         "band": band(counts.coverage_rate)})
    stalls = list(stalls or ())
    drawn = stalls if len(stalls) <= MAX_STALL_MARKS else sorted(
        (s for s in stalls if s.status != "valid"), key=lambda s: ACT_ON_FIRST.get(s.status, 0))[:MAX_STALL_MARKS]
    markers = []
    for stall in drawn:
        x, y = project(stall.latitude, stall.longitude)
        markers.append({"id": stall.id, "name": stall.name, "status": stall.status, "x": round(x - 3, 1),
                        "y": round(y - 3, 1)})  # a 6-pixel square centred on the stall
    tiles = project.tiles(current_app.config.get("MAP_TILE_URL", "")) if tile_origin() else []
    return {"width": MAP_WIDTH, "height": MAP_HEIGHT, "villages": villages, "stalls": markers, "tiles": tiles,
            "stalls_left_out": len(stalls) - len(markers),
            "attribution": current_app.config.get("MAP_TILE_ATTRIBUTION", "") if tiles else ""}


@dasbor.after_request
def _tiles_allowed(response):
    """With a tile server set, its host may serve the dashboard's images (and nothing else may)."""
    origin = tile_origin()
    if origin and response.mimetype == "text/html":
        policy = response.headers.get("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers["Content-Security-Policy"] = policy.replace("img-src 'self'", f"img-src 'self' {origin}", 1)
    return response


# --- the trend: two lines over 30 days -------------------------------------------------------------

CHART_WIDTH, CHART_HEIGHT, CHART_LEFT, CHART_BOTTOM = 640, 200, 36, 20


def chart_of(days: Sequence[coverage.TrendDay]) -> dict:
    """The 30 days' coverage and delivery rates as SVG points (0 to 100%), with each day's values."""
    step = (CHART_WIDTH - CHART_LEFT - 8) / max(len(days) - 1, 1)
    plot = CHART_HEIGHT - CHART_BOTTOM - 8

    def points(values):
        return [(round(CHART_LEFT + i * step, 1), round(8 + plot * (1 - v), 1), v)
                for i, v in enumerate(values) if v is not None]

    def line(values):
        return " ".join(f"{x},{y}" for x, y, _ in points(values))

    # The lines join the closed days; today, still filling (at dawn nothing is delivered yet), is
    # a hollow dot of its own, not a dive of the line to 0%.
    coverage_rates = [d.counts.coverage_rate if d.closed else None for d in days]
    delivery_rates = [d.counts.delivery_rate if d.closed else None for d in days]
    open_coverage = [d.counts.coverage_rate if not d.closed else None for d in days]
    open_delivery = [d.counts.delivery_rate if not d.closed else None for d in days]
    return {"width": CHART_WIDTH, "height": CHART_HEIGHT, "left": CHART_LEFT, "top": 8, "bottom": 8 + plot,
            "coverage": line(coverage_rates), "delivery": line(delivery_rates),
            "dots": [("coverage", *p) for p in points(coverage_rates)]
            + [("delivery", *p) for p in points(delivery_rates)]
            + [("coverage open", *p) for p in points(open_coverage)]
            + [("delivery open", *p) for p in points(open_delivery)],
            "grid": [(f"{p}%", round(8 + plot * (1 - p / 100), 1)) for p in (0, 50, 100)],
            "first": days[0].date if days else None, "last": days[-1].date if days else None,
            "today_open": bool(days) and not days[-1].closed}


# --- CSV ------------------------------------------------------------------------------------------

def _columns() -> dict[str, str]:
    """The dashboard's own column codes in the reader's language (snake_case words, as the API's
    exports write theirs; English keeps the codes). Said now, not at import: the reader's language."""
    return {
        "category": pgettext("csv", "category"), "change": pgettext("csv", "change"),
        "change_to": pgettext("csv", "change_to"), "code": pgettext("csv", "code"),
        "created_at": pgettext("csv", "created_at"), "current_value": pgettext("csv", "current_value"),
        "delivery_id": pgettext("csv", "delivery_id"), "district": pgettext("csv", "district"),
        "due_date": pgettext("csv", "due_date"), "id": pgettext("csv", "id"),
        "indicator": pgettext("csv", "indicator"), "meal": pgettext("csv", "meal"), "name": pgettext("csv", "name"),
        "overdue": pgettext("csv", "overdue"), "owner": pgettext("csv", "owner"),
        "recipient_id": pgettext("csv", "recipient_id"), "region": pgettext("csv", "region"),
        "region_code": pgettext("csv", "region_code"), "respond_by": pgettext("csv", "respond_by"),
        "signed_by": pgettext("csv", "signed_by"), "skills": pgettext("csv", "skills"),
        "status": pgettext("csv", "status"), "threshold": pgettext("csv", "threshold"),
        "title": pgettext("csv", "title"), "type": pgettext("csv", "type"), "value": pgettext("csv", "value"),
        "vendor_id": pgettext("csv", "vendor_id"), "village": pgettext("csv", "village"),
        "village_id": pgettext("csv", "village_id"), "volunteer_id": pgettext("csv", "volunteer_id"),
        "agency_id": pgettext("csv", "agency_id"), "due": pgettext("csv", "due"),
        "hygiene_status": pgettext("csv", "hygiene_status"), "school": pgettext("csv", "school"),
        "stalls": pgettext("csv", "stalls"), "valid_until": pgettext("csv", "valid_until"),
    }


def _export(name: str, header: Sequence[str], rows: Iterable[Sequence]):
    """A table as CSV; its header in the reader's language (the API's words for the API's columns,
    which ``csv_response`` says)."""
    words = _columns()
    return csv_response([words.get(column, column) for column in header], rows, f"{name}-{today().isoformat()}.csv")


def _wanted(tables: Iterable[str]) -> str | None:
    """The table asked for as CSV (``?unduh=``), if any; one this page has not is a 404."""
    name = request.args.get("unduh")
    if name is None:
        return None
    if name not in tables:
        abort(404)
    return name


def _rate(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


# --- the overview ---------------------------------------------------------------------------------

def _open_complaints(size: int):
    """Open complaints the caller answers for (all, for the program office), overdue first, then by
    deadline (the API lists them by deadline)."""
    found = complaints.list_complaints(1, size, status=list(OPEN), scope=g.caller)
    found.items.sort(key=lambda c: (not c.overdue, c.respond_by, c.id))
    return found


def _waiting_volunteers(size: int):
    return volunteers.list_volunteers(1, size, status="pending", scope=g.caller)


def _targets():
    return [t for t in targets.list_targets(1, 100).items if t.status != "draft"]


@dasbor.route("/dasbor")
def overview():
    """Every eligible elderly person fed today and visited this month? The day's figures, the
    rates, the trend, the map, the targets, who is not reached, and what is waiting."""
    tables = ["capaian", "desa", "tren"] + (["target"] if may("tasks.list_targets") else []) \
        + (["pengaduan"] if may("complaints.list_complaints") else []) \
        + (["relawan"] if may("volunteers.list_volunteers") else []) \
        + (["wilayah"] if len(regions.visible()) > 1 else [])
    wanted = _wanted(tables)
    now = figures.today_figures()
    villages = sorted(now.by_village, key=lambda v: (-v.counts.uncovered, v.village))
    if wanted == "desa":
        return _export("cakupan-desa", ("village_id", "village", "district", "eligible", "covered", "uncovered",
                                        "delivered", "failed", "missed", "coverage_rate"),
                       ((v.village_id, v.village, v.district or "", v.counts.eligible, v.counts.covered,
                         v.counts.uncovered, v.counts.delivered, v.counts.failed, v.counts.missed,
                         _rate(v.counts.coverage_rate)) for v in villages))
    if wanted == "capaian":
        return _export("capaian", ("indicator", "value", "date", "change", "change_to"),
                       ((f.indicator, _rate(f.value), f.on.isoformat(), _rate(f.change), f.change_to.isoformat())
                        for f in now.rates))
    if wanted == "tren":
        return _export("tren", ("date", "closed", "eligible", "covered", "scheduled", "delivered", "failed",
                                "missed", "coverage_rate", "delivery_rate"),
                       ((d.date.isoformat(), d.closed, d.counts.eligible, d.counts.covered, d.counts.scheduled,
                         d.counts.delivered, d.counts.failed, d.counts.missed, _rate(d.counts.coverage_rate),
                         _rate(d.counts.delivery_rate)) for d in now.trend))
    shown_targets = _targets() if "target" in tables else None
    if wanted == "target":
        return _export("target", ("id", "title", "indicator", "threshold", "due_date", "current_value", "status",
                                  "owner", "signed_by"),
                       ((t.id, t.title, t.indicator, t.threshold, t.due_date.isoformat(), _rate(t.current_value),
                         t.status, t.owner_agency.name, "; ".join(s.agency.name for s in t.signed_by))
                        for t in shown_targets))
    if wanted == "pengaduan":
        found = _open_complaints(EXPORT_SIZE).items
        return _export("pengaduan", ("code", "category", "status", "respond_by", "overdue", "village_id"),
                       ((c.code, c.category, c.status, c.respond_by.isoformat(), c.overdue, c.village_id or "")
                        for c in found))
    if wanted == "relawan":
        found = _waiting_volunteers(EXPORT_SIZE).items
        return _export("relawan", ("id", "name", "village_id", "skills", "created_at"),
                       ((v.id, v.name, v.village_id, " ".join(v.skills or ()), v.created_at.date().isoformat())
                        for v in found))
    ranking = _ranking(now) if "wilayah" in tables else None
    if wanted == "wilayah":
        return _export("wilayah", ("region_code", "region", "eligible", "covered", "uncovered", "delivered",
                                   "coverage_rate", "delivery_rate"),
                       ((r["code"], r["name"], r["counts"].eligible, r["counts"].covered, r["counts"].uncovered,
                         r["counts"].delivered, _rate(r["counts"].coverage_rate), _rate(r["counts"].delivery_rate))
                        for r in ranking))
    complaint_page = _open_complaints(LIST_SIZE) if "pengaduan" in tables else None
    return render_template(
        "dasbor_overview.html", now=now, villages=[v for v in villages if v.counts.uncovered][:LIST_SIZE],
        chart=chart_of(now.trend),
        map=map_of(now.by_village, figures.stalls(now.day) if may("vendors.list_vendors") else None),
        targets=shown_targets, complaints=complaint_page,
        volunteers=_waiting_volunteers(LIST_SIZE) if "relawan" in tables else None,
        ranking=ranking, category_words=CATEGORY_WORDS, status_words=STATUS_WORDS)


def _ranking(now: figures.Today) -> list[dict]:
    """Each region the caller reaches with today's counts (zeros where nothing is counted yet),
    the best coverage first."""
    counted = {part.region_code: part.counts for part in now.by_region}
    rows = [{"code": r.code, "name": r.name, "counts": counted.get(r.code, coverage.Counts())}
            for r in regions.visible()]
    rows.sort(key=lambda r: (-(r["counts"].coverage_rate or 0), r["code"]))
    return rows


# --- a village: its figures and who is behind them -------------------------------------------------

@dasbor.route("/dasbor/desa/<int:village_id>")
def village(village_id: int):
    """A village's figures today and, for registry staff, the enrolled and verified it does not
    reach (as ``GET /recipients/uncovered?village_id=``): by name and id, no address, NIK or
    phone (a page shows those only to whoever brings the meal; the API's record has them)."""
    names = figures.villages()
    if village_id not in names:
        raise NotFound("area", village_id)
    reads_list = may("recipients.list_uncovered")
    wanted = _wanted(["belum"] if reads_list else [])
    day = coverage.day_coverage(today())
    counts = next((v.counts for v in day.by_village if v.village_id == village_id), coverage.Counts())
    if wanted == "belum":
        found = recipients.list_uncovered(1, EXPORT_SIZE, village_id=village_id).items
        return _export(f"belum-terjangkau-{village_id}", ("id", "name", "status"),
                       ((r.id, r.name, r.status) for r in found))
    uncovered = recipients.list_uncovered(1, LIST_SIZE, village_id=village_id) if reads_list else None
    return render_template("dasbor_village.html", village_id=village_id, name=names[village_id][0], counts=counts,
                           day=day.date, uncovered=uncovered)


# --- a stall: the meals it did not bring -------------------------------------------------------------

STALL_STATUSES = ("missed", "failed")


@dasbor.route("/dasbor/warung/<int:vendor_id>")
def stall(vendor_id: int):
    """A stall's hygiene and the meals it did not bring (missed at the cut-off, or failed), newest
    first, as ``GET /deliveries?vendor_id=&status=`` lists them: by day, meal and recipient id."""
    shown = vendors.get_vendor(vendor_id, g.caller)  # another region's stall: 404, as a missing one
    status = request.args.get("status", "missed")
    if status not in STALL_STATUSES:
        abort(404)
    wanted = _wanted(["makan"])
    found = deliveries.list_deliveries(1, EXPORT_SIZE if wanted else LIST_SIZE, vendor_id=vendor_id, status=status,
                                       scope=g.caller)
    if wanted == "makan":
        return _export(f"warung-{vendor_id}-{status}", ("date", "meal", "status", "delivery_id", "village_id"),
                       ((d.date.isoformat(), d.meal, d.status, d.id, d.village_id) for d in found.items))
    return render_template("dasbor_stall.html", stall=shown, meals=found, status=status, statuses=STALL_STATUSES)


# --- meals: the list behind the meal counts -----------------------------------------------------------

MEAL_FILTERS = ("date", "status", "village_id", "vendor_id")


def _meal_filters() -> dict:
    """``GET /deliveries``' filters from the query (a day, a status, a village, a stall); a value
    that is none of them is a 422 that says which."""
    args, found, errors = request.args, {}, {}
    if args.get("date"):
        try:
            found["date"] = dt.date.fromisoformat(args["date"])
        except ValueError:
            errors["date"] = [_("Write the day as YYYY-MM-DD, such as 2026-12-05.")]
    if args.get("status"):
        if args["status"] not in DELIVERY_STATUSES:
            errors["status"] = [_("Choose one from the list.")]
        found["status"] = args["status"]
    for name in ("village_id", "vendor_id"):
        value = args.get(name)
        if value:
            if not value.isascii() or not value.isdigit() or not 1 <= int(value[:12]) <= MAX_INT:
                errors[name] = [_("Choose one from the list.")]
            else:
                found[name] = int(value)
    if errors:
        raise Invalid(errors)
    return found


@dasbor.route("/dasbor/makan")
def meals():
    """The meals behind a count (today's failed, a village's missed, a stall's pending), newest
    day first, as ``GET /deliveries`` lists them with the same filters (``date``, ``status``,
    ``village_id``, ``vendor_id``): by day, meal, status, village and stall, and the recipient's id
    for registry staff; with CSV."""
    filters = _meal_filters()
    wanted = _wanted(["makan"])
    found = deliveries.list_deliveries(1, EXPORT_SIZE if wanted else LIST_SIZE, scope=g.caller, **filters)
    if wanted:
        return _export("makan", ("date", "meal", "status", "delivery_id", "village_id", "vendor_id", "volunteer_id"),
                       ((d.date.isoformat(), d.meal, d.status, d.id, d.village_id, d.vendor_id or "",
                         d.volunteer_id or "") for d in found.items))
    names = figures.villages()
    return render_template("dasbor_meals.html", meals=found, filters=filters, villages=names,
                           statuses=DELIVERY_STATUSES)


# --- an agency's own view ---------------------------------------------------------------------------

@dasbor.route("/dasbor/dinas")
def agency():
    """An agency's own work: its tasks (overdue first), its performance over 30 days, the targets
    it owns and signed; then what its kind of work needs (health: stalls by hygiene and
    certificates about to lapse; social: candidates, flagged recipients, volunteers to vet;
    education: the school visits due, by school). The program office chooses the agency."""
    agency_id = g.caller.agency
    if agency_id is None:
        chosen = request.args.get("agency_id")
        if not chosen:
            return render_template("dasbor_agencies.html", agencies=accounts.list_agencies(1, 500).items)
        if not chosen.isascii() or not chosen.isdigit() or len(chosen) > 18:
            raise Invalid({"agency_id": [_("Choose an agency.")]})
        agency_id = int(chosen)
        if not 1 <= agency_id <= MAX_INT:  # no such id, as the API's paths answer (never a 500)
            abort(404)
    performance = targets.agency_performance(agency_id, scope=g.caller)  # another's agency: 404
    kind = performance.kind
    vets = kind == "social" and may("volunteers.list_volunteers")
    tables = ["tugas", "target-milik", "target-tanda"] + {
        "health": ["higiene", "sertifikat"], "social": ["calon", "ditandai"] + (["relawan"] if vets else []),
        "education": ["sekolah"]}.get(kind, [])
    wanted = _wanted(tables)
    size = EXPORT_SIZE if wanted else LIST_SIZE
    open_tasks = tasks.list_tasks(1, size, agency_id=agency_id, status="open", scope=g.caller)
    rows = sorted(open_tasks.items, key=lambda t: (not t.overdue, t.due_date, t.id))
    signed = targets.list_targets(1, 100, signatory_agency_id=agency_id).items
    context = {"performance": performance, "tasks": rows, "task_total": open_tasks.total, "signed": signed,
               "kind": kind}
    if kind == "health":
        context.update(hygiene=figures.stalls_by_hygiene(), expiring=figures.expiring())
    if kind == "social":
        context.update(candidates=recipients.list_recipients(1, size, status=["candidate"]),
                       flagged=recipients.list_recipients(1, size, flagged=True),
                       volunteers=_waiting_volunteers(size) if vets else None)
    if kind == "education":
        context.update(schools=figures.visits_due_by_school(agency_id))
    if wanted:
        return _agency_export(wanted, context)
    return render_template("dasbor_agency.html", **context)


def _target_rows(items) -> Iterable[Sequence]:
    return ((t.id, t.title, t.indicator, t.threshold, t.due_date.isoformat(), _rate(t.current_value), t.status)
            for t in items)


TARGET_COLUMNS = ("id", "title", "indicator", "threshold", "due_date", "current_value", "status")


def _agency_export(name: str, context: dict):
    """One of an agency view's tables as CSV: what the table shows, every row."""
    people = ("id", "name", "status", "village_id")
    if name == "tugas":
        return _export("tugas", ("id", "type", "title", "due_date", "overdue", "recipient_id", "vendor_id"),
                       ((t.id, t.type, task_title(t), t.due_date.isoformat(), t.overdue, t.recipient_id or "",
                         t.vendor_id or "") for t in context["tasks"]))
    if name == "target-milik":
        return _export(name, TARGET_COLUMNS, _target_rows(context["performance"].targets))
    if name == "target-tanda":
        return _export(name, TARGET_COLUMNS, _target_rows(context["signed"]))
    if name == "higiene":
        return _export(name, ("hygiene_status", "stalls"), context["hygiene"].items())
    if name == "sertifikat":
        return _export(name, ("vendor_id", "name", "valid_until"),
                       ((v.id, v.name, v.hygiene_valid_until.isoformat()) for v in context["expiring"]))
    if name in ("calon", "ditandai"):
        found = context["candidates" if name == "calon" else "flagged"].items
        return _export(name, people, ((r.id, r.name, r.status, r.village_id) for r in found))
    if name == "relawan":
        return _export(name, ("id", "name", "village_id", "created_at"),
                       ((v.id, v.name, v.village_id, v.created_at.date().isoformat())
                        for v in context["volunteers"].items))
    return _export(name, ("agency_id", "school", "due", "overdue"),
                   ((v.agency_id, v.school, v.due, v.overdue) for v in context["schools"]))


# --- the month's report -------------------------------------------------------------------------------

def _month(value: str | None) -> dt.date:
    """``2026-11``: its first day; the month before this one by default; the current month at most."""
    first_of_this = today().replace(day=1)
    if not value:
        return (first_of_this - dt.timedelta(days=1)).replace(day=1)
    try:
        first = dt.date.fromisoformat(f"{value}-01")
    except ValueError:
        raise Invalid({"bulan": [_("Write the month as YYYY-MM, such as 2026-11.")]}) from None
    if first > first_of_this or first.year < 2000:
        raise Invalid({"bulan": [_("Choose a month from 2000 up to this one.")]})
    return first


@dasbor.route("/dasbor/laporan")
def report():
    """The month's report for the Bupati: the month's days in figures, its averages, the targets
    as they stand, and the complaints; made to print cleanly to PDF from the browser."""
    first = _month(request.args.get("bulan"))
    last = min((first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1), today())
    days = coverage.trend(first, last)
    shown_targets = _targets() if may("tasks.list_targets") else None
    wanted = _wanted(["hari"] + (["target"] if shown_targets is not None else []))
    if wanted == "target":
        return _export(f"laporan-{first:%Y-%m}-target", TARGET_COLUMNS, _target_rows(shown_targets))
    if wanted == "hari":
        return _export(f"laporan-{first:%Y-%m}", ("date", "eligible", "covered", "scheduled", "delivered",
                                                   "failed", "missed", "coverage_rate", "delivery_rate"),
                       ((d.date.isoformat(), d.counts.eligible, d.counts.covered, d.counts.scheduled,
                         d.counts.delivered, d.counts.failed, d.counts.missed, _rate(d.counts.coverage_rate),
                         _rate(d.counts.delivery_rate)) for d in days))
    month = coverage.Counts.total(d.counts for d in days)
    rates = [d.counts.coverage_rate for d in days if d.counts.coverage_rate is not None]
    on_time = complaints.on_time_counts(first, last)
    return render_template("dasbor_report.html", first=first, last=last, days=days, month=month,
                           average=sum(rates) / len(rates) if rates else None, on_time=on_time,
                           targets=shown_targets, regions=regions.visible())
