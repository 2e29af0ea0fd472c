"""
Workbooks typed for people and exact for machines.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from perftrack._xlsx import read_book, write_book

pytest.importorskip("openpyxl")


class TestRoundTrip:
    """Every value comes back as the text it was, whatever Excel can hold."""

    @pytest.mark.parametrize(
        ("value", "text"),
        [
            (Decimal("100.10"), "100.10"),
            (Decimal("0.001041902985696884505"), "0.001041902985696884505"),
            (Decimal("-23.5"), "-23.5"),
            (Decimal(10), "10"),
            (Decimal("1E+3"), "1E+3"),
            (datetime(2025, 3, 3, 10, tzinfo=UTC), "2025-03-03T10:00:00+00:00"),
            (
                datetime(2025, 3, 3, 10, 0, 0, 123456, tzinfo=timezone(timedelta(hours=1))),
                "2025-03-03T10:00:00.123456+01:00",
            ),
            (("a", "b"), "a|b"),
            (1.25, "1.25"),
            (7, "7"),
            (True, "true"),
            ("long", "long"),
        ],
    )
    def test_value(self, value, text, tmp_path):
        path = tmp_path / "b.xlsx"
        path.write_bytes(write_book(["v"], [{"v": value}], title="rows"))
        assert (["v"], [{"v": text}]) == read_book(path)

    def test_empty_cells_are_left_out(self, tmp_path):
        path = tmp_path / "b.xlsx"
        path.write_bytes(write_book(["a", "b"], [{"a": None, "b": "x"}], title="rows"))
        assert (["a", "b"], [{"b": "x"}]) == read_book(path)
