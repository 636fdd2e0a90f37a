"""The OpenAPI document against the wire: schemathesis sends generated requests to every
operation, as a coordinator, a stall, an approved volunteer and an anonymous caller, and fails
on any 5xx, any answer that does not match its documented schema or media type, and any
undocumented status.

``RANTANG_FUZZ_EXAMPLES`` (10 by default) sets the examples per operation and caller."""
from __future__ import annotations

import itertools
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from blueprints import create_web_app
from service.accounts import service as accounts
from service.accounts.scope import Scope
from service.extensions import db
from service.volunteers import service as volunteers
from tests.conftest import TEST_CONFIG

EXAMPLES = int(os.environ.get("RANTANG_FUZZ_EXAMPLES", "10"))


def _document() -> dict:
    """The OpenAPI document, as an app on a database of its own serves it."""
    app = create_web_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    try:
        return app.test_client().get("/api/v1/openapi.json").get_json()
    finally:
        app.extensions["rantang_callers"].stop()


# Signing out revokes the token it is called with: every example gets a token of its own (below),
# but the checks that send a case again reuse it. Every other operation is fuzzed.
schema = schemathesis.openapi.from_dict(_document()).exclude(method="DELETE", path="/api/v1/auth/token")

# Unknown query parameters are ignored on purpose (cache busters); the token comes from the test.
schema.config.generation.update(allow_extra_parameters=False, with_security_parameters=False)

# Every check but one: "a request the schema allows is accepted" cannot hold for rules the schema
# cannot state (an id that exists, a NIK that agrees with the birth date, a date not yet closed);
# those answer a documented 404, 409 or 422 with what is wrong.
EXCLUDED_CHECKS = [positive_data_acceptance]


def call(case, app, headers: dict) -> None:
    """Send the case to the test's app (with its rolled-back database) and run every check."""
    case.operation.app = case.operation.schema.app = app
    # Schemathesis' WSGI transport reads bodies as sent: ask for them uncompressed (compression is
    # tested on its own, tests/test_pages_meals.py).
    case.call_and_validate(headers={**headers, "Accept-Encoding": "identity"}, excluded_checks=EXCLUDED_CHECKS)


def fresh_token(user) -> dict:
    """A new token of ``user`` for each example: an example that revokes the user's tokens (or
    changes their password) leaves the next one signed in."""
    token, _ = accounts.issue_token(user.email, "password-1")
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


VOLUNTEER_PASSWORD = "relawan-banyuwangi-7"


@pytest.fixture
def stage(make_vendor, make_recipient, make_user, areas):
    """A registry with a stall that may cook and an enrolled recipient it feeds, and a verified one
    nobody reaches; a coordinator, the stall's user and an approved volunteer near them."""
    stall = make_vendor("Kaliasin")
    make_recipient("enrolled")
    make_recipient("verified", latitude=-8.3560, longitude=114.1690)
    return {"stall": stall, "coordinator": make_user("coordinator")[0],
            "vendor": make_user("vendor", vendor_id=stall.id)[0], "village_id": areas["Kaliasin"].id}


_volunteers = itertools.count(1000)


def new_volunteer(village_id: int) -> dict:
    """An approved volunteer of their own for each example, signed in: an example that closes the
    account (or fills its capacity) leaves the next one a volunteer who can act."""
    n = next(_volunteers)
    helper = volunteers.sign_up("Dewi Lestari", f"0812 7777 {n}", VOLUNTEER_PASSWORD, village_id,
                                ["deliver", "visit"], email=f"relawan{n}@fuzz.example", capacity=5,
                                accepts_code_of_conduct=True)
    volunteers.decide(helper.id, "approve", scope=Scope.system("test"))
    token, _ = accounts.issue_token(helper.email, VOLUNTEER_PASSWORD)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_as_coordinator(case, app, stage):
    call(case, app, fresh_token(stage["coordinator"]))


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_as_stall(case, app, stage):
    call(case, app, fresh_token(stage["vendor"]))


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_as_volunteer(case, app, stage):
    call(case, app, new_volunteer(stage["village_id"]))


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_anonymous(case, app, stage):
    call(case, app, {})
