"""
Importers reproduce the numbers the other tools computed themselves, from their real files.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

import perftrack as pt
from perftrack import importers
from perftrack.errors import InvalidInputError

EXTERNAL = Path(__file__).parent.parent.parent / "shared" / "data" / "external"
needs_data = pytest.mark.skipif(
    not EXTERNAL.is_dir(), reason="../shared/data/external (other tools' real files) is absent"
)


def loaded(result: importers.ImportResult) -> pt.Tracker:
    tracker = pt.Tracker(result.starting_equity or "10000", timezone="UTC")
    importers.load_into(tracker, result)
    return tracker


@pytest.fixture(name="imported", scope="module")
def _imported():
    result = importers.read_freqtrade(EXTERNAL / "backtest-result.json")
    return result, loaded(result)


@needs_data
class TestFreqtrade:
    """backtest-result.json: freqtrade's own statistics, reproduced."""

    def test_counts_totals_and_profit_factor(self, imported):
        result, tracker = imported
        s = tracker.summary()
        assert (s.trades, s.wins, s.breakeven, s.losses) == (179, 170, 0, 9)  # on profit_abs
        assert Decimal("0.001041902985696884505") == s.net_pnl  # the exact sum of the texts
        assert float(s.net_pnl) == 0.0010419029856968845
        assert s.profit_factor == 2.4223288739520954
        assert Decimal("0.01") == result.starting_equity

    def test_max_drawdown_with_start_and_end(self, imported):
        _result, tracker = imported
        start, end, depth = tracker.max_drawdown_period()
        assert abs(depth - Decimal("0.0002")) < Decimal("1e-18")
        assert datetime(2018, 1, 16, 19, 30, tzinfo=UTC) == start
        assert datetime(2018, 1, 16, 22, 25, tzinfo=UTC) == end
        assert tracker.summary().max_drawdown == depth

    def test_daily_profits(self, imported):
        result, tracker = imported
        ours = {d.start.date().isoformat(): d.net_pnl for d in tracker.periods("day")}
        theirs = result.reported["StrategyTestV3"]["daily_profit"]
        assert len(theirs) == 21
        for day, profit in theirs:
            assert abs(ours[day] - Decimal(profit)) < Decimal("1e-10"), day

    def test_per_pair_rows(self, imported):
        result, tracker = imported
        pairs = tracker.breakdown("symbol")
        for row in result.reported["StrategyTestV3"]["results_per_pair"]:
            if row["key"] == "TOTAL":
                continue
            mine = pairs[row["key"]]
            assert (row["trades"], row["wins"], row["draws"], row["losses"]) == (
                mine.trades,
                mine.wins,
                mine.breakeven,
                mine.losses,
            )
            assert abs(mine.net_pnl - Decimal(row["profit_total_abs"])) < Decimal("1e-15")

    def test_older_schema_with_two_strategies(self):
        result = importers.read_freqtrade(EXTERNAL / "backtest-result_multistrat.json")
        tracker = loaded(result)
        for name, summary in tracker.breakdown("strategy").items():
            expected = result.reported[name]["profit_total_abs"]
            assert abs(summary.net_pnl - Decimal(expected)) < Decimal("1e-15")
            assert result.reported[name]["total_trades"] == summary.trades


@needs_data
class TestMetaTrader5:
    """MetaTrader5.xlsx: the Results block, reproduced."""

    def test_results_block(self):
        result = importers.read_mt5(EXTERNAL / "MetaTrader5.xlsx")
        tracker = loaded(result)
        s = tracker.summary()
        assert Decimal(3000) == result.starting_equity
        assert (Decimal("30.85"), Decimal("54.35"), Decimal("-23.5")) == (
            s.net_pnl,
            s.gross_profit,
            s.gross_loss,
        )
        assert round(s.profit_factor, 6) == 2.312766
        assert Decimal("10.283333") == s.expectancy.quantize(Decimal("0.000001"))
        assert (s.trades, s.wins, s.max_win_streak, s.max_loss_streak) == (3, 2, 2, 1)
        assert (Decimal("50.71"), Decimal("-23.5")) == (s.best_trade, s.worst_trade)
        assert Decimal("23.5") == s.max_drawdown
        assert f"{s.max_drawdown_pct:.2%}" == "0.78%"
        assert tracker.summary(side="short").trades == 3


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

    def test_bad_line_in_the_middle_is_an_error(self, tmp_path):
        path = tmp_path / "t.jsonl"
        path.write_text("{nope\n" + self._line("2025-01-06", "11"))
        with pytest.raises(InvalidInputError, match="line 1"):
            importers.read_jsonl([path])


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

    def test_missing_column(self, tmp_path):
        path = tmp_path / "t.csv"
        path.write_text("symbol,side\nX,long\n")
        with pytest.raises(InvalidInputError, match="'quantity'"):
            importers.read_csv(path)
