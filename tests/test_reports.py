"""
Reports: the HTML report renders in a real browser with every chart drawn; exports keep every
field exact and import back to the same trades and summaries.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

import perftrack as pt
from perftrack import _demo, importers, reports
from tests.observe import T0

ROOT = Path(__file__).parent.parent


@pytest.fixture(name="demo", scope="module")
def _demo_tracker() -> pt.Tracker:
    return _demo.run_demo(days=60)


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("chromium is missing: make test installs it (scripts/install-test-tools.sh)")
    return path


class TestHtml:
    """One self-contained file, every section and chart present."""

    def test_contents(self, demo):
        page = reports.html(demo, title="Demo", targets=pt.Targets(min_win_rate=0.6))
        for text in (
            "Net P&amp;L",
            "Win rate",
            "Payoff ratio",
            "Profit factor",
            "Expectancy",
            "Max drawdown",
            "Sharpe",
            "Sortino",
            "SQN",
            "By strategy",
            "By symbol",
            "By tag",
            "Months",
            "Weeks",
            "Days",
            "Alerts",
            "Best trades",
            "Worst trades",
            "America/New_York",
            "breached",
        ):
            assert text in page, text
        assert 7 == page.count("<svg")
        assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
        assert "https://" not in page
        assert "<script" not in page

    def test_daily_bars_on_their_own_day(self):
        tracker = pt.Tracker("1000", timezone="America/New_York")
        tracker.record_trade("X", "long", 1, "10", "15", T0, T0)  # a Monday, 09:00 New York
        page = reports.html(tracker)
        assert "<td>2025-03-03</td>" in page and "<td>2025-03-04</td>" not in page
        daily = page[page.index("Daily net P&amp;L") : page.index("Monthly returns")]
        assert "2025-03-04" not in daily and "Mar 4" not in daily

    def test_size_and_time_at_100k_trades(self):
        tracker = pt.Tracker("1000000")
        for n in range(100_000):
            when = T0 + timedelta(minutes=5 * n)
            tracker.record_trade(
                f"S{n % 7}",
                "long",
                1,
                "100",
                "101" if n % 3 else "99",
                when,
                when,
                strategy=f"s{n % 4}",
                stop_price="98",
            )
        start = time.perf_counter()
        page = reports.html(tracker)
        seconds = time.perf_counter() - start
        assert len(page.encode()) <= 2 * 1024 * 1024
        # Not a timing test (the benchmarks measure it): a guard against a quadratic blow-up.
        assert seconds < 20

    def test_renders_in_chromium(self, demo, tmp_path):
        page = tmp_path / "report.html"
        page.write_text(reports.html(demo, title="Demo"))
        profile = tmp_path / "profile"
        common = [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
        ]
        shot = tmp_path / "shot.png"
        done = subprocess.run(
            [*common, "--window-size=1200,3000", f"--screenshot={shot}", page.as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert shot.exists() and shot.stat().st_size > 20_000, done.stderr[-2000:]
        console = [line for line in done.stderr.splitlines() if "CONSOLE" in line]
        assert [] == console
        dom = subprocess.run(
            [*common, "--dump-dom", page.as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        ).stdout
        drawn = re.findall(r'data-points="(\d+)"', dom)
        assert len(drawn) >= 7
        assert all(int(n) > 0 for n in drawn), drawn


class TestExports:
    """Every field, exact, and back again."""

    def _tracker(self) -> pt.Tracker:
        tracker = pt.Tracker("10000", timezone="Europe/Paris")
        for n in range(30):
            when = T0 + timedelta(hours=7 * n)
            tracker.record_trade(
                "X" if n % 2 else "Y",
                "short" if n % 3 else "long",
                "1.5",
                "100.10",
                "100.37" if n % 4 else "99.99",
                when - timedelta(hours=1),
                when,
                fees="0.07",
                strategy=f"s{n % 3}",
                stop_price=None,
                tags=("a", "b") if n % 2 else (),
                trade_id=f"t{n}",
            )
        return tracker

    def test_csv_exact(self):
        tracker = self._tracker()
        data = reports.export(tracker, "trades", "csv").decode()
        rows = list(csv.DictReader(io.StringIO(data)))
        first = tracker.trades()[0]
        assert str(first.net_pnl) == rows[0]["net_pnl"]
        assert first.exit_time.isoformat() == rows[0]["exit_time"]

    @pytest.mark.parametrize("fmt", ["jsonl", "csv"])
    def test_round_trip(self, fmt, tmp_path):
        tracker = self._tracker()
        path = tmp_path / f"trades.{fmt}"
        reports.export(tracker, "trades", fmt, path)
        result = importers.read_jsonl([path]) if fmt == "jsonl" else importers.read_csv(path)
        again = pt.Tracker("10000", timezone="Europe/Paris")
        importers.load_into(again, result)
        assert [t.to_dict() for t in tracker.trades()] == [t.to_dict() for t in again.trades()]
        assert tracker.summary().to_dict() == again.summary().to_dict()
        assert [s.to_dict() for s in tracker.periods("day")] == [
            s.to_dict() for s in again.periods("day")
        ]

    def test_xlsx_typed_cells(self, tmp_path):
        import openpyxl

        path = tmp_path / "t.xlsx"
        reports.export(self._tracker(), "trades", "xlsx", path)
        sheet = openpyxl.load_workbook(path).active
        header = [c.value for c in sheet[1]]
        row = [c.value for c in sheet[2]]
        assert isinstance(row[header.index("net_pnl")], float)
        assert row[header.index("exit_time")].year == 2025

    def test_summaries_json(self):
        data = json.loads(reports.export(self._tracker(), "summaries", "json", period="week"))
        assert {"period", "net_pnl", "win_rate"} <= set(data[0])

    def test_daily_returns_for_pandas(self):
        pd = pytest.importorskip("pandas")
        tracker = self._tracker()
        series = reports.to_pandas(tracker)
        assert isinstance(series.index, pd.DatetimeIndex)
        assert len(series) == len(tracker.daily_returns())
        text = reports.daily_returns_csv(tracker)
        read = pd.read_csv(io.StringIO(text), index_col=0, parse_dates=True).squeeze()
        assert list(read.round(12)) == list(series.round(12))
        assert Decimal(0) != tracker.summary().net_pnl
