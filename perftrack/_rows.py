"""
Rows of ``record_trade`` keyword arguments held a column at a time: what a large import
reads, before the tracker books it.

A million-line trade log read as a million dicts holds a dict, a key table and a pointer per
field for every line: about 1.3 GB, and as many page faults to fill it. Its lines share their
fields, in one order, so ``TradeRows`` keeps one list per field instead, and builds a line's
dict only when that line is read. The bulk booking (``perftrack._bulk``) takes the columns as
they are.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Iterator, Sequence
from typing import Any, overload

__all__ = ["TradeRows"]


class TradeRows(Sequence[dict[str, Any]]):
    """
    Rows (dicts of ``record_trade`` arguments) that share their fields, held as one column
    per field. Reading a row builds a new dict of it; rows compare equal to any sequence of
    the same dicts. Not changed once built, so safe to read from any thread.
    """

    __slots__ = ("_columns", "_fields", "_n")

    def __init__(self, fields: tuple[str, ...], columns: Sequence[Sequence[Any]]) -> None:
        """
        ``columns[k]`` holds field ``fields[k]`` of every row, all of one length. Taken as
        given (the caller hands them over).
        """
        if len(fields) != len(columns) or len(set(map(len, columns))) > 1:
            msg = "TradeRows needs one column per field, all of one length"
            raise ValueError(msg)
        self._fields = fields
        self._columns = tuple(columns)
        self._n = len(columns[0]) if columns else 0

    @property
    def fields(self) -> tuple[str, ...]:
        """
        The rows' field names, in their order.
        """
        return self._fields

    def column(self, field: str) -> Sequence[Any]:
        """
        Field ``field`` of every row, in row order (KeyError when the rows have no such field).
        """
        try:
            return self._columns[self._fields.index(field)]
        except ValueError:
            raise KeyError(field) from None

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> TradeRows: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | TradeRows:
        if isinstance(index, slice):
            return TradeRows(self._fields, [column[index] for column in self._columns])
        return dict(zip(self._fields, [column[index] for column in self._columns], strict=True))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if not self._columns:
            return iter(())
        return map(dict, map(zip, itertools.repeat(self._fields), zip(*self._columns, strict=True)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TradeRows) and other._fields == self._fields:
            return all(map(operator.eq, map(list, self._columns), map(list, other._columns)))
        if isinstance(other, Sequence) and not isinstance(other, (str, bytes)):
            return len(other) == self._n and all(map(operator.eq, self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # (rows of dicts: as a tuple of dicts is)

    def __repr__(self) -> str:
        return f"TradeRows({self._n} rows of {', '.join(self._fields)})"
