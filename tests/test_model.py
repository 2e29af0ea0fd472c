"""
The value types' fast constructors against attrs' own.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs
import pytest

from perftrack._model import Realization, Summary, Trade, new_summary, new_trade


def _distinct_values(cls: type) -> dict[str, object]:
    """
    A different value for every field, so that any two fields swapped would show.
    """
    values: dict[str, object] = {}
    for k, field in enumerate(attrs.fields(cls)):
        values[field.name] = (field.name, k)
    return values


class TestSlotBuilders:
    """new_summary and new_trade build exactly what the class's own __init__ builds."""

    @pytest.mark.parametrize(("cls", "build"), [(Summary, new_summary), (Trade, new_trade)])
    def test_every_field_in_order(self, cls, build):
        values = _distinct_values(cls)
        built = build(*values.values())
        assert type(built) is cls
        assert attrs.asdict(cls(**values), recurse=False) == attrs.asdict(built, recurse=False)
        assert cls(**values) == built

    @pytest.mark.parametrize(("cls", "build"), [(Summary, new_summary), (Trade, new_trade)])
    def test_the_result_stays_frozen(self, cls, build):
        built = build(*_distinct_values(cls).values())
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            built.symbol = "x"  # any field, existing or not
        assert attrs.has(type(built))

    def test_a_real_trade(self):
        t0 = datetime(2024, 1, 2, tzinfo=UTC)
        fields = (
            "t1",
            "AAPL",
            "s",
            "long",
            Decimal(2),
            Decimal("10"),
            Decimal("11"),
            t0,
            t0 + timedelta(hours=1),
            Decimal("0.5"),
            Decimal("1.5"),
            Decimal("9"),
            None,
            ("a",),
            None,
            Decimal(2),
            0.75,
            (Realization(t0 + timedelta(hours=1), Decimal("1.5"), Decimal("0.5")),),
        )
        assert new_trade(*fields) == Trade(*fields)
        assert new_trade(*fields).to_dict() == Trade(*fields).to_dict()
