"""The wire format: marshmallow schemas. No database, no Flask request."""

from schemas import messages  # noqa: F401  (marshmallow's messages in the reader's language, first)
