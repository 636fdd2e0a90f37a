"""What a new password must be, and hashing that costs the same whether or not the account exists.

A password is at least ``MIN_LENGTH`` characters with ``MIN_DIFFERENT`` different ones, is not one
of the 20,000 most common passwords (``common-passwords.txt.gz``: Royce Williams' list as Django
ships it, BSD licence; lowercased) or of a few that people here choose (``LOCAL_COMMON``), nor
one published (the demo's, in the README: only the demo itself sets it, ``allowing``), and does
not contain the user's email, the name before its @, or their phone number. Passwords set before
these rules keep working until they are changed.
"""
from __future__ import annotations

import functools
import gzip
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from service.i18n import _l

MIN_LENGTH = 10
MAX_LENGTH = 200
MIN_DIFFERENT = 4  # "          " or "ababababab" is ten characters, not a password
COMMON = Path(__file__).with_name("common-passwords.txt.gz")
# Common here and long enough to pass the length rule: the program's, the place's and the faith's words.
LOCAL_COMMON = frozenset({
    "banyuwangi", "banyuwangi1", "banyuwangi123", "rantangkasih", "rantang123", "indonesia1", "indonesia123",
    "bismillah1", "bismillah123", "alhamdulillah", "sayangkamu", "sayangku123", "merdeka123", "jawatimur1",
})


# Published for anyone to read: the demo's shared password (README).
PUBLISHED = frozenset({"rantang-demo"})
_allowed: ContextVar[frozenset[str]] = ContextVar("allowed_passwords", default=frozenset())


@contextmanager
def allowing(password: str) -> Iterator[None]:
    """Within the block (the demo's load, which gives every demo login its published password),
    ``password`` is no problem."""
    token = _allowed.set(_allowed.get() | {password})
    try:
        yield
    finally:
        _allowed.reset(token)


@functools.cache
def _common() -> frozenset[str]:
    with gzip.open(COMMON, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip() for line in handle) | LOCAL_COMMON


def problems(password: str, email: str, phone: str | None = None) -> list[str]:
    """What is wrong with ``password`` as a new password for ``email`` (and ``phone``, E.164);
    empty when it will do."""
    if password in _allowed.get():
        return []
    found = []
    if len(password) < MIN_LENGTH:
        found.append(_l("must be at least %(MIN_LENGTH)s characters", MIN_LENGTH=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        found.append(_l("must be at most %(MAX_LENGTH)s characters", MAX_LENGTH=MAX_LENGTH))
    if len(set(password.strip())) < MIN_DIFFERENT:
        found.append(_l("must have at least %(MIN_DIFFERENT)s different characters (not counting spaces at "
                        "the ends)",
                        MIN_DIFFERENT=MIN_DIFFERENT))
    lowered = password.lower()
    if lowered.strip() in _common():
        found.append(_l("is one of the most common passwords: choose another"))
    elif lowered.strip() in PUBLISHED:
        found.append(_l("is published for anyone to read: choose another"))
    email = email.strip().lower()
    name = email.split("@")[0]
    if email and (email in lowered or (len(name) >= 3 and name in lowered)):
        found.append(_l("must not contain your email"))
    if _holds_phone(password, phone):
        found.append(_l("must not contain your phone number"))
    return found


def _holds_phone(password: str, phone: str | None) -> bool:
    """Whether the password's digits hold the phone's (E.164: ``+6281234567890``) as people write
    it: ``081234567890``, ``6281234567890``, with spaces or dashes between."""
    if not phone:
        return False
    digits = "".join(c for c in password if c.isdigit())
    national = phone.lstrip("+")[2:] if phone.startswith("+62") else phone.lstrip("+")
    return len(national) >= 6 and national in digits


def hashed(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


@functools.cache
def _stand_in(method: str) -> str:
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def matches(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` is the one behind ``stored_hash``; with no hash (no such account), a
    check against a stand-in hashed the configured way, so that the answer takes as long as for a
    real account and does not tell who has one."""
    if stored_hash is None:
        check_password_hash(_stand_in(current_app.config["PASSWORD_HASH_METHOD"]), password)
        return False
    return check_password_hash(stored_hash, password)
