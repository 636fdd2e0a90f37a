"""The program office's dashboard: what the overview, the map and the agencies' views read that no
other area keeps (indicators beside their value a week before, points to draw, stalls by hygiene,
certificates about to lapse, school visits due by school, a month in figures). Aggregates and
codes only; the pages (``blueprints/pages/dasbor.py``) put them beside the other areas' lists,
each behind the permission of the API route that gives the same data."""
