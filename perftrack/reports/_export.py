"""
Exports: every field of every trade, and the summaries, as CSV, JSON, JSON lines or Excel;
daily returns in the form pandas-based analytics tools take.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from perftrack._model import Summary, Trade, json_safe
from perftrack._xlsx import write_book
from perftrack.errors import InvalidInputError

if TYPE_CHECKING:
    from perftrack._tracker import Tracker

__all__ = ["FORMATS", "daily_returns_csv", "export_rows", "to_pandas", "write_rows"]

FORMATS = ("csv", "json", "jsonl", "xlsx")
TRADE_FIELDS = (*(f.name for f in attrs.fields(Trade)), "gross_pnl", "outcome")
SUMMARY_FIELDS = tuple(f.name for f in attrs.fields(Summary))


def export_rows(
    tracker: Tracker,
    what: str,
    *,
    start: date | None = None,
    end: date | None = None,
    period: str = "day",
) -> tuple[tuple[str, ...], list[dict[str, Any]]]:
    """
    (columns, rows) of ``what``: "trades" (every field of every closed trade) or "summaries"
    (one row per ``period`` in the window). Values keep their types (Decimal, datetime), but
    a trade's ``realizations`` is a list of ``Realization.to_dict()`` (text: each format
    writes it as JSON, see docs/reports.md).
    """
    if what == "trades":
        rows = []
        for t in tracker.trades(start=start, end=end):
            row = {name: getattr(t, name) for name in TRADE_FIELDS}
            if t.realizations is not None:
                row["realizations"] = [r.to_dict() for r in t.realizations]
            rows.append(row)
        return TRADE_FIELDS, rows
    if what == "summaries":
        rows = [
            {name: getattr(s, name) for name in SUMMARY_FIELDS}
            for s in tracker.periods(period, start=start, end=end)
        ]
        return SUMMARY_FIELDS, rows
    msg = f"'what' must be 'trades' or 'summaries' (got {what!r})"
    raise InvalidInputError(msg)


#: What makes a spreadsheet read a cell as a formula (CSV injection); such text is written
#: with a leading ``'`` (one more ``'`` for text that already starts with quotes before one),
#: which ``unquote_cell`` takes off again on import.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def quote_cell(text: str) -> str:
    """Text a spreadsheet would run as a formula, quoted so that it shows as text."""
    return "'" + text if text.lstrip("'").startswith(FORMULA_START) else text


def unquote_cell(text: str) -> str:
    """The text ``quote_cell`` quoted."""
    return text[1:] if text.startswith("'") and text.lstrip("'").startswith(FORMULA_START) else text


def join_tags(tags: Sequence[str]) -> str:
    """
    Tags in one cell: joined with ``|``, or as a JSON list when a tag holds ``|`` (or the
    joined text starts with ``[``), so that ``split_tags`` gives the same tags back.
    """
    text = "|".join(tags)
    if any("|" in tag for tag in tags) or text.startswith("["):
        return json.dumps(list(tags), ensure_ascii=False)
    return text


def split_tags(text: str) -> tuple[str, ...]:
    """The tags of a cell ``join_tags`` wrote (or of tags a tool wrote joined with ``|``)."""
    if text.startswith("["):
        try:
            tags = json.loads(text)
        except ValueError:
            tags = None
        if isinstance(tags, list) and all(isinstance(t, str) for t in tags):
            return tuple(tags)
    return tuple(text.split("|"))


def _text(value: Any) -> Any:
    if isinstance(value, tuple):
        return join_tags(value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, list):  # a trade's realizations: JSON text in its cell
        return json.dumps(json_safe(value), separators=(",", ":"))
    return json_safe(value)


def _csv_cell(value: Any) -> Any:
    text = _text(value)
    # Only user text (names, ids, tags): a negative amount is a number, not a formula.
    return quote_cell(text) if isinstance(value, (str, tuple)) else text


def write_rows(
    columns: Sequence[str],
    rows: Sequence[dict[str, Any]],
    fmt: str,
    out: Path | None,
    *,
    title: str = "rows",
) -> bytes:
    """
    ``rows`` in ``fmt``; written atomically to ``out`` when given. Decimals stay exact text in
    CSV and JSON; times are ISO 8601 with their offset; xlsx cells are typed (numbers as
    numbers, times as dates in UTC, since Excel has no time zones) on a sheet named
    ``title``, with the exact text of lossy cells on a hidden sheet (see perftrack._xlsx).
    """
    if out is not None:
        # A path given as text (the CLI's, a config value) is a path too.
        if isinstance(out, (str, os.PathLike)) and not isinstance(out, Path):
            out = Path(out)
        if not isinstance(out, Path) or not out.name:
            msg = f"'out' must be a file path or None (got {out!r})"
            raise InvalidInputError(msg)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row[c] is None else _csv_cell(row[c]) for c in columns])
        data = buffer.getvalue().encode()
    elif fmt == "json":
        data = (
            json.dumps([{c: json_safe(row[c]) for c in columns} for row in rows], indent=1) + "\n"
        ).encode()
    elif fmt == "jsonl":
        data = "".join(
            json.dumps({c: json_safe(row[c]) for c in columns}) + "\n" for row in rows
        ).encode()
    elif fmt == "xlsx":
        data = write_book(columns, rows, title=title)
    else:
        msg = f"'format' must be one of {FORMATS} (got {fmt!r})"
        raise InvalidInputError(msg)
    if out is not None:
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_bytes(data)
        tmp.replace(out)
    return data


def daily_returns_csv(
    tracker: Tracker, *, start: date | None = None, end: date | None = None
) -> str:
    """
    ``date,return`` per session day in [start, end] (default: all): what quantstats,
    empyrical and pyfolio read (``pd.read_csv(f, index_col=0, parse_dates=True).squeeze()``).
    """
    returns = tracker.daily_returns(start=start, end=end)
    lines = ["date,return"]
    lines += [f"{d.isoformat()},{'' if r is None else repr(r)}" for d, r in returns]
    return "\n".join(lines) + "\n"


def to_pandas(tracker: Tracker) -> Any:
    """
    The daily returns as a pandas Series on a DatetimeIndex (needs pandas).
    """
    import pandas as pd  # type: ignore[import-untyped]  # noqa: PLC0415 (optional)

    returns = tracker.daily_returns()
    index = pd.DatetimeIndex([pd.Timestamp(d) for d, _ in returns], name="date")
    return pd.Series(
        [float("nan") if r is None else r for _, r in returns],
        index=index,
        name="returns",
        dtype="float64",
    )
