"""The headers every answer carries, whatever it is."""
from __future__ import annotations

from flask import Blueprint, current_app, request

headers = Blueprint("headers", __name__)

# The only HTML is the docs page: its scripts and styles come from this origin, and nothing else.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
                           "frame-ancestors 'none'")
HSTS = "max-age=31536000; includeSubDomains"


@headers.after_app_request
def protect(response):
    """Headers every answer carries: no content sniffing, no referrer; no caching of any answer
    that did not say it may be cached (most carry personal data or a token); a strict policy on
    HTML; HSTS in production (behind TLS). The API's words are in the reader's language
    (blueprints/language.py): a cache keeps one answer per Accept-Language."""
    sent = response.headers
    if request.path.startswith("/api/"):
        response.vary.add("Accept-Language")
    sent.setdefault("X-Content-Type-Options", "nosniff")
    sent.setdefault("Referrer-Policy", "no-referrer")
    sent.setdefault("Cache-Control", "no-store")
    if response.mimetype == "text/html":
        sent.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        sent.setdefault("X-Frame-Options", "DENY")
    if current_app.config["ENV"] == "production":
        sent.setdefault("Strict-Transport-Security", HSTS)
    return response
