"""Bulk import by the data agency: API (multipart CSV, CSV body, JSON) and CLI."""
import io
import json

from sqlalchemy import func, select, text

from service.db import on_citus
from service.demo.data import make_nik
from service.extensions import db
from service.recipients.models import Recipient
from tests.conftest import birth_of_age

HEADER = "nik,name,birth_date,sex,address,village_code,latitude,longitude,dietary_needs,No\n"


def row(serial, sex="F", age=70, **over):
    birth = birth_of_age(age)
    values = {"nik": make_nik("35.10.09", birth, "F" if sex in "FP" else "M", serial), "name": f"Warga {serial}",
              "birth_date": birth.isoformat(), "sex": sex, "address": f"Dusun Krajan RT {serial:02d}",
              "village_code": "35.10.09.2001", "latitude": "", "longitude": "", "dietary_needs": "soft food;low salt",
              "No": str(serial)}
    values.update(over)
    return ",".join(str(values[k]) for k in HEADER.strip().split(",")) + "\n"


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Recipient))


def csv_with_broken_rows() -> str:
    return HEADER + "".join([
        row(1),                                    # line 2: good, at the village centre
        row(2, sex="M", latitude="-8.35", longitude="114.17"),  # line 3: good, with GPS
        row(3, sex="M", nik=make_nik("35.10.09", birth_of_age(70), "F", 3)),  # line 4: NIK says a woman
        row(4, birth_date="1950-13-01"),           # line 5: not a date
        row(5, age=40),                            # line 6: too young
        row(1),                                    # line 7: duplicate of line 2
        row(7, village_code="nowhere"),            # line 8: unknown village
        row(8, nik="3.51009E+15"),                 # line 9: a spreadsheet ate the NIK
        row(9, sex="P"),                           # line 10: P(erempuan) is F
    ])


def test_a_csv_with_broken_rows(client, make_user, areas):
    _, data_agency = make_user("agency", "data")
    before = count()
    response = client.post("/api/v1/recipients/import", headers=data_agency,
                           data={"file": (io.BytesIO(csv_with_broken_rows().encode()), "daftar.csv")})
    assert response.status_code == 207, response.json  # some rows taken, some refused
    report = response.json
    assert (report["created"], report["duplicates"], report["rejected"]) == (3, 1, 5)
    assert {(e["row"], e["field"]) for e in report["errors"]} == {
        (4, "sex"), (5, "birth_date"), (6, "birth_date"), (8, "village_id"), (9, "nik")}
    assert report["duplicate_rows"] == [{"row": 7, "nik": report["duplicate_rows"][0]["nik"], "existing_id": None,
                                         "first_row": 2, "region": None}]
    assert report["ignored_columns"] == ["no"]
    assert count() == before + 3
    made = client.get("/api/v1/recipients?q=Warga", headers=data_agency).json["items"]
    assert [(r["location_source"], r["dietary_needs"]) for r in made] == [
        ("village", ["soft food", "low salt"]), ("gps", ["soft food", "low salt"]),
        ("village", ["soft food", "low salt"])]
    assert made[0]["latitude"] == areas["Kaliasin"].latitude and made[2]["sex"] == "F"
    # a second import of the same file creates nothing: every good row is now a duplicate
    again = client.post("/api/v1/recipients/import", headers=data_agency, data=csv_with_broken_rows(),
                        content_type="text/csv").json
    assert (again["created"], again["duplicates"]) == (0, 4)
    assert [(d["row"], d["existing_id"], d["first_row"]) for d in again["duplicate_rows"]] == [
        (2, made[0]["id"], None), (3, made[1]["id"], None), (7, None, 2), (10, made[2]["id"], None)]


def test_dry_run_creates_nothing(client, social, areas):
    before = count()
    response = client.post("/api/v1/recipients/import?dry_run=true", headers=social,
                           data=csv_with_broken_rows(), content_type="text/csv")
    assert response.json["dry_run"] is True and response.json["created"] == 3
    assert count() == before


def test_semicolon_csv_from_a_spreadsheet_with_a_bom(client, social, areas):
    rows = row(21, dietary_needs="soft food") + row(22, sex="M", dietary_needs="")
    text = "\ufeff" + (HEADER + rows + row(23)).replace(",", ";")  # row 23's needs hold a ';', unquoted
    response = client.post("/api/v1/recipients/import", headers=social, data=text.encode(), content_type="text/csv")
    assert response.status_code == 207 and response.json["created"] == 2, response.json
    assert response.json["errors"] == [{"row": 4, "field": "_row", "message": response.json["errors"][0]["message"]}]
    assert "quote" in response.json["errors"][0]["message"]


def test_a_json_list(client, social, areas, recipient_data):
    rows = [recipient_data(), recipient_data(sex="M"), {"name": "No NIK"}]
    response = client.post("/api/v1/recipients/import", headers=social, json=rows)
    report = response.json
    assert (report["created"], report["rejected"]) == (2, 1)
    assert {e["field"] for e in report["errors"] if e["row"] == 3} >= {"nik", "birth_date", "sex", "address"}


def test_files_that_cannot_be_imported_are_422(client, social, areas):
    cases = [
        (dict(data="nik,name\n1,2\n", content_type="text/csv"), "file"),  # missing columns
        (dict(data="".encode("utf-16"), content_type="text/csv"), "file"),
        (dict(data="nik,name\xff".encode("latin-1"), content_type="text/csv"), "file"),  # not UTF-8
        (dict(data=b"", content_type="text/csv"), "file"),
        (dict(json={"nik": "1"}), "_body"),
        (dict(json=[1, 2]), "file"),
        (dict(data={}, content_type="multipart/form-data"), "file"),
    ]
    for kwargs, field in cases:
        response = client.post("/api/v1/recipients/import", headers=social, **kwargs)
        assert response.status_code == 422, (kwargs, response.json)
        assert field in response.json["errors"], (kwargs, response.json)


def test_malformed_json_is_400_and_another_type_415(client, social, areas):
    """As on every endpoint: JSON that does not parse is a 400 saying where; a body of a type the
    import does not read (curl's default -d) is a 415 naming the types it reads."""
    response = client.post("/api/v1/recipients/import", headers=social, data="[", content_type="application/json")
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert "not valid JSON" in response.json["detail"] and "line 1" in response.json["detail"]
    response = client.post("/api/v1/recipients/import", headers=social, data="x",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415 and "text/csv" in response.json["detail"]


def test_only_registry_staff_import(client, make_user, areas):
    _, health = make_user("agency", "health")
    response = client.post("/api/v1/recipients/import", headers=health, data=HEADER + row(1), content_type="text/csv")
    assert response.status_code == 403


def test_an_oversized_upload_is_413(app, client, social):
    body = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/api/v1/recipients/import", headers=social, data=body, content_type="text/csv")
    assert response.status_code == 413 and response.mimetype == "application/problem+json"


def test_the_cli_imports_with_a_report(cli, tmp_path, areas):
    path = tmp_path / "daftar.csv"
    path.write_text(csv_with_broken_rows())
    before = count()
    dry = cli.invoke(args=["recipients", "import", str(path), "--dry-run"])
    assert dry.exit_code == 0 and "would create 3, duplicates 1, rejected 5" in dry.output
    assert count() == before
    result = cli.invoke(args=["recipients", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "created 3, duplicates 1, rejected 5" in result.output
    assert "row 4: sex: the NIK encodes sex F" in result.output
    assert count() == before + 3

    as_json = tmp_path / "daftar.json"
    as_json.write_text(json.dumps([{"nik": "1"}]))
    missing = cli.invoke(args=["recipients", "import", str(as_json)])
    assert missing.exit_code != 0 and "missing columns: name, birth_date" in missing.output
    as_json.write_text("{broken")
    broken = cli.invoke(args=["recipients", "import", str(as_json)])
    assert broken.exit_code != 0 and "not valid JSON" in broken.output


def test_imported_rows_are_in_the_audit_trail(client, social, coordinator, areas):
    response = client.post("/api/v1/recipients/import", headers=social, data=HEADER + row(31), content_type="text/csv")
    rid = client.get("/api/v1/recipients?q=Warga 31", headers=social).json["items"][0]["id"]
    assert response.json["created"] == 1
    events = client.get(f"/api/v1/audit?entity=recipient&entity_id={rid}", headers=coordinator).json["items"]
    assert len(events) == 1 and events[0]["action"] == "create"
    assert events[0]["changes"]["status"] == [None, "candidate"]


def test_a_large_import_is_inserted_in_bulk_with_its_audit_trail(client, social, coordinator, areas):
    # Large enough for PostgreSQL's COPY path (service.db.COPY_FROM_ROWS).
    rows = [row(100 + i, sex="FM"[i % 2]) for i in range(250)]
    report = client.post("/api/v1/recipients/import", headers=social, data=HEADER + "".join(rows),
                         content_type="text/csv").json
    assert (report["created"], report["rejected"], report["duplicates"]) == (250, 0, 0)
    listed = client.get("/api/v1/recipients?q=Warga&per_page=500", headers=social).json
    assert listed["total"] == 250
    assert [r["name"] for r in listed["items"]] == [f"Warga {100 + i}" for i in range(250)]
    assert listed["items"][0]["dietary_needs"] == ["soft food", "low salt"]
    assert listed["items"][0]["created_at"].endswith("+00:00")
    last = listed["items"][-1]
    events = client.get(f"/api/v1/audit?entity=recipient&entity_id={last['id']}", headers=coordinator).json["items"]
    assert events[0]["changes"]["nik"] == [None, last["nik"]]
    # the ids drawn for the bulk insert leave the sequence ahead: the next registration works
    assert client.post("/api/v1/recipients", json={**_body(999)}, headers=social).status_code == 201


def planner_rows(table: str) -> int | None:
    """How many rows PostgreSQL's planner statistics say ``table`` holds (-1: never counted);
    on SQLite, None while no statistics exist (the service writes none there)."""
    if on_citus(db.session.connection()):  # the statistics Citus plans with are its shards', on the workers
        return int(db.session.scalar(text(
            "SELECT sum(result::real) FROM run_command_on_shards(:t, "
            "$$SELECT reltuples FROM pg_class WHERE oid = '%s'::regclass$$)"), {"t": table}))
    if db.session.connection().dialect.name == "postgresql":
        return int(db.session.scalar(text("SELECT reltuples FROM pg_class WHERE relname = :t"), {"t": table}))
    return db.session.scalar(text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")) or None


def test_a_large_import_refreshes_the_planners_statistics(client, social, areas, monkeypatch):
    """Scheduling right after a big import must not plan on statistics from before it (PostgreSQL;
    SQLite plans better without any, see ``service.db.refresh_statistics``)."""
    from service.recipients import importing

    monkeypatch.setattr(importing, "STATISTICS_AFTER_ROWS", 40)
    small = client.post("/api/v1/recipients/import", headers=social, content_type="text/csv",
                        data=HEADER + "".join(row(500 + i) for i in range(39))).json
    assert small["created"] == 39 and planner_rows("recipients") != count()  # small: left to autovacuum
    large = client.post("/api/v1/recipients/import", headers=social, content_type="text/csv",
                        data=HEADER + "".join(row(600 + i) for i in range(40))).json
    assert large["created"] == 40 and count() == 79
    postgres = db.session.connection().dialect.name == "postgresql"
    assert planner_rows("recipients") == (79 if postgres else None)


def _body(serial):
    birth = birth_of_age(75)
    return {"nik": make_nik("35.10.09", birth, "M", serial), "name": "Slamet", "birth_date": birth.isoformat(),
            "sex": "M", "address": "Dusun Krajan", "village_id": db.session.scalar(
                select(Recipient.village_id).limit(1))}


def test_the_import_refuses_what_a_single_registration_refuses(client, social, recipient_data):
    """One set of field rules for both ways in: a phone that is not a number, a dietary need too
    long, too many needs, a name too long."""
    bad = {"phone": "call my son", "dietary_needs": ["x" * 80], "name": "N" * 201}
    many = {"dietary_needs": [f"need {n}" for n in range(21)]}
    for fields in (bad, many):
        body = recipient_data(**fields)
        single = client.post("/api/v1/recipients", json=body, headers=social)
        assert single.status_code == 422, single.json
        refused = client.post("/api/v1/recipients/import", json=[body], headers=social)
        assert refused.status_code == 422 and refused.mimetype == "application/problem+json", refused.json
        report = refused.json["report"]
        assert report["created"] == 0 and report["rejected"] == 1, report
        assert {e["field"] for e in report["errors"]} == {f.split(".")[0] for f in single.json["errors"]} == set(fields)
    fine = client.post("/api/v1/recipients/import", json=[recipient_data(phone="(0333) 424 242")], headers=social)
    assert fine.json["created"] == 1
