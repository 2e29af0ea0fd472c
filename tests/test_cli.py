"""
The perftrack command: exit codes, idempotent backfill, schemas of every JSON it writes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest

import perftrack as pt
from perftrack.cli import main
from perftrack.stores import LocalStore
from tests.observe import T0

ROOT = Path(__file__).parent.parent
SUMMARY_SCHEMA = json.loads((ROOT / "perftrack/schemas/summary.schema.json").read_text())
EXTERNAL = ROOT.parent / "shared" / "data" / "external"


@pytest.fixture(name="data")
def _data(tmp_path) -> Path:
    """
    A store with two weeks of trades, one of them a losing streak.
    """
    path = tmp_path / "data"
    with pt.Tracker("10000", store=LocalStore(path), timezone="Europe/London") as tracker:
        for n in range(40):
            when = T0 + timedelta(hours=8 * n)
            tracker.record_trade(
                "X" if n % 2 else "Y",
                "long",
                10,
                "100",
                "101" if n % 3 else "98",
                when,
                when,
                fees="1",
                strategy="a" if n % 4 else "b",
                tags=("t",),
            )
    return path


def run(*args: str) -> int:
    return main(list(args))


class TestSummary:
    """summary prints, exports and signals breaches through its exit code."""

    def test_formats(self, data, capsys):
        assert 0 == run("summary", "--data", str(data), "--window", "weekly")
        assert "win%" in capsys.readouterr().out
        assert 0 == run("summary", "--data", str(data), "--format", "json")
        doc = json.loads(capsys.readouterr().out)
        jsonschema.validate(doc, SUMMARY_SCHEMA)
        assert 40 == doc["summary"]["trades"]
        assert 0 == run("summary", "--data", str(data), "--format", "markdown", "--by", "strategy")
        out = capsys.readouterr().out
        assert out.count("## Overview") == 2 and "## Metrics" in out and "## Alerts" in out

    def test_empty_window_markdown(self, data, capsys):
        assert 0 == run(
            "summary",
            "--data",
            str(data),
            "--window",
            "all",
            "--start",
            "2030-01-01",
            "--format",
            "markdown",
        )
        assert "No trades in window" in capsys.readouterr().out

    def test_targets_breached_exit_2(self, data, tmp_path, capsys):
        targets = tmp_path / "t.toml"
        targets.write_text("[targets]\nmin_win_rate = 0.9\n")
        assert 2 == run("summary", "--data", str(data), "--targets", str(targets))
        assert "BREACHED" in capsys.readouterr().out
        targets.write_text("[targets]\nmin_win_rate = 0.1\n")
        assert 0 == run("summary", "--data", str(data), "--targets", str(targets))

    def test_error_is_one_line_exit_1(self, data):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "perftrack",
                "summary",
                "--data",
                str(data),
                "--start",
                "yesterday",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert 1 == done.returncode
        assert 1 == len(done.stderr.strip().splitlines())
        assert "--start" in done.stderr

    def test_export(self, data, tmp_path):
        out = tmp_path / "out"
        assert 0 == run("summary", "--data", str(data), "--window", "monthly", "--export", str(out))
        files = sorted(p.name for p in out.iterdir())
        assert len(files) == 2 and files[0].endswith(".json")
        jsonschema.validate(json.loads((out / files[0]).read_text()), SUMMARY_SCHEMA)

    def test_reads_while_a_bot_holds_the_account(self, data, capsys):
        with pt.Tracker.restore(LocalStore(data)):
            assert 0 == run("summary", "--data", str(data))
        assert "40" in capsys.readouterr().out


class TestBackfill:
    """backfill writes daily, weekly and monthly files once, atomically, inside performance/."""

    def test_idempotent_and_valid(self, data, capsys):
        assert 0 == run("backfill", "3", "--data", str(data))
        perf = data / "performance"
        files = sorted(perf.iterdir())
        names = [p.name for p in files]
        assert sum(n.startswith("daily-summary-") for n in names) == 6  # 3 days x (json, md)
        assert any(n.startswith("weekly-summary-") for n in names)
        assert any(n.startswith("monthly-summary-") for n in names)
        for path in files:
            if path.suffix == ".json":
                jsonschema.validate(json.loads(path.read_text()), SUMMARY_SCHEMA)
        before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in files}
        assert 0 == run("summary", "--backfill", "3", "--data", str(data))
        assert "0 files written" in capsys.readouterr().out.splitlines()[-1]
        after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in perf.iterdir()}
        assert before == after

    def test_nothing_leaves_performance(self, data):
        assert 0 == run("backfill", "2", "--data", str(data), "--account", "main")
        written = {p.relative_to(data).parts[0] for p in data.rglob("*") if p.is_file()}
        assert {"main", "performance"} == written


class TestOtherCommands:
    """alerts, verify, import and demo; --help everywhere."""

    @pytest.mark.parametrize(
        "command", ["summary", "backfill", "alerts", "verify", "demo", "import"]
    )
    def test_help(self, command, capsys):
        with pytest.raises(SystemExit) as done:
            run(command, "--help")
        assert 0 == done.value.code
        assert "--data" in capsys.readouterr().out

    def test_verify(self, data, capsys):
        assert 0 == run("verify", "--data", str(data))
        segment = next((data / "main" / "journal").iterdir())
        segment.write_bytes(segment.read_bytes() + b"00000000 {}\n")
        assert 1 == run("verify", "--data", str(data))
        assert "checksum" in capsys.readouterr().out

    def test_alerts_list_and_ack(self, tmp_path, capsys):
        data = tmp_path / "d"
        targets = tmp_path / "t.toml"
        targets.write_text("[targets]\nmax_loss_streak = 1\n")
        with pt.Tracker(
            "1000", store=LocalStore(data), targets=pt.Targets.from_toml(targets)
        ) as tracker:
            for n in range(3):
                tracker.record_trade(
                    "X", "long", 1, "10", "9", T0 + timedelta(hours=n), T0 + timedelta(hours=n)
                )
        assert 2 == run("alerts", "--active", "--data", str(data), "--targets", str(targets))
        assert "max_loss_streak" in capsys.readouterr().out
        assert 0 == run(
            "alerts",
            "--ack",
            "alert-1",
            "--by",
            "ops",
            "--data",
            str(data),
            "--targets",
            str(targets),
        )
        assert 2 == run("alerts", "--data", str(data), "--targets", str(targets))
        assert "acknowledged by ops" in capsys.readouterr().out

    @pytest.mark.skipif(not EXTERNAL.is_dir(), reason="../shared/data/external is absent")
    def test_import_freqtrade_then_summary(self, tmp_path, capsys):
        data = str(tmp_path / "d")
        assert 0 == run(
            "import", "freqtrade", str(EXTERNAL / "backtest-result.json"), "--data", data
        )
        assert 0 == run(
            "import", "freqtrade", str(EXTERNAL / "backtest-result.json"), "--data", data
        )  # again: nothing counted twice
        assert "0 trades imported" in capsys.readouterr().out.splitlines()[-1]
        assert 0 == run("summary", "--data", data, "--format", "json")
        assert 179 == json.loads(capsys.readouterr().out)["summary"]["trades"]

    def test_demo_writes_store_and_reports(self, tmp_path, capsys):
        data = tmp_path / "demo"
        assert 0 == run("demo", "--data", str(data), "--days", "10")
        out = capsys.readouterr().out
        assert "By strategy" in out and "files written" in out
        assert any((data / "performance").glob("daily-summary-*.json"))
        env = {**os.environ, "PERFTRACK_DATA": str(data)}
        done = subprocess.run(
            [sys.executable, "-m", "perftrack", "summary"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert 0 == done.returncode, done.stderr
