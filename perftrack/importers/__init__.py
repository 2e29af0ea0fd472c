"""
Importers: load history from the tools operators already use.

    result = importers.read_freqtrade("backtest-result.json")
    tracker = pt.Tracker(result.starting_equity or "10000")
    importers.load_into(tracker, result)
"""

from __future__ import annotations

from perftrack.importers._base import Fill, ImportResult, apply_fills, load_into
from perftrack.importers._files import (
    read_csv,
    read_freqtrade,
    read_json,
    read_jsonl,
    read_mt5,
    read_td_ameritrade,
    read_xlsx,
)
from perftrack.importers._ideas import IdeaImport, load_ideas, read_ideas

__all__ = [
    "Fill",
    "IdeaImport",
    "ImportResult",
    "apply_fills",
    "load_ideas",
    "load_into",
    "read_csv",
    "read_freqtrade",
    "read_ideas",
    "read_json",
    "read_jsonl",
    "read_mt5",
    "read_td_ameritrade",
    "read_xlsx",
]
