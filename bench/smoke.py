"""The smoke run: every benchmark at a small size, to check that each still runs to its end and
prints its figures; the figures themselves are not checked (at that size they mean nothing).

Each benchmark runs in its own process with ``BENCH_SMOKE=1`` (their sizes default small: see
``common.size``), on PostgreSQL and, where the benchmark takes it, on SQLite, one after another.
It fails when one exits other than 0 or leaves out a line of figures it should print (a number
where the figure goes). PostgreSQL is used through ``BENCH_PG_ADMIN`` as the benchmarks use it,
in the database ``BENCH_PG_DB`` (here ``rantang_bench_smoke`` unless set, so that it never
empties the full run's; ``confirm_load.py`` adds ``_confirm``); SQLite files go to a temporary
folder, removed at the end. About 70 s on the 2-core development machine; CI runs it.

    .venv/bin/python bench/smoke.py [benchmark ...]     (or: make bench-smoke)
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
NUMBER = r"\d[\d,]*(?:\.\d+)?"
BOTH = (r"^== PostgreSQL", 1), (r"^== SQLite", 1)

# Each benchmark and the lines of figures it must print: (pattern, how many times at least).
BENCHMARKS: dict[str, list[tuple[str, int]]] = {
    "import_recipients": [(rf"^SQLite +import +{NUMBER} rows in +{NUMBER} s = +{NUMBER} rows/s", 1),
                          (rf"^PostgreSQL +import +{NUMBER} rows in +{NUMBER} s = +{NUMBER} rows/s", 1)],
    "api_latency": [(rf"^(GET|POST) /\S*.* p50 +{NUMBER} ms +p90 +{NUMBER} ms +p99 +{NUMBER} ms", 4)],
    "assignment": [*BOTH, (rf"^rebalance \(API, writes included\) +{NUMBER} +{NUMBER}", 2)],
    "schedule": [*BOTH, (rf"^schedule_day \(first run\) +{NUMBER} +{NUMBER} +{NUMBER}", 2)],
    "coverage": [*BOTH, (rf"^GET /coverage/trend .* {NUMBER} +{NUMBER}$", 2),
                 (rf"^GET /coverage \(today .* {NUMBER} +{NUMBER}$", 2)],
    "confirm_load": [(rf"^bare: read one row by key +{NUMBER} +{NUMBER} +{NUMBER} +{NUMBER}", 1),
                     (rf"^POST /deliveries/\{{id\}}/confirm +{NUMBER} +{NUMBER} +{NUMBER} +{NUMBER}", 1)],
    "opportunities": [*BOTH, (rf"^GET /volunteers/me/opportunities, served +p50 +{NUMBER} ms +p90 +{NUMBER} ms", 2),
                      (rf"^the same answer by a full scan +p50 +{NUMBER} ms", 2)],
    "signin_timing": [(rf"^known email, wrong password +{NUMBER} +{NUMBER}", 1),
                      (rf"^unknown email +{NUMBER} +{NUMBER}", 1)],
    "targets": [*BOTH, (rf"^GET /targets \(\d+ indicators.* {NUMBER} +{NUMBER}$", 2)],
    "dashboard": [*BOTH, (rf"^/dasbor \(overview\) +{NUMBER} +{NUMBER} +{NUMBER}", 2),
                  (rf"^GET /api/v1/targets +{NUMBER} +{NUMBER}$", 2), (rf"^first load of /dasbor .* {NUMBER} KB", 2)],
    "province": [(r"^== PostgreSQL: \d+ regions", 1), (rf"^assignment: seconds .* {NUMBER} +{NUMBER}$", 1),
                 (rf"^scheduling: rows/s +{NUMBER} +{NUMBER}$", 1),
                 (r"^confirmations \(all regions", 1),
                 (rf"^  at the peak, each when it is due .* p99 +{NUMBER} ms +0 errors", 2)],
}
TIMEOUT = 150  # seconds for one benchmark: each takes 2-25 s on the development machine


def missing_figures(name: str, output: str) -> list[str]:
    return [pattern for pattern, times in BENCHMARKS[name]
            if len(re.findall(pattern, output, re.MULTILINE)) < times]


def run(name: str, env: dict[str, str]) -> bool:
    print(f"== {name} ==", flush=True)
    started = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, str(HERE / f"{name}.py")], env=env, cwd=HERE, capture_output=True,
                              text=True, timeout=TIMEOUT)
        code, out, err = done.returncode, done.stdout, done.stderr
    except subprocess.TimeoutExpired as timeout:
        code, out, err = f"killed after {TIMEOUT} s", timeout.stdout or "", timeout.stderr or ""
        out, err = (s.decode(errors="replace") if isinstance(s, bytes) else s for s in (out, err))
    seconds = time.perf_counter() - started
    print(out.strip())
    missing = missing_figures(name, out) if code == 0 else []
    if code == 0 and not missing:
        print(f"-- {name}: ok in {seconds:.0f} s", flush=True)
        return True
    print("\n".join(err.strip().splitlines()[-30:]))  # the traceback, past the migrations' log
    why = f"exit {code}" if code != 0 else "no figures matching " + "; ".join(missing)
    print(f"-- {name}: FAILED in {seconds:.0f} s ({why})", flush=True)
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("benchmarks", nargs="*", metavar="benchmark",
                        help=f"some of: {', '.join(BENCHMARKS)} (default: all)")
    args = parser.parse_args()
    unknown = set(args.benchmarks) - set(BENCHMARKS)
    if unknown:
        parser.error(f"no benchmark {', '.join(sorted(unknown))}: choose from {', '.join(BENCHMARKS)}")
    names = args.benchmarks or list(BENCHMARKS)
    scratch = tempfile.mkdtemp(prefix="rantang-bench-smoke-")
    env = {**os.environ, "BENCH_SMOKE": "1", "TMPDIR": scratch, "PYTHONUNBUFFERED": "1"}
    env.setdefault("BENCH_PG_DB", "rantang_bench_smoke")
    started = time.perf_counter()
    try:
        failed = [name for name in names if not run(name, env)]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    took = time.perf_counter() - started
    if failed:
        sys.exit(f"smoke run FAILED in {took:.0f} s: {', '.join(failed)}")
    print(f"smoke run passed in {took:.0f} s: {len(names)} benchmarks ran and printed their figures")


if __name__ == "__main__":
    main()
