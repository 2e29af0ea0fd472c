"""
Idea streams over random marks and bars: every idea, IdeaSummary and breakdown equals a slow
recomputation from the raw log (tests/ideas_reference.py), and a restore gives back the same.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import hypothesis.strategies as st
from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

import perftrack as pt
from perftrack.stores import MemoryStore
from tests.ideas_reference import IdeasModel, RefIdea, as_idea_fields, summary_fields

BASE = datetime(2025, 3, 28, 12, 0, tzinfo=UTC)  # near a month end and London's DST change
SYMBOLS = ["AAA", "BBB"]
EDGES = ["gap", "vwap", "news"]

prices = st.integers(min_value=180, max_value=220).map(lambda k: Decimal(k) / 2)
steps = st.integers(min_value=-6, max_value=30).map(lambda k: timedelta(minutes=20 * k))
distances = st.sampled_from([Decimal("0.5"), Decimal(1), Decimal("1.5"), Decimal(3)])


def bounds(model: IdeasModel, ideas: list[RefIdea]) -> list[dict[str, Any]]:
    """
    Query windows around the ideas: their days, weeks and months, a date range, a cut range.
    """
    windows: list[dict[str, Any]] = [{}]
    for idea in ideas[:3]:
        windows += [{"period": p, "at": idea.created_at} for p in ("day", "week", "month")]
    if ideas:
        first = model.day(ideas[0].created_at)
        windows.append({"start": first, "end": first + timedelta(days=3)})
        windows.append({"start": ideas[0].created_at + timedelta(minutes=30)})
        windows.append({"end": ideas[-1].created_at})
    return windows


def select(model: IdeasModel, ideas: list[RefIdea], window: dict[str, Any]) -> list[RefIdea]:
    period, at = window.get("period"), window.get("at")
    start, end = window.get("start"), window.get("end")
    out = []
    for idea in ideas:
        day = model.day(idea.created_at)
        if period == "day" and day != model.day(at):
            continue
        if period == "week" and day.isocalendar()[:2] != model.day(at).isocalendar()[:2]:
            continue
        if period == "month" and (day.year, day.month) != (model.day(at).year, model.day(at).month):
            continue
        if isinstance(start, datetime) and idea.created_at < start:
            continue
        if isinstance(end, datetime) and idea.created_at >= end:
            continue
        if start is not None and not isinstance(start, datetime) and day < start:
            continue
        if end is not None and not isinstance(end, datetime) and day > end:
            continue
        out.append(idea)
    return out


class IdeasMachine(RuleBasedStateMachine):
    """Random ideas, marks, bars, expiries, overrides, links and restores against the model."""

    @initialize(
        zone=st.sampled_from(["UTC", "Europe/London", "America/New_York", "Asia/Kolkata"]),
        calendar=st.sampled_from(["all", "weekdays"]),
    )
    def start(self, zone: str, calendar: str) -> None:
        self.zone = zone
        self.store = MemoryStore()
        self.tracker = pt.Tracker(
            timezone=zone, calendar=calendar, store=self.store, snapshot_every=7
        )
        self.model = IdeasModel(zone, weekdays=calendar == "weekdays")
        self.now = BASE
        self.ids: list[str] = []
        self.trades = 0

    def tick(self, step: timedelta) -> datetime:
        when = self.now + step
        self.now = max(self.now, when)
        return when

    @rule(
        symbol=st.sampled_from(SYMBOLS),
        side=st.sampled_from(["long", "short"]),
        entry_type=st.sampled_from(["market", "limit", "stop"]),
        entry=prices,
        risk=distances,
        reward=distances,
        confidence=st.integers(min_value=0, max_value=5),
        edges=st.lists(st.sampled_from(EDGES), max_size=2, unique=True),
        horizon=st.sampled_from([None, "day", "swing"]),
        step=steps,
        life=st.integers(min_value=1, max_value=30).map(lambda k: timedelta(hours=2 * k)),
    )
    def record(
        self, symbol, side, entry_type, entry, risk, reward, confidence, edges, horizon, step, life
    ) -> None:
        sign = 1 if side == "long" else -1
        when = self.tick(step)
        made = self.tracker.record_idea(
            symbol,
            side,
            entry,
            entry - sign * risk,
            entry + sign * reward,
            confidence=confidence,
            entry_type=entry_type,
            edges=edges,
            horizon=horizon,
            time=when,
            expires_after=life,
        )
        self.ids.append(made.idea_id)
        self.model.log.append(
            (
                "idea",
                RefIdea(
                    made.idea_id,
                    symbol,
                    side,
                    entry_type,
                    entry,
                    entry - sign * risk,
                    entry + sign * reward,
                    confidence,
                    tuple(edges),
                    horizon,
                    when,
                    when + life,
                ),
            )
        )

    @rule(symbol=st.sampled_from(SYMBOLS), price=prices, step=steps)
    def mark(self, symbol, price, step) -> None:
        when = self.tick(step)
        self.tracker.mark_price(symbol, price, when)
        self.model.log.append(("price", (symbol, when, None, price, price, price, True)))

    @rule(
        symbol=st.sampled_from(SYMBOLS),
        a=prices,
        b=prices,
        c=prices,
        d=prices,
        with_open=st.booleans(),
        step=steps,
    )
    def bar(self, symbol, a, b, c, d, with_open, step) -> None:
        when = self.tick(step)
        high, low = max(a, b, c, d), min(a, b, c, d)
        open_ = c if with_open else None
        self.tracker.mark_bar(symbol, open=open_, high=high, low=low, close=d, time=when)
        self.model.log.append(("price", (symbol, when, open_, high, low, d, False)))

    @rule(step=steps)
    def expire(self, step) -> None:
        when = self.tick(step)
        self.tracker.ideas.expire(when)
        self.model.log.append(("time", when))

    @precondition(lambda self: self.ids)
    @rule(data=st.data(), step=steps, exit_=prices)
    def take(self, data, step, exit_) -> None:
        idea_id = data.draw(st.sampled_from(self.ids))
        when = self.tick(step)
        self.trades += 1
        trade = self.tracker.record_trade(
            "AAA",
            "long",
            1,
            "100",
            exit_,
            when,
            when,
            trade_id=f"t{self.trades}",
            idea_id=idea_id,
        )
        self.model.log.append(("trade", (idea_id, trade.trade_id, trade.net_pnl, when)))

    @precondition(lambda self: self.ids)
    @rule(
        data=st.data(),
        note=st.sampled_from([None, "late", "good"]),
        flagged=st.sampled_from([None, True, False]),
    )
    def annotate(self, data, note, flagged) -> None:
        idea_id = data.draw(st.sampled_from(self.ids))
        self.tracker.ideas.annotate(idea_id, note=note, flagged=flagged)
        self.model.log.append(("annotate", (idea_id, note, flagged)))

    @precondition(lambda self: self.ids)
    @rule(
        data=st.data(),
        status=st.sampled_from(["win", "loss", "expired"]),
        r=st.sampled_from([None, Decimal(-1), Decimal("0.5"), Decimal(4)]),
    )
    def override(self, data, status, r) -> None:
        idea_id = data.draw(st.sampled_from(self.ids))
        self.tracker.ideas.override(idea_id, status=status, r_achieved=r, reason="by hand")
        self.model.log.append(("override", (idea_id, status, r, "by hand")))

    @rule(snapshot=st.booleans())
    def restart(self, snapshot) -> None:
        before = fingerprint(self.tracker)
        if snapshot:
            self.tracker.save_snapshot()
        self.tracker.close()
        self.tracker = pt.Tracker.restore(self.store, snapshot_every=7)
        assert before == fingerprint(self.tracker)

    @invariant()
    def ideas_match(self) -> None:
        if not hasattr(self, "model"):
            return
        expected = [as_idea_fields(i) for i in self.model.replay()]
        actual = [
            {k: getattr(i, k) for k in expected[0]} if expected else {}
            for i in self.tracker.ideas.list()
        ]
        assert expected == (actual if expected else [])

    def teardown(self) -> None:
        if not hasattr(self, "model"):
            return
        ideas = self.model.replay()
        ideas_api = self.tracker.ideas
        filters: list[dict[str, Any]] = [
            {},
            {"symbol": "AAA"},
            {"side": "short"},
            {"horizon": "day"},
            {"confidence": 3},
            {"edge": "gap"},
            {"symbol": "BBB", "edge": "vwap"},
        ]
        for window in bounds(self.model, ideas):
            chosen = select(self.model, ideas, window)
            for f in filters:
                expected = summary_fields([i for i in chosen if _matches(i, f)])
                got = ideas_api.summary(**window, **f)
                assert expected == {k: getattr(got, k) for k in expected}, (window, f)
            if "at" in window or not window:
                for by in ("edge", "confidence", "horizon", "symbol", "side"):
                    got_by = ideas_api.breakdown(by, **window)
                    values = sorted({v for i in chosen for v in _values(i, by)})
                    assert values == list(got_by)
                    for v in values:
                        expected = summary_fields([i for i in chosen if v in _values(i, by)])
                        assert expected == {k: getattr(got_by[v], k) for k in expected}
            listed = [i.idea_id for i in ideas_api.list(**window)]
            assert [i.idea_id for i in chosen] == listed
        self.tracker.close()


def _values(idea: RefIdea, by: str) -> tuple[Any, ...]:
    if by == "edge":
        return idea.edges
    value = getattr(idea, by)
    return () if value is None else (value,)


def _matches(idea: RefIdea, f: dict[str, Any]) -> bool:
    return all((v in idea.edges) if k == "edge" else getattr(idea, k) == v for k, v in f.items())


def fingerprint(tracker: pt.Tracker) -> Any:
    ideas = tracker.ideas
    return (
        [i.to_dict() for i in ideas.list()],
        ideas.summary().to_dict(),
        ideas.summary(symbol="BBB", edge="vwap").to_dict(),
        {
            by: {k: v.to_dict() for k, v in ideas.breakdown(by).items()}
            for by in ("edge", "confidence", "horizon", "symbol", "side")
        },
        ideas._next_id,
        ideas._seen,
    )


IdeasMachine.TestCase.settings = settings(stateful_step_count=30, deadline=None)
TestIdeasMachine = IdeasMachine.TestCase
