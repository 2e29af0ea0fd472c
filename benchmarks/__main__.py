"""
perftrack's benchmark suite: every speed and memory target, and the alternatives, in one run.

    python -m benchmarks                  # the full suite (make bench)
    python -m benchmarks --quick          # tiny sizes: a smoke run for the test suite
    python -m benchmarks --only queries   # one or more sections (comma-separated)
    python -m benchmarks --docs           # also paste the table into docs/performance.md

Prints one Markdown table (figure, target, measured, pass/fail, runs, note) and writes
benchmarks/results/latest.json and latest.md with the machine's details. Each timing is the
median over several runs after a warm-up (the "runs" column says how many; the largest
workloads run once). A verdict is given wherever the row has a target. Nothing here tunes the
code to the benchmark: the workload is a synthetic but ordinary trading history.
"""

from __future__ import annotations

import argparse
import compileall
import gc
import itertools
import json
import logging
import math
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import structlog

import perftrack as pt
from perftrack import importers, reports
from perftrack.stores import LocalStore

T0 = datetime(2021, 1, 4, 14, 0, tzinfo=UTC)
ROOT = Path(__file__).parent.parent
RESULTS = Path(__file__).parent / "results"
DOCS = ROOT / "docs" / "performance.md"
#: docs/performance.md holds the latest full run's table between these two lines.
DOCS_START = "<!-- benchmark figures: start -->"
DOCS_END = "<!-- benchmark figures: end -->"


# -- the table -------------------------------------------------------------------------------

_UNITS: dict[str, tuple[str, float]] = {
    "ns": ("time", 1e-9),
    "µs": ("time", 1e-6),
    "us": ("time", 1e-6),
    "ms": ("time", 1e-3),
    "s": ("time", 1.0),
    # Decimal prefixes: the stricter reading of "1 KB" and "2 MB".
    "B": ("size", 1.0),
    "KB": ("size", 1e3),
    "MB": ("size", 1e6),
    "x": ("ratio", 1.0),
    "trades/s": ("trades/s", 1.0),
    "events/s": ("events/s", 1.0),
}
_QUANTITY = re.compile(r"(-?[\d,]*\.?\d+)\s*(trades/s|events/s|µs|us|ns|ms|s|KB|MB|B|x)\b")
_TARGET = re.compile(r"^\s*(<=|>=)\s*" + _QUANTITY.pattern)


def _quantity(text: str, pattern: re.Pattern[str] = _QUANTITY) -> tuple[str, float] | None:
    match = pattern.search(text)
    if match is None:
        return None
    *_, number, unit = match.groups()
    kind, scale = _UNITS[unit]
    return kind, float(number.replace(",", "")) * scale


def verdict(measured: str, target: str) -> str:
    """
    "pass" or "FAIL" when ``target`` reads "<= N unit" or ">= N unit" and ``measured`` starts
    with a quantity of the same kind; "" when there is nothing to compare.
    """
    match = _TARGET.match(target)
    have = _quantity(measured)
    if match is None or have is None:
        return ""
    want = _quantity(target[match.start(2) :])
    if want is None or want[0] != have[0]:
        return ""
    ok = have[1] <= want[1] if match.group(1) == "<=" else have[1] >= want[1]
    return "pass" if ok else "FAIL"


class Table:
    """
    The rows of the report.
    """

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(
        self,
        figure: str,
        measured: str,
        target: str = "",
        note: str = "",
        *,
        runs: int | None = None,
        result: str | None = None,
        **raw: Any,
    ) -> None:
        """
        Add a row; ``result`` (pass/FAIL) is read from ``measured`` and ``target`` unless given.
        """
        row = {
            "figure": figure,
            "target": target,
            "measured": measured,
            "result": verdict(measured, target) if result is None else result,
            "runs": runs,
            "note": note,
            **raw,
        }
        self.rows.append(row)
        print(f"  {figure}: {measured} {row['result']} {note}", file=sys.stderr, flush=True)

    def markdown(self) -> str:
        out = [
            "| figure | target | measured | result | runs | note |",
            "|---|---|---|---|---|---|",
        ]
        out += [
            f"| {r['figure']} | {r['target']} | {r['measured']} | {r['result']} "
            f"| {r['runs'] or ''} | {r['note']} |"
            for r in self.rows
        ]
        return "\n".join(out)


# -- measuring -------------------------------------------------------------------------------


def samples(
    call: Callable[[], object], repeat: int = 7, warmup: int = 2, budget: float | None = None
) -> list[float]:
    """
    Seconds of each of ``repeat`` calls, after ``warmup`` calls that are not counted. With a
    ``budget`` (seconds), fewer runs are made once the runs so far have used it up (at least
    one run is always counted), so a slow figure cannot stretch the suite without bound.
    """
    spent = 0.0
    for _ in range(warmup):
        start = time.perf_counter()
        call()
        spent += time.perf_counter() - start
        if budget is not None and spent >= budget / 2:
            break
    out: list[float] = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
        spent += out[-1]
        if budget is not None and spent >= budget:
            break
    return out


def timed(call: Callable[[], object], repeat: int = 7, warmup: int = 2) -> float:
    """
    Median seconds of one call, after a warm-up.
    """
    return statistics.median(samples(call, repeat, warmup))


def per_call(tracker_factory: Callable[[], pt.Tracker], args: list[dict[str, Any]]) -> list[int]:
    """
    Nanoseconds of each record_trade call of ``args`` on a fresh tracker.
    """
    tracker = tracker_factory()
    out = []
    for a in args:
        t0 = time.perf_counter_ns()
        tracker.record_trade(**a)
        out.append(time.perf_counter_ns() - t0)
    tracker.close()
    return out


def median_us(ns: list[int]) -> float:
    return statistics.median(ns) / 1000


def trade_args(n: int, *, strategies: int = 10, per_day: int = 400) -> dict[str, Any]:
    """
    The n-th trade of the synthetic history: ~per_day trades a day, ``strategies``
    strategies, 20 symbols, long and short, two tags, prices in cents as strings (as bots log
    them), a stop on every trade. Cheap to make (a multiplicative hash, no RNG), so the
    figures measure perftrack and not the generator.
    """
    h = (n * 2654435761 + 40503) % 4294967296
    entry = 5000 + h % 15001  # cents: 50.00 to 200.00
    move = (h >> 15) % 631 - 300  # cents: -3.00 to +3.30
    long = n % 3 != 0
    stop = entry - 200 if long else entry + 200
    when = T0 + timedelta(seconds=n * 86400 // per_day)
    return {
        "symbol": f"S{n % 20}",
        "side": "long" if long else "short",
        "quantity": 10,
        "entry_price": f"{entry // 100}.{entry % 100:02d}",
        "exit_price": f"{(entry + move) // 100}.{(entry + move) % 100:02d}",
        "entry_time": when - timedelta(minutes=5),
        "exit_time": when,
        "fees": "1.00",
        "strategy": f"strat{n % strategies}",
        "stop_price": f"{stop // 100}.{stop % 100:02d}",
        "tags": ("gap", "volume"),
    }


def build(
    n: int, *, traced_from: int | None = None, per_day: int = 400, **tracker_options: Any
) -> tuple[pt.Tracker, float]:
    """
    A tracker holding the first ``n`` trades of the synthetic history, and the seconds that
    took. With ``traced_from``, tracemalloc traces the trades from that one on (and is left
    running: the caller reads and stops it).
    """
    tracker = pt.Tracker("1000000", timezone="America/New_York", **tracker_options)
    start = time.perf_counter()
    for i in range(n):
        if i == traced_from:
            gc.collect()
            tracemalloc.start()
        tracker.record_trade(**trade_args(i, per_day=per_day))
    return tracker, time.perf_counter() - start


def write_jsonl(path: Path, n: int, per_day: int) -> None:
    """
    The synthetic history as a bot's JSON-lines trade log (Decimal fields as strings).
    """
    with path.open("w") as f:
        for i in range(n):
            a = trade_args(i, per_day=per_day)
            a["entry_time"] = a["entry_time"].isoformat()
            a["exit_time"] = a["exit_time"].isoformat()
            f.write(json.dumps(a) + "\n")


def perftrack_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "perftrack", *args]


# -- figures ---------------------------------------------------------------------------------


def bench_record_trade(table: Table, n: int, repeat: int = 5) -> float:
    """
    Returns the median µs per call, for the floor's comparison.
    """
    args = [trade_args(i, strategies=1) for i in range(n)]

    def factory() -> pt.Tracker:
        return pt.Tracker("1000000", timezone="America/New_York")

    per_call(factory, args[: max(n // 10, 100)])  # warm-up
    medians, p99s, rates = [], [], []
    for _ in range(repeat):
        gc.collect()
        ns = per_call(factory, args)
        medians.append(median_us(ns))
        p99s.append(sorted(ns)[int(len(ns) * 0.99)] / 1000)
        rates.append(n / (sum(ns) / 1e9))
    median = statistics.median(medians)
    table.add(
        "record_trade median",
        f"{median:.1f} µs",
        "<= 10 µs",
        f"round trip, one strategy, two tags, no listeners, no store; {n:,} calls a run "
        f"(run medians {min(medians):.1f} to {max(medians):.1f} µs)",
        runs=repeat,
        value=median,
    )
    table.add(
        "record_trade p99",
        f"{statistics.median(p99s):.1f} µs",
        "",
        "includes the batched folding of per-key queues (every 256 events) and GC pauses",
        runs=repeat,
        value=statistics.median(p99s),
    )
    rate = statistics.median(rates)
    table.add(
        "record_trade throughput",
        f"{rate:,.0f} trades/s",
        "",
        f"amortised {1e6 / rate:.1f} µs per trade, folding included",
        runs=repeat,
        value=rate,
    )
    return median


def bench_events(table: Table, n: int) -> None:
    tracker = pt.Tracker("1000000")
    counter = iter(range(10**9))

    def open_close() -> None:
        k = next(counter)
        when = T0 + timedelta(seconds=k)
        tracker.open_trade(f"o{k}", symbol="X", side="long", quantity=10, price="100", time=when)
        tracker.close_trade(f"o{k}", price="101", time=when)

    per = timed(lambda: [open_close() for _ in range(n)]) / n * 1e6
    table.add(
        "open_trade + close_trade", f"{per:.1f} µs", "", f"per pair, {n:,} a run", runs=7, value=per
    )
    tracker.open_trade("big", symbol="Y", side="long", quantity=10**9, price="100", time=T0)

    def partial() -> None:
        k = next(counter)
        tracker.close_trade("big", price="101", time=T0 + timedelta(seconds=k), quantity=1)

    per = timed(lambda: [partial() for _ in range(n)]) / n * 1e6
    table.add("close_trade (partial)", f"{per:.1f} µs", "", runs=7, value=per)
    for open_count in (1, 10, 100):
        t = pt.Tracker("1000000")
        for k in range(open_count):
            t.open_trade(f"m{k}", symbol="Z", side="long", quantity=1, price="100", time=T0)
        ticks = iter(range(10**9))

        def mark(t: pt.Tracker = t, ticks: Any = ticks) -> None:
            k = next(ticks)
            t.mark_price("Z", "100.5" if k % 2 else "99.5", T0 + timedelta(seconds=k))

        per = timed(lambda mark=mark: [mark() for _ in range(n)]) / n * 1e6
        table.add(
            f"mark_price, {open_count} open on the symbol", f"{per:.1f} µs", "", runs=7, value=per
        )


def idea_args(i: int, *, symbols: int = 50) -> dict[str, Any]:
    """
    The i-th of a stream of ideas: ten a day over 50 symbols, both sides, three entry types,
    seven edges (two per idea), every confidence, day and swing horizons.
    """
    long = i % 2 == 0
    return {
        "symbol": f"S{i % symbols}",
        "side": "long" if long else "short",
        "entry": "100",
        "stop": "98" if long else "102",
        "target": "106" if long else "94",
        "confidence": i % 6,
        "entry_type": ("market", "limit", "stop")[i % 3],
        "edges": (f"edge{i % 7}", f"edge{(i + 3) % 7}"),
        "horizon": ("day", "swing", None)[i % 3],
        "time": T0 + timedelta(hours=2.4 * i),
        "expires_after": timedelta(days=2),
    }


def bench_ideas(table: Table, n: int, history: int) -> None:
    """
    The trade-ideas figures: record_idea, mark_price against live ideas, and the queries with
    ``history`` ideas (resolved by marks) behind them.
    """

    def record_all(life: timedelta) -> list[int]:
        tracker = pt.Tracker("1000000")
        out = []
        for i in range(n):
            a = {**idea_args(i), "expires_after": life}
            t0 = time.perf_counter_ns()
            tracker.record_idea(**a)
            out.append(time.perf_counter_ns() - t0)
        return out

    for label, life, target, note in (
        ("record_idea median", timedelta(days=36500), "<= 10 µs", "nothing due to expire"),
        (
            "record_idea median, one expiry per call",
            timedelta(days=2),
            "",
            "a two-day life at ten ideas a day: each call also expires the oldest idea",
        ),
    ):
        record_all(life)  # warm-up
        runs = [record_all(life) for _ in range(5)]
        median = statistics.median(median_us(ns) for ns in runs)
        table.add(
            label,
            f"{median:.1f} µs",
            target,
            f"two edges, horizon, no listeners, no store, {note}; {n:,} calls a run",
            runs=5,
            value=median,
        )
        if target:
            # The median call leaves out the calls that fold the queue of recorded ideas
            # into their aggregates (one in 256): the mean has them.
            mean = statistics.median(statistics.mean(ns) / 1000 for ns in runs)
            table.add(
                "record_idea mean",
                f"{mean:.1f} µs",
                "",
                "the same calls: the folding of queued ideas (every 256) and GC pauses included",
                runs=5,
                value=mean,
            )

    def marks(tracker: pt.Tracker, symbol: str) -> float:
        ticks = iter(range(10**9))

        def mark() -> None:
            k = next(ticks)
            tracker.mark_price(symbol, "100.5" if k % 2 else "100.25", T0 + timedelta(seconds=k))

        return timed(lambda: [mark() for _ in range(n)]) / n * 1e6

    def live(count: int, symbol: str, *, closed: bool = False) -> pt.Tracker:
        tracker = pt.Tracker("1000000")
        tracker.open_trade("t", symbol="Z", side="long", quantity=1, price="100", time=T0)
        if closed:
            # Ideas in use, none of them live: the observer runs, the index is empty.
            done = tracker.record_idea("Y", "long", "100", "99", "101", confidence=1, time=T0)
            tracker.ideas.override(done.idea_id, status="loss", reason="closed")
        for k in range(count):
            # Far levels and a long life: the ideas stay live through every mark.
            tracker.record_idea(
                symbol if count <= 10 else f"O{k}",
                "long",
                "100",
                "50",
                "200",
                confidence=3,
                edges=("a",),
                time=T0,
                expires_after=timedelta(days=3650),
            )
        return tracker

    never = marks(live(0, "Z"), "Z")
    none = marks(live(0, "Z", closed=True), "Z")
    others = marks(live(10_000, "Z"), "Z")
    own = marks(live(10, "Z"), "Z")
    table.add("mark_price, no idea ever recorded", f"{never:.1f} µs", "", runs=7, value=never)
    table.add("mark_price, 0 live ideas", f"{none:.1f} µs", "", runs=7, value=none)
    table.add(
        "mark_price, 10,000 live ideas on other symbols",
        f"{others:.1f} µs",
        "",
        f"{others / none:.2f}x the mark with 0 live ideas (target: the same)",
        runs=7,
        value=others,
    )
    table.add(
        "mark_price, 10 live ideas on its symbol",
        f"{own:.1f} µs",
        "<= 20 µs",
        "the ideas stay open: each mark moves their excursions",
        runs=7,
        value=own,
    )
    tracker = pt.Tracker("1000000")
    for i in range(history):
        a = idea_args(i)
        tracker.record_idea(**a)
        if i % 2:
            # Half the ideas see a price that decides them; the rest expire.
            price = "107" if i % 4 == 1 else "97"
            tracker.mark_price(a["symbol"], price, a["time"] + timedelta(minutes=1))
    for label, call in (
        ("ideas.summary()", tracker.ideas.summary),
        ("ideas.summary('week')", lambda: tracker.ideas.summary("week", at=tracker.clock)),
        ('ideas.breakdown("edge")', lambda: tracker.ideas.breakdown("edge")),
    ):
        call()
        per = timed(lambda call=call: [call() for _ in range(100)]) / 100 * 1e6
        table.add(
            f"{label}, {history:,} ideas",
            f"{per / 1000:.3f} ms",
            "<= 1 ms",
            "seven edges" if "edge" in label else "",
            runs=7,
            value=per,
        )


def bench_queries(
    table: Table, sizes: list[int], memory_sizes: dict[int, int], report_size: int
) -> None:
    """
    Query costs at each history size; memory per retained trade at the sizes in
    ``memory_sizes`` (size -> the trade tracemalloc starts tracing at).
    """
    figures: dict[str, dict[int, float]] = {}
    for n in sizes:
        gc.collect()
        traced_from = memory_sizes.get(n)
        tracker, seconds = build(n, traced_from=traced_from)
        tracker.summary()  # fold every queue, so memory counts what stays
        if traced_from is not None:
            gc.collect()
            used = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()
            traced = n - traced_from
            how = (
                "tracemalloc over the whole build"
                if traced_from == 0
                else f"tracemalloc over the last {traced:,} trades added to {traced_from:,} "
                "(tracing slows the build ~10x; --full-memory traces it all)"
            )
            table.add(
                f"memory per retained closed trade, {n:,}",
                f"{used / traced:,.0f} B",
                "<= 1 KB",
                f"{how}; the build took {seconds:.0f} s",
                runs=1,
                value=used / traced,
            )
        at = tracker.clock
        end = at.date()
        queries = {
            "summary day": lambda t=tracker, at=at: t.summary("day", at=at),
            "summary week": lambda t=tracker, at=at: t.summary("week", at=at),
            "summary month": lambda t=tracker, at=at: t.summary("month", at=at),
            "summary all": lambda t=tracker: t.summary(),
            "summary 90-day range": lambda t=tracker, end=end: t.summary(
                start=end - timedelta(days=89), end=end
            ),
            "breakdown by strategy (10)": lambda t=tracker: t.breakdown("strategy"),
            "rolling(20)": lambda t=tracker: t.rolling(20),
        }
        for name, query in queries.items():
            per = timed(lambda q=query: [q() for _ in range(20)]) / 20 * 1e6
            figures.setdefault(name, {})[n] = per
            target = "<= 1 ms" if name in {"summary day", "summary week", "summary month"} else ""
            target = "<= 1 ms" if name == "summary all" else target
            table.add(
                f"{name}, {n:,} trades",
                f"{per:,.0f} µs",
                target,
                "20 calls a run",
                runs=7,
                value=per,
            )
        if n == report_size:
            bench_html(table, tracker, n)
        del tracker
        gc.collect()
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        # At 400 trades a day the small history spans less than 90 days, so its 90-day range
        # merges fewer days than the large one's: the ratio would measure the window, not the
        # history. Its figure for the ratio comes from the same number of trades spread over
        # more than 90 days.
        spread = max(1, small // 100)
        figures["summary 90-day range"][small] = bench_range(table, small, spread)
        for name, by_size in figures.items():
            ratio = by_size[large] / by_size[small]
            table.add(
                f"{name}: {large:,} / {small:,} trades",
                f"{ratio:.2f}x",
                "<= 2x",
                "near 1: the cost does not grow with history",
                value=ratio,
            )


def bench_range(table: Table, n: int, per_day: int) -> float:
    """
    The 90-day range summary of ``n`` trades at ``per_day`` a day; returns µs per call.
    """
    tracker, _seconds = build(n, per_day=per_day)
    end = tracker.clock.date()
    per = (
        timed(lambda: [tracker.summary(start=end - timedelta(days=89), end=end) for _ in range(20)])
        / 20
        * 1e6
    )
    table.add(
        f"summary 90-day range, {n:,} trades over {n // per_day:,} days",
        f"{per:,.0f} µs",
        "",
        f"{per_day} trades a day, so the range is full, as at the largest size; 20 calls a run",
        runs=7,
        value=per,
    )
    return per


def bench_html(table: Table, tracker: pt.Tracker, n: int) -> None:
    page = ""

    def render() -> None:
        nonlocal page
        page = reports.html(tracker)

    seconds = timed(render, repeat=3, warmup=1)
    table.add(
        f"HTML report, {n:,} trades",
        f"{seconds:.2f} s",
        "<= 2 s",
        "reports.html(tracker), all time",
        runs=3,
        value=seconds,
    )
    size = len(page.encode())
    table.add(
        f"HTML report size, {n:,} trades",
        f"{size / 1e6:.2f} MB",
        "<= 2 MB",
        "self-contained: inline SVG and CSS",
        value=size,
    )


def bench_persistence(table: Table, n: int, sync_n: int, snapshot_n: int) -> None:
    """
    Durability costs (as the cost added to the same calls without a store, measured in the
    same runs), snapshot save and restore, and journal replay.
    """
    args = [trade_args(i, strategies=1) for i in range(n)]
    repeat = 5
    with tempfile.TemporaryDirectory() as tmp:
        runs = iter(range(10**9))

        def factory(durability: str | None) -> Callable[[], pt.Tracker]:
            def make() -> pt.Tracker:
                if durability is None:
                    return pt.Tracker("1000000", timezone="America/New_York")
                store = LocalStore(Path(tmp) / f"{durability}-{next(runs)}")
                # Snapshots have their own figure below: here only the journal append.
                return pt.Tracker(
                    "1000000",
                    timezone="America/New_York",
                    store=store,
                    durability=durability,
                    snapshot_every=10**9,
                    snapshot_interval=None,
                )

            return make

        per_call(factory("batch"), args[: n // 10])  # warm-up
        plain, batch = [], []
        for _ in range(repeat):  # interleaved, so both see the same machine
            plain.append(median_us(per_call(factory(None), args)))
            batch.append(median_us(per_call(factory("batch"), args)))
        added = statistics.median(batch) - statistics.median(plain)
        table.add(
            "record_trade, LocalStore durability=batch: added per event",
            f"{added:.1f} µs",
            "<= 20 µs",
            f"{statistics.median(batch):.1f} µs with the journal vs "
            f"{statistics.median(plain):.1f} µs without; medians of {n:,} calls a run; "
            "periodic snapshots off",
            runs=repeat,
            value=added,
        )
        sync = [median_us(per_call(factory("sync"), args[:sync_n])) for _ in range(3)]
        table.add(
            "record_trade, LocalStore durability=sync",
            f"{statistics.median(sync):.1f} µs",
            "",
            f"each event fsynced before the call returns; {sync_n:,} calls a run",
            runs=3,
            value=statistics.median(sync),
        )

        store = LocalStore(Path(tmp) / "snap")
        tracker, _ = build(snapshot_n, store=store, durability="batch", snapshot_every=10**9)
        save = timed(tracker.save_snapshot, repeat=3, warmup=1)
        table.add(
            f"snapshot save, {snapshot_n:,} trades",
            f"{save:.2f} s",
            "<= 1 s",
            "full state, compressed, checksummed, atomic",
            runs=3,
            value=save,
        )
        tracker.close()

        def restore() -> None:
            pt.Tracker.restore(store).close()

        seconds = timed(restore, repeat=3, warmup=1)
        table.add(
            f"restore from snapshot, {snapshot_n:,} trades",
            f"{seconds:.2f} s",
            "<= 1 s",
            "buckets fold lazily on first read",
            runs=3,
            value=seconds,
        )

        def first_queries() -> None:
            restored = pt.Tracker.restore(store, read_only=True)
            restored.summary()
            restored.breakdown("strategy")

        seconds = timed(first_queries, repeat=3, warmup=0)
        table.add(
            f"restore + first all-time summary + breakdown, {snapshot_n:,} trades",
            f"{seconds:.2f} s",
            "",
            "restore with the deferred folding paid",
            runs=3,
            value=seconds,
        )
        table.add(
            f"periodic snapshot amortised, {snapshot_n:,} trades in memory",
            f"{save / 10_000 * 1e6:.1f} µs",
            "",
            "the save above spread over the default snapshot_every=10,000 events",
            value=save / 10_000 * 1e6,
        )
        # Journal replay: a store holding only a journal.
        store = LocalStore(Path(tmp) / "replay")
        tracker, _ = build(
            snapshot_n,
            store=store,
            durability="batch",
            snapshot_every=10**9,
            snapshot_interval=None,
        )
        tracker.close()
        seconds = timed(restore, repeat=3, warmup=1)
        table.add(
            "journal replay",
            f"{snapshot_n / seconds:,.0f} events/s",
            ">= 100,000 events/s",
            f"restore of a journal of {snapshot_n:,} record_trade events, no snapshot",
            runs=3,
            value=snapshot_n / seconds,
        )
        seconds = timed(first_queries, repeat=3, warmup=0)
        table.add(
            "journal replay + first all-time summary + breakdown",
            f"{snapshot_n / seconds:,.0f} events/s",
            "",
            "the same, with the deferred folding paid",
            runs=3,
            value=snapshot_n / seconds,
        )


def bench_alerts(table: Table, n: int) -> None:
    # Targets the history keeps: what is measured is evaluating every rule on every trade,
    # not raising and resolving alerts (a rare event in a healthy bot). The target is for
    # the six rules of the alerts issue; the profit-factor rule is measured on top of them.
    six: dict[str, Any] = {
        "min_win_rate": 0.05,
        "min_risk_reward": 0.05,
        "max_drawdown_pct": 0.5,
        "max_drawdown": "500000",
        "max_daily_loss": "500000",
        "max_loss_streak": 50,
    }
    rule_sets = {
        "six": pt.Targets(**six),
        "seven": pt.Targets(**six, min_profit_factor=0.05),
    }
    args = [trade_args(i, strategies=1) for i in range(n)]
    repeat = 5

    def factory(options: dict[str, Any]) -> Callable[[], pt.Tracker]:
        return lambda: pt.Tracker("1000000", **options)

    per_call(factory({"targets": rule_sets["seven"]}), args[: n // 10])  # warm-up
    without: list[float] = []
    with_rules: dict[str, list[float]] = {name: [] for name in rule_sets}
    for _ in range(repeat):  # interleaved, so all see the same machine
        without.append(median_us(per_call(factory({}), args)))
        for name, targets in rule_sets.items():
            with_rules[name].append(median_us(per_call(factory({"targets": targets}), args)))
    base = statistics.median(without)
    for name, label, target in (
        ("six", "alert rules (the six of the alerts issue): added per closed trade", "<= 5 µs"),
        ("seven", "alert rules (all seven built-in): added per closed trade", ""),
    ):
        measured = statistics.median(with_rules[name])
        table.add(
            label,
            f"{measured - base:.1f} µs",
            target,
            f"{measured:.1f} µs with rules vs {base:.1f} µs without; medians of {n:,} calls a run",
            runs=repeat,
            value=measured - base,
        )


def bench_floor(table: Table, n: int, record_trade_us: float) -> None:
    lock = threading.Lock()
    total = [Decimal(0)]
    amounts = [Decimal(i % 300) / 100 for i in range(n)]

    def loop() -> None:
        for a in amounts:
            with lock:
                total[0] += a

    per = timed(loop, repeat=5) / n * 1e6
    table.add(
        "floor: a locked Decimal addition per trade",
        f"{per:.2f} µs",
        "",
        f"what CPython does at the least; record_trade's median is {record_trade_us / per:.0f}x",
        runs=5,
        value=per,
    )


# -- against the alternatives ----------------------------------------------------------------


class MissingAlternative(RuntimeError):
    """
    A benchmark dependency is not installed (``make bench`` installs the ``bench`` group).
    """


def _alternatives(*modules: str) -> None:
    import importlib

    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as e:
            msg = f"{module} is not installed: make bench installs the 'bench' dependency group"
            raise MissingAlternative(msg) from e


def bench_dashboard(table: Table, counts: list[int]) -> None:
    """
    After each closed trade, the five figures of a live dashboard: perftrack incrementally
    against pandas + empyrical recomputing from the whole series. Every refresh's figures are
    compared afterwards.
    """
    _alternatives("pandas", "empyrical")
    import empyrical as ep
    import pandas as pd

    ratios = []
    for count in counts:
        trades = [trade_args(i, per_day=8) for i in range(count)]
        tracker = pt.Tracker("1000000", timezone="UTC")
        ours_figures = []
        gc.collect()
        start = time.perf_counter()
        for a in trades:
            tracker.record_trade(**a)
            s = tracker.summary()
            ours_figures.append((s.net_pnl, s.win_rate, s.max_drawdown_pct, s.sharpe, s.sortino))
        ours = time.perf_counter() - start
        # The usual way: rebuild the series and recompute on every refresh.
        rows: list[tuple[datetime, float]] = []
        theirs_figures = []
        gc.collect()
        start = time.perf_counter()
        for a in trades:
            # Floats need rounding to money precision, or a breakeven trade is a 1e-12 win.
            pnl = round(
                (float(a["exit_price"]) - float(a["entry_price"]))
                * a["quantity"]
                * (1 if a["side"] == "long" else -1)
                - float(a["fees"]),
                8,
            )
            rows.append((a["exit_time"], pnl))
            frame = pd.DataFrame(rows, columns=["time", "pnl"])
            net = frame["pnl"].sum()
            win_rate = (frame["pnl"] > 0).mean()
            daily = frame.groupby(frame["time"].dt.floor("D"))["pnl"].sum()
            days = pd.date_range(daily.index.min(), daily.index.max(), freq="D")
            daily = daily.reindex(days, fill_value=0.0)
            equity_start = 1_000_000 + daily.cumsum().shift(1, fill_value=0.0)
            returns = daily / equity_start
            sharpe = ep.sharpe_ratio(returns, period="daily", annualization=365)
            sortino = ep.sortino_ratio(returns, period="daily", annualization=365)
            equity = 1_000_000 + frame.groupby("time")["pnl"].sum().cumsum()
            peak = equity.cummax().clip(lower=1_000_000)
            max_dd = float(((peak - equity) / peak).max())
            theirs_figures.append((net, win_rate, max_dd, sharpe, sortino))
        theirs = time.perf_counter() - start
        for i, (mine, other) in enumerate(zip(ours_figures, theirs_figures, strict=True)):
            check_dashboard(i, mine, other)
        ratio = theirs / ours
        ratios.append(ratio)
        table.add(
            f"dashboard refresh after each of {count:,} trades: pandas+empyrical / perftrack",
            f"{ratio:,.0f}x",
            ">= 100x" if count >= 10_000 else "",
            f"perftrack {ours:.2f} s, pandas+empyrical {theirs:.2f} s; "
            "net P&L, win rate, max drawdown, Sharpe, Sortino equal at every refresh",
            runs=1,
            value=ratio,
        )
    grows = all(a < b for a, b in itertools.pairwise(ratios))
    table.add(
        "dashboard ratio grows with the count",
        " < ".join(f"{r:,.0f}x" for r in ratios),
        "increasing",
        "perftrack's refresh is O(1), a recompute is O(trades)",
        result="pass" if grows else "FAIL",
    )


def check_dashboard(i: int, mine: tuple[Any, ...], other: tuple[Any, ...]) -> None:
    """
    perftrack's exact figures against the float recomputation, to float precision.
    """
    net, win_rate, max_dd, sharpe, sortino = other

    def close(a: float | None, b: float, what: str) -> None:
        if a is None:
            # perftrack says "undefined" (None) where pandas/empyrical give NaN or infinity.
            assert not math.isfinite(b) or b == 0, (i, what, a, b)
            return
        assert abs(a - b) <= 1e-6 * max(1.0, abs(b)), (i, what, a, b)

    close(float(mine[0]), net, "net_pnl")
    close(mine[1], win_rate, "win_rate")
    close(mine[2], max_dd, "max_drawdown_pct")
    close(mine[3], sharpe, "sharpe")
    close(mine[4], sortino, "sortino")


def bench_batch(table: Table, n: int, jsonl: Path) -> None:
    """
    All-time and monthly summaries from one JSONL file: perftrack's importer and tracker
    against a pandas script computing the same numbers (compared, month by month). The
    perftrack side doubles as the library import's throughput.
    """
    gc.collect()
    start = time.perf_counter()
    result = importers.read_jsonl([jsonl])
    tracker = pt.Tracker("1000000", timezone="UTC")
    importers.load_into(tracker, result)
    imported = time.perf_counter() - start
    overall = tracker.summary()
    months = [m for m in tracker.periods("month") if m.trades]
    ours = time.perf_counter() - start
    del result
    table.add(
        f"import a {n:,}-line JSONL log (library)",
        f"{n / imported:,.0f} trades/s",
        ">= 100,000 trades/s",
        f"importers.read_jsonl + load_into an in-memory tracker: {imported:.1f} s",
        runs=1,
        value=n / imported,
    )
    del tracker
    gc.collect()

    _alternatives("pandas")
    import pandas as pd

    start = time.perf_counter()
    frame = pd.read_json(jsonl, lines=True, dtype={"entry_price": str, "exit_price": str})
    for column in ("entry_price", "exit_price", "fees"):
        frame[column] = frame[column].astype(float)
    sign = frame["side"].map({"long": 1, "short": -1})
    frame["net"] = (
        (frame["exit_price"] - frame["entry_price"]) * frame["quantity"] * sign - frame["fees"]
    ).round(8)
    frame["win"] = frame["net"] > 0
    frame["loss"] = frame["net"] < 0
    frame["profit"] = frame["net"].where(frame["win"], 0.0)
    frame["lost"] = frame["net"].where(frame["loss"], 0.0)
    frame["month"] = pd.to_datetime(frame["exit_time"], utc=True).dt.strftime("%Y-%m")
    columns = ["net", "win", "loss", "profit", "lost", "fees"]
    by_month = frame.groupby("month")[columns].sum()
    by_month["trades"] = frame.groupby("month").size()
    total = frame[columns].sum()
    total["trades"] = len(frame)
    theirs = time.perf_counter() - start

    def check(mine: pt.Summary, other: Any) -> None:
        assert mine.trades == int(other["trades"])
        assert mine.wins == int(other["win"])
        assert mine.losses == int(other["loss"])
        for exact, approx in (
            (mine.net_pnl, other["net"]),
            (mine.gross_profit, other["profit"]),
            (mine.gross_loss, other["lost"]),
            (mine.fees, other["fees"]),
        ):
            # The floats, rounded to the cent, are the exact Decimal figures.
            assert exact == Decimal(f"{approx:.2f}"), (mine.period, exact, approx)
        assert mine.win_rate == int(other["win"]) / int(other["trades"])
        profit_factor = other["profit"] / -other["lost"]
        assert mine.profit_factor is not None
        assert abs(float(mine.profit_factor) - profit_factor) <= 1e-9 * profit_factor

    check(overall, total)
    assert [m.start.strftime("%Y-%m") for m in months] == list(by_month.index)
    for mine, (_, other) in zip(months, by_month.iterrows(), strict=True):
        check(mine, other)
    faster = (
        f"pandas is {ours / theirs:.1f}x faster: a columnar float batch job against an "
        "exact-Decimal event-at-a-time engine, which pays off on every live query instead"
        if theirs < ours
        else f"perftrack is {theirs / ours:.1f}x faster"
    )
    table.add(
        f"batch: all-time + {len(months)} monthly summaries from a {n:,}-line JSONL: "
        "pandas / perftrack",
        f"{theirs / ours:.2f}x",
        "",
        f"perftrack {ours:.1f} s, pandas groupby {theirs:.1f} s, same numbers "
        f"(trades, wins, losses, net, gross profit and loss, fees, win rate, profit factor); "
        f"{faster}",
        runs=1,
        value=theirs / ours,
    )


def bench_cli(table: Table, sizes: list[int], jsonl: dict[int, Path], tmp: Path) -> None:
    """
    The whole process of ``perftrack import jsonl`` and ``perftrack summary --window weekly``,
    Python start-up included, on a LocalStore as the import leaves it.
    """
    targets = {1_000: "<= 300 ms", 1_000_000: "<= 3 s"}
    # A regular install leaves perftrack byte-compiled; an editable one under
    # PYTHONDONTWRITEBYTECODE=1 (set on the machines we measure on) would compile its
    # 13,000 lines from source at every start: 100-150 ms here, which no deployment pays.
    compileall.compile_dir(Path(pt.__file__).parent, quiet=1)
    for n in sizes:
        data = tmp / f"store-{n}"
        start = time.perf_counter()
        subprocess.run(
            perftrack_command(
                "import",
                "jsonl",
                str(jsonl[n]),
                "--data",
                str(data),
                "--starting-equity",
                "1000000",
            ),
            check=True,
            capture_output=True,
        )
        seconds = time.perf_counter() - start
        table.add(
            f"perftrack import jsonl, whole process, {n:,} trades",
            f"{n / seconds:,.0f} trades/s",
            ">= 100,000 trades/s" if n >= 1_000_000 else "",
            f"{seconds:.1f} s into a LocalStore (one import record, then a snapshot)",
            runs=1,
            value=n / seconds,
        )
        command = perftrack_command("summary", "--window", "weekly", "--data", str(data))

        def run(command: list[str] = command) -> None:
            subprocess.run(command, check=True, capture_output=True)

        runs = samples(run, repeat=5 if n <= 100_000 else 3, warmup=1, budget=60)
        seconds = statistics.median(runs)
        table.add(
            f"perftrack summary --window weekly, whole process, {n:,} trades",
            f"{seconds * 1000:,.0f} ms",
            targets.get(n, ""),
            "Python start-up (bytecode compiled, as an install leaves it), read-only restore "
            "of the store, one summary",
            runs=len(runs),
            value=seconds,
        )


# -- the run ---------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "unknown"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "perftrack": pt.__version__,
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
        ).stdout.strip(),
        "load_before": load,
    }


def sections(
    quick: bool, tmp: Path, *, full_memory: bool = False
) -> dict[str, Callable[[Table], object]]:
    """
    The benchmark sections in run order, by name (for --only).
    """
    big = 5_000 if quick else 1_000_000
    cli_sizes = [200] if quick else [1_000, 1_000_000]
    files: dict[int, Path] = {}

    def jsonl(n: int) -> Path:
        # 1,500 trades a day: a million trades span ~22 months, inside the default two-year
        # retention, so the store really holds every trade.
        if n not in files:
            files[n] = tmp / f"trades-{n}.jsonl"
            write_jsonl(files[n], n, per_day=1_500)
        return files[n]

    record_trade_us: list[float] = []

    def record_trade(table: Table) -> None:
        record_trade_us.append(bench_record_trade(table, 2_000 if quick else 40_000))

    def floor(table: Table) -> None:
        if not record_trade_us:
            record_trade_us.append(bench_record_trade(table, 2_000))
        bench_floor(table, 10_000 if quick else 200_000, record_trade_us[0])

    return {
        "record_trade": record_trade,
        "events": lambda table: bench_events(table, 200 if quick else 5_000),
        "ideas": lambda table: bench_ideas(
            table, 500 if quick else 20_000, 3_000 if quick else 100_000
        ),
        "queries": lambda table: bench_queries(
            table,
            [1_000, 3_000] if quick else [10_000, 100_000, 1_000_000],
            # Quick: both ways of tracing, the whole build and the last trades only.
            memory_sizes={1_000: 0, 3_000: 2_000}
            if quick
            else {100_000: 0, 1_000_000: 0 if full_memory else 900_000},
            report_size=3_000 if quick else 100_000,
        ),
        "persistence": lambda table: bench_persistence(
            table,
            200 if quick else 10_000,
            50 if quick else 1_000,
            2_000 if quick else 100_000,
        ),
        "alerts": lambda table: bench_alerts(table, 1_000 if quick else 20_000),
        "floor": floor,
        "dashboard": lambda table: bench_dashboard(
            table, [100, 300] if quick else [1_000, 3_000, 10_000]
        ),
        "batch": lambda table: bench_batch(table, big, jsonl(big)),
        "cli": lambda table: bench_cli(table, cli_sizes, {n: jsonl(n) for n in cli_sizes}, tmp),
    }


def write_docs(markdown: str, path: Path = DOCS) -> None:
    """
    Replace the figures between the two marker lines of docs/performance.md.
    """
    text = path.read_text()
    head, found, rest = text.partition(DOCS_START + "\n")
    _, found_end, tail = rest.partition(DOCS_END)
    if not found or not found_end:
        msg = f"{path} lacks the lines {DOCS_START!r} and {DOCS_END!r}"
        raise ValueError(msg)
    path.write_text(f"{head}{DOCS_START}\n{markdown}\n{DOCS_END}{tail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--only", help="comma-separated sections to run (default: all)")
    parser.add_argument(
        "--docs", action="store_true", help="paste the table into docs/performance.md"
    )
    parser.add_argument(
        "--full-memory",
        action="store_true",
        help="trace the whole 1,000,000-trade build for its memory figure (adds minutes)",
    )
    args = parser.parse_args(argv)
    quick = args.quick
    if args.docs and (quick or args.only):
        parser.error("--docs needs the full suite (no --quick, no --only)")
    # An application may configure logging (the library never does): the alert rules fire
    # often on synthetic data, and printing them would be what the benchmark measures.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    table = Table()
    info = machine()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="perftrack-bench-") as tmp:
        available = sections(quick, Path(tmp), full_memory=args.full_memory)
        chosen = list(available) if not args.only else args.only.split(",")
        unknown = [name for name in chosen if name not in available]
        if unknown:
            parser.error(f"unknown section {unknown[0]!r}; sections: {', '.join(available)}")
        for name in chosen:
            print(f"{name} ...", file=sys.stderr, flush=True)
            section_start = time.perf_counter()
            try:
                available[name](table)
            except MissingAlternative as e:
                if not quick:
                    raise
                table.add(name, "n/a", note=str(e))
            timings[name] = round(time.perf_counter() - section_start, 1)
            print(f"{name}: {timings[name]:.0f} s", file=sys.stderr, flush=True)
    wall = time.perf_counter() - started
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = time.process_time() + children.ru_utime + children.ru_stime
    header = (
        f"perftrack {info['perftrack']} ({info['commit']}), {info['date']}, {info['cpu']}, "
        f"{info['cores']} cores, Python {info['python']}, {info['platform']}; "
        f"load average before the run {info['load_before']}; {wall:.0f} s in all, "
        f"{cpu:.0f} s of CPU"
        f"{' (quick)' if quick else ''}"
    )
    markdown = f"{header}\n\n{table.markdown()}\n"
    print(markdown)
    RESULTS.mkdir(exist_ok=True)
    name = "quick" if quick else "partial" if args.only else "latest"
    (RESULTS / f"{name}.json").write_text(
        json.dumps(
            {
                "machine": info,
                "quick": quick,
                "seconds": wall,
                "cpu_seconds": cpu,
                "sections": timings,
                "rows": table.rows,
            },
            indent=2,
            default=str,
        )
    )
    (RESULTS / f"{name}.md").write_text(markdown)
    if args.docs:
        write_docs(markdown)
    failed = [r["figure"] for r in table.rows if r["result"] == "FAIL"]
    if failed:
        print(f"{len(failed)} figures miss their target: {'; '.join(failed)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
