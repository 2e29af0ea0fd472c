"""
Importers reproduce the numbers the other tools computed themselves, from their real files.
"""

from __future__ import annotations

import csv
import itertools
import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import perftrack as pt
from perftrack import importers
from perftrack._rows import TradeRows
from perftrack.errors import InvalidInputError
from perftrack.importers._files import json_objects
from tests.observe import fingerprint

EXTERNAL = Path(__file__).parent.parent.parent / "shared" / "data" / "external"
needs_data = pytest.mark.skipif(
    not EXTERNAL.is_dir(), reason="../shared/data/external (other tools' real files) is absent"
)


def loaded(result: importers.ImportResult) -> pt.Tracker:
    tracker = pt.Tracker(result.starting_equity or "10000", timezone="UTC")
    importers.load_into(tracker, result)
    return tracker


#: (file, strategy): every strategy of both trade schemas.
RUNS = [
    ("backtest-result.json", "StrategyTestV3"),
    ("backtest-result_multistrat.json", "StrategyTestV2"),
    ("backtest-result_multistrat.json", "TestStrategy"),
]


@pytest.fixture(name="run", scope="module", params=RUNS, ids=[f"{f}:{s}" for f, s in RUNS])
def _run(request):
    """
    (freqtrade's own statistics block as the file holds it, the import, the tracker).
    """
    if not EXTERNAL.is_dir():
        pytest.skip("../shared/data/external (other tools' real files) is absent")
    name, strategy = request.param
    stats = json.loads((EXTERNAL / name).read_text())["strategy"][strategy]
    result = importers.read_freqtrade(EXTERNAL / name, strategy=strategy)
    return stats, result, loaded(result)


def freqtrade_time(text: str) -> datetime:
    """
    freqtrade's drawdown_start/end: "YYYY-MM-DD HH:MM:SS", UTC.
    """
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@needs_data
class TestFreqtrade:
    """Both backtest schemas: freqtrade's own statistics in the file, reproduced."""

    def test_counts_on_profit_abs(self, run):
        stats, _result, tracker = run
        s = tracker.summary()
        (total,) = [r for r in stats["results_per_pair"] if r["key"] == "TOTAL"]
        assert stats["total_trades"] == total["trades"] == s.trades
        # The TOTAL row counts on profit_abs, as perftrack does; the top-level counts use
        # profit_ratio, where 122 exits round to 0.0 (see docs/howto-import.md).
        assert (total["wins"], total["draws"], total["losses"]) == (s.wins, s.breakeven, s.losses)
        by_ratio = [t["profit_ratio"] for t in stats["trades"]]
        assert (stats["wins"], stats["draws"], stats["losses"]) == (
            sum(r > 0 for r in by_ratio),
            sum(r == 0 for r in by_ratio),
            sum(r < 0 for r in by_ratio),
        )

    def test_totals_and_profit_factor(self, run):
        stats, result, tracker = run
        s = tracker.summary()
        exact = sum((Decimal(repr(t["profit_abs"])) for t in stats["trades"]), Decimal(0))
        assert exact == s.net_pnl  # the exact sum of the file's numbers
        assert stats["profit_total_abs"] == float(s.net_pnl)  # freqtrade's float sum
        if "profit_factor" in stats:  # the older schema has none
            assert stats["profit_factor"] == s.profit_factor
        assert Decimal(repr(stats["starting_balance"])) == result.starting_equity

    def test_max_drawdown_with_start_and_end(self, run):
        stats, result, tracker = run
        start, end, depth = tracker.max_drawdown_period()
        assert abs(depth - Decimal(repr(stats["max_drawdown_abs"]))) < Decimal("1e-18")
        assert tracker.summary().max_drawdown == depth
        assert freqtrade_time(stats["drawdown_start"]) == start
        assert freqtrade_time(stats["drawdown_end"]) == end
        # The cumulative profit at the peak and the trough: freqtrade's are float sums of
        # 179 terms near 0.03, exact to within 179 * 0.03 * 2**-53 < 1e-15.
        curve = dict(tracker.equity_curve())
        high = curve[start] - result.starting_equity
        low = curve[end] - result.starting_equity
        assert abs(high - Decimal(repr(stats["max_drawdown_high"]))) < Decimal("1e-15")
        assert abs(low - Decimal(repr(stats["max_drawdown_low"]))) < Decimal("1e-15")

    def test_daily_profits(self, run):
        stats, _result, tracker = run
        ours = {d.start.date().isoformat(): d.net_pnl for d in tracker.periods("day")}
        theirs = stats["daily_profit"]
        assert 21 == len(theirs)
        assert {day for day, _ in theirs} == set(ours)
        for day, profit in theirs:
            # freqtrade rounds each day's sum to 10 decimals.
            assert abs(ours[day] - Decimal(repr(profit))) <= Decimal("5e-11"), day

    def test_per_pair_rows(self, run):
        stats, _result, tracker = run
        pairs = tracker.breakdown("symbol")
        rows = [r for r in stats["results_per_pair"] if r["key"] != "TOTAL"]
        assert {r["key"] for r in rows if r["trades"]} == set(pairs)
        for row in rows:
            if not row["trades"]:
                continue
            mine = pairs[row["key"]]
            assert (row["trades"], row["wins"], row["draws"], row["losses"]) == (
                mine.trades,
                mine.wins,
                mine.breakeven,
                mine.losses,
            )
            assert abs(mine.net_pnl - Decimal(repr(row["profit_total_abs"]))) < Decimal("1e-15")

    def test_both_strategies_of_one_file(self):
        result = importers.read_freqtrade(EXTERNAL / "backtest-result_multistrat.json")
        doc = json.loads((EXTERNAL / "backtest-result_multistrat.json").read_text())
        tracker = loaded(result)
        assert set(doc["strategy"]) == set(tracker.breakdown("strategy"))
        for name, summary in tracker.breakdown("strategy").items():
            assert doc["strategy"][name]["total_trades"] == summary.trades


def mt5_results(path: Path) -> dict[str, object]:
    """
    MT5's Results block, read straight from the sheet: each "Label:" cell and the value in the
    next filled cell of its row.
    """
    import openpyxl

    book = openpyxl.load_workbook(path, data_only=True)
    rows = [[c for c in row if c is not None] for row in book.worksheets[0].values]
    start = next(i for i, row in enumerate(rows) if row[:1] == ["Results"])
    figures: dict[str, object] = {}
    for row in rows[start + 1 :]:
        for label, value in itertools.pairwise(row):
            if isinstance(label, str) and label.endswith(":"):
                figures[label[:-1]] = value
    return figures


def count_and_percent(text: object) -> tuple[Decimal, str]:
    """
    "2 (66.67%)" -> (2, "66.67%"); "23.50 (0.78%)" -> (23.50, "0.78%").
    """
    number, _, rest = str(text).partition(" (")
    return Decimal(number), rest.rstrip(")")


@needs_data
class TestMetaTrader5:
    """MetaTrader5.xlsx: every figure of MT5's Results block, reproduced."""

    def test_results_block(self):
        path = EXTERNAL / "MetaTrader5.xlsx"
        mt5 = mt5_results(path)
        result = importers.read_mt5(path)
        tracker = loaded(result)
        s = tracker.summary()
        money = {k: Decimal(repr(v)) for k, v in mt5.items() if isinstance(v, float | int)}
        assert money["Total Net Profit"] == s.net_pnl
        assert money["Gross Profit"] == s.gross_profit
        assert money["Gross Loss"] == s.gross_loss
        assert money["Profit Factor"] == Decimal(repr(round(s.profit_factor, 6)))
        assert money["Expected Payoff"] == s.expectancy.quantize(Decimal("0.000001"))
        assert money["Total Trades"] == s.trades
        assert money["Largest profit trade"] == s.best_trade
        assert money["Largest loss trade"] == s.worst_trade
        assert money["Average profit trade"] == s.avg_win
        assert money["Average loss trade"] == s.avg_loss
        for label, side in (("Short Trades (won %)", "short"), ("Long Trades (won %)", "long")):
            count, won = count_and_percent(mt5[label])
            mine = tracker.summary(side=side)
            assert (count, won) == (mine.trades, f"{mine.win_rate or 0:.2%}")
        assert count_and_percent(mt5["Profit Trades (% of total)"]) == (s.wins, f"{s.win_rate:.2%}")
        assert count_and_percent(mt5["Loss Trades (% of total)"]) == (
            s.losses,
            f"{s.losses / s.trades:.2%}",
        )
        assert count_and_percent(mt5["Maximum consecutive wins ($)"])[0] == s.max_win_streak
        assert count_and_percent(mt5["Maximum consecutive losses ($)"])[0] == s.max_loss_streak
        depth, pct = count_and_percent(mt5["Balance Drawdown Maximal"])
        assert (depth, pct) == (s.max_drawdown, f"{s.max_drawdown_pct:.2%}")
        lowest = min(e for _, e in tracker.equity_curve())
        assert money["Balance Drawdown Absolute"] == result.starting_equity - lowest

    def test_starting_deposit(self):
        result = importers.read_mt5(EXTERNAL / "MetaTrader5.xlsx")
        assert Decimal(3000) == result.starting_equity


class TestMetaTrader5Charges:
    """Commission and swap are signed cash flows: a swap credit adds to the trade's net."""

    def test_commission_and_swap(self, tmp_path):
        import openpyxl

        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(["Positions"])
        sheet.append(["Time", "Position", "Symbol", "Type", "Volume", "Price", "S / L", "T / P"])
        for ticket, commission, swap in ((1, -1.5, 2.25), (2, -1.5, -0.75)):
            sheet.append(
                [
                    "2024.05.06 10:00:00",
                    ticket,
                    "EURUSD",
                    "buy",
                    "0.1",
                    1.075,
                    1.07,
                    1.08,
                    "2024.05.06 11:00:00",
                    1.076,
                    commission,
                    swap,
                    10,
                ]
            )
        path = tmp_path / "mt5.xlsx"
        book.save(path)
        trades = loaded(importers.read_mt5(path)).trades()
        assert [Decimal("10.75"), Decimal("7.75")] == [t.net_pnl for t in trades]
        assert [Decimal("1.5"), Decimal("2.25")] == [t.fees for t in trades]  # each charge
        assert [Decimal("1.08")] * 2 == [t.target_price for t in trades]


@needs_data
class TestTDAmeritrade:
    """A broker statement's fills grouped FIFO into round trips."""

    def test_two_round_trips(self):
        tracker = pt.Tracker("25684.07", timezone="UTC")
        importers.load_into(tracker, importers.read_td_ameritrade(EXTERNAL / "TD_Ameritrade.csv"))
        trades = tracker.trades()
        assert [(t.symbol, t.side) for t in trades] == [("AMZN", "short"), ("PYPL", "long")]
        assert [Decimal("3.03"), Decimal("15.00")] == [t.gross_pnl for t in trades]
        assert [Decimal("0.10"), Decimal("0.41")] == [t.fees for t in trades]
        assert Decimal("17.52") == tracker.summary().net_pnl
        assert Decimal("25701.59") == tracker.live.equity  # the statement's closing balance

    def test_balances_of_the_statement(self):
        """
        The statement's own Cash Balance column: the opening balance (before the first
        execution) plus the round trips' net is the closing balance, and the fees are its
        TOTAL row's.
        """
        text = (EXTERNAL / "TD_Ameritrade.csv").read_text(encoding="utf-8-sig")
        rows = list(csv.reader(text.splitlines()))
        executions = [r for r in rows if len(r) > 8 and r[2] == "TRD"]

        def money(text: str) -> Decimal:
            return Decimal(text.replace("$", "").replace(",", "").strip() or "0")

        first = executions[0]
        opening = money(first[8]) - money(first[7]) - money(first[5]) - money(first[6])
        closing = money(executions[-1][8])
        (total,) = [r for r in rows if len(r) > 5 and r[4] == "TOTAL"]
        tracker = pt.Tracker(opening, timezone="UTC")
        importers.load_into(tracker, importers.read_td_ameritrade(EXTERNAL / "TD_Ameritrade.csv"))
        assert closing == tracker.live.equity
        assert closing - opening == tracker.summary().net_pnl
        assert money(total[5]) == tracker.summary().fees


class TestJsonl:
    """JSON-lines trade logs; gaps and cut lines are skipped, reported and marked partial."""

    def _line(self, day: str, exit_price: str) -> str:
        return (
            json.dumps(
                {
                    "symbol": "X",
                    "side": "long",
                    "quantity": "1",
                    "entry_price": "10",
                    "exit_price": exit_price,
                    "entry_time": f"{day}T10:00:00+00:00",
                    "exit_time": f"{day}T11:00:00+00:00",
                    "fees": "0.10",
                }
            )
            + "\n"
        )

    def test_gap_and_cut_line(self, tmp_path):
        (tmp_path / "trades-2025-01-06.jsonl").write_text(self._line("2025-01-06", "11"))
        (tmp_path / "trades-2025-01-08.jsonl").write_text(
            self._line("2025-01-08", "12") + self._line("2025-01-08", "9")[:40]
        )
        result = importers.read_jsonl(sorted(tmp_path.glob("*.jsonl")))
        assert len(result.trades) == 2
        assert (date(2025, 1, 7), date(2025, 1, 8)) == result.partial_days
        tracker = loaded(result)
        assert Decimal("2.80") == tracker.summary().net_pnl
        assert tracker.summary().partial
        assert not tracker.summary("day", at=date(2025, 1, 6)).partial
        assert tracker.summary("day", at=date(2025, 1, 7)).partial

    def test_missing_day_file(self, tmp_path):
        first, last = tmp_path / "trades-2025-01-06.jsonl", tmp_path / "trades-2025-01-08.jsonl"
        first.write_text(self._line("2025-01-06", "11"))
        last.write_text(self._line("2025-01-08", "12"))
        gone = tmp_path / "trades-2025-01-07.jsonl"  # listed, but not there
        result = importers.read_jsonl([first, gone, last])
        assert (date(2025, 1, 7),) == result.partial_days
        assert any("trades-2025-01-07.jsonl: missing" in w for w in result.warnings)
        tracker = loaded(result)
        assert [False, True, False] == [
            tracker.summary("day", at=date(2025, 1, d)).partial for d in (6, 7, 8)
        ]
        assert tracker.summary("week", at=date(2025, 1, 6)).partial

    def test_cut_line_in_a_file_not_named_by_day(self, tmp_path):
        path = tmp_path / "bot.jsonl"
        path.write_text(self._line("2025-01-06", "11") + self._line("2025-01-09", "9")[:50])
        result = importers.read_jsonl([path])
        assert 1 == len(result.trades)
        assert (date(2025, 1, 6),) == result.partial_days  # the day the log stopped in
        assert any("cut short" in w for w in result.warnings)

    @pytest.mark.parametrize("exit_time", [None, "not a time", 5])
    def test_a_cut_log_whose_last_whole_line_has_no_exit_reads(self, tmp_path, exit_time):
        """The day the log stopped in comes from the last whole line's exit; without a readable
        one no day is marked, and recording that line names what is wrong with it."""
        line = json.loads(self._line("2025-01-06", "11"))
        line["exit_time"] = exit_time
        path = tmp_path / "bot.jsonl"
        path.write_text(json.dumps(line) + "\n" + self._line("2025-01-09", "9")[:50])
        result = importers.read_jsonl([path])
        assert () == result.partial_days and any("cut short" in w for w in result.warnings)
        with pytest.raises(InvalidInputError, match="exit_time"):
            loaded(result)

    def test_the_command_warns_and_marks_partial(self, tmp_path, capfd):
        from perftrack.cli import main

        (tmp_path / "trades-2025-01-06.jsonl").write_text(self._line("2025-01-06", "11"))
        (tmp_path / "trades-2025-01-08.jsonl").write_text(
            self._line("2025-01-08", "12") + '{"symbol": "X", "si'
        )
        data = str(tmp_path / "store")
        files = [str(p) for p in sorted(tmp_path.glob("*.jsonl"))]
        assert 0 == main(["import", "jsonl", *files, "--data", data])
        err = capfd.readouterr().err
        assert "warning: no trade log for 2025-01-07" in err and "cut short" in err
        assert 0 == main(["summary", "--data", data, "--format", "json"])
        doc = json.loads(capfd.readouterr().out)
        assert (2, True) == (doc["summary"]["trades"], doc["summary"]["partial"])

    def test_bad_line_in_the_middle_is_an_error(self, tmp_path):
        path = tmp_path / "t.jsonl"
        path.write_text("{nope\n" + self._line("2025-01-06", "11"))
        with pytest.raises(InvalidInputError, match="line 1"):
            importers.read_jsonl([path])

    def test_each_line_as_record_trade_takes_it(self, tmp_path):
        """Usual lines are taken as they are; a line with derived fields, empty values or
        tags as text is cleaned up, whichever line of the file it is."""
        usual = json.loads(self._line("2025-01-06", "11"))
        odd = [
            {**usual, "gross_pnl": "1", "outcome": "win"},
            {**usual, "stop_price": None, "strategy": ""},
            {**usual, "tags": "a|b"},
        ]
        lines = [usual, odd[0], usual, odd[1], odd[2], usual]
        path = tmp_path / "t.jsonl"
        path.write_text("".join(json.dumps(line) + "\n" for line in lines))
        assert [usual, usual, usual, usual, {**usual, "tags": ("a", "b")}, usual] == list(
            importers.read_jsonl([path]).trades
        )

    def test_lines_end_at_newlines_only(self, tmp_path):
        """JSON strings may hold U+2028, U+2029 and U+0085 raw (a JavaScript bot writes them
        so): they are no line ends, and str.splitlines() would cut the record there. Blank
        lines and CRLF endings are still fine."""
        usual = json.loads(self._line("2025-01-06", "11"))
        odd = {**usual, "strategy": "mean\u2028rev\u2029x\x85y"}
        text = json.dumps(odd, ensure_ascii=False) + "\r\n\n  \r\n" + json.dumps(usual) + "\n"
        path = tmp_path / "t.jsonl"
        path.write_text(text, encoding="utf-8", newline="")
        assert "\u2028" in path.read_text(encoding="utf-8")
        assert [odd, usual] == list(importers.read_jsonl([path]).trades)

    def test_a_bad_line_after_a_raw_line_separator_is_named(self, tmp_path):
        usual = json.loads(self._line("2025-01-06", "11"))
        odd = json.dumps({**usual, "strategy": "a\u2028b"}, ensure_ascii=False)
        path = tmp_path / "t.jsonl"
        path.write_text(odd + "\n{nope\n" + json.dumps(usual) + "\n", encoding="utf-8")
        with pytest.raises(InvalidInputError, match="line 2: not JSON"):
            importers.read_jsonl([path])

    def test_an_unknown_field_is_named_with_its_line(self, tmp_path):
        path = tmp_path / "t.jsonl"
        good = self._line("2025-01-06", "11")
        path.write_text(good * 3 + good.replace('"fees"', '"fee"') + good)
        with pytest.raises(InvalidInputError, match="line 4: unknown field 'fee'"):
            importers.read_jsonl([path])

    def test_what_it_read_sits_in_the_oldest_generation(self, tmp_path):
        """The collector runs again after the read, and the records it kept are not left
        for the young collections to walk."""
        import gc

        line = {**json.loads(self._line("2025-01-06", "11")), "tags": ["a"]}
        path = tmp_path / "t.jsonl"
        path.write_text((json.dumps(line) + "\n") * 3)
        gc.collect()
        usual = importers.read_jsonl([path]).trades
        path.write_text((json.dumps(line) + "\n") * 2 + json.dumps({**line, "fees": None}) + "\n")
        cleaned = importers.read_jsonl([path]).trades  # (a null: cleaned, as dicts)
        assert gc.isenabled()
        assert isinstance(usual, TradeRows) and isinstance(cleaned, tuple)
        # Columns (lists), and dicts: a dict of strings alone is not tracked by the collector,
        # one holding a list is.
        kept = [*usual._columns, *cleaned]
        assert all(map(gc.is_tracked, kept))
        oldest = {id(o) for o in gc.get_objects(generation=2)}
        assert {id(o) for o in kept} <= oldest


def _read_line_by_line(text: str) -> tuple[list[tuple[int, Any]], str | None] | str:
    """
    What a JSON-lines text holds, by the obvious way: json.loads of every non-blank line;
    a last line without newline that does not parse is cut short. The error, as text, for
    any other line that is not an object.
    """
    lines = text.split("\n")
    last_cut = None if text.endswith("\n") else len(lines)
    if last_cut is None:
        lines.pop()
    objects = []
    for i, line in enumerate(lines, 1):
        if not line or line.isspace():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            if i == last_cut:
                return objects, f"f: last line {i} is cut short, skipped"
            return f"line {i}: not JSON"
        if not isinstance(value, dict):
            return f"line {i}: not a JSON object"
        objects.append((i, value))
    return objects, None


#: Pieces of lines: whole objects, brackets, commas, quotes and spaces.
_PIECES = st.sampled_from(
    [
        '{"a": 1}',
        '{"b": ["x", "y"]}',
        '{"c": "{"}',
        '{"k": [',
        "]}",
        "{",
        "}",
        "[",
        "]",
        ",",
        '"',
        ":",
        " ",
        "\r",
        "1",
    ]
)
_PIECEWISE = st.lists(st.lists(_PIECES, max_size=6).map("".join), max_size=6).map("\n".join)
_OBJECTS = st.recursive(
    st.builds(dict, a=st.integers(0, 9)),
    lambda inner: st.builds(dict, k=st.lists(inner, min_size=1, max_size=3)),
    max_leaves=6,
)


@st.composite
def _cut_at_commas(draw):
    """
    Objects of an array (some holding lists of objects), cut into lines at some of its
    commas, nested ones too: texts that parse as one array when their commas are put back,
    of which only those cut at exactly the top-level commas are one object per line.
    """
    body = ", ".join(json.dumps(o) for o in draw(st.lists(_OBJECTS, min_size=1, max_size=5)))
    pieces = body.split(", ")
    cuts = draw(st.lists(st.booleans(), min_size=len(pieces) - 1, max_size=len(pieces) - 1))
    text = pieces[0]
    for cut, piece in zip(cuts, pieces[1:], strict=True):
        text += ("\n" if cut else ", ") + piece
    return text


class TestJsonObjects:
    """A JSON-lines text parses as one document when its shape allows: the same objects,
    warnings and errors as json.loads line by line."""

    @given(text=st.one_of(_PIECEWISE, _cut_at_commas()), newline_at_end=st.booleans())
    def test_same_as_line_by_line(self, text, newline_at_end):
        text += "\n" if newline_at_end and text else ""
        expected = _read_line_by_line(text)
        try:
            got = json_objects("f", text)
        except InvalidInputError as e:
            assert isinstance(expected, str), (text, expected)
            assert str(e) == f"'file' f: {expected}"
        else:
            assert got == expected, text

    def test_lines_that_parse_as_one_array_are_still_lines(self):
        """Joined by commas these three lines are an array of three objects; the second and
        third are no objects on their own."""
        text = '{"a": 1}, {"b": 2}\n{"c": [{"d": 3}\n{"e": 4}]}\n'
        assert 3 == len(json.loads("[" + text.replace("\n", ",\n", 2) + "]"))
        with pytest.raises(InvalidInputError, match="line 1: not JSON"):
            json_objects("f", text)

    def test_a_brace_in_a_value_and_a_cut_last_line(self):
        text = '{"a": "{"}\r\n{"b": 2}\n{"c": 3}\n{"d"'
        assert (
            [(1, {"a": "{"}), (2, {"b": 2}), (3, {"c": 3})],
            "f: last line 4 is cut short, skipped",
        ) == json_objects("f", text)
        whole = '{"b": 2}\n{"c": 3}\n{"d": 4}'
        assert ([(1, {"b": 2}), (2, {"c": 3}), (3, {"d": 4})], None) == json_objects("f", whole)

    def test_keys_are_shared(self):
        """(The reason for parsing as one document: one string per key, not per line.)"""
        objects = json_objects("f", '{"symbol": "a"}\n{"symbol": "b"}\n')[0]
        (first,), (second,) = (list(o) for _, o in objects)
        assert first is second


_FIELD_VALUES = {
    "symbol": st.sampled_from(["X", "Y{", ""]),
    "side": st.sampled_from(["long", "short"]),
    "quantity": st.sampled_from(["1", 2, "0.5"]),
    "entry_price": st.sampled_from(["10", "11.5"]),
    "exit_price": st.sampled_from(["12", "9.25"]),
    "entry_time": st.just("2025-01-06T10:00:00+00:00"),
    "exit_time": st.sampled_from(["2025-01-06T11:00:00+00:00", "2025-01-07T11:00:00+00:00"]),
    "fees": st.sampled_from(["0.10", None, ""]),
    "strategy": st.sampled_from(["a", "b"]),
    "tags": st.sampled_from([["t"], [], "t|u", ["t", "u"]]),
    "outcome": st.just("win"),  # (derived: dropped)
}
_REQUIRED = ["symbol", "side", "quantity", "entry_price", "exit_price", "entry_time", "exit_time"]


@st.composite
def _trade_lines(draw):
    """
    Lines of one shape (often) or several, with the values a cleaning or a refusal needs now
    and then: empty or null values, tags as text, a derived field, a "{" in a name.
    """
    optional = draw(st.lists(st.sampled_from(sorted(set(_FIELD_VALUES) - set(_REQUIRED)))))
    fields = list(dict.fromkeys(_REQUIRED + optional))
    lines = []
    one_shape = draw(st.booleans())  # (the columns' path: every line's fields in one order)
    clean = draw(st.booleans())  # (no empty or null value: the rest decides the path)
    for _ in range(draw(st.integers(1, 8))):
        these = fields if one_shape or draw(st.booleans()) else draw(st.permutations(fields))
        values = {f: draw(_FIELD_VALUES[f]) for f in these}
        if clean:
            values = {f: "1" if v in ("", None) else v for f, v in values.items()}
        lines.append(values)
    return lines


class TestJsonlAsColumns:
    """A log read as columns gives what reading it line by line gives, and the same tracker."""

    @given(lines=_trade_lines())
    def test_same_rows_as_line_by_line(self, tmp_path_factory, lines):
        from perftrack.importers._files import _trade_record

        path = tmp_path_factory.mktemp("log") / "t.jsonl"
        path.write_text("".join(json.dumps(line) + "\n" for line in lines))
        expected = [_trade_record(path, f"line {i}", line) for i, line in enumerate(lines, 1)]
        trades = importers.read_jsonl([path]).trades
        assert list(trades) == expected and trades == tuple(expected)
        by_columns, by_dicts = pt.Tracker("10000"), pt.Tracker("10000")
        try:
            importers.load_into(by_dicts, importers.ImportResult(trades=tuple(expected)))
        except InvalidInputError as e:
            with pytest.raises(type(e), match=re.escape(str(e))):
                importers.load_into(by_columns, importers.ImportResult(trades=trades))
        else:
            importers.load_into(by_columns, importers.ImportResult(trades=trades))
        assert fingerprint(by_columns) == fingerprint(by_dicts)

    @pytest.mark.parametrize(
        "change",
        [{"tags": "t|u"}, {"fees": None}, {"fees": ""}, {"outcome": "win"}, {"strategy": "{a}"}],
    )
    def test_a_log_of_one_shape_that_needs_cleaning(self, tmp_path, change):
        """Every line in one shape, one of them with tags as text, a null or empty value, a
        derived field, or a brace: cleaned (or read) as line by line."""
        from perftrack.importers._files import _trade_record

        line = {"symbol": "X", "side": "long", "quantity": "1", "entry_price": "10"}
        line |= {"exit_price": "12", "entry_time": "2025-01-06T10:00:00+00:00"}
        line |= {"exit_time": "2025-01-06T11:00:00+00:00", "fees": "1", "tags": ["t"]}
        line |= {"strategy": "a"}
        odd = {**line, **change} if "outcome" not in change else {**change, **line}
        lines = [line, odd, line] if "outcome" not in change else [odd, odd]
        path = tmp_path / "t.jsonl"
        path.write_text("".join(json.dumps(x) + "\n" for x in lines))
        expected = [_trade_record(path, "", x) for x in lines]
        assert list(importers.read_jsonl([path]).trades) == expected

    def test_the_usual_log_is_read_as_columns(self, tmp_path):
        line = {"symbol": "X", "side": "long", "quantity": "1", "entry_price": "10"}
        line |= {"exit_price": "12", "entry_time": "2025-01-06T10:00:00+00:00"}
        line |= {"exit_time": "2025-01-06T11:00:00+00:00", "tags": ["t"]}
        files = [tmp_path / "trades-2025-01-06.jsonl", tmp_path / "trades-2025-01-07.jsonl"]
        for path in files:
            path.write_text((json.dumps(line) + "\n") * 3)
        trades = importers.read_jsonl(files).trades
        assert isinstance(trades, TradeRows) and len(trades) == 6


class TestCsv:
    """A CSV with a column mapping."""

    def test_mapping(self, tmp_path):
        path = tmp_path / "t.csv"
        path.write_text(
            "Ticker,Dir,Qty,In,Out,Opened,Closed,Labels\n"
            "X,long,2,10,11,2025-01-06T10:00:00Z,2025-01-06T11:00:00Z,a|b\n"
        )
        mapping = {
            "symbol": "Ticker",
            "side": "Dir",
            "quantity": "Qty",
            "entry_price": "In",
            "exit_price": "Out",
            "entry_time": "Opened",
            "exit_time": "Closed",
            "tags": "Labels",
        }
        tracker = loaded(importers.read_csv(path, mapping))
        assert (Decimal(2), ("a", "b")) == (tracker.trades()[0].net_pnl, tracker.trades()[0].tags)

    def test_utf8_with_a_byte_order_mark(self, tmp_path):
        # Spreadsheets save "CSV UTF-8" with a BOM and CRLF; the first column is still named.
        path = tmp_path / "t.csv"
        path.write_bytes(
            "\ufeffsymbol,side,quantity,entry_price,exit_price,entry_time,exit_time,strategy\r\n"
            "X,long,2,10,11,2025-01-06T10:00:00Z,2025-01-06T11:00:00Z,café\r\n".encode()
        )
        trade = loaded(importers.read_csv(path)).trades()[0]
        assert ("X", "café") == (trade.symbol, trade.strategy)

    def test_missing_column(self, tmp_path):
        path = tmp_path / "t.csv"
        path.write_text("symbol,side\nX,long\n")
        with pytest.raises(InvalidInputError, match="'quantity'"):
            importers.read_csv(path)


def idea_line(**changes: object) -> str:
    record = {
        "trade_id": "x1",
        "ticker": "NVDA",
        "trade_type": "swing",
        "direction": "long",
        "entry": "120.00",
        "stop": "118.00",
        "target": "126.00",
        "confidence": 4,
        "edges": ["vwap_reclaim"],
        "status": "loss",
        "r_achieved": "-1",
        "created_at": "2025-11-17T15:00:00+00:00",
        "closed_at": "2025-11-19T15:00:00+00:00",
    }
    record.update(changes)
    return json.dumps({k: v for k, v in record.items() if v is not None}) + "\n"


class TestIdeas:
    """Idea records: the column mapping, outcomes in time order, all or nothing."""

    def test_mapping(self, tmp_path):
        path = tmp_path / "ideas.ndjson"
        path.write_text(
            idea_line(trade_type="Day-Trade", direction="SELL", stop="122", target="110")
            + idea_line(trade_id="x2", trade_type="stop", edges="a; b", horizon="swing")
            + idea_line(trade_id=None, ticker=None, symbol="AMD", side="buy", status=None)
        )
        result = importers.read_ideas(path)
        first, second, third = result.ideas
        assert ("day", "short", "market") == (
            first["horizon"],
            first["side"],
            first.get("entry_type", "market"),
        )
        assert ("stop", "swing", ("a", "b")) == (
            second["entry_type"],
            second["horizon"],
            second["edges"],
        )
        assert third["idea_id"].startswith("import-") and "AMD" == third["symbol"]
        assert third["idea_id"] == importers.read_ideas(path).ideas[2]["idea_id"]  # stable
        assert {"x1", "x2"} == set(result.outcomes)
        assert ("loss", "-1") == result.outcomes["x1"][:2]

    def test_several_files_read_before_anything(self, tmp_path):
        good, bad = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
        good.write_text(idea_line())
        bad.write_text(idea_line(trade_id="x2", direction="sideways"))
        with pytest.raises(InvalidInputError, match=r"b\.jsonl: line 1: 'direction'"):
            importers.read_ideas([good, bad])
        assert 1 == len(importers.read_ideas([good]).ideas)

    def test_outcome_applied_at_its_close_before_later_ideas(self, tmp_path):
        # x1 closes on the 19th; x2, created on the 26th, moves the ideas' clock past x1's
        # expiry. The outcome comes first, so x1 is a loss overridden from "open", not from
        # "expired".
        path = tmp_path / "ideas.jsonl"
        path.write_text(
            idea_line(trade_id="x2", created_at="2025-11-26T15:00:00+00:00", status=None)
            + idea_line()
        )
        tracker = pt.Tracker("10000")
        assert 2 == importers.load_ideas(tracker, importers.read_ideas(path))
        x1 = tracker.ideas.get("x1")
        assert ("loss", -1.0, "open", "imported") == (
            x1.status,
            x1.r_achieved,
            x1.override["status"],
            x1.override["reason"],
        )
        assert datetime(2025, 11, 19, 15, tzinfo=UTC) == x1.override["at"]

    def test_conflict_with_a_stored_idea_changes_nothing(self, tmp_path):
        tracker = pt.Tracker("10000")
        tracker.record_idea(
            symbol="NVDA",
            side="long",
            entry="120",
            stop="119",
            target="126",
            confidence=1,
            time=datetime(2025, 11, 17, 15, tzinfo=UTC),
            idea_id="x1",
        )
        path = tmp_path / "ideas.jsonl"
        path.write_text(idea_line(trade_id="x0") + idea_line())
        before = tracker.ideas.list()
        with pytest.raises(pt.errors.DuplicateTradeError, match="'idea_id' 'x1'"):
            importers.load_ideas(tracker, importers.read_ideas(path))
        assert before == tracker.ideas.list()

    def test_utf8_with_a_byte_order_mark(self, tmp_path):
        # Spreadsheets save "CSV UTF-8" with a BOM and CRLF; the first column is still named.
        csv_path, jsonl_path = tmp_path / "ideas.csv", tmp_path / "ideas.jsonl"
        csv_path.write_bytes(
            "\ufeffticker,direction,entry,stop,target,confidence,rationale,created_at\r\n"
            "NVDA,long,120,118,126,4,reclaimed VWAP à l'ouverture,2025-11-17T15:00:00Z\r\n".encode()
        )
        jsonl_path.write_bytes(("\ufeff" + idea_line(trade_id="x2")).encode())
        first, second = importers.read_ideas([csv_path, jsonl_path]).ideas
        assert ("NVDA", "reclaimed VWAP à l'ouverture") == (first["symbol"], first["rationale"])
        assert "x2" == second["idea_id"]

    def test_twice_is_once(self, tmp_path):
        path = tmp_path / "ideas.jsonl"
        path.write_text(idea_line() + idea_line(trade_id="x2", status="expired", r_achieved=None))
        tracker = pt.Tracker("10000")
        assert 2 == importers.load_ideas(tracker, importers.read_ideas(path))
        first = tracker.ideas.list()
        assert 0 == importers.load_ideas(tracker, importers.read_ideas(path))
        assert first == tracker.ideas.list()


# -- the tools' own files: stops, fees, times, balances, rows not imported ------------------


@needs_data
class TestMetaTrader5StopsAndTimes:
    """MetaTrader5.xlsx, checked against what the file itself says."""

    def test_r_multiple_of_a_stopped_out_trade(self):
        """
        GOLD_ 275918919 was closed by its stop (Deals comment "[sl 1649.55]") at 1649.63: a
        short from 1649.16 risking 0.39 per unit that lost 0.47 per unit, R = -1.205 in any
        unit. Volume is in lots and Profit in USD (contract size 100), so |entry - stop| x
        lots is not the risk in money: perftrack gave R = -120.5 (and 29378.5 for EURAUD,
        avg_r_multiple 14629). A risk that cannot be had in money must be None, not wrong.
        """
        trades = {
            t.trade_id: t
            for t in loaded(importers.read_mt5(EXTERNAL / "MetaTrader5.xlsx")).trades()
        }
        gold = trades["mt5-275918919"]
        expected = -(1649.63 - 1649.16) / (1649.55 - 1649.16)
        assert gold.r_multiple is None or abs(gold.r_multiple - expected) < 0.01
        for t in trades.values():
            assert t.r_multiple is None or abs(t.r_multiple) < 10, t.trade_id

    def test_the_command_takes_the_server_time_zone(self, tmp_path, capfd):
        """MT5 writes broker-server time; the library has timezone=, the command had no way
        to say it (--times-in was silently ignored for mt5)."""
        from perftrack.cli import main

        data = str(tmp_path / "store")
        path = str(EXTERNAL / "MetaTrader5.xlsx")
        assert 0 == main(["import", "mt5", path, "--data", data, "--times-in", "Europe/Athens"])
        capfd.readouterr()
        assert 0 == main(["export", "trades", "--data", data, "--format", "json"])
        trades = json.loads(capfd.readouterr().out)
        gold = next(t for t in trades if t["trade_id"] == "mt5-275918919")
        # 2022.10.28 13:00:27 in Athens (EEST, UTC+3) is 10:00:27 UTC.
        assert datetime(2022, 10, 28, 10, 0, 27, tzinfo=UTC) == datetime.fromisoformat(
            gold["entry_time"]
        )


class TestMetaTrader5Fees:
    def test_a_swap_credit_does_not_hide_the_commission(self, tmp_path):
        """Commission -1.5 and a swap credit +2.25: the trade paid 1.5 in fees (its net is
        Profit + 0.75 either way); netting them reported fees 0."""
        import openpyxl

        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(["Positions"])
        sheet.append(["Time", "Position", "Symbol", "Type", "Volume", "Price", "S / L", "T / P"])
        sheet.append(
            [
                "2024.05.06 10:00:00",
                1,
                "EURUSD",
                "buy",
                "0.1",
                1.075,
                None,
                None,
                "2024.05.06 11:00:00",
                1.076,
                -1.5,
                2.25,
                10,
            ]
        )
        path = tmp_path / "mt5.xlsx"
        book.save(path)
        (trade,) = loaded(importers.read_mt5(path)).trades()
        assert (Decimal("10.75"), Decimal("1.5")) == (trade.net_pnl, trade.fees)


@needs_data
class TestTDAmeritradeBalanceAndTimes:
    """TD_Ameritrade.csv, checked against what the statement itself says."""

    def test_starting_equity_is_the_statements_opening_balance(self):
        """The first execution's BALANCE (26,649.04) less its AMOUNT (965) and fee (-0.03) is
        the opening balance 25,684.07; without it the command used 10000."""
        result = importers.read_td_ameritrade(EXTERNAL / "TD_Ameritrade.csv")
        assert Decimal("25684.07") == result.starting_equity

    def test_times_are_the_brokers_eastern_time(self):
        """TD Ameritrade statements are in US Eastern time; 10:04:09 on 11/12/2022 (EST) is
        15:04:09 UTC, not 10:04:09 UTC."""
        result = importers.read_td_ameritrade(EXTERNAL / "TD_Ameritrade.csv")
        assert datetime(2022, 11, 12, 15, 4, 9, tzinfo=UTC) == result.fills[0].time


class TestSkippedRows:
    """Cash movements the readers do not import must not vanish without a word."""

    def test_td_cash_rows_other_than_executions_are_reported(self, tmp_path):
        path = tmp_path / "td.csv"
        path.write_text(
            "Cash Balance,,,,,,,,\n"
            "DATE,TIME,TYPE,REF #,DESCRIPTION,Misc Fees,Commissions & Fees,AMOUNT,BALANCE\n"
            '11/14/2022,09:31:00,TRD,1,BOT +10 X @10,,-1.00,-100.00,"1,899.00"\n'
            '11/15/2022,00:00:00,DOI,2,ORDINARY DIVIDEND~X,,,5.00,"1,904.00"\n'
            '11/16/2022,00:00:00,WIN,3,FEE,,,-2.50,"1,901.50"\n'
            '11/17/2022,09:31:00,TRD,4,SOLD -10 X @11,,-1.00,110.00,"2,010.50"\n'
        )
        result = importers.read_td_ameritrade(path)
        assert Decimal("2000.00") == result.starting_equity
        assert 2 == len(result.fills)
        assert any("DOI" in w and "5.00" in w for w in result.warnings)
        assert any("WIN" in w and "-2.50" in w for w in result.warnings)

    def test_mt5_balance_deals_after_the_first_deposit_are_reported(self, tmp_path):
        import openpyxl

        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(["Deals"])
        sheet.append(
            [
                "Time",
                "Deal",
                "Symbol",
                "Type",
                "Direction",
                "Volume",
                "Price",
                "Order",
                "Commission",
                "Fee",
                "Swap",
                "Profit",
                "Balance",
                "Comment",
            ]
        )
        for time, deal, profit, balance, comment in (
            ("2024.05.06 09:00:00", 1, 3000, 3000, "Deposit"),
            ("2024.05.07 09:00:00", 2, -500, 2500, "Withdrawal"),
        ):
            balance_row = [time, deal, None, "balance", None, None, None, None, 0, 0, 0]
            sheet.append([*balance_row, profit, balance, comment])
        sheet.append(
            [
                "2024.05.07 10:00:00",
                3,
                "EURUSD",
                "buy",
                "out",
                "0.1",
                1.07,
                9,
                0,
                -0.4,
                0,
                5,
                2504.6,
                None,
            ]
        )
        path = tmp_path / "mt5.xlsx"
        book.save(path)
        result = importers.read_mt5(path)
        assert Decimal(3000) == result.starting_equity
        assert any("-500" in w for w in result.warnings)  # a withdrawal, not imported
        assert any("Fee" in w and "-0.4" in w for w in result.warnings)  # not in Positions


# -- rows without record_trade's fields --------------------------------------------


_GOOD_ROW = {
    "symbol": "X",
    "side": "long",
    "quantity": "1",
    "entry_price": "100",
    "exit_price": "110",
    "entry_time": "2025-03-03T14:00:00Z",
    "exit_time": "2025-03-03T15:00:00Z",
}


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({k: v for k, v in _GOOD_ROW.items() if k != "quantity"}, "'quantity'"),
        ({**_GOOD_ROW, "bogus": 1}, "'bogus'"),
        (5, "trades\\[1\\]"),
    ],
    ids=["missing", "unknown", "not-a-mapping"],
)
def test_load_into_refuses_a_malformed_row_before_recording_any(bad: Any, field: str) -> None:
    # The rows went one record_trade call at a time: the first was recorded, then TypeError.
    tracker = pt.Tracker("10000")
    before = fingerprint(tracker)
    result = importers.ImportResult(trades=({**_GOOD_ROW, "trade_id": "g1"}, bad))
    with pytest.raises(pt.errors.InvalidTradeError, match=field):
        importers.load_into(tracker, result)
    assert fingerprint(tracker) == before


def test_a_csv_row_with_an_empty_required_cell_is_a_typed_error(tmp_path: Path) -> None:
    path = tmp_path / "trades.csv"
    path.write_text(
        "symbol,side,quantity,entry_price,exit_price,entry_time,exit_time\n"
        "X,long,1,100,110,2025-03-03T14:00:00Z,2025-03-03T15:00:00Z\n"
        "X,long,,100,110,2025-03-03T14:00:00Z,2025-03-03T15:00:00Z\n"
    )
    tracker = pt.Tracker("10000")
    with pytest.raises(pt.errors.InvalidInputError, match="quantity"):
        importers.load_into(tracker, importers.read_csv(path))
    assert tracker.trades() == []


@pytest.mark.parametrize(
    "data",
    [b"\xff\xfe{}\n", b"[" * 100_000 + b"]" * 100_000 + b"\n"],
    ids=["not-utf8", "nested-too-deep"],
)
def test_read_jsonl_of_an_unreadable_line_is_a_typed_error(tmp_path: Path, data: bytes) -> None:
    # UnicodeDecodeError and RecursionError came out of read_jsonl.
    path = tmp_path / "trades.jsonl"
    path.write_bytes(data)
    with pytest.raises(InvalidInputError, match="'file'"):
        importers.read_jsonl([path])


@pytest.mark.parametrize(
    "doc",
    [
        "not json",
        "[1, 2]",
        '{"strategy": {"s": {"trades": [{"pair": "X/USDT"}]}}}',
        '{"strategy": {"s": {"trades": [{"pair": "X/USDT", "amount": "x", "open_rate": 1,'
        ' "close_rate": 1, "fee_open": 0, "fee_close": 0, "open_date": "2025-03-03",'
        ' "close_date": "2025-03-03", "profit_abs": 0}]}}}',
        '{"strategy": {"s": {"trades": [{"pair": "X/USDT", "amount": 1, "open_rate": NaN,'
        ' "close_rate": 1, "fee_open": 0, "fee_close": 0, "open_date": "2025-03-03",'
        ' "close_date": "2025-03-03", "profit_abs": 0, "initial_stop_loss_abs": 0.5}]}}}',
    ],
    ids=["not-json", "not-an-object", "missing-fields", "bad-number", "nan-rate"],
)
def test_read_freqtrade_of_a_malformed_file_is_a_typed_error(tmp_path: Path, doc: str) -> None:
    # JSONDecodeError, AttributeError, KeyError, InvalidOperation came out raw.
    path = tmp_path / "backtest-result.json"
    path.write_text(doc)
    with pytest.raises(InvalidInputError, match="'file'"):
        importers.read_freqtrade(path)


def test_fills_are_grouped_exactly_whatever_the_callers_decimal_context() -> None:
    """apply_fills added up the position and split fees in the caller's decimal
    context: at prec = 5 a position of 1.23456 + 10 was 11.235, so the sale of 11.23456
    closed the trade and left 0.00044 'open', and the next fill scaled into a closed trade."""
    from decimal import localcontext

    t0 = datetime(2025, 3, 3, 14, tzinfo=UTC)
    fills = tuple(
        importers.Fill(t0.replace(minute=m), "X", Decimal(q), Decimal(p), Decimal(f))
        for m, q, p, f in [
            (0, "1.23456", "100", "0.1"),
            (1, "10", "101", "0"),
            (2, "-11.23456", "102", "0.3"),
            (3, "2", "103", "0"),
        ]
    )
    tracker = pt.Tracker("100000")
    with localcontext() as ctx:
        ctx.prec = 5
        importers.load_into(tracker, importers.ImportResult(fills=fills))
    [closed] = tracker.trades()
    assert Decimal("11.23456") == closed.quantity
    assert [Decimal(2)] == [p.quantity for p in tracker.open_trades]


@needs_data
@pytest.mark.parametrize(
    "read",
    [
        lambda: importers.read_freqtrade(EXTERNAL / "backtest-result.json"),
        lambda: importers.read_mt5(EXTERNAL / "MetaTrader5.xlsx"),
        lambda: importers.read_td_ameritrade(EXTERNAL / "TD_Ameritrade.csv"),
    ],
    ids=["freqtrade", "mt5", "td_ameritrade"],
)
def test_readers_compute_fees_and_pnl_whatever_the_callers_decimal_context(read) -> None:
    """freqtrade's fees (amount x rate x fee), MT5's charges and net P&L and TD
    Ameritrade's signed quantities and fees were computed in the caller's decimal context."""
    from decimal import localcontext

    expected = read()
    with localcontext() as ctx:
        ctx.prec = 5
        assert expected == read()
