"""
Input normalisation: every public entry point turns its arguments into exact, validated values
here before it touches any state.

Money and quantities become ``Decimal`` (from ``Decimal``, ``int`` or ``str``; a ``float`` goes
through ``str()`` first so ``0.1`` stays ``Decimal('0.1')``). Times become aware datetimes (from
aware datetimes or ISO 8601 strings with an offset). Each failure raises the error class the
caller asks for, with a message naming the field and the value received.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Final, cast

from perftrack._model import Realization
from perftrack.errors import InvalidInputError, InvalidTradeError

__all__ = [
    "EARLIEST",
    "LATEST",
    "amounts_hold",
    "SIDES",
    "fixed_offset",
    "check_time_range",
    "generated_number",
    "round_trip_fields",
    "to_date_or_time",
    "to_decimal",
    "to_name",
    "to_optional_decimal",
    "to_realizations",
    "to_side",
    "to_tags",
    "to_time",
]

SIDES: Final = ("long", "short")
_ZERO: Final = Decimal(0)

# Prices and quantities repeat (tick grids, lot sizes, fixed fees): sharing one Decimal per
# distinct input text saves both the parse and ~100 bytes per stored value. Bounded, and
# cleared when full, so a stream of unique values cannot grow it.
#: Numbers are refused at or beyond 10**100 in size, or below 10**-100 unless zero: every
#: product, sum and R of such numbers stays finite (as a Decimal and as a float), where a
#: 1e999999 price overflowed the money context after its event was journaled.
_MAX_ADJUSTED: Final = 99
_MIN_ADJUSTED: Final = -100
_DECIMAL_CACHE: dict[object, Decimal] = {}
_DECIMAL_CACHE_MAX: Final = 16384


def _bad(error: type[InvalidInputError], field: str, why: str, value: object) -> InvalidInputError:
    return error(f"{field!r} {why} (got {value!r})")


def to_decimal(
    field: str,
    value: object,
    *,
    minimum: str = "positive",
    error: type[InvalidInputError] = InvalidTradeError,
) -> Decimal:
    """
    ``value`` as a finite Decimal, checked against ``minimum``.

    Args:
        field: The argument's name, for the error message.
        value: A Decimal, int, str, or float (converted through ``str()``).
        minimum: ``"positive"`` (> 0), ``"nonnegative"`` (>= 0) or ``"any"``.
        error: The error class to raise.

    Raises:
        InvalidInputError: (or ``error``) for bools, non-numbers, NaN, infinities and values
            below the minimum.
    """
    cached = _DECIMAL_CACHE.get(value) if type(value) in (str, int) else None
    if cached is None:
        number = _parse_decimal(field, value, error)
        if type(value) in (str, int):
            if len(_DECIMAL_CACHE) >= _DECIMAL_CACHE_MAX:
                _DECIMAL_CACHE.clear()
            _DECIMAL_CACHE[value] = number
    else:
        number = cached
    if minimum == "positive":
        if number <= _ZERO:
            raise _bad(error, field, "must be > 0", value)
    elif minimum == "nonnegative" and number < _ZERO:
        raise _bad(error, field, "must be >= 0", value)
    return number


def amounts_hold(values: Iterable[Decimal], *, minimum: str = "positive") -> bool:
    """
    Whether every one of ``values`` (Decimals) passes what ``to_decimal`` checks of a
    Decimal (finite, within its size range, above ``minimum``), a column at a time: for
    readers of stored Decimals that judge a whole column before trusting it.
    """
    values = list(values)
    if not values:
        return True
    if not all(map(Decimal.is_finite, values)):
        return False
    sizes = list(map(Decimal.adjusted, filter(None, values)))  # (zero has no size limit)
    if sizes and not (min(sizes) >= _MIN_ADJUSTED and max(sizes) <= _MAX_ADJUSTED):
        return False
    if minimum == "positive":
        return min(values) > _ZERO
    return minimum != "nonnegative" or min(values) >= _ZERO


def _parse_decimal(field: str, value: object, error: type[InvalidInputError]) -> Decimal:
    if isinstance(value, bool):
        # bool is an int subclass: True would silently become a quantity of 1.
        raise _bad(error, field, "must be a number, not a bool", value)
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise _bad(error, field, "must be finite", value)
        number = Decimal(str(value))
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise _bad(error, field, "must be a decimal number", value) from None
    else:
        raise _bad(error, field, "must be a Decimal, int or str", value)
    if not number.is_finite():
        raise _bad(error, field, "must be finite", value)
    if number and not _MIN_ADJUSTED <= number.adjusted() <= _MAX_ADJUSTED:
        why = "must be below 1e100 and, unless 0, at least 1e-100 in size"
        raise _bad(error, field, why, value)
    return number


def to_optional_decimal(
    field: str,
    value: object,
    *,
    minimum: str = "positive",
    error: type[InvalidInputError] = InvalidTradeError,
) -> Decimal | None:
    """
    Like ``to_decimal`` but ``None`` passes through.
    """
    if value is None:
        return None
    return to_decimal(field, value, minimum=minimum, error=error)


#: Times are refused before 1900 and from 2200 on (UTC): the session day, week and month of
#: a time near datetime's limits (9999-12-31, or year 1 east of UTC) cannot be computed,
#: which raised OverflowError or ValueError after an event had half-changed the tracker, and
#: a trade in year 1 made every daily query walk 740,000 days.
EARLIEST: Final = datetime(1900, 1, 1, tzinfo=UTC)
LATEST: Final = datetime(2200, 1, 1, tzinfo=UTC)


def check_time_range(
    field: str, when: datetime, value: object, error: type[InvalidInputError]
) -> datetime:
    """
    ``when`` (aware) if it lies in [EARLIEST, LATEST), else ``error`` naming ``field``.
    """
    if not EARLIEST <= when < LATEST:
        why = "must be from 1900-01-01 to before 2200-01-01 (UTC)"
        raise _bad(error, field, why, value)
    return when


#: One fixed-offset zone per offset seen (a few per zone: standard and daylight time).
_FIXED_OFFSETS: dict[timedelta, timezone] = {}


def to_time(
    field: str, value: object, *, error: type[InvalidInputError] = InvalidTradeError
) -> datetime:
    """
    ``value`` as an aware datetime with a fixed UTC offset.

    Accepts an aware ``datetime`` or an ISO 8601 string with an offset (``Z`` allowed). A
    datetime in a zone with rules (``ZoneInfo``, dateutil) becomes the same instant with its
    offset at that instant, so that durations and order are exact across DST changes.

    Raises:
        InvalidInputError: (or ``error``) for naive datetimes, strings without an offset,
            and anything else.
    """
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.strip())
        except ValueError:
            raise _bad(error, field, "must be an ISO 8601 time with an offset", value) from None
    else:
        raise _bad(error, field, "must be an aware datetime or ISO 8601 string", value)
    zone = when.tzinfo
    if zone is None:
        raise _bad(error, field, "must be timezone-aware", value)
    if type(zone) is timezone:
        return check_time_range(field, when, value, error)
    try:
        offset = zone.utcoffset(when)
    except Exception:  # a tzinfo of the caller's that fails: its time is not usable
        raise _bad(error, field, "must have a working tzinfo", value) from None
    if offset is None:
        raise _bad(error, field, "must be timezone-aware", value)
    if not isinstance(offset, timedelta) or abs(offset) >= timedelta(days=1):
        raise _bad(error, field, "must have a UTC offset under 24 hours", value)
    # Two datetimes with the same zone (a ZoneInfo, a dateutil tz) subtract and compare as
    # wall-clock times: a trade held over a DST change would last an hour more or less, and
    # the repeated hour at its end would sort out of order. The same instant with its own
    # fixed offset prints the same (isoformat) and is exact in every comparison.
    return check_time_range(field, _with_offset(when, offset), value, error)


def fixed_offset(when: datetime) -> datetime:
    """
    The aware ``when`` as the same instant with its UTC offset at that instant as a fixed
    zone (see ``to_time``): it prints the same, and its arithmetic, comparisons and
    ``timestamp()`` no longer consult the zone's rules (a dateutil zone's are slow).
    """
    offset = when.utcoffset()
    if type(when.tzinfo) is timezone or offset is None:
        return when
    return _with_offset(when, offset)


def _with_offset(when: datetime, offset: timedelta) -> datetime:
    fixed = _FIXED_OFFSETS.get(offset)
    if fixed is None:
        fixed = _FIXED_OFFSETS[offset] = timezone(offset)
    return when.replace(tzinfo=fixed, fold=0)


def to_date_or_time(field: str, value: object) -> date | datetime:
    """
    A window bound: a ``date`` (an inclusive session day) or an aware datetime (half-open).

    Strings are read as a date (``2025-01-31``) or an ISO 8601 time with an offset.
    """
    if isinstance(value, datetime):
        return to_time(field, value, error=InvalidInputError)
    if isinstance(value, date):
        return _check_date_range(field, value, value)
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            raise _bad(InvalidInputError, field, "must be a date or time", value) from None
        return _check_date_range(field, day, value)
    return to_time(field, value, error=InvalidInputError)


def _check_date_range(field: str, day: date, value: object) -> date:
    # The dates of the time range (a bound's week or month must still be computable).
    if not EARLIEST.date() <= day < LATEST.date():
        why = "must be from 1900-01-01 to before 2200-01-01"
        raise _bad(InvalidInputError, field, why, value)
    return day


def to_side(value: object, *, error: type[InvalidInputError] = InvalidTradeError) -> str:
    """
    ``"long"`` or ``"short"`` (case-insensitive input; ``buy``/``sell`` are not accepted, since
    a sell may open a short or close a long).
    """
    # Return the constants, not the caller's strings: a million trades share two objects.
    if value == "long":
        return "long"
    if value == "short":
        return "short"
    if isinstance(value, str):
        side = value.strip().lower()
        if side in SIDES:
            return SIDES[SIDES.index(side)]  # the constant, not a fresh string per trade
    raise _bad(error, "side", "must be 'long' or 'short'", value)


_NAMES: dict[str, str] = {}


def to_name(
    field: str,
    value: object,
    *,
    error: type[InvalidInputError] = InvalidTradeError,
) -> str:
    """
    A non-empty label (symbol, strategy, tag, id) with surrounding space removed.

    Labels are interned: a million trades on one symbol hold one string.
    """
    # The cache maps each text seen (spaces and all) to its label: a bot sends the same few
    # names on every call, so the usual call is one lookup.
    cached = _NAMES.get(value) if type(value) is str else None
    if cached is not None:
        return cached
    if isinstance(value, str):
        name = value.strip()
        if name and "\x00" not in name:
            cached = _NAMES.get(name)
            if cached is None:
                if len(_NAMES) >= _DECIMAL_CACHE_MAX:
                    _NAMES.clear()
                _NAMES[name] = cached = name
            if type(value) is str:
                _NAMES[value] = cached
            return cached
    raise _bad(error, field, "must be a non-empty string", value)


_TAGS: dict[tuple[str, ...], tuple[str, ...]] = {}
_RAW_TAGS: dict[tuple[object, ...], tuple[str, ...]] = {}


def to_tags(
    value: object, *, error: type[InvalidInputError] = InvalidTradeError
) -> tuple[str, ...]:
    """
    A tuple of distinct tag names in first-seen order; a lone string is one tag.
    """
    # As for names: the tuple a bot sends on every call is one lookup. (A tuple holding
    # something unhashable cannot be a key; it goes the long way, to its error.)
    if type(value) is tuple:
        try:
            shared = _RAW_TAGS.get(value)
        except TypeError:
            shared = None
        if shared is not None:
            return shared
    if isinstance(value, str):
        items: tuple[object, ...] = (value,)
    elif isinstance(value, (tuple, list, set, frozenset)):
        items = tuple(value)
        # A set is sorted for a stable order, once its items are known to be strings: sorting
        # one that holds a non-string raised TypeError instead of naming it (below).
        if isinstance(value, (set, frozenset)) and all(isinstance(i, str) for i in items):
            items = tuple(sorted(cast("tuple[str, ...]", items)))
    else:
        raise _bad(error, "tags", "must be a string or a sequence of strings", value)
    for item in items:
        if not isinstance(item, str) or not item.strip() or "\x00" in item:
            raise _bad(error, "tags", f"must hold non-empty strings ({item!r} is not one)", value)
    names = tuple(dict.fromkeys(to_name("tags", item, error=error) for item in items))
    shared = _TAGS.get(names)
    if shared is None:
        if len(_TAGS) >= _DECIMAL_CACHE_MAX:
            _TAGS.clear()
        _TAGS[names] = shared = names
    if type(value) is tuple:
        if len(_RAW_TAGS) >= _DECIMAL_CACHE_MAX:
            _RAW_TAGS.clear()
        _RAW_TAGS[value] = shared
    return shared


_STEP_KEYS: Final = frozenset({"time", "net_pnl", "fees"})


def to_realizations(value: object) -> tuple[Realization, ...]:
    """
    A trade's realization schedule: a sequence of ``Realization``, of mappings with the keys
    ``time``, ``net_pnl`` and ``fees``, or of ``(time, net_pnl, fees)`` sequences; each time
    aware, each fee >= 0. Only the steps themselves are checked here: how they fit their trade
    (times, sums) is the tracker's check.

    Raises:
        InvalidTradeError: Naming the step (``'realizations[2].fees'``) and the value.
    """
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, (list, tuple)):
        raise _bad(InvalidTradeError, "realizations", "must be a list of steps", value)
    steps = []
    for i, item in enumerate(value):
        where = f"realizations[{i}]"
        if isinstance(item, Realization):
            parts: tuple[object, ...] = (item.time, item.net_pnl, item.fees)
        elif isinstance(item, Mapping):
            if set(item) != _STEP_KEYS:
                why = "must have exactly the keys 'time', 'net_pnl' and 'fees'"
                raise _bad(InvalidTradeError, where, why, item)
            parts = (item["time"], item["net_pnl"], item["fees"])
        elif isinstance(item, (list, tuple)) and len(item) == 3:
            parts = tuple(item)
        else:
            why = "must be a Realization, a mapping or a (time, net_pnl, fees) sequence"
            raise _bad(InvalidTradeError, where, why, item)
        steps.append(
            Realization(
                to_time(f"{where}.time", parts[0]),
                to_decimal(f"{where}.net_pnl", parts[1], minimum="any"),
                to_decimal(f"{where}.fees", parts[2], minimum="nonnegative"),
            )
        )
    return tuple(steps)


def generated_number(name: str, prefix: str) -> int | None:
    """
    The n of an id that reads like a generated one, ``prefix`` then n (``"pt-12"``), else
    None: what moves a generated-id counter past ids a caller chose. isdecimal, not
    isdigit: "²" is a digit that ``int()`` refuses; every decimal character it reads.
    """
    if name.startswith(prefix):
        digits = name[len(prefix) :]
        if digits.isdecimal():
            return int(digits)
    return None


def round_trip_fields(
    symbol: object,
    side: object,
    quantity: object,
    entry_price: object,
    exit_price: object,
    entry_time: object,
    exit_time: object,
    fees: object,
    strategy: object,
    stop_price: object,
    target_price: object,
    tags: object,
) -> tuple[
    str,
    str,
    Decimal,
    Decimal,
    Decimal,
    datetime,
    datetime,
    Decimal,
    str,
    Decimal | None,
    Decimal | None,
    tuple[str, ...],
]:
    """
    ``record_trade``'s fields as ``to_name``, ``to_side``, ``to_decimal`` (prices and the
    quantity > 0, fees >= 0), ``to_time``, ``to_optional_decimal`` and ``to_tags`` give them,
    checked in that order, so a bad field raises exactly their error.

    A bot's usual values take one lookup each here instead of one call each: a text or int
    whose Decimal is cached and in range, a name or tag tuple seen before, an aware datetime
    with a fixed offset (``to_time`` returns those as they are). Anything else goes to the
    function above, which validates it in full (and fills the caches). A record_trade spent
    a fifth of its time in those thirteen calls.
    """
    names, numbers = _NAMES, _DECIMAL_CACHE
    sym = names.get(symbol) if type(symbol) is str else None
    if sym is None:
        sym = to_name("symbol", symbol)
    if side == "long":
        side_ = "long"
    elif side == "short":
        side_ = "short"
    else:
        side_ = to_side(side)
    # A cached Decimal is finite and in range (the parse checked); the sign is per field.
    kind = type(quantity)
    qty = numbers.get(quantity) if kind is str or kind is int else None
    if qty is None or qty <= _ZERO:
        qty = to_decimal("quantity", quantity)
    kind = type(entry_price)
    entry = numbers.get(entry_price) if kind is str or kind is int else None
    if entry is None or entry <= _ZERO:
        entry = to_decimal("entry_price", entry_price)
    kind = type(exit_price)
    exit_ = numbers.get(exit_price) if kind is str or kind is int else None
    if exit_ is None or exit_ <= _ZERO:
        exit_ = to_decimal("exit_price", exit_price)
    if (
        type(entry_time) is datetime
        and type(entry_time.tzinfo) is timezone
        and EARLIEST <= entry_time < LATEST
    ):
        t_in = entry_time
    else:
        t_in = to_time("entry_time", entry_time)
    if (
        type(exit_time) is datetime
        and type(exit_time.tzinfo) is timezone
        and EARLIEST <= exit_time < LATEST
    ):
        t_out = exit_time
    else:
        t_out = to_time("exit_time", exit_time)
    kind = type(fees)
    fee = numbers.get(fees) if kind is str or kind is int else None
    if fee is None or fee < _ZERO:
        fee = to_decimal("fees", fees, minimum="nonnegative")
    strat = names.get(strategy) if type(strategy) is str else None
    if strat is None:
        strat = to_name("strategy", strategy)
    stop = None
    if stop_price is not None:
        kind = type(stop_price)
        stop = numbers.get(stop_price) if kind is str or kind is int else None
        if stop is None or stop <= _ZERO:
            stop = to_decimal("stop_price", stop_price)
    target = None
    if target_price is not None:
        kind = type(target_price)
        target = numbers.get(target_price) if kind is str or kind is int else None
        if target is None or target <= _ZERO:
            target = to_decimal("target_price", target_price)
    tag_names = None
    if type(tags) is tuple:
        try:
            tag_names = _RAW_TAGS.get(tags)
        except TypeError:  # something unhashable: to_tags names it
            tag_names = None
    if tag_names is None:
        tag_names = to_tags(tags)
    return sym, side_, qty, entry, exit_, t_in, t_out, fee, strat, stop, target, tag_names
