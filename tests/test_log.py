"""
The library's logger: structlog imported at the first line, hooks run before it.
"""

from __future__ import annotations

import subprocess
import sys
import threading

import structlog

from perftrack import _log
from perftrack._log import before_first_line, log


def _python(code: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.split()


class TestLazyImport:
    """structlog (and the asyncio it imports) waits for the first line."""

    def test_importing_perftrack_and_tracking_imports_no_structlog(self):
        code = (
            "import sys, perftrack as pt\n"
            "t = pt.Tracker('100')\n"
            "t.record_trade('X', 'long', 1, '1', '2', '2025-01-01T00:00Z', '2025-01-01T01:00Z')\n"
            "t.summary()\n"
            "print('structlog' in sys.modules, 'asyncio' in sys.modules)\n"
        )
        assert ["False", "False"] == _python(code)

    def test_the_first_line_imports_it_and_is_written(self):
        code = (
            "import sys\n"
            "from perftrack._log import log\n"
            "log.warning('perftrack.test', n=1)\n"
            "print('structlog' in sys.modules)\n"
        )
        out = _python(code)
        assert "perftrack.test" in " ".join(out) and "n=1" in out and "True" == out[-1]

    def test_lines_go_through_the_current_configuration(self):
        with structlog.testing.capture_logs() as first:
            log.info("perftrack.one", a=1)
        with structlog.testing.capture_logs() as second:
            log.error("perftrack.two")
        assert [("perftrack.one", "info", 1)] == [
            (e["event"], e["log_level"], e["a"]) for e in first
        ]
        assert ["perftrack.two"] == [e["event"] for e in second]


class TestBeforeFirstLine:
    """The command's hook: once, before the next line, or cancelled."""

    def test_runs_once_before_the_next_line(self):
        calls: list[str] = []
        before_first_line(lambda: calls.append("hook"))
        assert [] == calls  # nothing logged yet
        with structlog.testing.capture_logs() as logs:
            log.warning("perftrack.a")
            log.warning("perftrack.b")
        assert ["hook"] == calls
        assert ["perftrack.a", "perftrack.b"] == [e["event"] for e in logs]

    def test_a_new_hook_replaces_the_pending_one_and_none_cancels(self):
        calls: list[str] = []
        before_first_line(lambda: calls.append("old"))
        before_first_line(lambda: calls.append("new"))
        with structlog.testing.capture_logs():
            log.info("perftrack.x")
        assert ["new"] == calls
        before_first_line(lambda: calls.append("cancelled"))
        before_first_line(None)
        with structlog.testing.capture_logs():
            log.info("perftrack.y")
        assert ["new"] == calls

    def test_a_line_of_another_thread_waits_for_the_hook(self):
        started, finish = threading.Event(), threading.Event()
        order: list[str] = []

        def slow_hook() -> None:
            started.set()
            finish.wait(5)
            order.append("hook")

        before_first_line(slow_hook)
        with structlog.testing.capture_logs():
            first = threading.Thread(target=lambda: log.info("perftrack.first"))
            first.start()
            assert started.wait(5)
            second = threading.Thread(
                target=lambda: (log.info("perftrack.second"), order.append("second"))
            )
            second.start()
            second.join(0.2)
            finish.set()
            first.join(5)
            second.join(5)
        assert ["hook", "second"] == order
        assert not _log._pending
