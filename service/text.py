"""Rules of the text people send that more than one way in must apply alike (the API's schemas and
the bulk import): what a phone number looks like, which characters text may hold."""
from __future__ import annotations

import re

import phonenumbers

from service.errors import Invalid
from service.i18n import Lazy, _l

# A phone number as people write it: +62 812-3456-7890, 0812 3456 7890, (0333) 424 242: 6 to 15
# digits, with spaces, hyphens, dots or brackets between them.
PHONE_PATTERN = r"^(?=(?:\D*\d){6,15}\D*$)\+?[0-9 ().-]{6,24}$"
PHONE_ERROR = _l("not a phone number")
_PHONE = re.compile(PHONE_PATTERN)


def phone_error(value: str) -> Lazy | None:
    return None if _PHONE.match(value) else PHONE_ERROR


PHONE_REGION = "ID"  # a number without a country code is Indonesian: 0812...


def e164(value: str) -> str:
    """A phone number as one form, E.164 (+628123456789), from the ways people write it: 0812-3456-
    7890, 62812 3456 7890, +62 812-3456-7890. ValueError when it is not a number that can be called
    (checked by phonenumbers, Google's libphonenumber rules)."""
    try:
        number = phonenumbers.parse(value, PHONE_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        # "62812..." without the plus is how many write an Indonesian mobile number.
        digits = re.sub(r"\D", "", value)
        if digits.startswith("62") and not value.strip().startswith(("+", "0")):
            return e164("+" + digits)
        raise ValueError(_l("not a phone number that can be called (such as 0812 3456 7890)"))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def e164_of(value: str, field: str = "phone") -> str:
    """``e164(value)``, or the 422 that says what is wrong with ``field``."""
    try:
        return e164(value)
    except ValueError as exc:
        raise Invalid({field: [exc.args[0]]}) from None


# What no name, address or note may hold: control characters but tab and line breaks, the
# bidirectional marks and overrides (which make "ecnalubma" read backwards), zero-width characters,
# and lone UTF-16 surrogates (which no database can store). Refused, not stripped: the sender sees
# what was wrong in what they typed.
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\xad\u034f\u061c\u115f\u1160\u180e"
                        "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufeff\uffa0"
                        "\ufff9-\ufffb\ud800-\udfff\U000e0000-\U000e007f]")
INVISIBLE_ERROR = _l("holds an invisible or control character (U+{:04X}): remove it")


def text_error(value: str) -> str | None:
    """Why ``value`` may not be stored as a name, address or note, or None."""
    found = _INVISIBLE.search(value)
    return None if found is None else INVISIBLE_ERROR.format(ord(found.group()))


# What no string at all may hold: NUL (PostgreSQL's text refuses it) and lone surrogates (no
# encoding can write them).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable(value: str) -> str | None:
    """Why no field can store ``value`` (a NUL or a lone surrogate), or None."""
    found = _UNSTORABLE.search(value)
    if found is None:
        return None
    return _l("holds U+%(code)s, which cannot be stored", code=format(ord(found.group()), "04X"))
