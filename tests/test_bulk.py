"""
Bulk booking: a batch of trades leaves the tracker exactly as one record_trade call per trade
would, raises the same error for the same bad row (changing nothing), and an import into a
store is one journal record and one snapshot, all or nothing.
"""

from __future__ import annotations

import random
import threading
from datetime import timedelta
from decimal import Decimal
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

import perftrack as pt
from perftrack import _bulk, errors, importers
from perftrack._persist import decode_record, segments, snapshots
from perftrack.stores import MemoryStore
from tests.observe import T0, fingerprint


def row(n: int, rng: random.Random, *, odd: bool = False, **changes: Any) -> dict[str, Any]:
    """
    A trade line as an import gives it: strings for money, ISO times, sometimes an id, a
    stop, a target, a given net, tags as a list or a string; times sometimes out of order,
    sometimes shared.
    """
    side = rng.choice(["long", "short"])
    entry = rng.randint(90, 110)
    sign = 1 if side == "long" else -1
    minutes = rng.choice([n * 37, n * 37, n * 37 - 400, (n // 3) * 111])
    exit_time = T0 + timedelta(minutes=max(minutes, 0))
    out: dict[str, Any] = {
        "symbol": rng.choice(["X", "Y", " Z "]),
        "side": side,
        # (Equal numbers of other types or forms: each is its own input, True none at all.)
        "quantity": rng.choice(["1", "2", 3, "0.5", 3.0, Decimal("2"), Decimal("2.00")]),
        "entry_price": str(entry),
        "exit_price": f"{entry + rng.randint(-5, 5)}.{rng.randint(0, 99):02d}",
        "entry_time": (exit_time - timedelta(minutes=rng.randint(0, 300))).isoformat(),
        "exit_time": exit_time.isoformat(),
    }
    if rng.random() < 0.7:
        out["fees"] = rng.choice(["0.10", "1", "0", 0, 0.0, -0.0, Decimal("1.0")])
    if odd and rng.random() < 0.02:  # no number at all, equal to 1 and 0 in Python
        out[rng.choice(["quantity", "fees"])] = rng.choice([True, False])
    if rng.random() < 0.8:
        out["strategy"] = rng.choice(["a", "b"])
    if rng.random() < 0.5:
        out["stop_price"] = str(entry - 2 * sign)
    if rng.random() < 0.2:
        out["target_price"] = str(entry + 3 * sign)
    if rng.random() < 0.6:
        out["tags"] = rng.choice([["t"], ["t", "u"], "u", ["u", "t", "u"], []])
    if rng.random() < 0.3:
        # "pt-<n>²" looks generated but holds a digit int() refuses: an ordinary id.
        out["trade_id"] = rng.choice([f"id{n}", f"pt-{n + 3}", f"pt-{n}²"])
    elif rng.random() < 0.01:
        out["trade_id"] = f"id{n // 2}"  # may clash with another trade's id
    if rng.random() < 0.1:
        out["net_pnl"] = str(rng.randint(-50, 50))
    out.update(changes)
    return out


def one_by_one(tracker: pt.Tracker, rows: list[dict[str, Any]]) -> Any:
    try:
        for r in rows:
            tracker.record_trade(**r)
    except errors.PerftrackError as e:
        return type(e), str(e)
    return None


def in_bulk(tracker: pt.Tracker, rows: list[dict[str, Any]]) -> Any:
    try:
        _bulk.record_trades(tracker, rows)
    except errors.PerftrackError as e:
        return type(e), str(e)
    return None


def edges(tracker: pt.Tracker) -> Any:
    """
    What fingerprint leaves out: partial windows cut inside a day, combined filters.
    """
    at = max(tracker.clock or T0, T0 + timedelta(days=1))
    return (
        tracker.summary(start=T0 + timedelta(hours=5), end=at - timedelta(hours=7)).to_dict(),
        tracker.summary(strategy="b", tag="u").to_dict(),
        tracker.summary("week", at=at, side="long", tag="t").to_dict(),
        [t.trade_id for t in tracker.trades(strategy="a")],
    )


def history(seed: int, n: int, *, odd: bool = False, whole: bool = False) -> list[dict[str, Any]]:
    """
    ``n`` rows; ``whole``: all of one shape (the batch a column at a time takes), every row
    with fees, strategy, tags and a stop, none with an id, a target or a given net P&L.
    """
    rng = random.Random(seed)
    rows = [row(i, rng, odd=odd) for i in range(n)]
    if whole:
        for r in rows:
            sign = 1 if r["side"] == "long" else -1
            r.setdefault("fees", "0")
            r.setdefault("strategy", "default")
            r["stop_price"] = str(int(r["entry_price"]) - 2 * sign)
            r.setdefault("tags", [])
            for name in ("target_price", "trade_id", "net_pnl"):
                r.pop(name, None)
        order = ["symbol", "side", "quantity", "entry_price", "exit_price", "entry_time"]
        order += ["exit_time", "fees", "strategy", "stop_price", "tags"]
        rows = [{f: r[f] for f in order} for r in rows]
    # Some lines sent twice, as a rerun log does.
    rows += [dict(r) for r in rows[: n // 4] if "trade_id" in r]
    rng.shuffle(rows[n // 2 :])
    return rows


def pair() -> tuple[pt.Tracker, pt.Tracker]:
    return (pt.Tracker("10000", timezone="America/New_York") for _ in range(2))  # type: ignore[return-value]


class TestSameAsOneByOne:
    """A batch leaves the tracker as the same record_trade calls in order would."""

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.integers(0, 10**6), st.integers(0, 120), st.integers(0, 30), st.booleans())
    def test_random_batches(self, seed, n, before, whole):
        rows = history(seed, n, odd=True, whole=whole)
        earlier = history(seed + 1, before)
        slow, fast = pair()
        for tracker in (slow, fast):
            one_by_one(tracker, earlier)
            tracker.open_trade("o1", symbol="X", side="long", quantity=1, price="100", time=T0)
            tracker.summary()  # folded buckets, then a batch on top of them
        before = fingerprint(fast)
        error = one_by_one(slow, rows)
        assert error == in_bulk(fast, rows)
        if error is None:
            assert fingerprint(slow) == fingerprint(fast)
            assert edges(slow) == edges(fast)
        else:  # the calls before the failing one stand; the batch changed nothing
            assert before == fingerprint(fast)

    @pytest.mark.parametrize("frozen", [False, True])
    def test_the_batch_sits_in_the_oldest_generation(self, frozen):
        """The collector runs again after a batch, with the booked trades moved to the
        oldest generation; objects the process froze itself stay frozen, and a caller's own
        pause is kept."""
        import gc

        rows = history(3, 50)
        tracker = pt.Tracker("10000")
        sentinel: list[object] = []  # tracked by the collector
        gc.collect()
        if frozen:
            gc.freeze()
        try:
            _bulk.record_trades(tracker, rows)
            assert gc.isenabled()
            # (get_objects lists the generations, not what is frozen.)
            assert any(o is sentinel for o in gc.get_objects()) != frozen
        finally:
            gc.unfreeze()
        if not frozen:
            oldest = {id(o) for o in gc.get_objects(generation=2)}
            assert {id(tracker._closed[0]), id(tracker._closed[-1])} <= oldest
        gc.disable()
        try:
            _bulk.record_trades(pt.Tracker("10000"), rows)
            assert not gc.isenabled()
        finally:
            gc.enable()

    def test_counts_what_it_added(self):
        rows = history(7, 50)
        tracker = pt.Tracker()
        added = _bulk.record_trades(tracker, rows)
        assert len(tracker.trades()) == added
        assert 0 == _bulk.record_trades(tracker, [r for r in rows if "trade_id" in r])

    def test_then_live_events(self):
        rows = history(3, 80)
        slow, fast = pair()
        one_by_one(slow, rows)
        in_bulk(fast, rows)
        more = [row(i, random.Random(i)) for i in range(200, 230)]
        one_by_one(slow, more)
        one_by_one(fast, more)
        assert fingerprint(slow) == fingerprint(fast)

    def test_trades_in_steps_go_the_long_way(self):
        rows = history(11, 30)
        steps = rows[5] = {
            **rows[5],
            "side": "long",
            "quantity": "1",
            "entry_price": "100",
            "exit_price": "102",
            "fees": "1",
        }
        steps.pop("net_pnl", None)
        steps.pop("stop_price", None)
        steps.pop("target_price", None)
        steps["realizations"] = [
            {"time": steps["entry_time"], "net_pnl": "-0.5", "fees": "0.5"},
            {"time": steps["exit_time"], "net_pnl": "1.5", "fees": "0.5"},
        ]
        slow, fast = pair()
        assert one_by_one(slow, rows) == in_bulk(fast, rows)
        assert fingerprint(slow) == fingerprint(fast)
        assert any(t.realizations is not None for t in fast.trades())

    def test_listeners_see_every_trade(self):
        seen: list[Any] = []

        def receiver(sender: object, **payload: Any) -> None:
            seen.append(payload["trade"].trade_id)

        pt.signals.trade_closed.connect(receiver)
        try:
            tracker = pt.Tracker()
            _bulk.record_trades(tracker, [row(i, random.Random(i)) for i in range(5)])
        finally:
            pt.signals.trade_closed.disconnect(receiver)
        assert [t.trade_id for t in tracker.trades()] == sorted(seen, key=seen.index)
        assert 5 == len(seen)


class TestBadRows:
    """A bad row raises what its record_trade call raises, and the batch changes nothing."""

    @pytest.mark.parametrize(
        "change",
        [
            {"quantity": "0"},
            {"quantity": "lots"},
            {"fees": "-1"},
            {"side": "buy"},
            {"symbol": " "},
            {"exit_time": "2025-03-03T10:00:00"},
            {"entry_time": "yesterday"},
            {"exit_time": (T0 - timedelta(days=3)).isoformat()},
            {"stop_price": "1000"},
            {"target_price": "1"},
            {"tags": [""]},
            {"trade_id": "dup", "quantity": "7"},
            {"trade_id": "o1"},
            {"net_pnl": "nan"},
        ],
    )
    def test_same_error_nothing_changed(self, change):
        rng = random.Random(1)
        rows = [row(i, rng) for i in range(20)]
        rows[3] = dict(row(3, rng), trade_id="dup")
        rows[12] = {**rows[12], "side": "long", "entry_price": "100", **change}
        slow, fast = pair()
        for tracker in (slow, fast):
            tracker.open_trade("o1", symbol="X", side="long", quantity=1, price="100", time=T0)
        before = fingerprint(fast)
        expected = one_by_one(slow, rows)
        assert expected is not None
        assert expected == in_bulk(fast, rows)
        assert before == fingerprint(fast)

    def test_a_missing_field_is_refused_before_any_row(self):
        # (It went the long way: row 0 was recorded, then record_trade raised TypeError.)
        rows = [row(i, random.Random(i)) for i in range(3)]
        del rows[1]["exit_price"]
        tracker = pt.Tracker()
        before = fingerprint(tracker)
        with pytest.raises(pt.errors.InvalidTradeError, match=r"'trades\[1\]' has no 'exit_price'"):
            _bulk.record_trades(tracker, rows)
        assert fingerprint(tracker) == before


def store_rows(n: int = 60) -> list[dict[str, Any]]:
    rng = random.Random(5)
    return [{k: v for k, v in row(i, rng).items() if k != "trade_id"} for i in range(n)]


class TestImportIntoStore:
    """An import into a store is one journal record and one snapshot, all or nothing."""

    def test_one_record_and_a_snapshot(self):
        store = MemoryStore()
        with pt.Tracker.restore(store, durability="batch") as tracker:
            tracker.record_trade("X", "long", 1, "10", "11", T0, T0 + timedelta(hours=1))
            added = _bulk.import_into_store(tracker, store_rows())
            expected = fingerprint(tracker)
        assert 60 == added
        records = [
            decode_record(line)
            for key in segments(store, "main")
            for line in store.get(key).splitlines(keepends=True)
        ]
        assert ["import_trades"] == [
            r["kind"] for r in records if r["kind"] not in ("init", "record_trade")
        ]
        assert 1 == sum(r["kind"] == "record_trade" for r in records)
        assert_restores(store, expected)

    def test_without_its_snapshot_the_import_is_gone_whole(self):
        store = MemoryStore()
        with pt.Tracker.restore(store, durability="batch") as tracker:
            tracker.record_trade("X", "long", 1, "10", "11", T0, T0 + timedelta(hours=1))
            tracker.save_snapshot()
            before = fingerprint(tracker)
            _bulk.import_into_store(tracker, store_rows())
        # As if the process died before the snapshot's put: the record alone.
        store.delete(snapshots(store, "main")[0])
        restored = pt.Tracker.restore(store, read_only=True)
        assert before == fingerprint(restored)
        assert any("import of 60 trades" in p for p in restored.restore_report.problems)

    def test_partial_days_are_in_the_snapshot(self, tmp_path):
        line = (
            '{"symbol": "X", "side": "long", "quantity": "1", "entry_price": "10", '
            '"exit_price": "11", "entry_time": "2025-01-06T10:00:00+00:00", '
            '"exit_time": "2025-01-06T11:00:00+00:00"}\n'
        )
        (tmp_path / "trades-2025-01-06.jsonl").write_text(line)
        (tmp_path / "trades-2025-01-08.jsonl").write_text(line.replace("-06T", "-08T"))
        result = importers.read_jsonl(sorted(tmp_path.glob("*.jsonl")))
        store = MemoryStore()
        with pt.Tracker.restore(store) as tracker:
            assert 2 == importers._base.load_into_store(tracker, result)
        restored = pt.Tracker.restore(store, read_only=True)
        assert restored.restore_report.replayed == 0
        assert restored.summary().partial

    def test_with_alert_rules_it_is_journaled_trade_by_trade(self):
        store = MemoryStore()
        targets = pt.Targets(max_loss_streak=2)
        with pt.Tracker.restore(store, targets=targets) as tracker:
            _bulk.import_into_store(tracker, store_rows(10))
            expected = fingerprint(tracker)
        kinds = [
            decode_record(line)["kind"]
            for key in segments(store, "main")
            for line in store.get(key).splitlines(keepends=True)
        ]
        assert "import_trades" not in kinds
        assert expected == fingerprint(pt.Tracker.restore(store, targets=targets))

    def test_rerun_adds_nothing(self):
        store = MemoryStore()
        rows = [dict(r, trade_id=f"t{i}") for i, r in enumerate(store_rows())]
        with pt.Tracker.restore(store) as tracker:
            assert 60 == _bulk.import_into_store(tracker, rows)
        with pt.Tracker.restore(store) as tracker:
            assert 0 == _bulk.import_into_store(tracker, rows)
            assert 60 == len(tracker.trades())
        assert Decimal(0) != pt.Tracker.restore(store, read_only=True).summary().net_pnl

    def test_a_failed_snapshot_is_owed_until_written(self):
        store = FlakyStore()
        tracker = pt.Tracker.restore(store)
        store.failing = "snapshots"
        with pytest.raises(errors.StoreError):
            _bulk.import_into_store(tracker, store_rows(20))
        assert 20 == len(tracker.trades())
        tracker.record_trade("X", "long", 1, "10", "11", T0, T0 + timedelta(days=9))
        # close() cannot make the import durable: it says so and leaves the tracker open.
        with pytest.raises(errors.StoreError):
            tracker.close()
        tracker.record_trade("X", "long", 1, "10", "12", T0, T0 + timedelta(days=9, hours=1))
        store.failing = None
        expected = fingerprint(tracker)
        tracker.close()
        assert_restores(store, expected)

    @pytest.mark.parametrize("how", ["flush", "retry", "cadence"])
    def test_an_owed_snapshot_is_written_by(self, how):
        store = FlakyStore()
        rows = [dict(r, trade_id=f"t{i}") for i, r in enumerate(store_rows(20))]
        with pt.Tracker.restore(store, snapshot_every=3) as tracker:
            store.failing = "snapshots"
            with pytest.raises(errors.StoreError):
                _bulk.import_into_store(tracker, rows)
            store.failing = None
            if how == "flush":
                tracker.flush()
            elif how == "retry":
                assert 0 == _bulk.import_into_store(tracker, rows)
            else:
                for n in range(3):
                    tracker.record_trade("X", "long", 1, "10", "11", T0, T0 + timedelta(days=n))
            assert not tracker._snapshot_owed
            expected = fingerprint(tracker)
        assert_restores(store, expected)

    def test_a_failed_record_write_is_not_written_later(self):
        store = FlakyStore()
        with pt.Tracker.restore(store, durability="batch") as tracker:
            tracker.record_trade("X", "long", 1, "10", "11", T0, T0 + timedelta(hours=1))
            store.failing = "journal"
            with pytest.raises(errors.StoreError):
                _bulk.import_into_store(tracker, store_rows(20))
            store.failing = None
            assert 1 == len(tracker.trades())
            tracker.record_trade("X", "long", 1, "10", "12", T0, T0 + timedelta(hours=2))
            expected = fingerprint(tracker)
        assert_restores(store, expected)

    def test_the_import_moves_the_retention_horizon(self):
        def day(d: int) -> dict[str, Any]:
            when = T0.replace(day=d)
            return {
                "symbol": "X", "side": "long", "quantity": "1", "entry_price": "10",
                "exit_price": "11", "entry_time": when.isoformat(),
                "exit_time": (when + timedelta(hours=1)).isoformat(),
            }  # fmt: skip

        late = [dict(day(20), trade_id="a"), dict(day(21), trade_id="b")]
        old = day(1)
        for bulk in (False, True):
            with pt.Tracker.restore(MemoryStore(), retention=timedelta(days=10)) as tracker:
                if bulk:
                    assert 2 == _bulk.import_into_store(tracker, late)
                else:
                    for r in late:
                        tracker.record_trade(**r)
                with pytest.raises(errors.InvalidTradeError, match="retention horizon"):
                    tracker.record_trade(**old)
                assert 2 == len(tracker.trades())


def assert_restores(store: MemoryStore, expected: Any) -> None:
    """The store restores, with no problem reported, to the state ``expected`` fingerprints."""
    restored = pt.Tracker.restore(store, read_only=True)
    assert () == restored.restore_report.problems
    assert expected == fingerprint(restored)


class FlakyStore(MemoryStore):
    """A store whose snapshot or journal writes fail while told to."""

    failing: str | None = None

    def _check(self, key: str) -> None:
        if self.failing is not None and f"/{self.failing}/" in key:
            raise errors.StoreError(f"{key}: the disk is full")

    def put(self, key: str, data: bytes) -> None:
        self._check(key)
        super().put(key, data)

    def append(self, key: str, data: bytes) -> None:
        self._check(key)
        super().append(key, data)


class _Gate:
    """A tracker lock that says when a thread starts waiting for it."""

    def __init__(self, lock: Any) -> None:
        self.lock = lock
        self.waiting = threading.Event()

    def __enter__(self) -> None:
        self.waiting.set()
        self.lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


@pytest.mark.parametrize("bulk", [_bulk.record_trades, _bulk.import_into_store])
def test_a_tracker_closed_while_waiting_for_the_lock_refuses_the_batch(bulk):
    tracker = pt.Tracker(store=MemoryStore()) if bulk is _bulk.import_into_store else pt.Tracker()
    real = tracker._lock
    gate = _Gate(real)
    errors_seen: list[Exception] = []

    def run() -> None:
        try:
            bulk(tracker, store_rows(5))
        except errors.InvalidInputError as e:
            errors_seen.append(e)

    with real:
        tracker._lock = gate  # type: ignore[assignment]
        thread = threading.Thread(target=run)
        thread.start()
        assert gate.waiting.wait(10)  # past any check made before taking the lock
        gate.waiting.clear()
        tracker._lock = real
        tracker.close()
    thread.join(10)
    assert [] == tracker.trades()
    assert len(errors_seen) == 1
    assert "closed" in str(errors_seen[0])
