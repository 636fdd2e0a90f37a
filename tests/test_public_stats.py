"""The public statistics, attacked as someone with the published table would: by subtraction (a
row's counts from each other, a column's shown cells from its total) and with a solver that takes
everything published and the rules of what is shown, and looks for a count of 1 to 4 it can tell
more precisely than "<5" does."""
from __future__ import annotations

import datetime as dt
import itertools
import random
import re

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from service.program import service as program_service
from service.public.stats import HIDDEN, SMALL, shown_row, suppress
from tests.conftest import at_jakarta

API = "/api/v1"
SIXTEEN_DIGITS = re.compile(r"(?<!\d)\d{16}(?!\d)")
SPAN = SMALL - 1  # "<5" leaves 4 values (1 to 4) open: no small count may be left fewer


# The attacker ------------------------------------------------------------------------------------

def published(body: dict) -> tuple[list[str], list[dict], dict]:
    """The counts of people the answer publishes: its columns (whatever a district row holds
    besides its name and rates), the district rows, and the program's row."""
    columns = [k for k in body["districts"][0] if k != "district" and not k.endswith("_rate")]
    return columns, body["districts"], {k: body[k] for k in columns}


def subtract(body: dict) -> list[str]:
    """What subtraction tells: a small difference between two counts shown in one row, and a
    column's total minus its shown cells when that leaves one withheld cell small, or "<5" cells
    narrower than 1 to 4."""
    columns, districts, total = published(body)
    found = []
    for row in [*districts, total]:
        exact = {k: row[k] for k in columns if isinstance(row[k], int)}
        for a, b in itertools.combinations(exact, 2):
            if 0 < abs(exact[a] - exact[b]) < SMALL:
                found.append(f"{row.get('district', 'all')}: {a} {exact[a]} - {b} {exact[b]}")
    for column in columns:
        if not isinstance(total[column], int):
            continue
        withheld = [row for row in districts if not isinstance(row[column], int)]
        rest = total[column] - sum(row[column] for row in districts if isinstance(row[column], int))
        if len(withheld) == 1 and 0 < rest < SMALL:
            found.append(f"{withheld[0]['district']}: {column} is {rest}")
        if withheld and all(row[column] == HIDDEN for row in withheld):
            k = len(withheld)
            low, high = max(1, rest - (SMALL - 1) * (k - 1)), min(SMALL - 1, rest - (k - 1))
            if high - low < SPAN - 1:
                found.append(f"{column}: {k} cells of '<5' hold {rest}, each {low} to {high}")
    return found


BIG = 10**7


def _bounds(value, district: bool) -> tuple[int, int]:
    """What a shown cell says of its count: exact; "<5" is 1 to 4; a district's null is 5 or more
    (1 to 4 is always "<5", 0 always shown), the program's may be anything."""
    if isinstance(value, int):
        return value, value
    if value == HIDDEN:
        return 1, SMALL - 1
    return (SMALL, BIG) if district else (0, BIG)


class Solver:
    """Everything published, as an integer program: for each row (the districts, then the
    program) its eligible, fed and unfed, each row's eligible = fed + unfed, each column's
    districts summing to its total, each shown cell's bounds (``_bounds``)."""

    COUNTS = ("eligible", "fed", "unfed")

    def __init__(self, districts: list[tuple], total: tuple) -> None:
        rows = [*districts, total]
        n = self.n = len(rows)
        self.lower, self.upper = np.zeros(3 * n), np.full(3 * n, float(BIG))
        equations = []
        for r, (eligible, fed) in enumerate(rows):
            for k, value in enumerate((eligible, fed)):
                self.lower[3 * r + k], self.upper[3 * r + k] = _bounds(value, r < n - 1)
            equation = np.zeros(3 * n)
            equation[3 * r: 3 * r + 3] = (1, -1, -1)  # eligible - fed - unfed = 0
            equations.append(equation)
        for k in (0, 1):  # the districts of a column sum to its total
            equation = np.zeros(3 * n)
            equation[[3 * r + k for r in range(n - 1)]] = 1
            equation[3 * (n - 1) + k] = -1
            equations.append(equation)
        self.constraint = LinearConstraint(np.array(equations), 0, 0)

    def range(self, row: int, count: str) -> tuple[int, int]:
        """The least and greatest value of ``count`` of row ``row`` (the program's: -1)."""
        index = 3 * (row % self.n) + self.COUNTS.index(count)
        objective = np.zeros(3 * self.n)
        objective[index] = 1
        ends = []
        for sign in (1, -1):
            result = milp(sign * objective, constraints=self.constraint, bounds=Bounds(self.lower, self.upper),
                          integrality=np.ones(3 * self.n))
            assert result.success, result.message  # the truth always agrees with what is published
            ends.append(round(result.x[index]))
        return ends[0], ends[1]


def leaks(truth: dict[str, tuple[int, int]], districts: dict[str, tuple], total: tuple) -> list[str]:
    """Every count of 1 to 4 (eligible, fed or unfed, of a district or of all) that the solver can
    place among fewer than 4 values, or whose true value it rules out."""
    names = sorted(truth)
    true_rows = [truth[name] for name in names]
    true_rows.append((sum(e for e, _ in true_rows), sum(f for _, f in true_rows)))
    solver = Solver([districts[name] for name in names], total)
    found = []
    for row, (name, (eligible, fed)) in enumerate(zip([*names, "all"], true_rows)):
        for count, value in (("eligible", eligible), ("fed", fed), ("unfed", eligible - fed)):
            if not 0 < value < SMALL:
                continue
            low, high = solver.range(row, count)
            assert low <= value <= high, (name, count, value, low, high)
            if high - low < SPAN - 1:
                found.append(f"{name}: {count} {value} is {low} to {high}")
    return found


# Through the API ---------------------------------------------------------------------------------

@pytest.fixture
def program(client, areas, make_vendor, make_recipient, make_user, coordinator, social, monkeypatch):
    """Yesterday, five districts fed from one stall: A 3 eligible, all fed; B 4, 2 fed; C 18, 13 fed;
    D 20, 14 fed; E 12, 10 fed (two unfed). Today three of C's have left the program (15 enrolled
    now: beside the 13 fed, "two unfed" would be read)."""
    yesterday = dt.date.today() + dt.timedelta(days=1)  # ahead of the machine's clock: enrolled before it
    at_jakarta(monkeypatch, yesterday, hour=9)
    stall = make_vendor("Kaliasin", capacity=100)
    phone = make_user("vendor", vendor_id=stall.id)[1]
    place = areas["Kaliasin"]
    plan = {"A": (3, 3), "B": (4, 2), "C": (18, 13), "D": (20, 14), "E": (12, 10)}
    people: dict[str, list[int]] = {}
    for n, (name, (eligible, _)) in enumerate(plan.items()):
        district = program_service.create_area(f"Distrik {name}", "district", place.latitude, place.longitude,
                                               code=f"99.{n}")
        village = program_service.create_area(f"Desa {name}", "village", place.latitude, place.longitude,
                                              district.id, code=f"99.{n}.1")
        people[name] = [make_recipient("enrolled", village_id=village.id, latitude=place.latitude,
                                       longitude=place.longitude)["id"] for _ in range(eligible)]
    assert client.post(f"{API}/deliveries/schedule", json={"date": yesterday.isoformat()},
                       headers=coordinator).status_code == 200
    lunch = {d["recipient_id"]: d["id"] for d in client.get(
        f"{API}/deliveries", query_string={"date": yesterday.isoformat(), "meal": "lunch", "per_page": 500},
        headers=phone).json["items"]}
    for name, (_, fed) in plan.items():
        for rid in people[name][:fed]:
            assert client.post(f"{API}/deliveries/{lunch[rid]}/confirm", json={"status": "delivered"},
                               headers=phone).status_code == 200
    at_jakarta(monkeypatch, yesterday, hour=21, minute=5)
    assert client.post(f"{API}/deliveries/close", json={"date": yesterday.isoformat()},
                       headers=coordinator).status_code == 200
    at_jakarta(monkeypatch, yesterday + dt.timedelta(days=1), hour=10)
    for rid in people["C"][:3]:
        assert client.post(f"{API}/recipients/{rid}/exit", json={"reason": "moved"}, headers=social).status_code == 200
    return {f"Distrik {name}": counts for name, counts in plan.items()}


def test_the_public_statistics_cannot_be_subtracted(client, program):
    body = client.get(f"{API}/public/stats").json
    assert subtract(body) == []
    shown = {row["district"]: (row["eligible_yesterday"], row["fed_yesterday"]) for row in body["districts"]}
    assert leaks(program, shown, (body["eligible_yesterday"], body["fed_yesterday"])) == []
    # A and B are "<5"; E's two unfed keep its fed back; C, the smallest that can, hides them.
    assert shown == {"Distrik A": ("<5", "<5"), "Distrik B": ("<5", "<5"), "Distrik C": (None, None),
                     "Distrik D": (20, 14), "Distrik E": (12, None)}
    assert (body["eligible_yesterday"], body["fed_yesterday"], body["coverage_rate"]) == (57, 42, 0.7368)
    rates = {row["district"]: row["coverage_rate"] for row in body["districts"]}
    assert rates == {"Distrik A": None, "Distrik B": None, "Distrik C": None, "Distrik D": 0.7, "Distrik E": None}


def test_the_public_statistics_are_aggregates_that_single_nobody_out(client, program, file_complaint):
    file_complaint()
    response = client.get(f"{API}/public/stats")
    assert response.status_code == 200, response.json
    body = response.json
    assert body["stalls_certified"] == body["stalls_active"] == 1 and body["complaints"]["received"] == 1
    assert body["yesterday"] == (dt.date.fromisoformat(body["as_of"]) - dt.timedelta(days=1)).isoformat()
    text = response.get_data(as_text=True)
    assert not SIXTEEN_DIGITS.search(text) and "Siti" not in text and "114.1" not in text
    assert "public" in response.headers["Cache-Control"]


@pytest.fixture
def file_complaint(client, areas):
    def send():
        made = client.post(f"{API}/complaints", json={"category": "missed_meal", "village_id": areas["Kaliasin"].id,
                                                      "description": "Nenek di RT 02 tidak menerima makanan."})
        assert made.status_code == 201, made.json

    return send


# The rule on its own, against the solver ---------------------------------------------------------

def test_a_row_shows_no_small_count_nor_a_small_difference():
    assert shown_row(12, 6) == (12, 6)
    assert shown_row(15, 13) == (15, None)  # 2 unfed would be told
    assert shown_row(7, 5) == (None, None)  # with 7 shown, "fed is 5 or more" leaves 0 to 2 unfed
    assert shown_row(10, 3) == (10, "<5")
    assert shown_row(3, 3) == ("<5", "<5")
    assert shown_row(3, 0) == ("<5", 0)
    assert shown_row(0, 0) == (0, 0)
    assert shown_row(20, 20) == (20, 20)
    assert shown_row(20, 0) == (20, 0)


def test_the_issues_tables_are_protected():
    # two districts of "<5" holding 7 together beside a shown one; a row 15 / 13
    for truth in ({"A": (3, 3), "B": (4, 4), "C": (40, 30)},
                  {"A": (15, 13), "B": (30, 20)},
                  {"A": (3, 1), "B": (2, 2)},  # a program of five: the totals are small too
                  {"A": (6, 5), "B": (6, 6), "C": (9, 9)},
                  {"A": (40, 38)}):
        shown, total = suppress(truth)
        assert leaks(truth, shown, total) == [], (truth, shown, total)


def random_table(rng: random.Random) -> dict[str, tuple[int, int]]:
    """Districts drawn to be awkward: many small counts, small differences, a few large ones."""
    table = {}
    for n in range(rng.randint(1, 6)):
        eligible = rng.choice([rng.randint(0, 4), rng.randint(5, 12), rng.randint(13, 60)])
        unfed = min(eligible, rng.choice([0, rng.randint(1, 4), rng.randint(0, eligible)]))
        table[f"D{n}"] = (eligible, eligible - unfed)
    return table


def test_no_random_table_leaks_a_small_count():
    rng = random.Random(23)
    withheld_whole = 0
    for _ in range(300):
        truth = random_table(rng)
        shown, total = suppress(truth)
        assert leaks(truth, shown, total) == [], (truth, shown, total)
        withheld_whole += sum(cells == (None, None) for cells in shown.values())
    assert withheld_whole  # the complementary rule was exercised


def test_what_is_not_small_is_shown():
    """A program with one small district loses that district and one other, nothing more."""
    truth = {f"D{n}": (50 + n, 40 + n) for n in range(8)} | {"Small": (3, 2)}
    shown, total = suppress(truth)
    assert total == (sum(e for e, _ in truth.values()), sum(f for _, f in truth.values()))
    assert shown["Small"] == ("<5", "<5") and shown["D0"] == (None, None)
    assert all(shown[f"D{n}"] == truth[f"D{n}"] for n in range(1, 8))
