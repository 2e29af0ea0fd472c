"""
Input normalisation: exact Decimals, aware times, names and tags, with typed errors.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import hypothesis.strategies as st
import pytest
from hypothesis import given

from perftrack._convert import to_date_or_time, to_decimal, to_name, to_side, to_tags, to_time
from perftrack.errors import InvalidInputError, InvalidTradeError


class TestToDecimal:
    """Numbers become exact Decimals; floats go through str()."""

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (0.1, Decimal("0.1")),
            ("1.50", Decimal("1.50")),
            (3, Decimal(3)),
            (Decimal("2"), Decimal(2)),
        ],
    )
    def test_accepted(self, value, expected):
        got = to_decimal("price", value)
        assert (expected, str(expected)) == (got, str(got))

    @pytest.mark.parametrize("value", [True, None, "abc", float("inf"), "NaN", [1], "-0.5", 0])
    def test_refused_with_field_and_value(self, value):
        with pytest.raises(InvalidTradeError, match=r"^'price' .*\(got "):
            to_decimal("price", value)

    @pytest.mark.parametrize(
        "value", [1.7976931348623157e308, "1e100", "-1e999998", "1e-101", Decimal("1e-999")]
    )
    def test_refused_out_of_range(self, value):
        # A feed's "no price" sentinel (the largest double) is refused, not computed with.
        with pytest.raises(InvalidTradeError, match=r"^'price' must be below 1e100 .*\(got "):
            to_decimal("price", value, minimum="any")

    @pytest.mark.parametrize("value", ["9.99e99", "1e-100", "-1e-100", "0E-999"])
    def test_accepted_at_the_ends_of_the_range(self, value):
        assert Decimal(value) == to_decimal("price", value, minimum="any")

    @given(
        st.decimals(allow_nan=False, allow_infinity=False).filter(
            lambda d: not d or -100 <= d.adjusted() <= 99
        )
    )
    def test_any_finite_decimal_in_range_round_trips_through_str(self, value):
        assert value == to_decimal("x", str(value), minimum="any")


class TestTimes:
    """Times must carry an offset."""

    def test_a_zone_with_rules_becomes_its_fixed_offset(self):
        from datetime import timedelta
        from zoneinfo import ZoneInfo

        zone = ZoneInfo("America/New_York")
        before = to_time("t", datetime(2025, 3, 8, 10, 0, tzinfo=zone))  # EST
        after = to_time("t", datetime(2025, 3, 10, 10, 0, tzinfo=zone))  # EDT
        assert before.isoformat() == "2025-03-08T10:00:00-05:00"
        assert after.isoformat() == "2025-03-10T10:00:00-04:00"
        # Same zone, wall-clock arithmetic would say 48 hours; the instants are 47 apart.
        assert after - before == timedelta(hours=47)
        # The repeated hour: 01:30 EDT comes before 01:10 EST.
        first = to_time("t", datetime(2025, 11, 2, 1, 30, tzinfo=zone))
        second = to_time("t", datetime(2025, 11, 2, 1, 10, tzinfo=zone, fold=1))
        assert first < second
        assert second - first == timedelta(minutes=40)

    def test_iso_with_offset(self):
        assert datetime(2025, 1, 2, 3, tzinfo=UTC) == to_time("t", "2025-01-02T03:00:00Z")

    @pytest.mark.parametrize("value", ["2025-01-02T03:00:00", datetime(2025, 1, 1), 17, "soon"])
    def test_refused(self, value):
        with pytest.raises(InvalidTradeError, match="'t'"):
            to_time("t", value)

    def test_window_bounds(self):
        assert to_date_or_time("start", "2025-01-02").isoformat() == "2025-01-02"
        with pytest.raises(InvalidInputError, match="'start'"):
            to_date_or_time("start", "2025-13-02")


class TestLabels:
    """Sides and tags are normalised."""

    def test_side(self):
        assert to_side(" SHORT ") == "short"

    def test_tags_deduplicated_in_order(self):
        assert to_tags(["b", "a", "b"]) == ("b", "a")
        assert to_tags("gap") == ("gap",)

    @pytest.mark.parametrize("repeat", [1, 2, 3])
    def test_a_name_or_tag_tuple_seen_before_is_normalised_the_same(self, repeat):
        # The second call of each comes from the cache of texts seen.
        for _ in range(repeat):
            assert to_name("symbol", "  NVDA ") == "NVDA"
            assert to_name("symbol", "NVDA") == "NVDA"
            assert to_tags((" gap", "gap ", "vol")) == ("gap", "vol")

    @pytest.mark.parametrize("value", ["", "  ", "a\x00b"])
    def test_a_refused_name_stays_refused(self, value):
        for _ in range(2):
            with pytest.raises(InvalidTradeError, match="'symbol'"):
                to_name("symbol", value)

    @pytest.mark.parametrize("value", [(["x"],), ("ok", ""), ("ok", 3), (" ",)])
    def test_a_refused_tag_tuple_stays_refused(self, value):
        for _ in range(2):
            with pytest.raises(InvalidTradeError, match="'tags'"):
                to_tags(value)
