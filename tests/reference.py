"""
A slow, obviously-correct model of a tracker, for the property tests.

It keeps the raw events and recomputes every figure from scratch on each question, straight
from the definitions in docs/metrics.md: no buckets, no merging, no caches. It shares no code
with perftrack: the accounting (average-cost basis, fees realized when paid) is written out
again here, and the calendar uses the standard library's ``zoneinfo`` where perftrack uses
dateutil, so a time-zone mistake in either shows up as a disagreement.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Context, Decimal, localcontext
from typing import Any
from zoneinfo import ZoneInfo

ZERO = Decimal(0)
CTX = Context(prec=50)
AVG = Context(prec=28)
TINY = timedelta(microseconds=1)


@dataclass
class Real:
    time: datetime
    amount: Decimal
    fee: Decimal
    strategy: str
    symbol: str
    side: str
    tags: tuple[str, ...]


@dataclass
class Closed:
    trade_id: str
    strategy: str
    symbol: str
    side: str
    tags: tuple[str, ...]
    entry_time: datetime
    exit_time: datetime
    net: Decimal
    fees: Decimal
    risk: Decimal | None
    seq: int
    quantity: Decimal
    entry_price: Decimal
    exit_price: Decimal


@dataclass
class Pos:
    strategy: str
    symbol: str
    side: str
    tags: tuple[str, ...]
    sign: int
    qty: Decimal
    cost: Decimal
    entry_qty: Decimal
    entry_cost: Decimal
    entry_time: datetime
    stop: Decimal | None
    fees: Decimal = ZERO
    realized: Decimal = ZERO
    exit_value: Decimal = ZERO


@dataclass
class Model:
    start: Decimal
    timezone: str
    calendar: str
    reals: list[Real] = field(default_factory=list)
    closed: list[Closed] = field(default_factory=list)
    open: dict[str, Pos] = field(default_factory=dict)
    marks: dict[str, Decimal] = field(default_factory=dict)
    event_times: list[datetime] = field(default_factory=list)
    live_points: list[tuple[datetime, Decimal]] = field(default_factory=list)
    clock: datetime | None = None

    # -- the calendar, from its definition --------------------------------------------------

    def session(self, when: datetime) -> date:
        """
        The session day of an instant: its local date, a weekend date moved to Monday.
        """
        return self.session_of_date(when.astimezone(ZoneInfo(self.timezone)).date())

    def session_of_date(self, day: date) -> date:
        if self.calendar == "weekdays" and day.weekday() >= 5:
            day += timedelta(days=7 - day.weekday())
        return day

    def range_end_date(self, day: date) -> date:
        """
        The last session day of a date range ending on ``day`` (a weekend ends with Friday).
        """
        if self.calendar == "weekdays" and day.weekday() >= 5:
            day -= timedelta(days=day.weekday() - 4)
        return day

    def is_session(self, day: date) -> bool:
        return self.calendar == "all" or day.weekday() < 5

    def session_days(self, first: date, last: date) -> list[date]:
        out = []
        day = first
        while day <= last:
            if self.is_session(day):
                out.append(day)
            day += timedelta(days=1)
        return out

    def midnight(self, day: date) -> datetime:
        return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(self.timezone))

    def session_start(self, day: date) -> datetime:
        """
        When session ``day`` opens: local midnight, or Saturday's for a weekdays Monday.
        """
        if self.calendar == "weekdays" and day.weekday() == 0:
            day -= timedelta(days=2)
        return self.midnight(day)

    def session_end(self, day: date) -> datetime:
        return self.midnight(day + timedelta(days=1))

    def day_bounds(self, start: Any, end: Any) -> tuple[date | None, date | None]:
        """
        The first and last session days a [start, end] query covers: dates are inclusive
        session days, datetimes the half-open range [start, end).
        """
        lo = hi = None
        if isinstance(start, datetime):
            lo = self.session(start)
        elif start is not None:
            lo = self.session_of_date(start)
        if isinstance(end, datetime):
            hi = self.session(end - TINY)
        elif end is not None:
            hi = self.range_end_date(end)
        return lo, hi

    # -- events -----------------------------------------------------------------------------

    def _event(self, when: datetime) -> None:
        self.event_times.append(when)
        self.clock = when if self.clock is None or when > self.clock else self.clock
        with localcontext(CTX):
            equity = self.start + self.realized() + self.unrealized(self.open.values())
        self.live_points.append((self.clock, equity))

    def realized(self) -> Decimal:
        with localcontext(CTX):
            return sum((r.amount for r in self.reals), ZERO)

    def unrealized(self, positions: Any) -> Decimal:
        with localcontext(CTX):
            return sum(((self.marks[p.symbol] * p.qty - p.cost) * p.sign for p in positions), ZERO)

    def record_trade(
        self, tid, strategy, symbol, side, tags, qty, entry, exit_, t_in, t_out, fee, stop
    ):
        with localcontext(CTX):
            sign = 1 if side == "long" else -1
            net = (exit_ - entry) * qty * sign - fee
            risk = None if stop is None else abs(entry - stop) * qty
        self.reals.append(Real(t_out, net, fee, strategy, symbol, side, tags))
        self.closed.append(
            Closed(
                tid,
                strategy,
                symbol,
                side,
                tags,
                t_in,
                t_out,
                net,
                fee,
                risk,
                len(self.closed),
                qty,
                entry,
                exit_,
            )
        )
        self._event(t_out)

    def open_trade(self, tid, strategy, symbol, side, tags, qty, price, when, fee, stop):
        with localcontext(CTX):
            sign = 1 if side == "long" else -1
            pos = Pos(
                strategy, symbol, side, tags, sign, qty, price * qty, qty, price * qty, when, stop
            )
            pos.fees = fee
            pos.realized = -fee
        self.open[tid] = pos
        self.marks.setdefault(symbol, price)
        if fee:
            self.reals.append(Real(when, -fee, fee, strategy, symbol, side, tags))
        self._event(when)

    def add_to_trade(self, tid, qty, price, when, fee):
        pos = self.open[tid]
        with localcontext(CTX):
            pos.qty += qty
            pos.entry_qty += qty
            pos.cost += price * qty
            pos.entry_cost += price * qty
            pos.fees += fee
            pos.realized -= fee
        if fee:
            self.reals.append(Real(when, -fee, fee, pos.strategy, pos.symbol, pos.side, pos.tags))
        self._event(when)

    def close_trade(self, tid, price, when, qty, fee):
        pos = self.open[tid]
        with localcontext(CTX):
            out = pos.qty if qty is None else qty
            basis = pos.cost if out == pos.qty else pos.cost * out / pos.qty
            if out != pos.qty and basis.as_tuple().exponent < -20:
                basis = basis.quantize(Decimal("1e-20"))
            amount = (price * out - basis) * pos.sign - fee
            pos.qty -= out
            pos.cost -= basis
            pos.fees += fee
            pos.realized += amount
            pos.exit_value += price * out
            entry_price = AVG.divide(pos.entry_cost, pos.entry_qty)
            risk = (
                None if pos.stop is None else (abs(entry_price - pos.stop) * pos.entry_qty or None)
            )
        self.reals.append(Real(when, amount, fee, pos.strategy, pos.symbol, pos.side, pos.tags))
        if not pos.qty:
            del self.open[tid]
            self.closed.append(
                Closed(
                    tid,
                    pos.strategy,
                    pos.symbol,
                    pos.side,
                    pos.tags,
                    pos.entry_time,
                    when,
                    pos.realized,
                    pos.fees,
                    risk,
                    len(self.closed),
                    pos.entry_qty,
                    entry_price,
                    AVG.divide(pos.exit_value, pos.entry_qty),
                )
            )
        self._event(when)

    def mark(self, symbol, price, when):
        self.marks[symbol] = price
        self._event(when)

    # -- questions ----------------------------------------------------------------------------

    @staticmethod
    def matches(item: Any, key: dict[str, str]) -> bool:
        return all(
            (v in item.tags) if k == "tag" else getattr(item, k) == v for k, v in key.items()
        )

    def lived(self) -> tuple[date, date] | None:
        if not self.event_times:
            return None
        days = [self.session(t) for t in self.event_times]
        return min(days), max(days)

    def closed_in_order(self) -> list[Closed]:
        return sorted(self.closed, key=lambda c: (c.exit_time, c.seq))

    def summary(
        self,
        key: dict[str, str],
        lo: date | None,
        hi: date | None,
        t_lo: datetime | None = None,
        t_hi: datetime | None = None,
        periods_per_year: float = 365.0,
    ) -> dict[str, Any]:
        """
        The window's figures: session days [lo, hi] (None: the lived range), optionally cut
        to the instants [t_lo, t_hi).
        """
        lived = self.lived()
        if lived is not None:
            lo = lived[0] if lo is None else lo
            hi = lived[1] if hi is None else hi

        def inside(when: datetime) -> bool:
            day = self.session(when)
            return (
                lo is not None
                and hi is not None
                and lo <= day <= hi
                and (t_lo is None or when >= t_lo)
                and (t_hi is None or when < t_hi)
            )

        def before(when: datetime) -> bool:
            return (lo is not None and self.session(when) < lo) or (
                t_lo is not None and when < t_lo
            )

        trades = [c for c in self.closed_in_order() if self.matches(c, key) and inside(c.exit_time)]
        reals = [r for r in self.reals if self.matches(r, key)]
        with localcontext(CTX):
            out = trade_stats(trades)
            equity0 = self.start + sum((r.amount for r in reals if before(r.time)), ZERO)
            window = sorted((r for r in reals if inside(r.time)), key=lambda r: r.time)
            out["net_pnl"] = sum((r.amount for r in window), ZERO)
            out["fees"] = sum((r.fee for r in window), ZERO)
            instants: dict[datetime, Decimal] = {}
            for r in window:
                instants[r.time] = instants.get(r.time, ZERO) + r.amount
            equity = peak = equity0
            max_dd, max_pct = ZERO, ZERO
            for when in sorted(instants):
                equity += instants[when]
                peak = max(peak, equity)
                max_dd = max(max_dd, peak - equity)
                if peak > 0:
                    max_pct = max(max_pct, (peak - equity) / peak)
            out["max_drawdown"] = max_dd
            out["max_drawdown_pct"] = float(max_pct) if instants and equity0 > 0 else None
            # Daily returns over the session days of the window that the tracker lived.
            sharpe = sortino = None
            if lived is not None and lo is not None and hi is not None:
                days = self.session_days(max(lo, lived[0]), min(hi, lived[1]))
                returns = []
                equity = equity0
                ok = True
                for day in days:
                    pnl = sum((r.amount for r in window if self.session(r.time) == day), ZERO)
                    if equity <= 0:
                        ok = False
                    returns.append(float(pnl / equity) if equity > 0 else 0.0)
                    equity += pnl
                if ok and equity0 > 0 and len(returns) >= 2:
                    mean = sum(returns) / len(returns)
                    var = sum((r - mean) ** 2 for r in returns) / (len(returns) - 1)
                    if var > 1e-30:
                        sharpe = mean / math.sqrt(var) * math.sqrt(periods_per_year)
                    down = sum(min(r, 0.0) ** 2 for r in returns) / len(returns)
                    if down > 0:
                        sortino = mean / math.sqrt(down) * math.sqrt(periods_per_year)
            out["sharpe"] = sharpe
            out["sortino"] = sortino
            # The window's bounds, and the open trades when it holds the newest event time.
            start = t_lo if t_lo is not None else (None if lo is None else self.session_start(lo))
            end = t_hi if t_hi is not None else (None if hi is None else self.session_end(hi))
            out["start"], out["end"] = start, end
            live = (
                self.clock is not None
                and (start is None or self.clock >= start)
                and (end is None or self.clock < end)
            )
            mine = [p for p in self.open.values() if self.matches(p, key)] if live else []
            out["open_trades"] = len(mine)
            out["unrealized_pnl"] = self.unrealized(mine)
            out["note"] = None if trades else "No trades in window"
            out["partial"] = False
        return out

    def rolling(self, key: dict[str, str], n: int) -> dict[str, Any]:
        trades = [c for c in self.closed_in_order() if self.matches(c, key)][-n:]
        with localcontext(CTX):
            out = trade_stats(trades)
            out["net_pnl"] = sum((c.net for c in trades), ZERO)
            out["fees"] = sum((c.fees for c in trades), ZERO)
            instants: dict[datetime, Decimal] = {}
            for c in trades:
                instants[c.exit_time] = instants.get(c.exit_time, ZERO) + c.net
            cum = peak = max_dd = ZERO
            for when in sorted(instants):
                cum += instants[when]
                peak = max(peak, cum)
                max_dd = max(max_dd, peak - cum)
            out["max_drawdown"] = max_dd
        out["start"] = trades[0].exit_time if trades else None
        out["end"] = trades[-1].exit_time if trades else None
        out["sharpe"] = out["sortino"] = out["max_drawdown_pct"] = None
        out["open_trades"], out["unrealized_pnl"] = 0, ZERO
        out["note"] = None if trades else "No trades in window"
        out["partial"] = False
        return out

    def periods(
        self, period: str, key: dict[str, str], start: Any, end: Any, ppy: float
    ) -> list[tuple[date, date, dict[str, Any]]]:
        """
        (first day, last day, summary) of every day, ISO week or month from the first to the
        last session day asked for (default: the lived range), empty ones included.
        """
        lived = self.lived()
        lo, hi = self.day_bounds(start, end)
        lo = lo if lo is not None else (lived[0] if lived else None)
        hi = hi if hi is not None else (lived[1] if lived else None)
        if lo is None or hi is None or hi < lo:
            return []
        spans: list[tuple[date, date]] = []
        if period == "day":
            spans = [(d, d) for d in self.session_days(lo, hi)]
        elif period == "week":
            monday = lo - timedelta(days=lo.weekday())
            while monday <= hi:
                spans.append((monday, monday + timedelta(days=6)))
                monday += timedelta(days=7)
        else:
            first = lo.replace(day=1)
            while first <= hi:
                nxt = (first + timedelta(days=32)).replace(day=1)
                spans.append((first, nxt - timedelta(days=1)))
                first = nxt
        return [(a, b, self.summary(key, a, b, periods_per_year=ppy)) for a, b in spans]

    def daily_returns(self, start: Any, end: Any) -> list[tuple[date, float | None]]:
        lived = self.lived()
        if lived is None:
            return []
        lo, hi = self.day_bounds(start, end)
        first = lived[0] if lo is None else max(lo, lived[0])
        last = lived[1] if hi is None else min(hi, lived[1])
        with localcontext(CTX):
            equity = self.start + sum(
                (r.amount for r in self.reals if self.session(r.time) < first), ZERO
            )
            out: list[tuple[date, float | None]] = []
            for day in self.session_days(first, last):
                pnl = sum((r.amount for r in self.reals if self.session(r.time) == day), ZERO)
                out.append((day, float(pnl / equity) if equity > 0 else None))
                equity += pnl
        return out

    def equity_curve(self) -> list[tuple[datetime, Decimal]]:
        if not self.reals:
            return []
        instants: dict[datetime, Decimal] = {}
        with localcontext(CTX):
            for r in self.reals:
                instants[r.time] = instants.get(r.time, ZERO) + r.amount
            first = min(instants)
            equity = self.start
            curve = [(self.session_start(self.session(first)), equity)]
            for when in sorted(instants):
                equity += instants[when]
                curve.append((when, equity))
        return curve

    def trades(self, key: dict[str, str], start: Any, end: Any) -> list[Closed]:
        """
        The closed trades whose exit lies in the window, in close order.
        """
        lo = hi = None
        if isinstance(start, datetime):
            lo = start
        elif start is not None:
            lo = self.session_start(self.session_of_date(start))
        if isinstance(end, datetime):
            hi = end
        elif end is not None:
            hi = self.session_end(self.range_end_date(end))
        return [
            c
            for c in self.closed_in_order()
            if self.matches(c, key)
            and (lo is None or c.exit_time >= lo)
            and (hi is None or c.exit_time < hi)
        ]

    def open_views(self) -> list[dict[str, Any]]:
        """
        Each open trade as the tracker shows it, in the order they were opened.
        """
        out = []
        with localcontext(CTX):
            for tid, p in self.open.items():
                mark = self.marks[p.symbol]
                out.append(
                    {
                        "trade_id": tid,
                        "symbol": p.symbol,
                        "strategy": p.strategy,
                        "side": p.side,
                        "quantity": p.qty,
                        "entry_price": AVG.divide(p.cost, p.qty),
                        "entry_time": p.entry_time,
                        "fees": p.fees,
                        "realized_pnl": p.realized,
                        "mark_price": mark,
                        "unrealized_pnl": (mark * p.qty - p.cost) * p.sign,
                        "stop_price": p.stop,
                        "tags": p.tags,
                        "exited_quantity": p.entry_qty - p.qty,
                    }
                )
        return out

    def live(self) -> dict[str, Any]:
        """
        The marked-to-market path: one point per clock value (the last equity at that value).
        """
        points: dict[datetime, Decimal] = {}
        for when, equity in self.live_points:
            points[when] = equity  # later events at the same clock replace earlier ones
        peak = self.start
        max_dd = max_pct = ZERO
        equity = self.start
        with localcontext(CTX):
            for when in sorted(points):
                equity = points[when]
                peak = max(peak, equity)
                max_dd = max(max_dd, peak - equity)
                max_pct = max(max_pct, (peak - equity) / peak)
            unreal = self.unrealized(self.open.values())
            realized = self.realized()
        return {
            "time": self.clock,
            "equity": self.start + realized + unreal,
            "realized_pnl": realized,
            "unrealized_pnl": unreal,
            "peak_equity": peak,
            "drawdown": peak - equity,
            "drawdown_pct": float((peak - equity) / peak),
            "max_drawdown": max_dd,
            "max_drawdown_pct": float(max_pct),
            "open_trades": len(self.open),
        }


def trade_stats(trades: list[Closed]) -> dict[str, Any]:
    """
    The trade statistics of a sequence of closed trades in close order.
    """
    nets = [c.net for c in trades]
    rs = [c.net / c.risk for c in trades if c.risk is not None]
    n = len(nets)
    wins = [x for x in nets if x > 0]
    losses = [x for x in nets if x < 0]
    win_sum = sum(wins, ZERO)
    loss_sum = sum(losses, ZERO)
    streak = max_win = max_loss = 0
    for x in nets:
        if x > 0:
            streak = streak + 1 if streak > 0 else 1
        elif x < 0:
            streak = streak - 1 if streak < 0 else -1
        else:
            streak = 0
        max_win = max(max_win, streak)
        max_loss = max(max_loss, -streak)
    sqn = None
    if n:
        mean = sum(float(x) for x in nets) / n
        pvar = sum((float(x) - mean) ** 2 for x in nets) / n
        if pvar > 0:
            sqn = math.sqrt(n) * mean / math.sqrt(pvar)
    return {
        "trades": n,
        "wins": len(wins),
        "losses": len(losses),
        "breakeven": n - len(wins) - len(losses),
        "win_rate": len(wins) / n if n else None,
        "gross_profit": win_sum,
        "gross_loss": loss_sum,
        "avg_win": AVG.divide(win_sum, len(wins)) if wins else None,
        "avg_loss": AVG.divide(loss_sum, len(losses)) if losses else None,
        "payoff_ratio": (
            float(AVG.divide(win_sum, len(wins)) / -AVG.divide(loss_sum, len(losses)))
            if wins and losses
            else None
        ),
        "profit_factor": float(win_sum / -loss_sum) if losses else None,
        "expectancy": AVG.divide(win_sum + loss_sum, n) if n else None,
        "best_trade": max(nets) if nets else None,
        "worst_trade": min(nets) if nets else None,
        "current_streak": streak,
        "max_win_streak": max_win,
        "max_loss_streak": max_loss,
        "sqn": sqn,
        "avg_r_multiple": float(sum(rs, ZERO) / len(rs)) if rs else None,
        "avg_holding_time": (
            sum((c.exit_time - c.entry_time for c in trades), timedelta()) / n if n else None
        ),
    }
