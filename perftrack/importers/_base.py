"""
What every importer returns, and how it goes into a tracker.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal, localcontext
from typing import TYPE_CHECKING, Any, TypeVar, cast

import attrs

from perftrack._log import log
from perftrack._model import MONEY_CONTEXT
from perftrack.errors import InvalidInputError

_F = TypeVar("_F", bound=Callable[..., Any])


def exact(function: _F) -> _F:
    """
    ``function`` run in the money context: a reader's fees and P&L are exact whatever the
    caller's decimal context (a bot's ``prec = 5``).
    """

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        with localcontext(MONEY_CONTEXT):
            return function(*args, **kwargs)

    return cast("_F", run)


if TYPE_CHECKING:
    from perftrack._tracker import Tracker

__all__ = ["Fill", "ImportResult", "apply_fills", "load_into"]


@attrs.frozen
class Fill:
    """
    One execution from a broker's fill list: ``quantity`` > 0 bought, < 0 sold.
    """

    time: datetime
    symbol: str
    quantity: Decimal
    price: Decimal
    fee: Decimal = Decimal(0)
    fill_id: str | None = None


@attrs.frozen
class ImportResult:
    """
    What a file held: whole trades (``record_trade`` keyword arguments) and/or fills to group
    into round trips, with the account facts the file states and what could not be read.

    ``trades`` is a sequence of dicts: a tuple, or, for a JSON-lines log of the usual shape,
    rows held a column at a time that build each dict when it is read (equal to the tuple of
    the same dicts).
    """

    trades: Sequence[dict[str, Any]] = ()
    fills: tuple[Fill, ...] = ()
    starting_equity: Decimal | None = None
    warnings: tuple[str, ...] = ()
    #: Days whose input is known to be incomplete (a missing day file, a cut last line).
    partial_days: tuple[date, ...] = ()
    #: Figures the source tool computed itself, for checking (free-form).
    reported: dict[str, Any] = attrs.field(factory=dict)


def load_into(tracker: Tracker, result: ImportResult, *, strategy: str = "imported") -> int:
    """
    Record everything ``result`` holds in ``tracker``; returns the trades added.

    Trades already in the tracker with the same id and content are skipped (imports can be
    run twice). Partial days are marked partial. Thread-safe (each call is one tracker call).
    """
    from perftrack._bulk import record_trades  # noqa: PLC0415 (keep the import light)

    before = len(tracker.trades())
    record_trades(tracker, result.trades)
    apply_fills(tracker, result.fills, strategy=strategy)
    for day in result.partial_days:
        tracker.mark_partial(day, reason="incomplete input")
    for warning in result.warnings:
        log.warning("perftrack.import_warning", warning=warning)
    return len(tracker.trades()) - before


def load_into_store(tracker: Tracker, result: ImportResult, *, strategy: str = "imported") -> int:
    """
    ``load_into`` for a tracker with a store, leaving a snapshot that holds the import: a
    file of whole trades is one operation (one journal record and that snapshot, see
    ``perftrack._bulk.import_into_store``); fills go event by event, journaled, and then a
    snapshot is taken. Returns the trades added.
    """
    from perftrack._bulk import import_into_store  # noqa: PLC0415

    if result.fills:
        added = load_into(tracker, result, strategy=strategy)
        if added:
            tracker.save_snapshot()
        return added
    added = import_into_store(tracker, result.trades, result.partial_days)
    for warning in result.warnings:
        log.warning("perftrack.import_warning", warning=warning)
    return added


def apply_fills(tracker: Tracker, fills: Iterable[Fill], *, strategy: str = "imported") -> None:
    """
    Group fills into round trips per symbol, first in first out: a fill on a flat symbol opens
    a trade, one in the same direction scales in, one against it exits (partially), and one
    that crosses zero closes the trade and opens the next with the rest.
    """
    # Quantities and fee shares are money: exact in the tracker's money context, whatever
    # the caller's decimal context (abs() and + round to the context's precision).
    with localcontext(MONEY_CONTEXT):
        _apply_fills(tracker, fills, strategy)


def _apply_fills(tracker: Tracker, fills: Iterable[Fill], strategy: str) -> None:
    position: dict[str, tuple[str, Decimal]] = {}  # symbol -> (trade id, signed quantity)
    for n, fill in enumerate(sorted(fills, key=lambda f: f.time)):
        if fill.quantity == 0:
            raise InvalidInputError(f"'quantity' of a fill must not be 0 (got {fill!r})")
        remaining = fill.quantity
        fee = fill.fee
        while remaining:
            tid, held = position.get(fill.symbol, (None, Decimal(0)))
            event = f"{fill.fill_id or n}:{fill.symbol}:{remaining}"
            if tid is None or held == 0:
                tid = f"{fill.symbol}-{fill.time.isoformat()}-{n}"
                tracker.open_trade(
                    tid,
                    symbol=fill.symbol,
                    side="long" if remaining > 0 else "short",
                    quantity=abs(remaining),
                    price=fill.price,
                    time=fill.time,
                    fees=fee,
                    strategy=strategy,
                )
                position[fill.symbol] = (tid, remaining)
                remaining = Decimal(0)
            elif (held > 0) == (remaining > 0):
                tracker.add_to_trade(
                    tid,
                    quantity=abs(remaining),
                    price=fill.price,
                    time=fill.time,
                    fees=fee,
                    event_id=event,
                )
                position[fill.symbol] = (tid, held + remaining)
                remaining = Decimal(0)
            else:
                out = min(abs(remaining), abs(held))
                share = fee if out == abs(remaining) else (fee * out / abs(remaining))
                tracker.close_trade(
                    tid, price=fill.price, time=fill.time, quantity=out, fees=share, event_id=event
                )
                fee -= share
                step = out if remaining > 0 else -out
                position[fill.symbol] = (tid, held + step)
                remaining -= step
