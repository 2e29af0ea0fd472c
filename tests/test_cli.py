"""
The perftrack command: exit codes, idempotent backfill, schemas of every JSON it writes.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import jsonschema
import pytest

import perftrack as pt
from perftrack.cli import _parser, main
from perftrack.importers._files import TRADE_FIELDS
from perftrack.stores import LocalStore, S3Store
from tests.observe import T0
from tests.s3server import CREDENTIALS, _s3_bucket, _s3_endpoint  # noqa: F401 (fixtures)

ROOT = Path(__file__).parent.parent
SUMMARY_SCHEMA = json.loads((ROOT / "perftrack/schemas/summary.schema.json").read_text())
ALERT_SCHEMA = json.loads((ROOT / "perftrack/schemas/alert-event.schema.json").read_text())
EXTERNAL = ROOT.parent / "shared" / "data" / "external"
COMMANDS = sorted(_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]

# jsonschema checks "date-time" only with an optional package: check it here, with an offset.
FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None


def valid_summary(doc: dict) -> dict:
    """
    ``doc`` checked against the summary schema (times included); returns it.
    """
    jsonschema.validate(doc, SUMMARY_SCHEMA, format_checker=FORMATS)
    return doc


def validate_written(root: Path) -> int:
    """
    Check every JSON document the command left under ``root``: summaries and alert journal
    lines. Returns how many were checked.
    """
    checked = 0
    for path in sorted(root.rglob("*.json")):
        valid_summary(json.loads(path.read_text()))
        checked += 1
    for path in sorted(root.rglob("performance-alerts.jsonl")):
        for line in path.read_text().splitlines():
            jsonschema.validate(json.loads(line), ALERT_SCHEMA, format_checker=FORMATS)
            checked += 1
    return checked


def perftrack(*args: str, env: dict | None = None, cwd: Path | None = None):
    """
    The command in its own process, as an operator runs it.
    """
    return subprocess.run(
        [sys.executable, "-m", "perftrack", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=cwd,
        timeout=120,
    )


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


@pytest.fixture(name="alerting")
def _alerting(tmp_path) -> tuple[Path, Path]:
    """
    A store whose account breached its loss-streak target, and that targets file.
    """
    data = tmp_path / "alerting"
    targets = tmp_path / "streak.toml"
    targets.write_text("[targets]\nmax_loss_streak = 1\n")
    with pt.Tracker(
        "1000", store=LocalStore(data), targets=pt.Targets.from_toml(targets)
    ) as tracker:
        for n in range(3):
            when = T0 + timedelta(hours=n)
            tracker.record_trade("X", "long", 1, "10", "9", when, when)
    return data, targets


def run(*args: str) -> int:
    return main(list(args))


class TestSummary:
    """summary prints, exports and signals breaches through its exit code."""

    def test_formats(self, data, capsys):
        assert 0 == run("summary", "--data", str(data), "--window", "weekly")
        assert "win%" in capsys.readouterr().out
        assert 0 == run("summary", "--data", str(data), "--format", "json")
        doc = valid_summary(json.loads(capsys.readouterr().out))
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
        assert 1 == validate_written(out)

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
        assert len(names) // 2 == validate_written(data)
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

    def test_verify(self, data, capsys):
        assert 0 == run("verify", "--data", str(data))
        segment = next((data / "main" / "journal").iterdir())
        segment.write_bytes(segment.read_bytes() + b"00000000 {}\n")
        assert 1 == run("verify", "--data", str(data))
        assert "checksum" in capsys.readouterr().out

    def test_alerts_list_and_ack(self, alerting, capsys):
        data, targets = alerting
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
        assert 2 <= validate_written(data)  # raised and acknowledged, each a valid event

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


class TestCommandLine:
    """The command's surface: entry points, common options anywhere, errors on one line."""

    @pytest.mark.parametrize("command", COMMANDS)
    def test_help_on_every_command(self, command, capsys):
        with pytest.raises(SystemExit) as done:
            run(command, "--help")
        assert 0 == done.value.code
        out = capsys.readouterr().out
        assert "--data" in out and "--account" in out and "--debug" in out

    def test_console_script_and_module(self, data):
        script = Path(sys.executable).with_name("perftrack")
        assert script.exists(), "the perftrack console script is not installed"
        by_script = subprocess.run(
            [str(script), "summary", "--data", str(data), "--format", "json"],
            capture_output=True,
            text=True,
            check=False,
        )
        by_module = perftrack("summary", "--data", str(data), "--format", "json")
        assert (0, 0) == (by_script.returncode, by_module.returncode)
        assert by_script.stdout == by_module.stdout
        assert 40 == json.loads(by_module.stdout)["summary"]["trades"]

    def test_common_options_before_or_after_the_command(self, data, capsys):
        assert 0 == run("--data", str(data), "summary", "--format", "json")
        before = json.loads(capsys.readouterr().out)
        assert 0 == run("summary", "--format", "json", "--data", str(data))
        assert before == json.loads(capsys.readouterr().out)
        assert 40 == before["summary"]["trades"]

    def test_default_directory_and_environment(self, data, tmp_path):
        env = {k: v for k, v in os.environ.items() if k != "PERFTRACK_DATA"}
        (tmp_path / "perftrack-data").symlink_to(data)
        done = perftrack("summary", "--format", "json", env=env, cwd=tmp_path)
        assert 0 == done.returncode, done.stderr
        assert 40 == json.loads(done.stdout)["summary"]["trades"]
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        done = perftrack(
            "summary", "--format", "json", env={**env, "PERFTRACK_DATA": str(data)}, cwd=elsewhere
        )
        assert 0 == done.returncode, done.stderr
        assert 40 == json.loads(done.stdout)["summary"]["trades"]

    def test_account(self, tmp_path, capsys):
        data = tmp_path / "d"
        with pt.Tracker("500", store=LocalStore(data), account="bot-2") as tracker:
            tracker.record_trade("X", "long", 1, "10", "12", T0, T0)
        assert 0 == run("summary", "--data", str(data), "--account", "bot-2", "--format", "json")
        assert "2" == json.loads(capsys.readouterr().out)["summary"]["net_pnl"]
        assert 1 == run("summary", "--data", str(data))  # account main holds nothing
        assert "no account 'main'" in capsys.readouterr().err

    def test_missing_store_is_an_error(self, tmp_path):
        done = perftrack("summary", "--data", str(tmp_path / "typo"))
        assert 1 == done.returncode
        assert [
            f"perftrack summary: no account 'main' in {tmp_path / 'typo'} (nothing stored there)"
        ] == done.stderr.splitlines()
        assert "" == done.stdout

    def test_usage_error_exits_1_not_2(self):
        done = perftrack("summary", "--window", "hourly")
        assert 1 == done.returncode  # 2 means "a target is breached"
        assert 1 == len(done.stderr.splitlines())
        assert "--window" in done.stderr and "Traceback" not in done.stderr

    def test_debug_shows_the_traceback(self, data):
        done = perftrack("summary", "--data", str(data), "--start", "yesterday", "--debug")
        assert 1 == done.returncode
        assert "Traceback (most recent call last)" in done.stderr
        assert "CommandError: --start must be a date" in done.stderr


class TestSummaryWindows:
    """Windows, filters and breakdowns select the right trades."""

    def test_filters(self, data, capsys):
        assert 0 == run("summary", "--data", str(data), "--strategy", "b", "--format", "json")
        assert 10 == json.loads(capsys.readouterr().out)["summary"]["trades"]
        assert 0 == run("summary", "--data", str(data), "--symbol", "X", "--format", "json")
        assert 20 == json.loads(capsys.readouterr().out)["summary"]["trades"]

    def test_by_with_a_filter(self, data, capsys):
        args = ("summary", "--data", str(data), "--format", "json", "--by", "strategy")
        assert 0 == run(*args, "--symbol", "X")
        docs = [valid_summary(d) for d in json.loads(capsys.readouterr().out)["summaries"]]
        # Odd n trade X; strategy "b" takes n % 4 == 0, which is never odd: a row of zeros.
        assert {"a": 20, "b": 0} == {d["window"]: d["summary"]["trades"] for d in docs}

    def test_every_period_in_a_range(self, data, capsys):
        assert 0 == run(
            "summary",
            "--data",
            str(data),
            "--window",
            "daily",
            "--start",
            "2025-03-04",
            "--end",
            "2025-03-06",
            "--format",
            "json",
        )
        docs = json.loads(capsys.readouterr().out)["summaries"]
        assert ["2025-03-04", "2025-03-05", "2025-03-06"] == [d["window"] for d in docs]
        assert [3, 3, 3] == [d["summary"]["trades"] for d in docs]

    def test_alerts_of_the_window_in_every_format(self, alerting, capsys):
        data, targets = alerting
        assert 2 == run(
            "summary", "--data", str(data), "--targets", str(targets), "--format", "json"
        )
        doc = valid_summary(json.loads(capsys.readouterr().out))
        assert ["max_loss_streak"] == [a["rule"] for a in doc["alerts"]]
        assert [True] == [v["breached"] for v in doc["targets"]]
        assert 2 == run(
            "summary", "--data", str(data), "--targets", str(targets), "--format", "markdown"
        )
        out = capsys.readouterr().out
        assert "max_loss_streak" in out.split("## Alerts")[1]
        assert "(breached)" in out.split("## Metrics")[1]


class TestBackfillMore:
    """Backfill into S3, never outside performance/, with a progress bar only on a terminal."""

    def test_s3(self, data, s3_endpoint, s3_bucket, monkeypatch, capsys):
        import boto3

        monkeypatch.setenv("PERFTRACK_S3_ENDPOINT_URL", s3_endpoint)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", CREDENTIALS["aws_access_key_id"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CREDENTIALS["aws_secret_access_key"])
        monkeypatch.setenv("AWS_DEFAULT_REGION", CREDENTIALS["region_name"])
        store = S3Store(s3_bucket, "desk/bots", endpoint_url=s3_endpoint, **CREDENTIALS)
        with (
            pt.Tracker.restore(LocalStore(data)) as local,
            pt.Tracker("10000", store=store, timezone="Europe/London") as remote,
        ):
            for t in local.trades():
                remote.record_trade(**{k: v for k, v in t.to_dict().items() if k in TRADE_FIELDS})
        location = f"s3://{s3_bucket}/desk/bots"
        assert 0 == run("summary", "--data", location, "--format", "json")
        assert 40 == json.loads(capsys.readouterr().out)["summary"]["trades"]
        assert 0 == run("backfill", "3", "--data", location)
        client = boto3.client("s3", endpoint_url=s3_endpoint, **CREDENTIALS)

        def listing() -> dict[str, tuple[str, datetime]]:
            objects = client.list_objects_v2(Bucket=s3_bucket)["Contents"]
            return {o["Key"]: (o["ETag"], o["LastModified"]) for o in objects}

        first = listing()
        written = sorted(k for k in first if "/performance/" in k)
        assert all(k.startswith("desk/bots/performance/") for k in written)
        assert 6 == sum("/daily-summary-" in k for k in written)
        for key in written:
            if key.endswith(".json"):
                body = client.get_object(Bucket=s3_bucket, Key=key)["Body"].read()
                valid_summary(json.loads(body))
        capsys.readouterr()
        assert 0 == run("backfill", "3", "--data", location)
        assert "0 files written" in capsys.readouterr().out
        assert first == listing()

    def test_account_cannot_escape(self, data, capsys):
        assert 1 == run("backfill", "2", "--data", str(data), "--account", "../escape")
        assert "invalid object key" in capsys.readouterr().err
        assert not (data.parent / "escape").exists()
        assert {"main"} == {p.name for p in data.iterdir()}

    def test_other_account_writes_under_its_name(self, tmp_path):
        data = tmp_path / "d"
        with pt.Tracker("500", store=LocalStore(data), account="bot-2") as tracker:
            tracker.record_trade("X", "long", 1, "10", "12", T0, T0)
        assert 0 == run("backfill", "1", "--data", str(data), "--account", "bot-2")
        files = [p.relative_to(data).as_posix() for p in (data / "performance").rglob("*.*")]
        assert files and all(f.startswith("performance/bot-2/") for f in files)

    def test_progress_bar_only_on_a_terminal(self, data):
        command = [sys.executable, "-m", "perftrack", "backfill", "30", "--data", str(data)]
        piped = subprocess.run(command, capture_output=True, text=True, check=False)
        assert 0 == piped.returncode and "" == piped.stderr
        for path in (data / "performance").iterdir():
            path.unlink()
        controller, terminal = pty.openpty()
        with subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=terminal, stdin=subprocess.DEVNULL
        ) as child:
            os.close(terminal)
            seen = b""
            while True:
                ready, _, _ = select.select([controller], [], [], 60)
                if not ready:
                    break
                try:
                    chunk = os.read(controller, 4096)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
            out = child.stdout.read() if child.stdout else b""
        os.close(controller)
        assert 0 == child.returncode
        assert b"[" in seen and b"#" in seen and b"\r" in seen
        assert b"[" not in out.split(b"files written")[0]  # stdout stays clean for scripts
