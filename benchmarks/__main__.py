"""
perftrack's benchmark suite: every speed and memory target, and the alternatives, in one run.

    python -m benchmarks            # the full suite (make bench)
    python -m benchmarks --quick    # tiny sizes: a smoke run for the test suite

Prints one Markdown table (figure, target, measured, note) and writes
benchmarks/results/latest.json with the machine's details. Timings are medians over several
runs after a warm-up; nothing here tunes the code to the benchmark.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import platform
import random
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
from perftrack.stores import LocalStore

T0 = datetime(2021, 1, 4, 14, 0, tzinfo=UTC)
RESULTS = Path(__file__).parent / "results"


class Table:
    """
    The rows of the report.
    """

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(self, figure: str, measured: str, target: str = "", note: str = "", **raw: Any) -> None:
        self.rows.append(
            {"figure": figure, "target": target, "measured": measured, "note": note, **raw}
        )
        print(f"  {figure}: {measured} {note}", file=sys.stderr, flush=True)

    def markdown(self) -> str:
        out = ["| figure | target | measured | note |", "|---|---|---|---|"]
        out += [
            f"| {r['figure']} | {r['target']} | {r['measured']} | {r['note']} |" for r in self.rows
        ]
        return "\n".join(out)


def timed(call: Callable[[], object], repeat: int = 7, warmup: int = 2) -> float:
    """
    Median seconds of one call, after a warm-up.
    """
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def trade_args(n: int, *, strategies: int = 10, per_day: int = 400) -> dict[str, Any]:
    """
    The n-th trade of the synthetic history: ~per_day trades a day, 10 strategies, 20 symbols,
    long and short, two tags, prices in cents, a stop on every trade.
    """
    rng = random.Random(n)
    entry = Decimal(rng.randint(5000, 20000)) / 100
    move = Decimal(rng.randint(-300, 330)) / 100
    long = n % 3 != 0
    when = T0 + timedelta(seconds=n * 86400 // per_day)
    return {
        "symbol": f"S{n % 20}",
        "side": "long" if long else "short",
        "quantity": 10,
        "entry_price": str(entry),
        "exit_price": str(entry + move),
        "entry_time": when - timedelta(minutes=5),
        "exit_time": when,
        "fees": "1.00",
        "strategy": f"strat{n % strategies}",
        "stop_price": str(entry - 2 if long else entry + 2),
        "tags": ("gap", "volume"),
    }


def build(n: int, **tracker_options: Any) -> tuple[pt.Tracker, float]:
    tracker = pt.Tracker("1000000", timezone="America/New_York", **tracker_options)
    start = time.perf_counter()
    for i in range(n):
        tracker.record_trade(**trade_args(i))
    return tracker, time.perf_counter() - start


# -- figures ---------------------------------------------------------------------------------


def bench_record_trade(table: Table, n: int) -> None:
    tracker = pt.Tracker("1000000", timezone="America/New_York")
    args = [trade_args(i, strategies=1) for i in range(n)]
    samples = []
    gc.collect()
    start = time.perf_counter()
    for a in args:
        t0 = time.perf_counter_ns()
        tracker.record_trade(**a)
        samples.append(time.perf_counter_ns() - t0)
    total = time.perf_counter() - start
    samples.sort()
    median = samples[len(samples) // 2] / 1000
    p99 = samples[int(len(samples) * 0.99)] / 1000
    table.add(
        "record_trade median",
        f"{median:.1f} µs",
        "<= 10 µs",
        "one strategy, two tags, no listeners, no store",
        value=median,
    )
    table.add(
        "record_trade p99",
        f"{p99:.1f} µs",
        "",
        "includes the batched folding of per-key queues (every 256 events)",
        value=p99,
    )
    table.add(
        "record_trade throughput",
        f"{n / total:,.0f} trades/s",
        "",
        f"amortised {total / n * 1e6:.1f} µs per trade, folding included",
        value=n / total,
    )


def bench_events(table: Table, n: int) -> None:
    tracker = pt.Tracker("1000000")
    counter = iter(range(10**9))

    def open_close() -> None:
        k = next(counter)
        when = T0 + timedelta(seconds=k)
        tracker.open_trade(f"o{k}", symbol="X", side="long", quantity=10, price="100", time=when)
        tracker.close_trade(f"o{k}", price="101", time=when)

    per = timed(lambda: [open_close() for _ in range(n)]) / n * 1e6
    table.add("open_trade + close_trade", f"{per:.1f} µs", "", value=per)
    tracker.open_trade("big", symbol="Y", side="long", quantity=10**9, price="100", time=T0)

    def partial() -> None:
        k = next(counter)
        tracker.close_trade("big", price="101", time=T0 + timedelta(seconds=k), quantity=1)

    per = timed(lambda: [partial() for _ in range(n)]) / n * 1e6
    table.add("close_trade (partial)", f"{per:.1f} µs", "", value=per)
    for open_count in (1, 10, 100):
        t = pt.Tracker("1000000")
        for k in range(open_count):
            t.open_trade(f"m{k}", symbol="Z", side="long", quantity=1, price="100", time=T0)
        ticks = iter(range(10**9))

        def mark(t: pt.Tracker = t, ticks: Any = ticks) -> None:
            k = next(ticks)
            t.mark_price("Z", "100.5" if k % 2 else "99.5", T0 + timedelta(seconds=k))

        per = timed(lambda mark=mark: [mark() for _ in range(n)]) / n * 1e6
        table.add(f"mark_price, {open_count} open on the symbol", f"{per:.1f} µs", "", value=per)


def bench_queries(table: Table, sizes: list[int], memory_sizes: list[int]) -> None:
    figures: dict[str, dict[int, float]] = {}
    for n in sizes:
        measure_memory = n in memory_sizes
        gc.collect()
        if measure_memory:
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
        tracker, seconds = build(n)
        tracker.summary()  # fold every queue, so memory counts what stays
        if measure_memory:
            used = tracemalloc.get_traced_memory()[0] - before
            tracemalloc.stop()
            table.add(
                f"memory per retained closed trade, {n:,}",
                f"{used / n:,.0f} B",
                "<= 1 KB",
                f"tracemalloc; {n / seconds:,.0f} trades/s while tracing",
                value=used / n,
            )
        at = tracker.clock
        end = at.date()
        queries = {
            "summary day": lambda t=tracker, at=at, end=end: t.summary("day", at=at),
            "summary week": lambda t=tracker, at=at, end=end: t.summary("week", at=at),
            "summary month": lambda t=tracker, at=at, end=end: t.summary("month", at=at),
            "summary all": lambda t=tracker, at=at, end=end: t.summary(),
            "summary 90-day range": lambda t=tracker, at=at, end=end: t.summary(
                start=end - timedelta(days=89), end=end
            ),
            "breakdown by strategy (10)": lambda t=tracker, at=at, end=end: t.breakdown("strategy"),
            "rolling(20)": lambda t=tracker, at=at, end=end: t.rolling(20),
        }
        for name, query in queries.items():
            per = timed(lambda q=query: [q() for _ in range(20)]) / 20 * 1e6
            figures.setdefault(name, {})[n] = per
            target = "<= 1 ms at 1M" if name.startswith("summary") and "range" not in name else ""
            table.add(f"{name}, {n:,} trades", f"{per:,.0f} µs", target, value=per)
        del tracker
        gc.collect()
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        for name, by_size in figures.items():
            ratio = by_size[large] / by_size[small]
            table.add(
                f"{name}: {large:,} / {small:,}",
                f"{ratio:.2f}x",
                "near 1",
                "does the cost grow with history?",
                value=ratio,
            )


def bench_persistence(table: Table, n: int, snapshot_n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for durability in ("batch", "sync"):
            store = LocalStore(Path(tmp) / durability)
            tracker = pt.Tracker(
                "1000000", store=store, durability=durability, snapshot_every=10**9
            )
            args = [trade_args(i, strategies=1) for i in range(n)]
            samples = []
            for a in args:
                t0 = time.perf_counter_ns()
                tracker.record_trade(**a)
                samples.append(time.perf_counter_ns() - t0)
            tracker.close()
            median = statistics.median(samples) / 1000
            target = "+20 µs over no store" if durability == "batch" else ""
            table.add(
                f"record_trade, LocalStore, durability={durability}",
                f"{median:.1f} µs",
                target,
                "median",
                value=median,
            )
        store = LocalStore(Path(tmp) / "snap")
        tracker, _ = build(snapshot_n, store=store, durability="batch", snapshot_every=10**9)
        seconds = timed(tracker.save_snapshot, repeat=3, warmup=0)
        table.add(
            f"snapshot save, {snapshot_n:,} trades", f"{seconds:.2f} s", "<= 1 s", value=seconds
        )
        tracker.close()

        def restore() -> None:
            pt.Tracker.restore(store).close()

        seconds = timed(restore, repeat=3, warmup=0)
        table.add(
            f"restore from snapshot, {snapshot_n:,} trades",
            f"{seconds:.2f} s",
            "<= 1 s",
            "buckets fold lazily on first read",
            value=seconds,
        )
        first = pt.Tracker.restore(store)
        start = time.perf_counter()
        first.summary()
        first.breakdown("strategy")
        table.add(
            "first all-time summary + breakdown after restore",
            f"{time.perf_counter() - start:.2f} s",
            "",
            "the deferred folding",
        )
        first.close()
        # Journal replay: a store with only a journal.
        store = LocalStore(Path(tmp) / "replay")
        tracker, _ = build(
            snapshot_n // 4,
            store=store,
            durability="batch",
            snapshot_every=10**9,
            snapshot_interval=None,
        )
        tracker.close()
        start = time.perf_counter()
        pt.Tracker.restore(store).close()
        seconds = time.perf_counter() - start
        rate = snapshot_n // 4 / seconds
        table.add("journal replay", f"{rate:,.0f} events/s", ">= 100,000 events/s", value=rate)


def bench_alerts(table: Table, n: int) -> None:
    targets = pt.Targets(
        min_win_rate=0.3,
        min_risk_reward=0.5,
        max_drawdown_pct=0.5,
        max_drawdown="500000",
        max_daily_loss="500000",
        max_loss_streak=50,
    )
    result = []
    for options in ({}, {"targets": targets}):
        tracker = pt.Tracker("1000000", **options)
        samples = []
        for i in range(n):
            a = trade_args(i, strategies=1)
            t0 = time.perf_counter_ns()
            tracker.record_trade(**a)
            samples.append(time.perf_counter_ns() - t0)
        result.append(statistics.median(samples) / 1000)
    added = result[1] - result[0]
    table.add(
        "alert rules (six built-in), added per closed trade",
        f"{added:.1f} µs",
        "<= 5 µs",
        f"{result[1]:.1f} µs with rules vs {result[0]:.1f} µs without",
        value=added,
    )


def bench_floor(table: Table, n: int) -> None:
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
        "what CPython does at the least",
        value=per,
    )


# -- against the alternatives ----------------------------------------------------------------


def bench_dashboard(table: Table, counts: list[int]) -> None:
    try:
        import empyrical  # noqa: F401
        import pandas as pd
    except ImportError:
        table.add(
            "dashboard refresh vs pandas + empyrical",
            "n/a",
            note="pandas / empyrical-reloaded not installed (make bench installs them)",
        )
        return
    import empyrical as ep

    for count in counts:
        trades = [trade_args(i, per_day=8) for i in range(count)]
        # perftrack: incremental; after each close, ask for the five figures.
        tracker = pt.Tracker("1000000", timezone="UTC")
        start = time.perf_counter()
        for a in trades:
            tracker.record_trade(**a)
            s = tracker.summary()
            _ = (s.net_pnl, s.win_rate, s.max_drawdown_pct, s.sharpe, s.sortino)
        ours = time.perf_counter() - start
        final = tracker.summary()
        # The usual way: rebuild the series and recompute on every refresh.
        rows: list[tuple[datetime, float]] = []
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
        theirs = time.perf_counter() - start
        assert abs(float(final.net_pnl) - net) < 1e-6 * max(1, abs(net))
        assert abs(final.win_rate - win_rate) < 1e-12
        if final.sharpe is not None:
            assert abs(final.sharpe - sharpe) < 1e-6 * max(1, abs(sharpe))
        if final.sortino is not None:
            assert abs(final.sortino - sortino) < 1e-6 * max(1, abs(sortino))
        assert abs(final.max_drawdown_pct - max_dd) < 1e-9
        table.add(
            f"dashboard refresh after each of {count:,} trades",
            f"perftrack {ours:.2f} s, pandas+empyrical {theirs:.2f} s",
            ">= 100x at 10,000",
            f"ratio {theirs / ours:,.0f}x",
            value=theirs / ours,
        )


def bench_batch(table: Table, n: int) -> None:
    try:
        import pandas as pd
    except ImportError:
        table.add("batch summaries vs pandas groupby", "n/a", note="pandas not installed")
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "trades.jsonl"
        with path.open("w") as f:
            for i in range(n):
                a = trade_args(i)
                a["entry_time"] = a["entry_time"].isoformat()
                a["exit_time"] = a["exit_time"].isoformat()
                f.write(json.dumps(a) + "\n")
        start = time.perf_counter()
        tracker = pt.Tracker("1000000", timezone="UTC")
        with path.open() as f:
            for line in f:
                tracker.record_trade(**json.loads(line))
        overall = tracker.summary()
        months = tracker.periods("month")
        ours = time.perf_counter() - start
        start = time.perf_counter()
        frame = pd.read_json(path, lines=True)
        sign = frame["side"].map({"long": 1, "short": -1})
        frame["net"] = (
            (frame["exit_price"] - frame["entry_price"]) * frame["quantity"] * sign - frame["fees"]
        ).round(8)
        frame["month"] = pd.to_datetime(frame["exit_time"], utc=True).dt.strftime("%Y-%m")

        def stats(g: Any) -> Any:
            wins = g["net"][g["net"] > 0]
            losses = g["net"][g["net"] < 0]
            return pd.Series(
                {
                    "trades": len(g),
                    "net": g["net"].sum(),
                    "win_rate": len(wins) / len(g),
                    "profit_factor": wins.sum() / -losses.sum() if len(losses) else None,
                }
            )

        by_month = frame.groupby("month")[["net"]].apply(stats)
        total = stats(frame)
        theirs = time.perf_counter() - start
        assert int(total["trades"]) == overall.trades
        assert abs(float(overall.net_pnl) - total["net"]) < 1e-6 * abs(total["net"]) + 1e-6
        assert len(by_month) == len([m for m in months if m.trades])
        table.add(
            f"batch: all-time + monthly from a {n:,}-line JSONL",
            f"perftrack {ours:.1f} s, pandas {theirs:.1f} s",
            "",
            f"pandas is {ours / theirs:.1f}x faster: a columnar batch job against an "
            "event-at-a-time exact-Decimal engine"
            if theirs < ours
            else f"perftrack is {theirs / ours:.1f}x faster",
            value=theirs / ours,
        )


def bench_cli(table: Table, sizes: list[int]) -> None:
    """
    The whole process of ``perftrack summary --window weekly``, Python start-up included, on a
    store holding ``n`` trades (a snapshot and a short journal, as a running bot leaves it).
    """
    targets = {1_000: "<= 300 ms", 1_000_000: "<= 3 s"}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            data = Path(tmp) / f"store-{n}"
            tracker, _ = build(
                n,
                store=LocalStore(data),
                durability="batch",
                snapshot_every=10**9,
                snapshot_interval=None,
            )
            tracker.save_snapshot()
            tracker.close()
            command = [
                sys.executable,
                "-m",
                "perftrack",
                "summary",
                "--window",
                "weekly",
                "--data",
                str(data),
            ]

            def run(command: list[str] = command) -> None:
                subprocess.run(command, check=True, capture_output=True)

            seconds = timed(run, repeat=3 if n <= 100_000 else 1, warmup=1 if n <= 100_000 else 0)
            table.add(
                f"perftrack summary --window weekly, whole process, {n:,} trades",
                f"{seconds * 1000:,.0f} ms",
                targets.get(n, ""),
                "restore (read-only) + one summary",
                value=seconds,
            )


def machine() -> dict[str, Any]:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "perftrack": pt.__version__,
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    args = parser.parse_args(argv)
    quick = args.quick
    # An application may configure logging (the library never does): the alert rules fire
    # often on synthetic data, and printing them would be what the benchmark measures.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    table = Table()
    started = time.perf_counter()
    bench_record_trade(table, 2_000 if quick else 200_000)
    bench_events(table, 200 if quick else 5_000)
    sizes = [1_000, 3_000] if quick else [10_000, 100_000, 1_000_000]
    bench_queries(table, sizes, memory_sizes=[3_000] if quick else [100_000, 1_000_000])
    bench_persistence(table, 200 if quick else 20_000, 2_000 if quick else 100_000)
    bench_alerts(table, 1_000 if quick else 50_000)
    bench_floor(table, 10_000 if quick else 200_000)
    bench_dashboard(table, [100, 300] if quick else [1_000, 3_000, 10_000])
    bench_batch(table, 5_000 if quick else 1_000_000)
    bench_cli(table, [200] if quick else [1_000, 1_000_000])
    info = machine()
    print(
        f"perftrack benchmarks, {info['date']}, {info['cpu']}, {info['cores']} cores, "
        f"Python {info['python']}{' (quick)' if quick else ''}\n"
    )
    print(table.markdown())
    print(f"\n{time.perf_counter() - started:.0f} s in all")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / ("quick.json" if quick else "latest.json")).write_text(
        json.dumps({"machine": info, "quick": quick, "rows": table.rows}, indent=2, default=str)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
