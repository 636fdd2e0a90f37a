"""The identity rules on their own (service tests, no HTTP)."""
import datetime as dt

import pytest

from service.demo.data import make_nik
from service.recipients.rules import age_on, identity_errors

TODAY = dt.date(2026, 11, 22)


@pytest.mark.parametrize("birth", [dt.date(1930, 1, 1), dt.date(1944, 2, 29), dt.date(1955, 12, 31),
                                   dt.date(1966, 11, 22)])
@pytest.mark.parametrize("sex", ["F", "M"])
def test_a_nik_made_from_birth_date_and_sex_agrees_with_them(birth, sex):
    nik = make_nik("35.10.09", birth, sex, 17)
    assert len(nik) == 16 and nik[:6] == "351009" and nik[12:] == "0017"
    assert int(nik[6:8]) == birth.day + (40 if sex == "F" else 0)
    assert identity_errors(nik, birth, sex, 60, TODAY) == {}
    assert list(identity_errors(nik, birth, "M" if sex == "F" else "F", 60, TODAY)) == ["sex"]
    assert list(identity_errors(nik, birth + dt.timedelta(days=1), sex, 60, TODAY)) == ["birth_date"]


def test_age_is_counted_on_the_program_day():
    assert age_on(dt.date(1966, 11, 22), TODAY) == 60
    assert age_on(dt.date(1966, 11, 23), TODAY) == 59
    too_young = dt.date(1966, 11, 23)
    errors = identity_errors(make_nik("35.10.09", too_young, "F", 1), too_young, "F", 60, TODAY)
    assert errors == {"birth_date": ["age 59 is under the program's minimum age 60"]}


def test_a_century_is_not_in_the_nik_but_the_future_is_refused():
    born = dt.date(2026, 12, 1)  # same DDMMYY as 1926-12-01, but not born yet
    assert identity_errors(make_nik("35.10.09", born, "M", 1), born, "M", 60, TODAY) == {
        "birth_date": ["is in the future"]}
