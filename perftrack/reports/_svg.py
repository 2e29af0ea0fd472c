"""
Dependency-free, accessible SVG charts: time series, daily bars, histograms and heatmaps.

Every function here is pure (the output depends on the arguments alone; nothing is cached or
shared between calls) and therefore thread-safe. Each chart function returns one ``<svg>``
element as a string, ready to be inlined into an HTML page, and never raises on empty or odd
data. What every chart has in common:

- ``<svg role="img" aria-labelledby="ID-t ID-d">`` names its ``<title>`` and ``<desc>``. The
  ``<desc>`` is a sentence summarising the data (time or value range, minimum, maximum, last
  value): ``role="img"`` hides the drawing from screen readers, so that sentence is the chart.
- A ``viewBox`` with ``width="100%"`` and no pixel size, so the chart scales with its container.
- Colours come from ``pt-*`` CSS classes, styled by :data:`CHART_CSS` (light, with a
  ``prefers-color-scheme: dark`` variant); gains and losses differ in position (above or below
  the zero line, right or left of zero) as well as in colour.
- The plotted marks sit in ``<g class="pt-plot" data-points="N">``, N being what was drawn.
- NaN, infinities and values beyond +-1e300 are left out and counted in the ``<desc>``; empty
  input draws the frame with "No data". Coordinates carry at most two decimals and are never NaN
  or infinite.
- Naive datetimes are read as UTC, never as the host's zone, so the output does not depend on the
  machine; the time axis uses the zone of the first point, which the caller names in ``x_label``
  ("Date (America/New_York)").

Long series are thinned by :func:`downsample` (min/max decimation) and daily bars by keeping each
slot's best and worst day, so extremes always stay visible; see ``docs/charts.md``.
"""

from __future__ import annotations

import hashlib
import math
import re
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from operator import itemgetter
from typing import Final, SupportsFloat, TypeAlias, TypeVar
from xml.sax.saxutils import escape

__all__ = [
    "CHART_CSS",
    "bar_chart",
    "category_chart",
    "downsample",
    "heatmap",
    "histogram",
    "line_chart",
    "nice_ticks",
    "with_css",
]

Number: TypeAlias = float | Decimal
_P = TypeVar("_P", bound=tuple[object, SupportsFloat])

_NS: Final = "http://www.w3.org/2000/svg"
_WIDTH: Final = 640
_HEIGHT: Final = 320
_MIN_WIDTH: Final = 240
_MIN_HEIGHT: Final = 160
# Room above the plot for the visible title, below it for two lines of tick labels and the
# axis label, and on the right for half of the last centred tick label.
_TOP: Final = 32
_BOTTOM: Final = 58
_RIGHT: Final = 24
_LABEL_BAND: Final = 22
# Average advance of one character at the 12px chart font: margins are sized from label lengths
# because there is no text measurement without a renderer.
_CHAR_W: Final = 7.0
_CELL_H: Final = 26
# Beyond this magnitude a span could overflow to infinity; no account is that large.
_MAX_ABS: Final = 1e300
# Below this a spread is treated as no spread at all, so step sizes never underflow to zero.
_TINY: Final = 1e-200
_MAX_BINS: Final = 60
_MIN_TIME_SPAN: Final = 60.0
_DAY: Final = 86_400
_YEAR: Final = 365.2425 * _DAY
_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()
# Our own month names: strftime("%b") follows the process locale, and a library's output must
# not change with whatever locale the bot happens to set.
_MONTHS: Final = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
# (unit, step, approximate seconds): the first that fits the span in the allowed ticks wins.
_TIME_STEPS: Final[tuple[tuple[str, int, float], ...]] = (
    ("minute", 1, 60),
    ("minute", 5, 300),
    ("minute", 15, 900),
    ("minute", 30, 1_800),
    ("hour", 1, 3_600),
    ("hour", 3, 10_800),
    ("hour", 6, 21_600),
    ("hour", 12, 43_200),
    ("day", 1, _DAY),
    ("day", 2, 2 * _DAY),
    ("week", 1, 7 * _DAY),
    ("month", 1, 30.44 * _DAY),
    ("month", 3, 91.31 * _DAY),
    ("month", 6, 182.62 * _DAY),
)
# Characters XML 1.0 forbids even when escaped; a title holding one would break the document.
_XML_ILLEGAL: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ID_UNSAFE: Final = re.compile(r"[^A-Za-z0-9_-]")
_ZERO_DIGITS: Final = re.compile("[1-9]")
_FIXED_SPEC: Final = re.compile(r"(?P<head>.*?)(?:\.(?P<digits>\d+))?(?P<kind>[%fF])")

CHART_CSS: Final = """\
.pt-chart {
  display: block; width: 100%; height: auto;
  font: 12px system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  --pt-fg: #1f2328; --pt-muted: #57606a; --pt-grid: #d8dee4; --pt-axis: #8c959f;
  --pt-bg: #ffffff; --pt-line: #0072b2; --pt-pos: #009e73; --pt-neg: #d55e00;
}
.pt-chart text { fill: var(--pt-fg); }
.pt-chart .pt-bg { fill: var(--pt-bg); }
.pt-chart .pt-title { font-size: 14px; font-weight: 600; }
.pt-chart .pt-tick text, .pt-chart .pt-label, .pt-chart .pt-empty { fill: var(--pt-muted); }
.pt-chart .pt-empty { font-size: 16px; }
.pt-chart .pt-grid { fill: none; stroke: var(--pt-grid); stroke-width: 1; }
.pt-chart .pt-axis { fill: none; stroke: var(--pt-axis); stroke-width: 1; }
.pt-chart .pt-zero { fill: none; stroke: var(--pt-muted); stroke-width: 1; stroke-dasharray: 4 3; }
.pt-chart .pt-line {
  fill: none; stroke: var(--pt-line); stroke-width: 1.75;
  stroke-linejoin: round; stroke-linecap: round;
}
.pt-chart .pt-dot { fill: var(--pt-line); }
.pt-chart .pt-under .pt-line { stroke: var(--pt-neg); }
.pt-chart .pt-under .pt-dot { fill: var(--pt-neg); }
.pt-chart .pt-area { fill: var(--pt-neg); fill-opacity: 0.25; stroke: none; }
.pt-chart .pt-pos { fill: var(--pt-pos); }
.pt-chart .pt-neg { fill: var(--pt-neg); }
.pt-chart .pt-flat { fill: var(--pt-muted); }
.pt-chart .pt-whisker { fill: none; stroke: var(--pt-fg); stroke-width: 1.5; }
.pt-chart .pt-cell text { font-size: 11px; fill: #000000; }
.pt-chart .pt-h-n4 rect { fill: #d55e00; }
.pt-chart .pt-h-n3 rect { fill: #e28e4d; }
.pt-chart .pt-h-n2 rect { fill: #ecb78c; }
.pt-chart .pt-h-n1 rect { fill: #f7dfcc; }
.pt-chart .pt-h0 rect { fill: #eaeef2; }
.pt-chart .pt-h-p1 rect { fill: #ccece3; }
.pt-chart .pt-h-p2 rect { fill: #8cd3c0; }
.pt-chart .pt-h-p3 rect { fill: #4dbb9d; }
.pt-chart .pt-h-p4 rect { fill: #009e73; }
.pt-chart .pt-h-na rect { fill: none; stroke: var(--pt-grid); stroke-dasharray: 3 3; }
@media (prefers-color-scheme: dark) {
  .pt-chart {
    --pt-fg: #e6edf3; --pt-muted: #9198a1; --pt-grid: #30363d; --pt-axis: #6e7681;
    --pt-bg: #161b22; --pt-line: #56b4e9;
  }
  .pt-chart .pt-cell text { fill: #e6edf3; }
  .pt-chart .pt-h-n4 text, .pt-chart .pt-h-p4 text { fill: #000000; }
  .pt-chart .pt-h-n3 rect { fill: #9c4a0a; }
  .pt-chart .pt-h-n2 rect { fill: #763c11; }
  .pt-chart .pt-h-n1 rect { fill: #4f2f18; }
  .pt-chart .pt-h0 rect { fill: #2d333b; }
  .pt-chart .pt-h-p1 rect { fill: #0f423a; }
  .pt-chart .pt-h-p2 rect { fill: #0b5c4a; }
  .pt-chart .pt-h-p3 rect { fill: #07775b; }
}
"""
"""
Stylesheet for every ``pt-*`` class the charts use; include it once per page.

The palette is Okabe-Ito (blue line, bluish-green gains, vermillion losses), distinguishable
with the common colour-vision deficiencies; heatmap steps are tints of the same two hues, and
every text and mark meets WCAG contrast on both themes.
"""


# -- numbers ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Step:
    """
    A round step, ``mantissa * 10**exponent`` with the mantissa 1, 2 or 5, held exactly.
    """

    mantissa: int
    exponent: int

    @property
    def value(self) -> float:
        return self.multiple(1)

    def multiple(self, k: int) -> float:
        # k * m / 10**-e is a single correctly rounded division of exact integers, so the third
        # tick of a 0.1 step is 0.3 and not 0.30000000000000004.
        power = _pow10(abs(self.exponent))
        if self.exponent >= 0:
            return float(k * self.mantissa * power)
        return k * self.mantissa / power

    def floor_index(self, x: float) -> int:
        # Multiply by the exact power of ten rather than divide by the inexact step: 0.3 * 10
        # rounds to 3.0 while 0.3 / 0.1 is 2.9999999999999996, which would misfile 0.3.
        power = _pow10(abs(self.exponent))
        scaled = x / power if self.exponent >= 0 else x * power
        return math.floor(scaled / self.mantissa)


def _pow10(exponent: int) -> int:
    # int ** int is typed Any (a negative exponent gives a float); here it is never negative.
    return int(10**exponent)


def _step_at_least(raw: float) -> _Step:
    exponent = math.floor(math.log10(raw))
    # Start a decade low: log10 can round across a power of ten.
    for e in (exponent - 1, exponent, exponent + 1):
        for mantissa in (1, 2, 5):
            step = _Step(mantissa, e)
            if step.value >= raw:
                return step
    return _Step(1, exponent + 2)


def _nice_scale(
    lo: float, hi: float, max_ticks: int, *, integer: bool = False
) -> tuple[list[float], _Step]:
    lo, hi = min(lo, hi), max(lo, hi)
    span = hi - lo
    if span <= max(abs(lo), abs(hi)) * 1e-12 or span < _TINY:
        # A constant series has no spread to divide: open a window a tenth of its size (one
        # unit around zero) so the line sits mid-chart instead of dividing by zero.
        centre = (lo + hi) / 2
        pad = abs(centre) / 10 if abs(centre) > _TINY else 1.0
        lo, hi = centre - pad, centre + pad
        span = hi - lo
    step = _step_at_least(span / max(1, max_ticks - 1))
    if integer and step.exponent < 0:
        step = _Step(1, 0)
    first, last = step.floor_index(lo), -step.floor_index(-hi)
    # Rounding in floor_index may land one step inside the data; the axis must enclose it.
    while step.multiple(first) > lo:
        first -= 1
    while step.multiple(last) < hi:
        last += 1
    return [step.multiple(k) for k in range(first, last + 1)], step


def nice_ticks(lo: float, hi: float, max_ticks: int = 6) -> list[float]:
    """
    Round axis ticks (steps of 1, 2 or 5 times a power of ten) that enclose ``[lo, hi]``.

    The first tick is <= ``lo`` and the last >= ``hi``; there are at most ``max_ticks + 2`` of
    them, strictly increasing. A zero-width range (narrower than a trillionth of its magnitude,
    or than 1e-200) is widened by a tenth of its value (one unit around zero), so a constant
    series still gets an axis. Pure and thread-safe.

    Args:
        lo: The smallest value to show.
        hi: The largest value to show (swapped with ``lo`` if smaller).
        max_ticks: The number of ticks wanted, at least 2.

    Returns:
        The ticks, each the float nearest to its round decimal (0.3, not 0.30000000000000004).

    Raises:
        ValueError: If a bound is NaN or infinite, or ``max_ticks`` is below 2.
    """
    if not (math.isfinite(lo) and math.isfinite(hi)):
        msg = f"'lo' and 'hi' must be finite (got {lo!r}, {hi!r})"
        raise ValueError(msg)
    if max_ticks < 2:
        msg = f"'max_ticks' must be >= 2 (got {max_ticks!r})"
        raise ValueError(msg)
    return _nice_scale(lo, hi, max_ticks)[0]


def _finite(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        # None, or a signalling-NaN Decimal, which refuses conversion instead of becoming nan.
        return None
    return number if math.isfinite(number) and abs(number) <= _MAX_ABS else None


def _n(value: float) -> str:
    """
    A coordinate, compact: at most two decimals, no trailing zeros, never NaN or infinite.
    """
    assert math.isfinite(value), f"non-finite coordinate {value!r}"
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _formatter(spec: str) -> Callable[[float], str]:
    def format_value(value: float) -> str:
        text = format(value, spec)
        # A value that rounds to zero is shown without a sign: "-0.00" would read as a loss.
        return text[1:] if text[:1] == "-" and _ZERO_DIGITS.search(text) is None else text

    return format_value


def _tick_formatter(spec: str, step: _Step) -> Callable[[float], str]:
    match = _FIXED_SPEC.fullmatch(spec)
    if match is not None:
        # Ticks are round numbers: print the decimals the step needs ("10,500", not
        # "10,500.00"); a percentage shows two fewer.
        decimals = max(0, -step.exponent - (2 if match["kind"] == "%" else 0))
        spec = f"{match['head']}.{decimals}{match['kind']}"
    return _formatter(spec)


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _left_out(skipped: int) -> str:
    if not skipped:
        return ""
    return f" Left out: {_plural(skipped, 'missing or non-finite value')}."


# -- downsampling -----------------------------------------------------------------------------


def downsample(points: Sequence[_P], max_points: int) -> list[_P]:
    """
    Thin a series to at most ``max_points`` points without hiding any extreme.

    Min/max decimation: the first and last points are kept, the points between are cut into
    ``(max_points - 2) // 2`` runs of consecutive points, and each run keeps its lowest and its
    highest point, in their original order. The global minimum and maximum are each the
    minimum or maximum of their run, so they always survive, as does every spike wider than a
    run. A series already short enough is returned as it is (copied). Values must be ordered:
    remove NaN first. Pure and thread-safe.

    Args:
        points: ``(x, value)`` pairs in x order; ``value`` is anything ``float()`` accepts,
            such as a float or a Decimal.
        max_points: The most points to return, at least 4 (first, last, minimum, maximum).

    Returns:
        A sub-sequence of ``points`` (the same objects, in the same order).

    Raises:
        ValueError: If ``max_points`` is below 4.
    """
    if max_points < 4:
        msg = (
            "'max_points' must be >= 4 to keep the first, last, minimum and maximum points"
            f" (got {max_points!r})"
        )
        raise ValueError(msg)
    count = len(points)
    if count <= max_points:
        return list(points)
    values = [float(point[1]) for point in points]
    inner = count - 2
    runs = (max_points - 2) // 2
    kept = [points[0]]
    for run in range(runs):
        # Integer arithmetic spreads the remainder over the runs; none is empty, since
        # inner > max_points - 2 >= 2 * runs.
        start = 1 + run * inner // runs
        stop = 1 + (run + 1) * inner // runs
        segment = values[start:stop]
        low = start + segment.index(min(segment))
        high = start + segment.index(max(segment))
        kept.append(points[min(low, high)])
        if high != low:
            kept.append(points[max(low, high)])
    kept.append(points[-1])
    return kept


def _bar_slots(
    days: Iterable[tuple[int, float]], first: int, n_days: int, n_slots: int
) -> list[tuple[int, float]]:
    """
    The bars to draw: per slot of ``n_days / n_slots`` days, its largest gain and largest loss.

    A gain goes up from the zero line and a loss down, so both fit in one slot and the best and
    worst day of every slot stay visible; a slot with only flat days gets one flat mark.
    """
    best: dict[int, float] = {}
    worst: dict[int, float] = {}
    flat: set[int] = set()
    for day, value in days:
        slot = (day - first) * n_slots // n_days
        if value > 0:
            best[slot] = max(value, best.get(slot, 0.0))
        elif value < 0:
            worst[slot] = min(value, worst.get(slot, 0.0))
        else:
            flat.add(slot)
    flat_only = flat - best.keys() - worst.keys()
    return sorted([*best.items(), *worst.items(), *((slot, 0.0) for slot in flat_only)])


# -- time axis --------------------------------------------------------------------------------


def _time_unit(span: float, max_ticks: int) -> tuple[str, int]:
    # Calendar steps are coarse (a week, then a month), so allow max_ticks intervals rather
    # than max_ticks - 1: two ticks on a fortnight says too little.
    intervals = max(1, max_ticks)
    for unit, step, seconds in _TIME_STEPS:
        if span / seconds <= intervals:
            return unit, step
    return "year", round(_step_at_least(max(1.0, span / _YEAR / intervals)).value)


def _instants(unit: str, step: int, t0: float, t1: float, zone: tzinfo) -> Iterator[datetime]:
    start = datetime.fromtimestamp(t0, zone)
    if unit in ("minute", "hour"):
        return _clock_instants(unit, step, start, t1)
    if unit in ("day", "week"):
        return _day_instants(unit, step, start, t1)
    return _calendar_instants(unit, step, start, t1)


def _clock_instants(unit: str, step: int, start: datetime, t1: float) -> Iterator[datetime]:
    base = start.replace(second=0, microsecond=0)
    if unit == "minute":
        base = base.replace(minute=base.minute - base.minute % step)
    else:
        base = base.replace(hour=base.hour - base.hour % step, minute=0)
    # Absolute strides from a round local time: across a daylight-saving change the labels
    # shift by an hour, where wall-clock strides would repeat or skip an instant.
    stride = step * (60 if unit == "minute" else 3_600)
    moment = base.timestamp()
    while moment <= t1:
        if moment >= start.timestamp():
            yield datetime.fromtimestamp(moment, start.tzinfo)
        moment += stride


def _day_instants(unit: str, step: int, start: datetime, t1: float) -> Iterator[datetime]:
    day = start.date()
    # Weeks start on Monday; two-day steps on even ordinals, so ticks do not depend on t0.
    day -= timedelta(days=day.weekday() if unit == "week" else day.toordinal() % step)
    stride = timedelta(days=7 if unit == "week" else step)
    while day <= date.max - stride:
        moment = datetime.combine(day, time(0), start.tzinfo)
        if moment.timestamp() > t1:
            return
        if moment >= start:
            yield moment
        day += stride


def _calendar_instants(unit: str, step: int, start: datetime, t1: float) -> Iterator[datetime]:
    # Months are counted from year 0 so that quarters and halves start in Jan, Apr, Jul, Oct.
    index = start.year * 12 + start.month - 1 if unit == "month" else start.year
    index -= index % step
    while True:
        year, month = divmod(index, 12) if unit == "month" else (index, 0)
        if year > date.max.year:
            return
        if year >= date.min.year:
            moment = datetime(year, month + 1, 1, tzinfo=start.tzinfo)
            if moment.timestamp() > t1:
                return
            if moment >= start:
                yield moment
        index += step


def _time_label(unit: str, moment: datetime, previous: datetime | None) -> tuple[str, str]:
    """
    A tick's label and the context line under it, shown where the day or year changes.
    """
    month = _MONTHS[moment.month - 1]
    if unit in ("minute", "hour"):
        new_day = previous is None or previous.date() != moment.date()
        return f"{moment:%H:%M}", f"{moment.day} {month}" if new_day else ""
    year = str(moment.year) if previous is None or previous.year != moment.year else ""
    if unit in ("day", "week"):
        return f"{moment.day} {month}", year
    if unit == "month":
        return month, year
    return str(moment.year), ""


def _time_ticks(
    t0: float, t1: float, zone: tzinfo, max_ticks: int, *, centre_days: bool = False
) -> list[tuple[float, str, str]]:
    """
    Calendar-round instants in ``[t0, t1]`` as ``(timestamp, label, context)``.

    The unit (minutes to years) is the finest that needs at most ``max_ticks`` ticks; day and
    week ticks move to mid-day when ``centre_days`` (under a daily bar, not at its edge).
    """
    unit, step = _time_unit(t1 - t0, max_ticks)
    ticks: list[tuple[float, str, str]] = []
    previous: datetime | None = None
    shift = _DAY / 2 if centre_days and unit in ("day", "week") else 0.0
    try:
        for moment in _instants(unit, step, t0, t1, zone):
            label, context = _time_label(unit, moment, previous)
            ticks.append((min(moment.timestamp() + shift, t1), label, context))
            previous = moment
    except (OverflowError, ValueError, OSError):
        # Only at the ends of datetime's range (years 1 and 9999): the ticks found so far
        # still beat no chart.
        pass
    return ticks


def _when(timestamp: float, zone: tzinfo, with_time: bool) -> str:
    moment = datetime.fromtimestamp(timestamp, zone)
    return f"{moment:%Y-%m-%d %H:%M}" if with_time else moment.date().isoformat()


# -- drawing ----------------------------------------------------------------------------------


def _text(value: str) -> str:
    return escape(_XML_ILLEGAL.sub("", value))


@dataclass(frozen=True, slots=True)
class _Scale:
    """
    Maps a domain ``[d0, d1]`` (``d1 > d0``) linearly onto a range of user units.
    """

    d0: float
    d1: float
    r0: float
    r1: float

    def __call__(self, value: float) -> float:
        return self.r0 + (value - self.d0) * (self.r1 - self.r0) / (self.d1 - self.d0)


@dataclass(frozen=True, slots=True)
class _Frame:
    """
    The viewBox size and the plot area's edges inside it, in user units.
    """

    width: float
    height: float
    left: float
    top: float
    right: float
    bottom: float

    @property
    def middle_x(self) -> float:
        return (self.left + self.right) / 2

    @property
    def middle_y(self) -> float:
        return (self.top + self.bottom) / 2


def _frame(width: int, height: int, y_labels: Iterable[str]) -> _Frame:
    width, height = max(width, _MIN_WIDTH), max(height, _MIN_HEIGHT)
    widest = max((len(label) for label in y_labels), default=0)
    # Long labels may not squeeze the plot away entirely.
    left = min(_LABEL_BAND + 10 + widest * _CHAR_W, width / 2)
    return _Frame(width, height, left, _TOP, width - _RIGHT, height - _BOTTOM)


def _axes(
    frame: _Frame,
    x_ticks: Sequence[tuple[float, str, str]],
    y_ticks: Sequence[tuple[float, str]],
    x_label: str,
    y_label: str,
) -> list[str]:
    """
    Grid, tick marks and labels, axis lines and axis titles; ticks are ``(position, ...)``.
    """
    f = frame
    parts = []
    if y_ticks:
        grid = "".join(f"M{_n(f.left)},{_n(y)}H{_n(f.right)}" for y, _ in y_ticks)
        labels = "".join(
            f'<text x="{_n(f.left - 6)}" y="{_n(y + 4)}">{_text(label)}</text>'
            for y, label in y_ticks
        )
        parts.append(f'<path class="pt-grid" d="{grid}"/>')
        parts.append(f'<g class="pt-tick" text-anchor="end">{labels}</g>')
    if x_ticks:
        marks = "".join(f"M{_n(x)},{_n(f.bottom)}v5" for x, _, _ in x_ticks)
        labels = "".join(
            f'<text x="{_n(x)}" y="{_n(f.bottom + 18)}">{_text(label)}</text>'
            + (f'<text x="{_n(x)}" y="{_n(f.bottom + 32)}">{_text(ctx)}</text>' if ctx else "")
            for x, label, ctx in x_ticks
        )
        parts.append(f'<path class="pt-axis" d="{marks}"/>')
        parts.append(f'<g class="pt-tick" text-anchor="middle">{labels}</g>')
    parts.append(
        f'<path class="pt-axis" d="M{_n(f.left)},{_n(f.top)}V{_n(f.bottom)}H{_n(f.right)}"/>'
    )
    parts.append(_axis_titles(frame, x_label, y_label))
    return parts


def _axis_titles(frame: _Frame, x_label: str, y_label: str) -> str:
    out = ""
    if x_label:
        out += (
            f'<text class="pt-label" x="{_n(frame.middle_x)}" y="{_n(frame.height - 6)}"'
            f' text-anchor="middle">{_text(x_label)}</text>'
        )
    if y_label:
        # rotate(-90) maps (x, y) to (y, -x): x = -middle puts the label's centre mid-plot.
        out += (
            f'<text class="pt-label" transform="rotate(-90)" x="{_n(-frame.middle_y)}" y="15"'
            f' text-anchor="middle">{_text(y_label)}</text>'
        )
    return out


def _zero_line(frame: _Frame, y_scale: _Scale) -> str:
    if not y_scale.d0 <= 0 <= y_scale.d1:
        return ""
    y = _n(y_scale(0.0))
    return f'<path class="pt-zero" d="M{_n(frame.left)},{y}H{_n(frame.right)}"/>'


def _chart_id(kind: str, title: str, desc: str, chart_id: str | None) -> str:
    if chart_id:
        # One token: aria-labelledby is a space-separated list of ids.
        return _ID_UNSAFE.sub("-", chart_id)
    # Derived from the content rather than a counter: the output stays deterministic and needs
    # no shared state, yet two different charts on one page get different ids.
    seed = f"{kind}\0{title}\0{desc}".encode("utf-8", "surrogatepass")
    return "pt-" + hashlib.blake2s(seed, digest_size=5).hexdigest()


def _document(
    kind: str, frame: _Frame, title: str, desc: str, chart_id: str | None, body: Iterable[str]
) -> str:
    cid = _chart_id(kind, title, desc, chart_id)
    w, h = _n(frame.width), _n(frame.height)
    return (
        f'<svg xmlns="{_NS}" class="pt-chart pt-{kind}" role="img"'
        f' aria-labelledby="{cid}-t {cid}-d" viewBox="0 0 {w} {h}" width="100%">'
        f'<title id="{cid}-t">{_text(title)}</title><desc id="{cid}-d">{_text(desc)}</desc>'
        f'<rect class="pt-bg" width="{w}" height="{h}"/>'
        f'<text class="pt-title" x="8" y="20">{_text(title)}</text>' + "".join(body) + "</svg>"
    )


def _empty(
    kind: str,
    frame: _Frame,
    title: str,
    x_label: str,
    y_label: str,
    chart_id: str | None,
    skipped: int,
) -> str:
    body = [
        *_axes(frame, (), (), x_label, y_label),
        '<g class="pt-plot" data-points="0"/>',
        f'<text class="pt-empty" x="{_n(frame.middle_x)}" y="{_n(frame.middle_y)}"'
        ' text-anchor="middle">No data</text>',
    ]
    return _document(kind, frame, title, "No data." + _left_out(skipped), chart_id, body)


def _value_axis(
    lo: float, hi: float, spec: str, width: int, height: int, *, integer: bool = False
) -> tuple[_Frame, _Scale, list[tuple[float, str]]]:
    """
    The vertical value axis for ``[lo, hi]``: the frame sized to its labels, scale and ticks.
    """
    plot_h = max(height, _MIN_HEIGHT) - _TOP - _BOTTOM
    ticks, step = _nice_scale(lo, hi, max(2, int(plot_h / 40)), integer=integer)
    tick_format = _tick_formatter(spec, step)
    labels = [tick_format(tick) for tick in ticks]
    frame = _frame(width, height, labels)
    scale = _Scale(ticks[0], ticks[-1], frame.bottom, frame.top)
    return frame, scale, [(scale(t), label) for t, label in zip(ticks, labels, strict=True)]


def _paths(by_class: dict[str, list[str]]) -> list[str]:
    # One <path> per class holding every bar's subpath: far smaller than a <rect> per bar.
    return [f'<path class="{css}" d="{"".join(d)}"/>' for css, d in by_class.items() if d]


def _time_axis(
    x_scale: _Scale, zone: tzinfo, frame: _Frame, *, centre_days: bool = False
) -> list[tuple[float, str, str]]:
    ticks = _time_ticks(x_scale.d0, x_scale.d1, zone, _x_tick_count(frame), centre_days=centre_days)
    return [(x_scale(t), label, context) for t, label, context in ticks]


def _x_tick_count(frame: _Frame) -> int:
    # About one tick per 75 user units: labels such as "30 Sep" never collide.
    return max(2, int((frame.right - frame.left) / 75))


# -- charts -----------------------------------------------------------------------------------


def _series(
    points: Iterable[tuple[date, Number | None]],
) -> tuple[list[tuple[float, float]], tzinfo, int]:
    series: list[tuple[float, float]] = []
    zone: tzinfo | None = None
    skipped = 0
    for when, raw in points:
        value = _finite(raw)
        if value is None:
            skipped += 1
            continue
        moment = when if isinstance(when, datetime) else datetime.combine(when, time(0))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        if zone is None:
            zone = moment.tzinfo
        series.append((moment.timestamp(), value))
    # Timsort is linear on the usual already-ordered input.
    series.sort(key=itemgetter(0))
    return series, zone or UTC, skipped


def line_chart(
    points: Iterable[tuple[datetime, Number]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    y_format: str = ",.2f",
    fill_to_zero: bool = False,
    y_include: Iterable[float] = (),
    max_points: int | None = None,
    width: int = _WIDTH,
    height: int = _HEIGHT,
    chart_id: str | None = None,
    zone: tzinfo | None = None,
) -> str:
    """
    A time-series line: the equity curve, a rolling win rate, or (``fill_to_zero``) drawdown.

    Points are sorted by time; a long series is thinned with :func:`downsample`, so its
    extremes stay drawn and a 100,000-point series makes a chart of about 16 KB. The summary
    in ``<desc>`` is computed from every point, not the thinned ones. Pure and thread-safe.

    Args:
        points: ``(datetime, value)`` pairs; values are floats or Decimals. Naive datetimes
            are read as UTC; the time axis uses the first point's zone.
        title: The chart's title, shown and announced.
        x_label: The time axis title; name the zone, e.g. ``"Date (America/New_York)"``.
        y_label: The value axis title with its unit, e.g. ``"Equity (USD)"``.
        y_format: A ``format()`` spec for values, e.g. ``",.2f"`` or ``".0%"``; tick labels
            use the same spec with only the decimals their step needs.
        fill_to_zero: Shade between the line and zero (the underwater chart) and keep zero on
            the axis.
        y_include: Values the axis must show whatever the data, e.g. ``(0, 1)`` for a rate.
        max_points: The most vertices to draw (at least 4); by default two per plot unit of
            width, which is as much detail as a screen can show.
        width: Width of the ``viewBox`` in user units (the chart still scales to its box).
        height: Height of the ``viewBox`` in user units.
        chart_id: Prefix for the ids of ``<title>`` and ``<desc>``; derived from the content
            when omitted.
        zone: The zone the time axis and ``<desc>`` write times in; by default the first
            point's. (Giving it beats converting every point: a dateutil zone computes each
            offset in Python, a second for a 100,000-point curve.)

    Returns:
        The ``<svg>`` element.
    """
    series, first_zone, skipped = _series(points)
    zone = first_zone if zone is None else zone
    kind = "line-chart"
    if not series:
        return _empty(kind, _frame(width, height, ()), title, x_label, y_label, chart_id, skipped)
    values = [value for _, value in series]
    lo, hi = min(values), max(values)
    bounds = [lo, hi, *(v for v in map(_finite, y_include) if v is not None)]
    if fill_to_zero:
        bounds.append(0.0)
    frame, y_scale, y_ticks = _value_axis(min(bounds), max(bounds), y_format, width, height)
    t0, t1 = series[0][0], series[-1][0]
    if t1 - t0 < _MIN_TIME_SPAN:
        # A single instant has no extent to divide: centre it in a one-minute window.
        middle = (t0 + t1) / 2
        t0, t1 = middle - _MIN_TIME_SPAN / 2, middle + _MIN_TIME_SPAN / 2
    x_scale = _Scale(t0, t1, frame.left, frame.right)
    x_ticks = _time_axis(x_scale, zone, frame)
    limit = max_points if max_points is not None else 2 * int(frame.right - frame.left)
    drawn = downsample(series, max(4, limit))
    coords = " ".join(f"{_n(x_scale(t))},{_n(y_scale(v))}" for t, v in drawn)
    marks = []
    if fill_to_zero:
        base = _n(y_scale(0.0))
        first_x, last_x = _n(x_scale(drawn[0][0])), _n(x_scale(drawn[-1][0]))
        marks.append(
            f'<polygon class="pt-area" points="{first_x},{base} {coords} {last_x},{base}"/>'
        )
    marks.append(f'<polyline class="pt-line" fill="none" points="{coords}"/>')
    # The last value is the one readers look for first, and the dot keeps a lone point visible.
    last_t, last = series[-1]
    marks.append(
        f'<circle class="pt-dot" cx="{_n(x_scale(last_t))}" cy="{_n(y_scale(last))}" r="3"/>'
    )
    fmt = _formatter(y_format)
    with_time = series[-1][0] - series[0][0] < 2 * _DAY
    low_t, high_t = series[values.index(lo)][0], series[values.index(hi)][0]
    desc = (
        f"{_plural(len(series), 'point')} from {_when(series[0][0], zone, with_time)}"
        f" to {_when(last_t, zone, with_time)}."
        f" Minimum {fmt(lo)} ({_when(low_t, zone, with_time)}),"
        f" maximum {fmt(hi)} ({_when(high_t, zone, with_time)}), last {fmt(last)}."
        + _left_out(skipped)
    )
    group = "pt-plot pt-under" if fill_to_zero else "pt-plot"
    body = [
        *_axes(frame, x_ticks, y_ticks, x_label, y_label),
        _zero_line(frame, y_scale),
        f'<g class="{group}" data-points="{len(drawn)}" data-source-points="{len(series)}">',
        *marks,
        "</g>",
    ]
    return _document(kind, frame, title, desc, chart_id, body)


def bar_chart(
    points: Iterable[tuple[date, Number]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    y_format: str = ",.2f",
    max_bars: int | None = None,
    width: int = _WIDTH,
    height: int = _HEIGHT,
    chart_id: str | None = None,
) -> str:
    """
    Daily bars (P&L per day): gains up from the zero line, losses down, on a calendar axis.

    Days are placed by date, so days without a value leave gaps. When there are more days than
    ``max_bars`` slots, each slot covers several days and draws its largest gain and its
    largest loss (up and down from zero, so both fit): the best and worst days always show.
    ``data-points`` counts the bars drawn. Pure and thread-safe.

    Args:
        points: ``(date, value)`` pairs, one per day; a datetime counts as its date.
        title: The chart's title, shown and announced.
        x_label: The date axis title, naming the zone the days are in.
        y_label: The value axis title with its unit, e.g. ``"P&L (USD)"``.
        y_format: A ``format()`` spec for values, e.g. ``",.2f"``.
        max_bars: The most slots; by default one per two plot units of width.
        width: Width of the ``viewBox`` in user units (the chart still scales to its box).
        height: Height of the ``viewBox`` in user units.
        chart_id: Prefix for the ids of ``<title>`` and ``<desc>``; derived from the content
            when omitted.

    Returns:
        The ``<svg>`` element.
    """
    days: list[tuple[int, float]] = []
    skipped = 0
    for day, raw in points:
        value = _finite(raw)
        if value is None:
            skipped += 1
        else:
            days.append((day.toordinal(), value))
    kind = "bar-chart"
    if not days:
        return _empty(kind, _frame(width, height, ()), title, x_label, y_label, chart_id, skipped)
    days.sort(key=itemgetter(0))
    values = [value for _, value in days]
    lo, hi = min(values), max(values)
    frame, y_scale, y_ticks = _value_axis(min(lo, 0.0), max(hi, 0.0), y_format, width, height)
    first, last = days[0][0], days[-1][0]
    n_days = last - first + 1
    plot_w = frame.right - frame.left
    limit = max_bars if max_bars is not None else int(plot_w / 2)
    n_slots = max(1, min(n_days, limit))
    t0 = (first - _EPOCH_ORDINAL) * float(_DAY)
    x_scale = _Scale(t0, t0 + n_days * _DAY, frame.left, frame.right)
    x_ticks = _time_axis(x_scale, UTC, frame, centre_days=True)
    slot_w = plot_w / n_slots
    # A gap between wide bars separates days; below 3 units a gap would only blur them.
    bar_w = slot_w * 0.8 if slot_w >= 3 else slot_w
    zero = y_scale(0.0)
    paths: dict[str, list[str]] = {"pt-pos": [], "pt-neg": [], "pt-flat": []}
    bars = _bar_slots(days, first, n_days, n_slots)
    for slot, value in bars:
        x = _n(frame.left + slot * slot_w + (slot_w - bar_w) / 2)
        if value == 0:
            paths["pt-flat"].append(f"M{x},{_n(zero - 0.75)}h{_n(bar_w)}v1.5h{_n(-bar_w)}z")
        else:
            css = "pt-pos" if value > 0 else "pt-neg"
            top = _n(y_scale(value))
            paths[css].append(f"M{x},{_n(zero)}V{top}h{_n(bar_w)}V{_n(zero)}z")
    fmt = _formatter(y_format)
    by_value = {value: day for day, value in reversed(days)}
    when = date.fromordinal
    desc = (
        f"{_plural(len(days), 'day')} from {when(first)} to {when(last)}, total {fmt(sum(values))}."
        f" Highest {fmt(hi)} ({when(by_value[hi])}), lowest {fmt(lo)} ({when(by_value[lo])}),"
        f" last {fmt(days[-1][1])} ({when(last)})."
        + (
            f" Each bar covers about {n_days / n_slots:.1f} days and shows the best and worst of"
            " them."
            if n_slots < n_days
            else ""
        )
        + _left_out(skipped)
    )
    body = [
        *_axes(frame, x_ticks, y_ticks, x_label, y_label),
        f'<g class="pt-plot" data-points="{len(bars)}" data-source-points="{len(days)}">',
        *_paths(paths),
        "</g>",
        _zero_line(frame, y_scale),
    ]
    return _document(kind, frame, title, desc, chart_id, body)


def category_chart(
    points: Iterable[tuple[str, Number | None, Number | None, Number | None]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    y_format: str = ".0%",
    y_include: tuple[float, float] | None = None,
    width: int = _WIDTH,
    height: int = _HEIGHT,
    chart_id: str | None = None,
) -> str:
    """
    One bar per category (win rate by confidence level, by edge), each with an optional
    interval drawn as a whisker (a 95 % Wilson interval): bars up from zero for values at or
    above it, down for values below.

    Categories keep the order given; one without a value leaves its slot empty and is named
    in the ``<desc>``, which lists every category's value and interval. ``data-points``
    counts the bars drawn. Pure and thread-safe.

    Args:
        points: ``(label, value, low, high)`` per category; ``low`` and ``high`` may be None
            (no whisker).
        title: The chart's title, shown and announced.
        x_label: The category axis title.
        y_label: The value axis title with its unit.
        y_format: A ``format()`` spec for values, e.g. ``".0%"`` for fractions.
        y_include: Values the axis must span (``(0.0, 1.0)`` for rates).
        width: Width of the ``viewBox`` in user units (the chart still scales to its box).
        height: Height of the ``viewBox`` in user units.
        chart_id: Prefix for the ids of ``<title>`` and ``<desc>``; derived from the content
            when omitted.

    Returns:
        The ``<svg>`` element.
    """
    rows = [(str(label), _finite(v), _finite(lo), _finite(hi)) for label, v, lo, hi in points]
    present = [value for _, value, _, _ in rows if value is not None]
    kind = "category-chart"
    if not present:
        return _empty(kind, _frame(width, height, ()), title, x_label, y_label, chart_id, len(rows))
    extent = [*present, 0.0, *(b for _, _, lo, hi in rows for b in (lo, hi) if b is not None)]
    if y_include is not None:
        extent += [float(y_include[0]), float(y_include[1])]
    frame, y_scale, y_ticks = _value_axis(min(extent), max(extent), y_format, width, height)
    slot_w = (frame.right - frame.left) / len(rows)
    bar_w = slot_w * 0.6
    zero = y_scale(0.0)
    fmt = _formatter(y_format)
    paths: dict[str, list[str]] = {"pt-pos": [], "pt-neg": [], "pt-flat": []}
    whiskers = []
    x_ticks = []
    described = []
    for k, (label, value, lo, hi) in enumerate(rows):
        centre = frame.left + (k + 0.5) * slot_w
        x_ticks.append((centre, label, ""))
        if value is None:
            described.append(f"{label} no data")
            continue
        x = _n(centre - bar_w / 2)
        if value == 0:
            paths["pt-flat"].append(f"M{x},{_n(zero - 0.75)}h{_n(bar_w)}v1.5h{_n(-bar_w)}z")
        else:
            css = "pt-pos" if value > 0 else "pt-neg"
            paths[css].append(f"M{x},{_n(zero)}V{_n(y_scale(value))}h{_n(bar_w)}V{_n(zero)}z")
        text = f"{label} {fmt(value)}"
        if lo is not None and hi is not None:
            cap = bar_w / 4
            y_lo, y_hi = _n(y_scale(lo)), _n(y_scale(hi))
            whiskers.append(
                f"M{_n(centre)},{y_lo}V{y_hi}M{_n(centre - cap)},{y_hi}h{_n(2 * cap)}"
                f"M{_n(centre - cap)},{y_lo}h{_n(2 * cap)}"
            )
            text += f" (interval {fmt(lo)} to {fmt(hi)})"
        described.append(text)
    noun = "category" if len(rows) == 1 else "categories"
    desc = f"{len(rows):,} {noun}: " + "; ".join(described) + "."
    body = [
        *_axes(frame, x_ticks, y_ticks, x_label, y_label),
        f'<g class="pt-plot" data-points="{len(present)}">',
        *_paths(paths),
        (f'<path class="pt-whisker" d="{"".join(whiskers)}"/>' if whiskers else ""),
        "</g>",
        _zero_line(frame, y_scale),
    ]
    return _document(kind, frame, title, desc, chart_id, body)


def _bin_step(values: Sequence[float], bins: int | None) -> tuple[_Step, str]:
    """
    The bin width, rounded up to 1, 2 or 5 times a power of ten, and the rule that chose it.
    """
    lo, hi = min(values), max(values)
    span = hi - lo
    if span <= max(abs(lo), abs(hi)) * 1e-12 or span < _TINY:
        return _step_at_least(abs(lo) / 10 if abs(lo) > _TINY else 1.0), "all values equal"
    count = len(values)
    if bins is not None:
        wanted = max(1, bins)
        raw, rule = span / wanted, f"{_plural(wanted, 'bin')} requested"
    else:
        q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
        if q3 > q1:
            raw, rule = 2 * (q3 - q1) / count ** (1 / 3), "Freedman-Diaconis rule"
        else:
            # Over half the values are equal: the interquartile range is zero and would make
            # Freedman-Diaconis bins vanish, so count-based Sturges it is.
            raw, rule = span / (math.ceil(math.log2(count)) + 1), "Sturges' rule"
    return _step_at_least(max(raw, span / _MAX_BINS)), rule


def histogram(
    values: Iterable[Number],
    *,
    title: str,
    x_label: str,
    y_label: str = "Trades",
    x_format: str = ",.2f",
    bins: int | None = None,
    width: int = _WIDTH,
    height: int = _HEIGHT,
    chart_id: str | None = None,
) -> str:
    """
    The distribution of values, such as R-multiples or the net P&L of each trade.

    By default the bin width follows the Freedman-Diaconis rule, ``2 * IQR / n ** (1/3)``,
    which resists the outliers trading results have; when over half the values are equal (IQR
    of zero) it falls back to Sturges' rule, ``range / (ceil(log2 n) + 1)``. The width is then
    rounded up to 1, 2 or 5 times a power of ten, and bins sit on its multiples, so zero is
    always an edge: bins ``[a, b)`` left of zero hold losses, drawn in the loss colour, and the
    others gains (a break-even trade falls in the bin starting at zero). At most 60 bins are
    drawn. ``data-points`` counts the values binned. Pure and thread-safe.

    Args:
        values: The values; floats or Decimals.
        title: The chart's title, shown and announced.
        x_label: The value axis title with its unit, e.g. ``"Net P&L per trade (USD)"``.
        y_label: The count axis title.
        x_format: A ``format()`` spec for values, e.g. ``",.2f"`` or ``"+.1f"``.
        bins: Ask for about this many bins instead of the automatic rule.
        width: Width of the ``viewBox`` in user units (the chart still scales to its box).
        height: Height of the ``viewBox`` in user units.
        chart_id: Prefix for the ids of ``<title>`` and ``<desc>``; derived from the content
            when omitted.

    Returns:
        The ``<svg>`` element.
    """
    numbers = [_finite(value) for value in values]
    finite = [value for value in numbers if value is not None]
    skipped = len(numbers) - len(finite)
    kind = "histogram"
    if not finite:
        return _empty(kind, _frame(width, height, ()), title, x_label, y_label, chart_id, skipped)
    step, rule = _bin_step(finite, bins)
    counts = Counter(step.floor_index(value) for value in finite)
    frame, y_scale, y_ticks = _value_axis(
        0, max(counts.values()), ",.0f", width, height, integer=True
    )
    x_ticks_raw, x_step = _nice_scale(
        step.multiple(min(counts)), step.multiple(max(counts) + 1), _x_tick_count(frame)
    )
    x_scale = _Scale(x_ticks_raw[0], x_ticks_raw[-1], frame.left, frame.right)
    tick_format = _tick_formatter(x_format, x_step)
    x_ticks = [(x_scale(t), tick_format(t), "") for t in x_ticks_raw]
    zero = _n(y_scale(0.0))
    paths: dict[str, list[str]] = {"pt-pos": [], "pt-neg": []}
    for k, count in sorted(counts.items()):
        x0, x1 = x_scale(step.multiple(k)), x_scale(step.multiple(k + 1))
        # Inset each bar half a unit so neighbours stay apart when bins are wide enough.
        inset = 0.5 if x1 - x0 > 3 else 0.0
        css = "pt-neg" if k < 0 else "pt-pos"
        paths[css].append(f"M{_n(x0 + inset)},{zero}V{_n(y_scale(count))}H{_n(x1 - inset)}V{zero}z")
    fmt = _formatter(x_format)
    below = sum(1 for value in finite if value < 0)
    desc = (
        f"{_plural(len(finite), 'value')} from {fmt(min(finite))} to {fmt(max(finite))},"
        f" median {fmt(statistics.median(finite))}; {below:,} below zero,"
        f" {len(finite) - below:,} at or above. {_plural(len(counts), 'bin')} of width"
        f" {_tick_formatter(x_format, step)(step.value).lstrip('+')} ({rule})." + _left_out(skipped)
    )
    zero_x = (
        f'<path class="pt-zero" d="M{_n(x_scale(0.0))},{_n(frame.top)}V{_n(frame.bottom)}"/>'
        if x_scale.d0 < 0 < x_scale.d1
        else ""
    )
    body = [
        *_axes(frame, x_ticks, y_ticks, x_label, y_label),
        f'<g class="pt-plot" data-points="{len(finite)}" data-bins="{len(counts)}">',
        *_paths(paths),
        "</g>",
        zero_x,
    ]
    return _document(kind, frame, title, desc, chart_id, body)


def _heat_class(value: float, largest: float) -> str:
    if value == 0:
        return "pt-h0"
    # Four steps each side, by share of the largest magnitude: symmetric, so equal gains and
    # losses look equally strong and the scale's centre is zero.
    level = min(4, max(1, math.ceil(abs(value) / largest * 4)))
    return f"pt-h-{'p' if value > 0 else 'n'}{level}"


def heatmap(
    rows: Sequence[str],
    cols: Sequence[str],
    cells: Sequence[Sequence[Number | None]],
    *,
    title: str,
    value_format: str = "+.1%",
    x_label: str = "",
    y_label: str = "",
    width: int = _WIDTH,
    chart_id: str | None = None,
) -> str:
    """
    A table of coloured cells, such as monthly returns with years as rows and months as columns.

    The colour scale diverges from zero (losses vermillion, gains bluish green, four steps each
    side relative to the largest magnitude), and every cell also prints its value, so colour is
    never the only cue. A missing cell (None) is an empty dashed box. The height follows the
    number of rows. ``data-points`` counts the cells with a value. Pure and thread-safe.

    Args:
        rows: Row labels, top to bottom (e.g. years).
        cols: Column labels, left to right (e.g. ``"Jan"`` ... ``"Dec"``).
        cells: One sequence per row, one value or None per column.
        title: The chart's title, shown and announced.
        value_format: A ``format()`` spec for values, e.g. ``"+.1%"`` for fractions.
        x_label: Title under the columns (optional).
        y_label: Title beside the rows (optional).
        width: Width of the ``viewBox`` in user units (the chart still scales to its box).
        chart_id: Prefix for the ids of ``<title>`` and ``<desc>``; derived from the content
            when omitted.

    Returns:
        The ``<svg>`` element.

    Raises:
        ValueError: If ``cells`` does not have one row per row label and one value per column
            label in every row.
    """
    if len(cells) != len(rows) or any(len(row) != len(cols) for row in cells):
        shape = [len(row) for row in cells]
        msg = f"'cells' must be {len(rows)} rows of {len(cols)} values (got row lengths {shape})"
        raise ValueError(msg)
    grid = [[_finite(value) for value in row] for row in cells]
    present = [
        (value, r, c)
        for r, row in enumerate(grid)
        for c, value in enumerate(row)
        if value is not None
    ]
    skipped = sum(value is not None for row in cells for value in row) - len(present)
    kind = "heatmap"
    if not present:
        return _empty(kind, _frame(width, _HEIGHT, ()), title, x_label, y_label, chart_id, skipped)
    # The height follows the rows; the top leaves room for the title and the column labels.
    band = _LABEL_BAND if y_label else 0
    full_width = max(width, _MIN_WIDTH)
    top = _TOP + 20
    bottom = top + len(rows) * _CELL_H
    frame = _Frame(
        width=full_width,
        height=bottom + (30 if x_label else 10),
        left=min(band + 12 + max(len(label) for label in rows) * _CHAR_W, full_width / 2),
        top=top,
        right=full_width - 10,
        bottom=bottom,
    )
    fmt = _formatter(value_format)
    largest = max(abs(value) for value, _, _ in present) or 1.0
    cell_w = (frame.right - frame.left) / len(cols)
    parts = []
    for r, row in enumerate(grid):
        y = frame.top + r * _CELL_H
        for c, value in enumerate(row):
            x = frame.left + c * cell_w
            where = f"{rows[r]} {cols[c]}"
            box = (
                f'<rect x="{_n(x + 1)}" y="{_n(y + 1)}" width="{_n(cell_w - 2)}"'
                f' height="{_CELL_H - 2}"/>'
            )
            if value is None:
                parts.append(
                    f'<g class="pt-cell pt-h-na">{box}<title>{_text(where)}: no data</title></g>'
                )
                continue
            shown = _text(fmt(value))
            parts.append(
                f'<g class="pt-cell {_heat_class(value, largest)}">{box}'
                f'<text x="{_n(x + cell_w / 2)}" y="{_n(y + _CELL_H / 2 + 4)}">{shown}</text>'
                f"<title>{_text(where)}: {shown}</title></g>"
            )
    row_labels = "".join(
        f'<text x="{_n(frame.left - 6)}" y="{_n(frame.top + r * _CELL_H + _CELL_H / 2 + 4)}">'
        f"{_text(label)}</text>"
        for r, label in enumerate(rows)
    )
    col_labels = "".join(
        f'<text x="{_n(frame.left + (c + 0.5) * cell_w)}" y="{_n(frame.top - 8)}">'
        f"{_text(label)}</text>"
        for c, label in enumerate(cols)
    )
    high, low, last = max(present), min(present), present[-1]

    def at(item: tuple[float, int, int]) -> str:
        return f"{fmt(item[0])} ({rows[item[1]]} {cols[item[2]]})"

    desc = (
        f"{len(present):,} of {len(rows) * len(cols):,} cells have a value, rows {rows[0]}"
        f" to {rows[-1]}. Highest {at(high)}, lowest {at(low)}, last {at(last)}."
        + _left_out(skipped)
    )
    body = [
        f'<g class="pt-tick" text-anchor="end">{row_labels}</g>',
        f'<g class="pt-tick" text-anchor="middle">{col_labels}</g>',
        f'<g class="pt-plot" data-points="{len(present)}" text-anchor="middle">',
        *parts,
        "</g>",
        _axis_titles(frame, x_label, y_label),
    ]
    return _document(kind, frame, title, desc, chart_id, body)


def with_css(svg: str) -> str:
    """
    Embed :data:`CHART_CSS` in a chart, for one saved as a standalone ``.svg`` file.

    In an HTML page include ``CHART_CSS`` once instead. Pure and thread-safe.

    Args:
        svg: A chart returned by one of this module's functions.

    Returns:
        The chart with a ``<style>`` element right after the opening tag.
    """
    # The first ">" closes the <svg> start tag: its attribute values hold no raw ">".
    head, _, rest = svg.partition(">")
    return f"{head}><style>{CHART_CSS}</style>{rest}"
