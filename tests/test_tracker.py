"""
The Tracker's behaviour by example: accounting, windows, bad input, threads and signals.
"""

from __future__ import annotations

import math
import threading
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, getcontext, localcontext
from typing import Any

import pytest
import structlog

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

    def test_r_multiple(self, tracker):
        t = trade(tracker, "104", 1, stop_price="98")
        assert Decimal(20) == t.risk
        assert t.r_multiple == 39 / 20
        assert trade(tracker, "101", 2).r_multiple is None


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


class TestBadInput:
    """Each bad call raises a typed error naming the field and leaves the tracker untouched."""

    @pytest.fixture(name="busy")
    def _busy(self, tracker):
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
        per_thread = 300
        failures: list[BaseException] = []

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
                    tracker.mark_price("Q", "49", when)
                    tracker.close_trade(tid, price="49", time=when, quantity=1)
                    tracker.close_trade(tid, price="48", time=when)
                    tracker.summary("day", at=when)
                    tracker.rolling(10)
            except BaseException as e:
                failures.append(e)

        threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        gate.set()
        for t in threads:
            t.join()
        assert failures == []
        n = 8 * per_thread
        summary = tracker.summary()
        # Each record_trade nets +0.9 or -0.6; each short nets +1 + 2 = +3.
        expected = Decimal("0.9") * (n // 2) + Decimal("-0.6") * (n // 2) + Decimal(3) * n
        assert expected == summary.net_pnl
        assert 2 * n == summary.trades
        assert expected == tracker.live.realized_pnl
        assert sum(s.trades for s in tracker.breakdown("strategy").values()) == 2 * n
        assert sum(d.net_pnl for d in tracker.periods("day")) == expected


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
