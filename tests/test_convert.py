"""
Input normalisation: exact Decimals, aware times, names and tags, with typed errors.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import hypothesis.strategies as st
import pytest
from hypothesis import given

from perftrack._convert import (
    amounts_hold,
    generated_number,
    round_trip_fields,
    to_date_or_time,
    to_decimal,
    to_name,
    to_optional_decimal,
    to_side,
    to_tags,
    to_time,
)
from perftrack._model import RECORD_TRADE_ARGS
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


class TestGeneratedNumber:
    @pytest.mark.parametrize(
        ("name", "prefix", "number"),
        [
            ("pt-12", "pt-", 12),
            ("pt-007", "pt-", 7),
            ("pt-\u0663", "pt-", 3),  # an Arabic-Indic three: decimal, and int() reads it
            ("idea-4", "idea-", 4),
            ("pt-\u00b2", "pt-", None),  # a digit, not decimal: int() refuses it
            ("pt-1\u00b2", "pt-", None),
            ("pt-", "pt-", None),
            ("pt-1a", "pt-", None),
            ("pt- 1", "pt-", None),
            ("idea-4", "pt-", None),
            ("xpt-4", "pt-", None),
        ],
    )
    def test_numbers_of_generated_looking_ids(self, name, prefix, number):
        assert number == generated_number(name, prefix)


_ROUND_TRIP_GOOD = (
    "AAPL",
    "long",
    10,
    "187.20",
    "189.05",
    datetime(2024, 1, 2, 14, tzinfo=UTC),
    datetime(2024, 1, 2, 15, tzinfo=UTC),
    "1.00",
    "breakout",
    "186.00",
    None,
    ("gap", "volume"),
)
# record_trade's arguments from symbol to tags: the ones round_trip_fields checks.
_ROUND_TRIP_FIELDS = RECORD_TRADE_ARGS[1:13]


def _one_by_one(values: tuple[object, ...]) -> tuple[object, ...]:
    sym, side, qty, entry, exit_, t_in, t_out, fees, strat, stop, target, tags = values
    return (
        to_name("symbol", sym),
        to_side(side),
        to_decimal("quantity", qty),
        to_decimal("entry_price", entry),
        to_decimal("exit_price", exit_),
        to_time("entry_time", t_in),
        to_time("exit_time", t_out),
        to_decimal("fees", fees, minimum="nonnegative"),
        to_name("strategy", strat),
        to_optional_decimal("stop_price", stop),
        to_optional_decimal("target_price", target),
        to_tags(tags),
    )


class TestRoundTripFields:
    """record_trade's one-call validation gives the one-by-one values and errors."""

    # Values that are cached once seen but wrong for some field (a zero fee is a zero
    # price), of types the lookups skip (bool, float, Decimal, a str subclass), and bad ones.
    ODD = (
        "0",
        0,
        "-1",
        True,
        1.5,
        float("nan"),
        Decimal("2.5"),
        Decimal("-2"),
        Decimal("NaN"),
        " 7 ",
        "x",
        None,
        "",
        "short",
        " Long ",
        "2024-01-02T14:00:00+00:00",
        datetime(2024, 1, 2, 14),
        ("gap", ["unhashable"]),
        ("gap", "gap"),
        type("Text", (str,), {})("3"),
    )

    @pytest.mark.parametrize("field", range(12))
    @pytest.mark.parametrize("odd", ODD)
    def test_each_field_each_odd_value(self, field, odd):
        values = list(_ROUND_TRIP_GOOD)
        values[field] = odd
        for _ in range(2):  # cold, then with whatever the first call cached
            try:
                expected: object = _one_by_one(tuple(values))
            except InvalidTradeError as error:
                expected = (type(error), str(error))
            try:
                actual: object = round_trip_fields(*values)
            except InvalidTradeError as error:
                actual = (type(error), str(error))
            assert repr(expected) == repr(actual), _ROUND_TRIP_FIELDS[field]

    def test_first_bad_field_is_named(self):
        values = list(_ROUND_TRIP_GOOD)
        values[2] = "0"  # quantity
        values[7] = "-1"  # fees
        with pytest.raises(InvalidTradeError, match="'quantity'"):
            round_trip_fields(*values)


def test_a_set_of_tags_holding_a_non_string_is_an_invalid_trade() -> None:
    # sorted() of {"a", 1} raised TypeError before the items were checked.
    with pytest.raises(InvalidTradeError, match="'tags'"):
        to_tags({"a", 1})
    assert to_tags({"b", "a"}) == ("a", "b")


class TestAmountsHold:
    """A column of Decimals holds exactly when to_decimal takes each of them."""

    @given(
        st.lists(
            st.sampled_from(
                ["1", "0", "-0", "-1", "1e99", "1e100", "1e-100", "1e-101", "NaN", "Infinity"]
            ).map(Decimal),
            max_size=5,
        ),
        st.sampled_from(["positive", "nonnegative", "any"]),
    )
    def test_same_as_to_decimal(self, values, minimum):
        def taken(value: Decimal) -> bool:
            try:
                to_decimal("x", value, minimum=minimum)
            except InvalidInputError:
                return False
            return True

        assert amounts_hold(values, minimum=minimum) == all(map(taken, values))
