"""Rantang's domain: models, rules, jobs and CLI. Knows nothing of HTTP.

The areas stand in one order, lowest first; an area imports only the areas below it
(``tests/test_layers.py`` holds the code to it):

1. ``program``: the settings, the program's clock, the areas (districts and villages);
2. ``accounts``: agencies, users, tokens, who is calling;
3. ``recipients`` and ``vendors`` (side by side, neither imports the other): the registry of the
   elderly, the food stalls with their inspections;
4. ``assignments``: which stall feeds whom;
5. ``volunteers``: the public's volunteers, the elderly they take on (claims) and their visits
   (above the stalls' places: a stall that can reach someone ends a volunteer's claim);
6. ``deliveries``: the daily loop, each day's meals (a stall's or a volunteer's), coverage;
7. ``tasks``: the agencies' work, referrals, recurring work;
8. ``complaints``: the public's complaints and reports of elderly nobody reaches, routed to the
   agencies as tasks, with working-day deadlines;
9. ``targets``: what the agencies sign, measured from the data;
10. ``public``: the program's statistics for the public (aggregates only);
11. ``dashboard``: what the program office's and the agencies' dashboard reads beside the other
    areas' lists (figures with their change, points to draw, stalls by hygiene, visits by school);
12. ``scheduler``: the job runner;
13. ``demo``: a demo program, built through the areas and the runner's jobs.

Beneath them all stands the foundation every area may use: ``config``, ``errors``, ``db``, ``codes``, ``text``,
``database``, ``extensions``, ``events``, ``geo``, ``audit``, ``idempotency``, ``rates``. Above them all, the
composition root: ``app`` (the factory), ``models`` (every model, for Alembic) and ``wiring``.

When something low must cause something above it (a verification completes the task that asked
for it, a stall that may no longer cook hands its recipients to others and their meals follow),
the low area publishes an event (``<area>/events.py``) and ``wiring`` subscribes the handler of the
area above: no upward import, and no module that exists only to dodge a cycle.
"""
