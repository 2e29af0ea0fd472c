"""
The benchmark suite runs end to end in its quick mode, so it never rots; its verdicts and its
docs hand-off are checked on their own.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.__main__ import DOCS, DOCS_END, DOCS_START, verdict, write_docs

ROOT = Path(__file__).parent.parent
#: A figure from each section: a section that stopped producing rows fails the smoke run.
SECTION_FIGURES = {
    "record_trade": "record_trade median",
    "events": "mark_price, 100 open on the symbol",
    "ideas": "record_idea median",
    "queries": "summary all, 3,000 trades",
    "memory": "memory per retained closed trade, 1,000",
    "memory, last trades traced": "memory per retained closed trade, 3,000",
    "html": "HTML report size, 3,000 trades",
    "persistence": "journal replay",
    "alerts": "alert rules (the six of the alerts issue): added per closed trade",
    "floor": "floor: a locked Decimal addition per trade",
    "batch": "import a 5,000-line JSONL log (library)",
    "dashboard": "dashboard ratio grows with the count",
    "cli": "perftrack summary --window weekly, whole process, 200 trades",
}


def run_benchmarks(*args: str, code: str | None = None) -> subprocess.CompletedProcess[str]:
    command = ["-c", code] if code else ["-m", "benchmarks", *args]
    return subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


class TestQuickBenchmarks:
    """python -m benchmarks --quick prints the table and writes its JSON and Markdown."""

    def test_quick_run(self):
        done = run_benchmarks("--quick")
        assert 0 == done.returncode, done.stderr[-3000:]
        assert "| figure | target | measured | result | runs | note |" in done.stdout
        assert "| record_trade median | <= 10 µs |" in done.stdout
        document = json.loads((ROOT / "benchmarks/results/quick.json").read_text())
        assert {"cpu", "cores", "python", "date"} <= set(document["machine"])
        figures = {r["figure"] for r in document["rows"]}
        # An alternative may be missing only where its package really is (make test installs
        # them with the dev group; a bare pytest may not have them).
        have_pandas = importlib.util.find_spec("pandas") is not None
        have_empyrical = importlib.util.find_spec("empyrical") is not None
        expected = dict(SECTION_FIGURES)
        if not (have_pandas and have_empyrical):
            expected["dashboard"] = "dashboard"  # its n/a row
        missing = {s: f for s, f in expected.items() if f not in figures}
        assert {} == missing
        assert {r["result"] for r in document["rows"]} <= {"pass", "FAIL", ""}
        assert document["rows"][0]["result"] in {"pass", "FAIL"}
        assert (ROOT / "benchmarks/results/quick.md").read_text() in done.stdout
        skipped = {r["figure"] for r in document["rows"] if r["measured"] == "n/a"}
        assert ("batch" in skipped) == (not have_pandas)
        assert ("dashboard" in skipped) == (not (have_pandas and have_empyrical))

    def test_a_crashing_benchmark_fails_the_run(self):
        code = (
            "import sys, benchmarks.__main__ as b\n"
            "def boom(*args, **kwargs):\n"
            "    raise RuntimeError('benchmark crashed')\n"
            "b.bench_floor = boom\n"
            "sys.exit(b.main(['--quick', '--only', 'floor']))\n"
        )
        done = run_benchmarks(code=code)
        assert 0 != done.returncode
        assert "RuntimeError: benchmark crashed" in done.stderr

    def test_unknown_section_is_refused(self):
        done = run_benchmarks("--quick", "--only", "nonesuch")
        assert 2 == done.returncode
        assert "unknown section 'nonesuch'" in done.stderr


class TestVerdict:
    """A row passes or fails by comparing its measured quantity with its target."""

    @pytest.mark.parametrize(
        ("measured", "target", "expected"),
        [
            ("9.5 µs", "<= 10 µs", "pass"),
            ("10.0 µs", "<= 10 µs", "pass"),
            ("1,200 µs", "<= 1 ms", "FAIL"),
            ("950 µs", "<= 1 ms", "pass"),
            ("0.31 s", "<= 300 ms", "FAIL"),
            ("1,065 B", "<= 1 KB", "FAIL"),
            ("1.95 MB", "<= 2 MB", "pass"),
            ("150,000 events/s", ">= 100,000 events/s", "pass"),
            ("99,999 trades/s", ">= 100,000 trades/s", "FAIL"),
            ("2.34x", "<= 2x", "FAIL"),
            ("120x", ">= 100x", "pass"),
            ("-1.5 µs", "<= 5 µs", "pass"),
        ],
    )
    def test_compares(self, measured, target, expected):
        assert expected == verdict(measured, target)

    @pytest.mark.parametrize(
        ("measured", "target"),
        [
            ("12 µs", ""),
            ("12 µs", "near 1"),
            ("12 µs", "<= 2 MB"),  # different kinds: nothing to compare
            ("100 trades/s", ">= 100 events/s"),
            ("n/a", "<= 10 µs"),
        ],
    )
    def test_nothing_to_compare(self, measured, target):
        assert "" == verdict(measured, target)


class TestDocsHandOff:
    """--docs pastes the table between the markers of docs/performance.md."""

    def test_performance_doc_has_the_markers(self):
        text = DOCS.read_text()
        assert DOCS_START in text
        assert DOCS_END in text
        assert text.index(DOCS_START) < text.index(DOCS_END)

    def test_replaces_only_between_the_markers(self, tmp_path):
        doc = tmp_path / "performance.md"
        doc.write_text(f"# Before\n\n{DOCS_START}\nold table\n{DOCS_END}\n\nAfter\n")
        write_docs("| new | table |", doc)
        assert f"# Before\n\n{DOCS_START}\n| new | table |\n{DOCS_END}\n\nAfter\n" == (
            doc.read_text()
        )

    def test_refuses_a_doc_without_markers(self, tmp_path):
        doc = tmp_path / "performance.md"
        doc.write_text("no markers\n")
        with pytest.raises(ValueError, match="lacks the lines"):
            write_docs("| new |", doc)
        assert "no markers\n" == doc.read_text()
