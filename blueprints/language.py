"""Which language a request reads: the signed-in user's choice (``PATCH /me``, or the pages'
language switch), else a signed-out visitor's choice on the pages (kept in their session), else
the browser's ``Accept-Language``, else the program's default (``LANGUAGE``)."""
from __future__ import annotations

from flask import current_app, g, has_request_context, request, session
from flask_babel import refresh

from service.i18n import LANGUAGES


def select_language() -> str:
    if not has_request_context():
        return current_app.config["LANGUAGE"]
    caller = g.get("caller")
    chosen = getattr(caller, "language", None) if caller is not None else None
    if chosen in LANGUAGES:
        return chosen
    if not request.path.startswith("/api/") and session.get("language") in LANGUAGES:
        return session["language"]
    return request.accept_languages.best_match(LANGUAGES) or current_app.config["LANGUAGE"]


def refresh_language() -> None:
    """Forget the language chosen before this request (``before_request``)."""
    refresh()
