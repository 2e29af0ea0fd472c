"""
Trade ideas: what a bot proposed, how the prices it feeds the tracker resolved each idea, and
aggregates by creation day that merge, so that "which edges work" never rescans history.

The rules of the life of an idea are written in docs/ideas.md; this module implements them
and nothing else. Everything mutable lives under the tracker's lock.
"""

from __future__ import annotations

import bisect
import builtins
import heapq
import json
import math
from datetime import UTC, date, datetime, timedelta
from decimal import Context, Decimal, localcontext
from typing import TYPE_CHECKING, Any, Final

import attrs

from perftrack import signals
from perftrack._convert import (
    EARLIEST,
    LATEST,
    generated_number,
    to_decimal,
    to_name,
    to_optional_decimal,
    to_side,
    to_time,
)
from perftrack._model import OpenTrade, Trade, json_safe
from perftrack._persist import _tagged, _untagged
from perftrack._review import ReviewThresholds, WeeklyReport, build_weekly_report
from perftrack.errors import (
    DuplicateTradeError,
    InvalidIdeaError,
    InvalidInputError,
    UnknownIdeaError,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from blinker import Signal

    from perftrack._tracker import Tracker

__all__ = [
    "BREAKDOWNS",
    "ENTRY_TYPES",
    "HORIZONS",
    "STATUSES",
    "Idea",
    "IdeaSummary",
    "Ideas",
    "wilson_interval",
]

HORIZONS: Final = ("day", "swing")
ENTRY_TYPES: Final = ("market", "limit", "stop")
STATUSES: Final = ("pending", "open", "win", "loss", "expired")
#: What ``override`` may set: a manual outcome.
OUTCOMES: Final = ("win", "loss", "expired")
BREAKDOWNS: Final = ("edge", "confidence", "horizon", "symbol", "side")
DEFAULT_EXPIRY: Final = timedelta(days=7)
_NO_TIME: Final = timedelta(0)
#: z for a two-sided 95 % interval.
_Z: Final = 1.959963984540054
_PENDING, _OPEN, _WIN, _LOSS, _EXPIRED = range(5)
_STATUS_CODE: Final = {name: i for i, name in enumerate(STATUSES)}
_ZERO: Final = Decimal(0)
#: R-multiples are kept to 12 decimal places: exact to add and subtract in the aggregates,
#: far finer than any price grid makes meaningful.
_R_DECIMALS: Final = 12
_R_PLACES: Final = Decimal(1).scaleb(-_R_DECIMALS)
#: Wide enough for the quotients of any market's prices; a larger R (a feed's sentinel price,
#: an override typed wrongly) is quantized in a context sized to it (``to_r``).
_R_CONTEXT: Final = Context(prec=120)
_AVERAGE: Final = Context(prec=28)
_NO_KEY: Final = (None, None, None, None, None)
#: Recorded ideas wait in a queue for their aggregates; a full queue is folded at once.
_INDEX_BATCH: Final = 256

# A filter over ideas: (symbol, side, horizon, confidence, edge), None = any.
Key = tuple[str | None, str | None, str | None, int | None, str | None]


# -- public value types ------------------------------------------------------------------------


@attrs.frozen(slots=True)
class Idea:
    """
    A trade idea and what has happened to it so far.

    ``status`` is "pending" until the entry is reached, then "open", then one of "win",
    "loss" or "expired" (see docs/ideas.md for every rule). R-multiples are in units of the
    idea's risk, |entry - stop|. Frozen: safe to share between threads; a later change to the
    idea gives a new ``Idea`` from ``tracker.ideas.get``.
    """

    idea_id: str
    symbol: str
    side: str
    entry_type: str
    entry: Decimal
    stop: Decimal
    target: Decimal
    target2: Decimal | None
    confidence: int
    edges: tuple[str, ...]
    horizon: str | None
    rationale: str | None
    #: JSON values given at creation (Decimals and datetimes as strings); each Idea holds its
    #: own copy.
    context: dict[str, Any] | None
    created_at: datetime
    expires_at: datetime
    status: str
    triggered_at: datetime | None
    closed_at: datetime | None
    #: (fill - entry) / risk, signed for the side; for an expiry the R of the last price seen
    #: while open; None while undecided or when undefined.
    r_achieved: float | None
    #: Maximum favourable excursion from the entry in R (>= 0); None before a price was seen
    #: from the one that reached the entry on.
    mfe_r: float | None
    #: Maximum adverse excursion from the entry in R (<= 0); None like ``mfe_r``.
    mae_r: float | None
    note: str | None
    flagged: bool
    #: None, or {"status", "r_achieved"} as they were before the first override, with the
    #: latest override's "reason" and "at".
    override: dict[str, Any] | None
    trade_ids: tuple[str, ...]

    @property
    def risk(self) -> Decimal:
        """
        |entry - stop|, the price distance one R stands for.
        """
        # In the R context (as the idea's own distances), not the caller's decimal context.
        return _R_CONTEXT.abs(_R_CONTEXT.subtract(self.entry, self.stop))

    def to_dict(self) -> dict[str, Any]:
        """
        Every field as JSON-safe values: Decimals as strings, datetimes in ISO 8601.
        """
        return {f.name: json_safe(getattr(self, f.name)) for f in attrs.fields(Idea)}


@attrs.frozen(slots=True)
class IdeaSummary:
    """
    The outcome of the ideas created in one window, optionally filtered by symbol, side,
    horizon, confidence or edge. Definitions and the None rules are in docs/ideas.md.
    """

    period: str
    start: datetime | None
    end: datetime | None
    ideas: int = 0
    pending: int = 0
    open: int = 0
    wins: int = 0
    losses: int = 0
    expired: int = 0
    decided: int = 0
    win_rate: float | None = None
    win_rate_low: float | None = None
    win_rate_high: float | None = None
    avg_r: float | None = None
    total_r: float | None = None
    expired_r: float | None = None
    best_r: float | None = None
    worst_r: float | None = None
    avg_mfe_r: float | None = None
    avg_mae_r: float | None = None
    taken: int = 0
    taken_net_pnl: Decimal = _ZERO
    note: str | None = None
    #: The filter the summary was taken with, e.g. {"edge": "gap_fill"}; empty for all.
    scope: dict[str, Any] = attrs.field(factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """
        Every field as JSON-safe values (Decimals as strings, datetimes in ISO 8601).
        """
        return {f.name: json_safe(getattr(self, f.name)) for f in attrs.fields(IdeaSummary)}


def wilson_interval(successes: int, n: int) -> tuple[float, float] | None:
    """
    The 95 % Wilson score interval of a proportion, or None when ``n`` is 0.
    """
    if n <= 0:
        return None
    p = successes / n
    z2 = _Z * _Z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = _Z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def r_multiple(x: Decimal, risk: Decimal) -> Decimal:
    """
    ``x`` (a signed price distance from the entry) in R, to 12 decimal places.
    """
    return to_r(_R_CONTEXT.divide(x, risk))


def to_r(value: Decimal) -> Decimal:
    """
    ``value`` (a finite R) to 12 decimal places. Never raises: a quantization needing more
    digits than ``_R_CONTEXT`` holds runs in a context as wide as it needs, so an R far out
    of range is kept rather than failing an event that is already journaled.
    """
    digits = value.adjusted() + 1 + _R_DECIMALS
    if digits <= _R_CONTEXT.prec:
        return _R_CONTEXT.quantize(value, _R_PLACES)
    return Context(prec=digits + 1).quantize(value, _R_PLACES)


# -- the state of one idea ---------------------------------------------------------------------


class _Rec:
    """
    The mutable state of one idea. Lives only under the tracker's lock.

    Prices are kept as signed distances from the entry, ``x = (price - entry) x sign``, so that
    one set of comparisons serves longs and shorts: the stop is at ``-risk``, the target at
    ``tx`` > 0.
    """

    __slots__ = (
        "aggs",
        "closed_at",
        "confidence",
        "content",
        "context",
        "created_at",
        "day",
        "edges",
        "entry",
        "entry_type",
        "expires_at",
        "flagged",
        "hi",
        "horizon",
        "idea",
        "idea_id",
        "last",
        "lo",
        "note",
        "override",
        "pnl",
        "r",
        "rationale",
        "risk",
        "seen",
        "side",
        "sign",
        "status",
        "stop",
        "sx",
        "symbol",
        "target",
        "target2",
        "trade_ids",
        "triggered_at",
        "tx",
    )

    def __init__(
        self,
        idea_id: str,
        symbol: str,
        side: str,
        entry_type: str,
        entry: Decimal,
        stop: Decimal,
        target: Decimal,
        target2: Decimal | None,
        confidence: int,
        edges: tuple[str, ...],
        horizon: str | None,
        rationale: str | None,
        context: str | None,
        created_at: datetime,
        expires_at: datetime,
        content: tuple[object, ...] = (),
    ) -> None:
        self.idea_id = idea_id
        self.symbol = symbol
        self.side = side
        self.sign = 1 if side == "long" else -1
        self.entry_type = entry_type
        self.entry = entry
        self.stop = stop
        self.target = target
        self.target2 = target2
        self.confidence = confidence
        self.edges = edges
        self.horizon = horizon
        self.rationale = rationale
        self.context = context
        self.created_at = created_at
        self.expires_at = expires_at
        # In the R context explicitly, whatever the caller's: the distances stay exact.
        ctx = _R_CONTEXT
        self.risk = risk = ctx.abs(ctx.subtract(entry, stop))
        self.tx = ctx.subtract(target, entry) if side == "long" else ctx.subtract(entry, target)
        self.sx = ctx.minus(risk)
        self.status = _PENDING
        self.triggered_at: datetime | None = None
        self.closed_at: datetime | None = None
        self.r: Decimal | None = None
        self.hi: Decimal | None = None  # highest x seen while open (None: no price yet)
        self.lo: Decimal | None = None
        self.last: Decimal | None = None  # x of the last price seen after the entry's event
        self.seen: datetime = created_at  # prices older than this do not move the idea
        self.note: str | None = None
        self.flagged = False
        self.override: dict[str, Any] | None = None
        self.trade_ids: list[str] = []
        self.pnl = _ZERO  # net P&L of the linked trades that have closed
        self.day = 0
        self.aggs: list[_Agg] = []
        self.idea: Idea | None = None  # the cached public view
        # The normalised inputs, to recognise a re-sent identical idea.
        self.content = content

    def contribution(self) -> tuple[int, Decimal | None, Decimal | None, Decimal | None]:
        """
        (status, r, mfe, mae) as the aggregates count them: the excursions only once the
        idea has closed after reaching its entry (an open idea's excursions still move).
        """
        status = self.status
        if status >= _WIN and self.hi is not None and self.lo is not None:
            return status, self.r, self.mfe(), self.mae()
        return status, self.r, None, None

    def mfe(self) -> Decimal | None:
        return None if self.hi is None else r_multiple(max(self.hi, _ZERO), self.risk)

    def mae(self) -> Decimal | None:
        return None if self.lo is None else r_multiple(min(self.lo, _ZERO), self.risk)

    def view(self) -> Idea:
        """
        The public Idea, cached until the record changes. Its ``context`` and ``override``
        are dicts: each caller (a signal's payload, ``get``, ``list``) gets its own copy of
        them, so that no caller can change what the tracker hands out next.
        """
        idea = self._view()
        if self.context is None and idea.override is None:
            return idea
        override = idea.override
        return attrs.evolve(
            idea,
            context=None if self.context is None else json.loads(self.context),
            override=None if override is None else dict(override),
        )

    def _view(self) -> Idea:
        idea = self.idea
        if idea is None:
            # Nothing to derive while no price has moved the idea (every idea just recorded).
            hi, lo = self.hi, self.lo
            mfe = None if hi is None else float(r_multiple(max(hi, _ZERO), self.risk))
            mae = None if lo is None else float(r_multiple(min(lo, _ZERO), self.risk))
            override = self.override
            if override is not None:
                original = override["r_achieved"]
                override = {
                    "status": override["status"],
                    "r_achieved": None if original is None else float(original),
                    "reason": override["reason"],
                    "at": override["at"],
                }
            # Positional, in field order: the view is built on every change that is read.
            idea = self.idea = Idea(
                self.idea_id,
                self.symbol,
                self.side,
                self.entry_type,
                self.entry,
                self.stop,
                self.target,
                self.target2,
                self.confidence,
                self.edges,
                self.horizon,
                self.rationale,
                None if self.context is None else json.loads(self.context),
                self.created_at,
                self.expires_at,
                STATUSES[self.status],
                self.triggered_at,
                self.closed_at,
                None if self.r is None else float(self.r),
                mfe,
                mae,
                self.note,
                self.flagged,
                override,
                tuple(self.trade_ids),
            )
        return idea


#: The inputs of an idea, in _Rec's argument order.
_INPUTS: Final = (
    "idea_id",
    "symbol",
    "side",
    "entry_type",
    "entry",
    "stop",
    "target",
    "target2",
    "confidence",
    "edges",
    "horizon",
    "rationale",
    "context",
    "created_at",
    "expires_at",
)
_STATE_FIELDS: Final = (
    *_INPUTS,
    "status",
    "triggered_at",
    "closed_at",
    "r",
    "hi",
    "lo",
    "last",
    "seen",
    "note",
    "flagged",
    "override",
    "trade_ids",
    "pnl",
    "content",
)


# -- aggregates that merge ---------------------------------------------------------------------


class _Agg:
    """
    The aggregates of the ideas of one filter key created on one day (or ever):
    counts by status and the sums and extremes of their R-multiples. Adding and removing one
    idea's contribution is exact (integer counts, Decimal sums), so a status change moves an
    idea from one count to another in O(1); only the extremes cannot be un-done, and a
    removal of the current best or worst marks them ``stale`` for a rebuild on the next read.
    ``counts[_PENDING]`` is not kept (recording an idea then costs one increment): pending is
    n less the other counts.
    """

    __slots__ = (
        "best",
        "counts",
        "m_n",
        "mae_sum",
        "mfe_sum",
        "n",
        "pnl",
        "r_n",
        "r_sum",
        "stale",
        "taken",
        "worst",
        "x_n",
        "x_sum",
    )

    def __init__(self) -> None:
        self.n = 0
        self.counts = [0, 0, 0, 0, 0]
        self.r_n = 0  # decided ideas with an R
        self.r_sum = _ZERO
        self.x_n = 0  # expired ideas with an R
        self.x_sum = _ZERO
        self.best: Decimal | None = None
        self.worst: Decimal | None = None
        self.m_n = 0  # closed ideas that reached their entry and saw a price
        self.mfe_sum = _ZERO
        self.mae_sum = _ZERO
        self.taken = 0
        self.pnl = _ZERO
        self.stale = False

    def add(self, c: tuple[int, Decimal | None, Decimal | None, Decimal | None], s: int) -> None:
        """
        Add (``s`` = 1) or remove (-1) one idea's contribution.
        """
        status, r, mfe, mae = c
        if status:
            self.counts[status] += s
        if r is not None:
            if status in (_WIN, _LOSS):
                self.r_n += s
                self.r_sum += r if s > 0 else -r
            elif status == _EXPIRED:
                self.x_n += s
                self.x_sum += r if s > 0 else -r
            if s > 0:
                if self.best is None or r > self.best:
                    self.best = r
                if self.worst is None or r < self.worst:
                    self.worst = r
            elif r in (self.best, self.worst):
                self.stale = True
        if mfe is not None and mae is not None:
            self.m_n += s
            self.mfe_sum += mfe if s > 0 else -mfe
            self.mae_sum += mae if s > 0 else -mae

    def resolve(
        self,
        was_open: bool,
        status: int,
        r: Decimal | None,
        mfe: Decimal | None,
        mae: Decimal | None,
    ) -> None:
        """
        The common transition, faster than a remove and an add: a live idea (without R or
        excursions yet counted) closes with ``status``.
        """
        counts = self.counts
        if was_open:
            counts[_OPEN] -= 1
        counts[status] += 1
        if r is not None:
            if status == _EXPIRED:
                self.x_n += 1
                self.x_sum += r
            else:
                self.r_n += 1
                self.r_sum += r
            if self.best is None or r > self.best:
                self.best = r
            if self.worst is None or r < self.worst:
                self.worst = r
        if mfe is not None and mae is not None:
            self.m_n += 1
            self.mfe_sum += mfe
            self.mae_sum += mae

    def merge(self, other: _Agg) -> None:
        """
        Fold ``other`` (a later or earlier window; order does not matter) into this one.
        """
        self.n += other.n
        counts, theirs = self.counts, other.counts
        for i in range(5):
            counts[i] += theirs[i]
        self.r_n += other.r_n
        self.r_sum += other.r_sum
        self.x_n += other.x_n
        self.x_sum += other.x_sum
        if other.best is not None and (self.best is None or other.best > self.best):
            self.best = other.best
        if other.worst is not None and (self.worst is None or other.worst < self.worst):
            self.worst = other.worst
        self.m_n += other.m_n
        self.mfe_sum += other.mfe_sum
        self.mae_sum += other.mae_sum
        self.taken += other.taken
        self.pnl += other.pnl


class _Series:
    """
    The aggregates of one filter key: one per creation day (their ordinals kept sorted for
    range queries) and one of all time.
    """

    __slots__ = ("day_list", "days", "key", "total")

    def __init__(self, key: Key) -> None:
        self.key = key
        self.total = _Agg()
        self.days: dict[int, _Agg] = {}
        self.day_list: list[int] = []

    def day(self, ordinal: int) -> _Agg:
        """
        The aggregate of day ``ordinal``, created when missing.
        """
        agg = self.days.get(ordinal)
        if agg is None:
            agg = self.days[ordinal] = _Agg()
            order = self.day_list
            if not order or ordinal > order[-1]:
                order.append(ordinal)
            else:
                bisect.insort(order, ordinal)
        return agg


def _matches(key: Key, rec: _Rec) -> bool:
    symbol, side, horizon, confidence, edge = key
    return (
        (symbol is None or symbol == rec.symbol)
        and (side is None or side == rec.side)
        and (horizon is None or horizon == rec.horizon)
        and (confidence is None or confidence == rec.confidence)
        and (edge is None or edge in rec.edges)
    )


# -- input normalisation -----------------------------------------------------------------------


def to_confidence(value: object, *, error: type[InvalidInputError] = InvalidIdeaError) -> int:
    """
    An int from 0 to 5.
    """
    if type(value) is int and 0 <= value <= 5:
        return value  # the common case, decided without the checks below
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 5:
        msg = f"'confidence' must be an int from 0 to 5 (got {value!r})"
        raise error(msg)
    return int(value)


def to_horizon(value: object, *, error: type[InvalidInputError] = InvalidIdeaError) -> str:
    """
    "day" or "swing".
    """
    if value in HORIZONS:
        return HORIZONS[HORIZONS.index(value)]
    msg = f"'horizon' must be 'day', 'swing' or None (got {value!r})"
    raise error(msg)


_EDGES: dict[object, tuple[str, ...]] = {}


def to_edges(value: object) -> tuple[str, ...]:
    """
    Distinct edge names in first-seen order; a lone string is one edge.
    """
    # Edge sets repeat: one normalised tuple per distinct input (bounded).
    hashable = isinstance(value, (str, tuple))
    if hashable:
        try:
            cached = _EDGES.get(value)
        except TypeError:  # a tuple holding something unhashable: normalising will say so
            hashable = False
        else:
            if cached is not None:
                return cached
    names = _normal_edges(value)
    if hashable:
        if len(_EDGES) >= 4096:
            _EDGES.clear()
        _EDGES[value] = names
    return names


def _normal_edges(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        items: tuple[object, ...] = (value,)
    elif isinstance(value, (tuple, list)):
        items = tuple(value)
    else:
        msg = f"'edges' must be a string or a sequence of strings (got {value!r})"
        raise InvalidIdeaError(msg)
    return tuple(dict.fromkeys(to_name("edges", v, error=InvalidIdeaError) for v in items))


def _to_context(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        msg = f"'context' must be a dict with string keys or None (got {value!r})"
        raise InvalidIdeaError(msg)
    try:
        # Kept as its JSON text: exactly what the journal and snapshots restore, and every
        # Idea gets a fresh copy, so a caller changing one cannot change the tracker.
        text = json.dumps(json_safe(value), allow_nan=False, sort_keys=True)
    except (TypeError, ValueError):
        msg = f"'context' must hold JSON values only (got {value!r})"
        raise InvalidIdeaError(msg) from None
    return text


def _optional_text(field: str, value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    msg = f"{field!r} must be a string or None (got {value!r})"
    raise InvalidIdeaError(msg)


def check_levels(side: str, entry: Decimal, stop: Decimal, target: Decimal) -> None:
    """
    Risk must be > 0: a long needs stop < entry < target, a short target < entry < stop.
    """
    if stop == entry:
        msg = f"'stop' must differ from the entry {entry}: the risk would be zero (got {stop})"
        raise InvalidIdeaError(msg)
    long = side == "long"
    if stop > entry if long else stop < entry:
        where = "below" if long else "above"
        msg = f"'stop' must be {where} the entry {entry} for a {side} (got {stop})"
        raise InvalidIdeaError(msg)
    if target <= entry if long else target >= entry:
        where = "above" if long else "below"
        msg = f"'target' must be {where} the entry {entry} for a {side} (got {target})"
        raise InvalidIdeaError(msg)


def check_bar(open_: Decimal | None, high: Decimal, low: Decimal, close: Decimal) -> None:
    """
    low <= open, close <= high.
    """
    if low > high:
        msg = f"'low' must not be above 'high' {high} (got {low})"
        raise InvalidIdeaError(msg)
    if not low <= close <= high:
        msg = f"'close' must be within low {low} and high {high} (got {close})"
        raise InvalidIdeaError(msg)
    if open_ is not None and not low <= open_ <= high:
        msg = f"'open' must be within low {low} and high {high} (got {open_})"
        raise InvalidIdeaError(msg)


# -- the component -----------------------------------------------------------------------------


class Ideas:
    """
    The tracker's trade ideas: ``tracker.ideas``. Thread-safe: every method works under the
    tracker's lock (reentrant, so a caller may hold ``tracker._lock`` around several calls
    to read one consistent state).
    """

    def __init__(self, tracker: Tracker) -> None:
        self._tracker = tracker
        self._recs: dict[str, _Rec] = {}
        self._ordered: list[_Rec] = []  # by created_at, ties in arrival order
        self._by_day: dict[int, list[_Rec]] = {}
        # Pending and open ideas by symbol, by id (in recording order; O(1) to remove).
        self._live: dict[str, dict[str, _Rec]] = {}
        self._heap: list[tuple[datetime, int, _Rec]] = []  # live ideas by expires_at
        self._heap_n = 0
        self._series: dict[Key, _Series] = {}
        self._combos: set[Key] = set()
        #: The single-dimension keys of each slot of Key, for breakdowns.
        self._values: list[builtins.list[Key]] = [[], [], [], [], []]
        self._keys_cache: dict[tuple[object, ...], tuple[_Series, ...]] = {}
        self._unindexed: builtins.list[_Rec] = []  # recorded, not yet in their aggregates
        self._next_id = 1
        self._seen: datetime | None = None  # the newest time the ideas have seen
        self._observing = False
        tracker._components["ideas"] = self

    # -- recording -----------------------------------------------------------------------------

    def apply_record(
        self,
        symbol: object,
        side: object,
        entry: object,
        stop: object,
        target: object,
        confidence: object,
        target2: object = None,
        entry_type: object = "market",
        edges: object = (),
        horizon: object = None,
        time: object = None,
        expires_after: object = DEFAULT_EXPIRY,
        expires_at: object = None,
        idea_id: object = None,
        rationale: object = None,
        context: object = None,
    ) -> Idea:
        """
        ``Tracker.record_idea``; ``expires_at`` (instead of ``expires_after``) is how the
        journal replays it. Thread-safe. Every parameter may be given by position:
        ``record_idea`` does so, since sixteen keyword arguments cost more to pass on the hot
        path.
        """
        sym = to_name("symbol", symbol, error=InvalidIdeaError)
        side_ = to_side(side, error=InvalidIdeaError)
        if entry_type not in ENTRY_TYPES:
            msg = f"'entry_type' must be one of {ENTRY_TYPES} (got {entry_type!r})"
            raise InvalidIdeaError(msg)
        kind = ENTRY_TYPES[ENTRY_TYPES.index(entry_type)]
        entry_ = to_decimal("entry", entry, error=InvalidIdeaError)
        stop_ = to_decimal("stop", stop, error=InvalidIdeaError)
        target_ = to_decimal("target", target, error=InvalidIdeaError)
        check_levels(side_, entry_, stop_, target_)
        if target2 is None:
            target2_ = None
        else:
            target2_ = to_decimal("target2", target2, error=InvalidIdeaError)
            if target2_ <= target_ if side_ == "long" else target2_ >= target_:
                where = "above" if side_ == "long" else "below"
                msg = (
                    f"'target2' must be {where} the target {target_} for a {side_} (got {target2_})"
                )
                raise InvalidIdeaError(msg)
        conf = to_confidence(confidence)
        edge_names = to_edges(edges)
        hz = None if horizon is None else to_horizon(horizon)
        given_time = time is not None
        created = (
            datetime.now(UTC) if time is None else to_time("time", time, error=InvalidIdeaError)
        )
        if expires_at is not None:
            expires = to_time("expires_at", expires_at, error=InvalidIdeaError)
            lifetime = expires - created
        else:
            if not isinstance(expires_after, timedelta):
                msg = f"'expires_after' must be a timedelta (got {expires_after!r})"
                raise InvalidIdeaError(msg)
            lifetime = expires_after
            try:
                expires = created + lifetime
            except OverflowError:
                expires = LATEST  # out of range: refused just below, naming expires_after
        if lifetime > _NO_TIME and not EARLIEST <= expires < LATEST:
            msg = (
                f"'expires_after' must end before {LATEST.isoformat()} "
                f"(got {lifetime!r} from {created.isoformat()})"
            )
            raise InvalidIdeaError(msg)
        if lifetime <= _NO_TIME:
            msg = f"'expires_after' must be > 0 (got {lifetime!r})"
            raise InvalidIdeaError(msg)
        iid = None if idea_id is None else to_name("idea_id", idea_id, error=InvalidIdeaError)
        why = None if rationale is None else _optional_text("rationale", rationale)
        ctx = None if context is None else _to_context(context)
        content = (
            sym,
            side_,
            kind,
            entry_,
            stop_,
            target_,
            target2_,
            conf,
            edge_names,
            hz,
            why,
            ctx,
            lifetime,
        )
        tracker = self._tracker
        pending: list[tuple[Signal, dict[str, Any]]] = []
        # No R context here: _Rec computes its distances in it explicitly, and only an expiry
        # (which adds R to the aggregates) needs it around the code it runs.
        with tracker._lock:
            recs = self._recs
            generated = iid is None
            if iid is None:
                n = self._next_id
                iid = f"idea-{n}"
                while iid in recs:
                    n += 1
                    iid = f"idea-{n}"
            else:
                earlier = recs.get(iid)
                if earlier is not None:
                    if earlier.content == content and (
                        not given_time or earlier.created_at == created
                    ):
                        return earlier.view()
                    msg = f"'idea_id' {iid!r} is already used by an idea with other content"
                    raise DuplicateTradeError(msg)
            inputs = (
                iid, sym, side_, kind, entry_, stop_, target_, target2_, conf, edge_names, hz,
                why, ctx, created, expires,
            )  # fmt: skip
            if tracker._sinks:
                payload: dict[str, Any] = dict(zip(_INPUTS, inputs, strict=True))
                payload["context"] = None if ctx is None else json.loads(ctx)
                payload["time"] = payload.pop("created_at")
                tracker._write_ahead("ideas.apply_record", payload)
            if not self._observing:
                self._start_observing()
            clock = tracker._clock
            when = created if clock is None or created > clock else clock
            seen = self._seen
            if seen is None or when > seen:
                self._seen = seen = when
                heap = self._heap
                if heap and heap[0][0] <= seen:
                    with localcontext(_R_CONTEXT):
                        self._advance(None, pending)
            rec = _Rec(*inputs, content)
            if generated:
                self._next_id = n + 1
            else:
                self._claim_id(iid)
            self._insert(rec)
            if signals.idea_recorded.receivers:
                self._emit(pending, signals.idea_recorded, rec)
            if kind == "market" and signals.idea_triggered.receivers:
                # Opened by _insert; the signal follows idea-recorded.
                self._emit(pending, signals.idea_triggered, rec)
            if expires <= seen:
                with localcontext(_R_CONTEXT):
                    self._expire(rec, pending)
            view = rec.view()
        if pending:
            tracker._send(pending)
        return view

    def _claim_id(self, iid: str) -> None:
        n = generated_number(iid, "idea-")
        if n is not None and n >= self._next_id:
            self._next_id = n + 1

    def _start_observing(self) -> None:
        if not self._observing:
            self._observing = True
            # First in line: a snapshot taken by a later observer of the same event must
            # already see what this event did to the ideas.
            self._tracker._observers.insert(0, self._observe)

    def _insert(self, rec: _Rec, *, live: bool = True) -> None:
        """
        Place a recorded idea: by id, creation order and day, and (``live``) among the live
        ideas and in the expiry heap, queued for its aggregates (see ``_index``). A restored
        idea (not ``live``) joins its aggregates at once, and its caller places it among the
        live ones.
        """
        cal = self._tracker._calendar
        rec.day = day = cal.session_of(rec.created_at)
        self._recs[rec.idea_id] = rec
        ordered = self._ordered
        if not ordered or rec.created_at >= ordered[-1].created_at:
            ordered.append(rec)
        else:
            i = bisect.bisect_right(ordered, rec.created_at, key=_created)
            ordered.insert(i, rec)
        by_day = self._by_day.get(day)
        if by_day is None:
            self._by_day[day] = [rec]
        else:
            by_day.append(rec)
        if not live:
            self._join(rec)
            return
        if rec.entry_type == "market":
            rec.status = _OPEN
            rec.triggered_at = rec.created_at
        by_symbol = self._live.get(rec.symbol)
        if by_symbol is None:
            by_symbol = self._live[rec.symbol] = {}
        by_symbol[rec.idea_id] = rec
        self._heap_n += 1
        heapq.heappush(self._heap, (rec.expires_at, self._heap_n, rec))
        queue = self._unindexed
        queue.append(rec)
        if len(queue) >= _INDEX_BATCH:
            self._index()

    def _index(self) -> None:
        """
        Fold the queued ideas into the aggregates of their filter keys (under the lock).

        Recording only queues an idea: adding it to its ~7 keys' day and all-time aggregates
        was most of the cost of ``record_idea``. A queued idea has no aggregates yet, so its
        status changes touch none (``rec.aggs`` is empty); folding then adds its contribution
        as it is by then, which is what the eager updates would have summed to. Every read
        of the aggregates folds first, and the queue never holds more than
        ``_INDEX_BATCH`` ideas.
        """
        queue = self._unindexed
        if not queue:
            return
        self._unindexed = []
        # Sums of R and P&L as exact as in any other update: the R context is the widest.
        with localcontext(_R_CONTEXT):
            for rec in queue:
                self._join(rec)

    def _join(self, rec: _Rec) -> None:
        """
        Give ``rec`` its aggregates, two per filter key (its creation day's and all time's),
        and add its contribution to each.
        """
        day = rec.day
        aggs: list[_Agg] = []
        for series in self._series_of(rec):
            agg = series.days.get(day)
            if agg is None:
                agg = series.day(day)
            aggs += (agg, series.total)
        rec.aggs = aggs
        status = rec.status
        if status <= _OPEN and not rec.trade_ids:
            # Still live and not taken, the common case: a count or two per aggregate.
            for agg in aggs:
                agg.n += 1
                if status:
                    agg.counts[status] += 1
        else:
            for agg in aggs:
                _fold(agg, rec)

    def _series_of(self, rec: _Rec) -> tuple[_Series, ...]:
        cache_key = (rec.symbol, rec.side, rec.horizon, rec.confidence, rec.edges)
        found = self._keys_cache.get(cache_key)
        if found is None:
            keys: list[Key] = [
                _NO_KEY,
                (rec.symbol, None, None, None, None),
                (None, rec.side, None, None, None),
                (None, None, None, rec.confidence, None),
            ]
            if rec.horizon is not None:
                keys.append((None, None, rec.horizon, None, None))
            keys += [(None, None, None, None, e) for e in rec.edges]
            keys += [k for k in self._combos if _matches(k, rec)]
            found = tuple(self._series_for_key(k) for k in keys)
            if len(self._keys_cache) >= 8192:
                self._keys_cache.clear()
            self._keys_cache[cache_key] = found
        return found

    def _series_for_key(self, key: Key) -> _Series:
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = _Series(key)
            dims = [i for i, v in enumerate(key) if v is not None]
            if len(dims) == 1:
                self._values[dims[0]].append(key)
        return series

    # -- the life of an idea (under the lock) --------------------------------------------------

    def _emit(self, pending: list[Any], signal: Signal, rec: _Rec) -> None:
        # A replay re-applies what was delivered before the restart: nothing to send again.
        if signal.receivers and not self._tracker._replaying:
            pending.append((signal, {"idea": rec.view()}))

    def _change(self, rec: _Rec, before: tuple[Any, ...]) -> None:
        after = rec.contribution()
        for agg in rec.aggs:
            agg.add(before, -1)
            agg.add(after, 1)
        rec.idea = None

    def _trigger(self, rec: _Rec, when: datetime, pending: list[Any]) -> None:
        rec.status = _OPEN
        rec.triggered_at = when
        for agg in rec.aggs:
            agg.counts[_OPEN] += 1
        rec.idea = None
        self._emit(pending, signals.idea_triggered, rec)

    def _close(
        self, rec: _Rec, status: int, r: Decimal | None, when: datetime, pending: list[Any]
    ) -> None:
        was_open = rec.status == _OPEN
        rec.status = status
        rec.r = r
        rec.closed_at = when
        _status, _r, mfe, mae = rec.contribution()
        for agg in rec.aggs:
            agg.resolve(was_open, status, r, mfe, mae)
        rec.idea = None
        live = self._live[rec.symbol]
        del live[rec.idea_id]
        if not live:
            del self._live[rec.symbol]
        self._emit(pending, signals.idea_resolved, rec)

    def _expire(self, rec: _Rec, pending: list[Any]) -> None:
        r = None
        if rec.status == _OPEN and rec.last is not None:
            r = r_multiple(rec.last, rec.risk)
        self._close(rec, _EXPIRED, r, rec.expires_at, pending)

    def _advance(self, when: datetime | None, pending: list[Any]) -> list[_Rec]:
        """
        Move the ideas' clock to ``when`` (if later) and expire what is due. Returns the
        ideas expired, in expiry order.
        """
        if when is not None and (self._seen is None or when > self._seen):
            self._seen = when
        heap, seen = self._heap, self._seen
        expired = []
        while heap and seen is not None and heap[0][0] <= seen:
            _expires, _n, rec = heapq.heappop(heap)
            if rec.status <= _OPEN:  # closed ideas leave the heap lazily
                self._expire(rec, pending)
                expired.append(rec)
        return expired

    def _observe(
        self, kind: str, event: dict[str, Any] | None, result: object, pending: list[Any]
    ) -> None:
        # Under the tracker's 50-digit money context: R values have 12 places, so their sums
        # stay exact, and prices less the entry are exact.
        tracker = self._tracker
        clock = tracker._clock
        if clock is not None and (self._seen is None or clock > self._seen):
            self._seen = clock
            heap = self._heap
            if heap and heap[0][0] <= clock:
                self._advance(None, pending)
        # Marks always carry their payload to observers (only record_trade's may be None).
        if kind == "mark_price" and event is not None:
            live = self._live.get(event["symbol"])
            if live:
                px = event["price"]
                self._prices(live, event["time"], None, px, px, px, True, pending)
        elif kind == "mark_bar" and event is not None:
            live = self._live.get(event["symbol"])
            if live:
                self._prices(
                    live,
                    event["time"],
                    event["open"],
                    event["high"],
                    event["low"],
                    event["close"],
                    False,
                    pending,
                )
        elif isinstance(result, (Trade, OpenTrade)) and result.idea_id is not None:
            self._link(result)

    def _prices(
        self,
        live: dict[str, _Rec],
        when: datetime,
        open_: Decimal | None,
        high: Decimal,
        low: Decimal,
        close: Decimal,
        mark: bool,
        pending: list[Any],
    ) -> None:
        for rec in list(live.values()):
            if when < rec.seen:
                continue  # older than what the idea has already seen
            rec.seen = when
            entry = rec.entry
            if mark and rec.status == _OPEN:
                # The common case, kept lean: a mark that moves an open idea without closing it.
                x = close - entry if rec.sign > 0 else entry - close
                if rec.sx < x < rec.tx:
                    if rec.hi is None or x > rec.hi:
                        rec.hi = x
                    if rec.lo is None or x < rec.lo:
                        rec.lo = x
                    rec.last = x
                    rec.idea = None
                    continue
            if rec.sign > 0:
                xh, xl, xc = high - entry, low - entry, close - entry
                xo = None if open_ is None else open_ - entry
            else:
                xh, xl, xc = entry - low, entry - high, entry - close
                xo = None if open_ is None else entry - open_
            if rec.status == _PENDING:
                self._pending_step(rec, when, xo, xh, xl, pending)
            else:
                self._open_step(rec, when, xo, xh, xl, xc, pending)

    def _pending_step(
        self,
        rec: _Rec,
        when: datetime,
        xo: Decimal | None,
        xh: Decimal,
        xl: Decimal,
        pending: list[Any],
    ) -> None:
        if rec.entry_type == "limit":
            if xl > _ZERO:
                return
            at_open = xo is not None and xo <= _ZERO
        else:
            if xh < _ZERO:
                return
            at_open = xo is not None and xo >= _ZERO
        self._trigger(rec, when, pending)
        stop = rec.sx
        if at_open and xo is not None and xo <= stop:
            # The bar opened beyond the entry and the stop: both fill at the open.
            self._excursion(rec, xo, xo)
            self._close(rec, _LOSS, r_multiple(xo, rec.risk), when, pending)
        elif xl <= stop:
            # Reached the entry and the stop: read as a loss at the stop.
            self._excursion(rec, max(xh, stop), stop)
            self._close(rec, _LOSS, r_multiple(stop, rec.risk), when, pending)
        else:
            # The target counts from the next price; the expiry R from the next price too.
            self._excursion(rec, xh, xl)

    def _open_step(
        self,
        rec: _Rec,
        when: datetime,
        xo: Decimal | None,
        xh: Decimal,
        xl: Decimal,
        xc: Decimal,
        pending: list[Any],
    ) -> None:
        stop, tx = rec.sx, rec.tx
        if xo is not None and (xo <= stop or xo >= tx):
            # A gap: the bar opened beyond a level and fills there, at its open.
            self._excursion(rec, xo, xo)
            status = _LOSS if xo <= stop else _WIN
            self._close(rec, status, r_multiple(xo, rec.risk), when, pending)
        elif xl <= stop:
            # Reached the stop (and perhaps the target too: order unknown, read as a loss).
            self._excursion(rec, max(xh, stop), stop)
            self._close(rec, _LOSS, r_multiple(stop, rec.risk), when, pending)
        elif xh >= tx:
            self._excursion(rec, tx, min(xl, tx))
            self._close(rec, _WIN, r_multiple(tx, rec.risk), when, pending)
        else:
            self._excursion(rec, xh, xl)
            rec.last = xc

    @staticmethod
    def _excursion(rec: _Rec, hi: Decimal, lo: Decimal) -> None:
        if rec.hi is None or hi > rec.hi:
            rec.hi = hi
        if rec.lo is None or lo < rec.lo:
            rec.lo = lo
        rec.idea = None

    def _link(self, trade: Trade | OpenTrade) -> None:
        rec = self._recs[trade.idea_id]  # type: ignore[index]
        first = not rec.trade_ids
        new = trade.trade_id not in rec.trade_ids
        pnl = trade.net_pnl if isinstance(trade, Trade) else _ZERO
        if not new and not pnl:
            return
        if new:
            rec.trade_ids.append(trade.trade_id)
        rec.pnl += pnl
        for agg in rec.aggs:
            if first:
                agg.taken += 1
            agg.pnl += pnl
        rec.idea = None

    def require(self, idea_id: str) -> None:
        """
        Raise ``UnknownIdeaError`` unless an idea has ``idea_id`` (call under the lock).
        """
        if idea_id not in self._recs:
            msg = f"'idea_id' names no idea (got {idea_id!r})"
            raise UnknownIdeaError(msg)

    # -- notes, overrides, expiry --------------------------------------------------------------

    def annotate(self, idea_id: str, note: str | None = None, flagged: bool | None = None) -> Idea:
        """
        Set an idea's note and/or flag (None leaves each as it is). Journaled. Thread-safe.

        Raises:
            UnknownIdeaError: When no idea has ``idea_id``.
            InvalidIdeaError: For a note that is not a string or a flag that is not a bool.
        """
        iid = to_name("idea_id", idea_id, error=InvalidIdeaError)
        text = _optional_text("note", note)
        if flagged is not None and not isinstance(flagged, bool):
            msg = f"'flagged' must be a bool or None (got {flagged!r})"
            raise InvalidIdeaError(msg)
        tracker = self._tracker
        with tracker._lock:
            self._get(iid)
            if tracker._sinks:
                tracker._write_ahead(
                    "ideas.apply_annotate", {"idea_id": iid, "note": text, "flagged": flagged}
                )
            return self.apply_annotate(iid, text, flagged)

    def apply_annotate(self, idea_id: str, note: str | None, flagged: bool | None) -> Idea:
        """
        Record an annotation (used directly by journal replay).
        """
        with self._tracker._lock:
            rec = self._get(idea_id)
            if note is not None:
                rec.note = note
            if flagged is not None:
                rec.flagged = flagged
            rec.idea = None
            return rec.view()

    def override(
        self, idea_id: str, *, status: str, r_achieved: object = None, reason: str
    ) -> Idea:
        """
        Replace an idea's outcome by hand (a trade taken differently from the idea). The idea
        closes if it was live; analysis and ``list(status=)`` use the new status and R; the
        ``override`` field keeps the original ones, the reason and the time. Journaled.
        Thread-safe.

        Args:
            status: "win", "loss" or "expired".
            r_achieved: The R to count (a number), or None: the idea then has no R.
            reason: Why, in words.

        Raises:
            UnknownIdeaError: When no idea has ``idea_id``.
            InvalidIdeaError: For an unknown status, a non-numeric R or an empty reason.
        """
        iid = to_name("idea_id", idea_id, error=InvalidIdeaError)
        if status not in OUTCOMES:
            msg = f"'status' must be one of {OUTCOMES} (got {status!r})"
            raise InvalidIdeaError(msg)
        r = to_optional_decimal("r_achieved", r_achieved, minimum="any", error=InvalidIdeaError)
        why = to_name("reason", reason, error=InvalidIdeaError)
        tracker = self._tracker
        pending: list[tuple[Signal, dict[str, Any]]] = []
        with tracker._lock:
            self._get(iid)
            at = tracker._clock or self._seen or datetime.now(UTC)
            if self._seen is not None and self._seen > at:
                at = self._seen
            payload = {"idea_id": iid, "status": status, "r_achieved": r, "reason": why, "at": at}
            if tracker._sinks:
                tracker._write_ahead("ideas.apply_override", payload)
            idea = self._apply_override(iid, status, r, why, at, pending)
        tracker._send(pending)
        return idea

    def apply_override(
        self, idea_id: str, status: str, r_achieved: object, reason: str, at: object
    ) -> Idea:
        """
        Record an override (used directly by journal replay).
        """
        r = to_optional_decimal("r_achieved", r_achieved, minimum="any", error=InvalidIdeaError)
        when = to_time("at", at, error=InvalidIdeaError)
        with self._tracker._lock:
            return self._apply_override(idea_id, status, r, reason, when, [])

    def _apply_override(
        self,
        iid: str,
        status: str,
        r: Decimal | None,
        reason: str,
        at: datetime,
        pending: list[Any],
    ) -> Idea:
        rec = self._get(iid)
        with localcontext(_R_CONTEXT):
            if rec.override is None:
                rec.override = {"status": STATUSES[rec.status], "r_achieved": rec.r}
            rec.override = {**rec.override, "reason": reason, "at": at}
            value = None if r is None else to_r(r)
            code = _STATUS_CODE[status]
            if rec.status <= _OPEN:
                self._close(rec, code, value, at, pending)
            else:
                before = rec.contribution()
                rec.status = code
                rec.r = value
                self._change(rec, before)
            rec.idea = None
            return rec.view()

    def expire(self, at: date | datetime | str | None = None) -> list[Idea]:
        """
        Expire every idea still pending or open whose ``expires_at`` is at or before ``at``
        (default: now). Later events expire ideas by themselves; this is for a bot that has
        gone quiet. Journaled. Thread-safe.

        Returns:
            The ideas this call expired, in expiry order.

        Raises:
            InvalidIdeaError: For a bad or naive time.
        """
        when = datetime.now(UTC) if at is None else to_time("at", at, error=InvalidIdeaError)
        tracker = self._tracker
        pending: list[tuple[Signal, dict[str, Any]]] = []
        with tracker._lock:
            if self._seen is not None and when <= self._seen:
                return []
            if tracker._sinks:
                tracker._write_ahead("ideas.apply_expire", {"at": when})
            expired = self._apply_expire(when, pending)
        tracker._send(pending)
        return expired

    def apply_expire(self, at: object) -> list[Idea]:
        """
        Record an expiry call (used directly by journal replay).
        """
        when = to_time("at", at, error=InvalidIdeaError)
        with self._tracker._lock:
            return self._apply_expire(when, [])

    def _apply_expire(self, when: datetime, pending: list[Any]) -> list[Idea]:
        with localcontext(_R_CONTEXT):
            return [rec.view() for rec in self._advance(when, pending)]

    # -- queries -------------------------------------------------------------------------------

    def _get(self, iid: str) -> _Rec:
        rec = self._recs.get(iid)
        if rec is None:
            msg = f"'idea_id' names no idea (got {iid!r})"
            raise UnknownIdeaError(msg)
        return rec

    def get(self, idea_id: str) -> Idea:
        """
        The idea with ``idea_id`` as it is now. Thread-safe.

        Raises:
            UnknownIdeaError: When no idea has that id.
        """
        iid = to_name("idea_id", idea_id, error=InvalidInputError)
        with self._tracker._lock, localcontext(_R_CONTEXT):
            return self._get(iid).view()

    def __len__(self) -> int:
        return len(self._recs)

    def list(
        self,
        *,
        status: str | None = None,
        period: str = "all",
        at: date | datetime | str | None = None,
        start: date | datetime | str | None = None,
        end: date | datetime | str | None = None,
        symbol: str | None = None,
        side: str | None = None,
        horizon: str | None = None,
        confidence: int | None = None,
        edge: str | None = None,
    ) -> builtins.list[Idea]:
        """
        The ideas created in a window (as in ``summary``), in creation order, optionally
        filtered. ``status`` is the current one (an override's, if overridden). Thread-safe;
        costs O(ideas in the window).

        Raises:
            InvalidInputError: For an unknown status, period, horizon, a bad bound or filter.
        """
        if status is not None and status not in STATUSES:
            msg = f"'status' must be one of {STATUSES} (got {status!r})"
            raise InvalidInputError(msg)
        key = self.key(symbol=symbol, side=side, horizon=horizon, confidence=confidence, edge=edge)
        window = self._tracker._window_args(period, at, start, end)
        code = None if status is None else _STATUS_CODE[status]
        with self._tracker._lock, localcontext(_R_CONTEXT):
            return [
                rec.view()
                for rec in self._window_recs(window)
                if (code is None or rec.status == code) and (key == _NO_KEY or _matches(key, rec))
            ]

    def summary(
        self,
        period: str = "all",
        *,
        at: date | datetime | str | None = None,
        start: date | datetime | str | None = None,
        end: date | datetime | str | None = None,
        symbol: str | None = None,
        side: str | None = None,
        horizon: str | None = None,
        confidence: int | None = None,
        edge: str | None = None,
    ) -> IdeaSummary:
        """
        How the ideas created in one window fared. ``period`` "day", "week" or "month" picks
        the period containing ``at`` (default: now); "all" covers everything, or the range
        ``start``/``end`` (dates: inclusive session days; datetimes: the half-open range).
        Filters combine (AND).

        Thread-safe. Merges per-day aggregates (all time is one aggregate per key): the cost
        does not grow with the number of ideas (a filter combining several dimensions pays
        one pass on first use; the first read after new ideas also folds the at most 255
        still queued for their aggregates).

        Raises:
            InvalidInputError: For an unknown period, a bad bound or filter.
        """
        key = self.key(symbol=symbol, side=side, horizon=horizon, confidence=confidence, edge=edge)
        window = self._tracker._window_args(period, at, start, end)
        with self._tracker._lock, localcontext(_R_CONTEXT):
            return self._summary(key, window)

    def breakdown(
        self,
        by: str,
        *,
        period: str = "all",
        at: date | datetime | str | None = None,
        start: date | datetime | str | None = None,
        end: date | datetime | str | None = None,
    ) -> dict[Any, IdeaSummary]:
        """
        One summary per value of ``by``: "edge" (an idea counts once under each of its edges),
        "confidence" (int keys), "horizon" ("day", "swing"; unclassified ideas left out),
        "symbol" or "side", for the values with ideas in the window, sorted by value.
        Thread-safe; one summary's cost per value.

        Raises:
            InvalidInputError: For an unknown dimension or period.
        """
        if by not in BREAKDOWNS:
            msg = f"'by' must be one of {BREAKDOWNS} (got {by!r})"
            raise InvalidInputError(msg)
        window = self._tracker._window_args(period, at, start, end)
        with self._tracker._lock, localcontext(_R_CONTEXT):
            return self._breakdown(by, window)

    def weekly_report(
        self,
        at: date | datetime | str | None = None,
        *,
        thresholds: ReviewThresholds | Mapping[str, Any] | None = None,
    ) -> WeeklyReport:
        """
        The review of the ISO week whose session days hold ``at`` (default: now): the week's
        ideas summarised and ranked, with the week's trade summary and recommendations
        (docs/ideas.md, "Weekly review"). ``thresholds`` default to the tracker's targets'
        ``review`` (a mapping of thresholds works too). Thread-safe: one consistent view,
        taken under the tracker's lock.

        Raises:
            InvalidInputError: For a bad ``at``.
            ConfigError: For bad thresholds (an unknown key is named).
        """
        return build_weekly_report(self._tracker, at, thresholds)

    # -- internal hooks for reports (call under the tracker's lock) ----------------------------

    def key(
        self,
        *,
        symbol: object = None,
        side: object = None,
        horizon: object = None,
        confidence: object = None,
        edge: object = None,
    ) -> Key:
        """
        The normalised filter key of a query (for the review and report modules).
        """
        return (
            None if symbol is None else to_name("symbol", symbol, error=InvalidInputError),
            None if side is None else to_side(side, error=InvalidInputError),
            None if horizon is None else to_horizon(horizon, error=InvalidInputError),
            None if confidence is None else to_confidence(confidence, error=InvalidInputError),
            None if edge is None else to_name("edge", edge, error=InvalidInputError),
        )

    def _breakdown(self, by: str, window: tuple[Any, ...]) -> dict[Any, IdeaSummary]:
        self._index()  # the values come from the keys the queued ideas may add
        slot = {"symbol": 0, "side": 1, "horizon": 2, "confidence": 3, "edge": 4}[by]
        out: dict[Any, IdeaSummary] = {}
        for k in sorted(self._values[slot], key=lambda k: k[slot]):  # type: ignore[arg-type,return-value]
            summary = self._summary(k, window)
            if summary.ideas:
                out[k[slot]] = summary
        return out

    def _window_recs(self, window: tuple[Any, ...]) -> builtins.list[_Rec]:
        """
        The ideas created in a window from ``Tracker._window_args``, in creation order.
        """
        _label, first, last, t_start, t_end = window
        ordered = self._ordered
        lo, hi = 0, len(ordered)
        if first is not None:
            lo = bisect.bisect_left(ordered, first, key=_day)
        if last is not None:
            hi = bisect.bisect_right(ordered, last, key=_day)
        return [
            rec
            for rec in ordered[lo:hi]
            if (t_start is None or rec.created_at >= t_start)
            and (t_end is None or rec.created_at < t_end)
        ]

    def _summary(self, key: Key, window: tuple[Any, ...]) -> IdeaSummary:
        label, first, last, t_start, t_end = window
        agg = self._aggregate(key, first, last, t_start, t_end)
        cal = self._tracker._calendar
        start = t_start if t_start is not None else None if first is None else cal.day_start(first)
        end = t_end if t_end is not None else None if last is None else cal.day_end(last)
        return make_summary(agg, period=label, start=start, end=end, key=key)

    def _aggregate(
        self,
        key: Key,
        first: int | None,
        last: int | None,
        t_start: datetime | None,
        t_end: datetime | None,
    ) -> _Agg:
        self._index()
        out = _Agg()
        series = self._series.get(key)
        if series is None:
            if sum(v is not None for v in key) <= 1:
                return out
            series = self._register_combo(key)
        if first is None and last is None:
            total = series.total
            if total.stale:
                self._refresh_total(series)
            out.merge(total)
            return out
        lo = -1 if first is None else first
        hi = 1 << 40 if last is None else last
        cut = {d for d, t in ((first, t_start), (last, t_end)) if t is not None and d is not None}
        days, day_list = series.days, series.day_list
        i = bisect.bisect_left(day_list, lo)
        while i < len(day_list) and day_list[i] <= hi:
            d = day_list[i]
            i += 1
            if d in cut:
                out.merge(self._day_agg(key, d, t_start, t_end))
                continue
            agg = days[d]
            if agg.stale:
                self._refresh_day(key, series, d)
            out.merge(agg)
        return out

    def _day_agg(
        self, key: Key, day: int, t_start: datetime | None, t_end: datetime | None
    ) -> _Agg:
        """
        The aggregate of ``key`` on ``day`` rebuilt from its ideas, cut at instants.
        """
        agg = _Agg()
        for rec in self._by_day.get(day, ()):
            if (
                _matches(key, rec)
                and (t_start is None or rec.created_at >= t_start)
                and (t_end is None or rec.created_at < t_end)
            ):
                _fold(agg, rec)
        return agg

    def _refresh_day(self, key: Key, series: _Series, day: int) -> None:
        fresh = self._day_agg(key, day, None, None)
        agg = series.days[day]
        agg.best, agg.worst, agg.stale = fresh.best, fresh.worst, False

    def _refresh_total(self, series: _Series) -> None:
        best = worst = None
        for d in series.day_list:
            day = series.days[d]
            if day.stale:
                self._refresh_day(series.key, series, d)
            if day.best is not None and (best is None or day.best > best):
                best = day.best
            if day.worst is not None and (worst is None or day.worst < worst):
                worst = day.worst
        total = series.total
        total.best, total.worst, total.stale = best, worst, False

    def _register_combo(self, key: Key) -> _Series:
        """
        Start keeping aggregates for a filter combining several dimensions: one pass over the
        ideas now, then every change folds into it like any other key.
        """
        # Queued ideas first: folding them later would count them in the new key twice.
        self._index()
        self._combos.add(key)
        self._keys_cache.clear()
        series = self._series_for_key(key)
        for rec in self._ordered:
            if _matches(key, rec):
                day = series.day(rec.day)
                rec.aggs = [*rec.aggs, day, series.total]
                _fold(day, rec)
                _fold(series.total, rec)
        return series

    # -- persistence ---------------------------------------------------------------------------

    def snapshot_state(self) -> dict[str, Any]:
        """
        The ideas as JSON-ready data (call under the tracker's lock).
        """
        rows = []
        for rec in self._ordered:
            row = []
            for name in _STATE_FIELDS:
                value = getattr(rec, name)
                if name == "override" and value is not None:
                    value = [value["status"], value["r_achieved"], value["reason"], value["at"]]
                elif name == "content":
                    value = [*value[:-1], value[-1] // timedelta(microseconds=1)]
                row.append(_tagged(value))
            rows.append(row)
        return {
            "ideas": rows,
            "next_id": self._next_id,
            "seen": self._seen,
            "combos": [list(k) for k in self._combos],
        }

    def restore_state(self, state: dict[str, Any]) -> None:
        """
        Load ``snapshot_state`` output into this (empty) component and rebuild the aggregates.
        """
        for row in state.get("ideas", ()):
            values = dict(zip(_STATE_FIELDS, [_untagged(v) for v in row], strict=True))
            for name in ("created_at", "expires_at"):
                values[name] = _as_time(values[name])
            values["edges"] = tuple(values["edges"])
            rec = _Rec(*(values[name] for name in _INPUTS))
            rec.status = values["status"]
            rec.triggered_at = _as_time(values["triggered_at"])
            rec.closed_at = _as_time(values["closed_at"])
            rec.seen = _as_time(values["seen"]) or rec.created_at
            for name in ("r", "hi", "lo", "last"):
                setattr(rec, name, values[name])
            rec.note, rec.flagged = values["note"], values["flagged"]
            if values["override"] is not None:
                status, r, reason, at = values["override"]
                rec.override = {
                    "status": status,
                    "r_achieved": r,
                    "reason": reason,
                    "at": _as_time(at),
                }
            rec.trade_ids = list(values["trade_ids"])
            rec.pnl = values["pnl"]
            content = list(values["content"])
            content[8] = tuple(content[8])
            content[12] = timedelta(microseconds=content[12])
            rec.content = tuple(content)
            self._restore_rec(rec)
        self._next_id = state.get("next_id", 1)
        self._seen = _as_time(state.get("seen"))
        for key in state.get("combos", ()):
            self._register_combo((key[0], key[1], key[2], key[3], key[4]))
        if self._recs:
            self._start_observing()

    def _restore_rec(self, rec: _Rec) -> None:
        self._insert(rec, live=False)
        if rec.status <= _OPEN:
            self._live.setdefault(rec.symbol, {})[rec.idea_id] = rec
            self._heap_n += 1
            heapq.heappush(self._heap, (rec.expires_at, self._heap_n, rec))


def _fold(agg: _Agg, rec: _Rec) -> None:
    agg.n += 1
    agg.add(rec.contribution(), 1)
    if rec.trade_ids:
        agg.taken += 1
    agg.pnl += rec.pnl


def _as_time(value: object) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _created(rec: _Rec) -> datetime:
    return rec.created_at


def _day(rec: _Rec) -> int:
    return rec.day


_SCOPE_NAMES: Final = ("symbol", "side", "horizon", "confidence", "edge")


def make_summary(
    agg: _Agg, *, period: str, start: datetime | None, end: datetime | None, key: Key
) -> IdeaSummary:
    """
    The public summary of an aggregate.
    """
    counts = agg.counts
    wins, losses = counts[_WIN], counts[_LOSS]
    decided = wins + losses
    interval = wilson_interval(wins, decided)
    div = _AVERAGE.divide
    return IdeaSummary(
        period=period,
        start=start,
        end=end,
        ideas=agg.n,
        pending=agg.n - counts[_OPEN] - wins - losses - counts[_EXPIRED],
        open=counts[_OPEN],
        wins=wins,
        losses=losses,
        expired=counts[_EXPIRED],
        decided=decided,
        win_rate=wins / decided if decided else None,
        win_rate_low=None if interval is None else interval[0],
        win_rate_high=None if interval is None else interval[1],
        avg_r=float(div(agg.r_sum, agg.r_n)) if agg.r_n else None,
        total_r=float(agg.r_sum) if agg.r_n else None,
        expired_r=float(div(agg.x_sum, agg.x_n)) if agg.x_n else None,
        best_r=None if agg.best is None else float(agg.best),
        worst_r=None if agg.worst is None else float(agg.worst),
        avg_mfe_r=float(div(agg.mfe_sum, agg.m_n)) if agg.m_n else None,
        avg_mae_r=float(div(agg.mae_sum, agg.m_n)) if agg.m_n else None,
        taken=agg.taken,
        taken_net_pnl=agg.pnl,
        note=None if agg.n else "No ideas in window",
        scope={name: v for name, v in zip(_SCOPE_NAMES, key, strict=True) if v is not None},
    )
