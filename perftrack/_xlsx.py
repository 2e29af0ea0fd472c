"""
Excel workbooks of rows, typed for people and exact for machines (needs the ``xlsx`` extra).

A spreadsheet user wants numbers as numbers and times as dates, but an Excel number is a
float (openpyxl stores about 16 digits) and an Excel date has no offset and keeps
milliseconds: ``Decimal("100.10")`` or ``2025-03-03T10:00:00+01:00`` would not come back as
they went in. So the first sheet holds typed cells, and a hidden sheet named ``exact``
holds, at the same coordinates, the exact text of every cell whose typed form loses
something. A reader takes the exact text only while the visible cell still shows that value,
so a cell edited in Excel wins over its stale copy.
Pure functions; thread-safe.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

__all__ = ["EXACT_SHEET", "read_book", "write_book"]

EXACT_SHEET = "exact"
#: Excel keeps times to the millisecond.
_TIME_RESOLUTION = timedelta(milliseconds=1)


def _openpyxl() -> Any:
    try:
        import openpyxl  # noqa: PLC0415 (optional dependency)
    except ImportError as e:  # pragma: no cover - depends on the environment
        msg = "Excel files need openpyxl: pip install 'perftrack[xlsx]'"
        raise ImportError(msg) from e
    return openpyxl


def _number_text(value: float | int) -> str:
    """
    The text a number cell reads back as: integers without a point, floats shortest.
    """
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


def _typed(value: Any) -> tuple[Any, str | None, str | None]:
    """
    (cell value, number format, exact text when the cell value loses something).
    """
    if isinstance(value, Decimal):
        number = float(value)
        exponent = value.as_tuple().exponent
        places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        shown = "0" if places == 0 else "0." + "0" * min(places, 30)
        # openpyxl writes about 16 significant digits; 15 always come back as written.
        lossless = _number_text(float(f"{number:.15g}")) == str(value)
        return number, shown, None if lossless else str(value)
    if isinstance(value, datetime):
        when = value if value.tzinfo else value.replace(tzinfo=UTC)
        cell = when.astimezone(UTC).replace(tzinfo=None)
        lossless = when.utcoffset() == timedelta(0) and value.microsecond % 1000 == 0
        return cell, "yyyy-mm-dd hh:mm:ss", None if lossless else when.isoformat()
    if isinstance(value, tuple):
        from perftrack.reports._export import join_tags  # noqa: PLC0415 (no import cycle)

        return join_tags(value), None, None
    if isinstance(value, timedelta):
        return value.total_seconds(), None, None
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True), None, None
    if isinstance(value, list):  # a trade's realizations: JSON text, as in CSV
        return json.dumps(value, separators=(",", ":")), None, None
    return value, None, None


def write_book(columns: Sequence[str], rows: Sequence[dict[str, Any]], *, title: str) -> bytes:
    """
    The workbook of ``rows`` as bytes: a typed sheet named ``title`` and the hidden ``exact``
    sheet.
    """
    openpyxl = _openpyxl()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    exact = book.create_sheet(EXACT_SHEET)
    exact.sheet_state = "hidden"
    sheet.append(list(columns))
    for r, row in enumerate(rows, start=2):
        for c, name in enumerate(columns, start=1):
            value, shown, text = _typed(row[name])
            if value is None:
                continue
            cell = sheet.cell(row=r, column=c, value=value)
            if isinstance(value, str) and value.startswith("="):
                # openpyxl makes such text a formula, which Excel would run and the reader
                # (data_only) would read back empty: a name is text.
                cell.data_type = "s"
            if shown is not None:
                cell.number_format = shown
            if text is not None:
                exact.cell(row=r, column=c, value=text)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return _number_text(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC).isoformat()
    return str(value)


def _still_shows(cell: Any, text: str) -> bool:
    """
    Whether a visible cell still holds what its exact text says (not edited since).
    """
    if isinstance(cell, datetime):
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            return False
        return abs(when.astimezone(UTC).replace(tzinfo=None) - cell) < _TIME_RESOLUTION
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        try:
            # Within what a stored float keeps (about 16 digits); an edit moves it further.
            return math.isclose(float(Decimal(text)), float(cell), rel_tol=1e-14)
        except ArithmeticError:
            return False
    return False


def read_book(path: str | Path) -> tuple[list[str], list[dict[str, str]]]:
    """
    (header, rows) of a workbook's first sheet, each cell as text (empty cells left out):
    the exact text where the workbook has it, else the typed value's text (times in UTC).
    """
    openpyxl = _openpyxl()
    book = openpyxl.load_workbook(path, data_only=True)
    sheet = book.worksheets[0]
    exact = book[EXACT_SHEET] if EXACT_SHEET in book.sheetnames else None
    values = list(sheet.iter_rows(values_only=True))
    if not values:
        return [], []
    header = [str(h) for h in values[0] if h is not None]
    rows = []
    for r, line in enumerate(values[1:], start=2):
        row: dict[str, str] = {}
        for c, name in enumerate(header, start=1):
            cell = line[c - 1] if c - 1 < len(line) else None
            text = _text(cell)
            if exact is not None and cell is not None:
                stored = exact.cell(row=r, column=c).value
                if isinstance(stored, str) and _still_shows(cell, stored):
                    text = stored
            if text is not None:
                row[name] = text
        if row:
            rows.append(row)
    return header, rows
