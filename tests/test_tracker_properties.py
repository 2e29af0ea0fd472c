"""
Every summary equals a slow recomputation from the raw events, for random event sequences
across days, daylight-saving changes, time zones and both calendars.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    rule,
)

import perftrack as pt
from tests.reference import Model

# Around the US spring-forward change (2025-03-09) and across a few weeks and a month end.
BASE = datetime(2025, 3, 6, 0, 0, tzinfo=UTC)
ZONES = ["UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata"]
SYMBOLS = ["AAA", "BBB"]
STRATEGIES = ["alpha", "beta"]
TAGS = ["gap", "news", "volume"]

# Half-hour steps over ~40 days: collisions (same-instant events) and back-dated events happen.
times = st.integers(min_value=0, max_value=40 * 48).map(lambda k: BASE + timedelta(minutes=30 * k))
prices = st.integers(min_value=50, max_value=150).map(lambda k: Decimal(k) / 2)
quantities = st.sampled_from([Decimal(1), Decimal(2), Decimal(3), Decimal("0.5")])
fees = st.sampled_from([Decimal(0), Decimal("0.25"), Decimal(1)])
tag_sets = st.lists(st.sampled_from(TAGS), max_size=2, unique=True).map(tuple)

FIELDS_EXACT = [
    "trades",
    "wins",
    "losses",
    "breakeven",
    "gross_profit",
    "gross_loss",
    "fees",
    "net_pnl",
    "best_trade",
    "worst_trade",
    "current_streak",
    "max_win_streak",
    "max_loss_streak",
    "max_drawdown",
    "avg_win",
    "avg_loss",
    "expectancy",
    "avg_holding_time",
]
FIELDS_FLOAT = [
    "win_rate",
    "payoff_ratio",
    "profit_factor",
    "max_drawdown_pct",
    "avg_r_multiple",
    "sharpe",
    "sortino",
    "sqn",
]


def close_enough(expected: float | None, actual: float | None) -> bool:
    if expected is None or actual is None:
        return expected is None and actual is None
    return math.isclose(expected, actual, rel_tol=1e-6, abs_tol=1e-9)


def assert_summary(expected: dict[str, Any], actual: pt.Summary, where: str) -> None:
    for name in FIELDS_EXACT:
        if name in expected:
            assert expected[name] == getattr(actual, name), (where, name)
    for name in FIELDS_FLOAT:
        if name in expected:
            assert close_enough(expected[name], getattr(actual, name)), (
                where,
                name,
                expected[name],
                getattr(actual, name),
            )


class TrackerMachine(RuleBasedStateMachine):
    """
    Random opens, scale-ins, partial and full closes, marks and whole trades.
    """

    open_ids = Bundle("open_ids")

    def __init__(self) -> None:
        super().__init__()
        self.counter = 0

    @initialize(zone=st.sampled_from(ZONES), calendar=st.sampled_from(["all", "weekdays"]))
    def setup(self, zone: str, calendar: str) -> None:
        self.tracker = pt.Tracker("10000", timezone=zone, calendar=calendar)
        self.model = Model(Decimal(10000), zone, calendar)
        self.ppy = 252.0 if calendar == "weekdays" else 365.0

    def new_id(self) -> str:
        self.counter += 1
        return f"t{self.counter}"

    @rule(
        strategy=st.sampled_from(STRATEGIES),
        symbol=st.sampled_from(SYMBOLS),
        side=st.sampled_from(["long", "short"]),
        tags=tag_sets,
        qty=quantities,
        entry=prices,
        exit_=prices,
        t_out=times,
        hold=st.integers(min_value=0, max_value=6),
        fee=fees,
        with_stop=st.booleans(),
    )
    def record_trade(
        self, strategy, symbol, side, tags, qty, entry, exit_, t_out, hold, fee, with_stop
    ):
        tid = self.new_id()
        t_in = t_out - timedelta(hours=hold)
        stop = (entry - 1 if side == "long" else entry + 1) if with_stop else None
        self.tracker.record_trade(
            symbol=symbol,
            side=side,
            quantity=qty,
            entry_price=entry,
            exit_price=exit_,
            entry_time=t_in,
            exit_time=t_out,
            fees=fee,
            strategy=strategy,
            stop_price=stop,
            tags=tags,
            trade_id=tid,
        )
        self.model.record_trade(
            tid, strategy, symbol, side, tags, qty, entry, exit_, t_in, t_out, fee, stop
        )

    @rule(
        target=open_ids,
        strategy=st.sampled_from(STRATEGIES),
        symbol=st.sampled_from(SYMBOLS),
        side=st.sampled_from(["long", "short"]),
        tags=tag_sets,
        qty=quantities,
        price=prices,
        when=times,
        fee=fees,
        with_stop=st.booleans(),
    )
    def open_trade(self, strategy, symbol, side, tags, qty, price, when, fee, with_stop):
        tid = self.new_id()
        stop = (price - 1 if side == "long" else price + 1) if with_stop else None
        self.tracker.open_trade(
            tid,
            symbol=symbol,
            side=side,
            quantity=qty,
            price=price,
            time=when,
            fees=fee,
            strategy=strategy,
            stop_price=stop,
            tags=tags,
        )
        self.model.open_trade(tid, strategy, symbol, side, tags, qty, price, when, fee, stop)
        return tid

    @rule(tid=open_ids, qty=quantities, price=prices, later=st.integers(0, 96), fee=fees)
    def add_to_trade(self, tid, qty, price, later, fee):
        if tid not in self.model.open:
            return
        when = self.model.open[tid].entry_time + timedelta(minutes=30 * later)
        self.tracker.add_to_trade(tid, quantity=qty, price=price, time=when, fees=fee)
        self.model.add_to_trade(tid, qty, price, when, fee)

    @rule(tid=open_ids, price=prices, later=st.integers(0, 96), fee=fees, part=st.booleans())
    def partial_close(self, tid, price, later, fee, part):
        if tid not in self.model.open:
            return
        pos = self.model.open[tid]
        when = pos.entry_time + timedelta(minutes=30 * later)
        qty = pos.qty / 2 if part else None
        self.tracker.close_trade(tid, price=price, time=when, quantity=qty, fees=fee)
        self.model.close_trade(tid, price, when, qty, fee)

    @rule(tid=consumes(open_ids), price=prices, later=st.integers(0, 96), fee=fees)
    def close(self, tid, price, later, fee):
        if tid not in self.model.open:
            return
        when = self.model.open[tid].entry_time + timedelta(minutes=30 * later)
        self.tracker.close_trade(tid, price=price, time=when, fees=fee)
        self.model.close_trade(tid, price, when, None, fee)

    @rule(symbol=st.sampled_from(SYMBOLS), price=prices, when=times)
    def mark(self, symbol, price, when):
        self.tracker.mark_price(symbol, price, when)
        self.model.mark(symbol, price, when)

    # -- questions -----------------------------------------------------------------------------

    @rule(
        key=st.sampled_from(
            [
                {},
                {"strategy": "alpha"},
                {"symbol": "BBB"},
                {"side": "short"},
                {"tag": "gap"},
                {"strategy": "beta", "side": "long"},
            ]
        )
    )
    def all_time(self, key):
        expected = self.model.summary(key, None, None, periods_per_year=self.ppy)
        assert_summary(expected, self.tracker.summary(**key), f"all {key}")

    @rule(
        period=st.sampled_from(["day", "week", "month"]),
        at=times,
        key=st.sampled_from([{}, {"tag": "news"}, {"symbol": "AAA"}]),
    )
    def period(self, period, at, key):
        actual = self.tracker.summary(period, at=at, **key)
        lo = actual.start
        day = self.model.session(at)
        if period == "day":
            first = last = day
        elif period == "week":
            first = day - timedelta(days=day.weekday())
            last = first + timedelta(days=6)
        else:
            first = day.replace(day=1)
            last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        expected = self.model.summary(key, first, last, periods_per_year=self.ppy)
        assert_summary(expected, actual, f"{period} at {at} {key} from {lo}")

    @rule(a=times, b=times, as_dates=st.booleans(), key=st.sampled_from([{}, {"strategy": "beta"}]))
    def custom_range(self, a, b, as_dates, key):
        a, b = min(a, b), max(a, b)
        if as_dates:
            da, db = self.model.session(a), self.model.session(b)
            actual = self.tracker.summary(start=da, end=db, **key)
            if self.model.calendar == "weekdays":
                da = da if da.weekday() < 5 else da + timedelta(days=7 - da.weekday())
            expected = self.model.summary(key, da, db, periods_per_year=self.ppy)
        else:
            actual = self.tracker.summary(start=a, end=b, **key)
            expected = self.model.summary(
                key,
                self.model.session(a),
                self.model.session(b) if b > a else self.model.session(a),
                t_lo=a,
                t_hi=b,
                periods_per_year=self.ppy,
            )
        assert_summary(expected, actual, f"range {a} {b} {as_dates} {key}")

    @rule(n=st.integers(1, 30), key=st.sampled_from([{}, {"side": "long"}, {"tag": "volume"}]))
    def rolling(self, n, key):
        assert_summary(self.model.rolling(key, n), self.tracker.rolling(n, **key), f"rolling {n}")

    @rule(by=st.sampled_from(["strategy", "symbol", "side", "tag"]))
    def breakdown(self, by):
        actual = self.tracker.breakdown(by)
        values = set()
        for c in self.model.closed:
            values.update(c.tags if by == "tag" else [getattr(c, by)])
        for r in self.model.reals:
            values.update(r.tags if by == "tag" else [getattr(r, by)])
        assert set(actual) == values
        for value, summary in actual.items():
            expected = self.model.summary({by: value}, None, None, periods_per_year=self.ppy)
            assert_summary(expected, summary, f"breakdown {by}={value}")

    @invariant()
    def live_and_totals(self):
        if not hasattr(self, "tracker"):
            return
        expected = self.model.live()
        live = self.tracker.live
        for name, value in expected.items():
            actual = getattr(live, name)
            if isinstance(value, float):
                assert close_enough(value, actual), name
            else:
                assert value == actual, name
        assert [t.trade_id for t in self.tracker.trades()] == [
            c.trade_id for c in self.model.closed_in_order()
        ]
        assert {t.trade_id for t in self.tracker.open_trades} == set(self.model.open)

    def teardown(self) -> None:
        if not hasattr(self, "tracker"):
            return
        # The daily figures add up to the all-time figures.
        days = self.tracker.periods("day")
        assert sum((d.net_pnl for d in days), Decimal(0)) == self.tracker.summary().net_pnl
        assert sum(d.trades for d in days) == self.tracker.summary().trades
        returns = self.tracker.daily_returns()
        assert len(returns) == len(days)
        assert [d for d, _ in returns] == [
            s.start.date() for s in days
        ] or self.model.calendar == "weekdays"


TrackerMachine.TestCase.settings = settings(
    max_examples=400,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestTrackerMatchesModel = TrackerMachine.TestCase

_ = date
