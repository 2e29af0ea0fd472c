"""
The library's structlog logger ("perftrack"), with structlog imported at the first log call.

structlog imports asyncio (through ``structlog.stdlib``): a third of ``import perftrack`` and
of every run of the command, for lines most processes never write. Callers write
``log.warning("perftrack.event", key=value)`` as with a structlog logger; each call asks
structlog for the logger anew, so configuration done at any time (``structlog.configure``,
``structlog.testing.capture_logs``) applies to the next line. Thread-safe.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Final

__all__ = ["before_first_line", "log"]

_pending: list[Callable[[], None]] = []
_pending_lock: Final = threading.Lock()


class _PerftrackLogger:
    """
    Stands for ``structlog.get_logger("perftrack")``: every attribute is that logger's.
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        import structlog  # noqa: PLC0415 (the point of this module)

        if _pending:
            # Run under the lock, and only then dropped: a line another thread writes
            # meanwhile waits for the hook rather than going out before it.
            with _pending_lock:
                for hook in _pending:
                    hook()
                _pending.clear()
        return getattr(structlog.get_logger("perftrack"), name)


log: Final = _PerftrackLogger()


def before_first_line(hook: Callable[[], None] | None) -> None:
    """
    Run ``hook`` just before the next log line is written, once (the command configures
    structlog there, so that a run that logs nothing never imports it); None cancels the
    hook set before. The hook must not log. Thread-safe.
    """
    with _pending_lock:
        _pending.clear()
        if hook is not None:
            _pending.append(hook)
