"""
perftrack: live, exact performance tracking for trading bots.

    import perftrack as pt

    tracker = pt.Tracker(starting_equity="10000", timezone="America/New_York")
    tracker.record_trade(symbol="AAPL", side="long", quantity=10, entry_price="187.20",
                         exit_price="189.05", entry_time=..., exit_time=..., fees="1.00")
    print(tracker.summary("day").win_rate)
"""

from __future__ import annotations

from typing import Any

from perftrack import errors, signals
from perftrack._ideas import Idea, Ideas, IdeaSummary
from perftrack._model import LiveStats, OpenTrade, Realization, Summary, Trade
from perftrack._review import Recommendation, ReviewThresholds, WeeklyReport
from perftrack._tracker import Tracker
from perftrack.alerts import AlertEvent, Breach, Targets

__all__ = [
    "AlertEvent",
    "Breach",
    "Idea",
    "IdeaSummary",
    "Ideas",
    "LiveStats",
    "OpenTrade",
    "Realization",
    "Recommendation",
    "ReviewThresholds",
    "Summary",
    "Targets",
    "Trade",
    "Tracker",
    "WeeklyReport",
    "errors",
    "signals",
]


def __getattr__(name: str) -> Any:
    # The version comes from the installed metadata, one place, read only when asked for.
    if name == "__version__":
        from importlib.metadata import version  # noqa: PLC0415 (only when asked for)

        return version("perftrack")
    msg = f"module 'perftrack' has no attribute {name!r}"
    raise AttributeError(msg)
