"""
A slow, obviously-correct model of a tracker, for the property tests.

It keeps the raw events and recomputes every figure from scratch on each question, straight
from the definitions in docs/metrics.md: no buckets, no merging, no caches. The only logic it
shares with perftrack is the definition of the accounting itself (average-cost basis, fees
realized when paid), written out again here independently.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Context, Decimal, localcontext
from typing import Any

from dateutil import tz as dateutil_tz

ZERO = Decimal(0)
CTX = Context(prec=50)
AVG = Context(prec=28)


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
        local = when.astimezone(dateutil_tz.gettz(self.timezone)).date()
        if self.calendar == "weekdays" and local.weekday() >= 5:
            local += timedelta(days=7 - local.weekday())
        return local

    def is_session(self, day: date) -> bool:
        return self.calendar == "all" or day.weekday() < 5

    # -- events -----------------------------------------------------------------------------

    def _event(self, when: datetime) -> None:
        self.event_times.append(when)
        self.clock = when if self.clock is None or when > self.clock else self.clock
        with localcontext(CTX):
            unreal = sum(
                ((self.marks[p.symbol] * p.qty - p.cost) * p.sign for p in self.open.values()),
                ZERO,
            )
            equity = self.start + sum((r.amount for r in self.reals), ZERO) + unreal
        self.live_points.append((self.clock, equity))

    def record_trade(
        self, tid, strategy, symbol, side, tags, qty, entry, exit_, t_in, t_out, fee, stop
    ):
        with localcontext(CTX):
            sign = 1 if side == "long" else -1
            net = (exit_ - entry) * qty * sign - fee
            risk = None if stop is None else abs(entry - stop) * qty
        self.reals.append(Real(t_out, net, fee, strategy, symbol, side, tags))
        self.closed.append(
            Closed(tid, strategy, symbol, side, tags, t_in, t_out, net, fee, risk, len(self.closed))
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
            risk = (
                None
                if pos.stop is None
                else (
                    abs(AVG.divide(pos.entry_cost, pos.entry_qty) - pos.stop) * pos.entry_qty
                    or None
                )
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
            out = trade_stats([c.net for c in trades])
            rs = [c.net / c.risk for c in trades if c.risk is not None]
            out["avg_r_multiple"] = float(sum(rs, ZERO) / len(rs)) if rs else None
            out["avg_holding_time"] = (
                sum((c.exit_time - c.entry_time for c in trades), timedelta()) / len(trades)
                if trades
                else None
            )
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
                first, last = max(lo, lived[0]), min(hi, lived[1])
                days = [
                    first + timedelta(days=k)
                    for k in range((last - first).days + 1)
                    if self.is_session(first + timedelta(days=k))
                ]
                returns = []
                equity = equity0
                ok = True
                for day in days:
                    pnl = sum((r.amount for r in window if self.session(r.time) == day), ZERO)
                    if pnl and equity <= 0:
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
        return out

    def rolling(self, key: dict[str, str], n: int) -> dict[str, Any]:
        trades = [c for c in self.closed_in_order() if self.matches(c, key)][-n:]
        with localcontext(CTX):
            out = trade_stats([c.net for c in trades])
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
            unreal = sum(
                ((self.marks[p.symbol] * p.qty - p.cost) * p.sign for p in self.open.values()),
                ZERO,
            )
            realized = sum((r.amount for r in self.reals), ZERO)
        return {
            "equity": self.start + realized + unreal,
            "realized_pnl": realized,
            "unrealized_pnl": unreal,
            "peak_equity": peak,
            "drawdown": peak - equity,
            "max_drawdown": max_dd,
            "max_drawdown_pct": float(max_pct),
            "open_trades": len(self.open),
        }


def trade_stats(nets: list[Decimal]) -> dict[str, Any]:
    """
    The trade-count statistics of a sequence of net P&Ls in close order.
    """
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
    }
