"""
The simulated bot behind ``make demo`` and ``perftrack demo``.

Seeded and deterministic: three strategies trade four symbols, long and short, with scale-ins,
partial exits, fees and price marks, over about three months of New York sessions; a research
desk publishes trade ideas that the same marks resolve.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import perftrack as pt
from perftrack.stores import ObjectStore

SYMBOLS = {
    "AAPL": Decimal("187.20"),
    "MSFT": Decimal("410.50"),
    "NVDA": Decimal("120.00"),
    "SPY": Decimal("520.00"),
}
STRATEGIES = ("breakout", "mean_revert", "momentum")
#: The desk's edges and how far each one's target sits, in R: near targets win more often.
EDGES = {"vwap_reclaim": Decimal("1.2"), "gap_fill": Decimal("3"), "opening_range": Decimal(2)}
START = datetime(2025, 1, 6, 14, 30, tzinfo=UTC)  # a Monday, 09:30 in New York
FEE_PER_SHARE = Decimal("0.005")
CENT = Decimal("0.01")
#: What the demo's reports and summary files compare the simulated bot with.
TARGETS = pt.Targets(
    min_win_rate=0.5, min_risk_reward=1.0, min_profit_factor=1.2, max_drawdown_pct=0.05
)


def _fee(quantity: int) -> Decimal:
    return max(Decimal(1), FEE_PER_SHARE * quantity).quantize(CENT)


class Market:
    """
    A random walk per symbol with a little drift, in cents.
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.prices = dict(SYMBOLS)

    def step(self, symbol: str) -> Decimal:
        price = self.prices[symbol]
        move = Decimal(self.rng.gauss(0.0002, 0.004)) * price
        self.prices[symbol] = max(CENT, (price + move).quantize(CENT))
        return self.prices[symbol]


def run_demo(
    *,
    days: int = 90,
    seed: int = 7,
    store: ObjectStore | None = None,
    timezone: str = "America/New_York",
) -> pt.Tracker:
    """
    Trade ``days`` calendar days of sessions through a new tracker and return it.

    Args:
        days: Length of the simulation in calendar days (weekends are skipped).
        seed: Seed of the simulated market and of the strategies' choices.
        store: Where to persist the account; None keeps everything in memory.
        timezone: The operator's time zone.
    """
    tracker = pt.Tracker(
        "100000", timezone=timezone, calendar="weekdays", store=store, durability="batch"
    )
    rng = random.Random(seed)
    # The ideas draw from their own generator, so the trades are the same with or without them.
    desk = random.Random(seed + 1)
    market = Market(rng)
    trade_no = idea_no = 0
    for day in range(days):
        session = START + timedelta(days=day)
        if session.weekday() >= 5:
            continue
        for minute in range(0, 390, 15):
            now = session + timedelta(minutes=minute)
            symbol = rng.choice(list(SYMBOLS))
            price = market.step(symbol)
            tracker.mark_price(symbol, price, now)
            if desk.random() < 0.3:
                idea_no += 1
                _idea(tracker, desk, f"I{idea_no}", symbol, price, now)
            if rng.random() < 0.35 and len(tracker.open_trades) < 6:
                trade_no += 1
                _open(tracker, rng, f"T{trade_no}", symbol, price, now)
            for trade in tracker.open_trades:
                if trade.symbol == symbol:
                    _manage(tracker, rng, trade, price, now)
        # Flat at the close: whatever is still open is exited on the last bar.
        close = session + timedelta(minutes=389)
        for trade in tracker.open_trades:
            price = market.step(trade.symbol)
            tracker.close_trade(
                trade.trade_id, price=price, time=close, fees=_fee(int(trade.quantity))
            )
        # Now and then a trade reported whole after the fact (e.g. from another venue).
        if rng.random() < 0.5:
            symbol = rng.choice(list(SYMBOLS))
            entry = market.prices[symbol]
            exit_ = (entry * Decimal(1 + rng.gauss(0.001, 0.01))).quantize(CENT)
            trade_no += 1
            tracker.record_trade(
                symbol=symbol,
                side="long",
                quantity=20,
                entry_price=entry,
                exit_price=exit_,
                entry_time=session + timedelta(minutes=5),
                exit_time=session + timedelta(minutes=200),
                fees=_fee(40),
                strategy="momentum",
                stop_price=(entry * Decimal("0.98")).quantize(CENT),
                tags=("swing",),
                trade_id=f"T{trade_no}",
            )
    return tracker


def _open(
    tracker: pt.Tracker, rng: random.Random, tid: str, symbol: str, price: Decimal, now: datetime
) -> None:
    side = "long" if rng.random() < 0.6 else "short"
    risk = (price * Decimal("0.01")).quantize(CENT)
    stop = price - risk if side == "long" else price + risk
    target = price + 2 * risk if side == "long" else price - 2 * risk
    quantity = rng.choice([10, 20, 50])
    tags = tuple(t for t in ("gap", "volume", "news") if rng.random() < 0.3)
    tracker.open_trade(
        tid,
        symbol=symbol,
        side=side,
        quantity=quantity,
        price=price,
        time=now,
        fees=_fee(quantity),
        strategy=rng.choice(STRATEGIES),
        stop_price=stop,
        target_price=target,
        tags=tags,
    )


def _idea(
    tracker: pt.Tracker,
    rng: random.Random,
    idea_id: str,
    symbol: str,
    price: Decimal,
    now: datetime,
) -> None:
    sign = 1 if rng.random() < 0.6 else -1
    edge = rng.choice(sorted(EDGES))
    risk = (price * Decimal("0.004")).quantize(CENT)
    limit = rng.random() < 0.3
    entry = price - sign * risk if limit else price
    tracker.record_idea(
        symbol=symbol,
        side="long" if sign > 0 else "short",
        entry=entry,
        stop=entry - sign * risk,
        target=entry + sign * (risk * EDGES[edge]).quantize(CENT),
        entry_type="limit" if limit else "market",
        confidence=rng.randint(1, 5),
        edges=(edge, "trend") if rng.random() < 0.4 else (edge,),
        horizon=rng.choice(("day", "swing")),
        time=now,
        expires_after=timedelta(days=2),
        idea_id=idea_id,
    )


def _manage(
    tracker: pt.Tracker, rng: random.Random, trade: pt.OpenTrade, price: Decimal, now: datetime
) -> None:
    long = trade.side == "long"
    stop_hit = trade.stop_price is not None and (
        price <= trade.stop_price if long else price >= trade.stop_price
    )
    target_hit = trade.target_price is not None and (
        price >= trade.target_price if long else price <= trade.target_price
    )
    if stop_hit or target_hit:
        tracker.close_trade(trade.trade_id, price=price, time=now, fees=_fee(int(trade.quantity)))
        return
    favourable = trade.unrealized_pnl > 0
    if favourable and trade.exited_quantity == 0 and rng.random() < 0.3:
        half = (trade.quantity / 2).to_integral_value()
        if half:  # scale out half into strength
            tracker.close_trade(
                trade.trade_id, price=price, time=now, quantity=half, fees=_fee(int(half))
            )
    elif not favourable and trade.quantity <= 20 and rng.random() < 0.1:
        tracker.add_to_trade(trade.trade_id, quantity=10, price=price, time=now, fees=_fee(10))


def _money(value: Decimal | None) -> str:
    return "-" if value is None else f"{value.quantize(CENT):,}"


def _ratio(value: float | None, percent: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:.1%}" if percent else f"{value:.2f}"


def format_table(rows: Sequence[tuple[str, pt.Summary]]) -> str:
    """
    A compact text table of summaries, one row each.
    """
    head = (
        "window",
        "trades",
        "win%",
        "net P&L",
        "avg win",
        "avg loss",
        "payoff",
        "PF",
        "max DD",
        "DD%",
        "sharpe",
        "streak",
    )
    lines = [head]
    for label, s in rows:
        lines.append(
            (
                label,
                str(s.trades),
                _ratio(s.win_rate, True),
                _money(s.net_pnl),
                _money(s.avg_win),
                _money(s.avg_loss),
                _ratio(s.payoff_ratio),
                _ratio(s.profit_factor),
                _money(s.max_drawdown),
                _ratio(s.max_drawdown_pct, True),
                _ratio(s.sharpe),
                f"{s.current_streak:+d}",
            )
        )
    widths = [max(len(row[i]) for row in lines) for i in range(len(head))]
    out = []
    for n, row in enumerate(lines):
        out.append(
            "  ".join(
                cell.rjust(w) if i else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def report_text(tracker: pt.Tracker) -> str:
    """
    The day, week, month and per-strategy summaries of a tracker as text tables.
    """
    at = tracker.clock
    live = tracker.live
    return "\n".join(
        [
            f"perftrack demo: {len(tracker.trades())} closed trades, time zone {tracker.timezone}",
            f"equity {_money(live.equity)}  realized {_money(live.realized_pnl)}  "
            f"max drawdown {_money(live.max_drawdown)} ({_ratio(live.max_drawdown_pct, True)})",
            "",
            format_table(
                [
                    ("last day", tracker.summary("day", at=at)),
                    ("last week", tracker.summary("week", at=at)),
                    ("last month", tracker.summary("month", at=at)),
                    ("all time", tracker.summary()),
                ]
            ),
            "\nBy month",
            format_table([(f"{s.start:%Y-%m}", s) for s in tracker.periods("month")]),
            "\nBy strategy",
            format_table(list(tracker.breakdown("strategy").items())),
            "\nLast 20 trades",
            format_table([("rolling 20", tracker.rolling(20))]),
            "",
            _ideas_text(tracker),
        ]
    )


def _ideas_text(tracker: pt.Tracker) -> str:
    from perftrack.reports._text import aligned, idea_summary_rows  # noqa: PLC0415

    report = tracker.ideas.weekly_report(at=tracker.clock)
    lines = [
        f"Trade ideas: {tracker.ideas.summary().ideas} published",
        aligned(
            idea_summary_rows(
                [("all", tracker.ideas.summary()), *tracker.ideas.breakdown("edge").items()],
                "edge",
            )
        ),
        f"\nWeekly review {report.week}:",
    ]
    lines += [f"- {r.message}" for r in report.recommendations] or ["- no recommendations"]
    return "\n".join(lines)
