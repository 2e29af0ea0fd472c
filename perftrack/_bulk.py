"""
Bulk booking: many ``record_trade`` calls' worth of trades in one tracker operation, for
imports and backfills.

``record_trades(tracker, rows)`` accepts exactly what the same ``record_trade`` calls in
order would accept, raises the error the first failing call would raise, and leaves the
tracker in the state those calls leave it in, but all or nothing: a failing row leaves the
tracker unchanged. The rows are validated with the same ``_convert`` functions (each distinct
text once per batch: prices, sizes and names repeat), booked under one hold of the lock with
the cyclic garbage collector paused, and indexed a session day at a time; the buckets fold at
their first read, as after a restore.

The bulk path applies only when nothing could tell the difference from one call per row: no
sink (journal), observer (alerts, ideas, the store's snapshot cadence), or signal receiver
sees trades one at a time, and no row names an idea or gives realizations (steps). Otherwise
the rows go through ``record_trade`` one by one. ``import_into_store`` is the variant for a
tracker with a store: the import is one journal record and one snapshot instead of a record
per trade.

Thread-safe: each call is one operation under the tracker's lock.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal, localcontext
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from perftrack import _persist, signals
from perftrack._convert import (
    EARLIEST,
    LATEST,
    generated_number,
    to_decimal,
    to_name,
    to_optional_decimal,
    to_side,
    to_tags,
    to_time,
)
from perftrack._model import MONEY_CONTEXT, RECORD_TRADE_ARGS
from perftrack._rows import TradeRows
from perftrack.errors import DuplicateTradeError, InvalidInputError, InvalidTradeError

if TYPE_CHECKING:
    from perftrack._model import Trade
    from perftrack._tracker import Tracker

__all__ = ["import_into_store", "record_trades"]

_ARGS: Final = frozenset(RECORD_TRADE_ARGS)
_REQUIRED: Final = frozenset(
    {"symbol", "side", "quantity", "entry_price", "exit_price", "entry_time", "exit_time"}
)
IMPORT_KIND: Final = _persist.IMPORT_KIND
_exit_time: Final = operator.attrgetter("exit_time")
#: record_trade's defaults, for the columns a batch's rows leave out.
_DEFAULTS: Final[dict[str, Any]] = {
    "fees": 0,
    "strategy": "default",
    "stop_price": None,
    "target_price": None,
    "tags": (),
    "trade_id": None,
    "net_pnl": None,
    "idea_id": None,
}


def record_trades(tracker: Tracker, rows: Sequence[Mapping[str, Any]]) -> int:
    """
    Record every row (``record_trade`` keyword arguments) in order; returns how many trades
    were added (a row repeating a recorded trade, same id and content, adds none).

    Raises:
        InvalidTradeError, DuplicateTradeError: As the first failing ``record_trade`` call
            would; on the bulk path nothing of the batch is recorded then.
    """
    shapes = _row_shapes(rows)
    with tracker._lock:
        # Decided under the lock: a close() or a new observer cannot slip in between.
        if _may_go_bulk(tracker, rows, shapes):
            with localcontext(MONEY_CONTEXT), _persist._collector_paused(long_lived=True):
                trades = _validated(tracker, rows, shapes)
                _book_all(tracker, trades)
            return len(trades)
    return _one_by_one(tracker, rows)  # (a closed tracker refuses the first row there)


def import_into_store(
    tracker: Tracker, rows: Sequence[Mapping[str, Any]], partial_days: Sequence[date] = ()
) -> int:
    """
    Record ``rows`` in a tracker that has a store, and mark ``partial_days`` partial, as one
    operation: one journal record (kind ``import_trades``, saying how many trades) and then
    one snapshot holding them, instead of a journal record per trade. Returns the trades
    added.

    A crash before the snapshot is written leaves the store without the import (the record
    alone restores as nothing, with a problem in ``restore_report``); after, with all of it.
    Falls back to one ``record_trade`` per row (journaled) when observers other than the
    store's own would see the trades, or when the import would archive days on the way.

    Raises:
        StoreError: When the record cannot be written (nothing changed), or the snapshot
            cannot: the trades stay booked and the snapshot is owed, written by the next
            ``flush``, ``close`` (which raises while it cannot), snapshot cadence or the same
            import again; until then a restore would not have the import.
    """
    shapes = _row_shapes(rows)
    journal = tracker._journal
    with tracker._lock:
        # Decided under the lock: a close() or a new observer cannot slip in between.
        if journal is not None and _may_go_bulk(tracker, rows, shapes, with_store=True):
            with localcontext(MONEY_CONTEXT), _persist._collector_paused(long_lived=True):
                trades = _validated(tracker, rows, shapes)
                if trades and not _would_archive(tracker, trades):
                    _import_locked(tracker, journal, trades, partial_days)
                    return len(trades)
    added = _one_by_one(tracker, rows)
    for day in partial_days:
        tracker.mark_partial(day, reason="incomplete input")
    if (added or tracker._snapshot_owed) and journal is not None:
        tracker.save_snapshot()  # (a retry of an import whose snapshot failed writes it now)
    return added


def _import_locked(
    tracker: Tracker, journal: _persist.Journal, trades: list[Trade], partial_days: Sequence[date]
) -> None:
    """
    Journal the import record, book ``trades``, mark ``partial_days`` and snapshot. Raises
    StoreError: from the record's write with nothing changed (the record is not left queued,
    so no later flush writes it); from the snapshot with the trades booked and the snapshot
    owed (``Tracker._snapshot_owed``): flush, close, the snapshot cadence or the same import
    again write it, and until then a restore would not have the import. Call under the lock,
    in MONEY_CONTEXT.
    """
    days = [tracker._calendar.session_of_date(d) for d in partial_days]
    journal.write_now(IMPORT_KIND, {"trades": len(trades), "partial_days": len(days)})
    _book_all(tracker, trades)
    tracker._partial_days.update(days)
    # The horizon moves as record_trade's observer moves it (nothing is archived: the import
    # would have gone one by one), so that a row older than it is refused from now on.
    tracker._apply_retention(IMPORT_KIND, None, None, [])
    _fold_all_trades_key(tracker)
    tracker._snapshot_owed = True
    tracker._save_snapshot_locked()


def _fold_all_trades_key(tracker: Tracker) -> None:
    """
    Fold the buckets of the key every unfiltered summary reads (all trades), so that the
    snapshot holds them folded and a read-only summary of the store needs no trade detail
    (``_persist.load_lazily``). The other keys stay queued: a filtered query folds them, from
    the detail, when first asked. Call under the lock, in MONEY_CONTEXT.
    """
    from perftrack._tracker import _NO_SCOPE  # noqa: PLC0415

    series = tracker._series.get(_NO_SCOPE)
    for bucket in series.buckets if series is not None else ():
        bucket.flush()


def _row_shapes(rows: Sequence[Mapping[str, Any]]) -> set[tuple[str, ...]]:
    """
    The rows' shapes (their field names, in order; a batch shares one or a few), each row a
    mapping of record_trade's arguments with the required ones; else InvalidTradeError
    naming the first row that is not, before any row is recorded (the one-by-one path
    recorded the rows before a malformed one and then raised TypeError). Finding the shapes
    hashes every row's fields: done once, for the bulk path's checks too.
    """
    # The usual batch: dicts of a few shapes, each checked once (a million rows' loop in
    # Python cost half a second), or columns of one; otherwise row by row, to name the first
    # bad one.
    if type(rows) is TradeRows and _REQUIRED <= set(rows.fields) <= _ARGS:
        return {rows.fields}
    if set(map(type, rows)) <= {dict}:
        shapes = set(map(tuple, rows))
        if all(_REQUIRED <= set(shape) <= _ARGS for shape in shapes):
            return shapes
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            msg = f"'trades[{i}]' must be a mapping of record_trade arguments (got {row!r})"
            raise InvalidTradeError(msg)
        fields = set(row)
        if _REQUIRED <= fields <= _ARGS:
            continue
        unknown = sorted(map(repr, fields - _ARGS))
        if unknown:
            msg = f"'trades[{i}]' has an unknown field {unknown[0]} (got {dict(row)!r})"
        else:
            missing = sorted(_REQUIRED - fields)[0]
            msg = f"'trades[{i}]' has no {missing!r} (got {dict(row)!r})"
        raise InvalidTradeError(msg)
    return set(map(tuple, rows))


def _one_by_one(tracker: Tracker, rows: Sequence[Mapping[str, Any]]) -> int:
    before = len(tracker._closed_ids)
    for row in rows:
        tracker.record_trade(**row)
    return len(tracker._closed_ids) - before


def _may_go_bulk(
    tracker: Tracker,
    rows: Sequence[Mapping[str, Any]],
    shapes: set[tuple[str, ...]],
    *,
    with_store: bool = False,
) -> bool:
    """
    Whether the rows (of ``shapes``, from ``_row_shapes``) may take the bulk path: nothing
    but the tracker's state would see their trades (see the module docstring); anything else
    goes the long way, to the same result or the same error.
    """
    if with_store:
        own = {tracker._snapshot_cadence, tracker._apply_retention}
        journal = tracker._journal
        if journal is None or tracker._sinks != [journal.sink]:
            return False
        if any(observer not in own for observer in tracker._observers):
            return False
    elif tracker._sinks or tracker._observers:
        return False
    if signals.trade_closed.receivers or signals.equity_changed.receivers:
        return False
    fields = set().union(*shapes)
    # An idea to link, or steps to book (record_trade's own path), in any row.
    return not any(
        name in fields and any(value is not None for value in _values(rows, name))
        for name in ("idea_id", "realizations")
    )


def _values(rows: Sequence[Mapping[str, Any]], field: str) -> Iterable[Any]:
    """
    Field ``field`` of each row (None where a row has none).
    """
    if type(rows) is TradeRows:
        return rows.column(field)
    return (row.get(field) for row in rows)


def _would_archive(tracker: Tracker, trades: list[Trade]) -> bool:
    """
    Whether booking ``trades`` one by one would move the retention horizon (days archived
    on the way, later rows refused): then the import is not one step.
    """
    retention = tracker._retention
    if retention is None or not trades:
        return False
    newest = max(t.exit_time for t in trades)
    if tracker._clock is not None and tracker._clock > newest:
        newest = tracker._clock
    calendar = tracker._calendar
    horizon = calendar.session_of(newest - retention)
    if tracker._archived_before is not None and horizon <= tracker._archived_before:
        return False
    earliest = min(t.exit_time for t in trades)
    first = [o for o in (tracker._first_day, calendar.session_of(earliest)) if o is not None]
    return min(first) < horizon


def _validated(
    tracker: Tracker, rows: Sequence[Mapping[str, Any]], shapes: set[tuple[str, ...]]
) -> list[Trade]:
    """
    The Trades the rows' record_trade calls would add, in order (``shapes``: the rows'
    ``_row_shapes``); raises what the first failing call would raise. Changes nothing.
    Call under the lock, in MONEY_CONTEXT.
    """
    trades = _validated_columns(tracker, rows, shapes)
    if trades is not None:
        return trades
    from perftrack._tracker import (  # noqa: PLC0415
        _SIGN,
        _check_round_trip,
        _risk,
        _round_trip,
    )

    # Each distinct input text is converted once: the same function, the same error.
    decimals: dict[tuple[str, object], Decimal] = {}
    names: dict[tuple[str, object], str] = {}
    tag_memo: dict[object, tuple[str, ...]] = {}

    def number(field: str, value: object, minimum: str = "positive") -> Decimal:
        key = (field, value) if type(value) in (str, int) else None
        if key is not None:
            cached = decimals.get(key)
            if cached is not None:
                return cached
        result = to_decimal(field, value, minimum=minimum)
        if key is not None:
            decimals[key] = result
        return result

    def name(field: str, value: object) -> str:
        key = (field, value) if type(value) is str else None
        cached = names.get(key) if key is not None else None
        if cached is None:
            cached = to_name(field, value)
            if key is not None:
                names[key] = cached
        return cached

    def tags_of(value: object) -> tuple[str, ...]:
        key: object = tuple(value) if type(value) is list else value
        try:
            cached = tag_memo.get(key)
        except TypeError:  # unhashable: the long way, to its error
            return to_tags(value)
        if cached is None:
            cached = tag_memo[key] = to_tags(value)
        return cached

    def time(field: str, value: object) -> datetime:
        if type(value) is str:
            try:
                when = datetime.fromisoformat(value)
            except ValueError:
                pass
            else:
                if when.tzinfo is not None and EARLIEST <= when < LATEST:
                    return when  # fromisoformat gives fixed offsets: always aware
        return to_time(field, value)

    closed_ids, open_ = tracker._closed_ids, tracker._open
    batch: dict[str, Trade] = {}
    next_id = tracker._next_id
    out: list[Trade] = []
    for row in rows:
        get = row.get
        sym = name("symbol", row["symbol"])
        side = to_side(row["side"])
        qty = number("quantity", row["quantity"])
        entry = number("entry_price", row["entry_price"])
        exit_ = number("exit_price", row["exit_price"])
        t_in = time("entry_time", row["entry_time"])
        t_out = time("exit_time", row["exit_time"])
        fee = number("fees", get("fees", 0), "nonnegative")
        strat = name("strategy", get("strategy", "default"))
        stop_value, target_value = get("stop_price"), get("target_price")
        stop = None if stop_value is None else number("stop_price", stop_value)
        target = None if target_value is None else number("target_price", target_value)
        tag_names = tags_of(get("tags", ()))
        tid_value = get("trade_id")
        tid = None if tid_value is None else name("trade_id", tid_value)
        given_net = to_optional_decimal("net_pnl", get("net_pnl"), minimum="any")
        _check_round_trip(t_in, t_out, side, entry, stop, target)
        net = (exit_ - entry) * qty * _SIGN[side] - fee if given_net is None else given_net
        risk = _risk(entry, stop, qty)
        if tid is None:
            n = next_id
            tid = f"pt-{n}"
            while tid in open_ or tid in closed_ids or tid in batch:
                n += 1
                tid = f"pt-{n}"
        trade = _round_trip(
            (tid, sym, strat, side, qty, entry, exit_, t_in, t_out, fee),
            net,
            stop,
            target,
            tag_names,
            None,
            risk,
        )
        earlier = closed_ids.get(tid) or batch.get(tid)
        if earlier is not None:
            if earlier == trade:
                continue
            msg = f"'trade_id' {tid!r} is already used by a closed trade with other content"
            raise DuplicateTradeError(msg)
        if tid in open_:
            msg = f"'trade_id' {tid!r} is already used by an open trade"
            raise DuplicateTradeError(msg)
        tracker._check_retained(t_out, "exit_time")
        batch[tid] = trade
        out.append(trade)
        claimed = generated_number(tid, "pt-")
        if claimed is not None and claimed >= next_id:
            next_id = claimed + 1
    return out


def _validated_columns(
    tracker: Tracker, rows: Sequence[Mapping[str, Any]], shapes: set[tuple[str, ...]]
) -> list[Trade] | None:
    """
    ``_validated`` a column at a time, for the usual batch: every row with the same fields,
    no id repeated or taken, every value valid. None, having changed nothing, when anything
    is otherwise (a bad value, a repeated id, rows of several shapes): ``_validated`` then goes
    row by row, to the first failing row's error or to the same Trades. Each distinct value
    of a column is converted once by the same ``_convert`` function; net P&L, risk and R are
    computed as a journal replay computes them (``_tracker._round_trips``), in MONEY_CONTEXT.
    """
    if not rows:
        return []
    if len(shapes) != 1:
        return None
    (fields,) = shapes
    n = len(rows)
    if type(rows) is TradeRows:
        got = dict(zip(fields, map(rows.column, fields), strict=True))
    else:
        by_row = map(operator.itemgetter(*fields), rows)
        got = dict(zip(fields, zip(*by_row, strict=True), strict=True))
    if len(fields) == 1:
        return None  # (itemgetter of one field gives values, not tuples; never a valid row)

    def column(field: str) -> Any:
        return got[field] if field in got else itertools.repeat(_DEFAULTS[field], n)

    try:
        symbols = _converted(got["symbol"], partial(to_name, "symbol"))
        sides = _converted(got["side"], to_side)
        strategies = _converted(column("strategy"), partial(to_name, "strategy"))
        quantities = _converted(got["quantity"], partial(to_decimal, "quantity"))
        entries = _converted(got["entry_price"], partial(to_decimal, "entry_price"))
        exits = _converted(got["exit_price"], partial(to_decimal, "exit_price"))
        fees = _converted(column("fees"), partial(to_decimal, "fees", minimum="nonnegative"))
        stops = _converted(column("stop_price"), partial(to_optional_decimal, "stop_price"))
        targets = _converted(column("target_price"), partial(to_optional_decimal, "target_price"))
        given = _converted(
            column("net_pnl"), partial(to_optional_decimal, "net_pnl", minimum="any")
        )
        raw_tags = column("tags")
        tags = _converted([tuple(t) if type(t) is list else t for t in raw_tags], to_tags)
        t_ins = list(map(datetime.fromisoformat, got["entry_time"]))
        t_outs = list(map(datetime.fromisoformat, got["exit_time"]))
    except (InvalidInputError, ValueError, TypeError):
        return None  # the row-by-row path names the first bad row
    if None in map(_tzinfo, t_ins) or None in map(_tzinfo, t_outs):
        return None
    if not all(map(operator.le, t_ins, t_outs)) or any(column("idea_id")):
        return None
    if t_ins and (min(t_ins) < EARLIEST or max(t_outs) >= LATEST):
        return None  # out of range: the row-by-row path names the first bad row
    from perftrack._tracker import _round_trips, levels_hold  # noqa: PLC0415

    # A stop on the loss side of the entry, a target on the profit side (rows without pass).
    if not (
        levels_hold(sides, entries, stops, target=False)
        and levels_hold(sides, entries, targets, target=True)
    ):
        return None
    ids = _ids(tracker, column("trade_id"), n)
    if ids is None:
        return None
    horizon = tracker._archived_before
    if horizon is not None and tracker._calendar.session_of(min(t_outs)) < horizon:
        return None
    no_net = set(map(_is_none, given)) == {True}
    has_stop = set(map(_is_none, stops))
    return _round_trips(
        (ids, symbols, strategies, sides, quantities, entries, exits, t_ins, t_outs, fees),
        None if no_net else given,
        None if has_stop == {True} else stops,
        targets,
        tags,
        itertools.repeat(None, n),
        every_stop=has_stop == {False},
    )


def _converted(values: Any, convert: Any) -> list[Any]:
    """
    ``convert`` of each value, calling it once per distinct value. Raises what it raises
    (or TypeError for an unhashable value).
    """
    if type(values) not in (list, tuple):
        values = list(values)
    distinct = set(values)
    if not set(map(type, distinct)) <= _SAME_WHEN_EQUAL and not (
        set(map(type, values)) <= _SAME_WHEN_EQUAL | {int}
    ):
        # Equal numbers of other types or forms (1, True, 1.0, Decimal("1.00"); 0.0 and -0.0)
        # are one key of a dict: each is converted as it is instead, True to its error.
        return list(map(convert, values))
    memo = {value: convert(value) for value in distinct}
    return list(map(memo.__getitem__, values))


#: Types whose equal values are one and the same input: a column of these (and of ints, which
#: only ints equal once bools, floats and Decimals are ruled out) converts once per value.
#: (Checked on the distinct values first: any number among the values leaves one among them.)
_SAME_WHEN_EQUAL: Final = frozenset({str, tuple, type(None)})


def _ids(tracker: Tracker, given: Any, n: int) -> list[str] | None:
    """
    The batch's trade ids: the given ones when all are free and distinct, else None; or, when
    none is given, the generated ids the calls would take (when all of them are free).
    """
    values = list(given)
    closed, open_ = tracker._closed_ids, tracker._open
    if values[0] is None and len(set(map(_is_none, values))) == 1:
        first = tracker._next_id
        ids = [f"pt-{k}" for k in range(first, first + n)]
    else:
        try:
            ids = _converted(values, partial(to_name, "trade_id"))
        except (InvalidInputError, TypeError):
            return None
        if len(set(ids)) != n:
            return None
    if not (closed.keys().isdisjoint(ids) and open_.keys().isdisjoint(ids)):
        return None
    return ids


def _tzinfo(when: datetime) -> Any:
    return when.tzinfo


def _is_none(value: object) -> bool:
    return value is None


def _book_all(tracker: Tracker, trades: list[Trade]) -> None:
    """
    Book validated trades as their record_trade calls would have, in order: the journal
    replay's run booking (history, ids, the live equity path, each day's run indexed at once,
    queued to fold at the first read). Call under the lock, in MONEY_CONTEXT.
    """
    if not trades:
        return
    session_of = tracker._calendar.session_of
    tracker._book_replayed_trades(trades, list(map(session_of, map(_exit_time, trades))))
    _persist.end_bulk(tracker)
