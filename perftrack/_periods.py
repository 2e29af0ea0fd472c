"""
Session days, ISO weeks and calendar months in the tracker's time zone.

A *session day* is identified by its proleptic Gregorian ordinal (``date.toordinal()``), which
makes day arithmetic integer arithmetic. With ``calendar="all"`` every local calendar day is a
session day. With ``calendar="weekdays"`` only Monday to Friday are; whatever happens on a
Saturday or Sunday is booked to the following Monday's session, the way futures and FX sessions
open on Sunday evening. Weeks are ISO weeks (Monday first) of the session day, months the
calendar month of the session day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Final, Literal

from dateutil import tz as dateutil_tz

from perftrack.errors import InvalidInputError

__all__ = ["PERIODS", "Calendar", "Period"]

Period = Literal["day", "week", "month", "all"]
PERIODS: Final = ("day", "week", "month", "all")
CALENDARS: Final = ("all", "weekdays")
_SATURDAY: Final = 5


def _resolve_zone(name: object) -> tzinfo:
    if not isinstance(name, str) or not name or name.startswith((":", "/", ".")):
        msg = f"'timezone' must be an IANA time zone name such as 'UTC' (got {name!r})"
        raise InvalidInputError(msg)
    zone: tzinfo | None = (
        dateutil_tz.UTC if name in ("UTC", "Etc/UTC", "Z") else dateutil_tz.gettz(name)
    )
    # gettz also parses POSIX TZ strings ("EST5", "UTC+3"), whose signs read the opposite way
    # from ISO offsets: a name that is not in the time-zone database is refused, not guessed.
    if zone is None or isinstance(zone, dateutil_tz.tzstr):
        msg = f"'timezone' is not a known IANA time zone (got {name!r})"
        raise InvalidInputError(msg)
    return zone


class Calendar:
    """
    Maps instants to session days and session days to periods, in one time zone.

    Thread-safe: the only mutable state is two caches of day boundaries, which a lookup
    replaces or fills whole; a race costs a duplicate computation, never a wrong answer.
    """

    def __init__(self, timezone: str = "UTC", calendar: str = "all") -> None:
        if calendar not in CALENDARS:
            msg = f"'calendar' must be one of {CALENDARS} (got {calendar!r})"
            raise InvalidInputError(msg)
        self.timezone_name = timezone
        self.zone = _resolve_zone(timezone)
        self.calendar = calendar
        self.weekdays = calendar == "weekdays"
        # The last few session intervals looked up: events cluster in the current session, so
        # most lookups are two datetime comparisons instead of an astimezone() call.
        self._recent: list[tuple[datetime, datetime, int]] = []
        # Session bounds never change for a day: dateutil's conversions are the slowest part of
        # a summary, so each day's bounds (UTC and local) are computed once. Bounded.
        self._bounds: dict[int, tuple[datetime, datetime, datetime, datetime]] = {}

    # -- instants and days -------------------------------------------------------------------

    def local_midnight(self, ordinal: int) -> datetime:
        """
        The instant (UTC) at which local calendar day ``ordinal`` begins.

        Correct across daylight-saving changes, including zones whose clocks skip midnight.
        """
        naive = datetime.combine(date.fromordinal(ordinal), time(0))
        local: datetime = dateutil_tz.resolve_imaginary(naive.replace(tzinfo=self.zone))
        return local.astimezone(UTC)

    def session_of_date(self, day: date) -> int:
        """
        The session day that local calendar date ``day`` belongs to.
        """
        ordinal = day.toordinal()
        if self.weekdays:
            weekday = day.weekday()
            if weekday >= _SATURDAY:
                ordinal += 7 - weekday
        return ordinal

    def session_bounds(self, ordinal: int) -> tuple[datetime, datetime]:
        """
        The half-open instant range ``[start, end)`` (UTC) that session day ``ordinal`` covers.
        """
        start, end, _local_start, _local_end = self.day_bounds(ordinal)
        return start, end

    def day_bounds(self, ordinal: int) -> tuple[datetime, datetime, datetime, datetime]:
        """
        Session day ``ordinal``'s start and (exclusive) end as UTC instants, then the same two
        in the tracker's zone. Computed once per day (bounded cache).
        """
        cached = self._bounds.get(ordinal)
        if cached is None:
            first = ordinal
            if self.weekdays and date.fromordinal(ordinal).weekday() == 0:
                first = ordinal - 2  # Monday's session opens on Saturday.
            start, end = self.local_midnight(first), self.local_midnight(ordinal + 1)
            cached = (start, end, start.astimezone(self.zone), end.astimezone(self.zone))
            if len(self._bounds) >= 8192:
                self._bounds.clear()
            self._bounds[ordinal] = cached
        return cached

    def session_of(self, when: datetime) -> int:
        """
        The session day (ordinal) containing the aware instant ``when``.
        """
        # Reading a list that another thread may replace is safe: the reference swap is atomic
        # and every list ever stored is complete.
        for start, end, ordinal in self._recent:
            if start <= when < end:
                return ordinal
        ordinal = self.session_of_date(when.astimezone(self.zone).date())
        start, end = self.session_bounds(ordinal)
        self._recent = [(start, end, ordinal), *self._recent[:3]]
        return ordinal

    def _next_session(self, ordinal: int) -> int:
        nxt = ordinal + 1
        if self.weekdays and date.fromordinal(nxt).weekday() >= _SATURDAY:
            nxt += 7 - date.fromordinal(nxt).weekday()
        return nxt

    # -- periods -------------------------------------------------------------------------------

    def period_days(self, period: str, ordinal: int) -> tuple[int, int]:
        """
        The first and last calendar-day ordinals (inclusive) of the day, ISO week or month
        that contains session day ``ordinal``.
        """
        day = date.fromordinal(ordinal)
        if period == "day":
            return ordinal, ordinal
        if period == "week":
            first = ordinal - day.weekday()
            return first, first + 6
        if period == "month":
            first_day = day.replace(day=1)
            nxt = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
            return first_day.toordinal(), nxt.toordinal() - 1
        msg = f"'period' must be one of {PERIODS} (got {period!r})"
        raise InvalidInputError(msg)

    def next_period_start(self, period: str, ordinal: int) -> int:
        """
        The first calendar-day ordinal of the period after the one containing ``ordinal``.
        """
        return self.period_days(period, ordinal)[1] + 1

    def session_days(self, first: int, last: int) -> list[int]:
        """
        The session-day ordinals in the inclusive calendar-day range ``[first, last]``.
        """
        if last < first:
            return []
        if not self.weekdays:
            return list(range(first, last + 1))
        return [o for o in range(first, last + 1) if date.fromordinal(o).weekday() < _SATURDAY]

    def count_session_days(self, first: int, last: int) -> int:
        """
        How many session days the inclusive calendar-day range ``[first, last]`` holds.
        """
        if last < first:
            return 0
        span = last - first + 1
        if not self.weekdays:
            return span
        weeks, rest = divmod(span, 7)
        start_weekday = date.fromordinal(first).weekday()
        extra = sum(1 for k in range(rest) if (start_weekday + k) % 7 < _SATURDAY)
        return weeks * 5 + extra

    def range_start_day(self, day: date) -> int:
        """
        The first session day of an inclusive date range that starts on ``day``.
        """
        return self.session_of_date(day)

    def range_end_day(self, day: date) -> int:
        """
        The last session day of an inclusive date range that ends on ``day``.

        A range ending on a weekend (weekdays calendar) ends with Friday's session: the weekend
        belongs to the next Monday, which the range does not reach.
        """
        ordinal = day.toordinal()
        if self.weekdays:
            weekday = day.weekday()
            if weekday >= _SATURDAY:
                ordinal -= weekday - 4
        return ordinal

    def day_start(self, ordinal: int) -> datetime:
        """
        The start of session day ``ordinal`` as an aware datetime in the tracker's zone.
        """
        return self.day_bounds(ordinal)[2]

    def day_end(self, ordinal: int) -> datetime:
        """
        The (exclusive) end of session day ``ordinal`` in the tracker's zone.
        """
        return self.day_bounds(ordinal)[3]

    def to_local(self, when: datetime) -> datetime:
        """
        ``when`` expressed in the tracker's time zone.
        """
        return when.astimezone(self.zone)


ONE_DAY: Final = timedelta(days=1)
