"""
The child of the kill -9 test: records trades with durability="sync" and prints each trade id
once record_trade has returned (acknowledged), snapshotting very often so that kills land in
the middle of snapshot writes too.

    python tests/crash_child.py DATA_DIR ROUND
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

import perftrack as pt
from perftrack.stores import LocalStore


def main() -> None:
    data, round_no = sys.argv[1], int(sys.argv[2])
    store = LocalStore(data)
    tracker = pt.Tracker.restore(store, starting_equity="100000", snapshot_every=7)
    print("ready", flush=True)
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    for n in range(100_000):
        when = t0 + timedelta(minutes=round_no * 100_000 + n)
        trade = tracker.record_trade(
            "X", "long", 1, "100", "101" if n % 3 else "99", when, when, trade_id=f"r{round_no}-{n}"
        )
        print(trade.trade_id, flush=True)


if __name__ == "__main__":
    main()
