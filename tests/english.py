"""Is a message read in Indonesian still English? A detector for tests: the common English words a
sentence cannot do without, found outside what is allowed to stay as it is (quoted or
backticked values, field names and codes, URLs, proper names such as NIK, Open311, E.164)."""
from __future__ import annotations

import re

# Words an English sentence of ours can hardly be written without (none of them is Indonesian).
ENGLISH = frozenset("""
the is are was were be been must not of does do exist exists send field fields valid invalid to and or with
for this that these it its has have cannot can only already give at least most missing unknown required should
your you please than from which when by on into as if no yes number may more less before after
""".split())
# Proper names and technical terms that stay as they are in any language.
ALLOWED = frozenset("""
nik open311 e.164 wib wita wit utf-8 json csv if-match etag idempotency-key bearer authorization post get patch
put delete api uuid url ip gps jpeg png mb km http https multipart form-data boundary georeport application
x-www-form-urlencoded text lat long true false null nan
""".split())
_QUOTED = re.compile(r"`[^`]*`|'[^']*'|\"[^\"]*\"|\S+://\S+|/api/\S*|\S*[_@<>/]\S*|U\+[0-9A-F]+")

_FIELD = re.compile(r"(?:^|; )[\w.-]+: ")  # "from: ..." in a detail that lists fields' messages
_CHOICES = re.compile(r"[\w-]+(?:, [\w-]+)+")  # codes to choose from: "none, valid, expired, failed"


def english_words(message: str) -> list[str]:
    """The English words in ``message`` once what may stay as it is is taken out."""
    text = _CHOICES.sub(" ", _FIELD.sub(" ", _QUOTED.sub(" ", message)))
    words = re.findall(r"[A-Za-z][A-Za-z.\-]*[A-Za-z]|[A-Za-z]", text)
    return [w for w in words if (w.islower() or w.istitle()) and w.lower() in ENGLISH and w.lower() not in ALLOWED]


def messages_of(body: dict) -> list[str]:
    """The words of a problem answer that are read by people: title, detail, each field's messages."""
    said = [body.get("title"), body.get("detail")]
    for messages in (body.get("errors") or {}).values():
        said.extend(messages)
    return [str(m) for m in said if m]
