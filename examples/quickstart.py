"""The README's example: record two trades and ask how the day went."""

from datetime import UTC, datetime, timedelta

import perftrack as pt

tracker = pt.Tracker(starting_equity="10000", timezone="America/New_York")
t = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)
tracker.record_trade(
    symbol="AAPL",
    side="long",
    quantity=10,
    entry_price="187.20",
    exit_price="189.05",
    entry_time=t,
    exit_time=t + timedelta(minutes=20),
    fees="1.00",
    strategy="breakout",
    stop_price="186.00",
    tags=("gap",),
)
tracker.record_trade(
    symbol="MSFT",
    side="short",
    quantity=5,
    entry_price="410.50",
    exit_price="412.00",
    entry_time=t,
    exit_time=t + timedelta(hours=1),
    fees="1.00",
    strategy="fade",
)
day = tracker.summary("day", at=t)
print(
    f"{day.trades} trades, win rate {day.win_rate:.0%}, net {day.net_pnl}, "
    f"payoff {day.payoff_ratio:.2f}, avg R {day.avg_r_multiple:.2f}"
)
