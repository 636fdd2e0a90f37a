"""The service's app for bench/confirm_load.py, with one more endpoint: a bare read of one
delivery by primary key, no token, the yardstick for what a request costs on this machine."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Blueprint, jsonify  # noqa: E402

from blueprints import BLUEPRINTS, access, create_web_app  # noqa: E402
from service.deliveries.models import Delivery  # noqa: E402
from service.extensions import db  # noqa: E402

bare = Blueprint("bench", __name__)


@bare.get("/bench/deliveries/<int:delivery_id>")
def read_one(delivery_id: int):
    delivery = db.session.get(Delivery, delivery_id)
    return jsonify({"id": delivery.id, "status": delivery.status})


access.PERMISSIONS["bench.read_one"] = access.PUBLIC
app = create_web_app(blueprints=[*BLUEPRINTS, bare])
