"""
The Tracker's behaviour by example: accounting, windows, bad input, threads and signals.
"""

from __future__ import annotations

import inspect
import json
import math
import subprocess
import sys
import threading
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, getcontext, localcontext
from typing import Any

import attrs
import hypothesis.strategies as st
import pytest
import structlog
from hypothesis import given

import perftrack as pt
from perftrack import errors, signals
from tests.observe import fingerprint

T0 = datetime(2025, 3, 3, 14, 0, tzinfo=UTC)  # a Monday


def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def trade(tracker: pt.Tracker, exit_price: Any, at: float, **kw: Any) -> pt.Trade:
    args: dict[str, Any] = {
        "symbol": "AAPL",
        "side": "long",
        "quantity": 10,
        "entry_price": "100",
        "exit_price": exit_price,
        "entry_time": hours(at - 0.5),
        "exit_time": hours(at),
        "fees": "1",
    }
    args.update(kw)
    return tracker.record_trade(**args)


@pytest.fixture(name="tracker")
def _tracker() -> pt.Tracker:
    return pt.Tracker(starting_equity="10000")


class TestPublicSurface:
    """The names, defaults and fields the foundation fixed, exactly."""

    def test_a_starting_equity_alone_makes_a_tracker(self):
        tracker = pt.Tracker(starting_equity="2500")
        assert ("UTC", "all", 365.0, Decimal(2500)) == (
            tracker.timezone,
            tracker.calendar,
            tracker.periods_per_year,
            tracker.starting_equity,
        )
        assert 252.0 == pt.Tracker(starting_equity="1", calendar="weekdays").periods_per_year

    @pytest.mark.parametrize(
        ("method", "expected"),
        [
            (
                "record_trade",
                "(symbol, side, quantity, entry_price, exit_price, entry_time, exit_time, "
                "fees=0, strategy='default', stop_price=None, target_price=None, tags=(), "
                "trade_id=None, *, net_pnl=None, idea_id=None, realizations=None)",
            ),
            (
                "open_trade",
                "(trade_id, *, symbol, side, quantity, price, time, fees=0, "
                "strategy='default', stop_price=None, target_price=None, tags=(), idea_id=None)",
            ),
            ("add_to_trade", "(trade_id, *, quantity, price, time, fees=0, event_id=None)"),
            (
                "close_trade",
                "(trade_id, *, price, time, quantity=None, fees=0, event_id=None)",
            ),
            ("mark_price", "(symbol, price, time=None, *, event_id=None)"),
            (
                "summary",
                "(period='all', *, at=None, start=None, end=None, strategy=None, symbol=None, "
                "side=None, tag=None)",
            ),
            ("rolling", "(n, *, strategy=None, symbol=None, side=None, tag=None)"),
            ("breakdown", "(by, *, period='all', at=None, start=None, end=None)"),
            (
                "periods",
                "(period, *, start=None, end=None, strategy=None, symbol=None, side=None, "
                "tag=None)",
            ),
            ("daily_returns", "(*, start=None, end=None)"),
            ("equity_curve", "()"),
            (
                "trades",
                "(*, start=None, end=None, strategy=None, symbol=None, side=None, tag=None)",
            ),
        ],
    )
    def test_method_signatures(self, method, expected):
        sig = inspect.signature(getattr(pt.Tracker, method))
        params = [p.replace(annotation=inspect.Parameter.empty) for p in sig.parameters.values()]
        shown = sig.replace(parameters=params[1:], return_annotation=inspect.Signature.empty)
        assert expected == str(shown)

    def test_summary_fields(self):
        issue = [
            "period",
            "start",
            "end",
            "trades",
            "wins",
            "losses",
            "breakeven",
            "win_rate",
            "gross_profit",
            "gross_loss",
            "fees",
            "net_pnl",
            "avg_win",
            "avg_loss",
            "payoff_ratio",
            "profit_factor",
            "expectancy",
            "best_trade",
            "worst_trade",
            "current_streak",
            "max_win_streak",
            "max_loss_streak",
            "max_drawdown",
            "max_drawdown_pct",
            "avg_r_multiple",
            "sharpe",
            "sortino",
            "sqn",
            "avg_holding_time",
            "open_trades",
            "unrealized_pnl",
            "partial",
            "note",
        ]
        # scope (the filter a summary was taken with) is the one addition, documented.
        assert [*issue, "scope"] == [f.name for f in attrs.fields(pt.Summary)]
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            pt.Summary(period="all", start=None, end=None).trades = 1  # type: ignore[misc]

    def test_closed_trade_fields(self, tracker):
        t = trade(tracker, "101", 1, stop_price="99", tags=("x",))
        data = t.to_dict()
        for name in [
            "trade_id",
            "symbol",
            "strategy",
            "side",
            "quantity",
            "entry_price",
            "exit_price",
            "entry_time",
            "exit_time",
            "fees",
            "gross_pnl",
            "net_pnl",
            "r_multiple",
            "tags",
            "outcome",
        ]:
            assert name in data, name
        json.dumps(data)

    def test_live_fields(self, tracker):
        names = {f.name for f in attrs.fields(pt.LiveStats)}
        assert {
            "equity",
            "realized_pnl",
            "unrealized_pnl",
            "peak_equity",
            "drawdown",
            "drawdown_pct",
            "max_drawdown",
            "max_drawdown_pct",
            "open_trades",
        } <= names

    def test_inputs_accept_decimal_int_str_float_and_iso_times(self, tracker):
        t = tracker.record_trade(
            "X",
            "long",
            0.1,
            Decimal("1.1"),
            "1.2",
            "2025-03-03T15:00:00+01:00",
            "2025-03-03T14:30:00Z",
            fees=0,
        )
        assert (Decimal("0.1"), Decimal("0.01")) == (t.quantity, t.net_pnl)
        assert "pt-1" == t.trade_id


class TestAccounting:
    """Money is exact: gross, fees and net follow the definitions to the last digit."""

    def test_long_and_short_round_trips(self, tracker):
        win = trade(tracker, "101.5", 1)
        loss = trade(tracker, "101.5", 2, side="short", fees="0.5")
        assert (Decimal("15.0"), Decimal("14.0"), "win") == (
            win.gross_pnl,
            win.net_pnl,
            win.outcome,
        )
        assert (Decimal("-15.0"), Decimal("-15.5"), "loss") == (
            loss.gross_pnl,
            loss.net_pnl,
            loss.outcome,
        )
        summary = tracker.summary()
        assert Decimal("-1.5") == summary.net_pnl
        assert Decimal("1.5") == summary.fees
        assert summary.win_rate == 0.5

    def test_partial_exits_and_scale_in_average_entry(self, tracker):
        tracker.open_trade(
            "t1", symbol="X", side="long", quantity=1, price="10", time=hours(0), fees="0.10"
        )
        view = tracker.add_to_trade("t1", quantity=2, price="11", time=hours(1), fees="0.20")
        assert Decimal(3) == view.quantity
        assert Decimal(32) / Decimal(3) == view.entry_price
        tracker.close_trade("t1", price="12", time=hours(2), quantity=1, fees="0.05")
        closed = tracker.close_trade("t1", price="13", time=hours(3), fees="0.05")
        assert isinstance(closed, pt.Trade)
        # Proceeds 12 + 26 = 38 against a cost of 32, less 0.40 of fees: exact despite the
        # repeating average entry price.
        assert Decimal("5.60") == closed.net_pnl
        assert Decimal("0.40") == closed.fees
        assert Decimal("6.00") == closed.gross_pnl
        assert Decimal("5.60") == tracker.summary().net_pnl
        assert Decimal("-0.30") == tracker.periods("day")[0].fees * -1 + Decimal("0.10")

    def test_fees_are_realized_when_paid(self, tracker):
        tracker.open_trade(
            "t1", symbol="X", side="long", quantity=1, price="10", time=hours(0), fees="2"
        )
        assert Decimal(-2) == tracker.live.realized_pnl
        assert Decimal(-2) == tracker.summary().net_pnl
        assert tracker.summary().trades == 0

    def test_net_pnl_given_by_the_source(self, tracker):
        t = trade(tracker, "101", 1, net_pnl="7.25")
        assert Decimal("7.25") == t.net_pnl
        assert Decimal("8.25") == t.gross_pnl

    def test_callers_decimal_context_does_not_round_money(self, tracker):
        with localcontext() as ctx:
            ctx.prec = 3
            trade(tracker, "100.123456", 1, quantity="1000.5", fees="0.01")
            assert Decimal("123.507728") == tracker.summary().net_pnl
        assert getcontext().prec == 28

    def test_callers_decimal_context_does_not_round_max_drawdown_period(self, tracker):
        # the depth was peak - equity in the caller's context (99999 at prec 5).
        trade(tracker, "12445.678", 1)  # equity 10000 + 123456.78 = 133456.78
        trade(tracker, "100", 2, fees="99998.78")  # a fall of 99998.78
        expected = tracker.max_drawdown_period()
        assert expected is not None
        assert Decimal("99998.78") == expected[2]
        with localcontext() as ctx:
            ctx.prec = 5
            assert expected == tracker.max_drawdown_period()

    def test_callers_decimal_context_does_not_round_gross_pnl(self, tracker):
        # gross_pnl (and Trade.to_dict, what exports write) added net + fees in the
        # caller's context.
        t = trade(tracker, "12445.678", 1, fees="0.01")
        assert Decimal("123456.78") == t.gross_pnl
        with localcontext() as ctx:
            ctx.prec = 5
            assert Decimal("123456.78") == t.gross_pnl
            assert Decimal("123456.78") == Decimal(t.to_dict()["gross_pnl"])

    def test_r_multiple(self, tracker):
        t = trade(tracker, "104", 1, stop_price="98")
        assert Decimal(20) == t.risk
        assert t.r_multiple == 39 / 20
        assert trade(tracker, "101", 2).r_multiple is None


class TestDeferredIndexing:
    """
    Booked events reach the day lists and filter-key buckets at the next read or once a batch
    has gathered; a reader never sees the difference.
    """

    @pytest.mark.parametrize("batch", [1, 2, 3, 256])
    def test_late_events_across_a_batch_boundary(self, batch, monkeypatch):
        import perftrack._tracker as tracker_module

        # Day 0 at 20:00, a back-dated 16:00 (its bucket goes stale), day 1, then day 0 again
        # at 23:00: the stale bucket is rebuilt while the batch is indexed (day 1 begins),
        # from what has been indexed so far, so the 23:00 trade that follows in the batch is
        # not counted twice.
        hours_in = [6, 2, 14, 9, 15, 16]  # after T0, Monday 14:00 UTC
        prices = ["103", "98", "101", "96", "104", "99"]

        def book(t: pt.Tracker, read_each: bool) -> pt.Tracker:
            for i, (h, p) in enumerate(zip(hours_in, prices, strict=True)):
                trade(t, p, h, strategy="s" if i % 2 else "r", tags=("x",))
                if read_each:
                    t.summary()
            return t

        monkeypatch.setattr(tracker_module, "INDEX_BATCH", batch)
        lazy = book(pt.Tracker("1000"), read_each=False)
        monkeypatch.setattr(tracker_module, "INDEX_BATCH", 1)
        eager = book(pt.Tracker("1000"), read_each=True)
        assert fingerprint(eager) == fingerprint(lazy)
        day0 = lazy.summary("day", at=T0)
        assert (3, Decimal("-33")) == (day0.trades, day0.net_pnl)
        assert sum(s.net_pnl for s in lazy.periods("day")) == lazy.summary().net_pnl

    def test_a_bot_that_never_reads_holds_a_bounded_backlog(self):
        import perftrack._tracker as tracker_module

        tracker = pt.Tracker("1000")
        for i in range(tracker_module.INDEX_BATCH * 2 + 7):
            trade(tracker, "101", i / 100)
        assert len(tracker._unindexed) == 7
        assert tracker.summary().trades == tracker_module.INDEX_BATCH * 2 + 7
        assert not tracker._unindexed


class TestSummaryRules:
    """Streaks, empty windows and undefined ratios follow docs/metrics.md."""

    def test_empty_window(self, tracker):
        summary = tracker.summary("day", at=T0)
        assert summary.trades == 0
        assert Decimal(0) == summary.net_pnl
        assert summary.win_rate is None and summary.profit_factor is None
        assert summary.sharpe is None and summary.max_drawdown_pct is None
        assert summary.note == "No trades in window"

    def test_breakeven_ends_a_streak(self, tracker):
        for i, px in enumerate(["101", "102", "100.1", "99", "98"]):
            trade(tracker, px, i + 1)
        summary = tracker.summary()
        assert (
            summary.max_win_streak,
            summary.max_loss_streak,
            summary.current_streak,
        ) == (2, 2, -2)
        assert summary.breakeven == 1

    def test_no_losses_means_no_profit_factor(self, tracker):
        trade(tracker, "105", 1)
        summary = tracker.summary()
        assert summary.profit_factor is None and summary.payoff_ratio is None
        assert summary.win_rate == 1.0

    def test_simultaneous_closes_move_equity_once(self, tracker):
        trade(tracker, "90", 1, fees="0")  # -100
        trade(tracker, "120", 1, fees="0", symbol="B")  # +200 at the same instant
        assert Decimal(0) == tracker.summary().max_drawdown

    def test_filters_combine(self, tracker):
        trade(tracker, "101", 1, strategy="a", tags=("x",))
        trade(tracker, "99", 2, strategy="a", tags=("y",))
        trade(tracker, "101", 3, strategy="b", tags=("x",))
        assert tracker.summary(strategy="a", tag="x").trades == 1
        trade(tracker, "102", 4, strategy="a", tags=("x",))  # kept up to date after the first ask
        assert tracker.summary(strategy="a", tag="x").trades == 2

    def test_weekend_books_to_monday_with_weekdays_calendar(self):
        tracker = pt.Tracker("10000", calendar="weekdays")
        saturday = datetime(2025, 3, 8, 12, tzinfo=UTC)
        tracker.record_trade("X", "long", 1, "10", "11", saturday, saturday)
        assert tracker.summary("day", at=date(2025, 3, 10)).trades == 1
        assert [date(2025, 3, 10)] == [d for d, _ in tracker.daily_returns()]

    def test_day_follows_the_time_zone_across_dst(self):
        tracker = pt.Tracker("10000", timezone="America/New_York")
        # 2025-03-09 02:00 local does not exist; 04:30 UTC on the 10th is still the 9th there.
        when = datetime(2025, 3, 10, 3, 30, tzinfo=UTC)
        tracker.record_trade("X", "long", 1, "10", "11", when, when)
        day = tracker.summary("day", at=when)
        assert date(2025, 3, 9) == day.start.date()
        assert timedelta(hours=23) == day.end.astimezone(UTC) - day.start.astimezone(UTC)

    def test_datetime_range_is_half_open(self, tracker):
        trade(tracker, "101", 1)
        trade(tracker, "101", 2)
        assert tracker.summary(start=hours(1), end=hours(2)).trades == 1
        assert tracker.summary(start=hours(1), end=hours(2.5)).trades == 2


class TestWindowBounds:
    """Dates are inclusive session days; datetimes are half-open, read in the tracker's zone."""

    def test_datetime_end_at_midnight_does_not_reach_that_day(self, tracker):
        trade(tracker, "101", 1)  # Monday
        trade(tracker, "99", 25)  # Tuesday
        monday = datetime(2025, 3, 3, tzinfo=UTC)
        tuesday = monday + timedelta(days=1)
        assert [date(2025, 3, 3)] == [
            d for d, _ in tracker.daily_returns(start=monday, end=tuesday)
        ]
        assert 1 == len(tracker.periods("day", start=monday, end=tuesday))
        summary = tracker.summary(start=monday, end=tuesday)
        assert (1, tuesday) == (summary.trades, summary.end)

    def test_at_defaults_to_now(self, tracker):
        now = datetime.now(UTC)
        tracker.record_trade("X", "long", 1, "10", "11", now, now)
        assert 1 == tracker.summary("day").trades == tracker.summary("week").trades
        assert 0 == tracker.summary("day", at=now - timedelta(days=2)).trades

    def test_datetime_bounds_of_day_lists_use_the_tracker_zone(self):
        tracker = pt.Tracker("10000", timezone="America/New_York")
        when = datetime(2025, 3, 4, 2, tzinfo=UTC)  # still Monday 3 March in New York
        tracker.record_trade("X", "long", 1, "10", "11", when, when)
        assert [date(2025, 3, 3)] == [d for d, _ in tracker.daily_returns(start=when)]
        assert [date(2025, 3, 3)] == [s.start.date() for s in tracker.periods("day", start=when)]

    @pytest.mark.parametrize(
        ("start", "end"),
        [(date(2025, 3, 4), date(2025, 3, 3)), (hours(2), hours(1))],
        ids=["dates", "datetimes"],
    )
    def test_end_before_start_is_refused(self, tracker, start, end):
        trade(tracker, "101", 1)
        calls = [
            lambda: tracker.summary(start=start, end=end),
            lambda: tracker.breakdown("strategy", start=start, end=end),
            lambda: tracker.periods("day", start=start, end=end),
            lambda: tracker.daily_returns(start=start, end=end),
            lambda: tracker.trades(start=start, end=end),
        ]
        for call in calls:
            with pytest.raises(errors.InvalidInputError, match="'end' must not be before"):
                call()


class TestBlownAccount:
    """Below zero equity, returns are undefined but drawdown still measures the fall."""

    def test_quiet_days_after_the_fall_have_no_return(self):
        tracker = pt.Tracker("100")
        trade(tracker, "85", 1, fees="0")  # -150: equity -50 on Monday
        tracker.mark_price("AAPL", "90", hours(48))  # the tracker lives on to Wednesday
        assert [-1.5, None, None] == [r for _, r in tracker.daily_returns()]
        summary = tracker.summary()
        assert summary.sharpe is None and summary.sortino is None
        assert 1.5 == summary.max_drawdown_pct

    def test_drawdown_pct_stays_defined_when_trading_on_below_zero(self):
        tracker = pt.Tracker("100")
        trade(tracker, "85", 1, fees="0")  # 100 -> -50
        trade(tracker, "101", 49, fees="0")  # Wednesday: -50 -> -40
        summary = tracker.summary()
        assert 1.5 == summary.max_drawdown_pct
        assert summary.sharpe is None


@pytest.fixture(name="busy")
def _busy(tracker: pt.Tracker) -> pt.Tracker:
    """
    A closed trade "done", an open short "open" of 5 at 20 (stop 21) and a mark with an id.
    """
    trade(tracker, "101", 1, stop_price="99", tags=("a",), trade_id="done")
    tracker.open_trade(
        "open",
        symbol="X",
        side="short",
        quantity=5,
        price="20",
        time=hours(2),
        fees="1",
        stop_price="21",
    )
    tracker.mark_price("X", "19", hours(3), event_id="m1")
    return tracker


class TestBadInput:
    """Each bad call raises a typed error naming the field and leaves the tracker untouched."""

    @pytest.mark.parametrize(
        ("changes", "error", "field"),
        [
            ({"quantity": 0}, errors.InvalidTradeError, "quantity"),
            ({"quantity": -1}, errors.InvalidTradeError, "quantity"),
            ({"quantity": float("nan")}, errors.InvalidTradeError, "quantity"),
            ({"quantity": "inf"}, errors.InvalidTradeError, "quantity"),
            ({"quantity": True}, errors.InvalidTradeError, "quantity"),
            ({"quantity": "ten"}, errors.InvalidTradeError, "quantity"),
            ({"entry_price": "0"}, errors.InvalidTradeError, "entry_price"),
            ({"entry_price": None}, errors.InvalidTradeError, "entry_price"),
            ({"fees": "-1"}, errors.InvalidTradeError, "fees"),
            ({"entry_time": datetime(2025, 3, 3, 12)}, errors.InvalidTradeError, "entry_time"),
            ({"exit_time": "2025-03-03T15:00:00"}, errors.InvalidTradeError, "exit_time"),
            ({"exit_time": hours(-5)}, errors.InvalidTradeError, "exit_time"),
            ({"side": "buy"}, errors.InvalidTradeError, "side"),
            ({"symbol": ""}, errors.InvalidTradeError, "symbol"),
            ({"stop_price": "100.5"}, errors.InvalidTradeError, "stop_price"),
            ({"target_price": "99"}, errors.InvalidTradeError, "target_price"),
            ({"tags": 5}, errors.InvalidTradeError, "tags"),
            ({"trade_id": "open"}, errors.DuplicateTradeError, "trade_id"),
            ({"trade_id": "done", "fees": "3"}, errors.DuplicateTradeError, "trade_id"),
        ],
    )
    def test_record_trade(self, busy, changes, error, field):
        before = fingerprint(busy)
        with pytest.raises(error, match=f"'{field}'"):
            trade(busy, "101", 4, **changes)
        assert before == fingerprint(busy)

    @pytest.mark.parametrize(
        ("call", "error", "field"),
        [
            (
                lambda t: t.close_trade("nope", price="1", time=hours(4)),
                errors.UnknownTradeError,
                "trade_id",
            ),
            (
                lambda t: t.close_trade("done", price="1", time=hours(4)),
                errors.UnknownTradeError,
                "trade_id",
            ),
            (
                lambda t: t.close_trade("open", price="1", time=hours(4), quantity=6),
                errors.InvalidTradeError,
                "quantity",
            ),
            (
                lambda t: t.close_trade("open", price="1", time=hours(1)),
                errors.InvalidTradeError,
                "time",
            ),
            (
                lambda t: t.close_trade("open", price="-1", time=hours(4)),
                errors.InvalidTradeError,
                "price",
            ),
            (
                lambda t: t.add_to_trade("nope", quantity=1, price="1", time=hours(4)),
                errors.UnknownTradeError,
                "trade_id",
            ),
            (
                lambda t: t.add_to_trade("open", quantity=0, price="1", time=hours(4)),
                errors.InvalidTradeError,
                "quantity",
            ),
            (
                lambda t: t.open_trade(
                    "open", symbol="Y", side="long", quantity=1, price="1", time=hours(4)
                ),
                errors.DuplicateTradeError,
                "trade_id",
            ),
            (
                lambda t: t.open_trade(
                    None, symbol="Y", side="flat", quantity=1, price="1", time=hours(4)
                ),
                errors.InvalidTradeError,
                "side",
            ),
            (lambda t: t.mark_price("X", "0", hours(4)), errors.InvalidTradeError, "price"),
            (
                lambda t: t.mark_price("X", "20", hours(4), event_id="m1"),
                errors.DuplicateTradeError,
                "event_id",
            ),
            (lambda t: t.summary("year"), errors.InvalidInputError, "period"),
            (lambda t: t.summary("day", start=date(2025, 1, 1)), errors.InvalidInputError, "start"),
            (lambda t: t.summary(at="yesterday", period="day"), errors.InvalidInputError, "at"),
            (lambda t: t.breakdown("venue"), errors.InvalidInputError, "by"),
            (lambda t: t.rolling(0), errors.InvalidInputError, "n"),
            (lambda t: t.periods("all"), errors.InvalidInputError, "period"),
        ],
    )
    def test_other_calls(self, busy, call, error, field):
        before = fingerprint(busy)
        with pytest.raises(error, match=f"'{field}'"):
            call(busy)
        assert before == fingerprint(busy)

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"starting_equity": 0}, "starting_equity"),
            ({"timezone": "Mars/Olympus"}, "timezone"),
            ({"timezone": ""}, "timezone"),
            ({"timezone": "UTC+3"}, "timezone"),  # a POSIX TZ string, not an IANA name
            ({"timezone": "EST5"}, "timezone"),
            ({"calendar": "weekends"}, "calendar"),
            ({"periods_per_year": 0}, "periods_per_year"),
        ],
    )
    def test_constructor(self, kwargs, field):
        kwargs = {"starting_equity": "1000", **kwargs}
        with pytest.raises(errors.InvalidInputError, match=f"'{field}'"):
            pt.Tracker(**kwargs)

    def test_failed_call_does_not_use_up_a_generated_id(self, tracker):
        with pytest.raises(errors.InvalidTradeError):
            trade(tracker, "101", 1, stop_price="105")
        assert trade(tracker, "101", 1).trade_id == "pt-1"

    def test_unknown_trade_error_is_a_key_error_with_a_readable_message(self, tracker):
        with pytest.raises(KeyError) as info:
            tracker.close_trade("zz", price="1", time=T0)
        assert str(info.value).startswith("'trade_id' is not an open trade")


# Every bad value a number field can get: zero and negative (where it must be > 0), NaN and
# infinities as floats and as text, bools (an int subclass), text that is no number, and
# objects that are no number at all.
_NOT_NUMBERS = [
    float("nan"),
    "NaN",
    "sNaN",
    float("inf"),
    "-Infinity",
    True,
    False,
    "ten",
    "",
    [1],
    1.5j,
]
_NOT_POSITIVE = [0, -1, "0", "-0.5", Decimal("-0.01"), -0.5]
_NOT_TIMES = [
    datetime(2025, 3, 3, 16),  # naive
    "2025-03-03T16:00:00",  # no offset
    "yesterday",
    date(2025, 3, 3),
    1741017600,
    None,
]
_NOT_NAMES = ["", "   ", None, 5, "a\x00b"]
# (entry point, its good arguments) on the "busy" tracker below; time 4h is after every entry.
_CALLS: dict[str, tuple[str, dict[str, Any]]] = {
    "record_trade": (
        "record_trade",
        {
            "symbol": "AAPL",
            "side": "long",
            "quantity": 10,
            "entry_price": "100",
            "exit_price": "101",
            "entry_time": hours(3.5),
            "exit_time": hours(4),
            "fees": "1",
            "strategy": "s",
            "stop_price": "99",
            "target_price": "105",
            "tags": ("a",),
        },
    ),
    "open_trade": (
        "open_trade",
        {
            "trade_id": "new",
            "symbol": "Y",
            "side": "short",
            "quantity": 1,
            "price": "50",
            "time": hours(4),
            "fees": "0.5",
            "strategy": "s",
            "stop_price": "52",
            "target_price": "45",
            "tags": ("b",),
        },
    ),
    "add_to_trade": (
        "add_to_trade",
        {"trade_id": "open", "quantity": 1, "price": "19", "time": hours(4), "fees": "0.1"},
    ),
    "close_trade": (
        "close_trade",
        {"trade_id": "open", "price": "19", "time": hours(4), "quantity": 2, "fees": "0.1"},
    ),
    "mark_price": ("mark_price", {"symbol": "X", "price": "18", "time": hours(4)}),
}
_POSITIVE_FIELDS = {
    "record_trade": ["quantity", "entry_price", "exit_price"],
    "open_trade": ["quantity", "price"],
    "add_to_trade": ["quantity", "price"],
    "close_trade": ["price", "quantity"],
    "mark_price": ["price"],
}
_OPTIONAL_NUMBERS = {
    "record_trade": ["stop_price", "target_price"],
    "open_trade": ["stop_price", "target_price"],
}
_TIME_FIELDS = {
    "record_trade": ["entry_time", "exit_time"],
    "open_trade": ["time"],
    "add_to_trade": ["time"],
    "close_trade": ["time"],
    "mark_price": ["time"],
}
_NAME_FIELDS = {
    "record_trade": ["symbol", "strategy", "trade_id"],
    "open_trade": ["symbol", "strategy", "trade_id"],
    "add_to_trade": ["trade_id"],
    "close_trade": ["trade_id"],
    "mark_price": ["symbol"],
}


def _bad_cases() -> list[Any]:
    cases = []
    for name, fields in _POSITIVE_FIELDS.items():
        for f in fields:
            for v in _NOT_NUMBERS + _NOT_POSITIVE:
                cases.append(pytest.param(name, f, v, id=f"{name}-{f}-{v!r}"))
            if not (name == "close_trade" and f == "quantity"):  # None closes the rest
                cases.append(pytest.param(name, f, None, id=f"{name}-{f}-None"))
    for name, fields in _OPTIONAL_NUMBERS.items():
        for f in fields:
            for v in [*_NOT_NUMBERS, *_NOT_POSITIVE]:
                cases.append(pytest.param(name, f, v, id=f"{name}-{f}-{v!r}"))
    for name in ("record_trade", "open_trade", "add_to_trade", "close_trade"):
        for v in ["-1", float("nan"), "inf", True, "one"]:
            cases.append(pytest.param(name, "fees", v, id=f"{name}-fees-{v!r}"))
    for name, fields in _TIME_FIELDS.items():
        for f in fields:
            for v in _NOT_TIMES:
                if name == "mark_price" and v is None:
                    continue  # None is now
                cases.append(pytest.param(name, f, v, id=f"{name}-{f}-{v!r}"))
    for name, fields in _NAME_FIELDS.items():
        for f in fields:
            for v in _NOT_NAMES:
                if f == "trade_id" and v is None and name in ("record_trade", "open_trade"):
                    continue  # None generates an id
                cases.append(pytest.param(name, f, v, id=f"{name}-{f}-{v!r}"))
    for name in ("record_trade", "open_trade"):
        for v in ["buy", "sell", "", None, 1, "flat"]:
            cases.append(pytest.param(name, "side", v, id=f"{name}-side-{v!r}"))
        for v in [5, ("ok", ""), [None], {"a": 1}]:
            cases.append(pytest.param(name, "tags", v, id=f"{name}-tags-{v!r}"))
    return cases


def _mentions(message: str, value: Any) -> bool:
    shown = [repr(value), str(value)]
    if isinstance(value, datetime):
        shown.append(value.isoformat())
    return any(s in message for s in shown)


class TestEveryBadValue:
    """Every bad value of every event field: a typed error naming field and value, no change."""

    @pytest.mark.parametrize(("name", "field", "value"), _bad_cases())
    def test_rejected_without_change(self, busy, name, field, value):
        method, good = _CALLS[name]
        kwargs = {**good, field: value}
        before = fingerprint(busy)
        with pytest.raises(errors.InvalidTradeError) as info:
            if method in ("add_to_trade", "close_trade", "open_trade"):
                tid = kwargs.pop("trade_id")
                getattr(busy, method)(tid, **kwargs)
            elif method == "mark_price":
                busy.mark_price(kwargs.pop("symbol"), kwargs.pop("price"), **kwargs)
            else:
                getattr(busy, method)(**kwargs)
        message = str(info.value)
        assert f"'{field}'" in message
        assert _mentions(message, value), message
        assert before == fingerprint(busy)

    @pytest.mark.parametrize(
        ("call", "error", "field", "value"),
        [
            # An exit before its entry, a scale-in or exit before the trade's entry.
            (
                lambda t: trade(t, "101", 4, entry_time=hours(5)),
                errors.InvalidTradeError,
                "exit_time",
                hours(4).isoformat(),
            ),
            (
                lambda t: t.add_to_trade("open", quantity=1, price="20", time=hours(1)),
                errors.InvalidTradeError,
                "time",
                hours(1).isoformat(),
            ),
            # Closing more than is open.
            (
                lambda t: t.close_trade("open", price="19", time=hours(4), quantity="5.01"),
                errors.InvalidTradeError,
                "quantity",
                "5.01",
            ),
            # Unknown ids, and a closed trade's id where an open one is needed.
            (
                lambda t: t.close_trade("nope", price="1", time=hours(4)),
                errors.UnknownTradeError,
                "trade_id",
                "'nope'",
            ),
            (
                lambda t: t.add_to_trade("done", quantity=1, price="1", time=hours(4)),
                errors.UnknownTradeError,
                "trade_id",
                "'done'",
            ),
            # Reusing the id of an open or a closed trade for other content.
            (
                lambda t: trade(t, "101", 4, trade_id="open"),
                errors.DuplicateTradeError,
                "trade_id",
                "'open'",
            ),
            (
                lambda t: trade(t, "102", 4, trade_id="done"),
                errors.DuplicateTradeError,
                "trade_id",
                "'done'",
            ),
            (
                lambda t: t.open_trade(
                    "open", symbol="X", side="long", quantity=1, price="20", time=hours(4)
                ),
                errors.DuplicateTradeError,
                "trade_id",
                "'open'",
            ),
            (
                lambda t: t.open_trade(
                    "done", symbol="Z", side="long", quantity=1, price="20", time=hours(4)
                ),
                errors.DuplicateTradeError,
                "trade_id",
                "'done'",
            ),
            # A stop on the wrong side of the entry (or on it: the risk must be > 0).
            (
                lambda t: trade(t, "101", 4, stop_price="100"),
                errors.InvalidTradeError,
                "stop_price",
                "100",
            ),
            (
                lambda t: trade(t, "99", 4, side="short", stop_price="99.5"),
                errors.InvalidTradeError,
                "stop_price",
                "99.5",
            ),
            (
                lambda t: t.open_trade(
                    "n",
                    symbol="X",
                    side="short",
                    quantity=1,
                    price="20",
                    time=hours(4),
                    stop_price="19",
                ),
                errors.InvalidTradeError,
                "stop_price",
                "19",
            ),
            # Unknown period, breakdown dimension, filter, window.
            (lambda t: t.summary("year"), errors.InvalidInputError, "period", "'year'"),
            (lambda t: t.periods("all"), errors.InvalidInputError, "period", "'all'"),
            (lambda t: t.breakdown("venue"), errors.InvalidInputError, "by", "'venue'"),
            (lambda t: t.summary(side="buy"), errors.InvalidInputError, "side", "'buy'"),
            (lambda t: t.summary(strategy=""), errors.InvalidInputError, "strategy", "''"),
            (lambda t: t.rolling(True), errors.InvalidInputError, "n", "True"),
            (lambda t: t.summary(start="soon"), errors.InvalidInputError, "start", "'soon'"),
            (
                lambda t: t.trades(end=datetime(2025, 3, 3)),
                errors.InvalidInputError,
                "end",
                "datetime.datetime(2025, 3, 3, 0, 0)",
            ),
        ],
    )
    def test_rule_violations(self, busy, call, error, field, value):
        before = fingerprint(busy)
        with pytest.raises(error) as info:
            call(busy)
        message = str(info.value)
        assert f"'{field}'" in message and value in message, message
        assert before == fingerprint(busy)

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"timezone": "Mars/Olympus"}, "timezone"),
            ({"timezone": "UTC+3"}, "timezone"),
            ({"timezone": 0}, "timezone"),
            ({"calendar": "weekends"}, "calendar"),
            ({"periods_per_year": float("nan")}, "periods_per_year"),
            ({"starting_equity": "-5"}, "starting_equity"),
            ({"starting_equity": float("inf")}, "starting_equity"),
        ],
    )
    def test_constructor_names_field_and_value(self, kwargs, field):
        with pytest.raises(errors.InvalidInputError) as info:
            pt.Tracker(**{"starting_equity": "1000", **kwargs})
        message = str(info.value)
        assert f"'{field}'" in message and repr(next(iter(kwargs.values()))) in message


class TestExactlyOnce:
    """Re-sending an event with the same id and content changes nothing."""

    def test_record_trade_resend(self, tracker):
        first = trade(tracker, "101", 1, trade_id="a")
        again = trade(tracker, "101", 1, trade_id="a")
        assert first is again
        assert tracker.summary().trades == 1

    def test_close_with_event_id(self, tracker):
        tracker.open_trade("t", symbol="X", side="long", quantity=2, price="10", time=hours(0))
        tracker.close_trade("t", price="11", time=hours(1), quantity=1, event_id="e1")
        tracker.close_trade("t", price="11", time=hours(1), quantity=1, event_id="e1")
        assert Decimal(1) == tracker.open_trades[0].quantity


class TestConcurrency:
    """Eight threads racing every call leave exact totals."""

    @pytest.mark.timeout(120)
    def test_threads_race(self):
        tracker = pt.Tracker("100000", timezone="Europe/London")
        gate = threading.Event()
        per_thread = 120
        failures: list[BaseException] = []
        closed_seen: list[str] = []

        # A receiver that calls back into the tracker while other threads write.
        def on_closed(sender, *, trade, **extra):
            sender.summary(symbol=trade.symbol)
            closed_seen.append(trade.trade_id)

        signals.trade_closed.connect(on_closed, sender=tracker)

        def work(k: int) -> None:
            gate.wait()
            try:
                for i in range(per_thread):
                    when = T0 + timedelta(minutes=i * 7 + k)
                    tracker.record_trade(
                        f"S{k % 3}",
                        "long",
                        1,
                        "100",
                        "101" if i % 2 else "99.5",
                        when,
                        when,
                        fees="0.1",
                        strategy=f"s{k}",
                    )
                    tid = f"{k}-{i}"
                    tracker.open_trade(
                        tid, symbol="Q", side="short", quantity=2, price="50", time=when
                    )
                    tracker.add_to_trade(tid, quantity=1, price="50", time=when, fees="0.5")
                    tracker.mark_price("Q", "49", when)
                    tracker.close_trade(tid, price="49", time=when, quantity=1)
                    tracker.close_trade(tid, price="48", time=when)
                    tracker.summary("day", at=when)
                    tracker.summary("week", at=when, strategy=f"s{k}")
                    tracker.rolling(10)
                    if i % 40 == 0:
                        tracker.breakdown("symbol")
                        tracker.periods("day")
                        tracker.daily_returns()
            except BaseException as e:
                failures.append(e)

        threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        gate.set()
        for t in threads:
            t.join()
        assert failures == []
        signals.trade_closed.disconnect(on_closed, sender=tracker)
        n = 8 * per_thread
        summary = tracker.summary()
        # Each record_trade nets +0.9 or -0.6; each short of 3 at 50 nets +1 + 2 x 2 - 0.5.
        expected = Decimal("0.9") * (n // 2) + Decimal("-0.6") * (n // 2) + Decimal("4.5") * n
        assert expected == summary.net_pnl
        assert 2 * n == summary.trades
        assert Decimal("0.6") * n == summary.fees  # 0.1 per round trip, 0.5 per scale-in
        live = tracker.live
        assert (expected, Decimal(0), 0) == (
            live.realized_pnl,
            live.unrealized_pnl,
            live.open_trades,
        )
        assert Decimal(100000) + expected == live.equity
        assert [] == tracker.open_trades
        assert sum(s.trades for s in tracker.breakdown("strategy").values()) == 2 * n
        assert sum(d.net_pnl for d in tracker.periods("day")) == expected
        assert 2 * n == len(closed_seen) == len(set(closed_seen))
        # The history is in close order whatever order the threads' events arrived in.
        exits = [t.exit_time for t in tracker.trades()]
        assert sorted(exits) == exits


class TestSignals:
    """Signals go out after the lock with documented payloads; failing receivers are contained."""

    def test_trade_closed_and_updated(self, tracker):
        seen: list[tuple[str, Any]] = []

        def closed(sender, *, trade, **extra):
            assert sender is tracker
            # Calling back into the tracker from a receiver must not deadlock.
            seen.append(("closed", sender.summary().trades))

        def updated(sender, *, trade, action, **extra):
            seen.append((action, trade.quantity))

        signals.trade_closed.connect(closed, sender=tracker)
        signals.trade_updated.connect(updated, sender=tracker)
        tracker.open_trade("t", symbol="X", side="long", quantity=2, price="10", time=hours(0))
        tracker.add_to_trade("t", quantity=1, price="10", time=hours(1))
        tracker.close_trade("t", price="11", time=hours(2), quantity=1)
        tracker.close_trade("t", price="11", time=hours(3))
        assert [("scale_in", Decimal(3)), ("partial_exit", Decimal(2)), ("closed", 1)] == seen

    def test_a_receiver_that_records_sees_every_signal_in_state_order(self, tracker):
        """a trade-closed receiver that records a trade (a hedge, a re-entry) had the
        new trade's signals delivered inside its own call: the equity-changed of the first
        trade, with the equity before the second, reached receivers after the second's, so
        a dashboard holding the last equity it was sent ended with a stale one."""
        equities: list[Decimal] = []
        closed: list[str] = []

        def hedge(sender, *, trade, **extra):
            closed.append(trade.trade_id)
            if trade.trade_id == "first":
                trade_ = {"symbol": "Y", "side": "short", "quantity": 1, "entry_price": "10"}
                sender.record_trade(
                    **trade_,
                    exit_price="9",
                    entry_time=hours(1),
                    exit_time=hours(2),
                    trade_id="second",
                )

        def equity(sender, *, live, **extra):
            equities.append(live.equity)

        signals.trade_closed.connect(hedge, sender=tracker)
        signals.equity_changed.connect(equity, sender=tracker)
        trade(tracker, "101", 1, trade_id="first", fees="0")
        assert ["first", "second"] == closed
        assert [Decimal(10010), Decimal(10011)] == equities
        assert tracker.live.equity == equities[-1]

    def test_failing_receiver_is_logged_and_contained(self, tracker):
        got: list[Decimal] = []

        def bad(sender, **extra):
            raise RuntimeError("boom")

        def good(sender, *, live, **extra):
            got.append(live.equity)

        signals.equity_changed.connect(bad, sender=tracker)
        signals.equity_changed.connect(good, sender=tracker)
        with structlog.testing.capture_logs() as logs:
            trade(tracker, "101", 1)
        assert [Decimal(10009)] == got
        assert [e["event"] for e in logs] == ["perftrack.listener_failed"]
        assert tracker.summary().trades == 1


class TestSignalPayloads:
    """Each signal carries exactly its documented keywords, sent outside the lock."""

    def test_every_trade_signal_and_its_payload(self, tracker):
        seen: list[tuple[str, dict[str, Any]]] = []
        receivers = {}
        for sig in (
            signals.trade_opened,
            signals.trade_updated,
            signals.trade_closed,
            signals.equity_changed,
        ):

            def receive(sender, _name=sig.name, **payload):
                assert sender is tracker
                seen.append((_name, payload))

            receivers[sig.name] = receive  # blinker holds receivers weakly
            sig.connect(receive, sender=tracker)
        tracker.open_trade("t", symbol="X", side="long", quantity=2, price="10", time=hours(0))
        tracker.add_to_trade("t", quantity=1, price="13", time=hours(1), fees="0.5")
        tracker.mark_price("X", "12", hours(2))
        tracker.close_trade("t", price="12", time=hours(3), quantity=1)
        tracker.close_trade("t", price="14", time=hours(4))
        names = [(name, sorted(payload)) for name, payload in seen]
        assert [
            ("trade-opened", ["trade"]),
            ("equity-changed", ["live"]),
            ("trade-updated", ["action", "price", "quantity", "realized_pnl", "trade"]),
            ("equity-changed", ["live"]),
            ("equity-changed", ["live"]),
            ("trade-updated", ["action", "price", "quantity", "realized_pnl", "trade"]),
            ("equity-changed", ["live"]),
            ("trade-closed", ["trade"]),
            ("equity-changed", ["live"]),
        ] == names
        opened, scale_in, exit_1, closed = (
            seen[0][1],
            seen[2][1],
            seen[5][1],
            seen[7][1],
        )
        assert isinstance(opened["trade"], pt.OpenTrade)
        assert ("scale_in", Decimal(1), Decimal(13), Decimal("-0.5")) == (
            scale_in["action"],
            scale_in["quantity"],
            scale_in["price"],
            scale_in["realized_pnl"],
        )
        assert Decimal(11) == scale_in["trade"].entry_price  # (2 x 10 + 13) / 3
        assert ("partial_exit", Decimal(1), Decimal(12), Decimal(1)) == (
            exit_1["action"],
            exit_1["quantity"],
            exit_1["price"],
            exit_1["realized_pnl"],
        )
        assert isinstance(closed["trade"], pt.Trade)
        assert Decimal("6.5") == closed["trade"].net_pnl
        lives = [p["live"] for n, p in seen if n == "equity-changed"]
        assert all(isinstance(live, pt.LiveStats) for live in lives)
        assert tracker.live == lives[-1]

    def test_record_trade_sends_closed_and_equity(self, tracker):
        got: list[str] = []

        def closed(sender, *, trade, **extra):
            got.append(f"closed {trade.trade_id}")

        def equity(sender, *, live, **extra):
            got.append(f"equity {live.realized_pnl}")

        signals.trade_closed.connect(closed, sender=tracker)
        signals.equity_changed.connect(equity, sender=tracker)
        trade(tracker, "101", 1, trade_id="r")
        assert ["closed r", "equity 9"] == got

    def test_sent_after_the_lock_is_released(self, tracker):
        # Another thread can use the tracker while a receiver runs: the lock is not held.
        finished: list[bool] = []

        def receiver(sender, *, trade, **extra):
            if trade.symbol == "Q":
                return
            other = threading.Thread(
                target=lambda: sender.record_trade(
                    "Q", "long", 1, "1", "2", hours(9), hours(9), trade_id=f"q{len(finished)}"
                )
            )
            other.start()
            other.join(timeout=10)
            finished.append(not other.is_alive())

        signals.trade_closed.connect(receiver, sender=tracker)
        trade(tracker, "101", 1)
        signals.trade_closed.disconnect(receiver, sender=tracker)
        assert [True] == finished

    def test_failing_receiver_changes_nothing(self, tracker):
        calm = pt.Tracker(starting_equity="10000")
        got: dict[str, list[Any]] = {"calm": [], "noisy": []}

        def bad(sender, **extra):
            raise ValueError("listener bug")

        def good(sender, *, trade, **extra):
            got["calm" if sender is calm else "noisy"].append(trade.to_dict())

        for sig in (signals.trade_opened, signals.trade_closed, signals.trade_updated):
            sig.connect(bad, sender=tracker)
            sig.connect(good, sender=tracker)
            sig.connect(good, sender=calm)
        with structlog.testing.capture_logs() as logs:
            for t in (tracker, calm):
                trade(t, "101", 1)
                t.open_trade("o", symbol="X", side="long", quantity=2, price="5", time=hours(2))
                t.close_trade("o", price="6", time=hours(3), quantity=1)
        assert got["calm"] == got["noisy"]
        assert fingerprint(calm) == fingerprint(tracker)
        failed = [e for e in logs if e["event"] == "perftrack.listener_failed"]
        assert 3 == len(failed)
        assert {"trade-closed", "trade-opened", "trade-updated"} == {e["signal"] for e in failed}

    def test_the_weak_reference_trap_is_real_and_documented(self, tracker):
        got: list[int] = []
        signals.trade_closed.connect(lambda sender, **extra: got.append(1), sender=tracker)
        import gc

        gc.collect()
        trade(tracker, "101", 1)
        assert [] == got  # the lambda was only weakly held, and is gone
        assert "weak=False" in (signals.__doc__ or "")


class TestLogging:
    """The library logs through structlog's "perftrack" logger and never configures logging."""

    def test_never_configures_structlog(self):
        code = (
            "import structlog, perftrack as pt\n"
            "from perftrack import signals\n"
            "t = pt.Tracker('100')\n"
            "def bad(sender, **kw):\n"
            "    raise RuntimeError('x')\n"
            "signals.trade_closed.connect(bad, sender=t)\n"
            "t.record_trade('X', 'long', 1, '1', '2', '2025-01-01T00:00Z', '2025-01-01T01:00Z')\n"
            "print(structlog.is_configured())\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert "False" == done.stdout.strip().splitlines()[-1]

    def test_listener_failure_is_a_namespaced_event_with_the_exception(self, tracker):
        def bad(sender, **extra):
            raise RuntimeError("boom")

        signals.trade_closed.connect(bad, sender=tracker)
        with structlog.testing.capture_logs() as logs:
            trade(tracker, "101", 1)
        (entry,) = logs
        assert ("perftrack.listener_failed", "error", "trade-closed") == (
            entry["event"],
            entry["log_level"],
            entry["signal"],
        )
        assert entry.get("exc_info") is True


class TestEquityCurve:
    """The realized path, its times local to the tracker's zone with their fixed offsets."""

    def test_local_times_with_fixed_offsets_across_a_dst_change(self):
        from zoneinfo import ZoneInfo

        tracker = pt.Tracker("1000", timezone="America/New_York")
        before = datetime(2025, 3, 8, 15, 0, tzinfo=UTC)  # EST
        after = datetime(2025, 3, 10, 15, 0, tzinfo=UTC)  # EDT
        for when in (before, after):
            tracker.record_trade("X", "long", 1, "10", "11", when, when)
        curve = tracker.equity_curve()
        assert [t.isoformat() for t, _ in curve] == [
            "2025-03-08T00:00:00-05:00",
            "2025-03-08T10:00:00-05:00",
            "2025-03-10T11:00:00-04:00",
        ]
        assert all(type(t.tzinfo) is timezone for t, _ in curve)
        zone = ZoneInfo("America/New_York")
        assert [t.astimezone(zone) for t, _ in curve[1:]] == [before, after]
        assert [Decimal(1000), Decimal(1001), Decimal(1002)] == [v for _, v in curve]


class TestLive:
    """Live figures follow the marked-to-market path."""

    def test_unrealized_and_drawdown(self, tracker):
        tracker.open_trade("a", symbol="X", side="long", quantity=10, price="10", time=hours(0))
        tracker.open_trade("b", symbol="X", side="short", quantity=5, price="12", time=hours(0))
        tracker.mark_price("X", "11", hours(1))
        live = tracker.live
        assert Decimal(10 + 5) == live.unrealized_pnl
        assert Decimal(10015) == live.equity
        tracker.mark_price("X", "9", hours(2))
        live = tracker.live
        assert Decimal(-10 + 15) == live.unrealized_pnl
        assert Decimal(10) == live.drawdown
        assert math.isclose(10 / 10015, live.drawdown_pct)
        assert live.open_trades == 2

    def test_time_zone_of_results(self):
        tracker = pt.Tracker("100", timezone="Asia/Tokyo")
        when = datetime(2025, 1, 1, 20, tzinfo=timezone(timedelta(hours=-5)))
        tracker.record_trade("X", "long", 1, "10", "11", when, when)
        assert date(2025, 1, 2) == tracker.summary("day", at=when).start.date()


class TestRealizations:
    """A trade keeps its steps; record_trade books a given schedule step by step, checked."""

    def _built(self, tracker: pt.Tracker) -> pt.Trade:
        tracker.open_trade(
            "s", symbol="X", side="long", quantity=3, price="10", time=hours(0), fees="0.5"
        )
        tracker.add_to_trade("s", quantity=1, price="12", time=hours(2))  # no fee: no step
        tracker.close_trade("s", price="13", time=hours(25), quantity=1, fees="0.25")
        closed = tracker.close_trade("s", price="9", time=hours(30), fees="0.25")
        assert isinstance(closed, pt.Trade)
        return closed

    def test_steps_of_a_trade_built_from_events(self):
        trade = self._built(pt.Tracker("1000"))
        assert [
            pt.Realization(hours(0), Decimal("-0.5"), Decimal("0.5")),
            pt.Realization(hours(25), Decimal("2.25"), Decimal("0.25")),
            pt.Realization(hours(30), Decimal("-4.75"), Decimal("0.25")),
        ] == list(trade.realizations or ())
        assert trade.net_pnl == sum(r.net_pnl for r in trade.realizations)
        assert not trade.booked_whole
        assert trade.to_dict()["realizations"][0] == {
            "time": hours(0).isoformat(),
            "net_pnl": "-0.5",
            "fees": "0.5",
        }

    def test_whole_trades_have_none(self, tracker):
        assert trade(tracker, "101", 1).realizations is None

    @pytest.mark.parametrize("form", ["objects", "mappings", "triples"])
    def test_a_schedule_books_each_step_at_its_time(self, form):
        built = pt.Tracker("1000")
        original = self._built(built)
        steps: Any = {
            "objects": original.realizations,
            "mappings": [r.to_dict() for r in original.realizations or ()],
            "triples": [(r.time, r.net_pnl, r.fees) for r in original.realizations or ()],
        }[form]
        again = pt.Tracker("1000")
        recorded = again.record_trade(**self._args(original), realizations=steps)
        assert original == recorded
        assert again.record_trade(**self._args(original), realizations=steps) is recorded
        for period in ("day", "week"):
            assert [s.to_dict() for s in built.periods(period)] == [
                s.to_dict() for s in again.periods(period)
            ]
        assert built.equity_curve() == again.equity_curve()
        assert built.daily_returns() == again.daily_returns()
        # The live path moved at each step too. (Not as the built one's: that one was marked
        # to market at each event's price, which trade rows do not carry. Without open
        # trades, the live path is the realized one.)
        assert again.live.max_drawdown == again.summary().max_drawdown > 0

    def test_a_stop_that_scale_ins_brought_to_the_average_entry_records_again(self):
        built = pt.Tracker("1000")
        built.open_trade("s", symbol="X", side="long", quantity=1, price="10", time=hours(0))
        built.add_to_trade("s", quantity=1, price="8", time=hours(1), fees="0.1")
        original = built.close_trade("s", price="9.5", time=hours(2))
        assert isinstance(original, pt.Trade)
        built.open_trade(
            "t", symbol="X", side="long", quantity=1, price="10", stop_price="9", time=hours(3)
        )
        built.add_to_trade("t", quantity=1, price="8", time=hours(4), fees="0.1")
        stopped = built.close_trade("t", price="9.5", time=hours(5))
        assert isinstance(stopped, pt.Trade)
        assert stopped.entry_price == stopped.stop_price == Decimal(9)
        again = pt.Tracker("1000")
        args = self._args(stopped) | {"stop_price": stopped.stop_price}
        assert stopped == again.record_trade(**args, realizations=stopped.realizations)
        # Recorded whole, the same levels are still refused: the stop is at the entry.
        with pytest.raises(errors.InvalidTradeError, match="'stop_price'"):
            again.record_trade(**(args | {"trade_id": "whole"}))

    @staticmethod
    def _args(t: pt.Trade) -> dict[str, Any]:
        return {
            "symbol": t.symbol,
            "side": t.side,
            "quantity": t.quantity,
            "entry_price": t.entry_price,
            "exit_price": t.exit_price,
            "entry_time": t.entry_time,
            "exit_time": t.exit_time,
            "fees": t.fees,
            "net_pnl": t.net_pnl,
            "trade_id": t.trade_id,
        }

    @pytest.mark.parametrize(
        ("steps", "match"),
        [
            ("[]", r"'realizations' must be a list of steps"),
            ([("x", "1", "0")], r"'realizations\[0\].time' must be an ISO 8601 time"),
            ([(hours(30), "a", "0")], r"'realizations\[0\].net_pnl' must be a decimal"),
            ([(hours(30), "1", "-1")], r"'realizations\[0\].fees' must be >= 0"),
            ([{"time": hours(30), "net_pnl": "1"}], r"'realizations\[0\]' must have exactly"),
            ([(hours(30), "1")], r"'realizations\[0\]' must be a Realization"),
            (
                [(hours(-1), "-0.5", "0.5"), (hours(30), "1", "0")],
                r"'realizations\[0\].time' must not be before 'entry_time'",
            ),
            ([(hours(29), "0.5", "0.5")], r"'realizations' must end at 'exit_time'"),
            (
                [(hours(0), "-0.5", "0.5"), (hours(30), "1", "0")],
                r"'realizations' net_pnl must add up to the trade's net_pnl 0.75 \(got 0.5\)",
            ),
            (
                [(hours(0), "-0.5", "0.25"), (hours(30), "1", "0")],
                r"'realizations' fees must add up to the trade's fees 0.5 \(got 0.25\)",
            ),
        ],
    )
    def test_bad_schedules_are_refused_and_change_nothing(self, steps, match):
        tracker = pt.Tracker("1000")
        trade(tracker, "101", 1)
        before = fingerprint(tracker)
        with pytest.raises(errors.InvalidTradeError, match=match):
            tracker.record_trade(
                "X",
                "long",
                1,
                "100",
                "101",
                hours(0),
                hours(30),
                fees="0.5",
                net_pnl="0.75" if "net_pnl must" in match else "0.5",
                realizations=steps,
            )
        assert before == fingerprint(tracker)


class TestLivePathInBulk:
    """A run of equity points moves the live path as the same points one by one do."""

    @pytest.mark.parametrize("seed", range(40))
    def test_update_many_is_update_in_turn(self, seed):
        import random

        from perftrack._tracker import MONEY_CONTEXT, _LivePath

        rng = random.Random(seed)
        t0 = datetime(2024, 1, 2, tzinfo=UTC)
        start = Decimal(rng.choice(["0", "100", "-5", "1000.00"]))
        one, bulk = _LivePath(start), _LivePath(start)
        with localcontext(MONEY_CONTEXT):
            for _ in range(rng.randint(1, 4)):  # several runs, and single updates between
                n = rng.randint(1, 30)
                # Times that repeat and that step back (the clock is a running maximum, but
                # the path must not rely on it), equities that rise, fall and tie.
                times = [t0 + timedelta(minutes=rng.randint(0, 40)) for _ in range(n)]
                if seed % 2:  # each time later than the last (the replay's usual case)
                    t0 = max(times) + timedelta(minutes=41)
                    times = [t0 + timedelta(seconds=k + 1) for k in range(n)]
                equities = [Decimal(rng.randint(-300, 300)) / 4 + start for _ in range(n)]
                for when, equity in zip(times, equities, strict=True):
                    one.update(when, equity)
                bulk.update_many(times, equities)
                when = t0 + timedelta(minutes=rng.randint(0, 60))
                one.update(when, start)
                bulk.update(when, start)
                slots = ("time", "equity", "peak", "max_dd", "max_dd_pct")
                assert [repr(getattr(one, s)) for s in slots] == [
                    repr(getattr(bulk, s)) for s in slots
                ]
                assert one.figures() == bulk.figures()


class TestGeneratedIds:
    """Ids that look generated move the counter; digits int() cannot read do not fail."""

    def test_superscript_digits(self, tracker):
        trade(tracker, "101", 1, trade_id="pt-²")
        assert tracker.summary().trades == 1
        assert trade(tracker, "101", 2).trade_id == "pt-1"

    def test_a_taken_number_is_skipped(self, tracker):
        trade(tracker, "101", 1, trade_id="pt-7")
        assert trade(tracker, "101", 2).trade_id == "pt-8"


class TestAllTimeShortcut:
    """summary() without arguments is the general path's all-time summary."""

    def test_same_as_the_general_path(self, tracker):
        for k in range(30):
            trade(tracker, str(95 + k % 9), 1 + k * 7, strategy=f"s{k % 3}", tags=("x",))
            fast = tracker.summary()
            general = tracker.summary("all", at=hours(1))  # `at` sends it the long way
            assert fast == general
            assert fast.to_dict() == general.to_dict()
            assert fast.scope == {} and fast.scope is not tracker.summary().scope


# -- times at the edges of datetime's range ------------------------------------------

_EDGE_TIMES = [
    datetime(9999, 12, 31, 23, tzinfo=UTC),  # its session day ends in year 10000
    datetime(9999, 12, 31, 22, tzinfo=timezone(timedelta(hours=-5))),  # UTC: year 10000
    datetime(1, 1, 1, 1, tzinfo=timezone(timedelta(hours=5))),  # UTC: before year 1
    datetime(1, 1, 1, tzinfo=UTC),  # every daily query would walk 740,000 days
    "9999-12-31T23:59:59Z",
]


def _seeded() -> pt.Tracker:
    tracker = pt.Tracker("10000")
    trade(tracker, "110", 1, trade_id="t1")
    tracker.open_trade(
        "o1", symbol="AAPL", side="long", quantity=2, price="100", time=hours(2), fees="1"
    )
    tracker.mark_price("AAPL", "105", hours(3))
    return tracker


@pytest.mark.parametrize("when", _EDGE_TIMES, ids=repr)
@pytest.mark.parametrize(
    "call",
    [
        lambda t, w: t.record_trade("AAPL", "long", 1, "100", "110", w, w),
        lambda t, w: t.open_trade("n", symbol="AAPL", side="long", quantity=1, price=1, time=w),
        lambda t, w: t.open_trade(
            "n", symbol="AAPL", side="long", quantity=1, price=1, time=w, fees=1
        ),
        lambda t, w: t.mark_price("AAPL", "101", w),
        lambda t, w: t.mark_price("AAPL", "101", w, event_id="e"),
        lambda t, w: t.add_to_trade("o1", quantity=1, price="100", time=w),
        lambda t, w: t.close_trade("o1", price="100", time=w),
        lambda t, w: t.record_idea("AAPL", "long", 100, 90, 120, confidence=3, time=w),
    ],
    ids=["record", "open", "open-fee", "mark", "mark-eid", "add", "close", "idea"],
)
def test_times_at_datetime_limits_are_refused_and_change_nothing(call: Any, when: Any) -> None:
    tracker = _seeded()
    before = fingerprint(tracker)
    with pytest.raises(errors.InvalidInputError) as info:
        call(tracker, when)
    assert "time" in str(info.value)
    assert fingerprint(tracker) == before  # also: every query still works


@pytest.mark.parametrize(
    "query",
    [
        lambda t: t.summary(end=datetime(1, 1, 1, tzinfo=UTC)),
        lambda t: t.summary(start=datetime(9999, 12, 31, 23, tzinfo=UTC)),
        lambda t: t.summary("week", at=date(9999, 12, 31)),
        lambda t: t.summary("month", at=datetime(9999, 12, 31, 22, tzinfo=UTC)),
        lambda t: t.periods("week", start=date(9999, 12, 27), end=date(9999, 12, 31)),
        lambda t: t.trades(start=date(9999, 12, 31)),
        lambda t: t.daily_returns(start=datetime(1, 1, 1, 1, tzinfo=timezone(timedelta(hours=5)))),
        lambda t: t.mark_partial(datetime(9999, 12, 31, 23, tzinfo=UTC)),
    ],
)
def test_window_bounds_at_datetime_limits_raise_invalid_input(query: Any) -> None:
    tracker = _seeded()
    with pytest.raises(errors.InvalidInputError):
        query(tracker)


def test_a_tzinfo_that_fails_is_an_invalid_trade() -> None:
    class Broken(__import__("datetime").tzinfo):
        def utcoffset(self, dt: Any) -> Any:
            raise RuntimeError("boom")

        def dst(self, dt: Any) -> Any:
            return None

    tracker = _seeded()
    when = datetime(2025, 3, 3, 20, tzinfo=Broken())
    with pytest.raises(errors.InvalidTradeError, match="'time'"):
        tracker.mark_price("AAPL", "101", when)


@pytest.mark.parametrize(
    "call",
    [
        lambda t: t.close_trade("o", price="110", time=hours(1), quantity="1e-60"),
        lambda t: t.add_to_trade("o", price="110", time=hours(1), quantity="1e-60"),
        lambda t: t.close_trade("o", price="110", time=hours(1), quantity="1." + "0" * 55 + "1"),
    ],
    ids=["close-tiny", "add-tiny", "close-too-precise"],
)
def test_a_quantity_the_money_context_would_round_is_refused(call: Any) -> None:
    """
    2 less 1e-60 rounds to 2 in 50 digits: the exit was booked (its P&L realized, the
    exited quantity moved) while the open quantity stayed 2, so a trade's open and exited
    quantities no longer added up to what was entered.
    """
    tracker = pt.Tracker("10000")
    tracker.open_trade("o", symbol="X", side="long", quantity=2, price="100", time=T0)
    before = fingerprint(tracker)
    with pytest.raises(errors.InvalidTradeError, match="'quantity'"):
        call(tracker)
    assert fingerprint(tracker) == before


@pytest.mark.parametrize(
    ("kw", "field"),
    [({"store": 5}, "'store'"), ({"periods_per_year": 10**400}, "'periods_per_year'")],
)
def test_constructor_arguments_of_the_wrong_kind_are_invalid_input(
    kw: dict[str, Any], field: str
) -> None:
    with pytest.raises(errors.InvalidInputError, match=field):
        pt.Tracker("10000", **kw)


class TestZeroDeviationIsExact:
    """Zero deviation is None (docs/metrics.md), even when Decimal rounding leaves a residue."""

    def test_sharpe_is_none_when_every_daily_return_is_the_same_non_terminating_fraction(self):
        # 243 -> +81 -> +108 -> +144 -> +192 -> +256: every day returns exactly 1/3.
        tracker = pt.Tracker(starting_equity="243")
        for day, pnl in enumerate(["81", "108", "144", "192", "256"]):
            trade(tracker, "100", 24 * day + 1, fees="0", net_pnl=pnl)
        returns = [r for _day, r in tracker.daily_returns()]
        assert len(set(returns)) == 1
        assert tracker.summary().sharpe is None

    def test_sqn_is_none_when_every_trade_has_the_same_pnl_of_many_digits(self):
        tracker = pt.Tracker(starting_equity="1e40")
        for k in range(9):
            trade(tracker, "100", k + 1, fees="0", net_pnl="98478984259174.40475519134185")
        assert tracker.summary().sqn is None


class TestLevelsHold:
    """A column of stops or targets holds exactly when _check_levels takes each row."""

    @given(
        st.lists(
            st.tuples(
                st.sampled_from(["long", "short"]),
                st.sampled_from(["10", "10.5"]).map(Decimal),
                st.sampled_from([None, "9", "10", "10.5", "11"]).map(
                    lambda v: None if v is None else Decimal(v)
                ),
            ),
            max_size=6,
        ),
        st.booleans(),
    )
    def test_same_as_check_levels(self, rows, target):
        from perftrack._tracker import _check_levels, levels_hold

        def taken(side: str, entry: Decimal, level: Decimal | None) -> bool:
            try:
                _check_levels(side, entry, None if target else level, level if target else None)
            except pt.errors.InvalidTradeError:
                return False
            return True

        sides, entries, levels = (
            (list(c) for c in zip(*rows, strict=True)) if rows else ([], [], [])
        )
        expected = all(taken(*row) for row in rows)
        assert levels_hold(sides, entries, levels, target=target) == expected
