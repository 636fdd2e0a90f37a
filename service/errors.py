"""Domain errors. The service raises these; the HTTP layer decides what status each one is.

Their ``detail`` and ``errors`` hold lazy messages (``service.i18n._l``): put into words in the
reader's language when the answer is written (``str()`` them to read them now)."""
from __future__ import annotations

from typing import Any

from service.i18n import _l, lazy

# The names of what a NotFound names, in words (``NotFound("recipient", 5)``); a name without
# words here is shown as it is.
ENTITIES = {
    "agency": _l("agency"), "area": _l("area"), "claim": _l("claim"), "complaint": _l("complaint"),
    "complaint category": _l("complaint category"), "delivery": _l("delivery"), "leave day": _l("leave day"),
    "pause": _l("pause"), "photo of delivery": _l("photo of delivery"), "recipient": _l("recipient"),
    "task": _l("task"), "vendor": _l("vendor"), "volunteer": _l("volunteer"), "user": _l("user"),
    "target": _l("target"), "task log": _l("task log"), "visit": _l("visit"), "opportunity": _l("opportunity"),
    "recurring task": _l("recurring task"), "inspection": _l("inspection"), "token": _l("token"),
    "village": _l("village"), "district": _l("district"), "settings": _l("settings"),
    "api token": _l("token"), "assignment": _l("assignment"), "delivery photo": _l("photo of delivery"),
    "volunteer visit": _l("visit"), "program": _l("program"), "meal price": _l("meal price"),
    "target signatory": _l("target signatory"), "complaint event": _l("complaint event"), "region": _l("region"),
    "nik holder": _l("NIK holder"),
}


def entity_words(entity: str) -> Any:
    """An entity's name (``"leave day"``) in the reader's language."""
    return ENTITIES.get(entity, entity)


class DomainError(Exception):
    """Base of every error the service raises on purpose."""

    code = "domain-error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(DomainError):
    code = "not-found"

    def __init__(self, entity: str, entity_id: Any) -> None:
        if entity_id == "me":  # the caller's own record (/volunteers/me)
            super().__init__(_l("your %(entity)s record does not exist", entity=entity_words(entity)))
        else:
            super().__init__(_l("%(entity)s %(id)s does not exist", entity=entity_words(entity), id=entity_id))


class Conflict(DomainError):
    """The request clashes with what is stored (a duplicate, for one)."""

    code = "conflict"


class InvalidTransition(Conflict):
    """The object's state does not allow this action."""

    code = "invalid-transition"


class PreconditionFailed(DomainError):
    """The client's ``If-Match`` version is not the stored one."""

    code = "version-mismatch"


class Invalid(DomainError):
    """Field values break a rule of the program: ``errors`` maps each field to its messages."""

    code = "invalid"

    def __init__(self, errors: dict[str, list[str]], detail: str | None = None) -> None:
        super().__init__(detail or lazy(lambda: "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in errors.items())))
        self.errors = errors


class Malformed(Invalid):
    """The request lacks what its format makes required (an Open311 request's location): refused as
    malformed rather than as invalid values, with ``errors`` by field all the same."""

    code = "malformed"


class Unauthenticated(DomainError):
    code = "unauthenticated"


class Forbidden(DomainError):
    code = "forbidden"


class TooLarge(DomainError):
    """An upload is larger than the program accepts."""

    code = "too-large"


class UnsupportedMedia(DomainError):
    """An upload is not of a kind the program accepts (checked by its content, not its name)."""

    code = "unsupported-media"
