"""Hardening, part 2, through the API as clients send it: the OpenAPI document against the wire, no
input that gives a 500, nothing a user sends lost in silence, data that cannot be true refused,
statements at the price of their day, meals no stall may cook, and lists that filter alike."""
from __future__ import annotations

import datetime as dt
import io
import json

import pytest

from blueprints.deliveries import spreadsheet_safe
from service.db import MAX_BIG_ID, MAX_INT
from service.deliveries.models import Delivery
from service.extensions import db
from tests.test_deliveries import confirm, deliveries_of, schedule
from tests.test_import import HEADER, row
from tests.test_vendors import inspect

API = "/api/v1"
TODAY = dt.date.today()
PROBLEM = "application/problem+json"


def _spec(client) -> dict:
    return client.get(f"{API}/openapi.json").json


def _resolve(spec: dict, response: dict) -> dict:
    if "$ref" in response:
        return spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    return response


def _problem(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.mimetype == PROBLEM
    body = response.json
    assert body["status"] == status and body["title"] and body["detail"]
    return body


# 1. The document matches the wire ----------------------------------------------------------------

def test_every_error_is_documented_as_problem_json_per_operation(client):
    spec = _spec(client)
    problem = spec["components"]["schemas"]["Problem"]["properties"]
    assert problem["status"]["type"] == "integer"
    assert {"type", "title", "detail", "errors", "existing_id", "current_status", "delivery_status", "task_status",
            "version", "report"} <= set(problem)
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            responses = operation["responses"]
            assert "default" not in responses, (method, path)
            statuses = {int(status) for status in responses}
            assert 503 in statuses, (method, path)
            if operation.get("security") != []:
                assert 401 in statuses, (method, path)
            if "{" in path:
                assert 404 in statuses, (method, path)
            if "requestBody" in operation:
                assert {400, 415, 422} <= statuses, (method, path)
            for status in statuses - {200, 201, 204, 207}:
                content = _resolve(spec, responses[str(status)])["content"]
                assert list(content) == [PROBLEM], (method, path, status)
                assert content[PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}


def test_constraints_the_server_enforces_are_in_the_document(client):
    spec = _spec(client)
    paths = spec["paths"]

    def parameter(path, method, name):
        found = [p for p in paths[path][method].get("parameters", []) + paths[path].get("parameters", [])
                 if p["name"] == name]
        return found[0]["schema"]

    assert parameter(f"{API}/vendors", "get", "radius_km") == {
        "type": "number", "minimum": 0.0, "maximum": 200.0, "exclusiveMinimum": True}
    assert parameter(f"{API}/vendors/{{vendor_id}}/statement", "get", "month")["pattern"] == r"^\d{4}-\d{2}$"
    key = parameter(f"{API}/deliveries/{{delivery_id}}/confirm", "post", "Idempotency-Key")
    assert (key["minLength"], key["maxLength"]) == (1, 255)
    assert paths[f"{API}/recipients/import"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"][
        "required"] == ["file"]
    assert parameter(f"{API}/tasks", "get", "page")["maximum"] == MAX_INT
    assert parameter(f"{API}/tasks/{{task_id}}", "get", "task_id") == {"type": "integer", "minimum": 1,
                                                                      "maximum": MAX_INT}
    assert parameter(f"{API}/deliveries/{{delivery_id}}", "get", "delivery_id")["maximum"] == MAX_BIG_ID
    conflict = paths[f"{API}/recipients"]["post"]["responses"]["409"]
    assert conflict["content"][PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}


# 3. No 500 for bad input ---------------------------------------------------------------------------

def test_integers_beyond_a_column_are_4xx(client, coordinator, areas):
    for path in (f"{API}/tasks/{2**31}", f"{API}/recipients/{2**63}", f"{API}/deliveries/{2**63}",
                 f"{API}/vendors/{2**64}/inspections"):
        body = _problem(client.get(path, headers=coordinator), 404)
        assert "does not exist" in body["detail"] or "no object" in body["detail"]
    for query in ({"vendor_id": 2**31}, {"page": 2**63}, {"recipient_id": -(2**31)}):
        _problem(client.get(f"{API}/deliveries", query_string=query, headers=coordinator), 422)
    body = {"name": "Desa", "kind": "village", "latitude": -8.3, "longitude": 114.1, "parent_id": 2**63}
    assert "parent_id" in _problem(client.post(f"{API}/areas", json=body, headers=coordinator), 422)["errors"]


def test_numbers_too_long_to_read_are_4xx_not_500(client, coordinator, make_recipient):
    """Python reads no integer of more than 4,300 digits: in a path, a body, If-Match or the
    sign-in's body, that is a 404, 400 or 422, never a 500. Ids are ASCII digits."""
    huge = "9" * 5000
    for path in (f"{API}/recipients/{huge}", f"{API}/deliveries/{huge}"):
        _problem(client.get(path, headers=coordinator), 404)
    _problem(client.get(f"{API}/recipients/%D9%A3", headers=coordinator), 404)  # Arabic-Indic 3
    _problem(client.get(f"{API}/recipients/%EF%BC%91", headers=coordinator), 404)  # fullwidth 1
    body = '{"date": "2026-12-01", "x": ' + huge + "}"
    assert "too long" in _problem(client.post(f"{API}/deliveries/close", data=body, content_type="application/json",
                                              headers=coordinator), 400)["detail"]
    login = '{"email": "a@rantang.example", "password": ' + huge + "}"
    _problem(client.post(f"{API}/auth/token", data=login, content_type="application/json"), 400)
    person = make_recipient()
    for version in ("\u00b2", "W/\"\u00b9\"", huge):
        response = client.patch(f"{API}/recipients/{person['id']}", json={"name": "Siti"},
                                headers={**coordinator, "If-Match": version.encode("utf-8").decode("latin-1")})
        assert "If-Match" in _problem(response, 422)["errors"]
    repeated = client.get(f"{API}/recipients?status=candidate&status=enrolled", headers=coordinator)
    assert "status" in _problem(repeated, 422)["errors"]


def test_nul_lone_surrogates_and_deep_json_are_400(client, coordinator, recipient_data):
    login = {"email": "user\u0000@rantang.example", "password": "password-1"}
    assert "U+0000" in _problem(client.post(f"{API}/auth/token", json=login), 400)["detail"]
    surrogate = '{"email": "a@rantang.example", "password": "\\ud800"}'
    _problem(client.post(f"{API}/auth/token", data=surrogate, content_type="application/json"), 400)
    person = json.dumps(recipient_data(name="Siti\u0000")).encode()
    _problem(client.post(f"{API}/recipients", data=person, content_type="application/json", headers=coordinator), 400)
    deep = "[" * 50_000 + "]" * 50_000
    assert "deeply" in _problem(client.post(f"{API}/recipients", data=deep, content_type="application/json",
                                            headers=coordinator), 400)["detail"]
    # The sign-in's rate limit reads the body before the handler does: the same 400, not a 500.
    assert "deeply" in _problem(client.post(f"{API}/auth/token", data=deep, content_type="application/json"),
                                400)["detail"]
    assert "not valid JSON" in _problem(client.post(f"{API}/recipients", data="{", content_type="application/json",
                                                    headers=coordinator), 400)["detail"]
    # A pair of surrogates is one character (an emoji), not a lone one: accepted.
    emoji = json.dumps(recipient_data(notes="\U0001F372 soup"))  # json.dumps writes it as \ud83c\udf72
    created = client.post(f"{API}/recipients", data=emoji, content_type="application/json", headers=coordinator)
    assert created.status_code == 201 and created.json["notes"] == "\U0001F372 soup"
    # In a query: 422 by parameter.
    assert "q" in _problem(client.get(f"{API}/recipients", query_string={"q": "a\u0000"}, headers=coordinator),
                           422)["errors"]


def test_dates_near_year_1_or_9999_are_422(client, coordinator, loop):
    _problem(client.post(f"{API}/deliveries/close", json={"date": "0001-01-01"}, headers=coordinator), 422)
    _problem(client.get(f"{API}/coverage/trend", query_string={"to": "0001-01-05"}, headers=coordinator), 422)
    _problem(client.get(f"{API}/coverage/trend", query_string={"from": "9999-12-01"}, headers=coordinator), 422)
    _problem(client.get(f"{API}/vendors/{loop.a.id}/statement", query_string={"month": "0001-01"},
                        headers=coordinator), 422)
    assert schedule(client, coordinator, TODAY).status_code == 200
    meal = deliveries_of(client, coordinator, date=TODAY.isoformat())[0]
    late = confirm(client, loop.phone_a, meal["id"], delivered_at="9999-12-31T23:59:59+07:00")
    assert "delivered_at" in _problem(late, 422)["errors"]


def test_invisible_characters_are_refused_in_names_addresses_and_notes(client, coordinator, recipient_data, areas):
    for field, value in (("name", "Siti\u202eanimA"), ("address", "Jl. Raya\u200b 1"), ("notes", "ring\x07 twice"),
                         ("name", "Siti\u00adAminah"), ("address", "Dusun\u2028Krajan"), ("name", "S\U000e0041iti"),
                         ("name", "\u3164"), ("notes", "\ufff9x")):
        body = _problem(client.post(f"{API}/recipients", json=recipient_data(**{field: value}), headers=coordinator),
                        422)
        assert "invisible or control character" in body["errors"][field][0]
    for blank in ("   ", "\u3000"):  # white space only, ideographic included
        assert "must not be blank" in _problem(client.post(f"{API}/recipients", json=recipient_data(name=blank),
                                                           headers=coordinator), 422)["errors"]["name"]
    kept = client.post(f"{API}/recipients", json=recipient_data(notes="line one\n\tline two"), headers=coordinator)
    assert kept.status_code == 201 and kept.json["notes"] == "line one\n\tline two"
    # The import applies the same rule, row by row.
    text = HEADER + row(1, name="Warga\u200d Satu") + row(2)
    report = client.post(f"{API}/recipients/import", data=text.encode(), content_type="text/csv", headers=coordinator)
    assert report.status_code == 207, report.json
    assert [(e["row"], e["field"]) for e in report.json["errors"]] == [(2, "name")]


def test_a_cell_beyond_the_csv_limit_is_a_row_error_not_a_500(client, social, areas):
    """A cell longer than the csv module's limit (131,072) refuses its row, and the rows after it
    are read: they are not lost with it."""
    text = HEADER + row(1) + row(2, address="x" * 140_000) + row(3) + row(4, address='"' + "y" * 200_000)
    response = client.post(f"{API}/recipients/import", data=text.encode(), content_type="text/csv", headers=social)
    assert response.status_code == 207, response.json
    assert (response.json["created"], response.json["rejected"]) == (2, 2)
    assert [(e["row"], e["field"]) for e in response.json["errors"]] == [(3, "_row"), (5, "_row")]
    assert "140,000 characters" in response.json["errors"][0]["message"]
    assert response.json["ignored_columns"] == ["no"]  # the sheet's own numbering column


def test_import_columns_may_have_any_name_and_blank_lines_keep_row_numbers(client, social, areas):
    header = HEADER.strip() + ",__extra__,__swallowed__\n"
    text = header + row(1).strip() + ",a,b\n" + "\n" + row(2, nik="1").strip() + ",c,d\n"
    response = client.post(f"{API}/recipients/import", data=text.encode(), content_type="text/csv", headers=social)
    assert response.status_code == 207, response.json
    assert response.json["ignored_columns"] == ["__extra__", "__swallowed__", "no"]
    assert {e["row"] for e in response.json["errors"]} == {4}  # line 3 is blank, as a spreadsheet shows it
    rows = [{"nik": "1", "name": "S", "birth_date": "1952-05-03", "sex": "F", "address": "D",
             "village_code": "35.10.09.2001", "__extra__": 5, "__swallowed__": None}]
    refused = client.post(f"{API}/recipients/import", json=rows, headers=social)
    assert refused.status_code == 422 and refused.json["report"]["ignored_columns"] == ["__extra__", "__swallowed__"]


# 4. Nothing lost in silence ------------------------------------------------------------------------

def test_a_time_with_an_offset_or_seconds_is_refused_not_cut(client, coordinator):
    for value in ("18:00:45+08:00", "18:00:45", "18:00+07:00"):
        response = client.patch(f"{API}/program", json={"schedule_time": value}, headers=coordinator)
        assert "schedule_time" in _problem(response, 422)["errors"], value
    for value in ("20:30", "20:30:00"):
        assert client.patch(f"{API}/program", json={"delivery_cutoff": value},
                            headers=coordinator).json["delivery_cutoff"] == "20:30"


def test_a_photo_upload_with_other_parts_is_refused(client, coordinator, loop):
    from tests.test_deliveries import confirm as confirm_meal

    assert schedule(client, coordinator, TODAY).status_code == 200
    meal = deliveries_of(client, coordinator, date=TODAY.isoformat())[0]
    assert confirm_meal(client, loop.phone_a, meal["id"]).status_code == 200
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 10

    def upload(**parts):
        return client.post(f"{API}/deliveries/{meal['id']}/photo", data=parts, headers=loop.phone_a,
                           content_type="multipart/form-data")

    assert "note" in _problem(upload(file=(io.BytesIO(png), "a.png"), note="x"), 422)["errors"]
    assert "file" in _problem(upload(file=[(io.BytesIO(png), "a.png"), (io.BytesIO(png), "b.png")]), 422)["errors"]


def test_a_body_that_is_not_json_is_415_and_an_empty_patch_422(client, coordinator):
    before = client.get(f"{API}/program", headers=coordinator).json
    body = _problem(client.patch(f"{API}/program", data="name=Rantang", headers=coordinator,
                                 content_type="application/x-www-form-urlencoded"), 415)
    assert "application/json" in body["detail"]
    _problem(client.patch(f"{API}/program", data="{}", headers={**coordinator, "Content-Type": "text/plain"}), 415)
    _problem(client.post(f"{API}/agencies", data='{"name": "Dinas"}', headers={**coordinator,
                                                                              "Content-Type": "text/plain"}), 415)
    for empty in ({"json": {}}, {}):
        assert "_body" in _problem(client.patch(f"{API}/program", headers=coordinator, **empty), 422)["errors"]
    assert client.get(f"{API}/program", headers=coordinator).json == before


def test_a_bad_row_is_refused_and_the_others_kept(client, social, areas):
    text = HEADER + row(1) + row(2, name="Warga\x00Dua") + row(3)
    dry = client.post(f"{API}/recipients/import?dry_run=true", data=text.encode(), content_type="text/csv",
                      headers=social)
    assert dry.status_code == 207 and (dry.json["created"], dry.json["rejected"]) == (2, 1), dry.json
    done = client.post(f"{API}/recipients/import", data=text.encode(), content_type="text/csv", headers=social)
    assert done.status_code == 207 and (done.json["created"], done.json["rejected"]) == (2, 1), done.json
    assert done.json["errors"] == [{"row": 3, "field": "name", "message": "holds U+0000, which cannot be stored"}]
    names = {r["name"] for r in client.get(f"{API}/recipients", headers=social).json["items"]}
    assert names == {"Warga 1", "Warga 3"}


def test_an_unclosed_quote_is_reported_with_every_line_it_took(client, social, areas):
    text = HEADER + row(1) + row(2, address='"Dusun Krajan') + row(3) + row(4) + row(5, address='Jl. A"') + row(6)
    response = client.post(f"{API}/recipients/import", data=text.encode(), content_type="text/csv", headers=social)
    assert response.status_code == 207, response.json
    assert response.json["created"] == 2  # rows 1 and 6 of the file's people
    [error] = response.json["errors"]
    assert error["field"] == "_row" and "lines 3 to 6" in error["message"]


def test_the_import_refuses_a_duplicate_header_and_disagreeing_villages(client, social, areas):
    twice = "nik,name,name,birth_date,sex,address,village_code\n1,a,b,2000-01-01,F,x,35.10.09.2001\n"
    body = _problem(client.post(f"{API}/recipients/import", data=twice.encode(), content_type="text/csv",
                                headers=social), 422)
    assert "'name'" in body["errors"]["file"][0]
    header = HEADER.replace("village_code", "village_id,village_code")
    mixed = row(1).replace("35.10.09.2001", f"{areas['Tembokrejo'].id},35.10.09.2001")
    response = client.post(f"{API}/recipients/import", data=(header + mixed).encode(), content_type="text/csv",
                           headers=social)
    body = _problem(response, 422)
    assert "which is meant" in body["errors"]["2.village_id"][0]


# 5. Data that cannot be true is refused -------------------------------------------------------------

def test_a_home_far_from_its_village_is_refused(client, coordinator, recipient_data, make_recipient, areas):
    for latitude, longitude in ((51.5072, -0.1276), (0.0, 0.0)):  # London, and a phone's default
        body = _problem(client.post(f"{API}/recipients", json=recipient_data(latitude=latitude, longitude=longitude),
                                    headers=coordinator), 422)
        assert "km from the centre" in body["errors"]["latitude"][0]
    person = make_recipient()
    moved = client.patch(f"{API}/recipients/{person['id']}", json={"village_id": areas["Tembokrejo"].id},
                         headers=coordinator)
    assert "village_id" in _problem(moved, 422)["errors"]
    report = client.post(f"{API}/recipients/import", data=(HEADER + row(1, latitude=0, longitude=0)).encode(),
                         content_type="text/csv", headers=coordinator)
    assert "km from the centre" in _problem(report, 422)["errors"]["2.latitude"][0]


def test_inspection_dates_scores_and_the_pass_mark(client, coordinator, health, make_vendor):
    stall = make_vendor(hygiene=None)
    for day in ("0093-05-01", "1324-01-01", "1999-12-31"):
        assert "inspected_on" in _problem(inspect(client, health, stall.id, inspected_on=day), 422)["errors"]
    assert inspect(client, health, stall.id, inspected_on="2003-04-01").status_code == 201  # old paper: history
    assert "pass mark is 70" in _problem(inspect(client, health, stall.id, score=50, passed=True), 422)[
        "errors"]["passed"][0]
    _problem(inspect(client, health, stall.id, score=90, passed=False), 422)
    _problem(inspect(client, health, stall.id, passed=1), 422)  # a JSON boolean, not 1
    changed = client.patch(f"{API}/program", json={"pass_mark": 60}, headers=coordinator)
    assert changed.status_code == 200 and changed.json["pass_mark"] == 60
    assert inspect(client, health, stall.id, score=65, passed=True).status_code == 201


def test_a_day_in_the_future_or_before_the_loop_cannot_be_closed(client, coordinator, loop):
    before = _problem(client.post(f"{API}/deliveries/close", json={"date": (TODAY - dt.timedelta(days=3)).isoformat()},
                                  headers=coordinator), 422)
    assert "no day has been scheduled" in before["errors"]["date"][0]
    assert schedule(client, coordinator, TODAY).status_code == 200
    earlier = (TODAY - dt.timedelta(days=1)).isoformat()
    assert "first day scheduled" in _problem(client.post(f"{API}/deliveries/close", json={"date": earlier},
                                                         headers=coordinator), 422)["errors"]["date"][0]
    future = (TODAY + dt.timedelta(days=2)).isoformat()
    assert "closes at" in _problem(client.post(f"{API}/deliveries/close", json={"date": future},
                                               headers=coordinator), 422)["errors"]["date"][0]


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised():
    assert [spreadsheet_safe(v) for v in ("=HYPERLINK(1)", "+1", "-2+3", "@SUM(A1)", "\tx", "Warung", 5, -3)] == [
        "'=HYPERLINK(1)", "'+1", "'-2+3", "'@SUM(A1)", "'\tx", "Warung", 5, -3]


# 6. Money --------------------------------------------------------------------------------------------

def test_a_price_change_never_changes_what_was_owed(client, coordinator, loop, monkeypatch):
    last_month = (TODAY.replace(day=1) - dt.timedelta(days=1)).replace(day=10)
    for rid in loop.ids:
        db.session.add(Delivery(recipient_id=rid, vendor_id=loop.a.id, village_id=loop.a.village_id,
                                date=last_month, meal="lunch", status="delivered"))
    db.session.commit()
    month = f"{last_month:%Y-%m}"

    def statement(for_month):
        response = client.get(f"{API}/vendors/{loop.a.id}/statement", query_string={"month": for_month},
                              headers=coordinator)
        assert response.status_code == 200, response.json
        return response.json

    before = statement(month)
    assert (before["delivered"], before["amount"]) == (3, 36000)
    raised = client.patch(f"{API}/program", json={"meal_price": 15000}, headers=coordinator)
    assert raised.status_code == 200 and raised.json["meal_price"] == 15000
    assert statement(month) == before  # last month: still 12,000 a meal
    assert schedule(client, coordinator, TODAY).status_code == 200
    meal = deliveries_of(client, coordinator, date=TODAY.isoformat())[0]
    assert confirm(client, loop.phone_a, meal["id"]).status_code == 200
    now = statement(f"{TODAY:%Y-%m}")
    line = next(line for line in now["lines"] if line["date"] == TODAY.isoformat())
    assert (line["meal_price"], line["amount"], now["meal_price"]) == (15000, 15000, 15000)
    if TODAY.day > 1:  # earlier days of this month keep the old price
        assert now["lines"][0]["meal_price"] == 12000



def test_a_statement_reads_the_prices_of_its_own_days(app):
    """``meal_prices(first, last)`` takes the price in force on ``first`` and the changes up to
    ``last``: three years of monthly prices before, one change in the month."""
    from service.program import service as program_service
    from service.program.models import MealPrice
    start = dt.date(2023, 1, 1)
    for n in range(36):
        db.session.add(MealPrice(valid_from=dt.date(start.year + n // 12, n % 12 + 1, 1), price=10000 + 100 * n))
    db.session.add(MealPrice(valid_from=dt.date(2026, 1, 20), price=20000))
    db.session.flush()
    price_on = program_service.meal_prices(dt.date(2026, 1, 10), dt.date(2026, 1, 31))
    assert [price_on(dt.date(2026, 1, d)) for d in (10, 19, 20, 31)] == [10000 + 3500, 13500, 20000, 20000]
    for outside in (dt.date(2026, 1, 9), dt.date(2025, 6, 1), dt.date(2026, 2, 1)):
        with pytest.raises(ValueError, match="not " + outside.isoformat()):
            price_on(outside)  # its price was not read: never a price from another span

# 7. Meals that no stall may cook ---------------------------------------------------------------------

def test_a_failed_stall_keeps_no_meal_that_nobody_else_can_take(client, coordinator, health, loop, make_recipient):
    lonely = make_recipient("enrolled", latitude=-8.33, longitude=114.1668)  # 2.6 km north of A, 6.7 km from B
    assert lonely["vendor_id"] == loop.a.id
    assert schedule(client, coordinator, TODAY).status_code == 200
    meals = deliveries_of(client, coordinator, date=TODAY.isoformat(), recipient_id=lonely["id"])
    assert {m["status"] for m in meals} == {"scheduled"}

    assert inspect(client, health, loop.a.id, score=40, passed=False).status_code == 201
    meals = deliveries_of(client, coordinator, date=TODAY.isoformat(), recipient_id=lonely["id"])
    assert {(m["status"], m["vendor_id"]) for m in meals} == {("cancelled", loop.a.id)}
    assert {m["cause"]["code"] for m in meals} == {"no_stall"}
    uncovered = client.get(f"{API}/recipients/uncovered", headers=coordinator).json["items"]
    assert lonely["id"] in {r["id"] for r in uncovered}
    refused = _problem(confirm(client, loop.phone_a, meals[0]["id"]), 409)
    assert refused["delivery_status"] == "cancelled" and refused["cause"]["code"] == "no_stall"
    statement = client.get(f"{API}/vendors/{loop.a.id}/statement", query_string={"month": f"{TODAY:%Y-%m}"},
                           headers=coordinator).json
    assert statement["delivered"] == 0 and statement["amount"] == 0


# 8. Lists behave alike -------------------------------------------------------------------------------

def test_comma_separated_values_work_for_every_enumerated_filter(client, coordinator, loop, make_vendor):
    make_vendor("Kembiritan", hygiene="failed")
    both = client.get(f"{API}/vendors", query_string={"hygiene_status": "valid,failed"}, headers=coordinator).json
    one = client.get(f"{API}/vendors", query_string={"hygiene_status": "failed"}, headers=coordinator).json
    assert both["total"] == 3 and one["total"] == 1
    assert schedule(client, coordinator, TODAY).status_code == 200
    statuses = client.get(f"{API}/deliveries", query_string={"status": "scheduled,cancelled", "per_page": 500},
                          headers=coordinator).json
    assert statuses["total"] == 6
    tasks = client.get(f"{API}/tasks", query_string={"status": "open,done", "type": "school_visit,other"},
                       headers=coordinator)
    assert tasks.status_code == 200
    for path, query in ((f"{API}/tasks", {"status": "open,nonsense"}), (f"{API}/deliveries", {"status": "x"}),
                        (f"{API}/users", {"role": "coordinator,king"}), (f"{API}/areas", {"kind": "village,city"})):
        assert _problem(client.get(path, query_string=query, headers=coordinator), 422)["errors"], path
    areas = client.get(f"{API}/areas", query_string={"kind": "district,village", "per_page": 100}).json
    assert {a["kind"] for a in areas["items"]} == {"district", "village"}

