"""Domain errors. The service raises these; the HTTP layer decides what status each one is."""
from __future__ import annotations

from typing import Any


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
        super().__init__(f"{entity} {entity_id} does not exist")


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
        super().__init__(detail or "; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
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
