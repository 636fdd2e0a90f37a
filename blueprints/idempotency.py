"""``Idempotency-Key``: a phone's retry of a write gets the first answer, and the write happens once."""
from __future__ import annotations

import functools
import hashlib
import json

from flask import current_app, g, request
from marshmallow import missing

from blueprints.requests import MalformedBody, request_json
from service.errors import DomainError, Invalid
from service.extensions import db
from service.i18n import _l
from service.idempotency import service as idempotency
from service.text import unstorable


def _replay(stored):
    response = current_app.response_class(stored.body, status=stored.status, content_type=stored.content_type)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _fingerprint() -> str:
    """What makes two requests "the same": method, path, query and body, the body canonicalised (JSON key
    order, a multipart boundary) so that a phone's retry matches its first attempt."""
    query = request.query_string.decode("latin-1")  # ?dry_run=true is another request
    digest = hashlib.sha256(f"{request.method} {request.path}{'?' + query if query else ''}\n".encode())
    if request.mimetype == "multipart/form-data":  # not request.files: that parses any body as a form
        for name, upload in sorted(request.files.items(multi=True), key=lambda item: item[0]):
            content = upload.stream.read()
            upload.stream.seek(0)
            digest.update(f"file {name} {hashlib.sha256(content).hexdigest()}\n".encode())
        digest.update(json.dumps(sorted(request.form.items(multi=True))).encode())
    elif request.is_json and (body := _json_or_none()) is not None:
        digest.update(json.dumps(body, sort_keys=True, separators=(",", ":")).encode())
    else:
        digest.update(request.get_data())
    return digest.hexdigest()


def _json_or_none():
    try:
        body = request_json()
    except MalformedBody:
        return None
    return None if body is missing else body


def idempotent(view):
    """Honour ``Idempotency-Key`` on a write, and commit the request's transaction.

    Views under this decorator do not commit themselves: the first successful answer is stored in
    the same transaction as the write it answers, so a retry can never see the write without the
    answer, nor the answer without the write. The usual request (a new key) costs one INSERT: the
    write is done first, and only if the key turns out to be taken (a retry, or a key reused for
    another request) is it rolled back and the stored answer replayed, or a 409 given.
    """

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            response = view(*args, **kwargs)
            db.session.commit()
            return response
        key = key.strip()
        if not 0 < len(key) <= 255:
            raise Invalid({"Idempotency-Key": [_l("must be 1 to 255 characters")]})
        if error := unstorable(key):
            raise Invalid({"Idempotency-Key": [error]})
        fingerprint = _fingerprint()
        user_id = g.caller.user_id
        try:
            response = view(*args, **kwargs)
        except DomainError:  # the retry of a success may fail now (after the cut-off): replay it
            db.session.rollback()
            stored = idempotency.find(user_id, key, fingerprint)
            if stored is None:
                raise
            return _replay(stored)
        if 200 <= response.status_code < 300 and not idempotency.store(
                user_id, key, fingerprint, response.status_code, response.content_type,
                response.get_data(as_text=True)):
            db.session.rollback()
            return _replay(idempotency.find(user_id, key, fingerprint))
        db.session.commit()
        return response

    wrapper._idempotent = True  # PermissionsPlugin documents the header (a manual "parameters" doc
    # would replace the query arguments' instead of adding to them)
    return wrapper
