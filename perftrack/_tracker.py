"""
The Tracker: one account's ledger, day buckets and live figures behind one lock.
"""

from __future__ import annotations

import bisect
import itertools
import math
import operator
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Context, Decimal, Inexact, localcontext
from functools import partial
from time import monotonic
from typing import TYPE_CHECKING, Any, Final, cast

from blinker import Signal

from perftrack import _persist, signals
from perftrack._convert import (
    fixed_offset,
    generated_number,
    round_trip_fields,
    to_date_or_time,
    to_decimal,
    to_name,
    to_optional_decimal,
    to_realizations,
    to_side,
    to_tags,
    to_time,
)
from perftrack._ideas import DEFAULT_EXPIRY, Idea, Ideas, check_bar
from perftrack._log import log
from perftrack._model import (
    MONEY_CONTEXT,
    LiveStats,
    OpenTrade,
    Realization,
    Summary,
    Trade,
    new_summary,
    new_trade,
)
from perftrack._periods import PERIODS, Calendar
from perftrack._review import ReviewSchedule, WeeklyReviewer
from perftrack._stats import (
    ZERO,
    Bucket,
    Event,
    Walk,
    event_amount,
    event_source,
    event_time,
    over_root,
)
from perftrack.alerts import Alerts, Targets
from perftrack.errors import (
    DuplicateTradeError,
    InvalidIdeaError,
    InvalidInputError,
    InvalidTradeError,
    LockedError,
    StoreError,
    UnknownTradeError,
)
from perftrack.stores import ObjectStore

__all__ = ["Tracker"]


#: Per thread, the signals being delivered (``Tracker._send``); None while none are.
_DELIVERY: Final = threading.local()
#: Averages (avg_win, expectancy, average prices) are quotients, inexact by nature: they are
#: given to Python's familiar 28 significant digits rather than 50.
AVERAGE_CONTEXT: Final = Context(prec=28)
#: The context a position's quantity moves in: a scale-in or exit whose quantity the 50
#: digits cannot hold beside the open one ("2" less "1e-60") is refused, not rounded away.
_EXACT_QUANTITY: Final = Context(prec=MONEY_CONTEXT.prec, traps=[Inexact])
DIMENSIONS: Final = ("strategy", "symbol", "side", "tag")
#: How many recent closed trades each dimension value keeps for rolling windows without a scan.
ROLLING_CAPACITY: Final = 512
#: Booked events wait for the next read to be indexed, or until this many have gathered, so
#: a bot that never reads holds a bounded backlog and pays the indexing in batches.
INDEX_BATCH: Final = 256
_NO_SCOPE: Final = (None, None, None, None)
#: The smallest step of time, to turn a half-open end into the last instant it covers.
_INSTANT: Final = timedelta(microseconds=1)
_SIGN: Final = {"long": 1, "short": -1}
#: Where the time sits in the remembered content of an event with an event_id, by its kind.
_EVENT_TIME: Final = {"add": 4, "close": 3, "mark": 3, "bar": 6}
#: How many closed trades remember their open_trade() arguments, so that a bot re-sending an
#: open after the trade closed gets a no-op, not an error. Bounded: re-sends are of recent events.
RECENT_OPENS: Final = 4096

# A filter over closed trades and realizations: (strategy, symbol, side, tag), None = any.
Key = tuple[str | None, str | None, str | None, str | None]


def _matches(key: Key, strategy: str, symbol: str, side: str, tags: tuple[str, ...]) -> bool:
    k_strategy, k_symbol, k_side, k_tag = key
    return (
        (k_strategy is None or k_strategy == strategy)
        and (k_symbol is None or k_symbol == symbol)
        and (k_side is None or k_side == side)
        and (k_tag is None or k_tag in tags)
    )


class _Position:
    """
    The mutable state of an open trade. Lives only under the tracker's lock.
    """

    __slots__ = (
        "cost",
        "entry_cost",
        "entry_qty",
        "entry_time",
        "exit_qty",
        "exit_value",
        "fees",
        "idea_id",
        "opened",
        "qty",
        "realized",
        "side",
        "sign",
        "steps",
        "stop_price",
        "strategy",
        "symbol",
        "tags",
        "target_price",
        "trade_id",
    )

    def __init__(
        self,
        trade_id: str,
        symbol: str,
        strategy: str,
        side: str,
        quantity: Decimal,
        price: Decimal,
        time: datetime,
        fees: Decimal,
        stop_price: Decimal | None,
        target_price: Decimal | None,
        tags: tuple[str, ...],
        idea_id: str | None,
    ) -> None:
        self.trade_id = trade_id
        self.symbol = symbol
        self.strategy = strategy
        self.side = side
        self.sign = _SIGN[side]
        self.qty = quantity
        self.cost = price * quantity  # cost basis of the open quantity
        self.entry_qty = quantity
        self.entry_cost = self.cost
        self.exit_qty = ZERO
        self.exit_value = ZERO
        self.fees = fees
        self.realized = -fees
        # What each booking realized so far (the closed Trade's realizations).
        self.steps: list[Realization] = []
        self.entry_time = time
        self.stop_price = stop_price
        self.target_price = target_price
        self.tags = tags
        self.idea_id = idea_id
        # The normalised open_trade() arguments, to recognise a re-sent identical event.
        self.opened: tuple[object, ...] = (
            symbol,
            strategy,
            side,
            quantity,
            price,
            time,
            fees,
            stop_price,
            target_price,
            tags,
            idea_id,
        )


class _Series:
    """
    The day buckets of one filter key, in day order, with the running realized P&L before each
    bucket and a cached walk of every bucket but the last (the all-time prefix).
    """

    __slots__ = (
        "buckets",
        "complete_from",
        "cum",
        "cum_ok",
        "days",
        "prefix",
        "prefix_n",
        "recent",
        "source",
    )

    def __init__(self, source: Callable[[int], list[Event]]) -> None:
        #: source(day) gives the raw events of this key on a day, to rebuild a stale bucket.
        self.source = source
        #: The most recent closed trades, in close order, for rolling windows.
        self.recent: deque[Trade] = deque(maxlen=ROLLING_CAPACITY)
        #: Built after days were archived: days before this one are missing from it.
        self.complete_from: int | None = None
        self.days: list[int] = []
        self.buckets: list[Bucket] = []
        self.cum: list[Decimal] = []  # realized P&L of buckets[:i]
        self.cum_ok = 0  # cum[:cum_ok] is up to date
        self.prefix: Walk | None = None
        self.prefix_n = 0

    def bucket(self, ordinal: int, *, bulk: bool = False) -> tuple[int, Bucket]:
        """
        The index and bucket of session day ``ordinal``, created when missing.
        """
        days = self.days
        if days and days[-1] == ordinal:
            return len(days) - 1, self.buckets[-1]
        i = bisect.bisect_left(days, ordinal)
        if i < len(days) and days[i] == ordinal:
            return i, self.buckets[i]
        bucket = Bucket(self.source, ordinal)
        bucket.bulk = bulk
        if i and not bulk:
            # The day before is (usually) over: fold its queue now rather than hold it.
            self.buckets[i - 1].flush()
        days.insert(i, ordinal)
        self.buckets.insert(i, bucket)
        self.cum.insert(i, ZERO)
        # Everything from i on shifted: its running sums and the cached prefix are stale.
        self.cum_ok = min(self.cum_ok, i)
        if i < self.prefix_n:
            self.prefix = None
            self.prefix_n = 0
        return i, bucket

    def insert(self, ordinal: int, bucket: Bucket) -> None:
        """
        Put a ready bucket (an archived day's) at ``ordinal``.
        """
        i = bisect.bisect_left(self.days, ordinal)
        self.days.insert(i, ordinal)
        self.buckets.insert(i, bucket)
        self.cum.insert(i, ZERO)
        self.cum_ok = min(self.cum_ok, i)
        self.prefix = None
        self.prefix_n = 0

    def changed(self, i: int) -> None:
        """
        Bucket ``i`` changed: what was derived from it for later buckets is stale.
        """
        self.cum_ok = min(self.cum_ok, i + 1)
        if i < self.prefix_n:
            self.prefix = None
            self.prefix_n = 0

    def realized_before(self, i: int) -> Decimal:
        """
        The realized P&L of every bucket before index ``i`` (``i`` may be ``len``).
        """
        buckets, cum = self.buckets, self.cum
        if not buckets:
            return ZERO
        if i >= len(buckets):
            buckets[-1].flush()
            return self.realized_before(len(buckets) - 1) + buckets[-1].realized
        if self.cum_ok == 0:
            cum[0] = ZERO
            self.cum_ok = 1
        for j in range(self.cum_ok, i + 1):
            buckets[j - 1].flush()
            cum[j] = cum[j - 1] + buckets[j - 1].realized
        self.cum_ok = max(self.cum_ok, i + 1)
        return cum[i]


class _LivePath:
    """
    The marked-to-market equity path: its peak and deepest falls, with the latest instant
    pending so that everything sharing one timestamp moves it once.
    """

    __slots__ = ("equity", "max_dd", "max_dd_pct", "peak", "time")

    def __init__(self, equity: Decimal) -> None:
        self.time: datetime | None = None
        self.equity = equity
        self.peak = equity
        self.max_dd = ZERO
        self.max_dd_pct = ZERO

    def update(self, when: datetime, equity: Decimal) -> None:
        if self.time is None or when > self.time:
            self._commit()
            self.time = when
        self.equity = equity

    def _commit(self) -> None:
        # ``figures()`` without recomputing what cannot change: a new high moves only the
        # peak, and a fall is divided once. Once per record_trade, so it counts.
        equity, peak = self.equity, self.peak
        if equity > peak:
            self.peak = equity
            return
        drawdown = peak - equity
        self.max_dd = max(self.max_dd, drawdown)
        if peak > ZERO and drawdown:
            fraction = drawdown / peak
            self.max_dd_pct = max(self.max_dd_pct, fraction)

    def update_many(self, times: list[datetime], equities: list[Decimal]) -> None:
        """
        ``update(times[k], equities[k])`` for each k in turn, a pass at a time (a journal
        replay's runs of trades). An update commits the pending point when its time moves the
        path's time on; the maxima over the committed points are those the updates would
        reach one by one (``max`` keeps the earlier of equal values, as they do). Call in
        MONEY_CONTEXT.
        """
        if not times:
            return
        now = self.time
        pending = [self.equity, *equities[:-1]]  # the point pending before each update
        if (now is None or times[0] > now) and all(map(operator.lt, times, times[1:])):
            committed = pending  # every update moves the time on (the usual case)
            self.time = times[-1]
        else:
            # The path's time before each update: an update moves it only forward.
            before: list[datetime | None]
            if now is None:
                before = [None, *itertools.accumulate(times[:-1], max)]
            else:
                before = [*itertools.accumulate(times[:-1], max, initial=now)]
            committed = [
                point
                for then, when, point in zip(before, times, pending, strict=True)
                if then is None or when > then
            ]
            last = before[-1]
            self.time = times[-1] if last is None or times[-1] > last else last
        peaks = list(itertools.accumulate(committed, max, initial=self.peak))[1:]
        if peaks:
            drawdowns = list(map(operator.sub, peaks, committed))
            self.max_dd = max([self.max_dd, *drawdowns])
            # A fall of zero is never above the deepest fraction so far (never below zero).
            if peaks[0] > ZERO:  # (peaks only rise: every one is above zero)
                fractions = list(map(operator.truediv, drawdowns, peaks))
            else:
                fractions = [d / p for p, d in zip(peaks, drawdowns, strict=True) if d and p > ZERO]
            self.max_dd_pct = max([self.max_dd_pct, *fractions])
            self.peak = peaks[-1]
        self.equity = equities[-1]

    def drawdown_now(self) -> tuple[Decimal, Decimal]:
        """
        (peak, current drawdown) with the pending point: ``figures()`` without the maxima.
        """
        peak = max(self.peak, self.equity)
        return peak, peak - self.equity

    def figures(self) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """
        (peak, max drawdown, max drawdown fraction, current drawdown) with the pending point.
        """
        peak = max(self.peak, self.equity)
        drawdown = peak - self.equity
        max_dd = max(self.max_dd, drawdown)
        max_pct = self.max_dd_pct
        if peak > ZERO and drawdown / peak > max_pct:
            max_pct = drawdown / peak
        return peak, max_dd, max_pct, drawdown


class _Symbol:
    """
    Open exposure on one symbol: signed quantity and signed cost basis, so that a mark values
    every open trade on the symbol in O(1): unrealized = mark x quantity - cost.
    """

    __slots__ = ("cost", "mark", "qty", "unrealized")

    def __init__(self, mark: Decimal) -> None:
        self.qty = ZERO
        self.cost = ZERO
        self.mark = mark
        self.unrealized = ZERO


class Tracker:
    """
    Live performance of one trading account in one currency.

    Feed it trade events (``record_trade`` for a finished round trip, or ``open_trade``,
    ``add_to_trade``, ``close_trade`` and ``mark_price`` as they happen) and ask it at any
    moment for a ``summary`` of any window, a ``breakdown`` by strategy, symbol, side or tag,
    the ``live`` figures, or the last n trades (``rolling``).

    Every public method is thread-safe: state changes happen under one lock, and signals are
    sent after it is released. Queries never visit individual trades: they merge per-day
    aggregates (see docs/architecture.md).

    Args:
        starting_equity: The account's equity before the first event (money, > 0).
        timezone: IANA name of the operator's time zone; session days run midnight to
            midnight there.
        calendar: ``"all"`` (every day is a session) or ``"weekdays"`` (Monday to Friday;
            weekend activity belongs to Monday's session).
        periods_per_year: Annualisation factor for Sharpe and Sortino; default 252 with
            weekdays and 365 with all days.
        weekly_review: When the weekly review of trade ideas writes itself, e.g.
            ``"SUN 20:00"`` (a weekday and a time in ``timezone``): the first event at or
            after that moment writes the week's report to the store and sends
            ``weekly-report`` (see docs/ideas.md). None (the default): never.

    Raises:
        InvalidInputError: For a bad starting equity, time zone, calendar, factor or
            weekly_review.
    """

    def __init__(
        self,
        starting_equity: object = "10000",
        *,
        timezone: str = "UTC",
        calendar: str = "all",
        periods_per_year: float | None = None,
        store: ObjectStore | None = None,
        account: str = "main",
        durability: str = "sync",
        snapshot_every: int = 10_000,
        snapshot_interval: float | None = 3600.0,
        batch_max_events: int = 256,
        batch_max_ms: float = 50.0,
        targets: Targets | None = None,
        retention: timedelta | None = timedelta(days=730),
        weekly_review: str | None = None,
    ) -> None:
        schedule = None if weekly_review is None else ReviewSchedule.parse(weekly_review)
        self._start = to_decimal("starting_equity", starting_equity, error=InvalidInputError)
        self._calendar = Calendar(timezone, calendar)
        if periods_per_year is None:
            periods_per_year = 252 if calendar == "weekdays" else 365
        if (
            isinstance(periods_per_year, bool)
            or not isinstance(periods_per_year, (int, float))
            # (an int beyond a float's range: math.isfinite raised OverflowError)
            or (isinstance(periods_per_year, int) and periods_per_year.bit_length() > 1000)
            or not math.isfinite(periods_per_year)
            or periods_per_year <= 0
        ):
            msg = f"'periods_per_year' must be a positive number (got {periods_per_year!r})"
            raise InvalidInputError(msg)
        self._periods_per_year = float(periods_per_year)
        # Reentrant: observers (alert rules, custom rules) run under the lock and may query.
        self._lock = threading.RLock()
        self._realized = ZERO
        self._open: dict[str, _Position] = {}
        self._closed: list[Trade] = []  # in close (exit time) order
        self._closed_ids: dict[str, Trade] = {}
        self._event_ids: dict[str, tuple[object, ...]] = {}  # event_id -> normalised content
        # trade_id -> open_trade() arguments of the last RECENT_OPENS trades closed from open
        self._recent_opens: dict[str, tuple[object, ...]] = {}
        # The raw events of each session day, in arrival order: what a bucket is rebuilt from
        # when an event arrives out of time order, and what edge days of a range are cut from.
        self._days: dict[int, list[Event]] = {}
        self._series: dict[Key, _Series] = {}
        self._symbols: dict[str, _Symbol] = {}
        self._unrealized = ZERO
        self._live = _LivePath(self._start)
        self._clock: datetime | None = None
        self._first_day: int | None = None
        self._last_day: int | None = None
        self._combos: set[Key] = set()
        self._partial_days: set[int] = set()  # session days whose input is incomplete
        self._keys_cache: dict[tuple[str, str, str, tuple[str, ...]], tuple[Key, ...]] = {}
        self._next_id = 1  # the number of the next generated trade id
        # Extension points, called under the lock. A sink sees every accepted event before it
        # changes any state (write-ahead: the journal); if a sink raises, the call fails and
        # the tracker is unchanged. An observer sees it after, with the call's result, and may
        # queue signals (alerts, ideas). Events are (kind, payload): the public method's name
        # and the normalised keyword arguments that replay it exactly. Observers get the
        # payload too, except from record_trade without a sink (None: its Trade says it all).
        self._sinks: list[Callable[[str, dict[str, Any]], None]] = []
        self._observers: list[
            Callable[[str, dict[str, Any] | None, Any, list[tuple[Signal, dict[str, Any]]]], None]
        ] = []
        # Components with state of their own (alerts, ideas), by name. Each offers
        # snapshot_state() -> dict and restore_state(dict); snapshots carry their states, and
        # their journaled events have kinds "name.method" (see _replay_component).
        self._components: dict[str, Any] = {}
        #: What the current event realized: (time, amount, source) per booking. Observers read
        #: it; it is cleared once they have run.
        self._booked: list[tuple[datetime, Decimal, _Position | Trade]] = []
        # Booked events not yet in _days and the buckets: (day, event, source, closed trade).
        self._unindexed: list[tuple[int, Event, _Position | Trade, Trade | None]] = []
        # Persistence (see _persist.py): nothing is written without a store.
        self._persistence = _persist.Options.checked(
            account=account,
            durability=durability,
            snapshot_every=snapshot_every,
            snapshot_interval=snapshot_interval,
            batch_max_events=batch_max_events,
            batch_max_ms=batch_max_ms,
        )
        if retention is not None and (
            not isinstance(retention, timedelta) or retention <= timedelta(0)
        ):
            msg = f"'retention' must be a positive timedelta or None (got {retention!r})"
            raise InvalidInputError(msg)
        self._retention = retention
        #: Session days before this one are archived: their buckets stay, their raw events and
        #: closed trades are in the store's archive objects, and no event may land in them.
        self._archived_before: int | None = None
        self._store: ObjectStore | None = None
        self._journal: _persist.Journal | None = None
        self._account_lock: _persist.AccountLock | None = None
        self._since_snapshot = 0
        self._snapshot_at = monotonic()
        #: True while a bulk import's snapshot failed to be written: the journal holds only
        #: its record, so until a snapshot is written a restore would not have the import.
        self._snapshot_owed = False
        self._closed_down = False  # close() was called: events are refused
        self._released = False  # close() finished: journal flushed, account released
        #: True while restore replays the journal: components must not deliver again what
        #: they delivered before the restart.
        self._replaying = False
        #: True for a tracker restored read-only: it writes nothing to its store, and what
        #: its replay derives (alerts) is history, delivered by the process that owns it.
        self._read_only = False
        #: What ``restore`` found and could not use; None for a tracker that was not restored.
        self.restore_report: _persist.RestoreReport | None = None
        #: The unread trade detail of a tracker restored read-only from a schema 4 snapshot
        #: (see _persist.load_lazily); None once read, or when there is none.
        self._detail: _persist.SnapshotDetail | None = None
        if targets is not None and not isinstance(targets, Targets):
            msg = f"'targets' must be a perftrack.Targets (got {targets!r})"
            raise InvalidInputError(msg)
        # No targets, no rules: explicit values, so that the environment cannot fail a tracker
        # that has no use for it.
        self._alerts = Alerts(
            self,
            Targets(rolling_window=20, timezone=None) if targets is None else targets,
        )
        self._ideas = Ideas(self)
        # The ideas put their observer first when they start; the review's runs after every
        # other, so it sees each event's effect on the ideas.
        self._reviewer = None if schedule is None else WeeklyReviewer(self, schedule)
        if store is not None:
            _check_store("store", store)
            if _persist.account_has_data(store, account):
                msg = (
                    f"'store' already holds account {account!r}; "
                    "use Tracker.restore(store, account=...) to resume it"
                )
                raise InvalidInputError(msg)
            self._attach(store, next_seq=0, new_account=True)

    # -- configuration ---------------------------------------------------------------------

    @property
    def starting_equity(self) -> Decimal:
        """
        The equity before the first event. Thread-safe (immutable).
        """
        return self._start

    @property
    def timezone(self) -> str:
        """
        The operator's IANA time zone name. Thread-safe (immutable).
        """
        return self._calendar.timezone_name

    @property
    def calendar(self) -> str:
        """
        ``"all"`` or ``"weekdays"``. Thread-safe (immutable).
        """
        return self._calendar.calendar

    @property
    def periods_per_year(self) -> float:
        """
        The annualisation factor of Sharpe and Sortino. Thread-safe (immutable).
        """
        return self._periods_per_year

    @property
    def alerts(self) -> Alerts:
        """
        The alerts raised against this tracker's targets: ``active()``, ``history()``,
        ``acknowledge(alert_id, by=None)``. Thread-safe.
        """
        return self._alerts

    @property
    def ideas(self) -> Ideas:
        """
        The trade ideas recorded with ``record_idea``: ``get``, ``list``, ``summary``,
        ``breakdown``, ``annotate``, ``override``, ``expire`` (see docs/ideas.md).
        Thread-safe.
        """
        return self._ideas

    # -- persistence -----------------------------------------------------------------------

    @classmethod
    def restore(
        cls, store: ObjectStore, account: str = "main", *, read_only: bool = False, **options: Any
    ) -> Tracker:
        """
        Resume the account kept in ``store``: the newest intact snapshot, then the journal after
        it. An account the store does not hold yet starts fresh with ``options``.

        ``options`` are the constructor's (durability, snapshot cadence, targets, ...); the
        account's own configuration (starting equity, time zone, calendar, annualisation)
        comes from the store, and giving a different value is an error. What could not be
        used (a damaged snapshot, a cut journal tail) is logged and kept in
        ``restore_report``.

        With ``read_only=True`` nothing is written and no lock is taken (a report or the
        command line reading the store of a running bot): the tracker answers queries as of
        the moment of the restore and refuses events.

        Raises:
            LockedError: When another live tracker holds the account.
            InvalidInputError: For options that contradict the stored configuration.
            StoreError: When the store fails.
        """
        _check_store("store", store)
        if not isinstance(read_only, bool):
            msg = f"'read_only' must be a bool (got {read_only!r})"
            raise InvalidInputError(msg)
        _persist.check_account(account)  # named before any key is built from it
        # All of it in the money context: the replay rebuilds trades' P&L and folds buckets,
        # which the restoring thread's decimal context (a prec of 5) would round.
        with localcontext(MONEY_CONTEXT):
            return _persist.restore(cls, store, account, options, read_only=read_only)

    def _attach(
        self,
        store: ObjectStore,
        *,
        next_seq: int,
        new_account: bool,
        lock: _persist.AccountLock | None = None,
    ) -> None:
        """
        Start persisting to ``store``: take the account's lock (or own ``lock``, which a
        restore took before reading) and open the journal at ``next_seq``.
        """
        opts = self._persistence
        if lock is None:
            lock = _persist.AccountLock(store, opts.account)
            lock.acquire()
        try:
            journal = _persist.Journal(
                store,
                opts.account,
                next_seq=next_seq,
                durability=opts.durability,
                max_events=opts.batch_max_events,
                max_ms=opts.batch_max_ms,
                lock=self._lock,
            )
            journal.lock = lock
            if new_account:
                journal.sink("init", self._config())
                journal.flush()
        except BaseException:
            lock.release()
            raise
        # Temporary files of puts that a crash interrupted (LocalStore): ours to clean now.
        remove_temporary = getattr(store, "remove_temporary", None)
        if callable(remove_temporary):
            try:
                remove_temporary(f"{opts.account}/")
            except StoreError:
                log.warning("perftrack.cleanup_failed", account=opts.account)
        self._store = store
        self._account_lock = lock
        self._journal = journal
        self._sinks.append(journal.sink)
        self._observers.append(self._snapshot_cadence)
        if self._retention is not None:
            self._observers.append(self._apply_retention)

    def _config(self) -> dict[str, Any]:
        return {
            "starting_equity": self._start,
            "timezone": self.timezone,
            "calendar": self.calendar,
            "periods_per_year": self._periods_per_year,
        }

    def _snapshot_cadence(
        self, kind: str, event: dict[str, Any] | None, result: object, pending: list[Any]
    ) -> None:
        self._since_snapshot += 1
        opts = self._persistence
        due = self._since_snapshot >= opts.snapshot_every or (
            opts.snapshot_interval is not None
            and monotonic() - self._snapshot_at >= opts.snapshot_interval
        )
        # (An owed snapshot is retried at the cadence too, not at every event: a store that
        # just failed a whole snapshot would only be asked for it again and again.)
        if due:
            try:
                self._save_snapshot_locked()
            except StoreError as e:
                # The event is journaled and applied: failing its call now would tell the
                # caller it was not. The snapshot is retried after another full cadence.
                log.warning("perftrack.snapshot_failed", account=opts.account, error=str(e))
                self._since_snapshot = 0
                self._snapshot_at = monotonic()

    def _apply_retention(
        self, kind: str, event: dict[str, Any] | None, result: object, pending: list[Any]
    ) -> None:
        """
        Archive the days that fell behind the retention horizon (counted back from the newest
        event, not the wall clock, so imported or back-tested history is kept on arrival).
        """
        if self._clock is None or self._retention is None or self._store is None:
            return
        horizon = self._calendar.session_of(self._clock - self._retention)
        if self._archived_before is not None and horizon <= self._archived_before:
            return
        self._drain()
        old = sorted(o for o in self._days if o < horizon)
        if old:
            try:
                _persist.archive_days(self, self._store, old, write=not self._read_only)
            except StoreError as e:
                # As for snapshots: the event stands; the days archived so far stay archived
                # (archive_days advances the horizon day by day) and the rest is retried.
                log.warning(
                    "perftrack.archive_failed", account=self._persistence.account, error=str(e)
                )
                return
        self._archived_before = horizon
        self._forget_event_ids(horizon)

    def _forget_event_ids(self, horizon: int) -> None:
        """
        Drop the exactly-once records of events dated before session day ``horizon``: such
        events are refused from now on (``_check_retained``), so keeping their ids would only
        grow memory for as long as the bot runs.
        """
        session_of = self._calendar.session_of
        # Ids are kept in arrival order, which is nearly time order: drop from the oldest and
        # stop at the first one inside the horizon, so this costs what it removes, not what
        # the registry holds (a back-dated id left behind goes with a later horizon).
        gone = []
        for eid, content in self._event_ids.items():
            at = _EVENT_TIME.get(str(content[0]))
            if at is None:
                continue  # a kind without a time: kept
            if session_of(content[at]) >= horizon:  # type: ignore[arg-type]
                break
            gone.append(eid)
        for eid in gone:
            del self._event_ids[eid]
        for tid in [t for t in self._recent_opens if t not in self._closed_ids]:
            del self._recent_opens[tid]  # its trade was archived

    def _check_retained(self, when: datetime, field: str) -> None:
        if self._archived_before is not None and (
            self._calendar.session_of(when) < self._archived_before
        ):
            msg = (
                f"{field!r} is before the retention horizon, whose days are archived "
                f"(got {when.isoformat()})"
            )
            raise InvalidTradeError(msg)

    def save_snapshot(self) -> int:
        """
        Write the full state to the store now and compact the journal it covers.

        Thread-safe. Returns the journal sequence number the snapshot stands at.

        Raises:
            InvalidInputError: When the tracker has no store.
            StoreError: When the store fails (the tracker is unaffected).
        """
        with self._lock, localcontext(MONEY_CONTEXT):
            return self._save_snapshot_locked()

    def _save_snapshot_locked(self) -> int:
        journal, store = self._journal, self._store
        if journal is None or store is None:
            msg = "'store' is needed to save a snapshot (the tracker was made without one)"
            raise InvalidInputError(msg)
        seq = _persist.save_snapshot(self, store, journal)
        self._snapshot_owed = False
        self._since_snapshot = 0
        self._snapshot_at = monotonic()
        return seq

    def flush(self) -> None:
        """
        Make every accepted event durable (with ``durability="batch"``; a no-op with "sync"
        or without a store), and write the snapshot an import owes (see ``_snapshot_owed``).
        Thread-safe.

        Raises:
            StoreError: When the store fails; the events stay queued (the snapshot owed) for
                the next attempt.
        """
        with self._lock:
            if self._journal is not None:
                self._journal.flush()
            if self._snapshot_owed:
                self.save_snapshot()

    def close(self) -> None:
        """
        Flush the journal, stop background work and release the account. Safe to call twice;
        a closed tracker still answers queries but refuses events. Thread-safe.

        Raises:
            StoreError: When the snapshot an import owes still cannot be written; the
                tracker stays open (the import is not durable), and close() can be retried.
                Or when the journal's last write fails: events are refused from then on,
                the queued ones wait, and close() can be retried.
        """
        with self._lock:
            if self._released:
                return
            if self._snapshot_owed:
                self.save_snapshot()
            journal, lock = self._journal, self._account_lock
            if not self._closed_down:
                # From now on events are refused, even if the flush below fails.
                self._closed_down = True
                if journal is not None:
                    self._sinks.remove(journal.sink)
                self._sinks.append(_refuse_after_close)
            lost = None
            if journal is not None:
                # A store failure raises with the flusher and the account lock still
                # running, and close() can be retried: the acknowledged events are queued.
                try:
                    journal.flush()
                except LockedError as e:
                    lost = e  # another tracker writes the account: nothing ever will be
            self._released = True
        if journal is not None:
            journal.close()
        if lock is not None:
            lock.release()
        if lost is not None:
            raise lost

    def __enter__(self) -> Tracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def verify(self) -> list[str]:
        """
        Check every snapshot and journal segment of the account against its checksum.

        Thread-safe. Returns one line per problem; an empty list means all is well.
        """
        with self._lock:
            if self._journal is not None:
                self._journal.flush()
            if self._store is None:
                return []
            return _persist.verify(self._store, self._persistence.account)

    def copy_to(self, other: ObjectStore) -> int:
        """
        Copy the account (snapshots, journal, alert and report files) to ``other``, consistent
        as of this moment. Thread-safe; events wait while it runs. Returns the objects copied.
        """
        with self._lock:
            if self._store is None:
                msg = "'store' is needed to copy an account (the tracker was made without one)"
                raise InvalidInputError(msg)
            _check_store("other", other)
            if self._journal is not None:
                self._journal.flush()
            return _persist.copy_account(self._store, other, self._persistence.account)

    # -- events ----------------------------------------------------------------------------

    def record_trade(
        self,
        symbol: str,
        side: str,
        quantity: object,
        entry_price: object,
        exit_price: object,
        entry_time: object,
        exit_time: object,
        fees: object = 0,
        strategy: str = "default",
        stop_price: object = None,
        target_price: object = None,
        tags: Iterable[str] | str = (),
        trade_id: str | None = None,
        *,
        net_pnl: object = None,
        idea_id: str | None = None,
        realizations: object = None,
    ) -> Trade:
        """
        Record a finished round trip; its whole P&L is realized at ``exit_time``.

        Thread-safe. Sending the same ``trade_id`` again with identical content is a no-op that
        returns the trade recorded the first time.

        Args:
            symbol, side, quantity, entry_price, exit_price, entry_time, exit_time: The trade.
            fees: Every fee of the round trip (money, >= 0).
            strategy: The strategy's name (default ``"default"``).
            stop_price: The initial stop; gives the trade its risk and R-multiple.
            target_price: The initial target (informational).
            tags: Labels for breakdowns.
            trade_id: Defaults to a generated id.
            net_pnl: The P&L as the source computed it, when it cannot be rebuilt from prices
                and fees (contract multipliers, funding, a tool's own rounding). ``gross_pnl``
                is then ``net_pnl + fees``.
            idea_id: The trade idea this trade acted on.
            realizations: When the trade was realized in steps (entry and scale-in fees,
                partial exits, the final exit), as ``Trade.realizations`` lists them: each
                step is booked at its own time instead of the whole trade at ``exit_time``.
                A sequence of ``Realization``, of ``{"time", "net_pnl", "fees"}`` mappings or
                of ``(time, net_pnl, fees)`` sequences; every time at or after
                ``entry_time``, the last one at ``exit_time`` (it closes the trade), the
                net_pnl adding up exactly to the trade's net_pnl and the fees to ``fees``.
                A trade recorded with them counts as built from events from ``entry_time``
                on: the lived range (all-time windows, daily returns) reaches its entry day,
                as its open_trade did. None or empty records the trade whole.

        Returns:
            The closed ``Trade``.

        Raises:
            InvalidTradeError: For any invalid field (see docs/reference.md).
            DuplicateTradeError: When ``trade_id`` is taken by an open trade or by a closed
                trade with different content.
        """
        sym, side_, qty, entry, exit_, t_in, t_out, fee, strat, stop, target, tag_names = (
            round_trip_fields(
                symbol,
                side,
                quantity,
                entry_price,
                exit_price,
                entry_time,
                exit_time,
                fees,
                strategy,
                stop_price,
                target_price,
                tags,
            )
        )
        tid = None if trade_id is None else to_name("trade_id", trade_id)
        idea = None if idea_id is None else to_name("idea_id", idea_id)
        given_net = to_optional_decimal("net_pnl", net_pnl, minimum="any")
        schedule = None if realizations is None else to_realizations(realizations)
        # A trade realized in steps was built from events: its entry price is the average
        # after any scale-ins, which may reach its stop or target, checked against the entry
        # the trade opened at. Its export must record again, so only the times are checked.
        _check_round_trip(t_in, t_out, side_, entry, stop, target, levels=not schedule)
        pending: list[tuple[Signal, dict[str, Any]]] = []
        with self._lock, localcontext(MONEY_CONTEXT):
            sign = _SIGN[side_]
            net = (exit_ - entry) * qty * sign - fee if given_net is None else given_net
            risk = _risk(entry, stop, qty)
            steps = None if schedule is None else _check_steps(schedule, t_in, t_out, net, fee)
            if tid is None:
                tid = self._new_id()
            trade = _round_trip(
                (tid, sym, strat, side_, qty, entry, exit_, t_in, t_out, fee),
                net,
                stop,
                target,
                tag_names,
                idea,
                risk,
                steps,
            )
            earlier = self._closed_ids.get(tid)
            if earlier is not None:
                if earlier == trade:
                    return earlier
                msg = f"'trade_id' {tid!r} is already used by a closed trade with other content"
                raise DuplicateTradeError(msg)
            if tid in self._open:
                msg = f"'trade_id' {tid!r} is already used by an open trade"
                raise DuplicateTradeError(msg)
            if idea is not None:
                self._ideas.require(idea)
            self._check_retained(t_out, "exit_time")
            if steps is not None:
                self._check_retained(min(s.time for s in steps), "realizations")
            # The arguments as the journal replays them; no observer reads them here (the
            # Trade says everything), so only a sink makes them worth building.
            event = None
            if self._sinks:
                event = {
                    "trade_id": tid,
                    "symbol": sym,
                    "side": side_,
                    "quantity": qty,
                    "entry_price": entry,
                    "exit_price": exit_,
                    "entry_time": t_in,
                    "exit_time": t_out,
                    "fees": fee,
                    "strategy": strat,
                    "stop_price": stop,
                    "target_price": target,
                    "tags": tag_names,
                    "net_pnl": given_net,
                    "idea_id": idea,
                }
                if steps is not None:  # only then: a whole trade's record stays as it was
                    event["realizations"] = [(s.time, s.net_pnl, s.fees) for s in steps]
                self._write_ahead("record_trade", event)
            ordinal = None
            if steps is None:
                ordinal = self._book(t_out, net, fee, trade, trade)
            else:
                self._book_steps(trade, steps)
            self._claim_id(tid)
            self._after_change(t_out, pending, "record_trade", event, trade, ordinal)
            if signals.trade_closed.receivers:  # (the payload is built only for someone)
                pending.insert(0, (signals.trade_closed, {"trade": trade}))
        self._send(pending)
        return trade

    def open_trade(
        self,
        trade_id: str | None,
        *,
        symbol: str,
        side: str,
        quantity: object,
        price: object,
        time: object,
        fees: object = 0,
        strategy: str = "default",
        stop_price: object = None,
        target_price: object = None,
        tags: Iterable[str] | str = (),
        idea_id: str | None = None,
    ) -> OpenTrade | Trade:
        """
        Open a trade. Its entry fee is realized at ``time`` (money leaves the account when the
        fee is paid).

        Thread-safe. Re-sending an identical open for a trade that is still open returns its
        current view and changes nothing; for a trade that has closed since, it returns the
        closed ``Trade`` (recognised for the last 4096 trades closed).

        Returns:
            The ``OpenTrade`` view after the open (or the closed ``Trade``, see above).

        Raises:
            InvalidTradeError: For any invalid field.
            DuplicateTradeError: When ``trade_id`` is taken by another trade.
        """
        sym = to_name("symbol", symbol)
        side_ = to_side(side)
        qty = to_decimal("quantity", quantity)
        px = to_decimal("price", price)
        when = to_time("time", time)
        fee = to_decimal("fees", fees, minimum="nonnegative")
        strat = to_name("strategy", strategy)
        stop = to_optional_decimal("stop_price", stop_price)
        target = to_optional_decimal("target_price", target_price)
        tag_names = to_tags(tags)
        tid = None if trade_id is None else to_name("trade_id", trade_id)
        idea = None if idea_id is None else to_name("idea_id", idea_id)
        _check_levels(side_, px, stop, target)
        pending: list[tuple[Signal, dict[str, Any]]] = []
        with self._lock, localcontext(MONEY_CONTEXT):
            if tid is None:
                tid = self._new_id()
            pos = _Position(
                tid, sym, strat, side_, qty, px, when, fee, stop, target, tag_names, idea
            )
            existing = self._open.get(tid)
            if existing is not None and existing.opened == pos.opened:
                return self._view(existing)
            closed = self._closed_ids.get(tid)
            if closed is not None and self._recent_opens.get(tid) == pos.opened:
                return closed  # re-sent after the trade closed: it counts once
            if existing is not None or closed is not None:
                msg = f"'trade_id' {tid!r} is already used by another trade"
                raise DuplicateTradeError(msg)
            if idea is not None:
                self._ideas.require(idea)
            if fee:
                self._check_retained(when, "time")
            # The arguments as the journal replays them; no observer reads them here (the
            # Trade says everything), so only a sink makes them worth building.
            event = None
            if self._sinks:
                event = {
                    "trade_id": tid,
                    "symbol": sym,
                    "side": side_,
                    "quantity": qty,
                    "price": px,
                    "time": when,
                    "fees": fee,
                    "strategy": strat,
                    "stop_price": stop,
                    "target_price": target,
                    "tags": tag_names,
                    "idea_id": idea,
                }
                self._write_ahead("open_trade", event)
            self._open[tid] = pos
            self._claim_id(tid)
            book = self._symbols.get(sym)
            if book is None:
                # Until the first mark, an open trade is valued at its own entry price.
                book = self._symbols[sym] = _Symbol(px)
            self._move_exposure(book, pos.sign * qty, pos.sign * pos.cost)
            if fee:
                paid = -fee  # one Decimal for the step and the booking
                pos.steps.append(Realization(when, paid, fee))
                self._book(when, paid, fee, pos, None)
            view = self._view(pos)
            pending.append((signals.trade_opened, {"trade": view}))
            self._after_change(when, pending, "open_trade", event, view)
        self._send(pending)
        return view

    def add_to_trade(
        self,
        trade_id: str,
        *,
        quantity: object,
        price: object,
        time: object,
        fees: object = 0,
        event_id: str | None = None,
    ) -> OpenTrade | Trade:
        """
        Scale into an open trade; its entry price becomes the quantity-weighted average.

        Thread-safe. With ``event_id``, re-sending the same scale-in is a no-op that returns
        the trade as it is now (a ``Trade`` if it has closed since).

        Raises:
            UnknownTradeError: When no open trade has ``trade_id``.
            InvalidTradeError: For invalid fields or a time before the trade's entry.
            DuplicateTradeError: When ``event_id`` was used for different content.
        """
        tid = to_name("trade_id", trade_id)
        qty = to_decimal("quantity", quantity)
        px = to_decimal("price", price)
        when = to_time("time", time)
        fee = to_decimal("fees", fees, minimum="nonnegative")
        eid = None if event_id is None else to_name("event_id", event_id)
        pending: list[tuple[Signal, dict[str, Any]]] = []
        with self._lock, localcontext(MONEY_CONTEXT):
            content = ("add", tid, qty, px, when, fee)
            if self._seen_event(eid, content):
                return self._view_or_closed(tid)
            pos = self._open_position(tid)
            _check_not_before(when, pos)
            _check_exact_quantity(pos.qty, qty)
            _check_exact_quantity(pos.entry_qty, qty)
            self._check_retained(when, "time")
            # The arguments as the journal replays them; no observer reads them here (the
            # Trade says everything), so only a sink makes them worth building.
            event = None
            if self._sinks:
                event = {
                    "trade_id": tid,
                    "quantity": qty,
                    "price": px,
                    "time": when,
                    "fees": fee,
                    "event_id": eid,
                }
                self._write_ahead("add_to_trade", event)
            pos.qty += qty
            pos.entry_qty += qty
            added = px * qty
            pos.cost += added
            pos.entry_cost += added
            pos.fees += fee
            pos.realized -= fee
            self._move_exposure(self._symbols[pos.symbol], pos.sign * qty, pos.sign * added)
            if fee:
                paid = -fee  # one Decimal for the step and the booking
                pos.steps.append(Realization(when, paid, fee))
                self._book(when, paid, fee, pos, None)
            self._remember_event(eid, content)
            view = self._view(pos)
            payload = {
                "trade": view,
                "action": "scale_in",
                "quantity": qty,
                "price": px,
                "realized_pnl": -fee,
            }
            pending.append((signals.trade_updated, payload))
            self._after_change(when, pending, "add_to_trade", event, view)
        self._send(pending)
        return view

    def close_trade(
        self,
        trade_id: str,
        *,
        price: object,
        time: object,
        quantity: object = None,
        fees: object = 0,
        event_id: str | None = None,
    ) -> Trade | OpenTrade:
        """
        Exit all (``quantity=None``) or part of an open trade at ``price``.

        The exit's P&L, (price - average entry) x quantity for a long, less its fee, is realized
        at ``time``. Thread-safe. With ``event_id``, re-sending the same exit is a no-op.

        Returns:
            The closed ``Trade`` when nothing is left open, else the ``OpenTrade`` view.

        Raises:
            UnknownTradeError: When no open trade has ``trade_id``.
            InvalidTradeError: For invalid fields, more quantity than is open, or a time
                before the trade's entry.
            DuplicateTradeError: When ``event_id`` was used for different content.
        """
        tid = to_name("trade_id", trade_id)
        px = to_decimal("price", price)
        when = to_time("time", time)
        qty = to_optional_decimal("quantity", quantity)
        fee = to_decimal("fees", fees, minimum="nonnegative")
        eid = None if event_id is None else to_name("event_id", event_id)
        pending: list[tuple[Signal, dict[str, Any]]] = []
        with self._lock, localcontext(MONEY_CONTEXT):
            content = ("close", tid, px, when, qty, fee)
            if self._seen_event(eid, content):
                return self._view_or_closed(tid)
            pos = self._open_position(tid)
            _check_not_before(when, pos)
            out = pos.qty if qty is None else qty
            if out > pos.qty:
                msg = f"'quantity' must not exceed the open quantity {pos.qty} (got {qty!r})"
                raise InvalidTradeError(msg)
            _check_exact_quantity(pos.qty, -out)
            _check_exact_quantity(pos.exit_qty, out)
            self._check_retained(when, "time")
            # The arguments as the journal replays them; no observer reads them here (the
            # Trade says everything), so only a sink makes them worth building.
            event = None
            if self._sinks:
                event = {
                    "trade_id": tid,
                    "price": px,
                    "time": when,
                    "quantity": qty,
                    "fees": fee,
                    "event_id": eid,
                }
                self._write_ahead("close_trade", event)
            basis = pos.cost if out == pos.qty else _basis_share(pos.cost, out, pos.qty)
            gross = (px * out - basis) * pos.sign
            amount = gross - fee
            pos.qty -= out
            pos.cost -= basis
            pos.exit_qty += out
            pos.exit_value += px * out
            pos.fees += fee
            pos.realized += amount
            book = self._symbols[pos.symbol]
            self._move_exposure(book, -pos.sign * out, -pos.sign * basis)
            self._remember_event(eid, content)
            result: Trade | OpenTrade
            if pos.qty:
                pos.steps.append(Realization(when, amount, fee))
                self._book(when, amount, fee, pos, None)
                result = self._view(pos)
                payload = {
                    "trade": result,
                    "action": "partial_exit",
                    "quantity": out,
                    "price": px,
                    "realized_pnl": amount,
                }
                pending.append((signals.trade_updated, payload))
            else:
                del self._open[tid]
                recent = self._recent_opens
                recent[tid] = pos.opened
                if len(recent) > RECENT_OPENS:
                    del recent[next(iter(recent))]
                average_entry = AVERAGE_CONTEXT.divide(pos.entry_cost, pos.entry_qty)
                risk = _risk(average_entry, pos.stop_price, pos.entry_qty)
                trade = Trade(
                    trade_id=tid,
                    symbol=pos.symbol,
                    strategy=pos.strategy,
                    side=pos.side,
                    quantity=pos.entry_qty,
                    entry_price=average_entry,
                    exit_price=AVERAGE_CONTEXT.divide(pos.exit_value, pos.exit_qty),
                    entry_time=pos.entry_time,
                    exit_time=when,
                    fees=pos.fees,
                    net_pnl=pos.realized,
                    stop_price=pos.stop_price,
                    target_price=pos.target_price,
                    tags=pos.tags,
                    idea_id=pos.idea_id,
                    risk=risk,
                    r_multiple=None if risk is None else float(pos.realized / risk),
                    realizations=(*pos.steps, Realization(when, amount, fee)),
                )
                pos.steps.clear()  # the trade holds them now
                self._book(when, amount, fee, pos, trade)
                result = trade
                pending.append((signals.trade_closed, {"trade": trade}))
            self._after_change(when, pending, "close_trade", event, result)
        self._send(pending)
        return result

    def mark_price(
        self, symbol: str, price: object, time: object = None, *, event_id: str | None = None
    ) -> None:
        """
        Value every open trade on ``symbol`` at ``price`` (unrealized P&L and live equity), and
        move the trade ideas on ``symbol`` (see docs/ideas.md).

        ``time`` defaults to now. Thread-safe; costs the same whatever the number of open
        trades, and whatever the number of live ideas on other symbols.

        With ``event_id``, re-sending the same mark is a no-op (a mark with an event_id dated
        in a day retention archived is refused, like trades).

        Raises:
            InvalidTradeError: For an invalid symbol, price or time.
            DuplicateTradeError: When ``event_id`` was used for a different event.
        """
        sym = to_name("symbol", symbol)
        px = to_decimal("price", price)
        when = datetime.now(UTC) if time is None else to_time("time", time)
        eid = None if event_id is None else to_name("event_id", event_id)
        with self._lock, localcontext(MONEY_CONTEXT):
            content = ("mark", sym, px, when)
            if self._seen_event(eid, content):
                return
            pending = self._mark(
                "mark_price",
                sym,
                px,
                when,
                eid,
                content,
                lambda: {"symbol": sym, "price": px, "time": when, "event_id": eid},
            )
        self._send(pending)

    def mark_bar(
        self,
        symbol: str,
        *,
        high: object,
        low: object,
        close: object,
        time: object,
        open: object = None,
        event_id: str | None = None,
    ) -> None:
        """
        One price bar of ``symbol``: trade ideas judge their touches on its high and low (and
        gaps on its open, when given); open trades are valued at its close, as by
        ``mark_price(symbol, close, time)``.

        Thread-safe. With ``event_id``, re-sending the same bar is a no-op.

        Raises:
            InvalidIdeaError: For an invalid symbol, price or time, a low above the high, or
                an open or close outside them.
            DuplicateTradeError: When ``event_id`` was used for a different event.
        """
        bad = InvalidIdeaError
        sym = to_name("symbol", symbol, error=bad)
        hi = to_decimal("high", high, error=bad)
        lo = to_decimal("low", low, error=bad)
        px = to_decimal("close", close, error=bad)
        first = to_optional_decimal("open", open, error=bad)
        when = to_time("time", time, error=bad)
        eid = None if event_id is None else to_name("event_id", event_id, error=bad)
        check_bar(first, hi, lo, px)
        with self._lock, localcontext(MONEY_CONTEXT):
            content = ("bar", sym, first, hi, lo, px, when)
            if self._seen_event(eid, content):
                return
            pending = self._mark(
                "mark_bar",
                sym,
                px,
                when,
                eid,
                content,
                lambda: {
                    "symbol": sym,
                    "open": first,
                    "high": hi,
                    "low": lo,
                    "close": px,
                    "time": when,
                    "event_id": eid,
                },
            )
        self._send(pending)

    def _mark(
        self,
        kind: str,
        sym: str,
        px: Decimal,
        when: datetime,
        eid: str | None,
        content: tuple[object, ...],
        make_event: Callable[[], dict[str, Any]],
    ) -> list[tuple[Signal, dict[str, Any]]]:
        """
        The shared body of mark_price and mark_bar, under the lock.
        """
        pending: list[tuple[Signal, dict[str, Any]]] = []
        if eid is not None:
            # Its id may be forgotten already (see _forget_event_ids): refuse, as for trades,
            # rather than apply a re-sent mark twice.
            self._check_retained(when, "time")
        event = None
        if self._sinks or self._observers:
            event = make_event()
            self._write_ahead(kind, event)
        book = self._symbols.get(sym)
        if book is None:
            book = self._symbols[sym] = _Symbol(px)
        book.mark = px
        self._move_exposure(book, ZERO, ZERO)
        self._remember_event(eid, content)
        self._after_change(when, pending, kind, event, None)
        return pending

    def record_idea(
        self,
        symbol: str,
        side: str,
        entry: object,
        stop: object,
        target: object,
        *,
        confidence: int,
        target2: object = None,
        entry_type: str = "market",
        edges: Iterable[str] | str = (),
        horizon: str | None = None,
        time: object = None,
        expires_after: timedelta = DEFAULT_EXPIRY,
        idea_id: str | None = None,
        rationale: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> Idea:
        """
        Record a trade idea. From now on the prices the tracker sees (``mark_price``,
        ``mark_bar``) resolve it to a win, a loss or an expiry (docs/ideas.md).

        Thread-safe; journaled. Sending the same ``idea_id`` again with identical content is
        a no-op that returns the idea as it is now (without ``time``, the creation time is
        not compared).

        Args:
            symbol, side: What and which way ("long" or "short").
            entry, stop, target: Price levels; a long needs stop < entry < target, a short
                target < entry < stop. Risk (one R) is |entry - stop|.
            confidence: An int from 0 to 5.
            target2: A further target (informational).
            entry_type: "market" (entered at creation), "limit" (entered when the price
                trades at or better than the entry) or "stop" (at or through it).
            edges: The names of the reasons behind the idea.
            horizon: "day", "swing" or None (unclassified).
            time: The creation time (default: now).
            expires_after: How long the idea may stay pending or open (default 7 days).
            idea_id: Defaults to a generated id ("idea-1", ...).
            rationale: Free text.
            context: JSON values (Decimals and datetimes are kept as strings).

        Returns:
            The ``Idea``.

        Raises:
            InvalidIdeaError: For any invalid field.
            DuplicateTradeError: When ``idea_id`` is taken by an idea with other content.
        """
        return self._ideas.apply_record(
            symbol, side, entry, stop, target, confidence, target2, entry_type, edges, horizon,
            time, expires_after, None, idea_id, rationale, context,
        )  # fmt: skip

    def mark_partial(self, day: date | datetime | str, reason: str = "incomplete input") -> None:
        """
        Record that the input of a session day is incomplete (a missing log file, a cut line):
        every summary whose window contains that day says ``partial=True``. Thread-safe;
        journaled.

        Raises:
            InvalidInputError: For a bad day.
        """
        bound = to_date_or_time("day", day)
        reason = to_name("reason", reason, error=InvalidInputError)
        with self._lock:
            cal = self._calendar
            ordinal = (
                cal.session_of(bound) if isinstance(bound, datetime) else cal.session_of_date(bound)
            )
            if ordinal in self._partial_days:
                return
            if self._sinks:
                self._write_ahead("mark_partial", {"day": bound, "reason": reason})
            self._partial_days.add(ordinal)

    # -- queries ---------------------------------------------------------------------------

    def summary(
        self,
        period: str = "all",
        *,
        at: date | datetime | str | None = None,
        start: date | datetime | str | None = None,
        end: date | datetime | str | None = None,
        strategy: str | None = None,
        symbol: str | None = None,
        side: str | None = None,
        tag: str | None = None,
    ) -> Summary:
        """
        Performance over one window.

        ``period`` "day", "week" or "month" picks the period containing ``at`` (default: now).
        "all" covers everything, or the range given by ``start``/``end``: dates are inclusive
        session days, datetimes the half-open range [start, end). Filters combine (AND).

        Thread-safe. Merges per-day aggregates: the cost does not grow with the number of
        trades in history.

        Raises:
            InvalidInputError: For an unknown period, a bad bound or filter.
        """
        if (
            period == "all"
            and start is None
            and end is None
            and strategy is None
            and (symbol is None and side is None and tag is None)
        ):
            # The dashboard's question (every trade, all time): what the general path below
            # gives for it, without its parsing.
            with self._lock, localcontext(MONEY_CONTEXT):
                return self._summary(_NO_SCOPE, "all", None, None, None, None)
        key = _key(strategy, symbol, side, tag)
        window = self._window_args(period, at, start, end)
        with self._lock, localcontext(MONEY_CONTEXT):
            return self._summary(key, *window)

    def rolling(
        self,
        n: int,
        *,
        strategy: str | None = None,
        symbol: str | None = None,
        side: str | None = None,
        tag: str | None = None,
    ) -> Summary:
        """
        Performance of the last ``n`` closed trades (in close order), optionally filtered.

        Trade statistics and the drawdown of their cumulative net P&L; no Sharpe, Sortino or
        percentage drawdown (those are defined on daily returns and equity). Thread-safe;
        O(n) for n up to 512 per filter, a scan beyond.

        Raises:
            InvalidInputError: When ``n`` is not a positive int.
        """
        if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
            msg = f"'n' must be a positive int (got {n!r})"
            raise InvalidInputError(msg)
        key = _key(strategy, symbol, side, tag)
        with self._lock, localcontext(MONEY_CONTEXT):
            trades = self._last_trades(key, n)
            return self._trades_summary(trades, key)

    def breakdown(
        self,
        by: str,
        *,
        period: str = "all",
        at: date | datetime | str | None = None,
        start: date | datetime | str | None = None,
        end: date | datetime | str | None = None,
    ) -> dict[str, Summary]:
        """
        One summary per value of ``by`` ("strategy", "symbol", "side" or "tag") that has
        traded, sorted by value. A trade with several tags counts under each.

        Thread-safe.

        Raises:
            InvalidInputError: For an unknown dimension or period.
        """
        if by not in DIMENSIONS:
            msg = f"'by' must be one of {DIMENSIONS} (got {by!r})"
            raise InvalidInputError(msg)
        window = self._window_args(period, at, start, end)
        slot = DIMENSIONS.index(by)
        with self._lock, localcontext(MONEY_CONTEXT):
            self._drain()
            keys = [
                k
                for k in self._series
                if k[slot] is not None and sum(v is not None for v in k) == 1
            ]
            out: dict[str, Summary] = {}
            for k in sorted(keys, key=lambda k: str(k[slot])):
                out[str(k[slot])] = self._summary(k, *window)
            return out

    def periods(
        self,
        period: str,
        *,
        start: date | datetime | str | None = None,
        end: date | datetime | str | None = None,
        strategy: str | None = None,
        symbol: str | None = None,
        side: str | None = None,
        tag: str | None = None,
    ) -> list[Summary]:
        """
        One summary per day, ISO week or month from ``start`` to ``end`` (default: the first
        to the newest event), in order, empty periods included. Thread-safe.

        Raises:
            InvalidInputError: For an unknown period or a bad bound.
        """
        if period not in ("day", "week", "month"):
            msg = f"'period' must be 'day', 'week' or 'month' (got {period!r})"
            raise InvalidInputError(msg)
        key = _key(strategy, symbol, side, tag)
        first_bound, last_bound = _bounds(start, end)
        with self._lock, localcontext(MONEY_CONTEXT):
            cal = self._calendar
            first, last = self._day_range(first_bound, last_bound)
            first = self._first_day if first is None else first
            last = self._last_day if last is None else last
            if first is None or last is None or last < first:
                return []
            if period == "day":
                spans = [(o, o) for o in cal.session_days(first, last)]
            else:
                spans = []
                ordinal = cal.period_days(period, first)[0]
                while ordinal <= last:
                    spans.append(cal.period_days(period, ordinal))
                    ordinal = spans[-1][1] + 1
            return [self._summary(key, period, lo, hi, None, None) for lo, hi in spans]

    def daily_returns(
        self,
        *,
        start: date | datetime | str | None = None,
        end: date | datetime | str | None = None,
    ) -> list[tuple[date, float | None]]:
        """
        The account's return for each session day in the window (default: the first to the
        newest event): realized P&L of the day / equity at the start of the day; 0.0 on days
        without activity; None on a day that started with equity <= 0. Thread-safe.
        """
        first_bound, last_bound = _bounds(start, end)
        with self._lock, localcontext(MONEY_CONTEXT):
            cal = self._calendar
            if self._first_day is None or self._last_day is None:
                return []
            first, last = self._day_range(first_bound, last_bound)
            first = self._first_day if first is None else max(first, self._first_day)
            last = self._last_day if last is None else min(last, self._last_day)
            series = self._series_for(_NO_SCOPE)
            out: list[tuple[date, float | None]] = []
            if series is None:
                return [(date.fromordinal(o), 0.0) for o in cal.session_days(first, last)]
            i = bisect.bisect_left(series.days, first)
            equity = self._start + series.realized_before(i)
            for ordinal in cal.session_days(first, last):
                day_pnl = ZERO
                if i < len(series.days) and series.days[i] == ordinal:
                    bucket = series.buckets[i]
                    bucket.flush()  # folding waits for the first read
                    day_pnl = bucket.realized
                    i += 1
                value = float(day_pnl / equity) if equity > ZERO else None
                out.append((date.fromordinal(ordinal), value))
                equity += day_pnl
            return out

    def equity_curve(self) -> list[tuple[datetime, Decimal]]:
        """
        The realized equity path: the starting equity, then the equity after each instant at
        which P&L or fees were realized (simultaneous realizations form one point).

        Thread-safe. Lists every instant, so it costs O(events).
        """
        with self._lock, localcontext(MONEY_CONTEXT):
            self._drain()
            points: dict[datetime, Decimal] = {}
            for day in self._days.values():
                for event in day:
                    when = event_time(event)
                    points[when] = points.get(when, ZERO) + event_amount(event)
            curve: list[tuple[datetime, Decimal]] = []
            equity = self._start
            ordered = sorted(points.items())
            # Local times with their fixed offsets (as input times are kept): what reads the
            # curve (the report's charts take a timestamp of every point) then never asks
            # the zone's rules again.
            zone = self._calendar.zone
            if ordered:
                first = self._calendar.day_start(self._calendar.session_of(ordered[0][0]))
                curve.append((fixed_offset(first.astimezone(zone)), equity))
            for when, amount in ordered:
                equity += amount
                curve.append((fixed_offset(when.astimezone(zone)), equity))
            return curve

    def max_drawdown_period(self) -> tuple[datetime, datetime, Decimal] | None:
        """
        When the deepest fall in money of the realized equity path began (its peak) and ended
        (its trough), and its depth; None when the equity never fell. The first such episode
        when several are equally deep. Thread-safe; walks the equity curve, O(instants).
        """
        curve = self.equity_curve()
        best: tuple[datetime, datetime, Decimal] | None = None
        peak_time, peak = None, None
        # The depth is money: in the money context, not the caller's (a bot's prec = 5).
        subtract = MONEY_CONTEXT.subtract
        for when, equity in curve:
            if peak is None or equity > peak:
                peak_time, peak = when, equity
            elif peak_time is not None:
                depth = subtract(peak, equity)
                if depth > (best[2] if best else 0):
                    best = (peak_time, when, depth)
        return best

    def trades(
        self,
        *,
        start: date | datetime | str | None = None,
        end: date | datetime | str | None = None,
        strategy: str | None = None,
        symbol: str | None = None,
        side: str | None = None,
        tag: str | None = None,
    ) -> list[Trade]:
        """
        The closed trades in close order, optionally within a window and filtered.
        Thread-safe.
        """
        key = _key(strategy, symbol, side, tag)
        lo_bound, hi_bound = _bounds(start, end)
        with self._lock:
            closed = self._closed
            lo = 0
            hi = len(closed)
            if lo_bound is not None:
                when = self._instant(lo_bound, is_end=False)
                lo = bisect.bisect_left(closed, when, key=_exit_time)
            if hi_bound is not None:
                when = self._instant(hi_bound, is_end=True)
                hi = bisect.bisect_left(closed, when, key=_exit_time)
            window = closed[lo:hi]
            if key == _NO_SCOPE:
                return window
            return [t for t in window if _matches_source(key, t)]

    @property
    def open_trades(self) -> list[OpenTrade]:
        """
        The open trades, in the order they were opened, each with its unrealized P&L.
        Thread-safe.
        """
        with self._lock, localcontext(MONEY_CONTEXT):
            return [self._view(pos) for pos in self._open.values()]

    @property
    def live(self) -> LiveStats:
        """
        The account right now: equity marked to market, realized and unrealized P&L, and the
        drawdown of the marked-to-market equity path. Thread-safe.
        """
        with self._lock, localcontext(MONEY_CONTEXT):
            return self._live_stats()

    @property
    def clock(self) -> datetime | None:
        """
        The newest event time the tracker has seen, or None before the first event.
        Thread-safe.
        """
        return self._clock

    # -- internals: events -----------------------------------------------------------------

    def _new_id(self) -> str:
        """
        The next free generated id. It is only claimed (``_claim_id``) once the call succeeds,
        so a failed call leaves the sequence as it was.
        """
        n = self._next_id
        tid = f"pt-{n}"
        while tid in self._open or tid in self._closed_ids:
            n += 1
            tid = f"pt-{n}"
        return tid

    def _claim_id(self, tid: str) -> None:
        n = generated_number(tid, "pt-")
        if n is not None and n >= self._next_id:
            self._next_id = n + 1

    def _seen_event(self, eid: str | None, content: tuple[object, ...]) -> bool:
        if eid is None:
            return False
        earlier = self._event_ids.get(eid)
        if earlier is None:
            return False
        if earlier == content:
            return True
        msg = f"'event_id' {eid!r} was already used for a different event"
        raise DuplicateTradeError(msg)

    def _remember_event(self, eid: str | None, content: tuple[object, ...]) -> None:
        if eid is not None:
            self._event_ids[eid] = content

    def _open_position(self, tid: str) -> _Position:
        pos = self._open.get(tid)
        if pos is None:
            state = "closed" if tid in self._closed_ids else "unknown"
            msg = f"'trade_id' is not an open trade ({state}; got {tid!r})"
            raise UnknownTradeError(msg)
        return pos

    def _view_or_closed(self, tid: str) -> Trade | OpenTrade:
        pos = self._open.get(tid)
        return self._view(pos) if pos is not None else self._closed_ids[tid]

    def _move_exposure(self, book: _Symbol, qty: Decimal, cost: Decimal) -> None:
        book.qty += qty
        book.cost += cost
        value = book.mark * book.qty - book.cost
        self._unrealized += value - book.unrealized
        book.unrealized = value

    def _keys(
        self, strategy: str, symbol: str, side: str, tags: tuple[str, ...]
    ) -> tuple[Key, ...]:
        cache_key = (strategy, symbol, side, tags)
        keys = self._keys_cache.get(cache_key)
        if keys is None:
            base: list[Key] = [
                _NO_SCOPE,
                (strategy, None, None, None),
                (None, symbol, None, None),
                (None, None, side, None),
            ]
            base += [(None, None, None, t) for t in tags]
            base += [k for k in self._combos if _matches(k, strategy, symbol, side, tags)]
            keys = self._keys_cache[cache_key] = tuple(base)
        return keys

    def _book(
        self,
        when: datetime,
        amount: Decimal,
        fee: Decimal,
        source: _Position | Trade,
        closed: Trade | None,
    ) -> int:
        """
        Realize ``amount`` (fees included) at ``when`` for ``source``'s buckets and, when the
        event closes a trade, add the trade to history. Returns the session day of ``when``.
        """
        ordinal = self._calendar.session_of(when)
        if closed is not None:
            self._add_closed(closed)
        # A trade realized whole is its own event; anything else is a small tuple.
        event: Event = closed if closed is source else (when, amount, fee, closed, source)
        self._realized += amount
        self._booked.append((when, amount, source))
        # The day list and the filter keys' buckets take the event at the next read (or once
        # a batch has gathered): the bot's call pays one append, not one per filter key.
        unindexed = self._unindexed
        unindexed.append((ordinal, event, source, closed))
        if len(unindexed) >= INDEX_BATCH:
            self._drain()
        return ordinal

    def _drain(self) -> None:
        """
        Put the events booked since the last drain into their day lists and filter-key buckets,
        in booking order. Every reader of ``_days`` or ``_series`` calls this first (under the
        lock); until then those hold exactly the events booked before the pending ones, so a
        bucket rebuilt from its day while draining sees only what was indexed before it.
        """
        pending = self._unindexed
        if not pending:
            return
        self._unindexed = []
        days = self._days
        # A journal replay (restore) queues without folding, as a snapshot load does.
        bulk = self._replaying
        for ordinal, event, source, closed in pending:
            day = days.get(ordinal)
            if day is None:
                day = days[ordinal] = []
            day.append(event)
            self._index(ordinal, event, source, closed, bulk=bulk)

    def _book_replayed_trades(self, trades: list[Trade], ordinals: list[int]) -> None:
        """
        Book closed trades of a journal replay, in order, as ``record_trade`` would one by one
        (``_book``, ``_claim_id``, ``_after_change``), but a run at a time: history and the
        id registry extended at once, each consecutive run of one session day indexed like a
        snapshot's day. ``ordinals`` are the trades' session days. Only for what the trusted
        replay admits: no sink, observer or receiver, free ids, no idea, retained days.
        Call under the lock, in MONEY_CONTEXT.
        """
        self._drain()  # what the replay booked one by one before comes first in the days
        closed = self._closed
        exits = list(map(operator.attrgetter("exit_time"), trades))
        if all(map(operator.le, exits, exits[1:])) and (
            not closed or closed[-1].exit_time <= exits[0]
        ):
            closed.extend(trades)
            ids = map(operator.attrgetter("trade_id"), trades)
            self._closed_ids.update(zip(ids, trades, strict=True))
        else:
            for trade in trades:
                self._add_closed(trade)
        days = self._days
        # Each run of trades on one session day goes into its day and its buckets at once.
        cuts = itertools.compress(range(1, len(trades)), map(operator.ne, ordinals[1:], ordinals))
        for first, end in itertools.pairwise([0, *cuts, len(trades)]):
            ordinal = ordinals[first]
            run = trades[first:end]
            day = days.get(ordinal)
            if day is None:
                day = days[ordinal] = []
            day.extend(run)
            _persist.index_trades(self, ordinal, run)
        # The equity path moves with every event: its peak and drawdowns see each one. The
        # clock, realized P&L and equity after each trade, as record_trade moves them.
        clock = self._clock
        if (clock is None or exits[0] > clock) and all(map(operator.lt, exits, exits[1:])):
            clocks = exits  # each trade moves the clock on (the usual case)
        else:
            clocks = list(
                itertools.accumulate(exits, max)
                if clock is None
                else itertools.accumulate(exits, max, initial=clock)
            )[-len(trades) :]
        realized = list(
            itertools.accumulate(
                map(operator.attrgetter("net_pnl"), trades), initial=self._realized
            )
        )
        start, unrealized = itertools.repeat(self._start), itertools.repeat(self._unrealized)
        equities = list(map(operator.add, map(operator.add, start, realized[1:]), unrealized))
        self._live.update_many(clocks, equities)
        self._clock, self._realized = clocks[-1], realized[-1]
        low, high = min(ordinals), max(ordinals)
        if self._first_day is None or low < self._first_day:
            self._first_day = low
        if self._last_day is None or high > self._last_day:
            self._last_day = high
        # Generated ids ("pt-<n>") move the id counter, as _claim_id does for each (the rule
        # of generated_number, a column at a time).
        ids = map(operator.attrgetter("trade_id"), trades)
        generated = filter(operator.methodcaller("startswith", "pt-"), ids)
        numbers = filter(str.isdecimal, map(operator.itemgetter(slice(3, None)), generated))
        self._next_id = max(self._next_id, max(map(int, numbers), default=-1) + 1)

    def _index(
        self,
        ordinal: int,
        event: Event,
        source: _Position | Trade,
        closed: Trade | None,
        *,
        bulk: bool = False,
    ) -> None:
        """
        Queue ``event`` in the bucket of every filter key of ``source`` on day ``ordinal``;
        ``bulk`` (restore) leaves every fold to the first read.
        """
        series_of = self._series
        combo = (source.strategy, source.symbol, source.side, source.tags)
        keys = self._keys_cache.get(combo) or self._keys(*combo)
        exit_time = None if closed is None else closed.exit_time
        for key in keys:
            series = series_of.get(key)
            if series is None:
                series = series_of[key] = _Series(partial(self._key_events, key))
            days = series.days
            if days and days[-1] == ordinal:
                series.buckets[-1].add(event)  # the key's newest day: the usual case
            else:
                i, bucket = series.bucket(ordinal, bulk=bulk)
                bucket.add(event)
                if i != len(days) - 1:
                    # A back-dated day: running sums and the cached all-time prefix after it
                    # are stale. (For the newest day, both already exclude it.)
                    series.changed(i)
            if exit_time is not None:
                recent = series.recent
                if recent and exit_time < recent[-1].exit_time:
                    _push_recent(recent, cast("Trade", closed))
                else:
                    recent.append(cast("Trade", closed))

    def _book_steps(self, trade: Trade, steps: tuple[Realization, ...]) -> None:
        """
        Book a trade recorded with its realizations: each step at its own time, the last one
        closing the trade, as open_trade, add_to_trade and close_trade booked them. The
        clock covers every step and the lived range the entry too, as the open_trade call
        did (``_after_change`` moves them to the exit only).
        """
        # The steps' source names what buckets and rules match on (trade_id, strategy, symbol,
        # side, tags: all they read of a source); a snapshot refers to the trade instead.
        source = cast(
            "_Position | Trade",
            _persist.ArchivedSource(
                trade.trade_id, trade.strategy, trade.symbol, trade.side, trade.tags
            ),
        )
        *earlier, last = steps
        for step in earlier:
            self._book(step.time, step.net_pnl, step.fees, source, None)
            if self._clock is None or step.time > self._clock:
                self._clock = step.time
            # The live equity path moves at each step, as the event that booked it moved it
            # (the exit's move is _after_change's).
            self._live.update(self._clock, self._start + self._realized + self._unrealized)
        self._book(last.time, last.net_pnl, last.fees, source, trade)
        session_of = self._calendar.session_of
        days = [session_of(trade.entry_time), *(session_of(s.time) for s in earlier)]
        if self._first_day is None or min(days) < self._first_day:
            self._first_day = min(days)
        if self._last_day is None or max(days) > self._last_day:
            self._last_day = max(days)

    def _add_closed(self, trade: Trade) -> None:
        closed = self._closed
        exit_time = trade.exit_time
        if not closed or exit_time >= closed[-1].exit_time:
            closed.append(trade)
        else:
            closed.insert(bisect.bisect_right(closed, exit_time, key=_exit_time), trade)
        self._closed_ids[trade.trade_id] = trade

    def _key_events(self, key: Key, ordinal: int) -> list[Event]:
        return self._events(ordinal, key)

    def _events(
        self,
        ordinal: int,
        key: Key,
        lo: datetime | None = None,
        hi: datetime | None = None,
    ) -> list[Event]:
        """
        The raw events of one day that belong to ``key``, optionally within [lo, hi).
        """
        return [
            e
            for e in self._days.get(ordinal, ())
            if _matches_source(key, event_source(e)) and _inside(event_time(e), lo, hi)
        ]

    def _replay_component(self, kind: str, payload: dict[str, Any]) -> object:
        """
        Re-apply a journaled component event: kind "ideas.annotate" calls
        ``self._components["ideas"].annotate(**payload)``.
        """
        name, _, method = kind.partition(".")
        component = self._components.get(name)
        if component is None or not method:
            msg = f"'kind' names no component event (got {kind!r})"
            raise InvalidInputError(msg)
        return getattr(component, method)(**payload)

    def _write_ahead(self, kind: str, event: dict[str, Any]) -> None:
        for sink in self._sinks:
            sink(kind, event)

    def _after_change(
        self,
        when: datetime,
        pending: list[tuple[Signal, dict[str, Any]]],
        kind: str,
        event: dict[str, Any] | None,
        result: object,
        ordinal: int | None = None,
    ) -> None:
        """
        Advance the clock and the live equity path after an accepted event, queue the
        equity-changed signal and let observers see the event. ``ordinal`` is the session
        day of ``when`` when the caller knows it already.
        """
        if self._clock is None or when > self._clock:
            self._clock = when
        # The lived range, from the earliest to the newest event's session day, bounds the
        # days that count in all-time windows and daily returns.
        if ordinal is None:
            ordinal = self._calendar.session_of(when)
        if self._first_day is None or ordinal < self._first_day:
            self._first_day = ordinal
        if self._last_day is None or ordinal > self._last_day:
            self._last_day = ordinal
        self._live.update(self._clock, self._start + self._realized + self._unrealized)
        if signals.equity_changed.receivers:
            pending.append((signals.equity_changed, {"live": self._live_stats()}))
        for observer in self._observers:
            observer(kind, event, result, pending)
        self._booked.clear()

    def _send(self, pending: list[tuple[Signal, dict[str, Any]]]) -> None:
        """
        Deliver queued signals, outside the lock. A receiver that raises is logged and does not
        keep the others from the signal. The signals of an event a receiver records (on this
        thread, into any tracker) follow those being delivered, so receivers see every
        thread's events in the order they changed the state.
        """
        if not pending:
            return  # the usual call: no receivers (and nothing to order)
        queue = _DELIVERY.__dict__.get("queue")
        if queue is not None:
            # A receiver of this thread called back with an event: its signals go out after
            # those being delivered, which tell of the state before it (never in between).
            queue.extend((self, signal, payload) for signal, payload in pending)
            return
        queue = _DELIVERY.queue = deque((self, signal, payload) for signal, payload in pending)
        try:
            while queue:
                sender, signal, payload = queue.popleft()
                if not signal.receivers:
                    continue
                for receiver in signal.receivers_for(sender):
                    try:
                        receiver(sender, **payload)
                    except Exception:
                        log.exception(
                            "perftrack.listener_failed",
                            signal=getattr(signal, "name", repr(signal)),
                            receiver=repr(receiver),
                        )
        finally:
            _DELIVERY.queue = None

    # -- internals: views ------------------------------------------------------------------

    def _view(self, pos: _Position) -> OpenTrade:
        mark = self._symbols[pos.symbol].mark
        return OpenTrade(
            trade_id=pos.trade_id,
            symbol=pos.symbol,
            strategy=pos.strategy,
            side=pos.side,
            quantity=pos.qty,
            entry_price=AVERAGE_CONTEXT.divide(pos.cost, pos.qty),
            entry_time=pos.entry_time,
            fees=pos.fees,
            realized_pnl=pos.realized,
            mark_price=mark,
            unrealized_pnl=(mark * pos.qty - pos.cost) * pos.sign,
            stop_price=pos.stop_price,
            target_price=pos.target_price,
            tags=pos.tags,
            idea_id=pos.idea_id,
            exited_quantity=pos.exit_qty,
        )

    def _live_stats(self) -> LiveStats:
        peak, max_dd, max_pct, drawdown = self._live.figures()
        equity = self._live.equity
        return LiveStats(
            time=self._clock,
            starting_equity=self._start,
            equity=equity,
            realized_pnl=self._realized,
            unrealized_pnl=self._unrealized,
            peak_equity=peak,
            drawdown=drawdown,
            drawdown_pct=float(drawdown / peak) if peak > ZERO else None,
            max_drawdown=max_dd,
            max_drawdown_pct=float(max_pct),
            open_trades=len(self._open),
        )

    # -- internals: windows ----------------------------------------------------------------

    def _window_args(
        self,
        period: str,
        at: date | datetime | str | None,
        start: date | datetime | str | None,
        end: date | datetime | str | None,
    ) -> tuple[str, int | None, int | None, datetime | None, datetime | None]:
        """
        (period, first day, last day, start instant, end instant) of a requested window.
        Days are inclusive session-day bounds (None: open); instants cut the edge days.
        """
        if period not in PERIODS:
            msg = f"'period' must be one of {PERIODS} (got {period!r})"
            raise InvalidInputError(msg)
        cal = self._calendar
        if period != "all":
            if start is not None or end is not None:
                msg = f"'start' and 'end' go with period='all' (got period={period!r})"
                raise InvalidInputError(msg)
            when = datetime.now(UTC) if at is None else to_date_or_time("at", at)
            ordinal = (
                cal.session_of(when) if isinstance(when, datetime) else cal.session_of_date(when)
            )
            lo, hi = cal.period_days(period, ordinal)
            return period, lo, hi, None, None
        lo_bound, hi_bound = _bounds(start, end)
        first, last = self._day_range(lo_bound, hi_bound)
        # A datetime bound cuts its edge day from raw events, unless it falls on the day's own
        # boundary, where the whole bucket serves.
        t_start = t_end = None
        if isinstance(lo_bound, datetime) and lo_bound != cal.day_start(_day(first)):
            t_start = lo_bound
        if isinstance(hi_bound, datetime) and hi_bound != cal.day_end(_day(last)):
            t_end = hi_bound
        label = "all" if start is None and end is None else "custom"
        return label, first, last, t_start, t_end

    def _day_range(
        self, lo_bound: date | datetime | None, hi_bound: date | datetime | None
    ) -> tuple[int | None, int | None]:
        """
        The first and last session days (None: open) that a window's bounds reach. Dates are
        inclusive session days; datetimes the half-open range [start, end), so an end at a
        day's very start does not reach that day.
        """
        cal = self._calendar
        first = last = None
        if isinstance(lo_bound, datetime):
            first = cal.session_of(lo_bound)
        elif lo_bound is not None:
            first = cal.range_start_day(lo_bound)
        if isinstance(hi_bound, datetime):
            last = cal.session_of(hi_bound - _INSTANT)
        elif hi_bound is not None:
            last = cal.range_end_day(hi_bound)
        return first, last

    def _series_for(self, key: Key) -> _Series | None:
        self._drain()
        series = self._series.get(key)
        if series is None and sum(v is not None for v in key) > 1:
            series = self._register_combo(key)
        return series

    def _register_combo(self, key: Key) -> _Series:
        """
        Start keeping buckets for a filter combining several dimensions, built once from the
        raw events and maintained from then on like the single-dimension ones.
        """
        if self._detail is not None:
            # A lazily restored tracker reads its detail now, before the new series exists:
            # reading it fills every series' rolling window, and this one fills its own below.
            _persist.load_detail(self)
        self._combos.add(key)
        self._keys_cache.clear()
        series = self._series[key] = _Series(partial(self._key_events, key))
        series.complete_from = self._archived_before
        for ordinal in sorted(self._days):
            events = self._events(ordinal, key)
            if events:
                _i, bucket = series.bucket(ordinal)
                bucket.rebuild(events)
        for trade in self._closed:
            if _matches_source(key, trade):
                series.recent.append(trade)
        return series

    def _summary(
        self,
        key: Key,
        period: str,
        first: int | None,
        last: int | None,
        t_start: datetime | None,
        t_end: datetime | None,
    ) -> Summary:
        cal = self._calendar
        series = self._series_for(key)
        lived_lo, lived_hi = self._first_day, self._last_day
        lo = first if first is not None else lived_lo
        hi = last if last is not None else lived_hi
        walk: Walk
        if series is None or lo is None or hi is None or hi < lo:
            walk = Walk(self._start)
        elif first is None and last is None:
            walk = self._all_time(series)
        else:
            walk = self._walk(series, key, lo, hi, t_start, t_end)
        days = 0
        if lived_lo is not None and lived_hi is not None and lo is not None and hi is not None:
            days = cal.count_session_days(max(lo, lived_lo), min(hi, lived_hi))
        # The window's bounds in the tracker's zone (the Summary's start and end) and as UTC
        # instants, which the clock compares with in C: against a dateutil zone each
        # comparison called its utcoffset() in Python, two microseconds of every summary.
        bounds_lo = live_lo = t_start
        bounds_hi = live_hi = t_end
        if t_start is None and lo is not None:
            live_lo, _end, bounds_lo, _local_end = cal.day_bounds(lo)
        if t_end is None and hi is not None:
            _start, live_hi, _local_start, bounds_hi = cal.day_bounds(hi)
        clock = self._clock
        live = (
            clock is not None
            and (live_hi is None or clock < live_hi)
            and (live_lo is None or clock >= live_lo)
        )
        open_count, unrealized = 0, ZERO
        if live:
            for pos in self._open.values():
                if _matches_source(key, pos):
                    open_count += 1
                    mark = self._symbols[pos.symbol].mark
                    unrealized += (mark * pos.qty - pos.cost) * pos.sign
        sharpe, sortino = walk.ratios(days, self._periods_per_year)
        if (
            hi is not None
            and lived_hi is not None
            and self._ends_nonpositive(walk, min(hi, lived_hi))
        ):
            # The path fell to or below zero before the window's last session day: the days
            # after it start with equity <= 0 and have no return (docs/metrics.md).
            sharpe = sortino = None
        partial = bool(self._partial_days) and any(
            (lo is None or d >= lo) and (hi is None or d <= hi) for d in self._partial_days
        )
        # Detail that retention archived cannot serve a filter first asked for afterwards, nor
        # cut an archived day at a datetime bound.
        archived = self._archived_before
        if archived is not None and lo is not None and lo < archived:
            partial = (
                partial
                or (series is not None and series.complete_from is not None)
                or (
                    (t_start is not None and first is not None and first < archived)
                    or (t_end is not None and last is not None and last < archived)
                )
            )
        return _make_summary(
            walk,
            period=period,
            start=bounds_lo,
            end=bounds_hi,
            sharpe=sharpe,
            sortino=sortino,
            max_dd_pct=None if walk.drawdown_pct is None else float(walk.drawdown_pct),
            open_trades=open_count,
            unrealized=unrealized,
            scope=key,
            partial=partial,
        )

    def _ends_nonpositive(self, walk: Walk, last: int | None) -> bool:
        """
        Whether a session day after the walk's last bucket, up to ``last``, starts with
        equity <= 0.
        """
        if walk.last_day is None or last is None or walk.equity > ZERO:
            return False
        return self._calendar.count_session_days(walk.last_day + 1, last) > 0

    def _all_time(self, series: _Series) -> Walk:
        buckets = series.buckets
        if series.prefix is None:
            series.prefix = Walk(self._start)
            series.prefix_n = 0
        prefix = series.prefix
        while series.prefix_n < len(buckets) - 1:
            prefix.add(buckets[series.prefix_n])
            series.prefix_n += 1
        walk = prefix.clone()
        if buckets:
            walk.add(buckets[-1])
        return walk

    def _walk(
        self,
        series: _Series,
        key: Key,
        first: int,
        last: int,
        t_start: datetime | None,
        t_end: datetime | None,
    ) -> Walk:
        days = series.days
        i0 = bisect.bisect_left(days, first)
        i1 = bisect.bisect_right(days, last)
        equity = self._start + series.realized_before(i0)
        if t_start is not None and i0 < i1 and days[i0] == first:
            # The window opens inside its first day: what that day booked before the opening
            # instant belongs to the starting equity, not to the window.
            equity += sum((event_amount(e) for e in self._events(first, key, hi=t_start)), ZERO)
        walk = Walk(equity)
        for i in range(i0, i1):
            ordinal = days[i]
            cut_lo = t_start if ordinal == first else None
            cut_hi = t_end if ordinal == last else None
            if cut_lo is None and cut_hi is None:
                walk.add(series.buckets[i])
                continue
            # An edge of a datetime-bounded window lies inside this day: fold the day's part of
            # the window from its raw events. Only the two edge days ever take this path.
            inside = Bucket(None, ordinal)
            inside.rebuild(self._events(ordinal, key, cut_lo, cut_hi))
            walk.add(inside)
        return walk

    def _last_trades(self, key: Key, n: int) -> list[Trade]:
        series = self._series_for(key)
        if series is None:
            return []
        if self._detail is not None:
            _persist.load_detail(self)  # the rolling windows come with the trade detail
        recent = series.recent
        if n <= len(recent) or len(recent) < ROLLING_CAPACITY:
            return list(recent)[-n:]
        chosen: list[Trade] = []
        for trade in reversed(self._closed):
            if _matches_source(key, trade):
                chosen.append(trade)
                if len(chosen) == n:
                    break
        chosen.reverse()
        return chosen

    def _trades_summary(self, trades: list[Trade], key: Key) -> Summary:
        bucket = Bucket()
        bucket.rebuild(trades)
        walk = Walk(ZERO)
        walk.add(bucket)
        return _make_summary(
            walk,
            period="rolling",
            start=self._calendar.to_local(trades[0].exit_time) if trades else None,
            end=self._calendar.to_local(trades[-1].exit_time) if trades else None,
            sharpe=None,
            sortino=None,
            max_dd_pct=None,
            open_trades=0,
            unrealized=ZERO,
            scope=key,
        )

    def _instant(self, bound: date | datetime, *, is_end: bool) -> datetime:
        if isinstance(bound, datetime):
            return bound
        cal = self._calendar
        if is_end:
            return cal.session_bounds(cal.range_end_day(bound))[1]
        return cal.session_bounds(cal.range_start_day(bound))[0]


def _make_summary(
    walk: Walk,
    *,
    period: str,
    start: datetime | None,
    end: datetime | None,
    sharpe: float | None,
    sortino: float | None,
    max_dd_pct: float | None,
    open_trades: int,
    unrealized: Decimal,
    scope: Key,
    partial: bool = False,
) -> Summary:
    n = walk.n
    div = AVERAGE_CONTEXT.divide
    avg_win = div(walk.win_sum, walk.wins) if walk.wins else None
    avg_loss = div(walk.loss_sum, walk.losses) if walk.losses else None
    payoff = float(avg_win / -avg_loss) if avg_win is not None and avg_loss else None
    profit_factor = float(walk.win_sum / -walk.loss_sum) if walk.loss_sum else None
    total = walk.win_sum + walk.loss_sum
    sqn = None
    if n:
        mean = total / n
        var = walk.sum_sq / n - mean * mean
        # best == worst: every trade has the same P&L, zero deviation however the Decimal
        # arithmetic above rounds.
        if var > ZERO and walk.best != walk.worst:
            sqn = math.sqrt(n) * over_root(mean, var)
    # Positionally, in Summary's field order (new_summary skips attrs' frozen __init__).
    return new_summary(
        period,
        start,
        end,
        n,
        walk.wins,
        walk.losses,
        n - walk.wins - walk.losses,
        walk.wins / n if n else None,
        walk.win_sum,
        walk.loss_sum,
        walk.fees,
        walk.realized,
        avg_win,
        avg_loss,
        payoff,
        profit_factor,
        div(total, n) if n else None,
        walk.best,
        walk.worst,
        walk.trail,
        walk.max_win,
        walk.max_loss,
        walk.max_dd,
        max_dd_pct,
        float(walk.r_sum / walk.r_n) if walk.r_n else None,
        sharpe,
        sortino,
        sqn,
        walk.hold / n if n else None,
        open_trades,
        unrealized,
        partial,
        None if n else "No trades in window",
        {} if scope == _NO_SCOPE else _scope(scope),
    )


def _scope(key: Key) -> dict[str, str]:
    return {dim: v for dim, v in zip(DIMENSIONS, key, strict=True) if v is not None}


_BASIS_PLACES: Final = Decimal("1e-20")


def _basis_share(cost: Decimal, out: Decimal, qty: Decimal) -> Decimal:
    """
    The cost basis a partial exit of ``out`` out of ``qty`` takes: cost x out / qty, rounded
    to 20 decimal places when it does not terminate. Rounding to places (not to significant
    digits) keeps every later subtraction from the remaining cost exact, so the exits of a
    trade always add up to exactly its proceeds - cost.
    """
    share = cost * out / qty
    exponent = share.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -20:
        share = share.quantize(_BASIS_PLACES)
    return share


def _round_trip(
    fields: tuple[Any, ...],
    net: Decimal,
    stop: Decimal | None,
    target: Decimal | None,
    tags: tuple[str, ...],
    idea: str | None,
    risk: Decimal | None,
    realizations: tuple[Realization, ...] | None = None,
) -> Trade:
    """
    The Trade of a round trip given whole: ``fields`` are trade_id, symbol, strategy,
    side, quantity, entry and exit price, entry and exit time and fees (record_trade and its
    journal replay build it alike; ``_round_trips`` builds many a column at a time). Call in
    MONEY_CONTEXT.
    """
    tid, symbol, strategy, side, quantity, entry, exit_, t_in, t_out, fees = fields
    r_multiple = None if risk is None else float(net / risk)
    return new_trade(  # every field, in Trade's order
        tid,
        symbol,
        strategy,
        side,
        quantity,
        entry,
        exit_,
        t_in,
        t_out,
        fees,
        net,
        stop,
        target,
        tags,
        idea,
        risk,
        r_multiple,
        realizations,
    )


def _round_trips(
    fields: tuple[list[Any], ...],
    given: list[Decimal | None] | None,
    stops: list[Decimal | None] | None,
    targets: Iterable[Decimal | None],
    tags: Iterable[tuple[str, ...]],
    ideas: Iterable[str | None],
    *,
    every_stop: bool,
) -> list[Trade]:
    """
    ``_round_trip`` a column at a time: the Trades of many round trips given whole (a journal
    replay's run, an import), computed by mapping the same operators over the columns in
    record_trade's order. ``fields`` are the columns of ``_round_trip``'s fields; ``given``
    the net P&L a source gave (None in a row computes it; None for the column: no row gave
    any); ``stops`` None when no trade has a stop, and ``every_stop`` when each has one (the
    callers know both without asking each value: ``None in`` a list of Decimals is slow).
    Call in MONEY_CONTEXT.
    """
    tids, symbols, strategies, sides, quantities, entries, exits, t_ins, t_outs, fees = fields
    sub, mul = operator.sub, operator.mul
    # (exit - entry) x quantity x sign - fees, unless the source gave its net P&L.
    nets = list(
        map(
            sub,
            map(mul, map(mul, map(sub, exits, entries), quantities), map(_SIGN.get, sides)),
            fees,
        )
    )
    if given is not None:
        nets = [net if g is None else g for net, g in zip(nets, given, strict=True)]
    n = len(nets)
    risks: list[Decimal | None]
    r_multiples: list[float | None]
    if stops is None:
        risks, r_multiples, stops = [None] * n, [None] * n, [None] * n
    else:
        whole = every_stop
        if whole:
            risks = list(map(mul, map(abs, map(sub, entries, stops)), quantities))
            if not all(risks):  # a zero risk (truth tests: no comparison with an int)
                risks = [risk or None for risk in risks]
                whole = False
        else:
            risks = list(map(_risk, entries, stops, quantities))
        if whole:
            r_multiples = list(map(float, map(operator.truediv, nets, risks)))
        else:
            r_multiples = [
                None if risk is None else float(net / risk)
                for net, risk in zip(nets, risks, strict=True)
            ]
    # new_trade, as _round_trip builds one: attrs' frozen __init__ took a fifth longer.
    return list(
        map(
            new_trade,
            tids,
            symbols,
            strategies,
            sides,
            quantities,
            entries,
            exits,
            t_ins,
            t_outs,
            fees,
            nets,
            stops,
            targets,
            tags,
            ideas,
            risks,
            r_multiples,
            itertools.repeat(None),  # realizations: a whole round trip has none
        )
    )


def _check_steps(
    steps: tuple[Realization, ...], t_in: datetime, t_out: datetime, net: Decimal, fees: Decimal
) -> tuple[Realization, ...] | None:
    """
    ``steps`` checked against their trade (call in MONEY_CONTEXT): each at or after the
    entry, the last at the exit, their net_pnl and fees adding up to the trade's. None for an
    empty schedule (the trade is realized whole).

    Raises:
        InvalidTradeError: Naming the step or the sum that does not fit.
    """
    if not steps:
        return None
    for i, step in enumerate(steps):
        if step.time < t_in:
            msg = (
                f"'realizations[{i}].time' must not be before 'entry_time' {t_in.isoformat()} "
                f"(got {step.time.isoformat()})"
            )
            raise InvalidTradeError(msg)
    if steps[-1].time != t_out:
        msg = (
            f"'realizations' must end at 'exit_time' {t_out.isoformat()}: the last step closes "
            f"the trade (got {steps[-1].time.isoformat()})"
        )
        raise InvalidTradeError(msg)
    for name, total, want in (
        ("net_pnl", sum((s.net_pnl for s in steps), ZERO), net),
        ("fees", sum((s.fees for s in steps), ZERO), fees),
    ):
        if total != want:
            msg = f"'realizations' {name} must add up to the trade's {name} {want} (got {total})"
            raise InvalidTradeError(msg)
    return steps


def _risk(entry: Decimal, stop: Decimal | None, quantity: Decimal) -> Decimal | None:
    """
    |entry - stop| x quantity; None without a stop, or when scale-ins moved the average entry
    onto the stop (no risk, so no R-multiple).
    """
    if stop is None:
        return None
    return abs(entry - stop) * quantity or None


def _push_recent(recent: deque[Trade], trade: Trade) -> None:
    if not recent or trade.exit_time >= recent[-1].exit_time:
        recent.append(trade)
        return
    # Out of time order (rare): re-sort the window; the oldest falls out if it is full.
    items = list(recent)
    items.insert(bisect.bisect_right(items, trade.exit_time, key=_exit_time), trade)
    recent.clear()
    recent.extend(items[-ROLLING_CAPACITY:])


def _matches_source(key: Key, source: _Position | Trade) -> bool:
    return _matches(key, source.strategy, source.symbol, source.side, source.tags)


def _exit_time(trade: Trade) -> datetime:
    return trade.exit_time


def _inside(when: datetime, lo: datetime | None, hi: datetime | None) -> bool:
    return (lo is None or when >= lo) and (hi is None or when < hi)


def _key(strategy: object, symbol: object, side: object, tag: object) -> Key:
    return (
        None if strategy is None else to_name("strategy", strategy, error=InvalidInputError),
        None if symbol is None else to_name("symbol", symbol, error=InvalidInputError),
        None if side is None else to_side(side, error=InvalidInputError),
        None if tag is None else to_name("tag", tag, error=InvalidInputError),
    )


def _day(ordinal: int | None) -> int:
    # A datetime bound always gives its session day: only a missing bound gives None.
    assert ordinal is not None
    return ordinal


def _bounds(start: object, end: object) -> tuple[date | datetime | None, date | datetime | None]:
    """
    A window's validated ``start`` and ``end``: dates or aware datetimes, None when open.

    Raises:
        InvalidInputError: For a bad bound, or an end before the start (both dates or both
            datetimes; a mixed pair is not comparable and is taken as given).
    """
    lo = None if start is None else to_date_or_time("start", start)
    hi = None if end is None else to_date_or_time("end", end)
    if (
        lo is not None
        and hi is not None
        and isinstance(lo, datetime) == isinstance(hi, datetime)
        and hi < lo
    ):
        msg = f"'end' must not be before 'start' {lo.isoformat()} (got {hi.isoformat()})"
        raise InvalidInputError(msg)
    return lo, hi


def _check_round_trip(
    t_in: datetime,
    t_out: datetime,
    side: str,
    entry: Decimal,
    stop: Decimal | None,
    target: Decimal | None,
    *,
    levels: bool = True,
) -> None:
    """
    The checks of a round trip recorded whole that span its fields (record_trade and the
    bulk path share them); ``levels`` False skips the stop and target against the entry.
    """
    if t_out < t_in:
        msg = (
            f"'exit_time' must not be before 'entry_time' {t_in.isoformat()} "
            f"(got {t_out.isoformat()})"
        )
        raise InvalidTradeError(msg)
    if levels:
        _check_levels(side, entry, stop, target)


def levels_hold(
    sides: Sequence[str],
    entries: Sequence[Decimal],
    levels: Sequence[Decimal | None],
    *,
    target: bool,
) -> bool:
    """
    ``_check_levels`` a column at a time: whether every stop (or, with ``target``, every
    target) that is given lies on the loss (profit) side of its entry: one comparison a row,
    the longs' and the shorts' each in one pass.
    """
    # (Presence by identity: comparing a Decimal with None asks the numbers ABCs.)
    present = list(map(operator.is_not, levels, itertools.repeat(None)))
    if not any(present):
        return True
    longs = list(map(operator.eq, sides, itertools.repeat("long")))
    shorts = list(map(operator.not_, longs))
    if not all(present):
        longs = list(map(operator.and_, longs, present))
        shorts = list(map(operator.and_, shorts, present))
    # A long's stop below its entry and its target above; a short's the other way round.
    long_side: Callable[[Any, Any], bool] = operator.gt if target else operator.lt
    short_side: Callable[[Any, Any], bool] = operator.lt if target else operator.gt
    compress = itertools.compress
    return all(map(long_side, compress(levels, longs), compress(entries, longs))) and all(
        map(short_side, compress(levels, shorts), compress(entries, shorts))
    )


def _check_levels(side: str, entry: Decimal, stop: Decimal | None, target: Decimal | None) -> None:
    long = side == "long"
    if stop is not None and (stop >= entry if long else stop <= entry):
        where = "below" if long else "above"
        msg = f"'stop_price' must be {where} the entry {entry} for a {side} (got {stop})"
        raise InvalidTradeError(msg)
    if target is not None and (target <= entry if long else target >= entry):
        where = "above" if long else "below"
        msg = f"'target_price' must be {where} the entry {entry} for a {side} (got {target})"
        raise InvalidTradeError(msg)


def _refuse_read_only(kind: str, event: dict[str, Any]) -> None:
    msg = f"the tracker was restored read-only; it accepts no events (got {kind})"
    raise InvalidInputError(msg)


def _refuse_after_close(kind: str, event: dict[str, Any]) -> None:
    msg = f"the tracker is closed; it accepts no more events (got {kind})"
    raise InvalidInputError(msg)


def _check_store(field: str, store: object) -> None:
    if not all(callable(getattr(store, m, None)) for m in ("put", "get", "list", "delete")):
        msg = f"{field!r} must be an ObjectStore (put, get, list, delete) (got {store!r})"
        raise InvalidInputError(msg)


def _check_exact_quantity(held: Decimal, move: Decimal) -> None:
    """
    Refuse a scale-in or exit whose quantity would round when ``held`` moves by ``move``:
    the open and exited quantities must add up exactly to what was entered.
    """
    try:
        _EXACT_QUANTITY.add(held, move)
    except Inexact:
        msg = (
            f"'quantity' must be booked exactly beside the trade's quantity {held}, "
            f"within {MONEY_CONTEXT.prec} significant digits (got {abs(move)})"
        )
        raise InvalidTradeError(msg) from None


def _check_not_before(when: datetime, pos: _Position) -> None:
    if when < pos.entry_time:
        msg = (
            f"'time' must not be before the trade's entry {pos.entry_time.isoformat()} "
            f"(got {when.isoformat()})"
        )
        raise InvalidTradeError(msg)


class _LazyTracker(Tracker):
    """
    A tracker restored read-only whose trade detail is not read yet (``_persist.load_lazily``
    turns it into one): the first read of a detail attribute (closed trades, ids, day events)
    reads the detail and turns it back into a plain ``Tracker``.

    A subclass rather than a ``__getattr__`` on Tracker: defining that hook slows every
    attribute read of every instance about fourfold, about 1 µs per record_trade.
    """

    if not TYPE_CHECKING:  # (hidden from mypy, which would accept any attribute name)

        def __getattr__(self, name: str) -> Any:
            # Reached only when an attribute is missing.
            if name in _persist.LAZY_DETAIL and self.__dict__.get("_detail") is not None:
                _persist.load_detail(self)
                return self.__dict__[name]
            msg = f"{Tracker.__name__!r} object has no attribute {name!r}"
            raise AttributeError(msg)
