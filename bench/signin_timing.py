"""Does the time of a refused sign-in tell whether the email has an account?

Signs in many times with a wrong password for an existing account and with an unknown email,
alternating, through the app (test client, SQLite, scrypt hashes as in production), and prints the
median and p90 of each and their ratio. Goal: the two take the same time (ratio within 0.9-1.1);
before the stand-in was hashed the configured way, an unknown email took 6 ms against 110 ms.

    .venv/bin/python bench/signin_timing.py [--attempts 40]
    With BENCH_SMOKE=1 the defaults are small (5 attempts of each kind): the smoke run, bench/smoke.py.
"""
from __future__ import annotations

import argparse
import statistics
import time

from common import fresh_app, percentile, size, sqlite_url

from service.accounts import service as accounts
from service.extensions import db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=size(40, 5), help="sign-ins of each kind")
    args = parser.parse_args()
    app = fresh_app(sqlite_url())
    app.config.update(PASSWORD_HASH_METHOD="scrypt", RATELIMIT_ENABLED=False)
    with app.app_context():
        accounts.create_user(email="staff@rantang.example", password="kopi-tubruk-2026", name="Staff",
                             role="coordinator")
        db.session.commit()
    client = app.test_client()
    times: dict[str, list[float]] = {"known email, wrong password": [], "unknown email": []}
    emails = {"known email, wrong password": "staff@rantang.example", "unknown email": "nobody@rantang.example"}
    for _ in range(args.attempts):
        for kind, email in emails.items():
            started = time.perf_counter()
            status = client.post("/api/v1/auth/token", json={"email": email, "password": "wrong-guess-1"}).status_code
            times[kind].append((time.perf_counter() - started) * 1000)
            assert status == 401, status
    print(f"\n== refused sign-ins, scrypt, {args.attempts} of each, alternating ==")
    print(f"{'attempt':<30} {'median ms':>10} {'p90 ms':>8}")
    for kind, values in times.items():
        print(f"{kind:<30} {statistics.median(values):>10.1f} {percentile(values, 90):>8.1f}")
    ratio = statistics.median(times["unknown email"]) / statistics.median(times["known email, wrong password"])
    verdict = "met" if 0.9 <= ratio <= 1.1 else "NOT met"
    print(f"unknown / known: {ratio:.2f}  goal (0.9-1.1, the time tells nothing): {verdict}")


if __name__ == "__main__":
    main()
