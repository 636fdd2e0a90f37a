"""Plain HTML forms read into the API's bodies, so that a page checks what the API checks: the form's
text fields (empty means not given), whole numbers and decimal numbers (a comma as decimal mark
too, as phones in Indonesia type them) are turned into the JSON types the API's schema expects,
loaded through that same schema, and every error, the schema's or the service's (``Invalid``), is
kept by the form field it belongs to, so that the form is shown again with the messages beside its
fields and what the user typed still in them."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, ValidationError

from schemas.common import flat_messages
from service.i18n import _l, force_locale

# The usual messages of the schemas and the service, by how they begin, in the reader's language;
# other messages are shown as they come (in English).
_WORDS = {
    "Missing data for required field.": _l("Fill this in."),
    "Field may not be null.": _l("Fill this in."),
    "Not a valid email address.": _l("This is not an email address."),
    "Must be one of: ": _l("Choose one from the list."),
    "Not a valid date.": _l("This is not a date."),
    "at least 10 characters": _l("Write at least 10 characters."),
    "not a phone number": _l("This is not a phone number that can be called (such as 0812 3456 7890)."),
    "must be at least 10 characters": _l("At least 10 characters."),
    "is one of the most common passwords": _l("This is one of the most common passwords: choose another."),
    "is published for anyone to read": _l("This password is published for anyone to read: choose another."),
    "a report of this kind is about a place": _l("Say where: choose the village, write an address, or give the "
                                                 "place's numbers."),
    "the point is ": _l("These numbers are too far from the village: check them (the first is the latitude, "
                        "negative south of the equator)."),
    "must be exactly 16 digits": _l("A NIK has exactly 16 digits."),
    "cannot be after today": _l("Not after today."),
    "say what worries you": _l("Say what worries you: the social office (Dinas Sosial) follows it up."),
    "only a visit that ends with a concern": _l("Write this only when you are worried (choose that answer above)."),
}


def words(message):
    """The form's own words for a usual message of the schemas or the service (which may already be
    in the reader's language: it is matched as it reads in English), else the message itself."""
    with force_locale("en"):
        english = str(message)
    for start, shown in _WORDS.items():
        if english.startswith(start):
            return shown
    return str(message)


class FormErrors(dict):
    """Field name -> messages; a form field is named as the body's field, with ``.`` as ``_``
    (``elderly.name`` is the field ``elderly_name``)."""

    def add(self, field: str, message) -> None:
        self.setdefault(field.replace(".", "_"), []).append(message)

    def update_from(self, errors: Mapping[str, list[str]], rename: Mapping[str, str] | None = None) -> None:
        for key, messages in errors.items():
            field = (rename or {}).get(key, key)
            for message in messages:
                self.add(field, words(message))


def text(form: Mapping[str, str], name: str) -> str | None:
    """A text field, trimmed; empty is not given."""
    value = (form.get(name) or "").strip()
    return value or None


def whole(form: Mapping[str, str], name: str, errors: FormErrors, message) -> int | None:
    value = text(form, name)
    if value is None:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 9:
        errors.add(name, message)
        return None
    return int(value)


def decimal(form: Mapping[str, str], name: str, errors: FormErrors, message) -> float | None:
    value = text(form, name)
    if value is None:
        return None
    try:
        if len(value) > 30:
            raise ValueError(value)
        number = float(value.replace(",", "."))
    except ValueError:
        errors.add(name, message)
        return None
    if number != number or number in (float("inf"), float("-inf")):
        errors.add(name, message)
        return None
    return number


def load(schema: Schema, body: dict[str, Any], errors: FormErrors,
         rename: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """``body`` through the API's schema: the loaded data, or None with its errors added."""
    try:
        return schema.load({key: value for key, value in body.items() if value is not None})
    except ValidationError as exc:
        errors.update_from(flat_messages(exc.messages), rename)
        return None
