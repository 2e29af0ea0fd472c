"""
The public value types: closed trades, open-trade views, live figures and summaries.

All are frozen attrs classes: immutable and safe to share between threads.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Context, Decimal
from types import MappingProxyType
from typing import Any, Final, TypeVar, cast

import attrs

__all__ = [
    "RECORD_TRADE_ARGS",
    "LiveStats",
    "OpenTrade",
    "Realization",
    "Summary",
    "Trade",
    "json_safe",
    "new_summary",
    "new_trade",
]

#: Every argument of ``Tracker.record_trade``, in its order: what a journaled record_trade
#: holds and what a trade line or row of an import may carry.
RECORD_TRADE_ARGS: Final = (
    "trade_id",
    "symbol",
    "side",
    "quantity",
    "entry_price",
    "exit_price",
    "entry_time",
    "exit_time",
    "fees",
    "strategy",
    "stop_price",
    "target_price",
    "tags",
    "net_pnl",
    "idea_id",
    "realizations",
)

_ZERO: Final = Decimal(0)
#: The arithmetic context of every money computation, whatever the calling thread's context
#: says: 50 significant digits keep sums of prices x quantities exact far beyond any account.
#: (Here, the lowest module, so that every other one can share it.)
MONEY_CONTEXT: Final = Context(prec=50)


def json_safe(value: Any) -> Any:
    """
    ``value`` with Decimals as strings, datetimes and dates in ISO 8601, timedeltas in seconds
    (a float), tuples as lists; recursively through lists and dicts.
    """
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (dict, MappingProxyType)):
        return {str(k): json_safe(v) for k, v in value.items()}
    return value


@attrs.frozen(slots=True)
class Realization:
    """
    One step of a trade built from separate events: an entry or scale-in fee paid, a partial
    exit, or the final exit, with what it realized at ``time``.

    ``net_pnl`` is the step's P&L less its ``fees`` (a fee alone realizes ``-fees``). The
    steps of a trade add up to it: their net_pnl to the trade's net_pnl, their fees to its
    fees.
    """

    time: datetime
    net_pnl: Decimal
    fees: Decimal

    def to_dict(self) -> dict[str, Any]:
        """
        ``{"time": ..., "net_pnl": ..., "fees": ...}`` as JSON-safe values.
        """
        return {"time": self.time.isoformat(), "net_pnl": str(self.net_pnl), "fees": str(self.fees)}


@attrs.frozen(slots=True)
class Trade:
    """
    A closed round trip.

    ``entry_price`` and ``exit_price`` are quantity-weighted averages over the fills.
    ``net_pnl`` is the gross P&L less every fee of the trade (entry, scale-in and exit fees).
    """

    trade_id: str
    symbol: str
    strategy: str
    side: str
    quantity: Decimal
    entry_price: Decimal
    exit_price: Decimal
    entry_time: datetime
    exit_time: datetime
    fees: Decimal
    net_pnl: Decimal
    stop_price: Decimal | None = None
    target_price: Decimal | None = None
    tags: tuple[str, ...] = ()
    idea_id: str | None = None
    #: Risk in money, |entry - stop| x quantity, when the trade was opened with a stop.
    risk: Decimal | None = None
    #: net_pnl / risk, or None when the trade had no stop (or no risk).
    r_multiple: float | None = None
    #: The steps in which a trade built from events (open_trade ... close_trade) was realized,
    #: in the order they were booked, the last one at exit_time (it closes the trade); None
    #: for a trade recorded whole (record_trade), realized at once at its exit. See
    #: docs/reports.md for how exports carry it.
    realizations: tuple[Realization, ...] | None = None

    @property
    def booked_whole(self) -> bool:
        """
        True when the whole trade was realized in one step (record_trade); False when it was
        built from events, whose realizations were booked as they came.
        """
        return self.realizations is None

    @property
    def gross_pnl(self) -> Decimal:
        """
        The P&L before fees.
        """
        # Exact whatever the caller's decimal context (the tracker's money context).
        return MONEY_CONTEXT.add(self.net_pnl, self.fees)

    @property
    def outcome(self) -> str:
        """
        ``"win"`` (net_pnl > 0), ``"loss"`` (< 0) or ``"breakeven"``.
        """
        if self.net_pnl > _ZERO:
            return "win"
        if self.net_pnl < _ZERO:
            return "loss"
        return "breakeven"

    @property
    def holding_time(self) -> timedelta:
        """
        exit_time - entry_time.
        """
        return self.exit_time - self.entry_time

    def to_dict(self) -> dict[str, Any]:
        """
        Every field (and gross_pnl, outcome) as JSON-safe values; ``realizations`` as a list
        of ``Realization.to_dict()`` (or None).
        """
        data: dict[str, Any] = {f.name: getattr(self, f.name) for f in attrs.fields(Trade)}
        if self.realizations is not None:
            data["realizations"] = [r.to_dict() for r in self.realizations]
        data["gross_pnl"] = self.gross_pnl
        data["outcome"] = self.outcome
        return {k: json_safe(v) for k, v in data.items()}


@attrs.frozen(slots=True)
class OpenTrade:
    """
    A view of an open trade at the moment it was taken.

    ``quantity`` is what is still open, ``entry_price`` its weighted average; ``realized_pnl``
    is what partial exits and fees have booked so far; ``unrealized_pnl`` values the open
    quantity at ``mark_price``.
    """

    trade_id: str
    symbol: str
    strategy: str
    side: str
    quantity: Decimal
    entry_price: Decimal
    entry_time: datetime
    fees: Decimal
    realized_pnl: Decimal
    mark_price: Decimal
    unrealized_pnl: Decimal
    stop_price: Decimal | None
    target_price: Decimal | None
    tags: tuple[str, ...]
    idea_id: str | None
    exited_quantity: Decimal

    def to_dict(self) -> dict[str, Any]:
        """
        Every field as JSON-safe values.
        """
        return {f.name: json_safe(getattr(self, f.name)) for f in attrs.fields(OpenTrade)}


@attrs.frozen(slots=True)
class LiveStats:
    """
    The account right now.

    ``equity`` = starting equity + realized + unrealized P&L (marked to market).
    ``peak_equity``, ``drawdown`` and ``max_drawdown`` follow that marked-to-market path;
    percentages are fractions of the peak (0.05 is 5 %).
    """

    time: datetime | None
    starting_equity: Decimal
    equity: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    peak_equity: Decimal
    drawdown: Decimal
    drawdown_pct: float | None
    max_drawdown: Decimal
    max_drawdown_pct: float | None
    open_trades: int

    def to_dict(self) -> dict[str, Any]:
        """
        Every field as JSON-safe values.
        """
        return {f.name: json_safe(getattr(self, f.name)) for f in attrs.fields(LiveStats)}


@attrs.frozen(slots=True)
class Summary:
    """
    Performance over one window (a day, week, month, all time, a date range or the last n
    trades), optionally filtered by strategy, symbol, side or tag.

    Definitions, units and the None rules are in docs/metrics.md. Money is Decimal; ratios
    and statistics are floats; an undefined value is None, never NaN or infinity.
    """

    period: str
    start: datetime | None
    end: datetime | None
    trades: int = 0
    wins: int = 0
    losses: int = 0
    breakeven: int = 0
    win_rate: float | None = None
    gross_profit: Decimal = _ZERO
    gross_loss: Decimal = _ZERO
    fees: Decimal = _ZERO
    net_pnl: Decimal = _ZERO
    avg_win: Decimal | None = None
    avg_loss: Decimal | None = None
    payoff_ratio: float | None = None
    profit_factor: float | None = None
    expectancy: Decimal | None = None
    best_trade: Decimal | None = None
    worst_trade: Decimal | None = None
    current_streak: int = 0
    max_win_streak: int = 0
    max_loss_streak: int = 0
    max_drawdown: Decimal = _ZERO
    max_drawdown_pct: float | None = None
    avg_r_multiple: float | None = None
    sharpe: float | None = None
    sortino: float | None = None
    sqn: float | None = None
    avg_holding_time: timedelta | None = None
    open_trades: int = 0
    unrealized_pnl: Decimal = _ZERO
    partial: bool = False
    note: str | None = None
    #: The filter the summary was taken with, e.g. {"strategy": "breakout"}; empty for all.
    scope: dict[str, str] = attrs.field(factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """
        Every field as JSON-safe values: Decimals as strings, datetimes in ISO 8601 with their
        offset, avg_holding_time in seconds.
        """
        return {f.name: json_safe(getattr(self, f.name)) for f in attrs.fields(Summary)}


_T = TypeVar("_T")


def _slot_builder(cls: type[_T]) -> Callable[..., _T]:
    """
    A constructor of the frozen slotted attrs class ``cls`` taking every field positionally,
    in declaration order, that stores each value straight through its slot's descriptor.

    The same instance as ``cls(*values)`` (the class has no validators, converters or
    post-init; ``tests/test_model.py`` holds it to that), made faster: attrs' frozen
    ``__init__`` sets each field through ``object.__setattr__`` by name, and a call by
    keyword matches 34 names first: about a tenth of an all-time summary's cost. For the
    tracker's hot paths only; users build them the usual way.
    """
    names = [field.name for field in attrs.fields(cast("type[attrs.AttrsInstance]", cls))]
    setters = {f"_set_{name}": vars(cls)[name].__set__ for name in names}
    lines = [f"    _set_{name}(self, {name})" for name in names]
    source = (
        f"def build({', '.join(names)}):\n    self = _new(_cls)\n"
        + "\n".join(lines)
        + "\n    return self\n"
    )
    namespace: dict[str, Any] = {**setters, "_new": object.__new__, "_cls": cls}
    exec(source, namespace)  # only the class's own field names
    builder: Callable[..., _T] = namespace["build"]
    return builder


#: ``Summary(*fields)`` and ``Trade(*fields)`` without attrs' frozen ``__init__`` (above).
new_summary: Final = _slot_builder(Summary)
new_trade: Final = _slot_builder(Trade)
