"""Stored answers to writes that a phone may retry (``Idempotency-Key``)."""
