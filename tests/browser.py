"""The pages in a real browser: Debian's Chromium driven by Playwright for Python (no browser is
downloaded: ``/usr/bin/chromium``, which ``make test`` and ``.ci/run`` install from Debian when it
is missing), against the app served on a local port from a database of its own (SQLite: the pages
call the service functions the rest of the suite checks on both engines).

``live_app`` starts the server; ``Phone`` is a phone-sized browser that records what a reviewer
checks on every page: console errors, requests to any other host, bytes transferred."""
from __future__ import annotations

import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
AXE = Path(__file__).parent / "js" / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 360, "height": 740}
# As the machine's own probe starts it: no connection to Google's hosts, no first-run work.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


class Server:
    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.thread.join(timeout=10)


@dataclass
class Watch:
    """What one page did: console errors, hosts it asked, bytes it received (encoded, as sent)."""

    origin: str
    errors: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    received: int = 0

    def attach(self, page):
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("request", self._request)
        page.on("requestfinished", self._finished)

    def _request(self, request):
        if not request.url.startswith((self.origin, "data:", "blob:")):
            self.foreign.append(request.url)

    def _finished(self, request):
        try:
            sizes = request.sizes()
        except Exception:  # noqa: BLE001 (a request served from a cache has no sizes)
            return
        self.received += sizes["responseBodySize"] + sizes["responseHeadersSize"]


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical findings on the page as it stands (WCAG 2.1 AA rules)."""
    page.evaluate(AXE.read_text())
    return page.evaluate("""() => axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']})
        .then(r => r.violations.filter(v => ['serious', 'critical'].includes(v.impact))
        .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', ')))""")


def small_targets(page) -> list[str]:
    """Buttons, fields and links styled as buttons smaller than 44 by 44 CSS pixels (a checkbox or a
    radio button counts by its label, which is what a thumb presses)."""
    return page.evaluate("""() => [...document.querySelectorAll('button, .button, select, input:not([type=hidden])')]
        .filter(e => e.offsetParent !== null)
        .map(e => ['checkbox', 'radio'].includes(e.type) && e.closest('label') ? e.closest('label') : e)
        .filter(e => { const r = e.getBoundingClientRect();
                       return r.height < 44 || (e.tagName === 'BUTTON' && r.width < 44); })
        .map(e => e.outerHTML.slice(0, 80))""")


def overflows_at_double_text(page) -> list[str] | None:
    """What makes the page scroll sideways with text at 200% (WCAG 1.4.4), or None."""
    page.evaluate("() => { document.documentElement.style.fontSize = '200%'; }")
    wide = page.evaluate("""() => document.documentElement.scrollWidth > window.innerWidth + 1 ?
        [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
        .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))
        .slice(0, 8) : null""")
    page.evaluate("() => { document.documentElement.style.fontSize = ''; }")
    return wide
