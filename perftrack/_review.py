"""
The weekly review of trade ideas: what worked this week, what did not, and what to change.

    report = tracker.ideas.weekly_report(at=date(2025, 11, 20))
    print(report.to_markdown())
    for rec in report.recommendations:
        print(rec.rule, rec.message)

``WeeklyReport`` gathers, for one ISO week of the tracker's calendar, the ideas created in it
(their summary, the best and worst edges, confidence, horizons, the best and worst ideas, the
ones still waiting), the week's trade summary beside them, and ``Recommendation`` objects from
four rules whose thresholds are a ``ReviewThresholds`` (the ``[review]`` table of a targets
file). ``WeeklyReviewer`` writes the report to the store by itself once a week
(``Tracker(weekly_review="SUN 20:00")``). Definitions: docs/ideas.md, "Weekly review".
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Final

import attrs
from dateutil import tz as dateutil_tz

from perftrack import signals
from perftrack._log import log
from perftrack._model import json_safe
from perftrack.errors import ConfigError, InvalidInputError, StoreError

if TYPE_CHECKING:
    from perftrack._model import Summary
    from perftrack._tracker import Tracker

__all__ = [
    "RULES",
    "Recommendation",
    "ReviewSchedule",
    "ReviewThresholds",
    "WeeklyReport",
    "WeeklyReviewer",
    "build_weekly_report",
    "week_label",
    "week_monday",
]


#: The recommendation rules, in the order a report lists them.
RULES: Final = ("weak_edge", "confidence_inverted", "horizon_split", "unfilled_ideas")
#: Where a tracker with a store writes its weekly reports, under the account's prefix.
REPORT_PREFIX: Final = "reports/weekly/"
_WEEK: Final = re.compile(r"^(\d{4})-W(\d{2})$")
_DAYS: Final = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
_SPEC: Final = re.compile(r"^\s*([A-Za-z]+)\s+(\d{1,2}):(\d{2})\s*$")


# -- thresholds --------------------------------------------------------------------------------


def _int_between(name: str, value: object, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo or (hi and value > hi):
        where = f">= {lo}" if hi is None else f"an int from {lo} to {hi}"
        msg = f"'review.{name}' must be {where} (got {value!r})"
        raise ConfigError(msg)
    return value


def _number(name: str, value: object, *, fraction: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        msg = f"'review.{name}' must be a number (got {value!r})"
        raise ConfigError(msg)
    number = float(value)
    if not number >= 0 or (fraction and number > 1) or number == float("inf"):
        where = "between 0 and 1" if fraction else "a finite number >= 0"
        msg = f"'review.{name}' must be {where} (got {value!r})"
        raise ConfigError(msg)
    return number


@attrs.frozen(kw_only=True)
class ReviewThresholds:
    """
    The thresholds of the weekly review's recommendations (the ``[review]`` table of a targets
    file). Immutable and thread-safe.

    Args:
        min_sample: Decided ideas (wins + losses) an edge, a confidence level or a horizon
            needs before it is ranked or judged, and ideas the week needs before the
            unfilled-ideas rule may fire (default 5).
        weak_edge_win_rate: An edge winning less often than this is flagged (default 0.40).
        high_confidence: The confidence level that should win most often (default 5).
        low_confidence: The level it is compared with (default 3).
        confidence_margin: How far the high level's win rate must fall below the low level's
            before the rule fires (default 0: any shortfall).
        horizon_margin_r: The losing horizon must average below -this many R and the other
            above +this many (default 0).
        max_unfilled_share: Largest acceptable share of the week's ideas that expired without
            reaching their entry (default 0.5).
        ranked: How many edges and ideas the best and worst lists hold (default 3).
    """

    min_sample: int = 5
    weak_edge_win_rate: float = 0.40
    high_confidence: int = 5
    low_confidence: int = 3
    confidence_margin: float = 0.0
    horizon_margin_r: float = 0.0
    max_unfilled_share: float = 0.5
    ranked: int = 3

    def __attrs_post_init__(self) -> None:
        fixed: dict[str, object] = {
            "min_sample": _int_between("min_sample", self.min_sample, 1),
            "weak_edge_win_rate": _number(
                "weak_edge_win_rate", self.weak_edge_win_rate, fraction=True
            ),
            "high_confidence": _int_between("high_confidence", self.high_confidence, 0, 5),
            "low_confidence": _int_between("low_confidence", self.low_confidence, 0, 5),
            "confidence_margin": _number(
                "confidence_margin", self.confidence_margin, fraction=True
            ),
            "horizon_margin_r": _number("horizon_margin_r", self.horizon_margin_r, fraction=False),
            "max_unfilled_share": _number(
                "max_unfilled_share", self.max_unfilled_share, fraction=True
            ),
            "ranked": _int_between("ranked", self.ranked, 1),
        }
        if fixed["high_confidence"] == fixed["low_confidence"]:
            msg = (
                "'review.high_confidence' must differ from 'review.low_confidence' "
                f"(got {self.high_confidence!r} for both)"
            )
            raise ConfigError(msg)
        for name, value in fixed.items():
            object.__setattr__(self, name, value)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], *, where: str = "") -> ReviewThresholds:
        """
        Thresholds from a mapping (a TOML ``[review]`` table).

        Raises:
            ConfigError: For a key that names no threshold (named) or an invalid value.
        """
        if not isinstance(values, Mapping):
            msg = f"'review' must be a table of thresholds (got {values!r})"
            raise ConfigError(msg)
        known = {f.name for f in attrs.fields(cls)}
        for key in values:
            if key not in known:
                msg = f"unknown review setting {key!r}" + (f" in {where}" if where else "")
                raise ConfigError(msg)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """
        Every threshold, JSON-safe.
        """
        return attrs.asdict(self)


def to_thresholds(value: object) -> ReviewThresholds:
    """
    ``value`` (None, a mapping or ReviewThresholds) as ReviewThresholds.

    Raises:
        ConfigError: For an unknown key or an invalid value.
    """
    if value is None:
        return ReviewThresholds()
    if isinstance(value, ReviewThresholds):
        return value
    if isinstance(value, Mapping):
        return ReviewThresholds.from_mapping(value)
    msg = f"'review' must be a perftrack.ReviewThresholds or a mapping (got {value!r})"
    raise ConfigError(msg)


# -- the report ----------------------------------------------------------------------------


@attrs.frozen
class Recommendation:
    """
    One suggestion of the weekly review: which ``rule`` fired, a ``message`` for people that
    quotes the numbers behind it, and those numbers in ``evidence`` (JSON-safe values).
    Immutable and thread-safe.
    """

    rule: str
    message: str
    evidence: dict[str, Any] = attrs.field(factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """
        The rule, message and evidence as JSON-safe values.
        """
        return {"rule": self.rule, "message": self.message, "evidence": json_safe(self.evidence)}


@attrs.frozen
class WeeklyReport:
    """
    The review of one ISO week's trade ideas (the ideas created in it), with the week's trade
    summary beside it. Immutable and thread-safe.

    ``best_edges`` and ``worst_edges`` rank the edges with at least ``min_sample`` decided
    ideas by win rate (ties: more decided ideas first, then the name); with fewer than twice
    ``ranked`` such edges the two lists overlap. ``best_ideas`` and ``worst_ideas`` rank the
    ideas that have an ``r_achieved`` the same way. Definitions: docs/ideas.md.
    """

    week: str
    start: datetime
    end: datetime
    timezone: str
    as_of: datetime | None
    summary: Any  # IdeaSummary
    best_edges: tuple[tuple[str, Any], ...]
    worst_edges: tuple[tuple[str, Any], ...]
    confidence: dict[int, Any]
    horizons: dict[str, Any]
    best_ideas: tuple[Any, ...]  # Idea
    worst_ideas: tuple[Any, ...]
    pending: tuple[Any, ...]
    open: tuple[Any, ...]
    trades: Summary
    recommendations: tuple[Recommendation, ...]
    thresholds: ReviewThresholds

    def to_dict(self) -> dict[str, Any]:
        """
        The report as JSON-safe values (schema: perftrack/schemas/weekly-report.schema.json).
        """
        return {
            "week": self.week,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "timezone": self.timezone,
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "summary": self.summary.to_dict(),
            "best_edges": [{"edge": k, "summary": s.to_dict()} for k, s in self.best_edges],
            "worst_edges": [{"edge": k, "summary": s.to_dict()} for k, s in self.worst_edges],
            "confidence": {str(k): s.to_dict() for k, s in sorted(self.confidence.items())},
            "horizons": {k: s.to_dict() for k, s in sorted(self.horizons.items())},
            "best_ideas": [i.to_dict() for i in self.best_ideas],
            "worst_ideas": [i.to_dict() for i in self.worst_ideas],
            "pending": [i.to_dict() for i in self.pending],
            "open": [i.to_dict() for i in self.open],
            "trades": self.trades.to_dict(),
            "recommendations": [r.to_dict() for r in self.recommendations],
            "thresholds": self.thresholds.to_dict(),
        }

    def to_json(self) -> str:
        """
        ``to_dict()`` as deterministic JSON text (sorted keys, a final newline).
        """
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    def to_markdown(self) -> str:
        """
        The report as a Markdown page: overview, recommendations, edges, confidence, horizons,
        best and worst ideas, trades, and the ideas still waiting.
        """
        return _markdown(self)


def week_label(day: date) -> str:
    """
    The ISO week of ``day`` as ``YYYY-Www`` (``2025-W47``).
    """
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def week_monday(label: str) -> date:
    """
    The Monday of ISO week ``label`` (``2025-W47``).

    Raises:
        InvalidInputError: For text that is not an ISO week.
    """
    match = _WEEK.match(label) if isinstance(label, str) else None
    if match is None:
        msg = f"'week' must be an ISO week like 2025-W47 (got {label!r})"
        raise InvalidInputError(msg)
    try:
        return date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        msg = f"'week' must be an ISO week like 2025-W47 (got {label!r})"
        raise InvalidInputError(msg) from None


def _week_of(tracker: Tracker, at: date | datetime | str | None) -> date:
    """
    The Monday (a local date) of the ISO week whose session days hold ``at`` (default: now).
    """
    from perftrack._convert import to_date_or_time  # noqa: PLC0415

    cal = tracker._calendar
    when = datetime.now(tracker._calendar.zone) if at is None else to_date_or_time("at", at)
    ordinal = cal.session_of(when) if isinstance(when, datetime) else cal.session_of_date(when)
    return date.fromordinal(cal.period_days("week", ordinal)[0])


def _rate(s: Any) -> float:
    return -1.0 if s.win_rate is None else float(s.win_rate)


def _ranked_edges(
    edges: Mapping[str, Any], limit: int, n: int, *, best: bool
) -> tuple[tuple[str, Any], ...]:
    eligible = [(k, s) for k, s in edges.items() if s.decided >= limit]
    sign = -1.0 if best else 1.0
    eligible.sort(key=lambda item: (sign * _rate(item[1]), -item[1].decided, item[0]))
    return tuple(eligible[:n])


def _ranked_ideas(ideas: Iterable[Any], n: int, *, best: bool) -> tuple[Any, ...]:
    scored = [i for i in ideas if i.r_achieved is not None]

    # Exact whatever the caller's decimal context (a product in it rounded R to its prec):
    # negating a Decimal by copy_negate() uses no context.
    def score(i: Any) -> Decimal:
        r = Decimal(str(i.r_achieved))
        return r.copy_negate() if best else r

    scored.sort(key=lambda i: (score(i), i.created_at, i.idea_id))
    return tuple(scored[:n])


def build_weekly_report(
    tracker: Tracker,
    at: date | datetime | str | None = None,
    thresholds: ReviewThresholds | Mapping[str, Any] | None = None,
) -> WeeklyReport:
    """
    The review of the ISO week containing ``at`` (default: now), with ``thresholds``
    (default: the tracker's targets' ``review``; a mapping of them works too). Thread-safe:
    one consistent view, taken under the tracker's lock.

    Raises:
        InvalidInputError: For a bad ``at``.
        ConfigError: For bad thresholds.
    """
    limits = tracker.alerts.targets.review if thresholds is None else to_thresholds(thresholds)
    with tracker._lock:
        monday = _week_of(tracker, at)
        ideas = tracker.ideas
        summary = ideas.summary("week", at=monday)
        edges = ideas.breakdown("edge", period="week", at=monday)
        confidence = ideas.breakdown("confidence", period="week", at=monday)
        horizons = ideas.breakdown("horizon", period="week", at=monday)
        week_ideas = ideas.list(period="week", at=monday)
        trades = tracker.summary("week", at=monday)
        cal = tracker._calendar
        first, last = cal.period_days("week", monday.toordinal())
        start = cal.day_start(cal.session_of_date(date.fromordinal(first)))
        end = cal.day_end(cal.range_end_day(date.fromordinal(last)))
        as_of = tracker._clock
    n = limits.ranked
    pending = tuple(i for i in week_ideas if i.status == "pending")
    open_ = tuple(i for i in week_ideas if i.status == "open")
    return WeeklyReport(
        week=week_label(monday),
        start=start,
        end=end,
        timezone=tracker.timezone,
        as_of=None if as_of is None else as_of.astimezone(cal.zone),
        summary=summary,
        best_edges=_ranked_edges(edges, limits.min_sample, n, best=True),
        worst_edges=_ranked_edges(edges, limits.min_sample, n, best=False),
        confidence=dict(confidence),
        horizons=dict(horizons),
        best_ideas=_ranked_ideas(week_ideas, n, best=True),
        worst_ideas=_ranked_ideas(week_ideas, n, best=False),
        pending=pending,
        open=open_,
        trades=trades,
        recommendations=recommend(edges, confidence, horizons, week_ideas, limits),
        thresholds=limits,
    )


# -- recommendations -----------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * float(value):.0f}%"


def _interval(s: Any) -> str:
    if s.win_rate_low is None or s.win_rate_high is None:
        return "95% interval -"
    return f"95% interval {100 * float(s.win_rate_low):.0f}-{100 * float(s.win_rate_high):.0f}%"


def _won(s: Any) -> str:
    return f"{s.wins} of {s.decided} won, {_pct(s.win_rate)}, {_interval(s)}"


def _r(value: Any) -> str:
    return "-" if value is None else f"{float(value):+.2f} R"


def _rate_evidence(s: Any) -> dict[str, Any]:
    return {
        "wins": s.wins,
        "decided": s.decided,
        "win_rate": s.win_rate,
        "win_rate_low": s.win_rate_low,
        "win_rate_high": s.win_rate_high,
    }


def _shortfall(high: Any, low: Any) -> Fraction:
    """
    How far ``high``'s win rate falls below ``low``'s, exactly (a float difference of the
    rates would make a shortfall equal to the margin look larger than it).
    """
    return Fraction(low.wins, low.decided) - Fraction(high.wins, high.decided)


def recommend(
    edges: Mapping[str, Any],
    confidence: Mapping[int, Any],
    horizons: Mapping[str, Any],
    ideas: Iterable[Any],
    limits: ReviewThresholds,
) -> tuple[Recommendation, ...]:
    """
    The recommendations the four rules make from a week's breakdowns and ideas. Pure.
    """
    out: list[Recommendation] = []
    sample = limits.min_sample
    for name, s in sorted(edges.items(), key=lambda item: (_rate(item[1]), item[0])):
        if (
            s.decided >= sample
            and s.win_rate is not None
            and s.win_rate < limits.weak_edge_win_rate
        ):
            out.append(
                Recommendation(
                    "weak_edge",
                    f"consider removing edge {name}: {_won(s)} "
                    f"(below {_pct(limits.weak_edge_win_rate)})",
                    {"edge": name, **_rate_evidence(s), "threshold": limits.weak_edge_win_rate},
                )
            )
    high, low = confidence.get(limits.high_confidence), confidence.get(limits.low_confidence)
    if (
        high is not None
        and low is not None
        and high.decided >= sample
        and low.decided >= sample
        and high.win_rate is not None
        and low.win_rate is not None
        and _shortfall(high, low) > Fraction(str(limits.confidence_margin))
    ):
        hc, lc = limits.high_confidence, limits.low_confidence
        out.append(
            Recommendation(
                "confidence_inverted",
                f"confidence {hc} ideas win less often than confidence {lc} ideas: "
                f"{hc}: {_won(high)}; {lc}: {_won(low)}; revisit how confidence is scored",
                {
                    "high_confidence": hc,
                    "low_confidence": lc,
                    "high": _rate_evidence(high),
                    "low": _rate_evidence(low),
                    "margin": limits.confidence_margin,
                },
            )
        )
    day, swing = horizons.get("day"), horizons.get("swing")
    if (
        day is not None
        and swing is not None
        and day.decided >= sample
        and swing.decided >= sample
        and day.avg_r is not None
        and swing.avg_r is not None
    ):
        margin = limits.horizon_margin_r
        pair = None
        if float(day.avg_r) < -margin and float(swing.avg_r) > margin:
            pair = ("day", day, "swing", swing)
        elif float(swing.avg_r) < -margin and float(day.avg_r) > margin:
            pair = ("swing", swing, "day", day)
        if pair is not None:
            loser, lose, winner, win = pair
            out.append(
                Recommendation(
                    "horizon_split",
                    f"{loser} ideas lose on average while {winner} ideas earn: {loser} "
                    f"{_r(lose.avg_r)} over {lose.decided} decided, {winner} {_r(win.avg_r)} "
                    f"over {win.decided} decided; favour {winner} ideas",
                    {
                        "losing": loser,
                        "earning": winner,
                        "losing_avg_r": lose.avg_r,
                        "losing_decided": lose.decided,
                        "earning_avg_r": win.avg_r,
                        "earning_decided": win.decided,
                        "margin_r": margin,
                    },
                )
            )
    listed = list(ideas)
    unfilled = sum(1 for i in listed if i.status == "expired" and i.triggered_at is None)
    if len(listed) >= sample and unfilled / len(listed) > limits.max_unfilled_share:
        share = unfilled / len(listed)
        out.append(
            Recommendation(
                "unfilled_ideas",
                f"{unfilled} of {len(listed)} ideas ({_pct(share)}) expired without reaching "
                f"their entry (more than {_pct(limits.max_unfilled_share)}): entries may be too "
                "far from the price, or ideas expire too soon",
                {
                    "unfilled": unfilled,
                    "ideas": len(listed),
                    "share": share,
                    "threshold": limits.max_unfilled_share,
                },
            )
        )
    return tuple(out)


# -- Markdown ------------------------------------------------------------------------------


def _tables(title: str, rows: Iterable[tuple[object, Any]]) -> list[str]:
    from perftrack.reports._text import idea_summary_rows, markdown_table  # noqa: PLC0415

    listed = [(str(k), v) for k, v in rows]
    body = markdown_table(idea_summary_rows(listed, title.lower())) if listed else "None."
    return [f"### {title}", "", body, ""]


def _idea_rows(ideas: Sequence[Any], zone: Any) -> list[str]:
    from perftrack.reports._text import idea_list_rows, markdown_table  # noqa: PLC0415

    return [markdown_table(idea_list_rows(ideas, zone)) if ideas else "None.", ""]


def _markdown(report: WeeklyReport) -> str:
    from perftrack.reports._text import cents, markdown_text  # noqa: PLC0415 (as above)

    s = report.summary
    zone = report.start.tzinfo
    lines = [
        f"# Weekly review {report.week}",
        "",
        f"Week: {report.start.isoformat()} to {report.end.isoformat()} ({report.timezone})",
        "",
        "## Overview",
        "",
    ]
    if s.ideas == 0:
        lines += [s.note or "No ideas in window", ""]
    else:
        lines += [
            f"{s.ideas} ideas: {s.pending} pending, {s.open} open, {s.wins} won, {s.losses} "
            f"lost, {s.expired} expired. Win rate {_pct(s.win_rate)} ({_interval(s)}); "
            f"average {_r(s.avg_r)}, total {_r(s.total_r)}.",
            "",
        ]
    lines += ["## Recommendations", ""]
    if report.recommendations:
        # A message names edges, which hold anything: written as text, on one line.
        lines += [
            f"- **{markdown_text(r.rule)}**: {markdown_text(r.message)}"
            for r in report.recommendations
        ]
    else:
        lines.append(
            "None: no rule fired (a rule judges only groups of at least "
            f"{report.thresholds.min_sample} ideas)."
        )
    lines += ["", "## Edges", ""]
    lines += _tables("Best edges", report.best_edges)
    lines += _tables("Worst edges", report.worst_edges)
    lines += ["## Confidence and horizon", ""]
    lines += _tables("Confidence", sorted(report.confidence.items()))
    lines += _tables("Horizon", sorted(report.horizons.items()))
    lines += ["## Best ideas", "", *_idea_rows(report.best_ideas, zone)]
    lines += ["## Worst ideas", "", *_idea_rows(report.worst_ideas, zone)]
    t = report.trades
    lines += ["## Trades", ""]
    if t.trades == 0:
        lines += ["No trades in window", ""]
    else:
        win = "-" if t.win_rate is None else f"{t.win_rate:.1%}"
        lines += [
            f"{t.trades} trades, {t.wins} won, {t.losses} lost; win rate {win}, "
            f"net P&L {cents(t.net_pnl):,}.",
            "",
        ]
    lines += ["## Still pending", "", *_idea_rows(report.pending, zone)]
    lines += ["## Still open", "", *_idea_rows(report.open, zone)]
    return "\n".join(lines).rstrip("\n") + "\n"


# -- the schedule and the reviewer ---------------------------------------------------------


@attrs.frozen
class ReviewSchedule:
    """
    When the weekly review is due: a weekday (0 = Monday) and a local time of day.
    """

    weekday: int
    at: time
    spec: str

    @classmethod
    def parse(cls, spec: object) -> ReviewSchedule:
        """
        ``"SUN 20:00"`` (a three-letter or full English weekday, any case, and HH:MM on a
        24-hour clock).

        Raises:
            ConfigError: For anything else, naming the value.
        """
        match = _SPEC.match(spec) if isinstance(spec, str) else None
        if match is not None:
            day = match[1].upper()
            full = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
            hour, minute = int(match[2]), int(match[3])
            if (day in _DAYS or day in full) and hour < 24 and minute < 60:
                weekday = _DAYS.index(day) if day in _DAYS else full.index(day)
                return cls(weekday, time(hour, minute), str(spec))
        msg = f"'weekly_review' must be a weekday and a time like 'SUN 20:00' (got {spec!r})"
        raise ConfigError(msg)

    def moment(self, monday: date, zone: Any) -> datetime:
        """
        The instant (aware, in ``zone``) the review of the ISO week starting ``monday`` is due.
        A local time skipped by a daylight-saving change moves forward out of the gap; a
        repeated one means its first occurrence.
        """
        naive = datetime.combine(monday + timedelta(days=self.weekday), self.at)
        resolved: datetime = dateutil_tz.resolve_imaginary(naive.replace(tzinfo=zone))
        return resolved


class WeeklyReviewer:
    """
    Writes the weekly review by itself: the first event at or after the review moment of a
    week writes ``<account>/reports/weekly/<week>.json`` and ``.md`` (when the tracker has a
    store) and sends ``weekly-report``. Once per week: the last week written is part of the
    tracker's snapshots, and a week whose JSON the store already holds is not written again
    (a restart between writing and the next snapshot). Works under the tracker's lock.
    """

    def __init__(self, tracker: Tracker, schedule: ReviewSchedule) -> None:
        self._tracker = tracker
        self.schedule = schedule
        #: The Monday ordinal of the last week written (or found written), None before any.
        self._last: int | None = None
        #: The Monday ordinal of the first week this reviewer saw an event in.
        self._first: int | None = None
        #: The next review moment (cached: the per-event check is one comparison).
        self._next: datetime | None = None
        tracker._components["review"] = self
        tracker._observers.append(self._observe)

    def _due_monday(self, clock: datetime) -> int:
        """
        The Monday ordinal of the latest week whose review moment is at or before ``clock``.
        """
        zone = self._tracker._calendar.zone
        local = clock.astimezone(zone).date()
        monday = local - timedelta(days=local.weekday())
        if clock < self.schedule.moment(monday, zone):
            monday -= timedelta(days=7)
        return monday.toordinal()

    def _observe(
        self, kind: str, event: dict[str, Any] | None, result: object, pending: list[Any]
    ) -> None:
        tracker = self._tracker
        clock = tracker._clock
        # The hot path: one comparison until the next review moment.
        if clock is None or (self._next is not None and clock < self._next):
            return
        zone = tracker._calendar.zone
        if self._first is None:
            local = clock.astimezone(zone).date()
            self._first = (local - timedelta(days=local.weekday())).toordinal()
        # Replay re-runs events whose reports were written before the restart; a report due
        # then and not written is written at the first live event, from the restored state.
        if tracker._replaying:
            return
        due = self._due_monday(clock)
        start = self._first if self._last is None else self._last + 7
        for monday in range(start, due + 1, 7):
            if not self._write(date.fromordinal(monday), pending):
                return  # the store failed: the next event tries again
            self._last = monday
        upcoming = self._first if self._last is None else self._last + 7
        # In UTC: comparing with an instant in a dateutil zone costs a utcoffset() lookup.
        self._next = self.schedule.moment(date.fromordinal(upcoming), zone).astimezone(UTC)

    def _write(self, monday: date, pending: list[Any]) -> bool:
        tracker = self._tracker
        store = tracker._store
        label = week_label(monday)
        stem = f"{tracker._persistence.account}/{REPORT_PREFIX}{label}"
        try:
            if store is not None and _exists(store, f"{stem}.json"):
                return True  # written before a restart
            report = build_weekly_report(tracker, monday)
            if store is not None:
                # The Markdown first: the JSON is what marks the week as written.
                store.put(f"{stem}.md", report.to_markdown().encode())
                store.put(f"{stem}.json", report.to_json().encode())
        except StoreError as e:
            log.error("perftrack.weekly_review_failed", week=label, error=str(e))
            return False
        pending.append(
            (
                signals.weekly_report,
                {"report": report, "week": label, "key": None if store is None else f"{stem}.json"},
            )
        )
        return True

    # -- persistence ---------------------------------------------------------------------------

    def snapshot_state(self) -> dict[str, Any]:
        return {"last": self._last, "first": self._first}

    def restore_state(self, state: dict[str, Any]) -> None:
        self._last = state.get("last")
        self._first = state.get("first")
        self._next = None


def _exists(store: Any, key: str) -> bool:
    try:
        store.get(key)
    except KeyError:
        return False
    return True
