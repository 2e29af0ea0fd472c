"""
Everything observable about a tracker, to compare two trackers or one before and after a call.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import perftrack as pt

T0 = datetime(2025, 3, 3, 14, 0, tzinfo=UTC)
_SCOPES = (("strategy", "a"), ("symbol", "X"), ("side", "short"), ("tag", "t"))


def fingerprint(tracker: pt.Tracker) -> Any:
    """
    Everything observable about a tracker, and its internal id and event registries.
    """
    at = tracker.clock or T0
    return (
        tracker.summary().to_dict(),
        [tracker.summary(p, at=at).to_dict() for p in ("day", "week", "month")],
        {
            by: {k: v.to_dict() for k, v in tracker.breakdown(by).items()}
            for by in ("strategy", "symbol", "side", "tag")
        },
        [tracker.rolling(n).to_dict() for n in (1, 5, 20, 600)],
        [tracker.rolling(5, **{by: v}).to_dict() for by, v in _SCOPES],
        tracker.summary(strategy="a", symbol="X").to_dict(),
        tracker.live.to_dict(),
        [t.to_dict() for t in tracker.open_trades],
        [t.to_dict() for t in tracker.trades()],
        tracker.daily_returns(),
        tracker.equity_curve(),
        [[s.to_dict() for s in tracker.periods(p)] for p in ("day", "week", "month")],
        tracker.max_drawdown_period(),
        [a.to_dict() for a in tracker.alerts.history()],
        [a.id for a in tracker.alerts.active()],
        sorted(tracker._event_ids.items()),
        sorted(tracker._recent_opens.items()),
        tracker._next_id,
        tracker.clock,
    )
