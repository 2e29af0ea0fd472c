"""
The weekly review of trade ideas: its contents, each recommendation rule (firing with the
numbers it quotes, silent below min_sample), its schema, and the report that writes itself
once a week, across restarts.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import hypothesis.strategies as st
import jsonschema
import pytest
import referencing
from hypothesis import given

import perftrack as pt
from perftrack import errors, signals
from perftrack._review import ReviewSchedule, week_label, week_monday
from perftrack.stores import MemoryStore

ROOT = Path(__file__).parent.parent
SCHEMAS = ROOT / "perftrack/schemas"
# Monday 2025-11-17, 10:00 UTC: ISO week 2025-W47.
MONDAY = datetime(2025, 11, 17, 10, 0, tzinfo=UTC)
W47 = "main/reports/weekly/2025-W47"


def validator() -> jsonschema.protocols.Validator:
    registry: referencing.Registry = referencing.Registry()
    for path in SCHEMAS.glob("*.schema.json"):
        schema = json.loads(path.read_text())
        registry = registry.with_resource(schema["$id"], referencing.Resource.from_contents(schema))
    schema = json.loads((SCHEMAS / "weekly-report.schema.json").read_text())
    return jsonschema.Draft202012Validator(
        schema, registry=registry, format_checker=jsonschema.FormatChecker()
    )


def wilson(k: int, n: int) -> tuple[float, float]:
    """
    The 95% Wilson interval, written out from its textbook formula.
    """
    z = 1.959963984540054
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


class Desk:
    """
    Makes ideas with known outcomes: each on its own symbol, resolved by one mark.
    """

    def __init__(self, tracker: pt.Tracker, start: datetime = MONDAY, prefix: str = "") -> None:
        self.tracker = tracker
        self.when = start
        self.prefix = prefix
        self.n = 0

    def idea(self, outcome: str, **options: object) -> str:
        """
        An idea that ends as ``outcome``: "win" (+2 R), "loss" (-1 R), "open", "pending"
        (a limit entry never reached) or "unfilled" (that, expired).
        """
        self.n += 1
        self.when += timedelta(minutes=1)
        symbol = f"{self.prefix}S{self.n}"
        idea_id = f"{self.prefix}i{self.n}"
        limit = outcome in ("pending", "unfilled")
        args: dict[str, object] = {
            "symbol": symbol,
            "side": "long",
            "entry": "100",
            "stop": "99",
            "target": "102",
            "entry_type": "limit" if limit else "market",
            "confidence": 3,
            "time": self.when,
            "idea_id": idea_id,
        }
        if outcome == "unfilled":
            args["expires_after"] = timedelta(minutes=30)
        args.update(options)
        self.tracker.record_idea(**args)
        self.when += timedelta(minutes=1)
        if outcome == "win":
            self.tracker.mark_price(symbol, "102", self.when)
        elif outcome == "loss":
            self.tracker.mark_price(symbol, "99", self.when)
        elif limit:
            self.tracker.mark_price(symbol, "101", self.when)
        return idea_id

    def many(self, wins: int, losses: int, **options: object) -> None:
        for _ in range(wins):
            self.idea("win", **options)
        for _ in range(losses):
            self.idea("loss", **options)

    def settle(self) -> None:
        """
        Let time pass (an hour, a mark on another symbol) so short expiries apply.
        """
        self.when += timedelta(hours=1)
        self.tracker.mark_price("CLOCK", "1", self.when)


@pytest.fixture(name="tracker")
def _tracker() -> pt.Tracker:
    return pt.Tracker("10000")


@pytest.fixture(name="desk")
def _desk(tracker: pt.Tracker) -> Desk:
    return Desk(tracker)


def rules(report: pt.WeeklyReport, rule: str) -> list[pt.Recommendation]:
    return [r for r in report.recommendations if r.rule == rule]


class TestThresholds:
    """The thresholds have defaults, come from mappings and TOML, and name bad keys."""

    def test_defaults(self):
        t = pt.ReviewThresholds()
        assert (5, 0.40, 5, 3, 0.5, 3) == (
            t.min_sample,
            t.weak_edge_win_rate,
            t.high_confidence,
            t.low_confidence,
            t.max_unfilled_share,
            t.ranked,
        )
        assert pt.ReviewThresholds() == pt.Targets().review

    def test_mapping_on_targets(self):
        targets = pt.Targets(review={"min_sample": 3, "weak_edge_win_rate": 0.5})
        assert pt.ReviewThresholds(min_sample=3, weak_edge_win_rate=0.5) == targets.review

    @pytest.mark.parametrize(
        ("values", "name"),
        [
            ({"min_smaple": 3}, "min_smaple"),
            ({"min_sample": 0}, "review.min_sample"),
            ({"min_sample": True}, "review.min_sample"),
            ({"weak_edge_win_rate": -0.1}, "review.weak_edge_win_rate"),
            ({"weak_edge_win_rate": "0.4"}, "review.weak_edge_win_rate"),
            ({"high_confidence": 6}, "review.high_confidence"),
            ({"low_confidence": 5}, "review.high_confidence"),
            ({"max_unfilled_share": 2}, "review.max_unfilled_share"),
            ({"horizon_margin_r": float("nan")}, "review.horizon_margin_r"),
            ({"ranked": 0}, "review.ranked"),
        ],
    )
    def test_bad_values_named(self, values, name):
        with pytest.raises(errors.ConfigError, match=f"'{name}'"):
            pt.Targets(review=values)

    def test_toml_names_file_and_key(self, tmp_path):
        path = tmp_path / "targets.toml"
        path.write_text("[review]\nmin_sample = 8\nmax_unfilled_share = 0.3\n")
        review = pt.Targets.from_toml(path).review
        assert (8, 0.3) == (review.min_sample, review.max_unfilled_share)
        path.write_text("[review]\nmin_smaple = 8\n")
        with pytest.raises(errors.ConfigError, match=f"'min_smaple' in {path}"):
            pt.Targets.from_toml(path)


class TestWeeks:
    """ISO week labels and the review schedule."""

    def test_labels(self):
        assert "2025-W47" == week_label(date(2025, 11, 23))
        assert "2026-W01" == week_label(date(2025, 12, 29))
        assert date(2025, 11, 17) == week_monday("2025-W47")

    @pytest.mark.parametrize("text", ["2025-47", "2025-W54", "W47", "", None])
    def test_bad_week(self, text):
        with pytest.raises(errors.InvalidInputError, match="'week'"):
            week_monday(text)

    @pytest.mark.parametrize(
        ("spec", "weekday", "hour", "minute"),
        [("SUN 20:00", 6, 20, 0), ("monday 8:05", 0, 8, 5), (" fri 23:59 ", 4, 23, 59)],
    )
    def test_schedule(self, spec, weekday, hour, minute):
        schedule = ReviewSchedule.parse(spec)
        assert (weekday, hour, minute) == (schedule.weekday, schedule.at.hour, schedule.at.minute)

    @pytest.mark.parametrize("spec", ["SUN", "SUN 24:00", "SUN 20:60", "XYZ 10:00", "", 5])
    def test_bad_schedule_named(self, spec):
        with pytest.raises(errors.ConfigError, match=f"'weekly_review'.*{spec!r}"):
            pt.Tracker("1000", weekly_review=spec)

    def test_moment_in_a_dst_gap_moves_forward(self):
        zone = pt.Tracker("1000", timezone="America/New_York")._calendar.zone
        moment = ReviewSchedule.parse("SUN 02:30").moment(date(2025, 3, 3), zone)
        assert datetime(2025, 3, 9, 7, 30, tzinfo=UTC) == moment.astimezone(UTC)


class TestContents:
    """A report holds the week's ideas, rankings, breakdowns and trades, and nothing else."""

    def test_sections(self, tracker, desk):
        desk.many(4, 1, edges=("alpha",), horizon="day", confidence=5)
        desk.many(1, 4, edges=("beta",), horizon="swing")
        desk.many(3, 2, edges=("gamma", "alpha"))
        pending = desk.idea("pending", edges=("beta",))
        tracker.record_trade("X", "long", 1, "10", "12", MONDAY, MONDAY + timedelta(hours=2))
        # Next week's ideas are not this week's.
        Desk(tracker, MONDAY + timedelta(days=7), "next").many(2, 0, edges=("alpha",))
        report = tracker.ideas.weekly_report(at=MONDAY)
        assert "2025-W47" == report.week
        assert tracker.ideas.summary("week", at=MONDAY) == report.summary
        assert 16 == report.summary.ideas
        assert ["alpha", "gamma", "beta"] == [k for k, _ in report.best_edges]
        assert ["beta", "gamma", "alpha"] == [k for k, _ in report.worst_edges]
        assert tracker.ideas.breakdown("confidence", period="week", at=MONDAY) == (
            report.confidence
        )
        assert {"day", "swing"} == set(report.horizons)
        assert [2.0, 2.0, 2.0] == [i.r_achieved for i in report.best_ideas]
        assert [-1.0, -1.0, -1.0] == [i.r_achieved for i in report.worst_ideas]
        assert [pending] == [i.idea_id for i in report.pending]
        assert tracker.summary("week", at=MONDAY) == report.trades
        assert 1 == report.trades.trades
        assert datetime(2025, 11, 17, tzinfo=UTC) == report.start
        assert datetime(2025, 11, 24, tzinfo=UTC) == report.end

    def test_edges_need_min_sample(self, tracker, desk):
        desk.many(4, 0, edges=("thin",))
        desk.many(3, 2, edges=("thick",))
        report = tracker.ideas.weekly_report(at=MONDAY)
        assert ["thick"] == [k for k, _ in report.best_edges]
        assert ["thick"] == [k for k, _ in report.worst_edges]

    def test_ranked_ideas_order(self, tracker, desk):
        first = desk.idea("win")
        desk.idea("open")
        desk.idea("loss")
        second = desk.idea("win")
        report = tracker.ideas.weekly_report(at=MONDAY, thresholds=pt.ReviewThresholds(ranked=2))
        assert [first, second] == [i.idea_id for i in report.best_ideas]
        assert 2 == len(report.worst_ideas)
        assert -1.0 == report.worst_ideas[0].r_achieved

    def test_empty_week(self, tracker):
        report = tracker.ideas.weekly_report(at=date(2025, 11, 20))
        assert 0 == report.summary.ideas
        assert () == report.recommendations
        assert "No ideas in window" in report.to_markdown()
        validator().validate(report.to_dict())

    def test_schema_and_markdown(self, tracker, desk):
        desk.many(1, 5, edges=("gap_fill",), horizon="swing")
        desk.many(5, 0, edges=("vwap",), horizon="day")
        desk.idea("open", rationale="a | pipe")
        desk.idea("pending")
        report = tracker.ideas.weekly_report(at=MONDAY)
        doc = json.loads(report.to_json())
        validator().validate(doc)
        assert report.to_dict() == doc
        assert report.recommendations
        page = report.to_markdown()
        for heading in (
            "# Weekly review 2025-W47",
            "## Overview",
            "## Recommendations",
            "### Best edges",
            "### Worst edges",
            "### Confidence",
            "### Horizon",
            "## Best ideas",
            "## Worst ideas",
            "## Trades",
            "## Still pending",
            "## Still open",
        ):
            assert heading in page, heading
        for rec in report.recommendations:
            assert rec.message in page

    def test_markdown_writes_an_edge_name_as_text(self, tracker, desk):
        """
        An edge's name (a bot's: it may hold anything) reaches the page in a recommendation
        and in the edge tables: a line break in it opens no section, a tag injects no HTML.
        """
        name = "gap\n## Still open\n<img src=x onerror=alert(1)>"
        desk.many(2, 7, edges=(name,))
        report = tracker.ideas.weekly_report(at=MONDAY)
        assert any(name in rec.message for rec in rules(report, "weak_edge"))
        lines = report.to_markdown().splitlines()
        assert 1 == lines.count("## Still open")
        assert not any(re.search(r"(?<!\\)<", line) for line in lines)
        assert any("consider removing edge gap ## Still open \\<img" in line for line in lines)

    def test_schema_rejects_a_broken_document(self, tracker, desk):
        desk.many(1, 0)
        doc = tracker.ideas.weekly_report(at=MONDAY).to_dict()
        doc["recommendations"] = [{"rule": "weak_edge"}]
        with pytest.raises(jsonschema.ValidationError):
            validator().validate(doc)

    def test_default_is_now(self, tracker):
        report = tracker.ideas.weekly_report()
        assert week_label(datetime.now(UTC).date()) == report.week

    def test_uses_the_trackers_thresholds(self):
        tracker = pt.Tracker("1000", targets=pt.Targets(review={"min_sample": 2}))
        desk = Desk(tracker)
        desk.many(0, 2, edges=("e",))
        assert 1 == len(rules(tracker.ideas.weekly_report(at=MONDAY), "weak_edge"))

    def test_thresholds_as_a_mapping_are_checked(self, tracker, desk):
        desk.many(0, 2, edges=("e",))
        report = tracker.ideas.weekly_report(at=MONDAY, thresholds={"min_sample": 2})
        assert 1 == len(rules(report, "weak_edge"))
        with pytest.raises(errors.ConfigError, match="'min_smaple'"):
            tracker.ideas.weekly_report(at=MONDAY, thresholds={"min_smaple": 2})

    def test_bad_at(self, tracker):
        with pytest.raises(errors.InvalidInputError, match="'at'"):
            tracker.ideas.weekly_report(at="next tuesday")


class TestWeakEdge:
    """An edge winning less than 40% of at least min_sample decided ideas is flagged."""

    def test_fires_with_its_numbers(self, tracker, desk):
        desk.many(2, 7, edges=("gap_fill",))
        desk.many(5, 0, edges=("vwap",))
        (rec,) = rules(tracker.ideas.weekly_report(at=MONDAY), "weak_edge")
        lo, hi = wilson(2, 9)
        assert (
            "consider removing edge gap_fill: 2 of 9 won, 22%, 95% interval 6-55% (below 40%)"
            == rec.message
        )
        assert {"edge": "gap_fill", "wins": 2, "decided": 9, "threshold": 0.4} == {
            k: rec.evidence[k] for k in ("edge", "wins", "decided", "threshold")
        }
        assert pytest.approx(2 / 9) == rec.evidence["win_rate"]
        assert pytest.approx((lo, hi)) == (
            rec.evidence["win_rate_low"],
            rec.evidence["win_rate_high"],
        )

    def test_silent_below_min_sample(self, tracker, desk):
        desk.many(0, 4, edges=("gap_fill",))
        assert [] == rules(tracker.ideas.weekly_report(at=MONDAY), "weak_edge")

    def test_threshold_is_configurable(self, tracker, desk):
        desk.many(2, 7, edges=("gap_fill",))
        strict = pt.ReviewThresholds(weak_edge_win_rate=0.2)
        assert [] == rules(tracker.ideas.weekly_report(at=MONDAY, thresholds=strict), "weak_edge")
        small = pt.ReviewThresholds(min_sample=3)
        desk.many(1, 2, edges=("tiny",))
        found = rules(tracker.ideas.weekly_report(at=MONDAY, thresholds=small), "weak_edge")
        assert ["gap_fill", "tiny"] == [r.evidence["edge"] for r in found]


class TestConfidenceInverted:
    """Confidence-5 ideas winning less often than confidence-3 ideas is flagged."""

    def test_fires_with_its_numbers(self, tracker, desk):
        desk.many(1, 4, confidence=5)
        desk.many(4, 1, confidence=3)
        (rec,) = rules(tracker.ideas.weekly_report(at=MONDAY), "confidence_inverted")
        (l5, h5), (l3, h3) = wilson(1, 5), wilson(4, 5)
        assert (
            "confidence 5 ideas win less often than confidence 3 ideas: "
            f"5: 1 of 5 won, 20%, 95% interval {100 * l5:.0f}-{100 * h5:.0f}%; "
            f"3: 4 of 5 won, 80%, 95% interval {100 * l3:.0f}-{100 * h3:.0f}%; "
            "revisit how confidence is scored"
        ) == rec.message
        assert "5: 1 of 5 won, 20%, 95% interval 4-62%" in rec.message
        assert (1, 5, 4, 5) == (
            rec.evidence["high"]["wins"],
            rec.evidence["high"]["decided"],
            rec.evidence["low"]["wins"],
            rec.evidence["low"]["decided"],
        )

    def test_silent_below_min_sample(self, tracker, desk):
        desk.many(0, 4, confidence=5)
        desk.many(9, 0, confidence=3)
        assert [] == rules(tracker.ideas.weekly_report(at=MONDAY), "confidence_inverted")

    def test_silent_when_in_order(self, tracker, desk):
        desk.many(4, 1, confidence=5)
        desk.many(1, 4, confidence=3)
        assert [] == rules(tracker.ideas.weekly_report(at=MONDAY), "confidence_inverted")

    def test_levels_and_margin_configurable(self, tracker, desk):
        desk.many(2, 3, confidence=4)
        desk.many(3, 2, confidence=1)
        levels = pt.ReviewThresholds(high_confidence=4, low_confidence=1)
        assert 1 == len(
            rules(tracker.ideas.weekly_report(at=MONDAY, thresholds=levels), "confidence_inverted")
        )
        wide = pt.ReviewThresholds(high_confidence=4, low_confidence=1, confidence_margin=0.25)
        assert [] == rules(
            tracker.ideas.weekly_report(at=MONDAY, thresholds=wide), "confidence_inverted"
        )

    def test_silent_when_the_shortfall_equals_the_margin(self, tracker, desk):
        # 60% against 80% falls short by exactly 0.2: not *more than* a 0.2 margin.
        desk.many(3, 2, confidence=5)
        desk.many(4, 1, confidence=3)
        exact = pt.ReviewThresholds(confidence_margin=0.2)
        assert [] == rules(
            tracker.ideas.weekly_report(at=MONDAY, thresholds=exact), "confidence_inverted"
        )
        below = pt.ReviewThresholds(confidence_margin=0.19)
        assert 1 == len(
            rules(tracker.ideas.weekly_report(at=MONDAY, thresholds=below), "confidence_inverted")
        )


class TestHorizonSplit:
    """One horizon losing on average while the other earns is flagged."""

    def test_fires_with_its_numbers(self, tracker, desk):
        desk.many(5, 0, horizon="day")
        desk.many(0, 5, horizon="swing")
        (rec,) = rules(tracker.ideas.weekly_report(at=MONDAY), "horizon_split")
        assert (
            "swing ideas lose on average while day ideas earn: swing -1.00 R over 5 decided, "
            "day +2.00 R over 5 decided; favour day ideas"
        ) == rec.message
        assert ("swing", "day", -1.0, 2.0) == (
            rec.evidence["losing"],
            rec.evidence["earning"],
            rec.evidence["losing_avg_r"],
            rec.evidence["earning_avg_r"],
        )

    def test_either_way_round(self, tracker, desk):
        desk.many(1, 4, horizon="day")  # (2 - 4) / 5 = -0.4 R
        desk.many(3, 2, horizon="swing")  # (6 - 2) / 5 = +0.8 R
        (rec,) = rules(tracker.ideas.weekly_report(at=MONDAY), "horizon_split")
        assert rec.message.startswith("day ideas lose on average while swing ideas earn: day -0.40")

    def test_silent_below_min_sample(self, tracker, desk):
        desk.many(9, 0, horizon="day")
        desk.many(0, 4, horizon="swing")
        assert [] == rules(tracker.ideas.weekly_report(at=MONDAY), "horizon_split")

    def test_margin_configurable(self, tracker, desk):
        desk.many(1, 4, horizon="day")
        desk.many(3, 2, horizon="swing")
        wide = pt.ReviewThresholds(horizon_margin_r=0.5)
        assert [] == rules(tracker.ideas.weekly_report(at=MONDAY, thresholds=wide), "horizon_split")


class TestUnfilledIdeas:
    """More than half of the week's ideas expiring before their entry is flagged."""

    def test_fires_with_its_numbers(self, tracker, desk):
        for _ in range(4):
            desk.idea("unfilled")
        desk.idea("win")
        desk.idea("pending")
        desk.settle()
        (rec,) = rules(tracker.ideas.weekly_report(at=MONDAY), "unfilled_ideas")
        assert (
            "4 of 6 ideas (67%) expired without reaching their entry (more than 50%): entries "
            "may be too far from the price, or ideas expire too soon"
        ) == rec.message
        assert (4, 6) == (rec.evidence["unfilled"], rec.evidence["ideas"])

    def test_expired_after_the_entry_does_not_count(self, tracker, desk):
        for _ in range(3):
            desk.idea("unfilled")
        for _ in range(3):
            desk.idea("open", expires_after=timedelta(minutes=30))
        desk.settle()
        assert 6 == tracker.ideas.summary().expired
        assert [] == rules(tracker.ideas.weekly_report(at=MONDAY), "unfilled_ideas")

    def test_silent_below_min_sample(self, tracker, desk):
        for _ in range(4):
            desk.idea("unfilled")
        desk.settle()
        assert [] == rules(tracker.ideas.weekly_report(at=MONDAY), "unfilled_ideas")

    def test_share_configurable(self, tracker, desk):
        for _ in range(3):
            desk.idea("unfilled")
        desk.many(3, 0)
        desk.settle()
        assert [] == rules(tracker.ideas.weekly_report(at=MONDAY), "unfilled_ideas")
        low = pt.ReviewThresholds(max_unfilled_share=0.4)
        assert 1 == len(
            rules(tracker.ideas.weekly_report(at=MONDAY, thresholds=low), "unfilled_ideas")
        )


class Received:
    """
    Collects weekly-report signals from one tracker.
    """

    def __init__(self, tracker: pt.Tracker) -> None:
        self.weeks: list[str] = []
        self.reports: list[pt.WeeklyReport] = []
        signals.weekly_report.connect(self.receive, sender=tracker)

    def receive(self, sender: pt.Tracker, *, report: pt.WeeklyReport, week: str, **extra):
        self.weeks.append(week)
        self.reports.append(report)


# Sunday 2025-11-23 20:00 in New York is 2025-11-24 01:00 UTC.
REVIEW_MOMENT = datetime(2025, 11, 24, 1, 0, tzinfo=UTC)


class TestAutomatic:
    """weekly_review writes each week's report once, at the first event after the moment."""

    def make(self, store: MemoryStore | None = None, **options) -> pt.Tracker:
        return pt.Tracker(
            "10000",
            timezone="America/New_York",
            store=store,
            weekly_review="SUN 20:00",
            **options,
        )

    def test_written_at_the_first_event_at_or_after_the_moment(self):
        store = MemoryStore()
        tracker = self.make(store)
        got = Received(tracker)
        desk = Desk(tracker)
        desk.many(3, 2, edges=("e",))
        tracker.mark_price("X", "1", REVIEW_MOMENT - timedelta(seconds=1))
        assert [] == got.weeks and not store.list("main/reports/")
        tracker.mark_price("X", "1", REVIEW_MOMENT)
        assert ["2025-W47"] == got.weeks
        assert {f"{W47}.json", f"{W47}.md"} == set(store.list("main/reports/"))
        doc = json.loads(store.get(f"{W47}.json"))
        validator().validate(doc)
        assert got.reports[0].to_dict() == doc
        assert got.reports[0].to_markdown() == store.get(f"{W47}.md").decode()
        assert 5 == doc["summary"]["ideas"]
        tracker.mark_price("X", "1", REVIEW_MOMENT + timedelta(hours=5))
        assert ["2025-W47"] == got.weeks
        tracker.mark_price("X", "1", REVIEW_MOMENT + timedelta(days=7))
        assert ["2025-W47", "2025-W48"] == got.weeks

    def test_events_between_moments_cost_one_comparison(self, monkeypatch):
        tracker = self.make()
        calls = []
        moment = ReviewSchedule.moment
        monkeypatch.setattr(
            ReviewSchedule, "moment", lambda self, *a: calls.append(a) or moment(self, *a)
        )
        for n in range(500):
            tracker.mark_price("X", "1", MONDAY + timedelta(minutes=n))
        assert len(calls) <= 2  # the first event works out the next moment; then a comparison
        tracker.mark_price("X", "1", REVIEW_MOMENT)
        assert tracker._reviewer._next == REVIEW_MOMENT + timedelta(days=7)

    def test_missed_weeks_are_written_oldest_first(self):
        tracker = self.make()
        got = Received(tracker)
        tracker.mark_price("X", "1", MONDAY)
        tracker.mark_price("X", "1", MONDAY + timedelta(days=22))
        assert ["2025-W47", "2025-W48", "2025-W49"] == got.weeks

    def test_once_across_restarts(self):
        store = MemoryStore()
        tracker = self.make(store)
        Desk(tracker).many(1, 1)
        tracker.mark_price("X", "1", REVIEW_MOMENT)
        written = store.get(f"{W47}.json")
        tracker.close()
        # Restored from the journal alone: the report is found in the store, not repeated.
        again = pt.Tracker.restore(store, weekly_review="SUN 20:00")
        got = Received(again)
        again.mark_price("X", "1", REVIEW_MOMENT + timedelta(hours=1))
        assert [] == got.weeks
        assert written == store.get(f"{W47}.json")
        # And from a snapshot, which carries the last week written.
        again.save_snapshot()
        again.close()
        third = pt.Tracker.restore(store, weekly_review="SUN 20:00")
        got = Received(third)
        third.mark_price("X", "1", REVIEW_MOMENT + timedelta(hours=2))
        third.mark_price("X", "1", REVIEW_MOMENT + timedelta(days=7))
        assert ["2025-W48"] == got.weeks

    def test_due_while_down_is_written_after_the_restart(self):
        store = MemoryStore()
        tracker = self.make(store)
        Desk(tracker).many(1, 1)
        tracker.close()
        again = pt.Tracker.restore(store, weekly_review="SUN 20:00")
        got = Received(again)
        again.mark_price("X", "1", REVIEW_MOMENT + timedelta(hours=3))
        assert ["2025-W47"] == got.weeks
        assert 2 == json.loads(store.get(f"{W47}.json"))["summary"]["ideas"]

    def test_read_only_restore_writes_nothing(self):
        store = MemoryStore()
        tracker = self.make(store)
        tracker.mark_price("X", "1", MONDAY)
        tracker.mark_price("X", "1", REVIEW_MOMENT)
        tracker.close()
        store.delete(f"{W47}.json")
        store.delete(f"{W47}.md")
        reader = pt.Tracker.restore(store, read_only=True, weekly_review="SUN 20:00")
        assert reader.clock == REVIEW_MOMENT
        assert [] == store.list("main/reports/")

    def test_store_failure_retried_at_the_next_event(self):
        class Flaky(MemoryStore):
            fail = True

            def put(self, key: str, data: bytes) -> None:
                if self.fail and "/reports/" in key:
                    raise errors.StoreError("disk full")
                super().put(key, data)

        store = Flaky()
        tracker = self.make(store)
        got = Received(tracker)
        tracker.mark_price("X", "1", MONDAY)
        tracker.mark_price("X", "2", REVIEW_MOMENT)
        assert [] == got.weeks
        assert REVIEW_MOMENT == tracker.clock  # the event itself went through
        store.fail = False
        tracker.mark_price("X", "3", REVIEW_MOMENT + timedelta(minutes=1))
        assert ["2025-W47"] == got.weeks

    def test_without_a_store_only_the_signal(self):
        tracker = self.make()
        got = Received(tracker)
        tracker.mark_price("X", "1", REVIEW_MOMENT)
        assert ["2025-W47"] == got.weeks

    def test_restore_accepts_and_checks_the_option(self):
        store = MemoryStore()
        self.make(store).close()
        with pytest.raises(errors.ConfigError, match="'weekly_review'"):
            pt.Tracker.restore(store, weekly_review="SUNDAY")
        pt.Tracker.restore(store, weekly_review="SUN 20:00").close()

    def test_weekdays_calendar_reviews_the_calendar_week(self):
        tracker = pt.Tracker(
            "1000", timezone="America/New_York", calendar="weekdays", weekly_review="SUN 20:00"
        )
        got = Received(tracker)
        Desk(tracker).many(1, 0)
        tracker.mark_price("X", "1", REVIEW_MOMENT)
        assert ["2025-W47"] == got.weeks
        assert 1 == got.reports[0].summary.ideas


def slow_tally(ideas: list[pt.Idea]) -> tuple[int, int, float | None, float | None]:
    """
    (wins, decided, win rate, average R over decided ideas), straight from the ideas.
    """
    wins = sum(1 for i in ideas if i.status == "win")
    decided = [i for i in ideas if i.status in ("win", "loss")]
    rs = [i.r_achieved for i in decided if i.r_achieved is not None]
    rate = wins / len(decided) if decided else None
    return wins, len(decided), rate, (sum(rs) / len(rs) if rs else None)


IDEA_SPECS = st.tuples(
    st.sampled_from(["win", "loss", "open", "pending", "unfilled"]),
    st.sets(st.sampled_from("abcd"), max_size=2),
    st.integers(0, 5),
    st.sampled_from([None, "day", "swing"]),
)


class TestAgainstRawIdeas:
    """Every ranking and rule equals a slow recomputation from the week's raw ideas."""

    @given(st.lists(IDEA_SPECS, max_size=40), st.integers(1, 6))
    def test_matches(self, specs, min_sample):
        tracker = pt.Tracker("1000")
        desk = Desk(tracker)
        for outcome, edges, confidence, horizon in specs:
            desk.idea(outcome, edges=tuple(sorted(edges)), confidence=confidence, horizon=horizon)
        desk.settle()
        limits = pt.ReviewThresholds(min_sample=min_sample)
        report = tracker.ideas.weekly_report(at=MONDAY, thresholds=limits)
        ideas = tracker.ideas.list()
        assert len(specs) == report.summary.ideas == len(ideas)

        by_edge = {e: slow_tally([i for i in ideas if e in i.edges]) for e in "abcd"}
        ranked = [e for e, t in by_edge.items() if t[1] >= min_sample]
        best = sorted(ranked, key=lambda e: (-by_edge[e][2], -by_edge[e][1], e))[:3]
        worst = sorted(ranked, key=lambda e: (by_edge[e][2], -by_edge[e][1], e))[:3]
        assert best == [e for e, _ in report.best_edges]
        assert worst == [e for e, _ in report.worst_edges]

        weak = sorted((e for e in ranked if by_edge[e][2] < 0.4), key=lambda e: (by_edge[e][2], e))
        assert weak == [r.evidence["edge"] for r in rules(report, "weak_edge")]
        for rec in rules(report, "weak_edge"):
            wins, decided, _, _ = by_edge[rec.evidence["edge"]]
            assert f"{wins} of {decided} won" in rec.message

        high = slow_tally([i for i in ideas if i.confidence == 5])
        low = slow_tally([i for i in ideas if i.confidence == 3])
        inverted = high[1] >= min_sample and low[1] >= min_sample and high[2] < low[2]
        assert inverted == bool(rules(report, "confidence_inverted"))

        day = slow_tally([i for i in ideas if i.horizon == "day"])
        swing = slow_tally([i for i in ideas if i.horizon == "swing"])
        split = (
            day[1] >= min_sample
            and swing[1] >= min_sample
            and day[3] is not None
            and swing[3] is not None
            and (day[3] < 0 < swing[3] or swing[3] < 0 < day[3])
        )
        assert split == bool(rules(report, "horizon_split"))

        unfilled = sum(1 for i in ideas if i.status == "expired" and i.triggered_at is None)
        fires = len(ideas) >= min_sample and unfilled / len(ideas) > 0.5
        assert fires == bool(rules(report, "unfilled_ideas"))
        assert unfilled == sum(1 for spec in specs if spec[0] == "unfilled")

        scored = [i for i in ideas if i.r_achieved is not None]
        assert sorted(-i.r_achieved for i in scored)[:3] == [
            -i.r_achieved for i in report.best_ideas
        ]
        assert sorted(i.r_achieved for i in scored)[:3] == [
            i.r_achieved for i in report.worst_ideas
        ]
        assert [i.idea_id for i in ideas if i.status == "pending"] == [
            i.idea_id for i in report.pending
        ]
        validator().validate(report.to_dict())


def test_ideas_are_ranked_by_r_whatever_the_callers_decimal_context() -> None:
    """the rankings multiplied each R by the sign in the caller's decimal context:
    at prec = 3, 1.2349 R and 1.2345 R were both 1.23 and ranked by creation time."""
    from decimal import localcontext

    tracker = pt.Tracker()
    for n, r in enumerate(["1.2345", "1.2349"]):
        tracker.record_idea(
            "NVDA", "long", "100", "98", "106", confidence=3, idea_id=f"i{n}",
            time=MONDAY + timedelta(minutes=n),
        )  # fmt: skip
        tracker.ideas.override(f"i{n}", status="win", r_achieved=r, reason="booked")
    expected = tracker.ideas.weekly_report(at=MONDAY)
    assert ["i1", "i0"] == [i.idea_id for i in expected.best_ideas]
    with localcontext() as ctx:
        ctx.prec = 3
        report = tracker.ideas.weekly_report(at=MONDAY)
    assert ["i1", "i0"] == [i.idea_id for i in report.best_ideas]
    assert ["i0", "i1"] == [i.idea_id for i in report.worst_ideas]
