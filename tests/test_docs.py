"""
The documentation cannot silently fall behind the code.
"""

from __future__ import annotations

from pathlib import Path

import attrs

import perftrack as pt

DOCS = Path(__file__).parent.parent / "docs"


class TestMetricsDoc:
    """docs/metrics.md defines every field of Summary, LiveStats and Trade."""

    def test_every_field_is_defined(self):
        text = (DOCS / "metrics.md").read_text()
        for cls in (pt.Summary, pt.LiveStats, pt.Trade):
            for field in attrs.fields(cls):
                if field.name in (
                    "period",
                    "start",
                    "end",
                    "scope",
                    "time",
                    "booked_whole",
                    "starting_equity",
                    "trade_id",
                    "symbol",
                    "strategy",
                    "side",
                    "entry_time",
                    "exit_time",
                    "stop_price",
                    "target_price",
                    "tags",
                    "idea_id",
                ):
                    continue  # labels and inputs, not metrics
                assert f"`{field.name}`" in text, f"{cls.__name__}.{field.name}"


class TestIdeasDoc:
    """docs/ideas.md defines every field of Idea and IdeaSummary."""

    def test_every_field_is_defined(self):
        text = (DOCS / "ideas.md").read_text()
        for cls in (pt.Idea, pt.IdeaSummary):
            for field in attrs.fields(cls):
                assert f"`{field.name}`" in text, f"{cls.__name__}.{field.name}"
