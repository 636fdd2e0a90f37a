from flask import g

from blueprints.extensions import Blueprint
from blueprints.requests import if_match, versioned
from schemas.common import page_of
from schemas.vendors import (
    InspectionArgs,
    InspectionIn,
    InspectionOut,
    InspectionRecordedOut,
    RebalanceOut,
    VendorArgs,
    VendorIn,
    VendorOut,
    VendorPatch,
)
from service.assignments import rebalance as rebalancing
from service.extensions import db
from service.vendors import service

blp = Blueprint("vendors", __name__, url_prefix="/api/v1",
                description="Partner food stalls, their hygiene inspections, and who they feed.")


@blp.route("/vendors", methods=["POST"])
@blp.arguments(VendorIn())
@blp.response(201, VendorOut)
def create_vendor(data):
    """Register a partner stall. It may cook once the health agency has passed its hygiene."""
    vendor = service.register_vendor(**data)
    db.session.commit()
    return vendor


@blp.route("/vendors", methods=["GET"])
@blp.arguments(VendorArgs(), location="query")
@blp.response(200, page_of(VendorOut))
def list_vendors(args):
    """Stalls by id, or nearest first with `lat`, `lon` and `radius_km`. A stall sees only itself."""
    return service.list_vendors(**args, scope=g.caller)


@blp.route("/vendors/<int:vendor_id>", methods=["GET"])
@blp.response(200, VendorOut)
def get_vendor(vendor_id):
    return versioned(service.get_vendor(vendor_id, g.caller))


@blp.route("/vendors/<int:vendor_id>", methods=["PATCH"])
@blp.arguments(VendorPatch(partial=True))
@blp.response(200, VendorOut)
@blp.alt_response(412, description="`If-Match` is not the current version.")
def update_vendor(changes, vendor_id):
    """Edit a stall; send `If-Match: <version>`. Suspending or closing it, lowering its capacity or
    moving its kitchen moves its recipients to other stalls in the same transaction (see the
    audit trail); reactivating it or raising its capacity takes in uncovered recipients nearby.
    A stall may edit itself, but not its status."""
    vendor = service.update_vendor(vendor_id, changes, expected_version=if_match(), scope=g.caller)
    db.session.commit()
    return versioned(vendor)


@blp.route("/vendors/<int:vendor_id>/inspections", methods=["POST"])
@blp.arguments(InspectionIn())
@blp.response(201, InspectionRecordedOut)
def record_inspection(data, vendor_id):
    """Record a hygiene or nutrition inspection (kept as history, never edited).

    The latest hygiene inspection by date decides: passed, the stall may cook until
    `inspected_on + hygiene_validity_days`; failed, it may not cook from now on and its recipients
    move to other stalls in this transaction (the answer counts them). An inspection dated before
    the latest one is kept as history and changes nothing.
    """
    inspection = service.record_inspection(vendor_id, **data, scope=g.caller)
    db.session.commit()
    return inspection


@blp.route("/vendors/<int:vendor_id>/inspections", methods=["GET"])
@blp.arguments(InspectionArgs(), location="query")
@blp.response(200, page_of(InspectionOut))
def list_inspections(args, vendor_id):
    """A stall's inspection history, newest first."""
    return service.list_inspections(vendor_id, **args, scope=g.caller)


@blp.route("/assignments/rebalance", methods=["POST"])
@blp.response(200, RebalanceOut)
def rebalance():
    """Place every enrolled recipient again, optimally: as many covered as possible, nobody who
    has a stall losing it, the least total distance, nobody farther than `max_vendor_distance_km`.
    Every change is in the audit trail (`entity=assignment`, `entity_id=<recipient id>`)."""
    report = rebalancing.rebalance()
    db.session.commit()
    return report
