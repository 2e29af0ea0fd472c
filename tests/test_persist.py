"""
Persistence: a restored tracker is indistinguishable from the one that wrote the store, events
count exactly once, damage is detected and reported, and two trackers never share an account.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import zlib
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, cast
from unittest import mock

import attrs
import hypothesis.strategies as st
import pytest
import structlog
from hypothesis import HealthCheck, given, settings

import perftrack as pt
from perftrack import _persist, errors
from perftrack._persist import decode_record, segments, snapshots
from perftrack.stores import LocalStore, MemoryStore, ObjectStore
from tests.observe import T0, fingerprint
from tests.s3server import _s3_bucket, _s3_endpoint  # noqa: F401 (fixtures)

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


# Every built-in rule, with windows small enough for short streams to breach and recover.
TARGETS = pt.Targets(
    min_win_rate=0.5,
    rolling_window=4,
    min_risk_reward=1.0,
    risk_reward_window=4,
    min_profit_factor=1.0,
    profit_factor_window=4,
    max_loss_streak=2,
    max_drawdown_pct=0.01,
    max_drawdown="30",
    max_daily_loss="5",
    per_strategy={"b": pt.Targets(max_loss_streak=1, max_drawdown="8", scope={"strategy": "b"})},
)


def attempt(tracker: pt.Tracker, op: tuple[Any, ...], n: int) -> str | None:
    """
    ``apply``, or the message of the error when retention refuses an event in an archived day.
    """
    try:
        apply(tracker, op, n)
    except errors.InvalidTradeError as e:
        assert "retention horizon" in str(e)
        return str(e)
    return None


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
    @given(
        events=ops,
        stop=st.integers(0, 60),
        snapshot_at=st.integers(-1, 60),
        every=st.sampled_from([3, 1000]),
        retention=st.sampled_from([None, timedelta(days=2)]),
    )
    def test_restore_equals_original(self, events, stop, snapshot_at, every, retention):
        options = {"timezone": "America/New_York", "targets": TARGETS, "retention": retention}
        store = MemoryStore()
        tracker = pt.Tracker("5000", store=store, snapshot_every=every, **options)
        outcomes = []
        for n, op in enumerate(events[:stop]):
            outcomes.append(attempt(tracker, op, n))
            if n == snapshot_at:
                tracker.save_snapshot()
        before = fingerprint(tracker)
        crash(tracker)
        restored = pt.Tracker.restore(store, **options)
        assert before == fingerprint(restored)
        assert restored.restore_report.problems == ()
        # And both go on alike: the rest of the events give the same state on each.
        twin = pt.Tracker("5000", store=MemoryStore(), **options)
        assert outcomes == [attempt(twin, op, n) for n, op in enumerate(events[:stop])]
        # (Asked the same queries: a combined filter first asked after archiving is partial.)
        assert before == fingerprint(twin)
        for n, op in enumerate(events[stop:], start=stop):
            assert attempt(twin, op, n) == attempt(restored, op, n)
        assert fingerprint(twin) == fingerprint(restored)
        restored.close()
        twin.close()

    @pytest.mark.parametrize("listener", [False, True])
    def test_trusted_replay_of_recorded_trades(self, monkeypatch, listener):
        """Journaled record_trade events replay without the public call, to the same state."""
        from perftrack import _persist

        calls = {"trusted": 0}
        trusted = _persist.replay_trades

        def counting(tracker, trades, given):
            done = trusted(tracker, trades, given)
            calls["trusted"] += done
            return done

        monkeypatch.setattr(_persist, "replay_trades", counting)
        store = MemoryStore()
        tracker = pt.Tracker("1000", store=store, timezone="America/New_York")
        for n in range(30):
            apply(
                tracker,
                (["record", "record", "open", "close"][n % 4], 0, 95 + n, n * 90, "a", n % 3 == 0),
                n,
            )
        tracker.record_trade("Z", "short", "3", "10", "9.5", T0, T0, net_pnl="1.25", trade_id="z1")
        tracker.record_trade("Z", "long", "1", "10", "11", T0, T0 + timedelta(days=9))
        before = fingerprint(tracker)
        crash(tracker)
        # A receiver another test connected and dropped stays in blinker's weak table until
        # its cycle is collected, and any receiver turns the trusted path off.
        gc.collect()
        assert not pt.signals.trade_closed.receivers
        assert not pt.signals.equity_changed.receivers
        received: list[Any] = []

        def on_closed(sender, **payload):
            received.append(payload["trade"])

        if listener:
            pt.signals.trade_closed.connect(on_closed)
        try:
            restored = pt.Tracker.restore(store, timezone="America/New_York")
        finally:
            pt.signals.trade_closed.disconnect(on_closed)
        assert before == fingerprint(restored)
        # A receiver sees every replayed trade, as before: then nothing takes the trusted path.
        recorded = sum(
            record is not None and record["kind"] == "record_trade"
            for _key, _line, record, _problem in _persist.read_journal(store, "main", -1)
        )
        expected = (0, 25, 18) if listener else (18, 0, 18)
        assert expected == (calls["trusted"], len(received), recorded)
        restored.close()

    def test_ids_with_digits_int_refuses_replay(self):
        """ "pt-²" looks generated, but int() cannot read it: an ordinary id on replay too."""
        store = MemoryStore()
        tracker = pt.Tracker("1000", store=store)
        for n, tid in enumerate(["pt-²", "pt-4", "pt-1²", None]):
            tracker.record_trade(
                "X", "long", 1, "10", "11", T0, T0 + timedelta(minutes=n), trade_id=tid
            )
        before = fingerprint(tracker)
        tracker.close()
        restored = pt.Tracker.restore(store)
        assert before == fingerprint(restored)
        assert "pt-6" == restored.record_trade("X", "long", 1, "10", "11", T0, T0).trade_id
        restored.close()

    def test_journal_segments_are_read_once(self):
        """Without a snapshot, the segment read for the init record is not read again."""
        store = MemoryStore()
        with pt.Tracker("1000", store=store, snapshot_every=10**9) as tracker:
            for n in range(7):
                apply(tracker, ("record", 0, 100 + n % 7, n * 30, "a", n % 2 == 0), n)
            before = fingerprint(tracker)
        keys = segments(store, "main")
        reads: list[str] = []
        get = store.get

        def counted(key: str) -> bytes:
            reads.append(key)
            return get(key)

        with mock.patch.object(store, "get", counted), pt.Tracker.restore(store) as again:
            assert before == fingerprint(again)
        assert keys == [k for k in reads if k in keys]

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

    @pytest.mark.parametrize("snapshot", [False, True])
    def test_what_a_restore_builds_sits_in_the_oldest_generation(self, snapshot):
        """The restored state is kept: the collector does not walk it in a young collection
        at the first allocation after the restore (a twentieth of a 100,000-event replay)."""
        store = MemoryStore()
        tracker = pt.Tracker("10000", store=store)
        for i in range(50):
            at = T0 + timedelta(minutes=i)
            tracker.record_trade("X", "long", 1, "10", "11", at, at, tags=["a"])
        if snapshot:
            tracker.save_snapshot()
        crash(tracker)
        gc.collect()
        restored = pt.Tracker.restore(store)
        assert gc.isenabled()
        oldest = {id(o) for o in gc.get_objects(generation=2)}
        assert {id(restored._closed[0]), id(restored._closed[-1])} <= oldest
        restored.close()


class TestFormats:
    """Journal records carry sequence, id and checksum; snapshots a schema, seq and checksum."""

    def test_journal_records(self):
        store = MemoryStore()
        tracker = pt.Tracker("1000", store=store)
        tracker.record_trade("X", "long", 1, "10", "12.5", T0, T0, trade_id="t1")
        tracker.open_trade("t2", symbol="X", side="long", quantity=2, price="10", time=T0)
        tracker.close_trade("t2", price="11", time=T0, event_id="exit-1")
        lines = b"".join(store.get(k) for k in segments(store, "main")).splitlines(keepends=True)
        records = [decode_record(line) for line in lines]
        assert [0, 1, 2, 3] == [r["seq"] for r in records]
        assert ["init", "record_trade", "open_trade", "close_trade"] == [r["kind"] for r in records]
        assert [None, "t1", "t2", "exit-1"] == [r["id"] for r in records]
        assert "12.5" == records[1]["data"]["exit_price"]  # Decimals as strings
        bad = lines[1].replace(b"12.5", b"13.5")
        with pytest.raises(errors.CorruptDataError, match="checksum"):
            decode_record(bad)
        with pytest.raises(errors.CorruptDataError):
            decode_record(lines[1][:-1])  # cut before its newline

    def test_record_trade_lines_are_what_the_json_encoder_writes(self):
        """The formatted record_trade line is byte for byte the generic encoder's."""
        from perftrack import _persist

        events: list[dict[str, Any]] = []
        tracker = pt.Tracker("1000", timezone="Asia/Kolkata")
        tracker._sinks.append(lambda kind, data: events.append(data))
        tracker.record_trade("X", "long", 1, "10", "12.5", T0, T0 + timedelta(hours=1))
        tracker.record_trade(
            'Q"\\é\u2028',
            "short",
            "0.001",
            "1E+3",
            "999.5",
            "2024-03-01T09:15:00+05:30",
            "2024-03-01T10:15:00.123456+05:30",
            fees="0",
            strategy="ünï",
            stop_price="1001",
            target_price="900",
            tags=("a b", 'q"', "\\"),
            trade_id="t/1",
            net_pnl="-0.0",
        )
        for seq, data in enumerate(events):
            line = _persist.encode_record(seq, "record_trade", data)
            assert _persist._encode_json(seq, "record_trade", data) == line
            assert data["trade_id"] == decode_record(line)["id"]

    def test_decoded_runs_are_the_json_records(self):
        """The segment decoder reads each record_trade line as the JSON decoder does."""
        from perftrack._persist import TradeRun, read_journal

        store = MemoryStore()
        tracker = pt.Tracker("1000", store=store, timezone="Asia/Kolkata")
        tracker.record_trade("X", "long", 1, "10", "12.5", T0, T0 + timedelta(hours=1))
        tracker.record_trade(
            "Y", "short", "0.5", "20", "21", T0, T0, fees="0.25", tags=("a", "b c"), trade_id="y"
        )
        tracker.record_trade('Q"\\', "long", 2, "1", "3", T0, T0, tags="ü")  # escaped: JSON
        tracker.open_trade("o", symbol="X", side="long", quantity=1, price="10", time=T0)
        tracker.record_trade(
            "ß", "long", 3, "5", "4", T0, T0, stop_price="4.5", target_price="6", net_pnl="-3.5"
        )
        tracker.record_trade("X", "short", 1, "10", "10", T0, T0, stop_price="10.5")
        crash(tracker)
        plain = list(read_journal(store, "main", -1))
        seen = []
        for _key, line, record, _problem in read_journal(store, "main", -1, rows=True):
            if not isinstance(record, TradeRun):
                assert plain[line][2] == record
                seen.append(line)
                continue
            for n, (seq, trade, net) in enumerate(zip(*record, strict=True)):
                data = plain[line + n][2]["data"]
                assert plain[line + n][2]["seq"] == seq
                assert pt.Tracker("1000", timezone="Asia/Kolkata").record_trade(**data) == trade
                assert (None if data["net_pnl"] is None else Decimal(data["net_pnl"])) == net
                seen.append(line + n)
        assert list(range(len(plain))) == seen  # every line once, in order

    @pytest.mark.parametrize(
        "quantities",
        [["2", "2", "2", "2"], ["2", "3", "3", "2"], ["2", "2.0", "2", "2"], ["1", "2", "3", "4"]],
    )
    def test_repeated_values_decode_as_written(self, quantities):
        """A column of one value throughout (or one that only looks so at its ends) reads
        back value for value and digit for digit, as the JSON decoder reads it."""
        from perftrack._persist import TradeRun, read_journal

        store = MemoryStore()
        tracker = pt.Tracker("1000", store=store)
        for n, quantity in enumerate(quantities):
            when = T0 + timedelta(minutes=n)
            tracker.record_trade(
                "X", "long", quantity, "10", "11", when, when, fees="0.50", tags=("a",)
            )
        crash(tracker)
        plain = [record for _key, _line, record, _ in read_journal(store, "main", -1)]
        runs = [
            record
            for _key, _line, record, _ in read_journal(store, "main", -1, rows=True)
            if isinstance(record, TradeRun)
        ]
        assert 1 == len(runs)
        expected = [str(pt.Tracker("1000").record_trade(**record["data"])) for record in plain[1:]]
        assert expected == list(map(str, runs[0].trades))
        assert quantities == [str(trade.quantity) for trade in runs[0].trades]

    @pytest.mark.parametrize("calendar", ["all", "weekdays"])
    def test_session_days_of_a_run(self, calendar):
        """A run's session days, found a day at a time, are each trade's own."""
        import random

        from perftrack._persist import _session_days

        tracker = pt.Tracker("1000", timezone="America/New_York", calendar=calendar)
        rng = random.Random(7)
        times = sorted(T0 + timedelta(minutes=rng.randint(0, 60 * 24 * 20)) for _ in range(300))
        session_of = tracker._calendar.session_of
        assert [session_of(t) for t in times] == _session_days(tracker, times)
        rng.shuffle(times)  # out of order: one lookup each
        assert [session_of(t) for t in times] == _session_days(tracker, times)

    def test_snapshot_object(self):
        import zlib

        store = MemoryStore()
        tracker = pt.Tracker("1000", store=store)
        tracker.record_trade("X", "long", 1, "10", "12.5", T0, T0)
        seq = tracker.save_snapshot()
        data = store.get(snapshots(store, "main")[0])
        crc, _, body = data.partition(b"\n")
        assert int(crc, 16) == zlib.crc32(body)
        # The length of the head, the head, then the trade detail, each compressed.
        size, _, rest = body.partition(b"\n")
        head, detail = rest[: int(size)], rest[int(size) :]
        doc = json.loads(zlib.decompress(head))
        assert (4, seq) == (doc["schema"], doc["seq"])
        assert "2.5" == doc["state"]["realized"]
        assert "trades" not in doc["state"] and "buckets" in doc["state"]
        assert {"trades", "days"} == set(json.loads(zlib.decompress(detail)))

    @pytest.mark.parametrize("snapshot", [False, True])
    def test_trade_recorded_with_its_steps_restores(self, snapshot):
        """Journaled with its realizations, snapshotted in schema 3's sparse column."""
        store = MemoryStore()
        tracker = pt.Tracker("1000", store=store, timezone="America/New_York")
        tracker.open_trade("a", symbol="X", side="long", quantity=2, price="10", time=T0, fees="1")
        tracker.close_trade("a", price="11", time=T0 + timedelta(hours=20), quantity=1)
        built = tracker.close_trade("a", price="12", time=T0 + timedelta(hours=40))
        again = {f: getattr(built, f) for f in ("symbol", "side", "quantity", "entry_price")}
        tracker.record_trade(
            **again,
            exit_price=built.exit_price,
            entry_time=built.entry_time,
            exit_time=built.exit_time + timedelta(hours=1),
            fees=built.fees,
            net_pnl=built.net_pnl,
            trade_id="b",
            realizations=[
                *built.realizations[:-1],
                attrs.evolve(built.realizations[-1], time=built.exit_time + timedelta(hours=1)),
            ],
        )
        if snapshot:
            tracker.save_snapshot()
        tracker.flush()
        before = fingerprint(tracker)
        crash(tracker)
        restored = pt.Tracker.restore(store)
        assert before == fingerprint(restored)
        assert 3 == len(restored.trades()[-1].realizations)
        restored.close()

    @pytest.mark.parametrize("schema", [1, 2])
    def test_older_schema_snapshot_still_loads(self, schema):
        """
        Schemas 1 and 2 kept no realizations: the steps of closed trades and open
        positions are read back from the day events.
        """
        import zlib

        from perftrack._persist import (
            _POSITION_FIELDS,
            _TRADE_FIELDS,
            _plain,
            _snapshot_key,
            tracker_state,
        )

        store = MemoryStore()
        tracker = pt.Tracker("1000", store=store, timezone="America/New_York")
        for n in range(40):
            apply(
                tracker,
                (
                    ["record", "open", "partial", "close"][n % 4],
                    n % 3,
                    90 + n,
                    n * 50,
                    "a",
                    n % 2 == 0,
                ),
                n,
            )
        apply(tracker, ("open", 0, 100, 2000, "a", True), 40)  # open, with its entry fee
        tracker.flush()
        seq = tracker._journal.next_seq - 1
        before = fingerprint(tracker)
        steps = {tid: list(p.steps) for tid, p in tracker._open.items()}
        assert any(t.realizations for t in tracker.trades()) and any(steps.values())
        state = tracker_state(tracker)
        # Open positions as both wrote them: without their steps.
        state["positions"] = [row[: len(_POSITION_FIELDS) + 1] for row in state["positions"]]
        flags = [t.booked_whole for t in tracker._closed]
        if schema == 1:  # one list per closed trade, a booked_whole flag last
            rows = [[getattr(t, f) for f in _TRADE_FIELDS[:-1]] for t in tracker._closed]
            state["trades"] = [[*row, flag] for row, flag in zip(rows, flags, strict=True)]
        else:  # columns, a booked_whole flag column instead of the realizations
            del state["trades"]["realizations"]
            table = sorted(set(flags))
            state["trades"]["booked_whole"] = {
                "table": table,
                "codes": [table.index(f) for f in flags],
            }
        doc = {"schema": schema, "seq": seq, "state": state}
        body = zlib.compress(json.dumps(doc, default=_plain).encode())
        crash(tracker)
        store.put(_snapshot_key("main", seq), b"%08x\n%s" % (zlib.crc32(body), body))
        restored = pt.Tracker.restore(store)
        assert (seq, 0) == (restored.restore_report.snapshot_seq, restored.restore_report.replayed)
        assert before == fingerprint(restored)
        assert steps == {tid: p.steps for tid, p in restored._open.items()}
        restored.close()

    def test_unknown_schema_is_skipped_like_damage(self):
        import zlib

        from perftrack._persist import _snapshot_key

        store = MemoryStore()
        tracker = pt.Tracker("1000", store=store)
        tracker.record_trade("X", "long", 1, "10", "12.5", T0, T0)
        tracker.flush()
        before = fingerprint(tracker)
        crash(tracker)
        body = zlib.compress(json.dumps({"schema": 99, "seq": 1, "state": {}}).encode())
        key = _snapshot_key("main", 1)
        store.put(key, b"%08x\n%s" % (zlib.crc32(body), body))
        restored = pt.Tracker.restore(store)
        assert ((key,), 2) == (
            restored.restore_report.skipped_snapshots,
            restored.restore_report.replayed,
        )
        assert before == fingerprint(restored)
        restored.close()

    def test_stores_without_append_write_numbered_segments(self):
        from perftrack.stores import KeyValueStore

        class Backend(dict):  # type: ignore[type-arg]
            def save_bytes(self, key: str, value: bytes) -> None:
                self[key] = bytes(value)

            def read_bytes(self, key: str) -> bytes:
                return self[key]

            def delete(self, key: str) -> None:  # type: ignore[override]
                self.pop(key, None)

        store = KeyValueStore(Backend(), contains=None)
        tracker = pt.Tracker("1000", store=store)
        for n in range(3):
            tracker.record_trade("X", "long", 1, "10", "12", T0, T0 + timedelta(hours=n))
        assert [f"main/journal/{n:012d}.jsonl" for n in range(4)] == segments(store, "main")
        before = fingerprint(tracker)
        crash(tracker)
        assert before == fingerprint(pt.Tracker.restore(store))


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

    @pytest.mark.parametrize("snapshot", [False, True])
    def test_every_kind_of_event_resent_after_restore(self, snapshot):
        store = MemoryStore()
        tracker = pt.Tracker("1000", store=store)

        def send(t: pt.Tracker) -> list[Any]:
            return [
                t.record_trade("X", "long", 1, "10", "12", T0, T0, trade_id="r"),
                t.open_trade("o", symbol="X", side="long", quantity=3, price="10", time=T0),
                t.add_to_trade("o", quantity=1, price="11", time=T0, event_id="add-1"),
                t.mark_price("X", "13", T0 + timedelta(minutes=1), event_id="mark-1"),
                t.close_trade(
                    "o", price="12", time=T0 + timedelta(minutes=2), quantity=2, event_id="exit-1"
                ),
                t.close_trade("o", price="14", time=T0 + timedelta(minutes=3), event_id="exit-2"),
            ]

        first = send(tracker)
        if snapshot:
            tracker.save_snapshot()  # the registries come back from the snapshot, not replay
        before = fingerprint(tracker)
        crash(tracker)
        again = pt.Tracker.restore(store)
        resent = send(again)
        assert before == fingerprint(again)
        # Each re-send returns the earlier result; the open of a trade closed since returns
        # the closed trade, as re-sent exits do.
        assert [first[0], first[5], first[5], None, first[5], first[5]] == resent
        for call in (
            lambda: again.add_to_trade("o", quantity=2, price="11", time=T0, event_id="add-1"),
            lambda: again.mark_price("X", "14", T0, event_id="mark-1"),
            lambda: again.close_trade("o", price="13", time=T0, event_id="exit-2"),
            lambda: again.open_trade("o", symbol="X", side="long", quantity=9, price="10", time=T0),
        ):
            with pytest.raises(errors.DuplicateTradeError):
                call()
        assert before == fingerprint(again)


def _two_snapshots() -> tuple[MemoryStore, Any]:
    """
    A crashed tracker's store with snapshots after trades 3 and 5 of 6, and its fingerprint.
    """
    store = MemoryStore()
    tracker = pt.Tracker("1000", store=store)
    for n in range(6):
        tracker.record_trade("X", "long", 1, "10", "12", T0, T0 + timedelta(hours=n))
        if n in (2, 4):
            tracker.save_snapshot()
    before = fingerprint(tracker)
    crash(tracker)
    return store, before


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

    @pytest.mark.parametrize(
        "data",
        [
            {"symbol": "X", "colour": "red"},  # an argument record_trade has not
            {"symbol": "X"},  # arguments missing
            {
                "symbol": "X",
                "side": "long",
                "quantity": "1",
                "entry_price": "10",
                "exit_price": "NaN",
                "entry_time": "2024-01-02T00:00:00+00:00",
                "exit_time": "2024-01-02T01:00:00+00:00",
            },  # a value it refuses
        ],
    )
    def test_a_checksummed_record_that_cannot_be_replayed_is_corrupt_data(self, data):
        """A record that passes its checksum but was not written by a tracker (another
        version, another tool) is named, as damage; the restore does not half-apply it."""
        store, _ = self._written()
        key = segments(store, "main")[-1]
        store.append(key, _persist.encode_record(11, "record_trade", data))
        with pytest.raises(errors.CorruptDataError, match=f"{key} line 12: record 11"):
            pt.Tracker.restore(store, read_only=True)

    @pytest.mark.parametrize(
        "change",
        [
            {"exit_price": Decimal("NaN")},  # no amount a tracker accepts
            {"net_pnl": Decimal("-Infinity")},
            {"quantity": Decimal("-1")},  # values record_trade refuses
            {"fees": Decimal("-5")},
            {"stop_price": Decimal("15")},  # a long's stop above its entry
            {"entry_time": T0 + timedelta(days=1)},  # exit before entry
            {"exit_time": T0.replace(tzinfo=None)},  # no time zone
            {"trade_id": "pt-3"},  # a closed trade's id, with other content
        ],
    )
    def test_a_checksummed_trade_row_that_cannot_be_replayed_is_corrupt_data(self, change):
        """A record_trade record in the layout the tracker writes for a whole trade (read a
        column at a time, not through record_trade) is judged as record_trade judges it: a
        value it refuses is named as damage, never booked as it is (a NaN price then broke
        every summary) nor raised as the raw error of the replay."""
        store, _ = self._written()
        key = segments(store, "main")[-1]
        data = {
            "trade_id": "pt-99",
            "symbol": "X",
            "side": "long",
            "quantity": Decimal("1"),
            "entry_price": Decimal("10"),
            "exit_price": Decimal("20"),
            "entry_time": T0,
            "exit_time": T0 + timedelta(hours=20),
            "fees": Decimal("0"),
            "strategy": "default",
            "stop_price": None,
            "target_price": None,
            "tags": (),
            "net_pnl": None,
            "idea_id": None,
            **change,
        }
        assert tuple(data) == _persist.WHOLE_TRADE_ARGS  # (the row layout)
        store.append(key, _persist.encode_record(11, "record_trade", data))
        for read_only in (True, False):
            with pytest.raises(errors.CorruptDataError, match=f"{key}( line 12)?: record 11 "):
                pt.Tracker.restore(store, read_only=read_only)

    @pytest.mark.parametrize(
        "doc",
        [
            {"seq": 11, "kind": "import_trades", "data": []},
            {"seq": 11, "data": {}},
            {"seq": "11", "kind": "mark_bar", "data": {}},
            [11],
        ],
    )
    def test_a_checksummed_line_that_is_no_record_is_damage(self, doc):
        """A line that passes its checksum but is not a record (no kind, a sequence number
        that is no number, data that is no object) is a damaged line: named by verify,
        reported and cut back by a restore, never a raw error."""
        store, _ = self._written()
        key = segments(store, "main")[-1]
        body = json.dumps(doc).encode()
        store.append(key, b"%08x %s\n" % (zlib.crc32(body), body))
        assert [f"{key} line 12"] == [p[: len(key) + 8] for p in _persist.verify(store, "main")]
        for read_only in (True, False):
            restored = pt.Tracker.restore(store, read_only=read_only)
            assert 10 == restored.summary().trades
            assert 1 == len(restored.restore_report.problems)
            restored.close()
        assert [] == _persist.verify(store, "main")  # (the writable restore cut it back)

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
        store, before = _two_snapshots()
        newest = snapshots(store, "main")[0]
        data = bytearray(store.get(newest))
        data[-5] ^= 0xFF
        store.put(newest, bytes(data))
        restored = pt.Tracker.restore(store)
        assert before == fingerprint(restored)
        assert (newest,) == restored.restore_report.skipped_snapshots
        assert [f"{newest}: snapshot fails its checksum"] == restored.verify()

    def test_other_objects_beside_segments_and_snapshots_are_not_read_as_them(self):
        """A copy tool's temporary file or an editor's backup is neither: restore ignores it."""
        store, before = self._written()
        with pt.Tracker.restore(store) as tracker:
            tracker.save_snapshot()
        store.put("main/snapshots/notes.txt", b"kept by hand")
        store.put("main/snapshots/.000000000010.snap.Xa81Qz", b"half a copy")
        store.put("main/journal/000000000000.jsonl.bak", b"deadbeef {}\n")
        for read_only in (False, True):
            restored = pt.Tracker.restore(store, read_only=read_only)
            assert before == fingerprint(restored)
            assert ((), ()) == (
                restored.restore_report.skipped_snapshots,
                restored.restore_report.problems,
            )
            assert [] == restored.verify()
            restored.close()

    def test_restore_repairs_a_bad_journal_line(self):
        store, _ = self._written()
        key = segments(store, "main")[-1]
        store.put(key, store.get(key) + b"deadbeef {}\n")
        tracker = pt.Tracker.restore(store)
        assert tracker.verify() == []  # restore repaired it
        tracker.close()


def rewrite_snapshot(store: ObjectStore, key: str, change: Any) -> None:
    """
    Give the schema 4 snapshot under ``key`` what ``change(doc, detail)`` makes of its head
    document and detail (or what it returns instead of the head), with a valid checksum.
    """
    size, _, rest = store.get(key).partition(b"\n")[2].partition(b"\n")
    doc = json.loads(zlib.decompress(rest[: int(size)]))
    detail = json.loads(zlib.decompress(rest[int(size) :]))
    returned = change(doc, detail)
    head_z = zlib.compress(json.dumps(doc if returned is None else returned).encode())
    body = b"%d\n%s%s" % (len(head_z), head_z, zlib.compress(json.dumps(detail).encode()))
    store.put(key, b"%08x\n%s" % (zlib.crc32(body), body))


class TestMalformedSnapshots:
    """
    A snapshot that passes its checksum but is not what tracker_state writes is damaged like
    one that fails it: skipped for the previous one and the journal, named by verify(), and
    never read as something else (a raw KeyError, or NaN money).
    """

    def _written(self) -> tuple[MemoryStore, Any, str]:
        store, before = _two_snapshots()
        return store, before, snapshots(store, "main")[0]

    @pytest.mark.parametrize(
        ("change", "reason"),
        [
            (lambda doc, detail: [doc], "not a JSON object"),
            (lambda doc, detail: doc.__delitem__("seq"), "'seq'"),
            (lambda doc, detail: doc.update(seq="5"), "'seq'"),
            (lambda doc, detail: doc.update(state=[]), "'state'"),
            (lambda doc, detail: doc.update(schema=4.0), "schema 4.0"),
        ],
    )
    def test_a_document_of_the_wrong_shape(self, change, reason):
        store, before, newest = self._written()
        rewrite_snapshot(store, newest, change)
        for read_only in (False, True):
            restored = pt.Tracker.restore(store, read_only=read_only)
            assert (newest,) == restored.restore_report.skipped_snapshots
            assert before == fingerprint(restored)
            (problem,) = restored.verify()
            assert problem.startswith(newest) and reason in problem
            restored.close()

    @pytest.mark.parametrize(
        "change",
        [
            lambda doc, detail: doc["state"].update(realized="12,5"),
            lambda doc, detail: doc["state"].update(realized="NaN"),
            lambda doc, detail: doc["state"].__delitem__("config"),
            lambda doc, detail: doc["state"].update(live=["2024-01-02T09:30:00+00:00"]),
            lambda doc, detail: doc["state"]["live"].__setitem__(1, "Infinity"),
            lambda doc, detail: detail["trades"].update(exit_price="12,12,12,12,x"),
            lambda doc, detail: detail["trades"].update(fees="0,0,0,0,sNaN"),
            lambda doc, detail: detail.update(days={"day one": []}),
            lambda doc, detail: detail["trades"].__delitem__("symbol"),
        ],
    )
    @pytest.mark.parametrize("read_only", [False, True])
    def test_content_that_does_not_load_falls_back_to_the_previous(self, change, read_only):
        store, before, newest = self._written()
        rewrite_snapshot(store, newest, change)
        restored = pt.Tracker.restore(store, read_only=read_only)
        assert (newest,) == restored.restore_report.skipped_snapshots
        assert before == fingerprint(restored)
        (problem,) = restored.verify()
        assert problem.startswith(f"{newest}: snapshot")
        restored.close()

    def test_a_lazily_read_detail_that_does_not_load_is_corrupt_data(self):
        store, _, newest = self._written()
        for key in segments(store, "main"):
            store.delete(key)  # nothing after the snapshot: its detail waits for a query
        rewrite_snapshot(store, newest, lambda doc, detail: detail["trades"].update(n=9))
        lazy = pt.Tracker.restore(store, read_only=True)
        with pytest.raises(errors.CorruptDataError, match="snapshot detail cannot be read"):
            lazy.trades()


class TestVerify:
    """verify() names every damaged snapshot, journal segment and archive."""

    def _tracker(self) -> tuple[MemoryStore, pt.Tracker]:
        store = MemoryStore()
        tracker = pt.Tracker("1000", store=store, retention=timedelta(days=3))
        for n in range(8):
            when = T0 + timedelta(days=n)
            tracker.record_trade("X", "long", 1, "10", "12", when, when)
            if n in (5, 6):
                tracker.save_snapshot()
        tracker.record_trade(
            "X", "long", 1, "10", "12", T0 + timedelta(days=9), T0 + timedelta(days=9)
        )
        return store, tracker

    def test_clean(self):
        store, tracker = self._tracker()
        assert [] == tracker.verify()
        assert store.list("main/archive/") and store.list("main/journal/")

    @pytest.mark.parametrize("kind", ["snapshots", "journal", "archive"])
    def test_each_kind_of_damage(self, kind):
        store, tracker = self._tracker()
        key = store.list(f"main/{kind}/")[0]
        data = bytearray(store.get(key))
        data[len(data) // 2] ^= 0x01
        store.put(key, bytes(data))
        (problem,) = tracker.verify()
        assert problem.startswith(key)

    @pytest.mark.parametrize(
        ("content", "reason"),
        [
            (zlib.compress(b'{"schema": 2, "day": "2024-01-0'), "cannot be read"),
            (zlib.compress(b'{"schema": 9, "day": "2024-01-02"}'), "schema 9"),
            (zlib.compress(b"[]"), "schema None"),
            (zlib.compress(b'{"schema": true, "day": "2024-01-02"}'), "schema True"),
            (zlib.compress(b'{"schema": 1.0, "day": "2024-01-02"}'), "schema 1.0"),
        ],
        ids=["cut JSON", "unknown schema", "not an object", "schema true", "schema 1.0"],
    )
    def test_an_archive_that_passes_its_checksum_but_does_not_read(self, content, reason):
        store, tracker = self._tracker()
        key = store.list("main/archive/")[0]
        store.put(key, b"%08x\n%s" % (zlib.crc32(content), content))
        (problem,) = tracker.verify()
        assert problem.startswith(key) and reason in problem

    def test_a_gap_in_the_journal(self):
        store = MemoryStore()
        tracker = pt.Tracker("1000", store=store)
        for n in range(4):
            tracker.record_trade("X", "long", 1, "10", "12", T0, T0 + timedelta(hours=n))
        (key,) = segments(store, "main")
        lines = store.get(key).splitlines(keepends=True)
        store.put(key, b"".join(lines[:2] + lines[3:]))  # record 2 is lost
        assert [f"{key}: sequence jumps from 1 to 3"] == tracker.verify()


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

    def test_two_trackers_taking_over_one_dead_lock_at_once_one_wins(self):
        """B reads the dead lock, then stalls while A takes the account over; B must not
        delete A's new lock and take the account too."""
        store = MemoryStore()
        store.put("main/lock", _dead_lock())
        b_read, a_done = threading.Event(), threading.Event()

        class Stalling:
            """The same objects; its first read of the lock stalls until A is done."""

            def __getattr__(self, name: str) -> Any:
                return getattr(store, name)

            def get(self, key: str) -> bytes:
                data = store.get(key)
                if key == "main/lock" and not b_read.is_set():
                    b_read.set()
                    a_done.wait(5)
                return data

        a = _persist.AccountLock(store, "main")
        b = _persist.AccountLock(cast("ObjectStore", Stalling()), "main")
        failure: list[BaseException] = []

        def take_b() -> None:
            try:
                b.acquire()
            except errors.LockedError as e:
                failure.append(e)

        contender = threading.Thread(target=take_b)
        contender.start()
        assert b_read.wait(5)
        a.acquire()
        a_done.set()
        contender.join(5)
        try:
            assert a.token == json.loads(store.get("main/lock"))["token"]
            assert [errors.LockedError] == [type(e) for e in failure]
            assert [] == store.list("main/lock-takeover/")
        finally:
            a.release()
            b.release()

    def test_a_takeover_left_half_done_by_a_dead_tracker_does_not_block(self):
        store, dead = MemoryStore(), _dead_lock()
        store.put("main/lock", dead)
        marker = f"main/lock-takeover/{zlib.crc32(dead):08x}{len(dead):x}"
        store.put(marker, dead)  # the tracker died between its marker and the delete
        pt.Tracker("1000", store=store).close()
        assert [] == store.list("main/lock")

    def test_two_trackers_removing_one_stale_takeover_marker_at_once_one_wins(self):
        """A dead tracker left the lock and its takeover marker. C reads the stale marker and
        stalls; B removes it, creates its own marker and checks the lock; C then must not
        delete B's live marker, take the marker too, and delete the lock B creates."""
        store, dead = MemoryStore(), _dead_lock()
        store.put("main/lock", dead)
        marker = f"main/lock-takeover/{zlib.crc32(dead):08x}{len(dead):x}"
        store.put(marker, dead)  # the tracker died between its marker and the delete
        b = _persist.AccountLock(
            cast("ObjectStore", _Gated(store, {("delete", "main/lock", 1)})), "main"
        )
        c_store = _Gated(store, {("get", marker, 1), ("delete", "main/lock", 1)})
        c = _persist.AccountLock(cast("ObjectStore", c_store), "main")
        b_store = cast("_Gated", b.store)
        won: list[_persist.AccountLock] = []

        def take(lock: _persist.AccountLock) -> None:
            with contextlib.suppress(errors.LockedError):
                lock.acquire()
                won.append(lock)

        tb, tc = threading.Thread(target=take, args=(b,)), threading.Thread(target=take, args=(c,))
        tc.start()
        assert c_store.reached(("get", marker, 1), tc)  # C holds the stale marker's bytes
        tb.start()
        assert b_store.reached(("delete", "main/lock", 1), tb)  # B under its marker, saw L0
        c_store.go(("get", marker, 1))
        c_store.reached(("delete", "main/lock", 1), tc)  # C would delete the lock now
        b_store.go(("delete", "main/lock", 1))
        tb.join(5)
        c_store.go(("delete", "main/lock", 1))
        tc.join(5)
        try:
            assert 1 == len(won), "both trackers hold the account"
            assert won[0].token == json.loads(store.get("main/lock"))["token"]
        finally:
            b.release()
            c.release()

    def test_two_trackers_on_a_key_value_store_never_both_create_the_lock(self):
        """put_if_absent of KeyValueStore checked, let go of its lock, then saved: two
        trackers of one process could both see no lock and both create it."""
        from perftrack.stores import KeyValueStore
        from perftrack.stores._base import validate_key as validate

        class Backend(dict):  # type: ignore[type-arg]
            def save_bytes(self, key: str, value: bytes) -> None:
                self[key] = bytes(value)

            def read_bytes(self, key: str) -> bytes:
                return bytes(self[key])

            def delete(self, key: str) -> None:
                self.pop(key, None)

        store = KeyValueStore(Backend(), contains=None)
        a, b = _persist.AccountLock(store, "main"), _persist.AccountLock(store, "main")
        a_between, b_done = threading.Event(), threading.Event()

        def stall_a(key: object) -> str:
            if threading.current_thread().name == "A" and not a_between.is_set():
                a_between.set()  # A has checked that no lock exists, and not saved yet
                b_done.wait(2)
            return validate(key)

        won: list[_persist.AccountLock] = []

        def take(lock: _persist.AccountLock) -> None:
            with contextlib.suppress(errors.LockedError):
                lock.acquire()
                won.append(lock)

        with mock.patch("perftrack.stores._keyvalue.validate_key", stall_a):
            ta = threading.Thread(target=take, args=(a,), name="A")
            ta.start()
            a_between.wait(2)
            take(b)
            b_done.set()
            ta.join(5)
        try:
            assert 1 == len(won), "both trackers hold the account"
        finally:
            a.release()
            b.release()

    @pytest.mark.parametrize(
        "body",
        [
            {"host": socket.gethostname()},  # no pid: os.kill(0, 0) signals our own group
            {"host": socket.gethostname(), "pid": None},
            {"host": socket.gethostname(), "pid": -1},  # os.kill(-1, 0): every process
            {"host": socket.gethostname(), "pid": "x"},
            {"host": "elsewhere", "time": None},
        ],
    )
    def test_a_lock_without_a_usable_pid_or_time_is_abandoned(self, body):
        store = MemoryStore()
        store.put("main/lock", json.dumps(body).encode())
        pt.Tracker("1000", store=store).close()
        assert [] == store.list("main/lock")

    def test_takeovers_left_half_done_by_two_dead_trackers_do_not_block(self):
        """The second died removing the first one's marker, under its own marker."""
        store, dead = MemoryStore(), _dead_lock()
        store.put("main/lock", dead)
        name = f"{zlib.crc32(dead):08x}{len(dead):x}"
        store.put(f"main/lock-takeover/{name}", dead)
        store.put(f"main/lock-takeover/{name}-takeover/{name}", dead)
        pt.Tracker("1000", store=store).close()
        assert [] == store.list("main/lock")

    def test_a_lock_of_a_former_life_of_this_pid_is_taken_over(self):
        """A container restarted as pid 1 finds its previous life's lock under its own pid:
        none of this process's trackers holds that token, so it is abandoned."""
        store = MemoryStore()
        body = {"host": socket.gethostname(), "pid": os.getpid(), "token": "before", "time": 0}
        store.put("main/lock", json.dumps({**body, "time": time.time()}).encode())
        with pt.Tracker("1000", store=store) as tracker:
            assert tracker._account_lock is not None
            # ... while a lock this process holds still refuses a second tracker.
            with pytest.raises(errors.LockedError, match="held by pid"):
                pt.Tracker.restore(store)

    def test_a_same_host_lock_whose_lease_expired_is_taken_over(self):
        """Its pid runs (another process has it now), but no heartbeat renewed the lock."""
        store = MemoryStore()
        alive = {"host": socket.gethostname(), "pid": os.getppid(), "token": "t"}
        store.put("main/lock", json.dumps({**alive, "time": time.time()}).encode())
        with pytest.raises(errors.LockedError, match="held by pid"):
            pt.Tracker("1000", store=store)
        store.put("main/lock", json.dumps({**alive, "time": time.time() - 61}).encode())
        pt.Tracker("1000", store=store).close()

    def test_a_restore_of_a_held_account_reads_and_repairs_nothing(self):
        """A second bot started by mistake while the first appends: its restore must not
        take the first's append in flight for a cut tail and rewrite the journal before the
        lock refuses it. A writable restore takes the lock first."""
        store = MemoryStore()
        live = pt.Tracker("1000", store=store)
        live.record_trade("X", "long", 1, "10", "12", T0, T0)
        (segment,) = segments(store, "main")
        store.append(segment, b'0badc0de {"seq":2,"kind":"record_')  # an append in flight
        before = {k: store.get(k) for k in store.list("main/")}
        with pytest.raises(errors.LockedError, match="held by pid"):
            pt.Tracker.restore(store)
        assert before == {k: store.get(k) for k in store.list("main/")}
        live.close()

    def test_a_tracker_whose_lock_was_taken_over_stops_writing(self):
        store = MemoryStore()
        tracker = pt.Tracker("1000", store=store)
        tracker.record_trade("X", "long", 1, "10", "12", T0, T0)
        before = fingerprint(tracker)
        # Another host took the account over after this one's lease expired.
        store.put(
            "main/lock",
            json.dumps(
                {"host": "elsewhere", "pid": 1, "token": "other", "time": time.time()}
            ).encode(),
        )
        with structlog.testing.capture_logs() as logs:
            tracker._account_lock.refresh()  # what the heartbeat does every 20 s
        assert ["perftrack.lock_lost"] == [e["event"] for e in logs]
        with pytest.raises(errors.LockedError, match="taken over"):
            tracker.record_trade("X", "long", 1, "10", "15", T0, T0 + timedelta(hours=1))
        with pytest.raises(errors.LockedError, match="taken over"):
            tracker.record_trade("X", "long", 1, "10", "15", T0, T0 + timedelta(hours=1))
        assert before == fingerprint(tracker)
        assert b"other" in store.get("main/lock")  # and it left the new holder's lock alone
        tracker.close()
        assert b"other" in store.get("main/lock")

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

    def test_copy_to_makes_a_restorable_verified_backup(self, tmp_path):
        store, backup = MemoryStore(), LocalStore(tmp_path)
        targets = pt.Targets(max_loss_streak=1)
        tracker = pt.Tracker(
            "1000", store=store, snapshot_every=4, targets=targets, retention=timedelta(days=3)
        )
        for n in range(6):
            when = T0 + timedelta(days=n)
            tracker.record_trade("X", "long", 1, "10", "9", when, when)
        tracker.copy_to(backup)  # an earlier backup, whose compacted objects must go
        for n in range(6, 20):
            when = T0 + timedelta(days=n)
            tracker.record_trade("X", "long", 1, "10", "12" if n % 3 else "9", when, when)
        assert tracker.copy_to(backup) == len(store.list("main/")) - 1  # all but the lock
        assert sorted(set(store.list("main/")) - {"main/lock"}) == backup.list("main/")
        before = fingerprint(tracker)
        tracker.close()
        with pt.Tracker.restore(backup, targets=targets, retention=timedelta(days=3)) as copy:
            assert before == fingerprint(copy)
            assert [] == copy.verify()
            assert copy.restore_report.problems == ()


class FailingStore(MemoryStore):
    """A store whose writes fail on demand (a full disk, a permission change, an S3 outage)."""

    failing = False
    failing_puts = False

    def append(self, key: str, data: bytes) -> None:
        if self.failing:
            raise errors.StoreError("disk full")
        super().append(key, data)

    def put(self, key: str, data: bytes) -> None:
        if self.failing_puts:
            raise errors.StoreError("disk full")
        super().put(key, data)


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


class TestFailedAppends:
    """A failed append never corrupts what follows: torn or doubled bytes are superseded."""

    @pytest.mark.parametrize("durability", ["sync", "batch"])
    @pytest.mark.parametrize("written", ["half", "all"])
    def test_retry_after_a_failed_append(self, tmp_path, monkeypatch, durability, written):
        import perftrack.stores._local as local

        store = LocalStore(tmp_path)
        tracker = pt.Tracker("1000", store=store, durability=durability)
        for n in range(3):
            tracker.record_trade("X", "long", 1, "10", "12", T0, T0 + timedelta(hours=n))
        tracker.flush()
        real = local._write_all

        def failing(fd: int, data: bytes) -> None:
            # A disk that fills mid-write, or an fsync error after the bytes landed.
            real(fd, data[: len(data) // 2] if written == "half" else data)
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(local, "_write_all", failing)
        kept = fingerprint(tracker)
        with pytest.raises(errors.StoreError, match="No space left"):
            tracker.record_trade("X", "long", 1, "10", "15", T0, T0 + timedelta(hours=5))
            tracker.flush()
        if durability == "sync":
            assert kept == fingerprint(tracker)  # the failed call changed nothing
        monkeypatch.setattr(local, "_write_all", real)
        tracker.record_trade("X", "long", 1, "10", "16", T0, T0 + timedelta(hours=6))
        tracker.flush()
        before = fingerprint(tracker)
        crash(tracker)
        restored = pt.Tracker.restore(store)
        assert before == fingerprint(restored)
        restored.close()
        assert [] == pt.Tracker.restore(store).verify()

    def test_failure_at_the_start_of_a_segment_replaces_it(self, tmp_path, monkeypatch):
        import perftrack.stores._local as local

        store = LocalStore(tmp_path)
        tracker = pt.Tracker("1000", store=store)
        tracker.record_trade("X", "long", 1, "10", "12", T0, T0)
        tracker.save_snapshot()  # the next record starts a new segment
        real = local._write_all

        def failing(fd: int, data: bytes) -> None:
            real(fd, data)
            raise OSError(5, "Input/output error")

        monkeypatch.setattr(local, "_write_all", failing)
        with pytest.raises(errors.StoreError):
            tracker.record_trade("X", "long", 1, "10", "99", T0, T0 + timedelta(hours=1))
        monkeypatch.setattr(local, "_write_all", real)
        tracker.record_trade("X", "long", 1, "10", "11", T0, T0 + timedelta(hours=2))
        before = fingerprint(tracker)
        crash(tracker)
        restored = pt.Tracker.restore(store)
        assert before == fingerprint(restored)
        assert ["11", "12"] == sorted(str(t.exit_price) for t in restored.trades())


class TestRealStoreFailures:
    """Permission denied, a full disk and S3 errors raise StoreError and change nothing."""

    def test_permission_denied(self, tmp_path, monkeypatch):
        store = LocalStore(tmp_path)
        tracker = pt.Tracker("1000", store=store)
        tracker.record_trade("X", "long", 1, "10", "12", T0, T0)
        before = fingerprint(tracker)
        real_open = os.open

        def denied(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
            if str(path).startswith(str(tmp_path)) and flags & os.O_WRONLY:
                raise PermissionError(13, "Permission denied")
            return real_open(path, flags, *args, **kwargs)

        monkeypatch.setattr(os, "open", denied)
        with pytest.raises(errors.StoreError, match="Permission denied"):
            tracker.record_trade("X", "long", 1, "10", "15", T0, T0 + timedelta(hours=1))
        assert before == fingerprint(tracker)
        monkeypatch.setattr(os, "open", real_open)
        crash(tracker)
        assert before == fingerprint(pt.Tracker.restore(store))

    def test_s3_errors(self, s3_endpoint, s3_bucket):
        import boto3

        from perftrack.stores import S3Store
        from tests.s3server import CREDENTIALS

        store = S3Store(s3_bucket, "bot", endpoint_url=s3_endpoint, **CREDENTIALS)
        tracker = pt.Tracker("1000", store=store)
        tracker.record_trade("X", "long", 1, "10", "12", T0, T0)
        before = fingerprint(tracker)
        s3 = boto3.client("s3", endpoint_url=s3_endpoint, **CREDENTIALS)
        saved = {
            o["Key"]: s3.get_object(Bucket=s3_bucket, Key=o["Key"])["Body"].read()
            for o in s3.list_objects_v2(Bucket=s3_bucket)["Contents"]
        }
        for key in saved:
            s3.delete_object(Bucket=s3_bucket, Key=key)
        s3.delete_bucket(Bucket=s3_bucket)  # the bucket is gone: every PUT now fails
        with pytest.raises(errors.StoreError, match="NoSuchBucket"):
            tracker.record_trade("X", "long", 1, "10", "15", T0, T0 + timedelta(hours=1))
        assert before == fingerprint(tracker)
        s3.create_bucket(Bucket=s3_bucket)
        for key, body in saved.items():
            if not key.endswith("/lock"):
                s3.put_object(Bucket=s3_bucket, Key=key, Body=body)
        assert before == fingerprint(pt.Tracker.restore(store))

    def test_failed_snapshot_does_not_fail_the_event(self):
        store = FailingStore()
        tracker = pt.Tracker("1000", store=store, snapshot_every=2)
        store.failing_puts = True
        with structlog.testing.capture_logs() as logs:
            for n in range(3):
                tracker.record_trade("X", "long", 1, "10", "12", T0, T0 + timedelta(hours=n))
        assert ["perftrack.snapshot_failed"] == [
            e["event"] for e in logs if e["log_level"] == "warning"
        ]
        assert [] == snapshots(store, "main")
        store.failing_puts = False
        before = fingerprint(tracker)
        crash(tracker)
        assert before == fingerprint(pt.Tracker.restore(store))

    def test_failed_archive_does_not_fail_the_event(self):
        store = FailingStore()
        tracker = pt.Tracker("1000", store=store, retention=timedelta(days=2))
        store.failing_puts = True
        with structlog.testing.capture_logs() as logs:
            for n in range(5):
                when = T0 + timedelta(days=n)
                tracker.record_trade("X", "long", 1, "10", "12", when, when)
        assert {"perftrack.archive_failed"} == {
            e["event"] for e in logs if e["log_level"] == "warning"
        }
        assert 5 == len(tracker.trades())  # nothing left memory without its archive
        store.failing_puts = False
        tracker.record_trade(
            "X", "long", 1, "10", "12", T0 + timedelta(days=5), T0 + timedelta(days=5)
        )
        assert len(tracker.trades()) < 6
        assert store.list("main/archive/")
        before = fingerprint(tracker)
        crash(tracker)
        assert before == fingerprint(pt.Tracker.restore(store, retention=timedelta(days=2)))


class TestSnapshotCadence:
    """Snapshots every N events or T seconds; the journal they cover is compacted away."""

    def test_every_n_events_and_compaction(self, tmp_path):
        store = LocalStore(tmp_path)
        tracker = pt.Tracker("1000", store=store, snapshot_every=5, snapshot_interval=None)
        for n in range(23):
            tracker.record_trade("X", "long", 1, "10", "12", T0, T0 + timedelta(hours=n))
        # Events 1-23 follow the init record 0: snapshots at 5, 10, 15, 20; two are kept.
        assert [20, 15] == [int(k.rsplit("/", 1)[1][:-5]) for k in snapshots(store, "main")]
        firsts = [int(k.rsplit("/", 1)[1][:-6]) for k in segments(store, "main")]
        assert [16, 21] == firsts  # the journal from the older kept snapshot on, nothing older
        before = fingerprint(tracker)
        crash(tracker)
        assert before == fingerprint(pt.Tracker.restore(store))

    def test_every_t_seconds(self, monkeypatch):
        import perftrack._tracker as module

        now = [1000.0]
        monkeypatch.setattr(module, "monotonic", lambda: now[0])
        store = MemoryStore()
        tracker = pt.Tracker("1000", store=store, snapshot_interval=60)
        tracker.record_trade("X", "long", 1, "10", "12", T0, T0)
        assert [] == snapshots(store, "main")
        now[0] += 61
        tracker.record_trade("X", "long", 1, "10", "12", T0, T0 + timedelta(hours=1))
        assert ["main/snapshots/000000000002.snap"] == snapshots(store, "main")


class TestBatchDurability:
    """Batch mode writes within its bound and on flush and close."""

    def test_written_once_max_events_wait(self):
        store = MemoryStore()
        tracker = pt.Tracker(
            "1000", store=store, durability="batch", batch_max_events=3, batch_max_ms=60_000
        )

        def lines() -> int:
            return len(b"".join(store.get(k) for k in segments(store, "main")).splitlines())

        for n in range(2):
            tracker.record_trade("X", "long", 1, "10", "12", T0, T0 + timedelta(hours=n))
        assert 1 == lines()  # only the init record
        # Queued as arguments, encoded with their batch.
        assert all(isinstance(item, tuple) for item in tracker._journal._buffer)
        tracker.record_trade("X", "long", 1, "10", "12", T0, T0 + timedelta(hours=2))
        assert 4 == lines()
        tracker.record_trade("X", "long", 1, "10", "12", T0, T0 + timedelta(hours=3))
        tracker.close()  # close flushes
        assert 5 == lines()
        with pt.Tracker.restore(store) as again:
            assert 4 == again.summary().trades

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(events=ops)
    def test_batched_records_are_the_sync_records(self, events):
        """A batch, encoded together when written, holds the bytes sync mode writes event by
        event, and restores to the same state."""
        stores: dict[str, MemoryStore] = {}
        before = {}
        for durability in ("sync", "batch"):
            store = stores[durability] = MemoryStore()
            tracker = pt.Tracker(
                "5000",
                store=store,
                durability=durability,
                batch_max_events=7,
                batch_max_ms=60_000,
                timezone="America/New_York",
            )
            for n, op in enumerate(events):
                apply(tracker, op, n)
            tracker.flush()
            before[durability] = fingerprint(tracker)
            crash(tracker)
        journals = [b"".join(s.get(k) for k in segments(s, "main")) for s in stores.values()]
        assert journals[0] == journals[1]
        with pt.Tracker.restore(stores["batch"], timezone="America/New_York") as restored:
            assert before["batch"] == fingerprint(restored)

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

    def test_the_bot_goes_on_while_the_background_write_waits_for_the_store(self):
        """The flusher writes outside the tracker's lock: a slow store (an fsync, an S3 PUT)
        holds up neither events nor queries."""
        store = _SlowAppends()
        tracker = pt.Tracker("1000", store=store, durability="batch", batch_max_ms=5)
        tracker.record_trade("X", "long", 1, "10", "12", T0, T0)
        assert store.entered.wait(5)  # the flusher is inside the store's append
        done = threading.Event()

        def bot() -> None:
            tracker.record_trade("X", "long", 1, "10", "13", T0, T0 + timedelta(hours=1))
            tracker.summary()
            done.set()

        threading.Thread(target=bot, daemon=True).start()
        went_on = done.wait(5)
        store.release.set()
        assert went_on, "record_trade waited for the background write"
        tracker.close()
        with pt.Tracker.restore(store) as again:
            assert (2, Decimal(5)) == (again.summary().trades, again.summary().net_pnl)

    def test_a_write_in_flight_counts_towards_the_event_bound(self):
        """While the flusher writes one event, the call that brings the unwritten events to
        batch_max_events waits for that write: a crash never loses that many."""
        store = _SlowAppends()
        tracker = pt.Tracker(
            "1000", store=store, durability="batch", batch_max_events=3, batch_max_ms=5
        )
        tracker.record_trade("X", "long", 1, "10", "12", T0, T0)
        assert store.entered.wait(5)
        tracker.record_trade("X", "long", 1, "10", "12", T0, T0 + timedelta(hours=1))
        done = threading.Event()

        def third() -> None:
            tracker.record_trade("X", "long", 1, "10", "12", T0, T0 + timedelta(hours=2))
            done.set()

        threading.Thread(target=third, daemon=True).start()
        waited = not done.wait(0.3)
        store.release.set()
        assert waited, "three events were acknowledged and none durable"
        assert done.wait(5)
        tracker.close()
        with pt.Tracker.restore(store) as again:
            assert 3 == again.summary().trades

    def test_a_failed_background_write_fails_the_next_call_then_is_retried_in_order(self):
        store = FailingStore()
        tracker = pt.Tracker("1000", store=store, durability="batch", batch_max_ms=5)
        store.failing = True  # (after the init record)
        tracker.record_trade("X", "long", 1, "10", "12", T0, T0)
        journal = tracker._journal
        assert journal is not None
        deadline = time.monotonic() + 5
        while journal._failure is None and time.monotonic() < deadline:
            time.sleep(0.005)
        with pytest.raises(errors.StoreError, match="disk full"):
            tracker.record_trade("X", "long", 1, "10", "11", T0, T0 + timedelta(hours=1))
        assert 1 == tracker.summary().trades  # the refused call changed nothing
        store.failing = False
        tracker.record_trade("X", "long", 1, "10", "13", T0, T0 + timedelta(hours=2))
        tracker.close()
        with pt.Tracker.restore(store) as again:
            assert [Decimal(2), Decimal(3)] == [t.net_pnl for t in again.trades()]

    def test_the_call_whose_batch_write_fails_is_not_written_later(self):
        """The call that fills the batch raises StoreError when the write fails: the tracker
        did not book its trade, so no retry may write it to the journal either (a restart
        would otherwise book a trade the live tracker refused)."""
        store = FailingStore()
        tracker = pt.Tracker(
            "1000", store=store, durability="batch", batch_max_events=2, batch_max_ms=60_000
        )
        store.failing = True  # (after the init record)
        tracker.record_trade("X", "long", 1, "10", "12", T0, T0)  # queued, acknowledged
        with pytest.raises(errors.StoreError, match="disk full"):
            tracker.record_trade("X", "long", 1, "10", "20", T0, T0 + timedelta(hours=1))
        assert 1 == tracker.summary().trades  # the refused call changed nothing
        store.failing = False
        tracker.record_trade("X", "long", 1, "10", "13", T0, T0 + timedelta(hours=2))
        tracker.close()
        with pt.Tracker.restore(store) as again:
            assert [Decimal(2), Decimal(3)] == [t.net_pnl for t in again.trades()]


def _dead_lock() -> bytes:
    """A lock body left by a process of this host that no longer runs."""
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.dumps(
        {"host": socket.gethostname(), "pid": int(dead.stdout), "token": "gone", "time": 0}
    ).encode()


class _Gated:
    """The same objects; a call named in ``gates`` as (operation, key, nth call) stops
    until ``go`` (a get after reading, a delete or create before acting)."""

    def __init__(self, store: ObjectStore, gates: set[tuple[str, str, int]]) -> None:
        self._store = store
        self._gates = {g: (threading.Event(), threading.Event()) for g in gates}
        self._calls: dict[tuple[str, str], int] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def _gate(self, op: str, key: str) -> None:
        n = self._calls[op, key] = self._calls.get((op, key), 0) + 1
        if (op, key, n) in self._gates:
            at, go = self._gates[op, key, n]
            at.set()
            go.wait(5)

    def reached(self, gate: tuple[str, str, int], thread: threading.Thread) -> bool:
        """Wait until ``thread`` stops at ``gate`` (False if it ends without)."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and thread.is_alive():
            if self._gates[gate][0].wait(0.01):
                return True
        return self._gates[gate][0].is_set()

    def go(self, gate: tuple[str, str, int]) -> None:
        self._gates[gate][1].set()

    def get(self, key: str) -> bytes:
        data = self._store.get(key)
        self._gate("get", key)
        return data

    def delete(self, key: str) -> None:
        self._gate("delete", key)
        self._store.delete(key)

    def put_if_absent(self, key: str, data: bytes) -> bool:
        self._gate("create", key)
        return bool(self._store.put_if_absent(key, data))  # type: ignore[attr-defined]


class _SlowAppends(MemoryStore):
    """A store whose appends of trades wait for ``release`` (an fsync or a PUT that takes
    long), setting ``entered`` when one starts."""

    def __init__(self) -> None:
        super().__init__()
        self.entered, self.release = threading.Event(), threading.Event()

    def append(self, key: str, data: bytes) -> None:
        if b'"record_trade"' in data:
            self.entered.set()
            self.release.wait(10)
        super().append(key, data)


CHILD = Path(__file__).with_name("crash_child.py")


class TestKillNine:
    """SIGKILL at random moments never loses an acknowledged trade nor counts one twice."""

    ROUNDS = 24

    @pytest.mark.slow
    def test_rounds(self, tmp_path):
        rng = random.Random(1234)
        acknowledged: list[str] = []
        mid_snapshot = refused = 0
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
        for round_no in range(self.ROUNDS):
            child = subprocess.Popen(
                [sys.executable, str(CHILD), str(tmp_path), str(round_no), *acknowledged[-3:]],
                stdout=subprocess.PIPE,
                text=True,
                env=env,
            )
            assert child.stdout is not None
            lines = []
            while (line := child.stdout.readline().strip()) != "ready":
                assert line, f"round {round_no}: the child died before it was ready"
                lines.append(line)
            if round_no % 4 == 1:
                # A live holder: a second tracker on the account is refused.
                with pytest.raises(errors.LockedError):
                    pt.Tracker.restore(LocalStore(tmp_path))
                refused += 1
            # Every other round waits for a snapshot to begin and kills inside it (after a
            # random few milliseconds); the others kill at a random moment.
            aim_at_snapshot = round_no % 2 == 0
            deadline = time.monotonic() + rng.uniform(0.05, 0.4)
            while aim_at_snapshot or time.monotonic() < deadline:
                line = child.stdout.readline().strip()
                assert line, f"round {round_no}: the child died on its own"
                lines.append(line)
                if aim_at_snapshot and line == "snapshot-start" and rng.random() < 0.5:
                    time.sleep(rng.uniform(0, 0.004))
                    break
            child.send_signal(signal.SIGKILL)
            child.wait()
            # What the child printed before it died was acknowledged too.
            lines += [line.strip() for line in child.stdout]
            child.stdout.close()
            markers = [m for m in lines if m.startswith("snapshot-")]
            if markers and markers[-1] == "snapshot-start":
                mid_snapshot += 1
            acked = [m for m in lines if m.startswith("r")]
            acknowledged += acked
            with pt.Tracker.restore(LocalStore(tmp_path)) as tracker:
                ids = [t.trade_id for t in tracker.trades()]
                assert len(ids) == len(set(ids)), f"round {round_no}: a trade counted twice"
                missing = set(acknowledged) - set(ids)
                assert set() == missing, f"round {round_no}: lost {sorted(missing)[:5]}"
                # Beyond the acknowledged, at most the one trade in flight at the kill.
                assert len(set(ids) - set(acknowledged)) <= 1
                assert len(ids) == tracker.summary().trades
                assert [] == tracker.verify()
            # The in-flight trade, if it made it, is acknowledged by the store from now on.
            acknowledged = sorted(set(ids), key=lambda i: tuple(int(x) for x in i[1:].split("-")))
        assert len(acknowledged) > 10 * self.ROUNDS
        assert refused == self.ROUNDS // 4
        # Most kills aimed at a snapshot land inside it (the rest land just after it ended).
        print(f"kill -9: {mid_snapshot} of {self.ROUNDS} kills inside a snapshot write")
        assert mid_snapshot >= self.ROUNDS // 4


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

    def test_exactly_once_registries_stay_bounded(self):
        tracker = pt.Tracker("1000", store=MemoryStore(), retention=timedelta(days=10))
        for n in range(40 * 4):
            when = T0 + timedelta(hours=6 * n)
            tracker.open_trade(f"o{n}", symbol="X", side="long", quantity=1, price="100", time=when)
            tracker.mark_price("X", "101", when, event_id=f"m{n}")
            tracker.close_trade(f"o{n}", price="102", time=when, event_id=f"c{n}")
        # About eleven days of four trades, two ids each: not forty days' worth.
        assert len(tracker._event_ids) <= 11 * 4 * 2 + 2
        assert len(tracker._recent_opens) <= 11 * 4 + 1
        assert 160 == tracker.summary().trades  # the day aggregates keep every trade
        # An old re-send is refused, never counted again.
        with pytest.raises(errors.InvalidTradeError, match="retention horizon"):
            tracker.mark_price("X", "101", T0, event_id="m0")
        with pytest.raises(errors.UnknownTradeError):
            tracker.close_trade("o0", price="102", time=T0, event_id="c0")
        assert 160 == tracker.summary().trades

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


def window_edges(tracker: pt.Tracker) -> Any:
    """
    Queries fingerprint leaves out: windows cut inside a day, a combined filter asked first
    after the restore, rolling windows of a filter.
    """
    at = max(tracker.clock or T0, T0 + timedelta(days=2))
    return (
        tracker.summary(start=T0 + timedelta(hours=5), end=at - timedelta(hours=7)).to_dict(),
        tracker.summary("week", at=at, strategy="b", symbol="Y").to_dict(),
        tracker.rolling(3, strategy="a", tag="t").to_dict(),
        [s.to_dict() for s in tracker.periods("day", strategy="b")],
    )


class TestLazyRestore:
    """
    A read-only restore answers summaries from the snapshot's folded buckets and reads the
    trade detail only when a query needs it, with every answer as a full restore gives it.
    """

    @settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        events=ops,
        tail=st.integers(0, 5),
        fold=st.booleans(),
        retention=st.sampled_from([None, timedelta(days=2)]),
    )
    def test_same_answers_as_a_full_restore(self, events, tail, fold, retention):
        options = {"timezone": "America/New_York", "targets": TARGETS, "retention": retention}
        store = MemoryStore()
        tracker = pt.Tracker("5000", store=store, snapshot_every=10**6, **options)
        cut = max(len(events) - tail, 0)
        for n, op in enumerate(events[:cut]):
            attempt(tracker, op, n)
        tracker.summary(strategy="a", side="long")  # a combined filter, kept from now on
        tracker.summary()  # all trades folded: what the lazy restore's summaries read
        if fold:
            tracker.breakdown("symbol")  # some buckets folded, others still queued
        tracker.save_snapshot()
        for n, op in enumerate(events[cut:], start=cut):
            attempt(tracker, op, n)  # a journal tail after the snapshot
        tracker.flush()
        original = (fingerprint(tracker), window_edges(tracker))
        crash(tracker)
        # What a read-only restore gave before: everything loaded at once. (It differs from
        # the original only where retention archived days during the journal tail: a
        # read-only tracker archives nothing.)
        with mock.patch.object(_persist, "load_lazily", _persist.load_state):
            full = pt.Tracker.restore(store, read_only=True, **options)
        expected = (fingerprint(full), window_edges(full))
        if retention is None:
            assert original == expected
        lazy = pt.Tracker.restore(store, read_only=True, **options)
        summaries = [lazy.summary(p, at=lazy.clock or T0).to_dict() for p in ("week", "all")]
        if tail == 0 or len(events) <= cut:
            assert lazy._detail is not None  # the snapshot alone answered
        assert summaries == [expected[0][1][1], expected[0][0]]
        assert expected == (fingerprint(lazy), window_edges(lazy))
        assert lazy._detail is None
        assert type(lazy) is pt.Tracker  # once read, a plain tracker again

    def test_a_new_filter_combination_after_a_lazy_restore(self):
        store = MemoryStore()
        with pt.Tracker("1000", store=store, retention=None) as tracker:
            for i in range(5):
                tracker.record_trade(
                    "B", "long", 1, "10", "13", T0, T0 + timedelta(minutes=i), strategy="s1"
                )
            tracker.save_snapshot()
        lazy = pt.Tracker.restore(store, read_only=True, retention=None)
        assert lazy._detail is not None
        # The combination's rolling window is filled once: reading the detail (which fills
        # every series' window) comes before the new series exists.
        rolled = lazy.rolling(10, strategy="s1", symbol="B")
        assert (5, Decimal(15)) == (rolled.trades, rolled.net_pnl)
        assert 5 == lazy.summary(strategy="s1", symbol="B").trades

    def test_a_live_tracker_has_no_attribute_hook(self):
        # A __getattr__ on Tracker would slow every attribute read of every call; only the
        # lazily restored subclass has one, until its detail is read.
        assert "__getattr__" not in vars(pt.Tracker)
        store = MemoryStore()
        with pt.Tracker("1000", store=store) as tracker:
            tracker.record_trade("X", "long", 1, "10", "12.5", T0, T0, trade_id="t1")
            tracker.save_snapshot()
        lazy = pt.Tracker.restore(store, read_only=True)
        assert isinstance(lazy, pt.Tracker)
        assert type(lazy) is not pt.Tracker
        with pytest.raises(AttributeError, match="no attribute 'nothing'"):
            lazy.nothing  # noqa: B018
        assert 1 == len(lazy.trades())
        assert type(lazy) is pt.Tracker

    def test_each_kind_of_query_reads_the_detail_when_it_needs_it(self):
        store = MemoryStore()
        with pt.Tracker("1000", store=store, timezone="America/New_York") as tracker:
            for n in range(60):
                apply(
                    tracker,
                    (
                        ["record", "open", "close"][n % 3],
                        0,
                        95 + n,
                        n * 70,
                        "ab"[n % 2],
                        n % 3 == 0,
                    ),
                    n,
                )
            tracker.save_snapshot()
            expected = fingerprint(tracker), window_edges(tracker)
        queries = [
            lambda t: t.trades(),
            lambda t: t.rolling(5),
            lambda t: t.summary(strategy="b", tag="t"),
            lambda t: t.summary(start=T0 + timedelta(hours=3)),
        ]
        for query in queries:
            lazy = pt.Tracker.restore(store, read_only=True)
            lazy.summary("month", at=lazy.clock)
            lazy.breakdown("strategy")
            assert lazy._detail is not None
            query(lazy)
            assert lazy._detail is None
            assert expected == (fingerprint(lazy), window_edges(lazy))

    def test_a_subclass_is_restored_whole(self):
        class Mine(pt.Tracker):
            pass

        store = MemoryStore()
        with pt.Tracker("1000", store=store) as tracker:
            tracker.record_trade("X", "long", 1, "10", "12.5", T0, T0 + timedelta(hours=1))
            tracker.save_snapshot()
            expected = fingerprint(tracker)
        restored = Mine.restore(store, read_only=True)
        assert (Mine, None) == (type(restored), restored._detail)
        assert expected == fingerprint(restored)
        assert type(restored) is Mine

    def test_a_damaged_detail_section_is_a_damaged_snapshot(self):
        store = MemoryStore()
        with pt.Tracker("1000", store=store) as tracker:
            tracker.record_trade("X", "long", 1, "10", "12.5", T0, T0 + timedelta(hours=1))
            tracker.save_snapshot()
            tracker.record_trade("X", "long", 1, "10", "11", T0, T0 + timedelta(hours=2))
            tracker.save_snapshot()
            expected = fingerprint(tracker)
        key = snapshots(store, "main")[0]
        data = store.get(key)
        for damaged in (data[:-1] + bytes([data[-1] ^ 1]), data[: len(data) - 9]):
            store.put(key, damaged)
            lazy = pt.Tracker.restore(store, read_only=True)
            assert (key,) == lazy.restore_report.skipped_snapshots
            assert expected == fingerprint(lazy)


# -- restore options and read-only retention -----------------------------------------------


def test_restore_accepts_the_options_the_account_was_started_with() -> None:
    # The documented pattern: one Tracker.restore line serves the first start and every
    # restart. periods_per_year=252 is stored as 252.0, and the restart must accept it.
    store = MemoryStore()
    options: dict[str, Any] = {
        "starting_equity": "10000.00",
        "timezone": "Asia/Kolkata",
        "periods_per_year": 252,
        "snapshot_interval": None,
    }
    first = pt.Tracker.restore(store, **options)
    first.record_trade("X", "long", 1, "100", "101", T0, T0 + timedelta(minutes=5))
    live = fingerprint(first)
    first.close()
    again = pt.Tracker.restore(store, **options)
    assert fingerprint(again) == live
    assert again.periods_per_year == 252.0
    again.close()
    with pytest.raises(errors.InvalidInputError, match="periods_per_year"):
        pt.Tracker.restore(store, periods_per_year=365)
    with pytest.raises(errors.InvalidInputError, match="starting_equity"):
        pt.Tracker.restore(store, starting_equity="10001")


def test_read_only_restore_applies_retention_to_the_journal_after_the_snapshot() -> None:
    # The writer archives days as its clock moves; a read-only restore replaying the journal
    # after the snapshot must leave the same days out of trades(), rolling windows and the
    # equity curve, as the writer (and a writable restore) do.
    store = MemoryStore()
    options: dict[str, Any] = {"retention": timedelta(days=2), "snapshot_interval": None}
    tracker = pt.Tracker(store=store, **options)
    for day in range(3):
        at = T0 + timedelta(days=day)
        tracker.record_trade("X", "long", 1, "100", str(100 + day), at, at + timedelta(hours=1))
    tracker.save_snapshot()
    at = T0 + timedelta(days=6)  # moves the horizon past every earlier day
    tracker.record_trade("X", "long", 1, "100", "99", at, at + timedelta(hours=1))
    live = fingerprint(tracker)
    tracker.close()
    assert len(live[8]) == 1  # trades(): only the retained one
    writable = pt.Tracker.restore(store, **options)
    assert fingerprint(writable) == live
    writable.close()
    read_only = pt.Tracker.restore(store, read_only=True, **options)
    assert [t.to_dict() for t in read_only.trades()] == live[8]
    assert fingerprint(read_only) == live


# -- persistence arguments -------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"store": 5}, "'store'"),
        ({"read_only": "yes"}, "'read_only'"),
        ({"account": ""}, "'account'"),
        ({"account": "team/bot1"}, "'account'"),  # would live inside account "team"
        ({"snapshot_interval": float("nan")}, "'snapshot_interval'"),
        ({"batch_max_ms": float("nan")}, "'batch_max_ms'"),
    ],
)
def test_restore_arguments_are_checked(kw: dict[str, Any], field: str) -> None:
    # store=5 raised AttributeError, read_only="yes" made a read-only tracker, account=""
    # raised InvalidKeyError about the key '/snapshots', NaN timers were accepted.
    args: dict[str, Any] = {"store": MemoryStore(), **kw}
    with pytest.raises(pt.errors.InvalidInputError, match=field):
        pt.Tracker.restore(**args)


def test_copy_to_something_that_is_not_a_store_is_invalid_input() -> None:
    with (
        pt.Tracker("10000", store=MemoryStore()) as tracker,
        pytest.raises(pt.errors.InvalidInputError, match="'other'"),
    ):
        tracker.copy_to(5)  # type: ignore[arg-type]


def test_close_whose_flush_fails_can_be_retried() -> None:
    """close() set _closed_down before its journal flush; when the flush raised,
    the journal's flusher and the account lock (its heartbeat) were left running, and every
    later close() returned at once: the acknowledged events were never written and the
    account stayed locked for as long as the process lived."""
    store = FailingStore()
    tracker = pt.Tracker(
        "1000", store=store, durability="batch", batch_max_events=1000, batch_max_ms=60_000
    )
    tracker.record_trade("X", "long", 1, "10", "12", T0, T0)  # acknowledged, queued
    store.failing = True
    with pytest.raises(errors.StoreError, match="disk full"):
        tracker.close()
    store.failing = False
    tracker.close()  # the retry writes the queued event and releases the account
    assert tracker._account_lock is not None and tracker._account_lock._stop.is_set()
    with pt.Tracker.restore(store) as again:
        assert 1 == again.summary().trades
    with pytest.raises(errors.InvalidInputError, match="closed"):
        tracker.record_trade("X", "long", 1, "10", "13", T0, T0 + timedelta(hours=1))


def test_a_heartbeat_in_flight_does_not_bring_a_released_lock_back() -> None:
    """refresh() read the lock (ours), then put it again; a release() between the
    two deleted it, and the heartbeat's put wrote it back after close(): the account stayed
    locked by a tracker that no longer runs (for a lease, to other processes of this host;
    for good to none of them while this process lives and its pid answers)."""
    store = MemoryStore()
    lock = _persist.AccountLock(store, "main", lease_seconds=3600)
    lock.acquire()
    read, go = threading.Event(), threading.Event()
    real = lock._holder

    def holder_then_wait() -> dict[str, Any] | None:
        found = real()
        if threading.current_thread().name == "beat":
            read.set()
            go.wait(5)
        return found

    lock._holder = holder_then_wait  # type: ignore[method-assign]
    beat = threading.Thread(target=lock.refresh, name="beat")
    beat.start()
    assert read.wait(5)  # the heartbeat has read the lock, its put is next
    releaser = threading.Thread(target=lock.release)
    releaser.start()
    releaser.join(0.2)
    go.set()
    beat.join(5)
    releaser.join(5)
    with pytest.raises(errors.MissingKeyError):
        store.get("main/lock")


def test_close_after_the_account_was_taken_over_stops_background_work() -> None:
    """a close() whose flush fails because the lease was lost (another tracker took
    the account over) can never succeed: it still stops the flusher and the heartbeat."""
    store = MemoryStore()
    tracker = pt.Tracker(
        "1000", store=store, durability="batch", batch_max_events=1000, batch_max_ms=60_000
    )
    lock, journal = tracker._account_lock, tracker._journal
    assert lock is not None and journal is not None and journal._flusher is not None
    tracker.record_trade("X", "long", 1, "10", "12", T0, T0)
    lock.lost = True  # what refresh() sets when another tracker holds the lock now
    with pytest.raises(errors.LockedError):
        tracker.close()
    assert lock._stop.is_set()
    journal._flusher.join(5)
    assert not journal._flusher.is_alive()
    tracker.close()  # done: a no-op


def test_a_read_only_restore_while_the_writer_snapshots_twice_misses_nothing() -> None:
    """a reader (the command line, a report) restoring the store of a running bot
    read the newest snapshot, then listed the journal; two snapshots the bot wrote meanwhile
    compacted away the segments after the one it read. The reader then reported 'journal
    jumps' (damage that is not there) and answered with fewer trades than were durable
    before it started."""
    store = MemoryStore()
    writer = pt.Tracker("1000", store=store, snapshot_every=3, retention=None)

    def trade(i: int) -> None:
        writer.record_trade("X", "long", 1, "10", "11", T0, T0 + timedelta(minutes=i))

    for i in range(10):
        trade(i)

    class Racing:
        """The bot goes on between the reader's read of a snapshot and its journal listing."""

        fired = False

        def __getattr__(self, name: str) -> Any:
            return getattr(store, name)

        def get(self, key: str) -> bytes:
            data = store.get(key)
            if "/snapshots/" in key and not Racing.fired:
                Racing.fired = True
                for i in range(10, 17):  # at least two more snapshots
                    trade(i)
            return data

    reader = pt.Tracker.restore(cast("ObjectStore", Racing()), read_only=True, retention=None)
    assert Racing.fired
    assert reader.restore_report is not None
    assert () == reader.restore_report.problems
    assert reader.summary().trades >= 10
    writer.close()


@pytest.mark.parametrize("read_only", [False, True])
def test_restore_is_exact_whatever_the_restoring_threads_decimal_context(read_only) -> None:
    """restore rebuilt the replayed trades' P&L and folded the buckets in the
    caller's decimal context: a bot restarting in a thread with prec = 5 came back with a
    different net P&L (1159.57233824 for 1159.56557440: the buckets' sums folded at the end
    of the replay, rounded to 5 digits), which its next snapshot kept."""
    from decimal import localcontext

    store = MemoryStore()
    tracker = pt.Tracker("10000", store=store, retention=None)
    for i in range(40):
        at = T0 + timedelta(hours=i)
        tracker.record_trade(
            "X", "long", "1.23456", "100.001", "123.457", at, at + timedelta(minutes=5),
            fees="0.0123",
        )  # fmt: skip
    at = T0 + timedelta(days=3)
    tracker.open_trade("o", symbol="Y", side="long", quantity="2.5", price="10.01", time=at)
    tracker.close_trade("o", price="11.37", quantity="1.3", time=at + timedelta(hours=1))
    expected = fingerprint(tracker)
    tracker.close()
    with localcontext() as ctx:
        ctx.prec = 5
        again = pt.Tracker.restore(store, read_only=read_only, retention=None)
    assert expected == fingerprint(again)
    again.close()
