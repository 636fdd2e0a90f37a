import datetime as dt

from flask import g

from blueprints.extensions import Blueprint
from blueprints.requests import if_match, versioned
from schemas.common import page_of
from schemas.program import (
    AreaArgs,
    AreaIn,
    AreaOut,
    LeaveDayArgs,
    LeaveDayIn,
    LeaveDayOut,
    ProgramOut,
    ProgramPatch,
    RegionOut,
    RegionPatch,
)
from service.errors import NotFound
from service.extensions import db
from service.program import calendar, regions, service

blp = Blueprint("program", __name__, url_prefix="/api/v1", description="Program settings and areas.")


@blp.route("/program", methods=["GET"])
@blp.response(200, ProgramOut)
def get_program():
    """The program's settings."""
    return versioned(service.get_program())


@blp.route("/program", methods=["PATCH"])
@blp.arguments(ProgramPatch())
@blp.response(200, ProgramOut)
@blp.alt_response(412, description="`If-Match` is not the current version.")
def update_program(changes):
    """Change settings; send `If-Match: <version>` to avoid overwriting someone else's change."""
    program = service.update_program(changes, expected_version=if_match())
    db.session.commit()
    return versioned(program)


@blp.route("/regions", methods=["GET"])
@blp.response(200, RegionOut(many=True))
def list_regions():
    """The regions (regencies and cities) the caller works in or coordinates, by code; for the
    public, every region the program runs in (to choose a region's door: `?region=`)."""
    return regions.visible(everywhere=g.caller is None)


@blp.route("/regions/<region_code>", methods=["PATCH"])
@blp.arguments(RegionPatch())
@blp.response(200, RegionOut)
@blp.alt_response(404, description="No such region, or one the caller does not coordinate.")
@blp.alt_response(412, description="`If-Match` is not the current version.")
def update_region(changes, region_code):
    """Change a region's name or its own settings (meal price, evening scheduling time, cut-off,
    inspections' pass mark; null: the program's again), as its coordinator or staff who coordinate
    it; send `If-Match: <version>`. A new price holds from the region's today; the job runner moves
    the region's evening jobs to new times within a minute."""
    region = service.update_region(region_code, changes, expected_version=if_match())
    db.session.commit()
    return versioned(region)


@blp.route("/areas", methods=["GET"])
@blp.arguments(AreaArgs(), location="query")
@blp.response(200, page_of(AreaOut))
def list_areas(args):
    """Districts and villages, with their centres."""
    return service.list_areas(**args)


@blp.route("/areas/<int:area_id>", methods=["GET"])
@blp.response(200, AreaOut)
def get_area(area_id):
    return service.get_area(area_id)


@blp.route("/areas", methods=["POST"])
@blp.arguments(AreaIn())
@blp.response(201, AreaOut)
def create_area(data):
    """Add a district, or a village inside a district."""
    area = service.create_area(**data)
    db.session.commit()
    return area


@blp.route("/program/leave-days", methods=["GET"])
@blp.arguments(LeaveDayArgs(), location="query")
@blp.response(200, LeaveDayOut(many=True))
def list_leave_days(args):
    """The collective leave days (*cuti bersama*) of a year: no working days, beside the weekends and
    Indonesia's public holidays, for the deadlines of complaints."""
    return calendar.leave_days(args["year"])


@blp.route("/program/leave-days", methods=["POST"])
@blp.arguments(LeaveDayIn())
@blp.response(201, LeaveDayOut)
@blp.alt_response(409, description="The day is a leave day already.")
def add_leave_day(data):
    """Declare a collective leave day: deadlines given from now on skip it (those given stand)."""
    day = calendar.add_leave_day(data["date"], data["name"])
    db.session.commit()
    return day


@blp.route("/program/leave-days/<day>", methods=["DELETE"])
@blp.response(204)
def remove_leave_day(day):
    """Take a leave day back."""
    calendar.remove_leave_day(_date(day))
    db.session.commit()


def _date(text: str) -> dt.date:
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
    except ValueError:
        pass
    raise NotFound("leave day", text[:30])
