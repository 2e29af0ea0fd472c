"""
A bot that publishes trade ideas and lets perftrack judge them.

Seeded and deterministic: a simulated market of four symbols moves in 15-minute bars over
four weeks of New York sessions. Now and then the bot publishes an idea (an entry, a stop, a
target, a confidence score and the edges behind it); the bars it feeds the tracker resolve
each idea to a win, a loss or an expiry. Every Sunday at 20:00 the tracker writes the week's
review to its store by itself; at the end the script prints the last review.

    python examples/ideas_bot.py [--weeks 4] [--seed 11]
"""

from __future__ import annotations

import argparse
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import perftrack as pt
from perftrack import signals
from perftrack.stores import MemoryStore

CENT = Decimal("0.01")
START = datetime(2025, 11, 3, 14, 30, tzinfo=UTC)  # a Monday, 09:30 in New York
PRICES = {"NVDA": "120.00", "AAPL": "187.20", "MSFT": "410.50", "AMD": "150.00"}
# Each edge: the drift it really gives the price in the idea's direction, and how far its
# target sits in R. Some edges work, some do not.
EDGES = {
    "vwap_reclaim": (0.0006, Decimal("1.5")),
    "gap_fill": (-0.0004, Decimal(3)),
    "breakout": (0.0003, Decimal(2)),
    "news": (0.0, Decimal(2)),
}


def bars(rng: random.Random, price: Decimal, drift: float) -> tuple[Decimal, ...]:
    """
    One 15-minute bar after ``price``: (open, high, low, close).
    """
    open_ = price
    path = [open_]
    for _ in range(3):
        step = Decimal(rng.gauss(drift, 0.003)) * path[-1]
        path.append(max(CENT, (path[-1] + step).quantize(CENT)))
    return open_, max(path), min(path), path[-1]


def main(weeks: int, seed: int) -> pt.Tracker:
    rng = random.Random(seed)
    store = MemoryStore()
    tracker = pt.Tracker(
        "50000", timezone="America/New_York", store=store, weekly_review="SUN 20:00"
    )

    def on_report(sender: pt.Tracker, *, report: pt.WeeklyReport, **extra: object) -> None:
        s = report.summary
        rate = "-" if s.win_rate is None else f"{s.win_rate:.0%}"
        print(
            f"{report.week}: {s.ideas} ideas, {s.wins} won, {s.losses} lost, {s.expired} "
            f"expired, win rate {rate}"
        )
        for rec in report.recommendations:
            print(f"  - {rec.message}")

    signals.weekly_report.connect(on_report, sender=tracker)
    prices = {s: Decimal(p) for s, p in PRICES.items()}
    bias: dict[str, float] = dict.fromkeys(prices, 0.0)  # the drift of the live idea's edge
    n = 0
    for day in range(7 * weeks):
        session = START + timedelta(days=day)
        if session.weekday() >= 5:
            continue
        for minute in range(0, 390, 15):
            now = session + timedelta(minutes=minute)
            for symbol, last in prices.items():
                open_, high, low, close = bars(rng, last, bias[symbol])
                prices[symbol] = close
                tracker.mark_bar(symbol, open=open_, high=high, low=low, close=close, time=now)
                if rng.random() < 0.05:
                    n += 1
                    bias[symbol] = publish(tracker, rng, f"I{n}", symbol, close, now)
    # The last week's review has no Sunday event to trigger it: ask for it.
    report = tracker.ideas.weekly_report(at=tracker.clock)
    print()
    print(report.to_markdown())
    written = [k for k in store.list("main/reports/weekly/") if k.endswith(".json")]
    print(f"reports written by the tracker: {', '.join(written)}")
    return tracker


def publish(
    tracker: pt.Tracker,
    rng: random.Random,
    idea_id: str,
    symbol: str,
    price: Decimal,
    now: datetime,
) -> float:
    """
    Publish one idea at ``price``; returns the drift its main edge gives the symbol.
    """
    side = "long" if rng.random() < 0.6 else "short"
    sign = 1 if side == "long" else -1
    risk = (price * Decimal("0.006")).quantize(CENT)
    edges = tuple(rng.sample(sorted(EDGES), rng.choice([1, 2])))
    drift, reward = EDGES[edges[0]]
    entry_type = rng.choice(["market", "market", "limit"])
    entry = price if entry_type == "market" else price - sign * (risk / 2).quantize(CENT)
    tracker.record_idea(
        symbol=symbol,
        side=side,
        entry=entry,
        stop=entry - sign * risk,
        target=entry + sign * risk * reward,
        entry_type=entry_type,
        confidence=rng.randint(1, 5),
        edges=edges,
        horizon=rng.choice(["day", "swing"]),
        time=now,
        expires_after=timedelta(days=3),
        idea_id=idea_id,
        rationale=f"{', '.join(edges)} on {symbol}",
    )
    return sign * drift


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weeks", type=int, default=4)
    parser.add_argument("--seed", type=int, default=11)
    options = parser.parse_args()
    main(options.weeks, options.seed)
