"""The pages' CSS and JavaScript, served by the app with a content hash in their names
(``app.3f2a9c1e.css``) and cached for a year: a repeat visit asks for none of them again, and a
changed file has a new name. No CDN, no web font, no framework."""
from __future__ import annotations

import hashlib
import mimetypes
from pathlib import Path

from flask import Response, abort, url_for

FOLDER = Path(__file__).parent / "static"
YEAR = 365 * 24 * 3600


def _hashed() -> tuple[dict[str, str], dict[str, str]]:
    by_name, by_hashed = {}, {}
    for path in sorted(FOLDER.iterdir()):
        if path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
            hashed = f"{path.stem}.{digest}{path.suffix}"
            by_name[path.name], by_hashed[hashed] = hashed, path.name
    return by_name, by_hashed


NAMES, FILES = _hashed()


def asset_url(name: str) -> str:
    """The URL of a static file under its hashed name (templates: ``asset('app.css')``)."""
    return url_for("pages.asset", hashed=NAMES[name])


def serve(hashed: str) -> Response:
    name = FILES.get(hashed)
    if name is None:
        abort(404)
    path = FOLDER / name
    mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if mimetype == "text/javascript":
        mimetype = "application/javascript"
    response = Response(path.read_bytes(), mimetype=mimetype)
    response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    return response
