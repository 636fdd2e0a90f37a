"""The day's meals on a phone: the stall's (``/warung``) and the volunteer's (``/relawan/makan``),
and the two things done to a meal: confirm it (**Diantar** / **Gagal** with a reason) and attach a
photo. Plain forms and redirects without JavaScript; with it, ``static/app.js`` queues each
confirmation (offline too) and sends it here with its ``Idempotency-Key``, asking for JSON."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, current_app, flash, g, jsonify, redirect, render_template, request, url_for

from blueprints.idempotency import idempotent
from blueprints.pages import setup, wants_json
from service.deliveries import day_sheet, photos
from service.deliveries import service as deliveries
from service.deliveries.models import FAILURE_REASONS, OUTCOMES
from service.deliveries.scheduling import cutoff_at
from service.errors import Invalid
from service.i18n import _
from service.program.clock import today
from service.program.service import settings

meals = Blueprint("meals", __name__, template_folder="templates")
setup(meals)


def _day_page(template_back: str):
    day = today()
    sheet = day_sheet.sheet(day, g.caller)
    statement = None
    if g.caller.stall is not None:
        statement = deliveries.statement(g.caller.stall, day.replace(day=1), scope=g.caller)
    return render_template("meals_day.html", sheet=sheet, statement=statement, reasons=FAILURE_REASONS,
                           back=template_back, cutoff=_cutoff(day))


def _cutoff(day: dt.date) -> str:
    return f"{cutoff_at(day, settings()):%H:%M %Z}"  # 21:00 WIB


@meals.route("/warung")
def stall_day():
    """The stall's day: what to cook, then each person once in delivery order, with their meals."""
    return _day_page(url_for("meals.stall_day"))


@meals.route("/relawan/makan")
def volunteer_day():
    """The meals a volunteer brings today, as the stall's page shows a stall's."""
    return _day_page(url_for("meals.volunteer_day"))


def _after(delivery_id: int):
    """Back to the page the form was on (the stall's or the volunteer's), at the meal."""
    pages = (url_for("meals.stall_day"), url_for("meals.volunteer_day"))
    back = request.form.get("next_page")
    if back not in pages:
        back = pages[0] if g.caller.stall is not None else pages[1]
    return redirect(f"{back}#meal-{delivery_id}", code=303)


@meals.route("/makan/<int:delivery_id>", methods=["POST"])
@idempotent
def confirm(delivery_id: int):
    """Delivered, or failed with a reason (a code of ``FAILURE_REASONS``): the API's confirmation,
    applied once however often the phone sends it."""
    status = request.form.get("status", "")
    reason = request.form.get("reason") or None
    if status not in OUTCOMES:
        raise Invalid({"status": [_("Choose delivered or failed.")]})
    if status == "failed" and reason not in FAILURE_REASONS:
        raise Invalid({"reason": [_("Choose why the meal could not be delivered.")]})
    confirmed = deliveries.confirm(delivery_id, status, reason=reason if status == "failed" else None,
                                   scope=g.caller)
    if wants_json():
        return jsonify({"id": delivery_id, "status": confirmed.status})
    flash(_("Saved: delivered.") if status == "delivered" else _("Saved: not delivered."))
    return _after(delivery_id)


@meals.route("/makan/<int:delivery_id>/foto", methods=["POST"])
@idempotent
def photo(delivery_id: int):
    """A photo from the phone's camera, as evidence of a meal already confirmed."""
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        raise Invalid({"photo": [_("Choose a photo first.")]})
    data = upload.stream.read(current_app.config["PHOTO_MAX_BYTES"] + 1)
    photos.attach_photo(delivery_id, data, scope=g.caller)
    if wants_json():
        return jsonify({"id": delivery_id, "photo": True})
    flash(_("Photo saved."))
    return _after(delivery_id)
