"""
Signals a tracker sends, as blinker signals in a private namespace.

The sender is always the ``Tracker``; the payload is in keyword arguments, so receivers should
accept ``**extra`` to stay compatible when a key is added::

    from perftrack import signals

    def on_closed(tracker, *, trade, **extra):
        print(trade.symbol, trade.net_pnl)

    signals.trade_closed.connect(on_closed)            # every tracker
    signals.trade_closed.connect(on_closed, sender=t)  # only tracker t

Signals are sent after the tracker's lock is released, so a receiver may call back into the
tracker; the signals of an event a receiver records are sent once the current ones have
reached every receiver (in the order the events changed the tracker). A receiver that raises
is logged (``perftrack.listener_failed``) and neither changes the tracker nor keeps other
receivers from the signal.

Beware blinker's weak references: ``connect()`` holds receivers weakly by default, so a lambda
or a closure that nothing else references disappears silently. Keep a reference, or connect
with ``weak=False``.
"""

from __future__ import annotations

from blinker import Namespace

__all__ = [
    "alert_raised",
    "alert_resolved",
    "equity_changed",
    "idea_recorded",
    "idea_resolved",
    "idea_triggered",
    "trade_closed",
    "trade_opened",
    "trade_updated",
    "weekly_report",
]

_signals = Namespace()

trade_opened = _signals.signal(
    "trade-opened",
    doc="A trade was opened with open_trade(). Payload: trade (OpenTrade).",
)
trade_updated = _signals.signal(
    "trade-updated",
    doc=(
        "An open trade changed without closing: a scale-in or a partial exit. Payload: trade "
        "(OpenTrade, after the change), action ('scale_in' | 'partial_exit'), quantity "
        "(Decimal), price (Decimal), realized_pnl (Decimal booked by this event)."
    ),
)
trade_closed = _signals.signal(
    "trade-closed",
    doc="A trade closed fully (close_trade or record_trade). Payload: trade (Trade).",
)
equity_changed = _signals.signal(
    "equity-changed",
    doc=(
        "Realized or unrealized P&L changed (a realization, a fee, a mark). Payload: live "
        "(LiveStats)."
    ),
)
alert_raised = _signals.signal(
    "alert-raised",
    doc="A target was breached. Payload: alert (AlertEvent).",
)
alert_resolved = _signals.signal(
    "alert-resolved",
    doc="A breached target recovered past its hysteresis band. Payload: alert (AlertEvent).",
)
idea_recorded = _signals.signal(
    "idea-recorded",
    doc="A trade idea was recorded. Payload: idea (Idea).",
)
idea_triggered = _signals.signal(
    "idea-triggered",
    doc="A trade idea reached its entry and is now open. Payload: idea (Idea).",
)
idea_resolved = _signals.signal(
    "idea-resolved",
    doc="A trade idea ended as a win, loss or expiry. Payload: idea (Idea).",
)
weekly_report = _signals.signal(
    "weekly-report",
    doc=(
        "The weekly ideas review was generated. Payload: report (WeeklyReport), week "
        "('YYYY-Www'), key (where the JSON was written; None without a store)."
    ),
)
