"""
Importers for the files operators already have: JSON-lines trade logs, freqtrade backtest
results, MetaTrader 5 reports, broker statements and any CSV with a column mapping.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import operator
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final, cast

from perftrack._model import RECORD_TRADE_ARGS
from perftrack._periods import _resolve_zone
from perftrack._persist import _collector_paused
from perftrack._rows import TradeRows
from perftrack.errors import InvalidInputError
from perftrack.importers._base import Fill, ImportResult, exact
from perftrack.reports._export import split_tags, unquote_cell

__all__ = [
    "json_objects",
    "read_csv",
    "read_freqtrade",
    "read_json",
    "read_jsonl",
    "read_mt5",
    "read_td_ameritrade",
    "read_xlsx",
]

_DAY_IN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")
#: record_trade's arguments, which a trade line or row may carry.
TRADE_FIELDS = RECORD_TRADE_ARGS
#: What perftrack's own exports add, derived from the rest: ignored on the way back in.
DERIVED_FIELDS = frozenset({"risk", "r_multiple", "gross_pnl", "outcome"})
_TRADE_FIELD_SET: Final = frozenset(TRADE_FIELDS)


def _bad(path: object, where: str, why: str) -> InvalidInputError:
    return InvalidInputError(f"'file' {path}: {where}: {why}")


def _steps(path: object, where: str, value: object) -> object:
    """
    A trade's ``realizations`` as record_trade takes them: a CSV or Excel cell holds them as
    JSON text, a JSON export as a list (record_trade checks the steps themselves).
    """
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        raise _bad(path, where, f"'realizations' is not JSON (got {value[:80]!r})") from None


def json_objects(path: object, text: str) -> tuple[list[tuple[int, dict[str, Any]]], str | None]:
    """
    The JSON objects of a JSON-lines text with their line numbers (from 1), and a warning when
    the last line is cut short (no newline and not JSON: skipped). Blank lines are skipped.

    Raises:
        InvalidInputError: For any other line that is not a JSON object, naming file and line.
    """
    # The last line, when it has no newline, may be cut short: it is read on its own.
    whole = len(text) if text.endswith("\n") else text.rfind("\n") + 1
    objects = _whole_lines(text[:whole] if whole < len(text) else text)
    if objects is not None:
        numbered = list(zip(itertools.count(1), objects))
        tail = text[whole:]
        if not tail or tail.isspace():
            return numbered, None
        last = _objects_one_by_one(path, [(len(objects) + 1, tail)], len(objects) + 1)
        return numbered + last[0], last[1]
    # Lines end at "\n" only: JSON strings may hold U+2028, U+0085 and the like raw, where
    # str.splitlines() would cut a record in two. Without their "\n", lines strip to
    # themselves (no copy) unless they carry a "\r" or spaces.
    lines = text.split("\n")
    cut_possible = not text.endswith("\n")  # the last line has no newline: it may be cut
    if not cut_possible:
        lines.pop()  # the empty string after the last newline is no line
    numbers = [i for i, line in enumerate(lines, 1) if line and not line.isspace()]
    # Only the whitespace json.loads itself skips, so that both paths accept the same lines.
    stripped = [lines[i - 1].strip(" \t\n\r") for i in numbers]
    parsed = _parse_lines(stripped)
    if parsed is not None:
        return list(zip(numbers, parsed, strict=True)), None
    last_cut = len(lines) if cut_possible else None
    # A cut last line is the one failure a log may hold: parse the rest at once, and only
    # when that fails too go line by line to name the bad one.
    numbered_lines = [(i, lines[i - 1]) for i in numbers]
    if numbers and numbers[-1] == last_cut:
        head = _parse_lines(stripped[:-1])
        if head is not None:
            objects_ = list(zip(numbers[:-1], head, strict=True))
            last = _objects_one_by_one(path, numbered_lines[-1:], last_cut)
            return (objects_ + last[0], last[1])
    return _objects_one_by_one(path, numbered_lines, last_cut)


def _whole_lines(text: str) -> list[dict[str, Any]] | None:
    """
    The objects of a JSON-lines text that ends with a newline, parsed as one JSON array in
    one C call, or None when the text is not of the usual shape: every line one object that
    starts it, and no other "{" anywhere (then ``json_objects`` goes line by line).

    Parsing the lines as one document lets the decoder share one string per key across all
    objects (its memo lives for one call): a million-line log parses twice as fast and holds
    a quarter less memory. It reads each line as ``json.loads(line)`` would, because the
    "{" count pins every object to its line: the text has exactly one "{" per line, at its
    start, and the array has as many elements as lines, each an object. So each "{" opens a
    top-level element (none is nested), element i opens where line i starts and closes
    before line i + 1 starts, and nothing but whitespace can follow it on its line (the
    comma between elements is the one put in for the newline).
    """
    n = text.count("\n")
    if not n or text[0] != "{" or text.count("{") != n or text.count("\n{") != n - 1:
        return None
    try:
        objects = json.loads("[" + text.replace("\n", ",", n - 1) + "]")
    except (ValueError, RecursionError):
        return None
    if len(objects) != n or set(map(type, objects)) != {dict}:
        return None
    return objects  # type: ignore[no-any-return]


#: The decoder's scanner: one value from a position in a text (what json.loads calls).
_SCAN: Final = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _parse_lines(items: list[str]) -> list[dict[str, Any]] | None:
    """
    Each stripped, non-empty line as a JSON object, or None when any line is not exactly one
    (the caller then finds which, line by line). One C call per line: json.loads' own checks
    in Python cost as much as the parse.
    """
    try:
        results = list(map(_SCAN, items, itertools.repeat(0)))
    except (StopIteration, ValueError, RecursionError):
        return None
    objects = [obj for obj, _end in results]
    if [end for _obj, end in results] != list(map(len, items)):
        return None  # something after the value on its line
    if not all(type(obj) is dict for obj in objects):
        return None
    return objects


def _objects_one_by_one(
    path: object, numbered: list[tuple[int, str]], last_cut: int | None
) -> tuple[list[tuple[int, dict[str, Any]]], str | None]:
    """
    The objects of the numbered lines, parsed one at a time to name the first bad one; line
    ``last_cut`` (the last, when it has no newline) may fail as cut short instead.
    """
    objects: list[tuple[int, dict[str, Any]]] = []
    for i, line in numbered:
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):  # (nesting too deep for the decoder: not a trade)
            if i == last_cut:
                return objects, f"{path}: last line {i} is cut short, skipped"
            raise _bad(path, f"line {i}", "not JSON") from None
        if not isinstance(record, dict):
            raise _bad(path, f"line {i}", "not a JSON object")
        objects.append((i, record))
    return objects, None


def read_jsonl(paths: Iterable[str | Path]) -> ImportResult:
    """
    Trade logs with one trade per line: the keyword arguments of ``record_trade``, Decimal
    fields as strings, times in ISO 8601 with an offset.

    Files named by day (``trades-2025-01-31.jsonl``) are checked for gaps: a missing day
    between the first and the last file is reported and its summaries marked partial. A last
    line cut short (no newline, invalid JSON) is skipped with a warning and its day marked
    partial. Any other bad line is an error naming the file and line.
    """
    parts: list[TradeRows | list[dict[str, Any]]] = []
    warnings: list[str] = []
    partial: set[date] = set()
    days: list[date] = []
    for path in sorted(Path(p) for p in paths):
        match = _DAY_IN_NAME.search(path.name)
        if match:
            days.append(date.fromisoformat(match.group(1)))
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            warnings.append(f"{path}: missing, skipped")
            if match:
                partial.add(days[-1])
            continue
        except UnicodeDecodeError as e:
            raise _bad(path, f"byte {e.start}", "not UTF-8 text") from None
        # What is read is kept for the result: see _collector_paused.
        with _collector_paused(long_lived=True):
            rows = _rows_of_one_shape(text)
            if rows is not None:
                # Every line is one object here: row i is line i, for the cleaning's errors.
                usual = _taken_as_they_are(rows)
                parts.append(rows if usual else _trade_records(path, "line", enumerate(rows, 1)))
                continue
            objects, cut = json_objects(path, text)
            parts.append(_trade_records(path, "line", objects))
        if cut is not None:
            warnings.append(cut)
            if match:
                partial.add(days[-1])
            elif objects:
                # The day the log stopped in: the last whole line's exit (one without a
                # readable exit marks none; recording it names what is wrong with it).
                stopped = _date_of(objects[-1][1].get("exit_time"))
                if stopped is not None:
                    partial.add(stopped)
    if days:
        present = set(days)
        day = min(days)
        while day < max(days):
            if day not in present:
                warnings.append(f"no trade log for {day}: summaries of that day are partial")
                partial.add(day)
            day += timedelta(days=1)
    return ImportResult(
        trades=_joined(parts), warnings=tuple(warnings), partial_days=tuple(sorted(partial))
    )


def _date_of(text: object) -> date | None:
    try:
        return datetime.fromisoformat(text).date() if isinstance(text, str) else None
    except ValueError:
        return None


#: Characters of a JSON-lines log read at a time when it is the usual one (some 10,000 lines).
_CHUNK: Final = 2_500_000


def _rows_of_one_shape(text: str) -> TradeRows | None:
    """
    The objects of a JSON-lines text as columns, when every line is one and all share their
    fields in one order: it ends with a newline, and a chunk at a time parses as one document
    (``_whole_lines``). None otherwise (``read_jsonl`` then reads it line by line).

    A chunk's dicts are dropped once their values are in the columns: the million dicts of a
    million-line log are never held at once (1.2 GB at the peak instead of 1.8 GB).
    """
    if not text.endswith("\n"):
        return None  # (its last line may be cut short: line by line)
    fields: tuple[str, ...] | None = None
    columns: list[list[Any]] = []
    start = 0
    while start < len(text):
        end = text.find("\n", start + _CHUNK) + 1 or len(text)  # (ends at a line's end)
        objects = _whole_lines(text[start:end])
        if not objects:
            return None
        shapes = set(map(tuple, objects))
        if len(shapes) != 1:
            return None
        (shape,) = shapes
        if fields is None:
            if len(shape) < 2:
                return None  # (itemgetter of one field gives values, not tuples)
            fields, columns = shape, [[] for _ in shape]
        elif shape != fields:
            return None
        values = zip(*map(operator.itemgetter(*fields), objects), strict=True)
        for column, chunk in zip(columns, values, strict=True):
            column.extend(chunk)
        start = end
    return None if fields is None else TradeRows(fields, columns)


def _taken_as_they_are(rows: TradeRows) -> bool:
    """
    Whether every row is what ``_trade_record`` takes as it is (``_trade_records``' test of
    the usual record, a column at a time): only record_trade's fields and no
    ``realizations``, no null or empty value, tags never as text.
    """
    if not set(rows.fields) <= _TRADE_FIELD_SET or "realizations" in rows.fields:
        return False
    for field in rows.fields:
        column = rows.column(field)
        kinds = set(map(type, column))
        if type(None) in kinds or (str in kinds and "" in column):
            return False
        if field == "tags" and str in kinds:
            return False
    return True


def _joined(parts: list[TradeRows | list[dict[str, Any]]]) -> Sequence[dict[str, Any]]:
    """
    The trades of every file in order: one ``TradeRows`` when every file's are columns of
    the same fields, else a tuple of dicts.
    """
    if parts and all(type(p) is TradeRows for p in parts):
        rows = cast("list[TradeRows]", parts)
        if len({r.fields for r in rows}) == 1:
            if len(rows) == 1:
                return rows[0]
            fields = rows[0].fields
            chain = itertools.chain.from_iterable
            return TradeRows(fields, [list(chain(r.column(f) for r in rows)) for f in fields])
    return tuple(itertools.chain.from_iterable(parts))


def _trade_records(
    path: object, place: str, numbered: Iterable[tuple[int, object]]
) -> list[dict[str, Any]]:
    """
    ``_trade_record`` of each numbered record, its place named ``f"{place} {number}"``.
    """
    fields = _TRADE_FIELD_SET
    # _trade_record's test for the usual record, inline: a call and a place name per line
    # cost a sixth of the check (the name is only built for a record that needs more).
    return [
        record
        if type(record) is dict
        and record.keys() <= fields
        and "realizations" not in record
        and None not in (values := record.values())
        and "" not in values
        and type(record.get("tags")) is not str
        else _trade_record(path, f"{place} {i}", record)
        for i, record in numbered
    ]


def _trade_record(path: object, where: str, record: object) -> dict[str, Any]:
    """
    record_trade's keyword arguments from one exported trade: perftrack's derived fields
    (gross_pnl, outcome, risk, r_multiple) dropped, empty values left to their defaults, and
    any other field an error naming the file and the place.
    """
    if not isinstance(record, dict):
        raise _bad(path, where, "not a JSON object")
    if record.keys() <= _TRADE_FIELD_SET and "realizations" not in record:
        # The usual line: only record_trade's fields, every one given. It is used as it is.
        values = record.values()
        if None not in values and "" not in values and type(record.get("tags")) is not str:
            return record
    unknown = set(record) - set(TRADE_FIELDS) - DERIVED_FIELDS
    if unknown:
        raise _bad(path, where, f"unknown field {sorted(unknown)[0]!r}")
    trade = {k: v for k, v in record.items() if k in TRADE_FIELDS and v not in (None, "")}
    if isinstance(trade.get("tags"), str):
        trade["tags"] = split_tags(trade["tags"])
    if "realizations" in trade:
        trade["realizations"] = _steps(path, where, trade["realizations"])
    return trade


def read_json(path: str | Path) -> ImportResult:
    """
    A JSON array of trades, as ``perftrack export trades --format json`` writes it: each an
    object of record_trade's arguments (Decimals as strings, times in ISO 8601 with their
    offset); perftrack's derived fields are ignored.
    """
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except ValueError as e:
        raise _bad(path, "document", f"not JSON ({e})") from None
    if not isinstance(doc, list):
        raise _bad(path, "document", "not a JSON array of trades")
    return ImportResult(trades=tuple(_trade_records(path, "item", enumerate(doc, 1))))


def read_xlsx(path: str | Path) -> ImportResult:
    """
    An Excel workbook of trades, as ``perftrack export trades --format xlsx`` writes it
    (needs the ``xlsx`` extra): a header row of field names, one trade per row. Exact values
    come from the workbook's hidden ``exact`` sheet while the visible cell still shows them.
    """
    from perftrack._xlsx import read_book  # noqa: PLC0415 (optional dependency)

    _header, rows = read_book(path)
    return ImportResult(
        trades=tuple(_trade_record(path, f"row {i}", r) for i, r in enumerate(rows, 2))
    )


def _freqtrade_time(text: str) -> datetime:
    when = datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@exact
def read_freqtrade(path: str | Path, *, strategy: str | None = None) -> ImportResult:
    """
    A freqtrade backtest result (``backtest-result.json``), both trade schemas (``enter_tag``
    and ``is_short``, or the older ``buy_tag``).

    Each trade's net P&L is freqtrade's own ``profit_abs`` (it cannot be rebuilt from rates and
    fee ratios); fees are the fee ratios applied to the entry and exit values. Numbers are read
    as exact decimals from the file's text. The starting balance and freqtrade's own statistics
    are in ``reported``.
    """
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8-sig"), parse_float=Decimal)
    except (UnicodeDecodeError, RecursionError, json.JSONDecodeError) as e:
        raise _bad(path, "file", f"not a JSON document ({e})") from None
    strategies = doc.get("strategy", {}) if isinstance(doc, dict) else None
    if not isinstance(strategies, dict):
        raise _bad(path, "file", "not a freqtrade backtest result (no 'strategy' object)")
    names = [strategy] if strategy else list(strategies)
    trades = []
    reported: dict[str, Any] = {}
    starting = None
    for name in names:
        if name not in strategies:
            raise _bad(path, "strategy", f"no strategy {name!r} (has {sorted(strategies)})")
        result = strategies[name]
        starting = starting or result.get("starting_balance")
        reported[name] = {
            k: result.get(k)
            for k in (
                "total_trades",
                "wins",
                "draws",
                "losses",
                "profit_total_abs",
                "profit_factor",
                "max_drawdown_abs",
                "drawdown_start",
                "drawdown_end",
                "daily_profit",
                "results_per_pair",
                "starting_balance",
            )
        }
        for i, t in enumerate(result.get("trades", ()) if isinstance(result, dict) else ()):
            try:
                trades.append(_freqtrade_trade(name, i, t))
            except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError) as e:
                # (a missing field, a number or date that is not one: name the trade)
                why = f"not a freqtrade trade ({type(e).__name__}: {e})"
                raise _bad(path, f"strategy {name!r} trade {i}", why) from None
    return ImportResult(trades=tuple(trades), starting_equity=starting, reported=reported)


def _freqtrade_trade(name: str, i: int, t: dict[str, Any]) -> dict[str, Any]:
    """
    One freqtrade trade as record_trade's arguments. Its fees are money: worked out in the
    money context that ``read_freqtrade`` (``exact``) runs in, not the caller's.
    """
    short = bool(t.get("is_short", False))
    amount = Decimal(t["amount"])
    entry, exit_ = Decimal(t["open_rate"]), Decimal(t["close_rate"])
    fees = amount * entry * Decimal(t["fee_open"]) + amount * exit_ * Decimal(t["fee_close"])
    stop = t.get("initial_stop_loss_abs")
    stop = Decimal(stop) if stop is not None else None
    if stop is not None and (stop >= entry if not short else stop <= entry):
        stop = None  # a stop on the wrong side carries no risk
    tag = t.get("enter_tag", t.get("buy_tag"))
    return {
        "trade_id": f"{name}-{i}",
        "symbol": t["pair"],
        "side": "short" if short else "long",
        "quantity": amount,
        "entry_price": entry,
        "exit_price": exit_,
        "entry_time": _freqtrade_time(t["open_date"]),
        "exit_time": _freqtrade_time(t["close_date"]),
        "fees": fees,
        "strategy": name,
        "stop_price": stop,
        "tags": tuple(x for x in (tag, t.get("exit_reason")) if x),
        "net_pnl": Decimal(t["profit_abs"]),
    }


@exact
def read_mt5(path: str | Path, *, timezone: Any = UTC) -> ImportResult:
    """
    A MetaTrader 5 "Trade History Report" (.xlsx; needs the ``xlsx`` extra).

    Trades come from the Positions table, each with MT5's own Profit as its net P&L (contract
    sizes differ by symbol, so prices cannot rebuild it) plus Commission and Swap (signed: a
    swap can be a credit) as its net P&L, and the charges among them as fees. The
    first deposit in Deals is the starting equity. MT5 writes the broker server's local time
    without an offset; ``timezone`` says which (default UTC).
    """
    try:
        import openpyxl  # noqa: PLC0415 (optional dependency)
    except ImportError as e:  # pragma: no cover - depends on the environment
        msg = "reading MT5 reports needs openpyxl: pip install 'perftrack[xlsx]'"
        raise ImportError(msg) from e
    book = openpyxl.load_workbook(path, data_only=True, read_only=True)
    try:
        rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()  # read-only workbooks keep their file open until closed
    section = None
    trades: list[dict[str, Any]] = []
    starting = None
    reported: dict[str, Any] = {}
    warnings: list[str] = []

    def when(text: str) -> datetime:
        return datetime.strptime(text, "%Y.%m.%d %H:%M:%S").replace(tzinfo=timezone)

    for row in rows:
        first = row[0]
        if first in ("Positions", "Orders", "Deals", "Working Orders", "Results"):
            section = first
            continue
        if section == "Positions" and isinstance(first, str) and first[:2].isdigit():
            (
                t_open,
                ticket,
                symbol,
                kind,
                volume,
                price,
                _stop_loss,
                target,
                t_close,
                close,
                commission,
                swap,
                profit,
            ) = row[:13]
            side = "short" if str(kind).lower() == "sell" else "long"
            entry = Decimal(str(price))
            # S / L is not carried as the stop: Volume is in lots and Profit in the account
            # currency (contract sizes and conversion differ by symbol), so |entry - stop| x
            # lots is no risk in money and R multiples would be off by the contract size.
            target_price = Decimal(str(target)) if target not in (None, "") else None
            if target_price is not None and (
                target_price >= entry if side == "short" else target_price <= entry
            ):
                target_price = None
            # Commission and swap are signed cash flows beside Profit (a swap can be a
            # credit); the trade's net is all three, its fees the costs among them.
            commission_, swap_ = Decimal(str(commission or 0)), Decimal(str(swap or 0))
            charges = commission_ + swap_
            # Each charge is a fee on its own: a swap credit does not hide the commission.
            fees = -(min(commission_, Decimal(0)) + min(swap_, Decimal(0)))
            trades.append(
                {
                    "trade_id": f"mt5-{ticket}",
                    "symbol": symbol,
                    "side": side,
                    "quantity": Decimal(str(volume)),
                    "entry_price": entry,
                    "exit_price": Decimal(str(close)),
                    "entry_time": when(t_open),
                    "exit_time": when(t_close),
                    "fees": fees,
                    "strategy": "mt5",
                    "target_price": target_price,
                    "net_pnl": Decimal(str(profit)) + charges,
                }
            )
        elif section == "Deals" and len(row) > 11 and row[3] == "balance" and starting is None:
            starting = Decimal(str(row[11]))  # the Profit column of the first deposit
        elif (
            section == "Deals" and len(row) > 11 and isinstance(first, str) and first[:2].isdigit()
        ):
            # Not imported: further deposits and withdrawals, credits, charges, corrections
            # (anything but buy and sell), and deal fees, which the Positions table lacks.
            if str(row[3]).lower() not in ("buy", "sell"):
                warnings.append(
                    f"{path}: deal {row[1]} at {first} ({row[3]}, {row[11]}, {row[13] or ''})"
                    " is not imported"
                )
            elif row[9] not in (None, "", 0):
                warnings.append(
                    f"{path}: deal {row[1]} at {first} has a Fee of {row[9]}, which the"
                    " Positions table leaves out: not imported"
                )
        elif section == "Results":
            cells = [c for c in row if c is not None]
            for label, value in zip(cells[::2], cells[1::2], strict=False):
                reported[str(label).rstrip(":")] = value
    return ImportResult(
        trades=tuple(trades), starting_equity=starting, reported=reported, warnings=tuple(warnings)
    )


_TD_TRADE = re.compile(r"(SOLD|BOT) ([+-]?[\d,]+) (\S+) @([\d.]+)")


@exact
def read_td_ameritrade(path: str | Path, *, timezone: Any = None) -> ImportResult:
    """
    A TD Ameritrade account statement (CSV): the executions of its "Cash Balance" section,
    with their fees, as fills to group into round trips. The statement's opening balance
    (the first cash row's BALANCE less its AMOUNT and fees) is the starting equity; cash rows
    that are no execution (dividends, interest, journal entries) are named in warnings. Its
    times are US Eastern without an offset; ``timezone`` says otherwise (default
    America/New_York).
    """
    zone = _resolve_zone("America/New_York") if timezone is None else timezone
    text = Path(path).read_text(encoding="utf-8-sig")
    fills: list[Fill] = []
    section = None
    opening: Decimal | None = None
    warnings: list[str] = []
    for row in csv.reader(io.StringIO(text)):
        if not row or not any(row):
            continue
        if len([c for c in row if c]) == 1 and not row[0].startswith(("DATE", ",")):
            section = row[0].strip()
            continue
        if section != "Cash Balance" or len(row) < 9 or row[2] in ("", "TYPE"):
            continue
        fee = sum((-_money(c) for c in row[5:7] if c.strip()), Decimal(0))
        if opening is None and row[7].strip() and row[8].strip():
            opening = _money(row[8]) - _money(row[7]) + fee  # the balance before this row
        if row[2] != "TRD":
            warnings.append(
                f"{path}: {row[0]} {row[2]} {row[4]!r} ({row[7]}) is no execution: not imported"
            )
            continue
        match = _TD_TRADE.search(row[4])
        if match is None:
            raise _bad(path, f"row {row[:5]}", "cannot read the execution")
        verb, qty, symbol, price = match.groups()
        quantity = Decimal(qty.replace(",", ""))
        quantity = abs(quantity) if verb == "BOT" else -abs(quantity)
        time = datetime.strptime(f"{row[0]} {row[1]}", "%m/%d/%Y %H:%M:%S").replace(tzinfo=zone)
        fills.append(
            Fill(
                time=time,
                symbol=symbol,
                quantity=quantity,
                price=Decimal(price),
                fee=fee,
                fill_id=f"{row[3]}-{len(fills)}",
            )
        )
    return ImportResult(fills=tuple(fills), starting_equity=opening, warnings=tuple(warnings))


def _money(text: str) -> Decimal:
    try:
        return Decimal(text.replace("$", "").replace(",", "").strip())
    except InvalidOperation:
        raise InvalidInputError(f"'amount' is not money (got {text!r})") from None


def read_csv(
    path: str | Path, mapping: Mapping[str, str] | None = None, *, delimiter: str = ","
) -> ImportResult:
    """
    A CSV of whole trades. ``mapping`` maps record_trade's argument names to the file's
    column names (missing names map to themselves), e.g. ``{"symbol": "Ticker",
    "exit_time": "Closed"}``; ``tags`` may hold several tags separated by ``|``, and
    ``realizations`` a trade's steps as JSON (as ``perftrack export`` writes them).
    """
    mapping = dict(mapping or {})
    names = TRADE_FIELDS
    trades = []
    with Path(path).open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f, delimiter=delimiter)
        columns = set(reader.fieldnames or ())
        for needed in (
            "symbol",
            "side",
            "quantity",
            "entry_price",
            "exit_price",
            "entry_time",
            "exit_time",
        ):
            if mapping.get(needed, needed) not in columns:
                raise _bad(
                    path, "header", f"no column {mapping.get(needed, needed)!r} for {needed!r}"
                )
        for line, row in enumerate(reader, 2):
            trade: dict[str, Any] = {}
            for name in names:
                value = row.get(mapping.get(name, name))
                if value in (None, ""):
                    continue
                value = unquote_cell(value)  # what perftrack's export quoted against formulas
                if name == "tags":
                    trade[name] = split_tags(value)
                elif name == "realizations":
                    trade[name] = _steps(path, f"row {line}", value)
                else:
                    trade[name] = value
            trades.append(trade)
    return ImportResult(trades=tuple(trades))
