"""
Rows held a column at a time read as the sequence of dicts they stand for.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from perftrack._rows import TradeRows

_VALUES = st.one_of(st.integers(), st.text(max_size=3), st.none(), st.lists(st.text(max_size=2)))


@st.composite
def _dicts(draw):
    fields = tuple(draw(st.lists(st.sampled_from("abcde"), min_size=1, max_size=4, unique=True)))
    n = draw(st.integers(0, 6))
    return fields, [{f: draw(_VALUES) for f in fields} for _ in range(n)]


class TestTradeRows:
    """Every way of reading the rows gives the dicts, in order."""

    @given(_dicts(), st.integers(-8, 8), st.integers(-8, 8))
    def test_same_as_the_dicts(self, given_dicts, start, stop):
        fields, dicts = given_dicts
        rows = TradeRows(fields, [[d[f] for d in dicts] for f in fields])
        assert len(rows) == len(dicts)
        assert list(rows) == dicts
        assert rows == tuple(dicts) and tuple(dicts) == rows and rows == dicts
        assert [rows[i] for i in range(-len(dicts), len(dicts))] == dicts + dicts
        assert list(rows[start:stop]) == dicts[start:stop]
        assert rows[start:stop] == TradeRows(
            fields, [[d[f] for d in dicts[start:stop]] for f in fields]
        )
        assert rows.fields == fields
        for f in fields:
            assert list(rows.column(f)) == [d[f] for d in dicts]

    def test_a_row_read_is_a_new_dict(self):
        rows = TradeRows(("a", "b"), [[1, 2], ["x", "y"]])
        rows[0]["a"] = 99
        assert rows[0] == {"a": 1, "b": "x"}

    def test_unequal_to_other_rows_and_to_what_is_no_sequence_of_them(self):
        rows = TradeRows(("a",), [[1, 2]])
        assert rows != TradeRows(("a",), [[1, 3]])
        assert rows != TradeRows(("b",), [[1, 2]])
        assert rows != ({"a": 1},)
        assert rows != "ab"
        assert rows != 5
        with pytest.raises(TypeError):
            hash(rows)

    def test_columns_of_one_length(self):
        with pytest.raises(ValueError, match="one column per field"):
            TradeRows(("a", "b"), [[1, 2], [3]])
        with pytest.raises(KeyError):
            TradeRows(("a",), [[1]]).column("b")
