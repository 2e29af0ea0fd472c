"""
Persistence: a restored tracker is indistinguishable from the one that wrote the store, events
count exactly once, damage is detected and reported, and two trackers never share an account.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import pytest
import structlog
from hypothesis import HealthCheck, given, settings

import perftrack as pt
from perftrack import errors
from perftrack._persist import decode_record, segments, snapshots
from perftrack.stores import LocalStore, MemoryStore
from tests.observe import T0, fingerprint

# -- random event streams ------------------------------------------------------------------------

ops = st.lists(
    st.tuples(
        st.sampled_from(["record", "open", "add", "partial", "close", "mark"]),
        st.integers(0, 5),  # which open trade
        st.integers(80, 120),  # price
        st.integers(0, 60 * 24 * 6),  # minutes after T0
        st.sampled_from(["a", "b"]),
        st.booleans(),
    ),
    max_size=60,
)


def apply(tracker: pt.Tracker, op: tuple[Any, ...], n: int) -> None:
    kind, pick, price, minutes, strategy, flag = op
    when = T0 + timedelta(minutes=minutes)
    px = Decimal(price)
    open_ids = [t.trade_id for t in tracker.open_trades]
    if kind == "record":
        tracker.record_trade(
            "X" if flag else "Y",
            "long" if flag else "short",
            2,
            "100",
            px,
            when - timedelta(hours=1),
            when,
            fees="0.5",
            strategy=strategy,
            stop_price="99" if flag else None,
            tags=("t",) if flag else (),
        )
    elif kind == "open":
        tracker.open_trade(
            f"o{n}",
            symbol="X",
            side="short" if flag else "long",
            quantity=4,
            price=px,
            time=when,
            fees="1",
            strategy=strategy,
        )
    elif kind == "mark":
        tracker.mark_price("X" if flag else "Y", px, when, event_id=f"m{n}" if flag else None)
    elif open_ids:
        tid = open_ids[pick % len(open_ids)]
        entry = next(t for t in tracker.open_trades if t.trade_id == tid).entry_time
        when = max(when, entry)
        if kind == "add":
            tracker.add_to_trade(tid, quantity=1, price=px, time=when, event_id=f"e{n}")
        elif kind == "partial":
            tracker.close_trade(tid, price=px, time=when, quantity=1, event_id=f"e{n}")
        else:
            tracker.close_trade(tid, price=px, time=when)


def crash(tracker: pt.Tracker) -> None:
    """
    Abandon a tracker as a killed process would: no flush, no close; only the lock goes (it
    would be taken over, its pid being dead).
    """
    tracker._account_lock.release()  # type: ignore[union-attr]
    tracker._sinks.clear()


class TestRoundTrip:
    """Restore gives back every summary, breakdown, rolling window, live figure and open trade."""

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(events=ops, snapshot_at=st.integers(-1, 60), every=st.sampled_from([3, 1000]))
    def test_restore_equals_original(self, events, snapshot_at, every):
        store = MemoryStore()
        tracker = pt.Tracker("5000", timezone="America/New_York", store=store, snapshot_every=every)
        for n, op in enumerate(events):
            apply(tracker, op, n)
            if n == snapshot_at:
                tracker.save_snapshot()
        before = fingerprint(tracker)
        crash(tracker)
        restored = pt.Tracker.restore(store)
        assert before == fingerprint(restored)
        assert restored.restore_report.problems == ()
        # And it goes on: the same next event gives the same result on both.
        restored.record_trade("X", "long", 1, "10", "11", T0, T0 + timedelta(days=9))
        restored.close()

    def test_local_store_and_second_restore(self, tmp_path):
        store = LocalStore(tmp_path)
        with pt.Tracker("1000", store=store, snapshot_every=5) as tracker:
            for n in range(23):
                apply(tracker, ("record", 0, 100 + n % 7, n * 30, "a", n % 2 == 0), n)
            before = fingerprint(tracker)
        with pt.Tracker.restore(store) as again:
            assert before == fingerprint(again)
        # Compaction keeps two snapshots and only the journal they need.
        assert len(snapshots(store, "main")) == 2
        with pt.Tracker.restore(store) as third:
            assert before == fingerprint(third)


class TestExactlyOnce:
    """A bot re-sending its last events after a restart counts nothing twice."""

    def test_resend_after_restore(self):
        store = MemoryStore()
        tracker = pt.Tracker("1000", store=store)
        first = tracker.record_trade("X", "long", 1, "10", "12", T0, T0, trade_id="t1")
        tracker.open_trade("t2", symbol="X", side="long", quantity=2, price="10", time=T0)
        tracker.close_trade("t2", price="11", time=T0, quantity=1, event_id="c1")
        crash(tracker)
        again = pt.Tracker.restore(store)
        assert first == again.record_trade("X", "long", 1, "10", "12", T0, T0, trade_id="t1")
        again.open_trade("t2", symbol="X", side="long", quantity=2, price="10", time=T0)
        again.close_trade("t2", price="11", time=T0, quantity=1, event_id="c1")
        assert Decimal(1) == again.open_trades[0].quantity
        assert Decimal(3) == again.summary().net_pnl
        with pytest.raises(errors.DuplicateTradeError, match="'trade_id'"):
            again.record_trade("X", "long", 1, "10", "13", T0, T0, trade_id="t1")


class TestDamage:
    """Damaged data is detected, cut back, logged and reported, never silently misread."""

    def _written(self) -> tuple[MemoryStore, Any]:
        store = MemoryStore()
        tracker = pt.Tracker("1000", store=store)
        for n in range(10):
            tracker.record_trade("X", "long", 1, "10", str(11 + n), T0, T0 + timedelta(hours=n))
        before = fingerprint(tracker)
        crash(tracker)
        return store, before

    def test_truncated_tail_is_cut_back(self):
        store, _ = self._written()
        key = segments(store, "main")[-1]
        data = store.get(key)
        store.put(key, data[:-20])  # the last record loses its end
        with structlog.testing.capture_logs() as logs:
            tracker = pt.Tracker.restore(store)
        assert tracker.summary().trades == 9
        assert [e["event"] for e in logs if e["log_level"] == "warning"] == [
            "perftrack.journal_truncated"
        ]
        assert len(tracker.restore_report.problems) == 1
        # The journal was repaired: the next restore sees no problem, and new events follow.
        tracker.record_trade("X", "long", 1, "10", "30", T0, T0 + timedelta(hours=20))
        crash(tracker)
        again = pt.Tracker.restore(store)
        assert (again.summary().trades, again.restore_report.problems) == (10, ())

    def test_corrupted_record_in_the_middle_stops_replay_there(self):
        store, _ = self._written()
        key = segments(store, "main")[-1]
        lines = store.get(key).splitlines(keepends=True)
        lines[4] = lines[4].replace(b'"exit_price":"14"', b'"exit_price":"99"')
        store.put(key, b"".join(lines))
        tracker = pt.Tracker.restore(store)
        assert tracker.summary().trades == 3  # records 1-3 (0 is the init record)
        assert tracker.restore_report.dropped_records == 6

    def test_corrupted_snapshot_falls_back_to_the_previous(self):
        store = MemoryStore()
        tracker = pt.Tracker("1000", store=store)
        for n in range(6):
            tracker.record_trade("X", "long", 1, "10", "12", T0, T0 + timedelta(hours=n))
            if n in (2, 4):
                tracker.save_snapshot()
        before = fingerprint(tracker)
        crash(tracker)
        newest = snapshots(store, "main")[0]
        data = bytearray(store.get(newest))
        data[-5] ^= 0xFF
        store.put(newest, bytes(data))
        restored = pt.Tracker.restore(store)
        assert before == fingerprint(restored)
        assert (newest,) == restored.restore_report.skipped_snapshots
        assert [f"{newest}: snapshot fails its checksum"] == restored.verify()

    def test_verify_reports_a_bad_journal_line(self):
        store, _ = self._written()
        key = segments(store, "main")[-1]
        store.put(key, store.get(key) + b"deadbeef {}\n")
        tracker = pt.Tracker.restore(store)
        assert tracker.verify() == []  # restore repaired it
        tracker.close()


class TestAccount:
    """One live tracker per account; a dead holder never blocks a restart."""

    def test_second_tracker_is_refused(self):
        store = MemoryStore()
        first = pt.Tracker("1000", store=store)
        with pytest.raises(errors.LockedError, match="held by pid"):
            pt.Tracker.restore(store)
        first.close()
        pt.Tracker.restore(store).close()

    def test_lock_of_a_dead_process_is_taken_over(self, tmp_path):
        store = LocalStore(tmp_path)
        pt.Tracker("1000", store=store).close()
        dead = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"],
            capture_output=True,
            text=True,
            check=True,
        )
        import socket

        store.put(
            "main/lock",
            json.dumps({"host": socket.gethostname(), "pid": int(dead.stdout), "time": 0}).encode(),
        )
        pt.Tracker.restore(store).close()

    def test_new_tracker_refuses_an_account_with_data(self):
        store = MemoryStore()
        pt.Tracker("1000", store=store).close()
        with pytest.raises(errors.InvalidInputError, match=r"Tracker\.restore"):
            pt.Tracker("1000", store=store)

    def test_restore_refuses_a_different_configuration(self):
        store = MemoryStore()
        pt.Tracker("1000", timezone="Europe/Paris", store=store).close()
        with pytest.raises(errors.InvalidInputError, match="'timezone'"):
            pt.Tracker.restore(store, timezone="UTC")

    def test_close_twice_and_refuse_events_after(self):
        tracker = pt.Tracker("1000", store=MemoryStore())
        tracker.close()
        tracker.close()
        with pytest.raises(errors.InvalidInputError, match="closed"):
            tracker.mark_price("X", "1", T0)

    def test_copy_to_makes_a_restorable_backup(self):
        store, backup = MemoryStore(), MemoryStore()
        tracker = pt.Tracker("1000", store=store)
        tracker.record_trade("X", "long", 1, "10", "12", T0, T0)
        assert tracker.copy_to(backup) >= 1
        tracker.close()
        with pt.Tracker.restore(backup) as copy:
            assert copy.summary().trades == 1


class FailingStore(MemoryStore):
    """A store whose writes fail on demand (a full disk, a permission change, an S3 outage)."""

    failing = False

    def append(self, key: str, data: bytes) -> None:
        if self.failing:
            raise errors.StoreError("disk full")
        super().append(key, data)


class TestStoreFailures:
    """A failing store raises StoreError from the call and leaves the tracker as it was."""

    def test_sync_failure_changes_nothing(self):
        store = FailingStore()
        tracker = pt.Tracker("1000", store=store)
        tracker.record_trade("X", "long", 1, "10", "12", T0, T0)
        before = fingerprint(tracker)
        store.failing = True
        with pytest.raises(errors.StoreError, match="disk full"):
            tracker.record_trade("X", "long", 1, "10", "15", T0, T0 + timedelta(hours=1))
        assert before == fingerprint(tracker)
        store.failing = False
        tracker.record_trade("X", "long", 1, "10", "15", T0, T0 + timedelta(hours=1))
        crash(tracker)
        assert pt.Tracker.restore(store).summary().trades == 2

    def test_batch_failure_keeps_the_queue_for_the_next_attempt(self):
        store = FailingStore()
        tracker = pt.Tracker(
            "1000", store=store, durability="batch", batch_max_events=1000, batch_max_ms=60_000
        )
        tracker.record_trade("X", "long", 1, "10", "12", T0, T0)
        store.failing = True
        with pytest.raises(errors.StoreError):
            tracker.flush()
        store.failing = False
        tracker.flush()
        crash(tracker)
        assert pt.Tracker.restore(store).summary().trades == 1


class TestBatchDurability:
    """Batch mode writes within its bound and on flush and close."""

    def test_background_flush_within_the_bound(self, tmp_path):
        store = LocalStore(tmp_path)
        tracker = pt.Tracker("1000", store=store, durability="batch", batch_max_ms=20)
        tracker.record_trade("X", "long", 1, "10", "12", T0, T0)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            lines = store.get(segments(store, "main")[-1]).splitlines()
            if len(lines) == 2:
                break
            time.sleep(0.01)
        assert decode_record(lines[-1] + b"\n")["kind"] == "record_trade"
        tracker.close()


CHILD = Path(__file__).with_name("crash_child.py")


class TestKillNine:
    """SIGKILL at random moments never loses an acknowledged trade nor counts one twice."""

    @pytest.mark.slow
    def test_rounds(self, tmp_path):
        rng = random.Random(1234)
        acknowledged: list[str] = []
        for round_no in range(8):
            child = subprocess.Popen(
                [sys.executable, str(CHILD), str(tmp_path), str(round_no)],
                stdout=subprocess.PIPE,
                text=True,
                env={**os.environ, "PYTHONPATH": os.getcwd()},
            )
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready"
            deadline = time.monotonic() + rng.uniform(0.05, 0.6)
            while time.monotonic() < deadline:
                line = child.stdout.readline().strip()
                if not line:
                    break
                acknowledged.append(line)
            child.send_signal(signal.SIGKILL)
            child.wait()
            child.stdout.close()
            # Whatever the child acknowledged before it died is in the store, once.
            with pt.Tracker.restore(LocalStore(tmp_path)) as tracker:
                ids = [t.trade_id for t in tracker.trades()]
                assert len(ids) == len(set(ids))
                missing = set(acknowledged) - set(ids)
                assert set() == missing, f"round {round_no}: lost {sorted(missing)[:5]}"
        assert len(acknowledged) > 50


class TestRetention:
    """Old trade detail moves to archives; day aggregates stay; memory stays bounded."""

    def _feed(self, tracker: pt.Tracker, days: int) -> None:
        for n in range(days * 4):
            when = T0 + timedelta(hours=6 * n)
            tracker.record_trade(
                "X" if n % 2 else "Y",
                "long",
                1,
                "100",
                "103" if n % 3 else "98",
                when,
                when,
                fees="0.5",
                strategy="a" if n % 4 else "b",
                tags=("t",),
                trade_id=f"r{n}",
            )

    def test_archived_days_keep_their_summaries(self):
        store = MemoryStore()
        full = pt.Tracker("1000")
        kept = pt.Tracker("1000", store=store, retention=timedelta(days=10))
        self._feed(full, 40)
        self._feed(kept, 40)
        assert len(kept.trades()) < 12 * 4 < len(full.trades())
        assert store.list("main/archive/")
        for by in ("strategy", "symbol"):
            assert {k: v.to_dict() for k, v in full.breakdown(by).items()} == {
                k: v.to_dict() for k, v in kept.breakdown(by).items()
            }
        assert [s.to_dict() for s in full.periods("day")] == [
            s.to_dict() for s in kept.periods("day")
        ]
        # Nothing may land in an archived day.
        with pytest.raises(errors.InvalidTradeError, match="retention horizon"):
            kept.record_trade("X", "long", 1, "1", "2", T0, T0 + timedelta(days=1))
        before = fingerprint(kept)
        crash(kept)
        restored = pt.Tracker.restore(store, retention=timedelta(days=10))
        assert before == fingerprint(restored)
        assert [] == restored.verify()

    def test_counts_back_from_the_newest_event(self):
        # Back-tested history from years ago is not archived on arrival.
        tracker = pt.Tracker("1000", store=MemoryStore(), retention=timedelta(days=10))
        self._feed(tracker, 5)
        assert 20 == len(tracker.trades())

    def test_filter_first_asked_after_archiving_is_partial(self):
        tracker = pt.Tracker("1000", store=MemoryStore(), retention=timedelta(days=10))
        self._feed(tracker, 40)
        assert tracker.summary(strategy="b", symbol="Y").partial
        assert not tracker.summary(strategy="b").partial
