"""
A slow, obviously-correct model of trade ideas: it keeps the raw log of events and, when
asked, replays every idea's life from it in price terms (no signed distances, no aggregates),
then computes summaries by filtering the list of ideas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Context, Decimal
from typing import Any
from zoneinfo import ZoneInfo

_R_CONTEXT = Context(prec=120)
_AVERAGE = Context(prec=28)
Z = 1.959963984540054


def q(value: Decimal) -> Decimal:
    return _R_CONTEXT.quantize(value, Decimal("1e-12"))


@dataclass
class RefIdea:
    """
    One idea: its inputs and what the replay made of it.
    """

    idea_id: str
    symbol: str
    side: str
    entry_type: str
    entry: Decimal
    stop: Decimal
    target: Decimal
    confidence: int
    edges: tuple[str, ...]
    horizon: str | None
    created_at: datetime
    expires_at: datetime
    status: str = "pending"
    triggered_at: datetime | None = None
    closed_at: datetime | None = None
    r: Decimal | None = None
    best_price: Decimal | None = None  # most favourable price counted while open
    worst_price: Decimal | None = None
    last_price: Decimal | None = None
    seen: datetime | None = None
    note: str | None = None
    flagged: bool = False
    override: dict[str, Any] | None = None
    trades: list[tuple[str, Decimal]] = field(default_factory=list)

    @property
    def long(self) -> bool:
        return self.side == "long"

    @property
    def risk(self) -> Decimal:
        return abs(self.entry - self.stop)

    def r_of(self, price: Decimal) -> Decimal:
        move = price - self.entry if self.long else self.entry - price
        return q(_R_CONTEXT.divide(move, self.risk))

    def better(self, a: Decimal, b: Decimal) -> Decimal:
        """The more favourable of two prices for this idea."""
        return max(a, b) if self.long else min(a, b)

    def worse(self, a: Decimal, b: Decimal) -> Decimal:
        return min(a, b) if self.long else max(a, b)

    def mfe(self) -> Decimal | None:
        if self.best_price is None:
            return None
        return max(self.r_of(self.best_price), Decimal(0))

    def mae(self) -> Decimal | None:
        if self.worst_price is None:
            return None
        return min(self.r_of(self.worst_price), Decimal(0))

    def live(self) -> bool:
        return self.status in ("pending", "open")

    def count(self, best: Decimal, worst: Decimal) -> None:
        self.best_price = best if self.best_price is None else self.better(self.best_price, best)
        self.worst_price = (
            worst if self.worst_price is None else self.worse(self.worst_price, worst)
        )

    def close(self, status: str, price: Decimal | None, when: datetime) -> None:
        self.status = status
        self.r = None if price is None else self.r_of(price)
        self.closed_at = when

    # -- the rules, in price terms -----------------------------------------------------------

    def stop_hit(self, price: Decimal) -> bool:
        return price <= self.stop if self.long else price >= self.stop

    def target_hit(self, price: Decimal) -> bool:
        return price >= self.target if self.long else price <= self.target

    def entry_hit(self, price: Decimal) -> bool:
        if self.entry_type == "limit":
            return price <= self.entry if self.long else price >= self.entry
        return price >= self.entry if self.long else price <= self.entry

    def price(
        self, when: datetime, o: Decimal | None, h: Decimal, lo: Decimal, c: Decimal, mark: bool
    ) -> None:
        assert self.seen is not None
        if when < self.seen:
            return
        self.seen = when
        best = h if self.long else lo  # the bar's most favourable price
        worst = lo if self.long else h
        # The price of the bar that reaches the entry: the one nearest the entry's side.
        reaching = worst if self.entry_type == "limit" else best
        if self.status == "pending":
            if not self.entry_hit(reaching):
                return
            self.status, self.triggered_at = "open", when
            opened_at_open = o is not None and self.entry_hit(o)
            if opened_at_open and o is not None and self.stop_hit(o):
                self.count(o, o)
                self.close("loss", o, when)
            elif self.stop_hit(worst):
                self.count(self.better(best, self.stop), self.stop)
                self.close("loss", self.stop, when)
            else:
                self.count(best, worst)
            return
        if o is not None and not mark and (self.stop_hit(o) or self.target_hit(o)):
            self.count(o, o)
            self.close("loss" if self.stop_hit(o) else "win", o, when)
        elif self.stop_hit(worst):
            self.count(self.better(best, self.stop), self.stop)
            self.close("loss", self.stop, when)
        elif self.target_hit(best):
            self.count(self.target, self.worse(worst, self.target))
            self.close("win", self.target, when)
        else:
            self.count(best, worst)
            self.last_price = c

    def expire(self) -> None:
        price = self.last_price if self.status == "open" else None
        self.close("expired", price, self.expires_at)


class IdeasModel:
    """
    The raw log and a replay of it.
    """

    def __init__(self, timezone: str, *, weekdays: bool = False) -> None:
        self.zone = ZoneInfo(timezone)
        self.weekdays = weekdays
        self.log: list[tuple[str, Any]] = []

    def replay(self) -> list[RefIdea]:
        """
        Every idea, in creation order (ties: arrival), after the whole log.
        """
        ideas: list[RefIdea] = []
        clock: datetime | None = None

        def advance(when: datetime | None) -> None:
            nonlocal clock
            if when is not None and (clock is None or when > clock):
                clock = when
            for idea in ideas:
                if idea.live() and clock is not None and idea.expires_at <= clock:
                    idea.expire()

        for kind, data in self.log:
            if kind == "idea":
                advance(data.created_at)
                idea = replace(data, trades=[])  # a fresh copy: the log itself never changes
                idea.seen = idea.created_at
                ideas.append(idea)
                if idea.entry_type == "market":
                    idea.status, idea.triggered_at = "open", idea.created_at
                advance(None)
            elif kind == "price":
                symbol, when, o, h, lo, c, mark = data
                advance(when)
                for idea in ideas:
                    if idea.live() and idea.symbol == symbol:
                        idea.price(when, o, h, lo, c, mark)
            elif kind == "time":  # a trade event or an expire() call
                advance(data)
            elif kind == "trade":
                idea_id, trade_id, pnl, when = data
                advance(when)
                next(i for i in ideas if i.idea_id == idea_id).trades.append((trade_id, pnl))
            elif kind == "annotate":
                idea_id, note, flagged = data
                idea = next(i for i in ideas if i.idea_id == idea_id)
                idea.note = note if note is not None else idea.note
                idea.flagged = flagged if flagged is not None else idea.flagged
            elif kind == "override":
                idea_id, status, r, reason = data
                idea = next(i for i in ideas if i.idea_id == idea_id)
                if idea.override is None:
                    idea.override = {"status": idea.status, "r_achieved": idea.r}
                idea.override = {**idea.override, "reason": reason, "at": clock}
                if idea.live():
                    idea.closed_at = clock
                idea.status, idea.r = status, None if r is None else q(r)
        return sorted(ideas, key=lambda i: i.created_at)

    def day(self, when: datetime) -> date:
        """
        The session day of an instant: its local date; on the weekdays calendar a weekend
        belongs to the next Monday.
        """
        day = when.astimezone(self.zone).date()
        if self.weekdays and day.weekday() >= 5:
            day += timedelta(days=7 - day.weekday())
        return day


def as_idea_fields(idea: RefIdea) -> dict[str, Any]:
    """
    What a tracker's Idea must say about a reference idea.
    """
    override = idea.override
    if override is not None:
        original = override["r_achieved"]
        override = {**override, "r_achieved": None if original is None else float(original)}
    mfe, mae = idea.mfe(), idea.mae()
    return {
        "idea_id": idea.idea_id,
        "status": idea.status,
        "triggered_at": idea.triggered_at,
        "closed_at": idea.closed_at,
        "r_achieved": None if idea.r is None else float(idea.r),
        "mfe_r": None if mfe is None else float(mfe),
        "mae_r": None if mae is None else float(mae),
        "note": idea.note,
        "flagged": idea.flagged,
        "override": override,
        "trade_ids": tuple(t for t, _pnl in idea.trades),
    }


def summary_fields(ideas: list[RefIdea]) -> dict[str, Any]:
    """
    The IdeaSummary figures of a list of ideas, from their definitions in docs/ideas.md.
    """
    status = [i.status for i in ideas]
    wins, losses = status.count("win"), status.count("loss")
    decided = wins + losses
    decided_r = [i.r for i in ideas if i.status in ("win", "loss") and i.r is not None]
    expired_r = [i.r for i in ideas if i.status == "expired" and i.r is not None]
    all_r = [i.r for i in ideas if i.r is not None]
    closed = [i for i in ideas if i.status in ("win", "loss", "expired") and i.mfe() is not None]
    low = high = None
    if decided:
        p, n = wins / decided, decided
        centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
        half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
        low, high = max(0.0, centre - half), min(1.0, centre + half)

    def mean(values: list[Decimal]) -> float | None:
        return float(_AVERAGE.divide(sum(values, Decimal(0)), len(values))) if values else None

    return {
        "ideas": len(ideas),
        "pending": status.count("pending"),
        "open": status.count("open"),
        "wins": wins,
        "losses": losses,
        "expired": status.count("expired"),
        "decided": decided,
        "win_rate": wins / decided if decided else None,
        "win_rate_low": low,
        "win_rate_high": high,
        "avg_r": mean(decided_r),  # type: ignore[arg-type]
        "total_r": float(sum(decided_r, Decimal(0))) if decided_r else None,  # type: ignore[arg-type]
        "expired_r": mean(expired_r),  # type: ignore[arg-type]
        "best_r": float(max(all_r)) if all_r else None,  # type: ignore[type-var]
        "worst_r": float(min(all_r)) if all_r else None,  # type: ignore[type-var]
        "avg_mfe_r": mean([i.mfe() for i in closed]),  # type: ignore[misc]
        "avg_mae_r": mean([i.mae() for i in closed]),  # type: ignore[misc]
        "taken": sum(1 for i in ideas if i.trades),
        "taken_net_pnl": sum((p for i in ideas for _t, p in i.trades), Decimal(0)),
        "note": None if ideas else "No ideas in window",
    }
