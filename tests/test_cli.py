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
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest
import referencing

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
        out = capsys.readouterr().out
        # 26 of 40 trades win: 0.65 against 0.9.
        assert "all win_rate: 0.65 vs target 0.9, variance -0.25 (BREACHED)" in out
        for column in ("trades", "win%", "net P&L", "avg win", "avg loss", "avg R:R", "max DD"):
            assert column in out.splitlines()[0]
        targets.write_text("[targets]\nmin_win_rate = 0.1\n")
        assert 0 == run("summary", "--data", str(data), "--targets", str(targets))

    def test_markdown_metrics_show_each_target_as_its_figure_is_written(self, tmp_path, capsys):
        """
        Money variances to the cent (not 4 significant digits), percentages as percentages,
        and the daily loss target of a day in its own row: the page an operator reads must
        show the breach that made the command exit 2.
        """
        data = tmp_path / "data"
        with pt.Tracker("100000", store=LocalStore(data)) as tracker:
            tracker.record_trade("X", "long", 1, "100", "200", T0, T0)
            later = T0 + timedelta(hours=1)
            tracker.record_trade("X", "long", 1, "20000", "7654.33", later, later)
        targets = tmp_path / "t.toml"
        targets.write_text(
            '[targets]\nmin_win_rate = 0.9\nmax_drawdown = "1"\nmax_daily_loss = "1"\n'
        )
        args = ("summary", "--data", str(data), "--targets", str(targets), "--format", "markdown")
        assert 2 == run(*args)
        metrics = capsys.readouterr().out.split("## Metrics")[1].split("## Alerts")[0]
        # A drawdown of 12,345.67 against 1.
        assert "| max_drawdown | 12,345.67 | 1 | +12,344.67 (breached) |" in metrics
        assert "| win_rate | 50.0% | 90.0% | -40.0% (breached) |" in metrics
        assert 2 == run(*args, "--window", "daily")
        day = capsys.readouterr().out.split("## Metrics")[1]
        assert "| daily_loss | 12,245.67 | 1 | +12,244.67 (breached) |" in day

    def test_a_strategy_row_is_held_to_its_own_targets(self, data, tmp_path, capsys):
        """[targets.strategy.NAME] applies to that strategy's rows (--strategy, --by strategy)."""
        targets = tmp_path / "t.toml"
        targets.write_text(
            "[targets]\nmin_win_rate = 0.1\n\n[targets.strategy.b]\nmin_win_rate = 0.9\n"
        )
        common = ("summary", "--data", str(data), "--targets", str(targets))
        assert 0 == run(*common)  # the account as a whole: 26 of 40 won, against 0.1
        capsys.readouterr()
        assert 2 == run(*common, "--by", "strategy")
        out = capsys.readouterr().out
        # b: 6 of 10 won, against its own 0.9; a: 20 of 30 won, against the account's 0.1.
        assert "b win_rate: 0.6 vs target 0.9, variance -0.3 (BREACHED)" in out
        assert "a win_rate: 0.6667 vs target 0.1, variance +0.5667 (ok)" in out
        assert 2 == run(*common, "--strategy", "b", "--format", "json")
        doc = valid_summary(json.loads(capsys.readouterr().out))
        assert [(0.9, True)] == [(v["target"], v["breached"]) for v in doc["targets"]]

    def test_reading_with_targets_writes_nothing_and_prints_only_json(self, tmp_path):
        """
        Restoring with targets evaluates the history and finds its alerts again: that is a
        reader's copy, so nothing is logged, journaled or written, and standard output holds
        only the document scripts read.
        """
        data = tmp_path / "demo"
        assert 0 == run("demo", "--data", str(data), "--days", "10")
        before = {p: p.read_bytes() for p in data.rglob("*") if p.is_file()}
        args = ("summary", "--data", str(data), "--targets", str(ROOT / "examples/targets.toml"))
        done = perftrack(*args, "--format", "json")
        assert 2 == done.returncode, done.stderr
        doc = valid_summary(json.loads(done.stdout))
        assert doc["alerts"] and "" == done.stderr
        assert done.stdout == perftrack(*args, "--format", "json", "--debug").stdout
        assert 2 == perftrack("alerts", *args[1:]).returncode
        assert before == {p: p.read_bytes() for p in data.rglob("*") if p.is_file()}

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

    @pytest.mark.parametrize(
        "names",
        [
            # Names that differ only in a space or a slash file to different names.
            {"mean rev": "11", "mean_rev": "15", "a/b": "12", "a-b": "13"},
            # A plain name that is another's suffixed one ("a b-a3371a87" files as
            # "a_b-a3371a87", what "a_b" becomes after "a b" took "a_b").
            {"a b": "11", "a b-a3371a87": "12", "a_b": "13"},
        ],
    )
    def test_export_keeps_every_row(self, tmp_path, names):
        """
        Each row of `--by strategy --export` gets its own files, each holding its own row's
        figures, never another strategy's written over it.
        """
        data = tmp_path / "data"
        with pt.Tracker("10000", store=LocalStore(data)) as tracker:
            for strategy, exit_price in names.items():
                tracker.record_trade("X", "long", 1, "10", exit_price, T0, T0, strategy=strategy)
        out = tmp_path / "out"
        assert 0 == run("summary", "--data", str(data), "--by", "strategy", "--export", str(out))
        docs = [json.loads(p.read_text()) for p in sorted(out.glob("*.json"))]
        assert sorted(names) == sorted(doc["window"] for doc in docs)
        for doc in docs:
            assert f"{int(names[doc['window']]) - 10}" == doc["summary"]["net_pnl"]
        n = len(names)
        assert 2 * n == len(list(out.iterdir())) and n == validate_written(out)

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
        summaries = list((data / "performance").glob("*-summary-*.json"))
        assert len(summaries) <= validate_written(data / "performance")
        assert (data / "performance" / "report.html").read_text().startswith("<!doctype html>")
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

    def test_a_run_that_logs_nothing_imports_no_structlog(self, data):
        code = (
            "import sys\n"
            "from perftrack.cli import main\n"
            f"assert main(['summary', '--data', {str(data)!r}, '--format', 'json']) == 0\n"
            "print('structlog' in sys.modules, file=sys.stderr)\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=False
        )
        assert "False" == done.stderr.strip(), done.stderr
        json.loads(done.stdout)

    def test_library_log_lines_go_to_stderr_and_only_with_debug(self, tmp_path):
        """The command configures structlog just before the library's first line: the
        import's warning is logged at WARN, shown with --debug, on standard error."""
        log = tmp_path / "bot.jsonl"
        log.write_text(
            json.dumps(
                {
                    "symbol": "X",
                    "side": "long",
                    "quantity": "1",
                    "entry_price": "10",
                    "exit_price": "11",
                    "entry_time": "2025-01-06T10:00:00+00:00",
                    "exit_time": "2025-01-06T11:00:00+00:00",
                }
            )
            + '\n{"symbol": "X", "si'
        )
        for debug in (False, True):
            data = tmp_path / f"store-{debug}"
            extra = ("--debug",) if debug else ()
            done = perftrack("import", "jsonl", str(log), "--data", str(data), *extra)
            assert 0 == done.returncode, done.stderr
            assert "perftrack.import_warning" not in done.stdout
            assert debug == ("perftrack.import_warning" in done.stderr), done.stderr

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


MONDAY = datetime(2025, 11, 17, 15, 0, tzinfo=UTC)  # ISO week 2025-W47
WEEKLY_SCHEMA = json.loads((ROOT / "perftrack/schemas/weekly-report.schema.json").read_text())


def valid_weekly(doc: dict) -> dict:
    """
    ``doc`` checked against the weekly review schema (its trade summary against the summary
    schema); returns it.
    """
    registry = referencing.Registry().with_resources(
        (s["$id"], referencing.Resource.from_contents(s)) for s in (SUMMARY_SCHEMA, WEEKLY_SCHEMA)
    )
    jsonschema.Draft202012Validator(
        WEEKLY_SCHEMA, registry=registry, format_checker=FORMATS
    ).validate(doc)
    return doc


@pytest.fixture(name="ideas")
def _ideas(tmp_path) -> Path:
    """
    A store with two weeks of ideas: in 2025-W47 the edge "gap" loses 5 of 6, "vwap" wins 5
    of 5; in 2025-W48 one idea, still pending.
    """
    path = tmp_path / "ideas"
    with pt.Tracker("10000", store=LocalStore(path), timezone="America/New_York") as tracker:
        for n in range(11):
            when = MONDAY + timedelta(hours=n)
            edge, won = ("vwap", True) if n < 5 else ("gap", n == 5)
            tracker.record_idea(
                symbol=f"S{n}",
                side="long",
                entry="100",
                stop="99",
                target="102",
                confidence=n % 6,
                edges=(edge,),
                horizon="day" if n % 2 else "swing",
                time=when,
                idea_id=f"i{n}",
            )
            tracker.mark_price(f"S{n}", "102" if won else "99", when + timedelta(minutes=5))
        tracker.record_trade("S0", "long", 1, "100", "102", MONDAY, MONDAY + timedelta(hours=1))
        tracker.record_idea(
            symbol="NEXT",
            side="short",
            entry="50",
            stop="51",
            target="48",
            entry_type="limit",
            confidence=2,
            time=MONDAY + timedelta(days=7),
            idea_id="later",
        )
    return path


class TestIdeas:
    """ideas list, summary and report, in every format, and their errors."""

    def test_list(self, ideas, capsys):
        assert 0 == run("ideas", "list", "--data", str(ideas))
        out = capsys.readouterr().out
        assert "status" in out.splitlines()[0] and 12 == len(out.splitlines()) - 2
        assert "2025-11-17T10:00-05:00" in out  # times in the account's zone
        assert 0 == run(
            "ideas", "list", "--data", str(ideas), "--status", "win", "--format", "json"
        )
        doc = json.loads(capsys.readouterr().out)
        assert ["i0", "i1", "i2", "i3", "i4", "i5"] == [i["idea_id"] for i in doc["ideas"]]
        assert 0 == run(
            "ideas", "list", "--data", str(ideas), "--week", "2025-W48", "--format", "markdown"
        )
        out = capsys.readouterr().out
        assert out.startswith("| idea |") and "later" in out and "i0" not in out
        assert 0 == run("ideas", "list", "--data", str(ideas), "--edge", "none-such")
        assert "No ideas in window" in capsys.readouterr().out

    def test_a_reader_that_stops_early_is_no_error(self, ideas):
        # `perftrack ideas list | head -1`: the pipe closes before the command writes.
        child = subprocess.Popen(
            [sys.executable, "-m", "perftrack", "ideas", "list", "--data", str(ideas)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        child.stdout.close()
        _, err = child.communicate(timeout=120)
        assert (b"", 1) == (err, child.returncode)

    def test_summary(self, ideas, capsys):
        assert 0 == run("ideas", "summary", "--data", str(ideas), "--format", "json")
        doc = json.loads(capsys.readouterr().out)
        assert (12, 6, 5, 1) == tuple(
            doc["summary"][k] for k in ("ideas", "wins", "losses", "pending")
        )
        idea_summary = {**WEEKLY_SCHEMA["$defs"]["idea_summary"], "$defs": WEEKLY_SCHEMA["$defs"]}
        jsonschema.validate(doc["summary"], idea_summary, format_checker=FORMATS)
        assert 0 == run("ideas", "summary", "--data", str(ideas), "--by", "edge")
        out = capsys.readouterr().out.splitlines()
        assert out[0].startswith("edge") and {"gap", "vwap"} == {
            line.split()[0] for line in out[2:]
        }
        assert 0 == run(
            "ideas", "summary", "--data", str(ideas), "--week", "2025-W47", "--format", "markdown"
        )
        assert "| 2025-W47 | 11 |" in capsys.readouterr().out

    def test_report(self, ideas, tmp_path, capsys):
        assert 0 == run("ideas", "report", "--data", str(ideas), "--week", "2025-W47")
        out = capsys.readouterr().out
        assert out.startswith("# Weekly review 2025-W47")
        assert "consider removing edge gap: 1 of 6 won, 17%" in out
        assert 0 == run(
            "ideas", "report", "--data", str(ideas), "--week", "2025-W47", "--format", "json"
        )
        doc = valid_weekly(json.loads(capsys.readouterr().out))
        assert ["weak_edge"] == [r["rule"] for r in doc["recommendations"]]
        assert 1 == doc["trades"]["trades"]
        # Without --week: the week of the newest event.
        assert 0 == run("ideas", "report", "--data", str(ideas), "--export", str(tmp_path / "x"))
        assert "# Weekly review 2025-W48" in capsys.readouterr().out
        assert {"2025-W48.json", "2025-W48.md"} == {p.name for p in (tmp_path / "x").iterdir()}
        valid_weekly(json.loads((tmp_path / "x" / "2025-W48.json").read_text()))

    def test_report_thresholds_from_targets(self, ideas, tmp_path, capsys):
        targets = tmp_path / "t.toml"
        targets.write_text("[review]\nmin_sample = 7\n")
        assert 0 == run(
            "ideas", "report", "--data", str(ideas), "--week", "2025-W47", "--targets", str(targets)
        )
        assert "consider removing" not in capsys.readouterr().out
        targets.write_text("[review]\nmin_smaple = 7\n")
        done = perftrack("ideas", "report", "--data", str(ideas), "--targets", str(targets))
        assert 1 == done.returncode
        assert "unknown review setting 'min_smaple'" in done.stderr

    @pytest.mark.parametrize("week", ["2025-47", "2025-W60", "last"])
    def test_bad_week(self, ideas, week):
        done = perftrack("ideas", "report", "--data", str(ideas), "--week", week)
        assert 1 == done.returncode
        assert [f"perftrack ideas: --week must be an ISO week like 2025-W47 (got {week!r})"] == (
            done.stderr.splitlines()
        )

    def test_by_refuses_filters(self, ideas):
        done = perftrack("ideas", "summary", "--data", str(ideas), "--by", "edge", "--symbol", "S1")
        assert 1 == done.returncode and "drop --symbol" in done.stderr

    def test_week_and_range_exclude_each_other(self, ideas):
        done = perftrack(
            "ideas", "list", "--data", str(ideas), "--week", "2025-W47", "--start", "2025-11-17"
        )
        assert 1 == done.returncode and "exclude each other" in done.stderr


IDEA_COLUMNS = (
    "trade_id,ticker,trade_type,direction,entry,stop,target,target2,confidence,edges,rationale,"
    "status,r_achieved,created_at,closed_at,desk"
)


class TestImportIdeas:
    """import ideas: JSONL and CSV records, their outcomes honoured, bad lines named."""

    def jsonl(self, tmp_path: Path, *lines: str, name: str = "ideas.jsonl") -> Path:
        path = tmp_path / name
        path.write_text("".join(lines))
        return path

    def records(self) -> list[str]:
        return [
            json.dumps(
                {
                    "trade_id": "a1",
                    "ticker": "NVDA",
                    "trade_type": "day_trade",
                    "direction": "LONG",
                    "entry": "120.00",
                    "stop": "118.00",
                    "target": "126.00",
                    "confidence": 4,
                    "edges": ["vwap_reclaim", "gap_fill"],
                    "rationale": "reclaimed VWAP",
                    "status": "won",
                    "r_achieved": 2.5,
                    "created_at": "2025-11-17T15:00:00+00:00",
                    "closed_at": "2025-11-17T18:00:00+00:00",
                }
            )
            + "\n",
            json.dumps(
                {
                    "trade_id": "a2",
                    "ticker": "AMD",
                    "trade_type": "limit",
                    "direction": "short",
                    "entry": "150",
                    "stop": "152",
                    "target": "146",
                    "confidence": "2",
                    "edges": "breakout|news",
                    "status": "pending",
                    "created_at": "2025-11-18T15:00:00Z",
                }
            )
            + "\n",
        ]

    def test_jsonl(self, tmp_path, capsys):
        data = tmp_path / "d"
        path = self.jsonl(tmp_path, *self.records())
        assert 0 == run("import", "ideas", str(path), "--data", str(data))
        assert "2 ideas imported" in capsys.readouterr().out
        tracker = pt.Tracker.restore(LocalStore(data), read_only=True)
        first, second = tracker.ideas.get("a1"), tracker.ideas.get("a2")
        assert ("day", "market", ("vwap_reclaim", "gap_fill"), 4) == (
            first.horizon,
            first.entry_type,
            first.edges,
            first.confidence,
        )
        assert ("win", 2.5, "imported", "open") == (
            first.status,
            first.r_achieved,
            first.override["reason"],
            first.override["status"],
        )
        assert (None, "limit", "short", "pending", None) == (
            second.horizon,
            second.entry_type,
            second.side,
            second.status,
            second.override,
        )
        # Twice is once.
        assert 0 == run("import", "ideas", str(path), "--data", str(data))
        assert "0 ideas imported" in capsys.readouterr().out

    def test_csv_with_extra_columns_and_naive_times(self, tmp_path, capsys):
        path = tmp_path / "ideas.csv"
        path.write_text(
            IDEA_COLUMNS + "\n"
            "b1,SPY,swing,short,500,505,490,485,5,mean_revert,,stopped,-1,2025-11-17 10:00,"
            "2025-11-18 10:00,alpha\n"
            "b2,SPY,,long,500,495,510,,3,,,expired,,2025-11-17 11:00,,alpha\n"
        )
        data = tmp_path / "d"
        done = perftrack("import", "ideas", str(path), "--data", str(data))
        assert 1 == done.returncode and "'created_at' has no UTC offset" in done.stderr
        assert not data.exists() or not list(data.rglob("*.jsonl*"))
        assert 0 == run(
            "import", "ideas", str(path), "--data", str(data), "--times-in", "America/New_York"
        )
        tracker = pt.Tracker.restore(LocalStore(data), read_only=True)
        b1, b2 = tracker.ideas.get("b1"), tracker.ideas.get("b2")
        assert ("swing", "loss", -1.0, {"desk": "alpha"}) == (
            b1.horizon,
            b1.status,
            b1.r_achieved,
            b1.context,
        )
        assert datetime(2025, 11, 17, 15, 0, tzinfo=UTC) == b1.created_at
        assert ("expired", None, "imported") == (b2.status, b2.r_achieved, b2.override["reason"])

    def test_cut_last_line_is_skipped_with_a_warning(self, tmp_path, capsys):
        first, second = self.records()
        path = self.jsonl(tmp_path, first, second[:40])
        assert 0 == run("import", "ideas", str(path), "--data", str(tmp_path / "d"))
        captured = capsys.readouterr()
        assert "1 ideas imported" in captured.out
        assert "last line 2 is cut short, skipped" in captured.err
        csv_path = tmp_path / "cut.csv"
        csv_path.write_text(IDEA_COLUMNS + "\nc1,SPY,day,long,500,495,510")
        assert 0 == run("import", "ideas", str(csv_path), "--data", str(tmp_path / "e"))
        assert "last line 2 is cut short" in capsys.readouterr().err

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"confidence": 7}, "line 2: 'confidence'"),
            ({"stop": "121"}, "line 2: 'stop'"),
            ({"status": "maybe"}, "line 2: 'status' must be one of"),
            ({"trade_type": "weekly"}, "line 2: 'trade_type' must name a horizon"),
            ({"direction": "up"}, "line 2: 'direction' must be long or short"),
            ({"created_at": "yesterday"}, "line 2: 'created_at' is not an ISO 8601 time"),
        ],
    )
    def test_bad_record_named_and_nothing_imported(self, tmp_path, change, message):
        first, _ = self.records()
        bad = json.dumps({**json.loads(first), "trade_id": "z", **change}) + "\n"
        path = self.jsonl(tmp_path, self.records()[1], bad, first)
        data = tmp_path / "d"
        good = self.jsonl(tmp_path, first, name="good.jsonl")
        assert 0 == run("import", "ideas", str(good), "--data", str(data))
        before = pt.Tracker.restore(LocalStore(data), read_only=True).ideas.list()
        done = perftrack("import", "ideas", str(path), "--data", str(data))
        assert 1 == done.returncode
        assert message in done.stderr and str(path) in done.stderr, done.stderr
        after = pt.Tracker.restore(LocalStore(data), read_only=True).ideas.list()
        assert before == after

    def test_bad_csv_line_in_the_middle(self, tmp_path):
        path = tmp_path / "bad.csv"
        path.write_text(IDEA_COLUMNS + "\nc1,SPY,day\nc2,SPY,day,long,500,495,510\n")
        done = perftrack("import", "ideas", str(path), "--data", str(tmp_path / "d"))
        assert 1 == done.returncode
        assert "line 2: 3 fields where the header has 16" in done.stderr


class TestReportAndExport:
    """report and export read the store and write one file whole."""

    @pytest.mark.parametrize(
        ("window", "trades", "span"),
        [
            ("all", 40, "2025-03-03 to 2025-03-16"),
            ("daily", 2, "2025-03-16"),
            ("weekly", 20, "2025-03-10 to 2025-03-16"),
            ("monthly", 40, "2025-03-01 to 2025-03-31"),  # every day is a session day
        ],
    )
    def test_report_windows(self, data, tmp_path, window, trades, span):
        out = tmp_path / "report.html"
        assert 0 == run("report", "--data", str(data), "--html", str(out), "--window", window)
        page = out.read_text()
        assert f"{trades} trades · {span} · times in Europe/London" in page
        assert [out] == list(tmp_path.glob("*.html")) and not list(tmp_path.glob(".*tmp"))

    def test_report_of_the_month_keeps_its_weekend_days_on_a_round_the_clock_calendar(
        self, tmp_path
    ):
        """March 2025 begins on a Saturday: a 24/7 account traded that day."""
        data = tmp_path / "crypto"
        with pt.Tracker("1000", store=LocalStore(data)) as tracker:
            for day, exit_price in ((1, "150"), (10, "110")):
                when = datetime(2025, 3, day, 12, tzinfo=UTC)
                tracker.record_trade("BTC", "long", 1, "100", exit_price, when, when)
            month = tracker.summary("month", at=tracker.clock)
        out = tmp_path / "report.html"
        assert 0 == run("report", "--data", str(data), "--html", str(out), "--window", "monthly")
        page = out.read_text()
        assert f"{month.trades} trades · 2025-03-01 to 2025-03-31" in page
        assert f"<div class='value'>{month.net_pnl:,.2f}</div>" in page  # 60.00, as summary

    def test_report_range_and_targets(self, data, tmp_path):
        targets = tmp_path / "t.toml"
        targets.write_text("[targets]\nmin_win_rate = 0.9\n")
        out = tmp_path / "report.html"
        assert 0 == run(
            "report",
            "--data",
            str(data),
            "--html",
            str(out),
            "--start",
            "2025-03-05",
            "--end",
            "2025-03-06",
            "--targets",
            str(targets),
            "--title",
            "Desk <A>",
        )
        page = out.read_text()
        assert "6 trades · 2025-03-05 to 2025-03-06" in page
        assert "target 90.0%: breached" in page
        assert "<h1>Desk &lt;A&gt;</h1>" in page

    def test_export_to_stdout_and_file(self, data, tmp_path, capsysbinary):
        assert 0 == run(
            "export", "trades", "--data", str(data), "--start", "2025-03-05", "--end", "2025-03-05"
        )
        rows = capsysbinary.readouterr().out.decode().splitlines()
        assert 1 + 3 == len(rows) and rows[0].startswith("trade_id,")
        out = tmp_path / "weeks.json"
        assert 0 == run(
            "export",
            "summaries",
            "--period",
            "week",
            "--format",
            "json",
            "--out",
            str(out),
            "--data",
            str(data),
        )
        assert "" == capsysbinary.readouterr().out.decode()
        weeks = json.loads(out.read_text())
        assert [20, 20] == [w["trades"] for w in weeks]
        assert ["-30", "-30"] == [w["net_pnl"] for w in weeks]  # Decimals as exact text
        assert 0 == run("export", "returns", "--data", str(data))
        lines = capsysbinary.readouterr().out.decode().splitlines()
        assert "date,return" == lines[0] and 14 == len(lines) - 1

    def test_export_returns_keeps_to_the_window_and_refuses_other_formats(self, data, capsysbinary):
        assert 0 == run(
            "export", "returns", "--data", str(data), "--start", "2025-03-05", "--end", "2025-03-07"
        )
        lines = capsysbinary.readouterr().out.decode().splitlines()
        assert ["2025-03-05", "2025-03-06", "2025-03-07"] == [x.split(",")[0] for x in lines[1:]]
        # Returns are CSV only: asking for JSON must not silently print CSV.
        assert 1 == run("export", "returns", "--data", str(data), "--format", "json")
        assert b"" == capsysbinary.readouterr().out


class TestImportCommand:
    """perftrack import: the CSV mapping, and bad arguments as one-line errors."""

    def test_csv_with_a_mapping(self, tmp_path, capsys):
        path = tmp_path / "fills.csv"
        path.write_text(
            "Ticker,Dir,Qty,In,Out,Opened,Closed\n"
            "X,long,2,10,11.5,2025-01-06T10:00:00+00:00,2025-01-06T11:00:00+00:00\n"
        )
        data = str(tmp_path / "d")
        mapping = [
            "symbol=Ticker",
            "side=Dir",
            "quantity=Qty",
            "entry_price=In",
            "exit_price=Out",
            "entry_time=Opened",
            "exit_time=Closed",
        ]
        args = ["import", "csv", str(path), "--data", data, "--starting-equity", "500"]
        assert 0 == run(*args, *(f"--map={m}" for m in mapping))
        capsys.readouterr()
        assert 0 == run("summary", "--data", data, "--format", "json")
        assert "3.0" == json.loads(capsys.readouterr().out)["summary"]["net_pnl"]
        tracker = pt.Tracker.restore(LocalStore(tmp_path / "d"), read_only=True)
        assert ["3.0"] == [str(t.net_pnl) for t in tracker.trades()]
        assert "500" == str(tracker.starting_equity)

    def test_bad_arguments(self, tmp_path, capsys):
        path = tmp_path / "t.csv"
        path.write_text("symbol\n")
        assert 1 == run("import", "csv", str(path), "--map", "symbol", "--data", str(tmp_path))
        assert "--map takes FIELD=COLUMN (got 'symbol')" in capsys.readouterr().err
        assert 1 == run("import", "freqtrade", "a.json", "b.json", "--data", str(tmp_path))
        assert "reads one file (got 2)" in capsys.readouterr().err

    def test_a_snapshot_the_store_cannot_write_fails_the_import(
        self, tmp_path, capsys, monkeypatch
    ):
        class NoSnapshots(LocalStore):
            def put(self, key: str, data: bytes) -> None:
                if "/snapshots/" in key:
                    raise pt.errors.StoreError(f"{key}: the disk is full")
                super().put(key, data)

        path = tmp_path / "t.jsonl"
        path.write_text(
            '{"symbol": "X", "side": "long", "quantity": "1", "entry_price": "10", '
            '"exit_price": "11", "entry_time": "2025-01-06T10:00:00+00:00", '
            '"exit_time": "2025-01-06T11:00:00+00:00"}\n'
        )
        data = tmp_path / "d"
        monkeypatch.setattr("perftrack.cli._store", lambda args: NoSnapshots(data))
        assert 1 == run("import", "jsonl", str(path), "--data", str(data))
        assert "StoreError" in capsys.readouterr().err
