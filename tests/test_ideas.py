"""
Trade ideas: each rule of the life of an idea on a short price path, the analysis, bad input,
persistence and signals.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

import perftrack as pt
from perftrack import errors, signals
from perftrack.stores import MemoryStore
from tests.observe import T0


def minutes(n: float) -> Any:
    return T0 + timedelta(minutes=n)


def idea(tracker: pt.Tracker, **changes: Any) -> pt.Idea:
    """
    A long NVDA idea: entry 100, stop 98 (risk 2), target 106 (3 R), created at T0.
    """
    args: dict[str, Any] = {
        "symbol": "NVDA",
        "side": "long",
        "entry": "100",
        "stop": "98",
        "target": "106",
        "confidence": 3,
        "time": T0,
    }
    args.update(changes)
    return tracker.record_idea(**args)


def short(tracker: pt.Tracker, **changes: Any) -> pt.Idea:
    """
    A short NVDA idea: entry 100, stop 102 (risk 2), target 96 (2 R).
    """
    return idea(tracker, side="short", stop="102", target="96", **changes)


def bar(tracker: pt.Tracker, n: float, o: Any, h: Any, lo: Any, c: Any, symbol: str = "NVDA"):
    tracker.mark_bar(symbol, open=o, high=h, low=lo, close=c, time=minutes(n))


def now(tracker: pt.Tracker, made: pt.Idea) -> pt.Idea:
    return tracker.ideas.get(made.idea_id)


@pytest.fixture(name="tracker")
def _tracker() -> pt.Tracker:
    return pt.Tracker()


class TestEntries:
    """An idea is pending until its entry is reached, then open."""

    def test_market_is_open_at_creation(self, tracker):
        made = idea(tracker)
        assert ("open", T0) == (made.status, made.triggered_at)

    def test_limit_long_waits_for_a_price_at_or_below_the_entry(self, tracker):
        made = idea(tracker, entry_type="limit")
        tracker.mark_price("NVDA", "100.5", minutes(1))
        assert "pending" == now(tracker, made).status
        tracker.mark_price("NVDA", "100", minutes(2))
        assert ("open", minutes(2)) == (now(tracker, made).status, now(tracker, made).triggered_at)

    def test_limit_short_waits_for_a_price_at_or_above_the_entry(self, tracker):
        made = short(tracker, entry_type="limit")
        tracker.mark_price("NVDA", "99", minutes(1))
        assert "pending" == now(tracker, made).status
        tracker.mark_price("NVDA", "100.5", minutes(2))
        assert "open" == now(tracker, made).status

    def test_stop_long_waits_for_a_price_at_or_above_the_entry(self, tracker):
        made = idea(tracker, entry_type="stop")
        tracker.mark_price("NVDA", "99", minutes(1))
        assert "pending" == now(tracker, made).status
        tracker.mark_price("NVDA", "100", minutes(2))
        assert "open" == now(tracker, made).status

    def test_stop_short_waits_for_a_price_at_or_below_the_entry(self, tracker):
        made = short(tracker, entry_type="stop")
        tracker.mark_price("NVDA", "101", minutes(1))
        assert "pending" == now(tracker, made).status
        tracker.mark_price("NVDA", "99.9", minutes(2))
        assert "open" == now(tracker, made).status

    def test_a_bar_reaches_a_limit_entry_on_its_low(self, tracker):
        made = idea(tracker, entry_type="limit")
        bar(tracker, 1, "101", "102", "99.5", "101")
        assert "open" == now(tracker, made).status

    def test_other_symbols_do_not_move_an_idea(self, tracker):
        made = idea(tracker, entry_type="limit")
        tracker.mark_price("AAPL", "50", minutes(1))
        assert "pending" == now(tracker, made).status

    def test_a_price_older_than_the_idea_does_not_move_it(self, tracker):
        made = idea(tracker, entry_type="limit", time=minutes(10))
        tracker.mark_price("NVDA", "99", minutes(5))
        assert "pending" == now(tracker, made).status


class TestOutcomes:
    """After the entry, the first touch of the target wins and of the stop loses."""

    def test_a_mark_at_the_target_wins_at_the_target(self, tracker):
        made = idea(tracker)
        tracker.mark_price("NVDA", "107", minutes(1))
        got = now(tracker, made)
        assert ("win", 3.0, minutes(1)) == (got.status, got.r_achieved, got.closed_at)

    def test_a_mark_beyond_the_stop_loses_one_r(self, tracker):
        made = idea(tracker)
        tracker.mark_price("NVDA", "95", minutes(1))
        got = now(tracker, made)
        assert ("loss", -1.0, -1.0) == (got.status, got.r_achieved, got.mae_r)

    def test_short_win_is_signed_for_the_side(self, tracker):
        made = short(tracker)
        tracker.mark_price("NVDA", "96", minutes(1))
        assert ("win", 2.0) == (now(tracker, made).status, now(tracker, made).r_achieved)

    def test_a_gap_beyond_the_stop_fills_at_the_open(self, tracker):
        made = idea(tracker)
        bar(tracker, 1, "97", "97.5", "96", "97")
        assert ("loss", -1.5) == (now(tracker, made).status, now(tracker, made).r_achieved)

    def test_a_gap_beyond_the_target_fills_at_the_open(self, tracker):
        made = idea(tracker)
        bar(tracker, 1, "108", "109", "107", "108")
        got = now(tracker, made)
        assert ("win", 4.0, 4.0) == (got.status, got.r_achieved, got.mfe_r)

    def test_a_bar_reaching_stop_and_target_is_a_loss(self, tracker):
        made = idea(tracker)
        bar(tracker, 1, "100", "107", "97", "101")
        got = now(tracker, made)
        assert ("loss", -1.0, -1.0) == (got.status, got.r_achieved, got.mae_r)

    def test_a_bar_without_open_fills_at_the_level(self, tracker):
        made = idea(tracker)
        tracker.mark_bar("NVDA", high="99", low="96", close="96", time=minutes(1))
        assert -1.0 == now(tracker, made).r_achieved

    def test_a_bar_reaching_entry_and_stop_is_a_loss(self, tracker):
        made = idea(tracker, entry_type="limit")
        bar(tracker, 1, "101", "101", "97", "99")
        got = now(tracker, made)
        assert ("loss", -1.0, minutes(1)) == (got.status, got.r_achieved, got.triggered_at)

    def test_a_limit_gap_through_entry_and_stop_fills_at_the_open(self, tracker):
        made = idea(tracker, entry_type="limit")
        bar(tracker, 1, "97", "97.5", "96.5", "97")
        assert ("loss", -1.5) == (now(tracker, made).status, now(tracker, made).r_achieved)

    def test_a_bar_reaching_entry_and_target_only_opens(self, tracker):
        made = idea(tracker, entry_type="stop")
        bar(tracker, 1, "99", "107", "99", "106.5")
        assert "open" == now(tracker, made).status
        tracker.mark_price("NVDA", "106", minutes(2))
        assert ("win", 3.0) == (now(tracker, made).status, now(tracker, made).r_achieved)

    def test_a_mark_through_a_stop_entry_and_the_target_only_opens(self, tracker):
        made = idea(tracker, entry_type="stop")
        tracker.mark_price("NVDA", "107", minutes(1))
        assert ("open", 3.5) == (now(tracker, made).status, now(tracker, made).mfe_r)

    def test_a_mark_exactly_at_the_stop_touches_it(self, tracker):
        made = short(tracker)
        tracker.mark_price("NVDA", "102", minutes(1))
        assert ("loss", -1.0) == (now(tracker, made).status, now(tracker, made).r_achieved)

    def test_a_short_gap_beyond_the_stop_fills_at_the_open(self, tracker):
        made = short(tracker)
        bar(tracker, 1, "103", "104", "102.5", "103")
        assert ("loss", -1.5) == (now(tracker, made).status, now(tracker, made).r_achieved)

    def test_a_short_gap_beyond_the_target_fills_at_the_open(self, tracker):
        made = short(tracker)
        bar(tracker, 1, "95", "95.5", "94", "95")
        assert ("win", 2.5) == (now(tracker, made).status, now(tracker, made).r_achieved)

    def test_a_limit_bar_reaching_entry_and_target_only_opens(self, tracker):
        made = idea(tracker, entry_type="limit")
        bar(tracker, 1, "101", "107", "99.5", "106")
        got = now(tracker, made)
        assert ("open", 3.5, -0.25) == (got.status, got.mfe_r, got.mae_r)

    def test_a_stop_entry_gap_opens_at_the_open_and_still_waits_for_the_target(self, tracker):
        made = idea(tracker, entry_type="stop")
        bar(tracker, 1, "107", "108", "106.5", "107")
        assert "open" == now(tracker, made).status
        bar(tracker, 2, "107", "107", "106", "106")
        assert ("win", 3.5) == (now(tracker, made).status, now(tracker, made).r_achieved)

    def test_a_closed_idea_does_not_move(self, tracker):
        made = idea(tracker)
        tracker.mark_price("NVDA", "106", minutes(1))
        tracker.mark_price("NVDA", "90", minutes(2))
        assert ("win", 3.0, 0.0) == (
            now(tracker, made).status,
            now(tracker, made).r_achieved,
            now(tracker, made).mae_r,
        )


class TestExcursions:
    """mfe_r and mae_r run from the price that reached the entry until the idea closes."""

    def test_marks_and_bars_count(self, tracker):
        made = idea(tracker)
        assert (None, None) == (made.mfe_r, made.mae_r)
        tracker.mark_price("NVDA", "101", minutes(1))
        bar(tracker, 2, "101", "104", "99", "103")
        got = now(tracker, made)
        assert (2.0, -0.5) == (got.mfe_r, got.mae_r)

    def test_the_entry_price_counts(self, tracker):
        made = idea(tracker, entry_type="limit")
        tracker.mark_price("NVDA", "99", minutes(1))
        assert (0.0, -0.5) == (now(tracker, made).mfe_r, now(tracker, made).mae_r)

    def test_an_excursion_stops_at_the_fill(self, tracker):
        made = idea(tracker)
        bar(tracker, 1, "100", "103", "95", "96")
        assert (1.5, -1.0) == (now(tracker, made).mfe_r, now(tracker, made).mae_r)

    def test_pending_ideas_have_none(self, tracker):
        made = idea(tracker, entry_type="limit")
        tracker.mark_price("NVDA", "104", minutes(1))
        assert (None, None) == (now(tracker, made).mfe_r, now(tracker, made).mae_r)


class TestExpiry:
    """Ideas still pending or open at expires_at expire."""

    def test_default_is_seven_days(self, tracker):
        assert T0 + timedelta(days=7) == idea(tracker).expires_at

    def test_an_open_idea_expires_with_the_r_of_its_last_price(self, tracker):
        made = idea(tracker, expires_after=timedelta(hours=1))
        tracker.mark_price("NVDA", "101", minutes(10))
        tracker.mark_price("NVDA", "103", minutes(20))
        tracker.mark_price("AAPL", "1", minutes(61))  # any symbol's later time
        got = now(tracker, made)
        assert ("expired", 1.5, minutes(60)) == (got.status, got.r_achieved, got.closed_at)

    def test_an_open_idea_without_prices_expires_without_r(self, tracker):
        made = idea(tracker, expires_after=timedelta(hours=1))
        tracker.record_trade("X", "long", 1, "1", "2", minutes(1), minutes(90))
        assert ("expired", None) == (now(tracker, made).status, now(tracker, made).r_achieved)

    def test_the_price_that_reached_the_entry_gives_no_expiry_r(self, tracker):
        made = idea(tracker, entry_type="limit", expires_after=timedelta(hours=1))
        tracker.mark_price("NVDA", "99", minutes(1))
        tracker.ideas.expire(minutes(60))
        got = now(tracker, made)
        assert ("expired", None, -0.5) == (got.status, got.r_achieved, got.mae_r)

    def test_a_pending_idea_expires_without_r(self, tracker):
        made = idea(tracker, entry_type="limit", expires_after=timedelta(hours=1))
        expired = tracker.ideas.expire(minutes(60))
        assert [("expired", None, None)] == [
            (i.status, i.r_achieved, i.triggered_at) for i in expired
        ]
        assert "expired" == now(tracker, made).status

    def test_a_price_at_expires_at_comes_too_late(self, tracker):
        made = idea(tracker, expires_after=timedelta(hours=1))
        tracker.mark_price("NVDA", "110", minutes(60))
        assert "expired" == now(tracker, made).status

    def test_expire_before_anything_is_due_changes_nothing(self, tracker):
        made = idea(tracker)
        assert [] == tracker.ideas.expire(minutes(5))
        assert "open" == now(tracker, made).status

    def test_an_idea_recorded_after_its_expiry_expires_at_once(self, tracker):
        tracker.mark_price("AAPL", "1", T0 + timedelta(days=30))
        assert "expired" == idea(tracker).status


class TestFarOutPrices:
    """Prices out of range are refused; an R of any size is kept, journaled and restored."""

    def test_a_sentinel_price_is_refused_and_changes_nothing(self, tracker):
        # Some feeds send the largest double as "no price"; it was a 9e307 R win.
        made = idea(tracker)
        sentinel = 1.7976931348623157e308
        with pytest.raises(errors.InvalidInputError, match=r"'high' must be below 1e100 .*1.797"):
            bar(tracker, 1, sentinel, sentinel, sentinel, sentinel)
        assert made == now(tracker, made)

    def test_an_r_wider_than_the_r_context(self):
        # Risk 1e-100 and a target near 1e99: the win is 1e199 R less a hair, to 12 places,
        # more digits than the R context holds; it crashed the mark after it was journaled.
        store = MemoryStore()
        tracker = pt.Tracker(store=store)
        stop = "0." + "9" * 100
        made = idea(tracker, entry="1", stop=stop, target="1e99")
        tracker.mark_price("NVDA", "1e99", minutes(1))
        got = now(tracker, made)
        assert ("win", 1e199) == (got.status, got.r_achieved)
        ideas = tracker.ideas.list()
        tracker.close()
        assert ideas == pt.Tracker.restore(store).ideas.list()


class TestNotesAndOverrides:
    """annotate and override change an idea, and the analysis follows the override."""

    def test_annotate(self, tracker):
        made = idea(tracker)
        tracker.ideas.annotate(made.idea_id, note="late entry")
        got = tracker.ideas.annotate(made.idea_id, flagged=True)
        assert ("late entry", True) == (got.note, got.flagged)

    def test_override_keeps_the_original(self, tracker):
        made = idea(tracker)
        tracker.mark_price("NVDA", "106", minutes(1))
        got = tracker.ideas.override(
            made.idea_id, status="loss", r_achieved="-0.5", reason="exited early"
        )
        assert ("loss", -0.5) == (got.status, got.r_achieved)
        assert {
            "status": "win",
            "r_achieved": 3.0,
            "reason": "exited early",
            "at": minutes(1),
        } == got.override
        summary = tracker.ideas.summary()
        assert (0, 1, -0.5, -0.5) == (summary.wins, summary.losses, summary.best_r, summary.avg_r)
        assert [got] == tracker.ideas.list(status="loss")
        assert [] == tracker.ideas.list(status="win")

    def test_override_closes_a_live_idea(self, tracker):
        made = idea(tracker, entry_type="limit")
        tracker.ideas.override(made.idea_id, status="win", r_achieved=2, reason="filled elsewhere")
        tracker.mark_price("NVDA", "90", minutes(1))
        assert ("win", 2.0) == (now(tracker, made).status, now(tracker, made).r_achieved)


class TestLinkedTrades:
    """Trades name their idea; the idea lists them and the analysis counts them."""

    def test_record_and_open_trade_link(self, tracker):
        made = idea(tracker)
        tracker.record_trade(
            "NVDA",
            "long",
            10,
            "100",
            "103",
            minutes(1),
            minutes(5),
            trade_id="a",
            idea_id=made.idea_id,
        )
        tracker.open_trade(
            "b",
            symbol="NVDA",
            side="long",
            quantity=5,
            price="100",
            time=minutes(6),
            idea_id=made.idea_id,
        )
        tracker.close_trade("b", price="99", time=minutes(7), quantity=2)
        assert ("a", "b") == now(tracker, made).trade_ids
        assert (1, Decimal(30)) == (
            tracker.ideas.summary().taken,
            tracker.ideas.summary().taken_net_pnl,
        )
        tracker.close_trade("b", price="101", time=minutes(8))
        assert Decimal(31) == tracker.ideas.summary().taken_net_pnl


class TestAnalysis:
    """Summaries and breakdowns by the period of creation."""

    def test_summary_fields(self, tracker):
        for n, exit_ in enumerate(("106", "97", "106", "106")):
            made = idea(
                tracker,
                time=minutes(n * 10),
                edges=("gap", f"e{n % 2}"),
                confidence=n % 2 + 3,
                horizon="swing" if n else "day",
            )
            tracker.mark_price("NVDA", exit_, minutes(n * 10 + 1))
            assert now(tracker, made).closed_at == minutes(n * 10 + 1)
        idea(tracker, time=minutes(50), entry_type="limit")
        s = tracker.ideas.summary()
        assert (5, 1, 0, 3, 1, 0, 4) == (
            s.ideas,
            s.pending,
            s.open,
            s.wins,
            s.losses,
            s.expired,
            s.decided,
        )
        assert (0.75, 2.0, 8.0, 3.0, -1.0) == (s.win_rate, s.avg_r, s.total_r, s.best_r, s.worst_r)
        assert (0.3006418, 0.9544127) == (round(s.win_rate_low, 7), round(s.win_rate_high, 7))
        edges = tracker.ideas.breakdown("edge")
        assert ["e0", "e1", "gap"] == list(edges)
        assert (4, 2, 1) == (edges["gap"].decided, edges["e0"].wins, edges["e1"].wins)
        assert [3, 4] == list(tracker.ideas.breakdown("confidence"))
        assert {"day": 1, "swing": 3} == {
            k: v.ideas for k, v in tracker.ideas.breakdown("horizon").items()
        }
        assert 1 == tracker.ideas.summary(edge="e0", confidence=3, horizon="day").wins
        assert ["long"] == list(tracker.ideas.breakdown("side"))

    def test_periods_follow_creation(self, tracker):
        idea(tracker)
        idea(tracker, time=T0 + timedelta(days=8))
        assert 1 == tracker.ideas.summary("week", at=T0).ideas
        assert 1 == tracker.ideas.summary("day", at=T0 + timedelta(days=8)).ideas
        assert 2 == tracker.ideas.summary("month", at=T0).ideas
        assert 1 == tracker.ideas.summary(start=T0 + timedelta(days=1)).ideas
        assert 1 == tracker.ideas.summary(end=T0.date()).ideas
        assert 0 == tracker.ideas.summary(start=minutes(1), end=minutes(2)).ideas
        assert 1 == len(tracker.ideas.list(period="week", at=T0))

    def test_empty(self, tracker):
        s = tracker.ideas.summary()
        assert (0, None, None, None, "No ideas in window") == (
            s.ideas,
            s.win_rate,
            s.win_rate_low,
            s.avg_r,
            s.note,
        )
        assert {} == tracker.ideas.breakdown("edge")

    def test_wilson_matches_the_issue_example(self):
        low, high = pt.Ideas.__module__ and __import__(
            "perftrack._ideas", fromlist=["wilson_interval"]
        ).wilson_interval(2, 9)
        assert ("6%", "55%") == (f"{low:.0%}", f"{high:.0%}")


def fingerprint(tracker: pt.Tracker) -> Any:
    ideas = tracker.ideas
    return (
        [i.to_dict() for i in ideas.list()],
        ideas.summary().to_dict(),
        {
            by: {k: v.to_dict() for k, v in ideas.breakdown(by).items()}
            for by in ("edge", "confidence", "horizon", "symbol", "side")
        },
        ideas._next_id,
        ideas._seen,
        tracker.clock,
    )


class TestDeferredIndex:
    """The aggregates do not depend on when they are read: queued ideas fold to the same sums."""

    @staticmethod
    def step(tracker: pt.Tracker, n: int) -> None:
        long = n % 2 == 0
        symbol = f"S{n % 3}"
        made = tracker.record_idea(
            symbol,
            "long" if long else "short",
            "100",
            "98" if long else "102",
            "106" if long else "96",
            confidence=n % 6,
            entry_type=("market", "limit", "stop")[n % 3],
            edges=(f"e{n % 4}", f"e{(n + 1) % 5}"),
            horizon=("day", "swing", None)[n % 3],
            time=minutes(n * 10),
            expires_after=timedelta(hours=(n % 5 + 1) * 4),
        )
        if n % 4 == 3:
            price = ("107", "97", "100.5", "99")[n // 4 % 4]
            tracker.mark_price(symbol, price, minutes(n * 10 + 1))
        if n % 7 == 6:
            tracker.ideas.override(
                f"idea-{n // 2 + 1}", status="win", r_achieved=n % 9 - 4, reason="by hand"
            )
        if n % 11 == 10:
            tracker.record_trade(
                symbol, "long", 1, "100", "101", minutes(n * 10 + 2), minutes(n * 10 + 3),
                idea_id=f"idea-{n - 3}",
            )  # fmt: skip
        if n % 13 == 12:
            tracker.ideas.annotate(made.idea_id, note="seen")

    def test_reading_after_every_idea_or_once_agrees(self):
        eager, lazy = pt.Tracker(), pt.Tracker()
        for n in range(700):  # more than one full queue
            self.step(eager, n)
            self.step(lazy, n)
            eager.ideas.summary()  # folds the queue at once
            if n == 300:
                eager.ideas.summary(symbol="S1", edge="e2")  # a combined key, registered early
        lazy.ideas.summary(symbol="S1", edge="e2")
        for t in (eager, lazy):
            t.ideas.summary("week", at=minutes(3000), symbol="S1", edge="e2")
        assert fingerprint(eager) == fingerprint(lazy)
        assert eager.ideas.summary(symbol="S1", edge="e2") == lazy.ideas.summary(
            symbol="S1", edge="e2"
        )
        assert 700 == lazy.ideas.summary().ideas


class TestBadInput:
    """A bad call raises a typed error naming the field and the value, and changes nothing."""

    @pytest.fixture(name="busy")
    def _busy(self, tracker):
        idea(tracker, idea_id="one", edges=("gap",))
        idea(tracker, idea_id="two", entry_type="limit", time=minutes(1))
        tracker.mark_price("NVDA", "101", minutes(2))
        return tracker

    @pytest.mark.parametrize(
        ("changes", "error", "field"),
        [
            ({"confidence": 6}, errors.InvalidIdeaError, "confidence"),
            ({"confidence": -1}, errors.InvalidIdeaError, "confidence"),
            ({"confidence": 2.5}, errors.InvalidIdeaError, "confidence"),
            ({"confidence": True}, errors.InvalidIdeaError, "confidence"),
            ({"stop": "101"}, errors.InvalidIdeaError, "stop"),
            ({"stop": "100"}, errors.InvalidIdeaError, "stop"),
            ({"target": "99"}, errors.InvalidIdeaError, "target"),
            ({"side": "short"}, errors.InvalidIdeaError, "stop"),
            ({"target2": "105"}, errors.InvalidIdeaError, "target2"),
            ({"entry": "-1"}, errors.InvalidIdeaError, "entry"),
            ({"side": "buy"}, errors.InvalidIdeaError, "side"),
            ({"horizon": "week"}, errors.InvalidIdeaError, "horizon"),
            ({"entry_type": "moc"}, errors.InvalidIdeaError, "entry_type"),
            ({"time": T0.replace(tzinfo=None)}, errors.InvalidIdeaError, "time"),
            ({"expires_after": timedelta(0)}, errors.InvalidIdeaError, "expires_after"),
            ({"expires_after": 7}, errors.InvalidIdeaError, "expires_after"),
            ({"edges": [""]}, errors.InvalidIdeaError, "edges"),
            ({"context": {"x": object()}}, errors.InvalidIdeaError, "context"),
            ({"rationale": 5}, errors.InvalidIdeaError, "rationale"),
            ({"idea_id": "one", "confidence": 4}, errors.DuplicateTradeError, "idea_id"),
        ],
    )
    def test_record_idea(self, busy, changes, error, field):
        before = fingerprint(busy)
        with pytest.raises(error, match=f"'{field}'"):
            idea(busy, **changes)
        assert before == fingerprint(busy)

    @pytest.mark.parametrize(
        ("call", "error", "field"),
        [
            (lambda t: t.ideas.annotate("nope", note="x"), errors.UnknownIdeaError, "idea_id"),
            (lambda t: t.ideas.annotate("one", flagged="yes"), errors.InvalidIdeaError, "flagged"),
            (
                lambda t: t.ideas.override("nope", status="win", reason="r"),
                errors.UnknownIdeaError,
                "idea_id",
            ),
            (
                lambda t: t.ideas.override("one", status="won", reason="r"),
                errors.InvalidIdeaError,
                "status",
            ),
            (
                lambda t: t.ideas.override("one", status="win", reason=""),
                errors.InvalidIdeaError,
                "reason",
            ),
            (
                lambda t: t.ideas.override("one", status="win", r_achieved="x", reason="r"),
                errors.InvalidIdeaError,
                "r_achieved",
            ),
            (lambda t: t.ideas.expire(T0.replace(tzinfo=None)), errors.InvalidIdeaError, "at"),
            (lambda t: t.ideas.list(status="done"), errors.InvalidInputError, "status"),
            (lambda t: t.ideas.summary(horizon="year"), errors.InvalidInputError, "horizon"),
            (lambda t: t.ideas.summary(confidence=9), errors.InvalidInputError, "confidence"),
            (lambda t: t.ideas.breakdown("strategy"), errors.InvalidInputError, "by"),
            (lambda t: t.ideas.get("nope"), errors.UnknownIdeaError, "idea_id"),
            (
                lambda t: t.record_trade(
                    "NVDA", "long", 1, "1", "2", minutes(3), minutes(3), idea_id="nope"
                ),
                errors.UnknownIdeaError,
                "idea_id",
            ),
            (
                lambda t: t.open_trade(
                    "x",
                    symbol="NVDA",
                    side="long",
                    quantity=1,
                    price="1",
                    time=minutes(3),
                    idea_id="nope",
                ),
                errors.UnknownIdeaError,
                "idea_id",
            ),
            (
                lambda t: t.mark_bar("NVDA", high="99", low="100", close="99", time=minutes(3)),
                errors.InvalidIdeaError,
                "low",
            ),
            (
                lambda t: t.mark_bar("NVDA", high="101", low="99", close="102", time=minutes(3)),
                errors.InvalidIdeaError,
                "close",
            ),
            (
                lambda t: t.mark_bar(
                    "NVDA", high="101", low="99", close="100", open="98", time=minutes(3)
                ),
                errors.InvalidIdeaError,
                "open",
            ),
            (
                lambda t: t.mark_bar(
                    "NVDA", high="101", low="99", close="100", time=T0.replace(tzinfo=None)
                ),
                errors.InvalidIdeaError,
                "time",
            ),
        ],
    )
    def test_other_calls(self, busy, call, error, field):
        before = fingerprint(busy)
        trades = [t.to_dict() for t in busy.trades()]
        with pytest.raises(error, match=f"'{field}'"):
            call(busy)
        assert before == fingerprint(busy)
        assert trades == [t.to_dict() for t in busy.trades()]

    def test_error_message_names_the_value(self, busy):
        with pytest.raises(errors.InvalidIdeaError, match=r"\(got 6\)"):
            idea(busy, confidence=6)

    def test_unknown_idea_is_a_key_error(self):
        assert issubclass(errors.UnknownIdeaError, KeyError)


class TestExactlyOnce:
    """Re-sending an identical idea or bar is a no-op."""

    def test_identical_idea(self, tracker):
        first = idea(tracker, idea_id="x")
        again = idea(tracker, idea_id="x")
        untimed = idea(tracker, idea_id="x", time=None)
        assert first == again == untimed
        assert 1 == tracker.ideas.summary().ideas

    def test_identical_bar(self, tracker):
        made = idea(tracker, entry_type="limit")
        for _ in range(2):
            tracker.mark_bar(
                "NVDA", high="101", low="99", close="100", time=minutes(1), event_id="b1"
            )
        assert "open" == now(tracker, made).status
        with pytest.raises(errors.DuplicateTradeError, match="'event_id'"):
            tracker.mark_bar(
                "NVDA", high="102", low="99", close="100", time=minutes(1), event_id="b1"
            )

    def test_generated_ids(self, tracker):
        assert ["idea-1", "idea-2"] == [idea(tracker).idea_id, idea(tracker).idea_id]

    def test_ids_with_digits_int_refuses(self, tracker):
        # "idea-²" looks generated, but int() cannot read it: an ordinary id.
        assert "idea-²" == idea(tracker, idea_id="idea-²").idea_id
        assert "idea-1" == idea(tracker).idea_id


class TestPersistence:
    """A restore gives back the same ideas and summaries, from snapshots and the journal."""

    def test_round_trip(self):
        store = MemoryStore()
        tracker = pt.Tracker(store=store)
        made = idea(
            tracker,
            edges=("gap", "vwap"),
            horizon="day",
            context={"atr": Decimal("2.1")},
            rationale="reclaim",
        )
        idea(tracker, entry_type="limit", idea_id="lim")
        tracker.open_trade(
            "t",
            symbol="NVDA",
            side="long",
            quantity=1,
            price="100",
            time=minutes(1),
            idea_id=made.idea_id,
        )
        tracker.mark_price("NVDA", "101", minutes(1))
        tracker.ideas.summary(edge="gap", horizon="day")  # a combined filter, registered
        tracker.save_snapshot()
        bar(tracker, 2, "101", "103", "99.5", "102")
        tracker.close_trade("t", price="102", time=minutes(3))
        tracker.ideas.annotate("lim", note="n", flagged=True)
        tracker.ideas.override("lim", status="loss", r_achieved=-1, reason="r")
        idea(tracker, idea_id="late", time=minutes(4), expires_after=timedelta(hours=1))
        tracker.ideas.expire(minutes(120))
        before = fingerprint(tracker), tracker.ideas.summary(edge="gap", horizon="day")
        assert "2.1" == made.context["atr"]
        made.context["atr"] = "changed"  # a caller's copy: the tracker keeps its own
        assert "2.1" == tracker.ideas.get(made.idea_id).context["atr"]
        tracker.close()
        restored = pt.Tracker.restore(store)
        assert before == (fingerprint(restored), restored.ideas.summary(edge="gap", horizon="day"))
        restored.mark_price("NVDA", "106", minutes(200))
        assert "win" == restored.ideas.get(made.idea_id).status

    def test_journal_only(self):
        store = MemoryStore()
        tracker = pt.Tracker(store=store)
        idea(tracker, entry_type="stop")
        tracker.mark_bar("NVDA", high="101", low="99", close="100.5", time=minutes(1))
        before = fingerprint(tracker)
        tracker.close()
        assert before == fingerprint(pt.Tracker.restore(store))


class TestConcurrency:
    """Threads racing record_idea, marks, bars and queries leave exact counts."""

    @pytest.mark.timeout(120)
    def test_threads_race(self, tracker):
        gate = threading.Event()
        failures: list[BaseException] = []
        per_thread = 150

        def work(k: int) -> None:
            gate.wait()
            try:
                for i in range(per_thread):
                    when = minutes(i)
                    idea(
                        tracker,
                        symbol=f"S{k % 2}",
                        idea_id=f"{k}-{i}",
                        time=when,
                        edges=(f"e{k % 3}",),
                    )
                    # Every idea is market and decided by the next mark: +3 R or -1 R.
                    tracker.mark_price(f"S{k % 2}", "106" if i % 2 else "98", when)
                    tracker.mark_bar(f"S{k % 2}", high="100", low="100", close="100", time=when)
                    tracker.ideas.summary(edge=f"e{k % 3}")
            except BaseException as e:
                failures.append(e)

        threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
        for t in threads:
            t.start()
        gate.set()
        for t in threads:
            t.join()
        assert [] == failures
        listed = tracker.ideas.list()
        summary = tracker.ideas.summary()
        wins = sum(1 for i in listed if i.status == "win")
        losses = sum(1 for i in listed if i.status == "loss")
        assert (6 * per_thread, wins, losses) == (summary.ideas, summary.wins, summary.losses)
        assert 6 * per_thread == wins + losses
        assert summary.total_r == 3.0 * wins - losses
        assert summary.ideas == sum(s.ideas for s in tracker.ideas.breakdown("edge").values())


class TestSignals:
    """idea-recorded, idea-triggered and idea-resolved carry the Idea."""

    def test_life_signals(self, tracker):
        got: list[tuple[str, str]] = []

        def on_signal(sender: object, *, idea: pt.Idea, **extra: object) -> None:
            got.append((idea.idea_id, idea.status))

        names = (signals.idea_recorded, signals.idea_triggered, signals.idea_resolved)
        for signal in names:
            signal.connect(on_signal, sender=tracker)
        try:
            made = idea(tracker, entry_type="limit")
            tracker.mark_price("NVDA", "99", minutes(1))
            tracker.mark_price("NVDA", "106", minutes(2))
            market = idea(tracker, time=minutes(3), expires_after=timedelta(hours=1))
            tracker.mark_price("AAPL", "1", minutes(90))
            manual = idea(tracker, time=minutes(91))
            tracker.ideas.override(manual.idea_id, status="win", reason="r")
        finally:
            for signal in names:
                signal.disconnect(on_signal)
        assert [
            (made.idea_id, "pending"),
            (made.idea_id, "open"),
            (made.idea_id, "win"),
            (market.idea_id, "open"),
            (market.idea_id, "open"),
            (market.idea_id, "expired"),
            (manual.idea_id, "open"),
            (manual.idea_id, "open"),
            (manual.idea_id, "win"),
        ] == got

    def test_a_restore_sends_nothing_again(self):
        store = MemoryStore()
        tracker = pt.Tracker(store=store)
        idea(tracker, entry_type="limit")
        tracker.mark_price("NVDA", "99", minutes(1))
        tracker.close()
        got: list[object] = []

        def on_signal(sender: object, **extra: object) -> None:
            got.append(extra)

        for signal in (signals.idea_recorded, signals.idea_triggered):
            signal.connect(on_signal)
        try:
            pt.Tracker.restore(store)
        finally:
            for signal in (signals.idea_recorded, signals.idea_triggered):
                signal.disconnect(on_signal)
        assert [] == got


@pytest.mark.parametrize("lifetime", [timedelta(days=999_999_999), timedelta(days=365 * 300)])
def test_an_expiry_beyond_the_time_range_is_an_invalid_idea(lifetime: timedelta) -> None:
    tracker = pt.Tracker("10000")
    with pytest.raises(errors.InvalidIdeaError, match="'expires_after'"):
        tracker.record_idea(
            "X", "long", 100, 90, 120, confidence=3, time=T0, expires_after=lifetime
        )
    assert len(tracker.ideas) == 0


def test_callers_decimal_context_does_not_round_an_ideas_risk(tracker: pt.Tracker) -> None:
    """Idea.risk subtracted in the caller's decimal context (a bot's prec = 5)."""
    made = tracker.record_idea(
        "NVDA", "long", "123456.78", "100000.01", "150000", confidence=3, time=T0
    )
    from decimal import localcontext

    with localcontext() as ctx:
        ctx.prec = 5
        assert Decimal("23456.77") == made.risk


def test_a_listener_that_mutates_its_idea_changes_neither_the_tracker_nor_other_listeners(
    tracker: pt.Tracker,
) -> None:
    """Idea is frozen, but its context is a dict, and the view is cached: the very
    object a listener of idea-recorded gets is what ideas.get() and ideas.list() return
    afterwards, so a listener that writes into it (then raises) changes the tracker."""

    def meddler(sender: object, *, idea: pt.Idea, **extra: object) -> None:
        idea.context["setup"] = "changed"
        raise RuntimeError("listener bug")

    signals.idea_recorded.connect(meddler, sender=tracker)
    made = idea(tracker, context={"setup": "gap"}, idea_id="i1")
    assert {"setup": "gap"} == tracker.ideas.get("i1").context == made.context
    assert {"setup": "gap"} == tracker.ideas.list()[0].context
    tracker.ideas.get("i1").context["setup"] = "changed too"  # a caller's copy
    assert {"setup": "gap"} == tracker.ideas.get("i1").context
