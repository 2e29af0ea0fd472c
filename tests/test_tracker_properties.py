"""
Every query equals a slow recomputation from the raw events (tests/reference.py), for random
event sequences across days, daylight-saving changes, time zones and both calendars: summaries
of every period, custom ranges with date and datetime bounds, every breakdown, rolling
windows, periods(), daily_returns(), equity_curve(), trades() with filters, open trades and
the live figures.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import attrs
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
from perftrack import _tracker
from tests.reference import Model

# Around the US spring-forward change (2025-03-09), the European one (03-30), Lord Howe's
# half-hour change back (04-06), across ISO weeks and a month end.
BASE = datetime(2025, 3, 6, 0, 0, tzinfo=UTC)
ZONES = ["UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata"]
SYMBOLS = ["AAA", "BBB"]
STRATEGIES = ["alpha", "beta"]
TAGS = ["gap", "news", "volume"]
KEYS = [
    {},
    {"strategy": "alpha"},
    {"symbol": "BBB"},
    {"side": "short"},
    {"tag": "gap"},
    {"strategy": "beta", "side": "long"},
    {"symbol": "AAA", "tag": "news"},
]
keys = st.sampled_from(KEYS)

# Half-hour steps over ~40 days: collisions (same-instant events) and back-dated events happen.
times = st.integers(min_value=0, max_value=40 * 48).map(lambda k: BASE + timedelta(minutes=30 * k))
prices = st.integers(min_value=50, max_value=150).map(lambda k: Decimal(k) / 2)
quantities = st.sampled_from([Decimal(1), Decimal(2), Decimal(3), Decimal("0.5")])
fees = st.sampled_from([Decimal(0), Decimal("0.25"), Decimal(1)])
tag_sets = st.lists(st.sampled_from(TAGS), max_size=2, unique=True).map(tuple)
days = st.integers(min_value=-3, max_value=44).map(lambda k: BASE.date() + timedelta(days=k))


class Midnight:
    """
    The instant a local day begins in the machine's zone, drawn before the zone is known.
    """

    def __init__(self, day: date) -> None:
        self.day = day

    def __repr__(self) -> str:
        return f"Midnight({self.day!r})"


# An instant: on the half-hour grid, or exactly where a local day begins (the edge case of a
# half-open end).
instants = st.one_of(times, days.map(Midnight))
# A window bound: a date (an inclusive session day) or an instant (half-open).
bounds = st.one_of(st.none(), days, instants)

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
    "start",
    "end",
    "open_trades",
    "unrealized_pnl",
    "note",
    "partial",
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


def _instant(value: Any) -> Any:
    # In UTC: an instant inside a DST fold never equals another zone's instant (PEP 495).
    return value.astimezone(UTC) if isinstance(value, datetime) else value


def assert_summary(expected: dict[str, Any], actual: pt.Summary, where: str) -> None:
    for name in FIELDS_EXACT:
        assert name in expected, name
        assert _instant(expected[name]) == _instant(getattr(actual, name)), (where, name)
    for name in FIELDS_FLOAT:
        assert name in expected, name
        assert close_enough(expected[name], getattr(actual, name)), (
            where,
            name,
            expected[name],
            getattr(actual, name),
        )


class TrackerMachine(RuleBasedStateMachine):
    """
    Random opens, scale-ins, partial and full closes, marks and whole trades, and every query.
    """

    open_ids = Bundle("open_ids")

    def __init__(self) -> None:
        super().__init__()
        self.counter = 0
        self.capacity = _tracker.ROLLING_CAPACITY
        self.index_batch = _tracker.INDEX_BATCH

    @initialize(
        zone=st.sampled_from(ZONES),
        calendar=st.sampled_from(["all", "weekdays"]),
        # A small account goes below zero: the None rules of returns and drawdowns.
        equity=st.sampled_from(["10000", "250", "40"]),
        capacity=st.sampled_from([3, 512]),
        ppy=st.sampled_from([None, 260]),
        # Booked events wait for a read or a full batch: small batches index them between
        # reads too, late and back-dated ones included.
        index_batch=st.sampled_from([1, 2, 5, 256]),
        # Times in the tracker's own zone (a ZoneInfo), as a bot in New York sends them:
        # durations and order across DST changes must still be exact.
        local=st.booleans(),
    )
    def setup(
        self,
        zone: str,
        calendar: str,
        equity: str,
        capacity: int,
        ppy: int | None,
        index_batch: int,
        local: bool,
    ) -> None:
        self.local = ZoneInfo(zone) if local else None
        # A small rolling capacity sends rolling(n) down its scan path too.
        _tracker.ROLLING_CAPACITY = capacity
        _tracker.INDEX_BATCH = index_batch
        self.tracker = pt.Tracker(equity, timezone=zone, calendar=calendar, periods_per_year=ppy)
        self.model = Model(Decimal(equity), zone, calendar)
        default = 252.0 if calendar == "weekdays" else 365.0
        self.ppy = default if ppy is None else float(ppy)

    def teardown(self) -> None:
        _tracker.ROLLING_CAPACITY = self.capacity
        _tracker.INDEX_BATCH = self.index_batch

    def at(self, when: datetime) -> datetime:
        """
        An event time as the tracker is given it (the model keeps UTC).
        """
        return when if self.local is None else when.astimezone(self.local)

    def resolve(self, bound: Any) -> Any:
        return self.model.midnight(bound.day) if isinstance(bound, Midnight) else bound

    def new_id(self) -> str:
        self.counter += 1
        return f"t{self.counter}"

    # -- events --------------------------------------------------------------------------------

    @rule(
        strategy=st.sampled_from(STRATEGIES),
        symbol=st.sampled_from(SYMBOLS),
        side=st.sampled_from(["long", "short"]),
        tags=tag_sets,
        qty=quantities,
        entry=prices,
        move=st.sampled_from(["0", "0", "0.5", "-0.5", "3", "-3", "12", "-12"]).map(Decimal),
        t_out=times,
        hold=st.sampled_from([0, 1, 3, 6, 30, 75]),
        fee=fees,
        with_stop=st.booleans(),
    )
    def record_trade(
        self, strategy, symbol, side, tags, qty, entry, move, t_out, hold, fee, with_stop
    ):
        # Moves of 0 with no fee give breakeven trades, which end streaks.
        exit_ = entry + move
        tid = self.new_id()
        t_in = t_out - timedelta(hours=hold)
        stop = (entry - 1 if side == "long" else entry + 1) if with_stop else None
        self.tracker.record_trade(
            symbol=symbol,
            side=side,
            quantity=qty,
            entry_price=entry,
            exit_price=exit_,
            entry_time=self.at(t_in),
            exit_time=self.at(t_out),
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
            time=self.at(when),
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
        self.tracker.add_to_trade(tid, quantity=qty, price=price, time=self.at(when), fees=fee)
        self.model.add_to_trade(tid, qty, price, when, fee)

    @rule(
        tid=open_ids,
        price=prices,
        later=st.integers(0, 96),
        fee=fees,
        part=st.sampled_from(["half", "one", "tenth", "rest"]),
    )
    def partial_close(self, tid, price, later, fee, part):
        if tid not in self.model.open:
            return
        pos = self.model.open[tid]
        when = pos.entry_time + timedelta(minutes=30 * later)
        # One unit out of three leaves a cost basis share that does not terminate.
        sizes = {"half": pos.qty / 2, "one": Decimal(1), "tenth": Decimal("0.1"), "rest": None}
        qty = sizes[part]
        if qty is not None and qty > pos.qty:
            qty = None
        self.tracker.close_trade(tid, price=price, time=self.at(when), quantity=qty, fees=fee)
        self.model.close_trade(tid, price, when, qty, fee)

    @rule(tid=consumes(open_ids), price=prices, later=st.integers(0, 96), fee=fees)
    def close(self, tid, price, later, fee):
        if tid not in self.model.open:
            return
        when = self.model.open[tid].entry_time + timedelta(minutes=30 * later)
        self.tracker.close_trade(tid, price=price, time=self.at(when), fees=fee)
        self.model.close_trade(tid, price, when, None, fee)

    @rule(symbol=st.sampled_from(SYMBOLS), price=prices, when=times)
    def mark(self, symbol, price, when):
        self.tracker.mark_price(symbol, price, self.at(when))
        self.model.mark(symbol, price, when)

    # -- questions -----------------------------------------------------------------------------

    @rule(key=keys)
    def all_time(self, key):
        expected = self.model.summary(key, None, None, periods_per_year=self.ppy)
        actual = self.tracker.summary(**key)
        assert_summary(expected, actual, f"all {key}")
        assert "all" == actual.period
        json.dumps(actual.to_dict())

    def period_days(self, period: str, day: date) -> tuple[date, date]:
        if period == "day":
            return day, day
        if period == "week":
            first = day - timedelta(days=day.weekday())
            return first, first + timedelta(days=6)
        first = day.replace(day=1)
        return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)

    @rule(
        period=st.sampled_from(["day", "week", "month"]),
        at=st.one_of(instants, days),
        key=keys,
    )
    def period(self, period, at, key):
        at = self.resolve(at)
        actual = self.tracker.summary(period, at=at, **key)
        day = self.model.session(at) if isinstance(at, datetime) else self.model.session_of_date(at)
        first, last = self.period_days(period, day)
        expected = self.model.summary(key, first, last, periods_per_year=self.ppy)
        assert_summary(expected, actual, f"{period} at {at} {key}")
        assert period == actual.period

    @rule(a=bounds, b=bounds, key=keys)
    def custom_range(self, a, b, key):
        # Either bound may be a date, an instant or open, so mixed ranges are covered too.
        a, b = self.resolve(a), self.resolve(b)
        if a is not None and type(a) is type(b):
            a, b = min(a, b), max(a, b)
        actual = self.tracker.summary(start=a, end=b, **key)
        lo, hi = self.model.day_bounds(a, b)
        t_lo = a if isinstance(a, datetime) else None
        t_hi = b if isinstance(b, datetime) else None
        expected = self.model.summary(key, lo, hi, t_lo=t_lo, t_hi=t_hi, periods_per_year=self.ppy)
        assert_summary(expected, actual, f"range {a} {b} {key}")
        assert ("all" if a is None and b is None else "custom") == actual.period

    @rule(n=st.integers(1, 30), key=keys)
    def rolling(self, n, key):
        actual = self.tracker.rolling(n, **key)
        assert_summary(self.model.rolling(key, n), actual, f"rolling {n} {key}")
        assert "rolling" == actual.period

    @rule(
        by=st.sampled_from(["strategy", "symbol", "side", "tag"]),
        window=st.one_of(
            st.just(("all", None, None, None)),
            st.tuples(st.sampled_from(["day", "week", "month"]), instants, st.none(), st.none()),
            st.tuples(st.just("all"), st.none(), bounds, bounds),
        ),
    )
    def breakdown(self, by, window):
        period, at, a, b = (self.resolve(x) for x in window)
        if a is not None and type(a) is type(b):
            a, b = min(a, b), max(a, b)
        actual = self.tracker.breakdown(by, period=period, at=at, start=a, end=b)
        values = set()
        for r in self.model.reals:
            values.update(r.tags if by == "tag" else [getattr(r, by)])
        assert sorted(values) == list(actual)
        if period == "all":
            lo, hi = self.model.day_bounds(a, b)
            t_lo = a if isinstance(a, datetime) else None
            t_hi = b if isinstance(b, datetime) else None
        else:
            lo, hi = self.period_days(period, self.model.session(at))
            t_lo = t_hi = None
        for value, summary in actual.items():
            expected = self.model.summary(
                {by: value}, lo, hi, t_lo=t_lo, t_hi=t_hi, periods_per_year=self.ppy
            )
            assert_summary(expected, summary, f"breakdown {by}={value} {window}")

    @rule(period=st.sampled_from(["day", "week", "month"]), a=bounds, b=bounds, key=keys)
    def periods(self, period, a, b, key):
        a, b = self.resolve(a), self.resolve(b)
        if a is not None and type(a) is type(b):
            a, b = min(a, b), max(a, b)
        actual = self.tracker.periods(period, start=a, end=b, **key)
        expected = self.model.periods(period, key, a, b, self.ppy)
        assert len(expected) == len(actual), (period, a, b)
        for (first, last, want), got in zip(expected, actual, strict=True):
            assert period == got.period
            assert_summary(want, got, f"periods {period} {first}..{last} {key}")

    @rule(a=bounds, b=bounds)
    def daily_returns(self, a, b):
        a, b = self.resolve(a), self.resolve(b)
        if a is not None and type(a) is type(b):
            a, b = min(a, b), max(a, b)
        expected = self.model.daily_returns(a, b)
        actual = self.tracker.daily_returns(start=a, end=b)
        assert [d for d, _ in expected] == [d for d, _ in actual]
        for (day, want), (_, got) in zip(expected, actual, strict=True):
            assert close_enough(want, got), (day, want, got)

    @rule()
    def equity_curve(self):
        # In UTC: an instant inside a DST fold never equals another zone's instant (PEP 495).
        assert [(t.astimezone(UTC), v) for t, v in self.model.equity_curve()] == [
            (t.astimezone(UTC), v) for t, v in self.tracker.equity_curve()
        ]

    @rule(a=bounds, b=bounds, key=keys)
    def trades(self, a, b, key):
        a, b = self.resolve(a), self.resolve(b)
        if a is not None and type(a) is type(b):
            a, b = min(a, b), max(a, b)
        expected = self.model.trades(key, a, b)
        actual = self.tracker.trades(start=a, end=b, **key)
        assert [c.trade_id for c in expected] == [t.trade_id for t in actual]

    @invariant()
    def live_open_and_closed(self):
        if not hasattr(self, "tracker"):
            return
        live = self.tracker.live
        for name, value in self.model.live().items():
            actual = getattr(live, name)
            if isinstance(value, float):
                assert close_enough(value, actual), name
            else:
                assert value == actual, name
        views = [
            {k: v for k, v in attrs.asdict(t, recurse=False).items() if k in want}
            for t, want in zip(self.tracker.open_trades, self.model.open_views(), strict=False)
        ]
        assert self.model.open_views() == views
        closed = self.tracker.trades()
        expected = self.model.closed_in_order()
        assert [c.trade_id for c in expected] == [t.trade_id for t in closed]
        for c, t in zip(expected, closed, strict=True):
            r = None if c.risk is None else float(c.net / c.risk)
            assert (
                c.strategy,
                c.symbol,
                c.side,
                c.tags,
                c.quantity,
                c.entry_price,
                c.exit_price,
                c.entry_time,
                c.exit_time,
                c.fees,
                c.net,
                c.net + c.fees,
                "win" if c.net > 0 else "loss" if c.net < 0 else "breakeven",
            ) == (
                t.strategy,
                t.symbol,
                t.side,
                t.tags,
                t.quantity,
                t.entry_price,
                t.exit_price,
                t.entry_time,
                t.exit_time,
                t.fees,
                t.net_pnl,
                t.gross_pnl,
                t.outcome,
            )
            assert close_enough(r, t.r_multiple), c.trade_id

    # A rule, not an invariant: queries fold the buckets they read, and an invariant that
    # queried after every step would hide a query that forgets to.
    @rule()
    def daily_figures_add_up(self):
        days = self.tracker.periods("day")
        whole = self.tracker.summary()
        assert whole.net_pnl == sum((d.net_pnl for d in days), Decimal(0))
        assert whole.fees == sum((d.fees for d in days), Decimal(0))
        assert whole.trades == sum(d.trades for d in days)


TrackerMachine.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestTrackerMatchesModel = TrackerMachine.TestCase
