"""
The child of the kill -9 test: a bot that records trades with durability="sync" and prints each
trade id once record_trade has returned (acknowledged). It snapshots very often and prints
``snapshot-start`` / ``snapshot-end`` around every snapshot write, so the parent can kill it in
the middle of one and tell afterwards whether it did.

    python tests/crash_child.py DATA_DIR ROUND [RESEND_ID ...]

On start it restores the account and re-sends the trades named on the command line (the last
ones the previous round acknowledged), as a bot re-sends its last events after a restart.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import perftrack as pt
from perftrack import _persist
from perftrack.stores import LocalStore

SNAPSHOT_EVERY = 5
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def trade_of(trade_id: str) -> dict[str, Any]:
    """
    The content of trade ``r<round>-<n>``: the same on every send.
    """
    round_no, n = (int(part) for part in trade_id[1:].split("-"))
    # A week per round: well inside the retention horizon, so every trade stays in detail.
    when = T0 + timedelta(minutes=round_no * 10_000 + n)
    return {
        "symbol": "X",
        "side": "long",
        "quantity": 1,
        "entry_price": "100",
        "exit_price": "101" if n % 3 else "99",
        "entry_time": when,
        "exit_time": when,
        "trade_id": trade_id,
    }


def main() -> None:
    data, round_no, resend = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    real_save = _persist.save_snapshot

    def announced_save(*args: Any) -> int:
        print("snapshot-start", flush=True)
        seq = real_save(*args)
        print("snapshot-end", flush=True)
        return seq

    _persist.save_snapshot = announced_save
    tracker = pt.Tracker.restore(
        LocalStore(data), starting_equity="100000", snapshot_every=SNAPSHOT_EVERY
    )
    for trade_id in resend:
        tracker.record_trade(**trade_of(trade_id))
    print("ready", flush=True)
    for n in range(100_000):
        trade = tracker.record_trade(**trade_of(f"r{round_no}-{n}"))
        print(trade.trade_id, flush=True)


if __name__ == "__main__":
    main()
