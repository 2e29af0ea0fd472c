"""
Aggregates that merge: the per-day buckets behind every summary, and the walk that merges them.

A ``Bucket`` summarises, for one dimension value (all trades, one strategy, one symbol, one side,
one tag) on one session day:

* the trades that closed that day (counts, sums, best/worst, R-multiples, holding time and the
  streak quintet: leading run, trailing run, all-one-run flag, longest win and loss runs), and
* the realizations booked that day (exit P&L and fees) as a path relative to the equity at the
  start of the day: its net change, highest and lowest points, deepest fall inside, and a
  "staircase" of the new highs that were followed by a dip, which answers the percentage
  drawdown for any equity level and any peak carried in from earlier days in O(log n).

Buckets fold events in time order in O(1). A window (a week, a month, a range) is answered by
``Walk``: it visits the window's buckets in order carrying equity, peak and merged trade
statistics; no query ever visits a trade. Realizations that share one timestamp are one point
of the path ("pending" until a later time arrives), so simultaneous closes move the equity
once, together.

Nothing here is thread-safe; the tracker calls it under its lock.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import operator
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from decimal import Context, Decimal
from typing import Any, Final, Protocol

__all__ = [
    "QUEUE_LIMIT",
    "Bucket",
    "ClosedTrade",
    "Event",
    "TradeStats",
    "Walk",
    "event_amount",
    "event_source",
    "event_time",
]

ZERO: Final = Decimal(0)
_NO_TIME: Final = timedelta(0)
#: A bucket folds its queue once it holds this many events, bounding memory and pauses.
QUEUE_LIMIT: Final = 256


class ClosedTrade(Protocol):
    """
    What the aggregates read from a closed trade (``perftrack.Trade`` provides it).
    """

    @property
    def entry_time(self) -> datetime: ...
    @property
    def exit_time(self) -> datetime: ...
    @property
    def net_pnl(self) -> Decimal: ...
    @property
    def fees(self) -> Decimal: ...
    @property
    def r_multiple(self) -> float | None: ...


#: One accepted event as buckets see it. Either a trade realized whole at its exit (the trade
#: itself: no extra object per trade), or a tuple (time, realized amount with fees, fee, the
#: trade it closes or None, its source: the trade or position whose strategy, symbol, side and
#: tags say which buckets it belongs to).
Event = ClosedTrade | tuple[datetime, Decimal, Decimal, ClosedTrade | None, Any]


def event_time(event: Event) -> datetime:
    """
    When ``event`` was realized.
    """
    return event[0] if isinstance(event, tuple) else event.exit_time


def event_amount(event: Event) -> Decimal:
    """
    What ``event`` realized, fees included.
    """
    return event[1] if isinstance(event, tuple) else event.net_pnl


def event_source(event: Event) -> Any:
    """
    The trade or position ``event`` belongs to.
    """
    return event[4] if isinstance(event, tuple) else event


_NO_SEGMENTS: Final[list[Decimal]] = []  # shared, never mutated: most days never dip twice
_NO_INDICES: Final[list[int]] = []


#: Inside this range a Decimal converts to a float with full relative precision and its
#: square root and quotients stay normal floats.
_FLOAT_SAFE: Final = (Decimal("1e-290"), Decimal("1e290"))


#: Rounds a Decimal to what a double holds (shared like the tracker's contexts: a flag
#: raised by two threads at once is harmless, and nothing reads the flags).
_TO_17_DIGITS: Final = Context(prec=17)


def over_root(num: Decimal, square: Decimal) -> float:
    """
    ``num / sqrt(square)`` as a float, for a dimensionless statistic (Sharpe, Sortino, SQN)
    of exact sums; ``square`` > 0.

    In floats when both are well inside the float range: a 50-digit Decimal square root cost
    about 2 µs, three of them a sixth of a summary, for a result rounded to a float anyway
    (the two differ by a few units in the last place). Otherwise in Decimals.
    """
    lo, hi = _FLOAT_SAFE
    if lo < square < hi and (not num or lo < abs(num) < hi):
        # Each operand rounded to 17 digits first: float() of a 50-digit Decimal formats
        # and parses all 50 digits, and the six conversions of a summary were a tenth of a
        # dashboard refresh. 17 digits hold a double; rounding twice may move the last bit.
        to_17 = _TO_17_DIGITS.plus
        return float(to_17(num)) / math.sqrt(float(to_17(square)))
    return float(num / square.sqrt())


class TradeStats:
    """
    Statistics of a sequence of closed trades, folded one at a time in close order or merged
    with the statistics of the sequence that follows.
    """

    __slots__ = (
        "best",
        "full",
        "hold",
        "last_exit",
        "lead",
        "loss_sum",
        "losses",
        "max_loss",
        "max_win",
        "n",
        "r_n",
        "r_sum",
        "sum_sq",
        "trail",
        "win_sum",
        "wins",
        "worst",
    )

    def __init__(self) -> None:
        self.n = 0
        self.wins = 0
        self.losses = 0
        self.win_sum = ZERO
        self.loss_sum = ZERO
        self.sum_sq = ZERO
        self.best: Decimal | None = None
        self.worst: Decimal | None = None
        self.r_sum = 0.0
        self.r_n = 0
        self.hold = _NO_TIME
        # Streaks: signed length of the leading and trailing runs (+ wins, - losses, 0 when the
        # sequence starts or ends with a breakeven), whether the whole sequence is one run.
        self.lead = 0
        self.trail = 0
        self.full = False
        self.max_win = 0
        self.max_loss = 0
        self.last_exit: datetime | None = None

    def fold_trade(
        self, net: Decimal, r: float | None, hold: timedelta, exit_time: datetime
    ) -> None:
        """
        Append one closed trade (the latest in close order).
        """
        self.n += 1
        if net > ZERO:
            self.wins += 1
            self.win_sum += net
            sign = 1
        elif net < ZERO:
            self.losses += 1
            self.loss_sum += net
            sign = -1
        else:
            sign = 0
        self.sum_sq += net * net
        if self.best is None or net > self.best:
            self.best = net
        if self.worst is None or net < self.worst:
            self.worst = net
        if r is not None:
            self.r_sum += r
            self.r_n += 1
        self.hold += hold
        self.last_exit = exit_time
        # Streaks.
        if self.n == 1:
            self.lead = self.trail = sign
            self.full = sign != 0
        else:
            trail = self.trail
            self.trail = trail + sign if sign and (trail > 0) == (sign > 0) and trail else sign
            if self.full and sign and (self.lead > 0) == (sign > 0):
                self.lead += sign
            else:
                self.full = False
        if sign > 0:
            self.max_win = max(self.max_win, self.trail)
        elif sign < 0 and -self.trail > self.max_loss:
            self.max_loss = -self.trail

    def merge_trades(self, other: TradeStats) -> None:
        """
        Append the statistics of the sequence that follows this one.
        """
        if other.n == 0:
            return
        if self.n == 0:
            self._copy_trades(other)
            return
        joined = 0
        if self.trail and other.lead and (self.trail > 0) == (other.lead > 0):
            joined = self.trail + other.lead
        self.max_win = max(self.max_win, other.max_win, joined)
        self.max_loss = max(self.max_loss, other.max_loss, -joined)
        same = bool(joined)
        lead = self.lead + other.lead if self.full and same else self.lead
        trail = self.trail + other.trail if other.full and same else other.trail
        self.full = self.full and other.full and same
        self.lead, self.trail = lead, trail
        self.n += other.n
        self.wins += other.wins
        self.losses += other.losses
        self.win_sum += other.win_sum
        self.loss_sum += other.loss_sum
        self.sum_sq += other.sum_sq
        if other.best is not None and (self.best is None or other.best > self.best):
            self.best = other.best
        if other.worst is not None and (self.worst is None or other.worst < self.worst):
            self.worst = other.worst
        self.r_sum += other.r_sum
        self.r_n += other.r_n
        self.hold += other.hold
        self.last_exit = other.last_exit

    def _copy_trades(self, other: TradeStats) -> None:
        for name in TradeStats.__slots__:
            setattr(self, name, getattr(other, name))


class Bucket(TradeStats):
    """
    One dimension value on one session day: its closed trades and its realization path.
    """

    __slots__ = (
        "bulk",
        "cache_e0",
        "cur_l",
        "day",
        "dd_c",
        "fees",
        "first_c",
        "has_pending",
        "last_time",
        "max_c",
        "min_c",
        "net_c",
        "pending",
        "queue",
        "realized",
        "seen",
        "seg_h",
        "seg_l",
        "seg_pmin",
        "source",
        "stack_i",
        "stack_r",
        "stale",
    )

    def __init__(
        self, source: Callable[[int], Iterable[Event]] | None = None, day: int = 0
    ) -> None:
        _fresh_bucket(self)  # TradeStats.__init__ and _reset_path, in one generated function
        #: ``source(day)`` gives every raw event of this bucket (any order), to rebuild it when
        #: an event arrived out of time order; ``stale`` says a rebuild is due at the next read.
        self.source = source
        self.day = day
        #: While bulk-loading (restore), queues grow without folding: the first read folds.
        self.bulk = False
        self.stale = False
        # Events accepted but not folded yet, in time order; ``seen`` is the latest time
        # accepted. Folding waits for the first read, the day's end or a full queue, so the
        # bot's thread pays one list append per dimension value.
        self.queue: list[Event] = []
        self.seen: datetime | None = None

    def add(self, event: Event) -> None:
        """
        Accept ``event`` (see ``Event``).

        An event earlier than one already accepted (threads of one bot race, brokers report
        late) marks the bucket stale: its next read rebuilds it once from ``source``, which
        already holds the event, however many late events arrived in between.
        """
        when = event[0] if isinstance(event, tuple) else event.exit_time  # (event_time)
        seen = self.seen
        if self.stale or (seen is not None and when < seen):
            self.stale = True
            return
        self.seen = when
        queue = self.queue
        queue.append(event)
        if len(queue) >= QUEUE_LIMIT and not self.bulk:
            self.flush()

    def flush(self) -> None:
        """
        Fold every queued event (or rebuild, when stale). Every reader calls this first.
        """
        if self.stale and self.source is not None:
            self.rebuild(self.source(self.day))
            return
        queue = self.queue
        if not queue:
            return
        if len(queue) >= _BATCH_MIN and tuple not in set(map(type, queue)):
            _fold_whole_trades(self, queue)
            queue.clear()
            return
        for event in queue:
            if isinstance(event, tuple):
                when, amount, fee, closed, _source = event
            else:
                closed = event
                when, amount, fee = event.exit_time, event.net_pnl, event.fees
            self.fold_realization(when, amount, fee)
            if closed is not None:
                self.fold_trade(closed.net_pnl, closed.r_multiple, when - closed.entry_time, when)
        queue.clear()

    def _reset_path(self) -> None:
        self.realized = ZERO
        self.fees = ZERO
        self.last_time: datetime | None = None
        self.pending = ZERO
        self.has_pending = False
        # The committed path, relative to the equity at the start of the day (0).
        self.net_c = ZERO
        self.max_c = ZERO  # running high, the start included
        self.min_c = ZERO
        self.dd_c = ZERO  # deepest fall from a running high, in money
        self.cur_l = ZERO  # lowest point since the running high was set
        self.first_c: Decimal | None = None
        # Finished segments that dipped: a new high and the lowest point before the next one.
        # Highs rise strictly; seg_pmin is the running minimum of the lows.
        self.seg_h: list[Decimal] = _NO_SEGMENTS
        self.seg_l: list[Decimal] = _NO_SEGMENTS
        self.seg_pmin: list[Decimal] = _NO_SEGMENTS
        # For one start-of-day equity: indices of segments whose drawdown ratio exceeds every
        # later segment's, and those ratios (strictly falling), to answer suffix maxima.
        self.cache_e0: Decimal | None = None
        self.stack_i: list[int] = _NO_INDICES
        self.stack_r: list[Decimal] = _NO_SEGMENTS

    # -- folding ---------------------------------------------------------------------------

    def fold_realization(self, when: datetime, amount: Decimal, fee: Decimal) -> bool:
        """
        Book ``amount`` (fees included, so a fee is a negative amount) at ``when``.

        Returns False, changing nothing, when ``when`` is earlier than the last booked time:
        the caller then rebuilds the bucket from its raw events.
        """
        last = self.last_time
        if last is not None and when < last:
            return False
        self.realized += amount
        self.fees += fee
        if last is not None and when == last:
            self.pending += amount
            return True
        if self.has_pending:
            self._commit(self.net_c + self.pending)
        self.last_time = when
        self.pending = amount
        self.has_pending = True
        return True

    def _commit(self, c: Decimal) -> None:
        self.net_c = c
        if self.first_c is None:
            self.first_c = c
        high = self.max_c
        if c > high:
            if self.cur_l < high:
                self._finish_segment(high, self.cur_l)
            self.max_c = c
            self.cur_l = c
        else:
            self.cur_l = min(self.cur_l, c)
            self.dd_c = max(self.dd_c, high - c)
        self.min_c = min(self.min_c, c)

    def _finish_segment(self, high: Decimal, low: Decimal) -> None:
        if self.seg_h is _NO_SEGMENTS:
            self.seg_h, self.seg_l, self.seg_pmin = [], [], []
        pmin = self.seg_pmin
        self.seg_h.append(high)
        self.seg_l.append(low)
        pmin.append(low if not pmin or low < pmin[-1] else pmin[-1])
        if self.cache_e0 is not None:
            self._push_ratio(len(self.seg_h) - 1, self.cache_e0)

    def _push_ratio(self, i: int, e0: Decimal) -> None:
        peak = e0 + self.seg_h[i]
        if peak <= ZERO:
            return  # undefined ratio; such a segment can only lie before any positive peak
        ratio = (self.seg_h[i] - self.seg_l[i]) / peak
        stack_r = self.stack_r
        while stack_r and stack_r[-1] <= ratio:
            stack_r.pop()
            self.stack_i.pop()
        stack_r.append(ratio)
        self.stack_i.append(i)

    def rebuild(self, events: Iterable[Event]) -> None:
        """
        Recompute everything from raw events in arrival order, after an event arrived out of
        time order. A stable sort by time keeps simultaneous trades in arrival order.
        """
        TradeStats.__init__(self)
        self._reset_path()
        self.stale = False
        self.queue = sorted(events, key=event_time)
        self.seen = event_time(self.queue[-1]) if self.queue else None
        self.flush()

    # -- state -----------------------------------------------------------------------------

    _STATE_FIELDS = (
        "n",
        "wins",
        "losses",
        "win_sum",
        "loss_sum",
        "sum_sq",
        "best",
        "worst",
        "r_sum",
        "r_n",
        "hold",
        "lead",
        "trail",
        "full",
        "max_win",
        "max_loss",
        "last_exit",
        "realized",
        "fees",
        "last_time",
        "pending",
        "has_pending",
        "net_c",
        "max_c",
        "min_c",
        "dd_c",
        "cur_l",
        "first_c",
        "seg_h",
        "seg_l",
        "seg_pmin",
        "seen",
    )

    def to_state(self) -> list[Any]:
        """
        The folded state as JSON-safe values (for days whose raw events were archived).
        """
        self.flush()
        out: list[Any] = []
        for name in self._STATE_FIELDS:
            out.append(_to_state(getattr(self, name)))
        return out

    @classmethod
    def from_state(cls, state: list[Any], day: int) -> Bucket:
        """
        A folded bucket from ``to_state`` output; it has no raw events to rebuild from.
        """
        bucket = cls(None, day)
        for name, raw in zip(cls._STATE_FIELDS, state, strict=True):
            setattr(bucket, name, _from_state(name, raw, getattr(bucket, name)))
        return bucket

    # -- reading ---------------------------------------------------------------------------

    def end_value(self) -> Decimal:
        """
        The path's final value relative to the start of the day (the day's realized P&L).
        """
        self.flush()
        return self.net_c + self.pending if self.has_pending else self.net_c

    def pct_drawdown(self, e0: Decimal, peak: Decimal) -> Decimal:
        """
        The deepest fall relative to its running peak over this day's points, given the
        equity ``e0`` at the start of the day and the ``peak`` carried in (``peak >= e0``,
        ``peak > 0``).
        """
        self.flush()
        best = ZERO
        rel_peak = peak - e0
        first = self.first_c
        if first is not None:
            seg_h = self.seg_h
            if seg_h:
                k = bisect.bisect_left(seg_h, rel_peak)
                if k:
                    ratio = (rel_peak - self.seg_pmin[k - 1]) / peak
                    best = max(best, ratio)
                if k < len(seg_h):
                    if self.cache_e0 != e0:
                        self._rebuild_stack(e0)
                    j = bisect.bisect_left(self.stack_i, k)
                    if j < len(self.stack_i):
                        best = max(best, self.stack_r[j])
            if first < rel_peak:
                best = max(best, (rel_peak - first) / peak)
            if self.max_c < rel_peak:
                best = max(best, (rel_peak - self.cur_l) / peak)
            elif self.cur_l < self.max_c:
                best = max(best, (self.max_c - self.cur_l) / (e0 + self.max_c))
        if self.has_pending:
            value = self.net_c + self.pending
            high = max(rel_peak, self.max_c)
            if value < high:
                best = max(best, (high - value) / (e0 + high))
        return best

    def _rebuild_stack(self, e0: Decimal) -> None:
        self.cache_e0 = e0
        self.stack_i = []
        self.stack_r = []
        for i in range(len(self.seg_h)):
            self._push_ratio(i, e0)

    def path_extremes(self) -> tuple[Decimal, Decimal, Decimal]:
        """
        (highest point, lowest point, deepest fall inside) of the day's path relative to its
        start, the pending point included.
        """
        self.flush()
        high, low, dd = self.max_c, self.min_c, self.dd_c
        if self.has_pending:
            value = self.net_c + self.pending
            high = max(high, value)
            low = min(low, value)
            dd = max(dd, self.max_c - value)
        return high, low, dd


#: Below this many queued events, folding one by one costs less than setting up the passes.
_BATCH_MIN: Final = 16
_NET: Final = operator.attrgetter("net_pnl")
_FEES: Final = operator.attrgetter("fees")
_EXIT: Final = operator.attrgetter("exit_time")
_ENTRY: Final = operator.attrgetter("entry_time")
_R: Final = operator.attrgetter("r_multiple")


def _fold_whole_trades(bucket: Bucket, trades: list[Any]) -> None:
    """
    Fold queued trades realized whole (each event is its trade), in time order, as
    ``fold_realization`` and ``fold_trade`` one by one would, to the same values: sums are
    taken in the same order (``sum`` and ``accumulate`` add left to right, floats through
    ``reduce``), maxima keep the first of equal values as the strict comparisons do, and the
    streaks and the path's segments are walked run by run and new high by new high instead of
    trade by trade. Most passes are C loops over a column; this is what an import or restore
    of a million trades spends its folding in.
    """
    nets = list(map(_NET, trades))
    times = list(map(_EXIT, trades))
    bucket.realized = sum(nets, bucket.realized)
    bucket.fees = sum(map(_FEES, trades), bucket.fees)
    _fold_path(bucket, nets, times)
    # Trade statistics.
    bucket.n += len(nets)
    wins = list(filter(ZERO.__lt__, nets))
    losses = list(filter(ZERO.__gt__, nets))
    bucket.wins += len(wins)
    bucket.losses += len(losses)
    bucket.win_sum = sum(wins, bucket.win_sum)
    bucket.loss_sum = sum(losses, bucket.loss_sum)
    bucket.sum_sq = sum(map(operator.mul, nets, nets), bucket.sum_sq)
    high, low = max(nets), min(nets)
    if bucket.best is None or high > bucket.best:
        bucket.best = high
    if bucket.worst is None or low < bucket.worst:
        bucket.worst = low
    rs = [r for r in map(_R, trades) if r is not None]
    bucket.r_sum = functools.reduce(operator.add, rs, bucket.r_sum)
    bucket.r_n += len(rs)
    bucket.hold = sum(map(operator.sub, times, map(_ENTRY, trades)), bucket.hold)
    bucket.last_exit = times[-1]
    _fold_streaks(bucket, nets)


def _fold_streaks(stats: TradeStats, nets: list[Decimal]) -> None:
    """
    The streak quintet after ``nets`` (appended to ``stats``, whose ``n`` already counts
    them), a run of equal signs at a time.
    """
    signs = list(map(operator.sub, map(ZERO.__lt__, nets), map(ZERO.__gt__, nets)))
    starts = [0, *itertools.compress(range(1, len(signs)), map(operator.ne, signs, signs[1:]))]
    ends = [*starts[1:], len(signs)]
    first = stats.n == len(nets)  # nothing folded before these
    lead, trail, full = stats.lead, stats.trail, stats.full
    max_win, max_loss = stats.max_win, stats.max_loss
    for start, end in zip(starts, ends, strict=True):
        sign = signs[start]
        run = sign * (end - start)
        if first:
            lead = trail = run
            full = sign != 0
            first = False
        elif sign == 0:
            trail = 0
            full = False
        else:
            trail = trail + run if trail and (trail > 0) == (sign > 0) else run
            if full and (lead > 0) == (sign > 0):
                lead += run
            else:
                full = False
        if sign > 0:
            max_win = max(max_win, trail)
        elif sign < 0 and -trail > max_loss:
            max_loss = -trail
    stats.lead, stats.trail, stats.full = lead, trail, full
    stats.max_win, stats.max_loss = max_win, max_loss


def _fold_path(bucket: Bucket, amounts: list[Decimal], times: list[datetime]) -> None:
    """
    Book realizations at strictly increasing times after the bucket's last one: each but the
    last commits the pending point before it. Anything else (equal times share a point) goes
    through ``fold_realization`` one by one.
    """
    last = bucket.last_time
    if (last is not None and times[0] <= last) or not all(map(operator.lt, times, times[1:])):
        realized, fees = bucket.realized, bucket.fees
        for when, amount in zip(times, amounts, strict=True):
            bucket.fold_realization(when, amount, ZERO)
        bucket.realized, bucket.fees = realized, fees  # the caller has added both
        return
    committed = ([bucket.pending] if bucket.has_pending else []) + amounts[:-1]
    bucket.last_time = times[-1]
    bucket.pending = amounts[-1]
    bucket.has_pending = True
    if not committed:
        return
    points = list(itertools.accumulate(committed, initial=bucket.net_c))[1:]
    if bucket.first_c is None:
        bucket.first_c = points[0]
    # highs[k]: the running high before point k (the day's start, 0, included).
    highs = list(itertools.accumulate(points, max, initial=bucket.max_c))
    dd = max(map(operator.sub, highs, points))
    bucket.dd_c = max(bucket.dd_c, dd)
    low = min(points)
    bucket.min_c = min(bucket.min_c, low)
    # Segments: each new high closes the dip since the previous high, if there was one.
    cur_l, high, begin = bucket.cur_l, bucket.max_c, 0
    for k in itertools.compress(range(len(points)), map(operator.gt, points, highs)):
        if k > begin:
            dip = min(points[begin:k])
            cur_l = min(cur_l, dip)
        if cur_l < high:
            bucket._finish_segment(high, cur_l)
        high = cur_l = points[k]
        begin = k + 1
    if begin < len(points):
        dip = min(points[begin:])
        cur_l = min(cur_l, dip)
    bucket.max_c, bucket.cur_l, bucket.net_c = high, cur_l, points[-1]


def _to_state(value: Any) -> Any:
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return [value.days, value.seconds, value.microseconds]
    return value


def _from_state(name: str, raw: Any, current: Any) -> Any:
    if name in ("seg_h", "seg_l", "seg_pmin"):
        return [Decimal(v) for v in raw] if raw else _NO_SEGMENTS
    if name == "hold":
        return timedelta(*raw)
    if name in ("last_exit", "last_time", "seen"):
        return None if raw is None else datetime.fromisoformat(raw)
    if isinstance(current, Decimal) or name in ("best", "worst", "first_c"):
        return None if raw is None else Decimal(raw)
    return raw


class Walk(TradeStats):
    """
    Merges consecutive buckets of one dimension value into the figures of a window.
    """

    __slots__ = (
        "bad_equity",
        "equity",
        "fees",
        "has_points",
        "last_day",
        "max_dd",
        "max_dd_pct",
        "opening",
        "peak",
        "r_days",
        "r_hi",
        "r_lo",
        "realized",
        "sum_neg2",
        "sum_r",
        "sum_r2",
    )

    def __init__(self, equity: Decimal) -> None:
        super().__init__()
        self.opening = equity
        self.equity = equity
        self.peak = equity
        #: The session day of the last bucket that moved the path (None before any).
        self.last_day: int | None = None
        self.realized = ZERO
        self.fees = ZERO
        self.max_dd = ZERO
        self.max_dd_pct = ZERO
        self.has_points = False
        # Daily returns: sum, sum of squares, sum of squared negative returns.
        self.sum_r = ZERO
        self.sum_r2 = ZERO
        self.sum_neg2 = ZERO
        # The lowest and highest return of the days that moved the path, and how many they
        # are: the sums above carry rounding, so "every return is the same" is told exactly.
        self.r_lo: Decimal | None = None
        self.r_hi: Decimal | None = None
        self.r_days = 0
        # A day that started with equity <= 0 has no return; the window's ratios are undefined.
        # (Days after the last bucket are the caller's to check: see ``ends_nonpositive``.)
        self.bad_equity = equity <= ZERO

    def clone(self) -> Walk:
        """
        A copy of this walk (every summary of an all-time window clones the cached prefix).
        """
        twin = Walk.__new__(Walk)
        _copy_walk(self, twin)
        return twin

    def add(self, bucket: Bucket) -> None:
        """
        Merge the next day's bucket; its start-of-day equity is the walk's current equity.
        """
        bucket.flush()
        self.merge_trades(bucket)
        if not bucket.has_pending:
            return
        e0 = self.equity
        peak = self.peak
        high, low, inner_dd = bucket.path_extremes()
        dd = max(inner_dd, peak - (e0 + low))
        self.max_dd = max(self.max_dd, dd)
        if peak > ZERO:
            pct = bucket.pct_drawdown(e0, peak)
            self.max_dd_pct = max(self.max_dd_pct, pct)
        if e0 + high > peak:
            self.peak = e0 + high
        day_pnl = bucket.realized
        if e0 > ZERO:
            r = day_pnl / e0
            self.sum_r += r
            self.sum_r2 += r * r
            if r < ZERO:
                self.sum_neg2 += r * r
            if self.r_lo is None or r < self.r_lo:
                self.r_lo = r
            if self.r_hi is None or r > self.r_hi:
                self.r_hi = r
            self.r_days += 1
        else:
            self.bad_equity = True
        self.equity = e0 + day_pnl
        self.realized += day_pnl
        self.fees += bucket.fees
        self.has_points = True
        self.last_day = bucket.day

    @property
    def drawdown_pct(self) -> Decimal | None:
        """
        The deepest fall relative to its running peak; None when nothing moved the path or
        it opened with equity <= 0 (no peak to measure against).
        """
        if not self.has_points or self.opening <= ZERO:
            return None
        return self.max_dd_pct

    def ratios(self, days: int, periods_per_year: float) -> tuple[float | None, float | None]:
        """
        (sharpe, sortino) of the window's daily returns over ``days`` session days.
        """
        if self.bad_equity or days < 2:
            return None, None
        mean = self.sum_r / days
        var = (self.sum_r2 - self.sum_r * mean) / (days - 1)
        scale = math.sqrt(periods_per_year)
        # Zero deviation: every day returned the same (days without a bucket returned 0). The
        # sums cannot tell it, as a non-terminating return leaves a rounding residue in var.
        flat = self.r_lo == self.r_hi and (self.r_days == days or not self.r_lo)
        sharpe = over_root(mean, var) * scale if var > ZERO and not flat else None
        downside = self.sum_neg2 / days
        sortino = over_root(mean, downside) * scale if downside > ZERO else None
        return sharpe, sortino


def _make_copier(fields: tuple[str, ...]) -> Callable[[Any, Any], None]:
    """
    A function assigning each of ``fields`` of its first argument to its second, written out
    (as attrs writes its ``__init__``): a getattr/setattr loop over Walk's 30 slots was a
    tenth of an all-time summary.
    """
    lines = [f"    b.{name} = a.{name}" for name in fields]
    namespace: dict[str, Any] = {}
    exec("def copy(a, b):\n" + "\n".join(lines), namespace)  # only our own slot names
    copier: Callable[[Any, Any], None] = namespace["copy"]
    return copier


_copy_walk: Final = _make_copier(TradeStats.__slots__ + Walk.__slots__)


def _make_initialiser(*inits: Callable[[Any], None]) -> Callable[[Any], None]:
    """
    One function doing what ``inits`` do in turn (each a method that only assigns
    attributes of ``self`` from constants), their values taken from a throwaway instance:
    a bucket is made for every filter key's every day, about three per trade on a sparse
    dashboard, and the two calls with 36 assignments through ``super()`` were about a sixth
    of the indexing. ``tests/test_stats.py`` checks it against the methods.
    """
    probe = Bucket.__new__(Bucket)
    for init in inits:
        init(probe)
    fields = [name for name in Bucket.__slots__ + TradeStats.__slots__ if hasattr(probe, name)]
    values = {f"_v_{name}": getattr(probe, name) for name in fields}
    for name, value in values.items():
        # Every instance shares these values: only immutable ones, or the shared empties.
        if isinstance(value, list) and value is not _NO_SEGMENTS and value is not _NO_INDICES:
            msg = f"{name[3:]} starts as a fresh list; it cannot be shared"
            raise TypeError(msg)
    lines = [f"    b.{name} = _v_{name}" for name in fields]
    namespace: dict[str, Any] = dict(values)
    exec("def init(b):\n" + "\n".join(lines), namespace)  # only our own slot names
    initialiser: Callable[[Any], None] = namespace["init"]
    return initialiser


_fresh_bucket: Final = _make_initialiser(TradeStats.__init__, Bucket._reset_path)
