"""What a new password must be, and hashing that costs the same whether or not the account exists.

A password is at least ``MIN_LENGTH`` characters with ``MIN_DIFFERENT`` different ones, is not one
of the 20,000 most common passwords (``common-passwords.txt.gz``: Royce Williams' list as Django
ships it, BSD licence; lowercased) or of a few that people here choose (``LOCAL_COMMON``), and
does not contain the user's email or the name before its @. Passwords set before these rules keep
working until they are changed.
"""
from __future__ import annotations

import functools
import gzip
import secrets
from pathlib import Path

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

MIN_LENGTH = 10
MAX_LENGTH = 200
MIN_DIFFERENT = 4  # "          " or "ababababab" is ten characters, not a password
COMMON = Path(__file__).with_name("common-passwords.txt.gz")
# Common here and long enough to pass the length rule: the program's, the place's and the faith's words.
LOCAL_COMMON = frozenset({
    "banyuwangi", "banyuwangi1", "banyuwangi123", "rantangkasih", "rantang123", "indonesia1", "indonesia123",
    "bismillah1", "bismillah123", "alhamdulillah", "sayangkamu", "sayangku123", "merdeka123", "jawatimur1",
})


@functools.cache
def _common() -> frozenset[str]:
    with gzip.open(COMMON, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip() for line in handle) | LOCAL_COMMON


def problems(password: str, email: str) -> list[str]:
    """What is wrong with ``password`` as a new password for ``email``; empty when it will do."""
    found = []
    if len(password) < MIN_LENGTH:
        found.append(f"must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        found.append(f"must be at most {MAX_LENGTH} characters")
    if len(set(password.strip())) < MIN_DIFFERENT:
        found.append(f"must have at least {MIN_DIFFERENT} different characters (not counting spaces at the ends)")
    lowered = password.lower()
    if lowered.strip() in _common():
        found.append("is one of the most common passwords: choose another")
    email = email.strip().lower()
    name = email.split("@")[0]
    if email and (email in lowered or (len(name) >= 3 and name in lowered)):
        found.append("must not contain your email")
    return found


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
