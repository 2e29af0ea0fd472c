"""
Session days, weeks and months in a time zone, against the calendar's definition.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import hypothesis.strategies as st
import pytest
from dateutil import tz as dateutil_tz
from hypothesis import given

from perftrack._periods import Calendar
from perftrack.errors import InvalidInputError

ZONES = [
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "America/Sao_Paulo",
    "Asia/Kathmandu",
    "Pacific/Apia",
]
instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
)


class TestSessionOf:
    """An instant belongs to the local calendar day it falls on (weekends to Monday)."""

    @given(when=instants, zone=st.sampled_from(ZONES), weekdays=st.booleans())
    def test_matches_local_date(self, when, zone, weekdays):
        cal = Calendar(zone, "weekdays" if weekdays else "all")
        local = when.astimezone(dateutil_tz.gettz(zone)).date()
        if weekdays and local.weekday() >= 5:
            local += timedelta(days=7 - local.weekday())
        assert local.toordinal() == cal.session_of(when)
        # Asked twice (the cache), the answer is the same.
        assert local.toordinal() == cal.session_of(when)

    @given(when=instants, zone=st.sampled_from(ZONES), weekdays=st.booleans())
    def test_bounds_contain_the_instant(self, when, zone, weekdays):
        cal = Calendar(zone, "weekdays" if weekdays else "all")
        start, end = cal.session_bounds(cal.session_of(when))
        assert start <= when < end

    def test_dst_days_are_23_and_25_hours(self):
        cal = Calendar("America/New_York")
        spring = date(2025, 3, 9).toordinal()
        autumn = date(2025, 11, 2).toordinal()
        assert [timedelta(hours=23), timedelta(hours=25)] == [
            cal.session_bounds(o)[1] - cal.session_bounds(o)[0] for o in (spring, autumn)
        ]

    def test_midnight_that_does_not_exist(self):
        # Clocks in Sao Paulo jumped from 00:00 to 01:00 on 2018-11-04.
        cal = Calendar("America/Sao_Paulo")
        start, end = cal.session_bounds(date(2018, 11, 4).toordinal())
        assert timedelta(hours=23) == end - start


class TestPeriods:
    """Weeks are ISO weeks from Monday; months are calendar months; counts are exact."""

    @given(day=st.dates(min_value=date(2000, 1, 1), max_value=date(2035, 1, 1)))
    def test_week_and_month(self, day):
        cal = Calendar()
        first, last = cal.period_days("week", day.toordinal())
        assert date.fromordinal(first).weekday() == 0 and last - first == 6
        first, last = cal.period_days("month", day.toordinal())
        assert date.fromordinal(first) == day.replace(day=1)
        assert date.fromordinal(last + 1).day == 1 and date.fromordinal(last).month == day.month

    @given(a=st.integers(730000, 740000), span=st.integers(-3, 400), weekdays=st.booleans())
    def test_count_session_days(self, a, span, weekdays):
        cal = Calendar("UTC", "weekdays" if weekdays else "all")
        assert len(cal.session_days(a, a + span)) == cal.count_session_days(a, a + span)

    @pytest.mark.parametrize(("zone", "calendar"), [("Nowhere/City", "all"), ("UTC", "daily")])
    def test_bad_configuration(self, zone, calendar):
        with pytest.raises(InvalidInputError):
            Calendar(zone, calendar)
