from sqlalchemy import func, select

from service.extensions import db
from service.program.models import Area
from service.recipients.models import Recipient
from service.recipients.rules import identity_errors


def test_demo_load_builds_a_believable_program(cli, client):
    result = cli.invoke(args=["demo", "load", "--recipients", "120"])
    assert result.exit_code == 0, result.output
    assert "koordinator@rantang.example" in result.output
    statuses = dict(db.session.execute(select(Recipient.status, func.count()).group_by(Recipient.status)).all())
    assert set(statuses) == {"candidate", "verified", "rejected", "enrolled", "exited"}
    assert sum(statuses.values()) == 120
    districts = db.session.scalar(select(func.count()).where(Area.kind == "district"))
    villages = db.session.scalar(select(func.count()).where(Area.kind == "village"))
    assert districts == 15 and villages == 135
    for r in db.session.scalars(select(Recipient)).all():
        assert identity_errors(r.nik, r.birth_date, r.sex, 60, r.created_at.date()) == {}
    # every demo login works, and the social agency sees the registry
    token = client.post("/api/v1/auth/token", json={"email": "sosial@rantang.example", "password": "rantang-demo"})
    assert token.status_code == 201
    listed = client.get("/api/v1/recipients?status=enrolled", headers={"Authorization": f"Bearer {token.json['token']}"})
    assert listed.json["total"] == statuses["enrolled"]
    paused = [r for r in db.session.scalars(select(Recipient)).all() if r.pauses]
    assert paused and all(r.status == "enrolled" for r in paused)

    again = cli.invoke(args=["demo", "load"])
    assert again.exit_code != 0 and "empty" in again.output
    skipped = cli.invoke(args=["demo", "load", "--if-empty"])
    assert skipped.exit_code == 0 and "not loaded" in skipped.output and "rantang-demo" in skipped.output
