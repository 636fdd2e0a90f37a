"""Targets the agencies sign together, measured from the data."""
