"""
Reports: HTML, Markdown, JSON and CSV renderings of a tracker.

    from perftrack import reports
    Path("report.html").write_text(reports.html(tracker))
    reports.export(tracker, "trades", "csv", Path("trades.csv"))
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perftrack.reports._export import FORMATS, daily_returns_csv, export_rows, to_pandas, write_rows

if TYPE_CHECKING:
    from perftrack._tracker import Tracker
    from perftrack.alerts import Targets

__all__ = ["FORMATS", "daily_returns_csv", "export", "html", "to_pandas"]


def html(
    tracker: Tracker,
    *,
    title: str = "Trading performance",
    start: date | None = None,
    end: date | None = None,
    targets: Targets | None = None,
) -> str:
    """
    The self-contained HTML report of ``tracker`` over [start, end] (default: all time).
    Thread-safe.
    """
    # Imported here: the charts module is large, and `perftrack summary` (which imports this
    # package for its text renderers) must start fast.
    from perftrack.reports._html import render_html  # noqa: PLC0415

    return render_html(tracker, title=title, start=start, end=end, targets=targets)


def export(
    tracker: Tracker,
    what: str,
    fmt: str,
    out: Path | None = None,
    *,
    start: date | None = None,
    end: date | None = None,
    period: str = "day",
) -> bytes:
    """
    Export "trades" or "summaries" (per ``period``) as csv, json, jsonl or xlsx; written
    atomically to ``out`` when given. Thread-safe.
    """
    columns, rows = export_rows(tracker, what, start=start, end=end, period=period)
    return write_rows(columns, rows, fmt, out, title=what)


_ = Any
