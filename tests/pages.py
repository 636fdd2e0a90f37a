"""Helpers for the pages' tests: read a page as a browser without JavaScript does (its forms' CSRF
token, its elements), and sign in with the pages' form."""
from __future__ import annotations

import re
from html.parser import HTMLParser

ID = {"Accept-Language": "id"}
EN = {"Accept-Language": "en"}


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(client, login: str, password: str = "password-1", headers=ID):
    page = client.get("/masuk", headers=headers)
    response = client.post("/masuk", data={"login": login, "password": password,
                                           "csrf_token": csrf_of(page.get_data(as_text=True))}, headers=headers)
    assert response.status_code == 303, response.get_data(as_text=True)
    return response


class Texts(HTMLParser):
    """The text a person reads on a page (no tags, no attributes, no script)."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style")

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(" ".join(data.split()))


def text_of(html: str) -> str:
    parser = Texts()
    parser.feed(html)
    return " | ".join(parser.parts)
