"""The wire format: marshmallow schemas. No database, no Flask request."""
