"""
The SVG chart primitives: well-formed, accessible, finite, small, and faithful to the extremes.
"""

from __future__ import annotations

import itertools
import math
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import hypothesis.strategies as st
import pytest
from hypothesis import given

from perftrack.reports._svg import (
    CHART_CSS,
    _bar_slots,
    _time_ticks,
    bar_chart,
    category_chart,
    downsample,
    heatmap,
    histogram,
    line_chart,
    nice_ticks,
    with_css,
)

NS = "{http://www.w3.org/2000/svg}"
NEW_YORK = ZoneInfo("America/New_York")
T0 = datetime(2024, 1, 2, 9, 30, tzinfo=NEW_YORK)
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
GEOMETRY = ("x", "y", "cx", "cy", "r", "width", "height", "points", "d", "viewBox")

finite_floats = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False)
any_values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**15), max_value=10**15),
)
instants = st.datetimes(
    min_value=datetime(1970, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.none() | st.sampled_from([UTC, NEW_YORK, ZoneInfo("Asia/Kolkata")]),
)


def _trigrams(text: str) -> set[str]:
    return {text[i : i + 3] for i in range(len(text) - 2)}


def render_line(points, **kwargs):
    kwargs.setdefault("title", "Equity")
    return line_chart(points, x_label="Date (America/New_York)", y_label="Equity (USD)", **kwargs)


def render_bars(points, **kwargs):
    return bar_chart(points, title="Daily P&L", x_label="Date (UTC)", y_label="P&L (USD)", **kwargs)


def render_histogram(values, **kwargs):
    return histogram(values, title="Net P&L per trade", x_label="P&L (USD)", **kwargs)


def render_heatmap(cells, rows=("2023", "2024"), **kwargs):
    return heatmap(list(rows), MONTHS, cells, title="Monthly returns", **kwargs)


def parse(svg: str) -> ET.Element:
    """
    Parse a chart and check what every chart promises: accessibility, scaling, finite geometry.
    """
    assert "nan" not in svg.lower()  # not in coordinates, nor in the text summary
    assert "inf" not in svg.lower()
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    assert root.get("role") == "img"
    assert root.get("width") == "100%"
    assert root.get("height") is None
    assert re.fullmatch(r"0 0 [\d.]+ [\d.]+", root.get("viewBox", ""))
    title_id, desc_id = root.get("aria-labelledby", "").split()
    title, desc = root.find(f"{NS}title"), root.find(f"{NS}desc")
    assert title is not None and title.get("id") == title_id and title.text
    assert desc is not None and desc.get("id") == desc_id and desc.text
    for element in root.iter():
        assert element.get("style") is None  # colours come from CHART_CSS classes
        for name in GEOMETRY:
            value = element.get(name, "") if element is not root else ""
            # Plain numbers and path commands only (no exponents), two decimals at most.
            assert re.fullmatch(r"[-\d., MVHhvz]*", value), (name, value)
            assert all(len(n) <= 2 for n in re.findall(r"\.(\d+)", value)), (name, value)
    return root


def plot(root: ET.Element) -> ET.Element:
    groups = [g for g in root.iter(f"{NS}g") if "pt-plot" in g.get("class", "").split()]
    assert len(groups) == 1
    return groups[0]


def drawn(root: ET.Element) -> int:
    return int(plot(root).get("data-points", "-1"))


def description(root: ET.Element) -> str:
    desc = root.find(f"{NS}desc")
    assert desc is not None and desc.text is not None
    return desc.text


def tick_y(root: ET.Element, label: str) -> float:
    text = next(t for t in root.iter(f"{NS}text") if t.text == label)
    return float(text.get("y", "nan")) - 4  # labels sit 4 units below their tick, centred


def first_number(pattern: str, text: str) -> float:
    match = re.search(pattern, text)
    assert match is not None, (pattern, text)
    return float(match.group(1))


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{NS}text")]


def classes(root: ET.Element) -> set[str]:
    return {css for element in root.iter() for css in element.get("class", "").split()}


def assert_empty(svg: str) -> None:
    root = parse(svg)
    assert drawn(root) == 0
    assert "No data" in texts(root)
    assert description(root).startswith("No data.")


class TestNiceTicks:
    """Axis ticks are round 1-2-5 steps that enclose the range."""

    def test_round_steps(self):
        assert [0.0, 2.0, 4.0, 6.0, 8.0, 10.0] == nice_ticks(0, 10)
        assert [0.0, 0.2, 0.4, 0.6, 0.8, 1.0] == nice_ticks(0, 1)
        assert [9000.0, 10000.0, 11000.0, 12000.0, 13000.0] == nice_ticks(9_123.45, 12_870.5)

    def test_decimal_ticks_are_the_nearest_floats(self):
        assert 0.3 in nice_ticks(0.05, 0.95, 10)

    def test_constant_range_gets_a_window(self):
        assert nice_ticks(5, 5)[0] < 5 < nice_ticks(5, 5)[-1]
        assert nice_ticks(0, 0)[0] < 0 < nice_ticks(0, 0)[-1]

    def test_rejects_non_finite(self):
        with pytest.raises(ValueError, match="finite"):
            nice_ticks(0, math.inf)
        with pytest.raises(ValueError, match="max_ticks"):
            nice_ticks(0, 1, 1)

    @given(finite_floats, finite_floats, st.integers(2, 12))
    def test_properties(self, a, b, max_ticks):
        lo, hi = min(a, b), max(a, b)
        ticks = nice_ticks(lo, hi, max_ticks)
        assert 2 <= len(ticks) <= max_ticks + 2
        assert all(x < y for x, y in itertools.pairwise(ticks))
        assert ticks[0] <= lo
        assert ticks[-1] >= hi
        step = ticks[1] - ticks[0]
        mantissa = step / 10 ** math.floor(math.log10(step))
        assert min(abs(mantissa - m) for m in (1, 2, 5, 10)) < 1e-6
        for tick in ticks:
            assert abs(tick / step - round(tick / step)) < 1e-6
        if hi - lo > max(abs(lo), abs(hi)) * 1e-9 and hi - lo > 1e-100:
            # Range-ish: the axis is never more than a few steps wider than the data.
            assert ticks[-1] - ticks[0] <= (hi - lo) + 2 * step + 1e-9 * abs(step)


class TestDownsample:
    """min/max decimation keeps first, last and every extreme within the budget."""

    def test_short_series_unchanged(self):
        points = [(i, float(i)) for i in range(10)]
        assert points == downsample(points, 10)

    def test_keeps_spikes(self):
        points = [(i, 0.0) for i in range(10_000)]
        points[1234] = (1234, 99.0)
        points[8765] = (8765, -99.0)
        out = downsample(points, 50)
        assert len(out) <= 50
        assert (1234, 99.0) in out
        assert (8765, -99.0) in out

    def test_decimals_and_datetimes(self):
        points = [(T0 + timedelta(minutes=i), Decimal(i % 97)) for i in range(1_000)]
        out = downsample(points, 20)
        assert points[0] == out[0]
        assert points[-1] == out[-1]
        assert Decimal(96) == max(v for _, v in out)

    def test_budget_below_four_rejected(self):
        with pytest.raises(ValueError, match="max_points"):
            downsample([(0, 1.0)] * 10, 3)

    @given(st.lists(finite_floats, min_size=1, max_size=600), st.integers(4, 80))
    def test_extremes_always_kept(self, values, max_points):
        points = list(enumerate(values))
        out = downsample(points, max_points)
        assert len(out) <= max_points
        assert out[0] == points[0]
        assert out[-1] == points[-1]
        kept = [v for _, v in out]
        assert min(values) == min(kept)
        assert max(values) == max(kept)
        indices = [i for i, _ in out]
        assert indices == sorted(set(indices))  # an ordered sub-sequence


class TestLineChart:
    """Time series render accessibly, at any length, and survive odd input."""

    def test_renders_every_point(self):
        points = [(T0 + timedelta(days=i), 10_000 + 25.5 * i) for i in range(30)]
        root = parse(render_line(points))
        assert 30 == drawn(root)
        assert "Equity" == root.findtext(f"{NS}title")
        assert "30 points from 2024-01-02 to 2024-01-31" in description(root)
        assert "maximum 10,739.50 (2024-01-31), last 10,739.50." in description(root)
        assert "Equity (USD)" in texts(root)
        assert "Date (America/New_York)" in texts(root)

    def test_empty(self):
        assert_empty(render_line([]))

    def test_single_point(self):
        root = parse(render_line([(T0, Decimal("100.5"))]))
        assert 1 == drawn(root)
        assert "last 100.50" in description(root)

    def test_constant_series(self):
        root = parse(render_line([(T0 + timedelta(hours=i), 7.0) for i in range(50)]))
        assert 50 == drawn(root)

    def test_non_finite_values_left_out(self):
        points = [(T0, 1.0), (T0 + timedelta(1), math.nan), (T0 + timedelta(2), Decimal("sNaN"))]
        points += [(T0 + timedelta(3), math.inf), (T0 + timedelta(4), 2.0)]
        root = parse(render_line(points))
        assert 2 == drawn(root)
        assert "Left out: 3 missing or non-finite values." in description(root)

    def test_all_non_finite_is_empty(self):
        assert_empty(render_line([(T0, math.nan)]))

    def test_unsorted_input_is_sorted(self):
        points = [(T0 + timedelta(days=i), float(i)) for i in (3, 1, 2, 0)]
        assert "last 3.00" in description(parse(render_line(points)))

    def test_naive_datetimes_are_utc(self):
        root = parse(
            render_line([(datetime(2024, 5, 1, 23, 30), 1.0), (datetime(2024, 5, 2), 2.0)])
        )
        assert "from 2024-05-01 23:30 to 2024-05-02 00:00" in description(root)

    def test_long_series_is_small_and_keeps_extremes(self):
        points = [(T0 + timedelta(minutes=i), math.sin(i / 500) * 1_000) for i in range(100_000)]
        points[54_321] = (points[54_321][0], 5_000.0)
        points[77_777] = (points[77_777][0], -5_000.0)
        svg = render_line(points)
        root = parse(svg)
        assert len(svg.encode()) < 60_000
        assert drawn(root) <= 2_000
        assert "100000" == plot(root).get("data-source-points")
        assert "Minimum -5,000.00" in description(root)
        assert "maximum 5,000.00" in description(root)
        # Both spikes are drawn: the highest and lowest vertices sit on the +-5,000 ticks.
        polyline = plot(root).find(f"{NS}polyline")
        assert polyline is not None
        ys = [float(pair.split(",")[1]) for pair in polyline.get("points", "").split()]
        assert tick_y(root, "5,000") == min(ys)
        assert tick_y(root, "-5,000") == max(ys)

    def test_underwater_fills_to_zero(self):
        points = [(T0 + timedelta(days=i), -0.01 * (i % 10)) for i in range(40)]
        root = parse(render_line(points, y_format=".1%", fill_to_zero=True))
        assert plot(root).find(f"{NS}polygon") is not None
        assert "0%" in texts(root)
        assert "Minimum -9.0%" in description(root)

    def test_rate_axis_includes_requested_values(self):
        points = [(T0 + timedelta(days=i), 0.4 + i / 1000) for i in range(20)]
        labels = texts(parse(render_line(points, y_format=".0%", y_include=(0, 1))))
        assert "0%" in labels
        assert "100%" in labels

    def test_text_is_escaped(self):
        title = 'P&L <"mine"> \x00\x1f'
        root = parse(render_line([(T0, 1.0)], title=title, chart_id="my chart"))
        assert 'P&L <"mine"> ' == root.findtext(f"{NS}title")
        assert "my-chart-t my-chart-d" == root.get("aria-labelledby")

    def test_deterministic_ids_differ_between_charts(self):
        one = parse(render_line([(T0, 1.0)]))
        two = parse(render_line([(T0, 2.0)]))
        assert one.get("aria-labelledby") != two.get("aria-labelledby")
        assert render_line([(T0, 1.0)]) == render_line([(T0, 1.0)])

    @given(st.lists(st.tuples(instants, any_values), max_size=60), st.booleans())
    def test_never_raises_nor_emits_non_finite(self, points, fill):
        root = parse(render_line(points, fill_to_zero=fill))
        assert drawn(root) <= len(points)


class TestTimeAxis:
    """Date ticks are calendar-round for the span, in the series' own time zone."""

    @pytest.mark.parametrize(
        ("span", "expected"),
        [
            (timedelta(hours=3), ["09:30", "10:00", "10:30"]),
            (timedelta(days=10), ["3 Jan", "5 Jan", "7 Jan"]),
            (timedelta(days=200), ["Feb", "Mar", "Apr"]),
            (timedelta(days=3_000), ["2026", "2028", "2030"]),
        ],
    )
    def test_unit_follows_span(self, span, expected):
        ticks = _time_ticks(T0.timestamp(), (T0 + span).timestamp(), NEW_YORK, 8)
        labels = [label for _, label, _ in ticks]
        assert expected == labels[: len(expected)]
        assert 2 <= len(ticks) <= 10
        assert all(T0.timestamp() <= t <= (T0 + span).timestamp() for t, _, _ in ticks)

    def test_context_line_names_year_once(self):
        ticks = _time_ticks(T0.timestamp(), (T0 + timedelta(days=400)).timestamp(), NEW_YORK, 8)
        contexts = [ctx for _, _, ctx in ticks if ctx]
        assert ["2024", "2025"] == contexts

    def test_day_ticks_at_local_midnight_across_dst(self):
        start = datetime(2024, 3, 8, tzinfo=NEW_YORK)
        end = start + timedelta(days=6)  # clocks go forward on 10 March
        ticks = _time_ticks(start.timestamp(), end.timestamp(), NEW_YORK, 8)
        assert 7 == len(ticks)
        for t, _, _ in ticks:
            assert datetime.fromtimestamp(t, NEW_YORK).hour == 0


class TestBarChart:
    """Daily bars show sign by position and colour, and keep the best and worst days."""

    def test_renders_every_day(self):
        days = [(date(2024, 1, 1) + timedelta(i), (-1) ** i * (i + 1.0)) for i in range(20)]
        root = parse(render_bars(days))
        assert 20 == drawn(root)
        assert {"pt-pos", "pt-neg", "pt-zero"} <= classes(root)
        assert "20 days from 2024-01-01 to 2024-01-20, total -10.00." in description(root)
        assert "Highest 19.00 (2024-01-19), lowest -20.00 (2024-01-20)" in description(root)

    def test_gains_above_losses_below_zero(self):
        root = parse(render_bars([(date(2024, 1, 1), 5.0), (date(2024, 1, 2), -5.0)]))
        zero = next(e for e in root.iter(f"{NS}path") if e.get("class") == "pt-zero")
        zero_y = first_number(r",([\d.]+)", zero.get("d", ""))
        for css, above in (("pt-pos", True), ("pt-neg", False)):
            bar = next(e for e in root.iter(f"{NS}path") if e.get("class") == css)
            tip = first_number(r"V([\d.]+)", bar.get("d", ""))
            assert (tip < zero_y) is above

    def test_empty_single_and_flat(self):
        assert_empty(render_bars([]))
        assert 1 == drawn(parse(render_bars([(date(2024, 1, 1), 3.0)])))
        flat = parse(render_bars([(date(2024, 1, 1) + timedelta(i), 0) for i in range(5)]))
        assert 5 == drawn(flat)
        assert "pt-flat" in classes(flat)

    def test_many_days_keep_best_and_worst(self):
        days = [(date(2000, 1, 1) + timedelta(i), float(i % 13 - 6)) for i in range(9_000)]
        days[4_567] = (days[4_567][0], 10_000.0)
        days[6_789] = (days[6_789][0], -10_000.0)
        svg = render_bars(days, max_bars=100)
        root = parse(svg)
        assert drawn(root) <= 200
        assert "Highest 10,000.00" in description(root)
        assert "lowest -10,000.00" in description(root)
        assert "Each bar covers about 90.0 days" in description(root)
        assert len(svg.encode()) < 30_000

    @given(
        st.lists(st.tuples(st.integers(0, 2_000), finite_floats), min_size=1, max_size=300),
        st.integers(1, 50),
    )
    def test_slots_keep_extremes(self, days, n_slots):
        first = min(d for d, _ in days)
        n_days = max(d for d, _ in days) - first + 1
        bars = _bar_slots(days, first, n_days, n_slots)
        kept = [v for _, v in bars]
        values = [v for _, v in days]
        if min(values) < 0:
            assert min(values) == min(kept)
        if max(values) > 0:
            assert max(values) == max(kept)
        assert len(bars) <= 2 * n_slots
        assert all(0 <= slot < n_slots for slot, _ in bars)

    @given(
        st.lists(st.tuples(st.dates(date(1900, 1, 1), date(2200, 1, 1)), any_values), max_size=40)
    )
    def test_never_raises_nor_emits_non_finite(self, days):
        parse(render_bars(days))


class TestHistogram:
    """Values are all binned, on round bins that have zero as an edge."""

    def test_bins_every_value(self):
        values = [(-1) ** i * (i % 17) * 1.25 for i in range(500)]
        root = parse(render_histogram(values))
        assert 500 == drawn(root)
        assert "Freedman-Diaconis rule" in description(root)
        assert {"pt-pos", "pt-neg"} <= classes(root)

    def test_zero_is_a_bin_edge(self):
        # Losses and gains never share a bin, whatever the data's offset: loss bars end at
        # the zero line, gain bars start there.
        root = parse(render_histogram([-0.35, -0.1, 0.0, 0.1, 0.3, 0.7, 1.15], bins=4))
        paths = {e.get("class"): e.get("d", "") for e in root.iter(f"{NS}path")}
        zero_x = first_number(r"M([\d.]+)", paths["pt-zero"])
        spans = {
            css: re.findall(r"M([\d.]+),[\d.]+V[\d.]+H([\d.]+)", paths[css])
            for css in ("pt-pos", "pt-neg")
        }
        assert all(float(x1) <= zero_x for _, x1 in spans["pt-neg"])
        assert all(float(x0) >= zero_x for x0, _ in spans["pt-pos"])
        assert 7 == drawn(root)

    def test_sturges_when_iqr_is_zero(self):
        root = parse(render_histogram([1.0] * 50 + [2.0, 30.0]))
        assert "Sturges' rule" in description(root)
        assert 52 == drawn(root)

    def test_empty_single_and_constant(self):
        assert_empty(render_histogram([]))
        assert 1 == drawn(parse(render_histogram([Decimal("2.5")])))
        assert 40 == drawn(parse(render_histogram([0.0] * 40)))

    def test_decimal_edges_are_exact(self):
        # 0.3 / 0.1 is 2.9999999999999996 in floats: 0.30 must still open its own bin.
        root = parse(render_histogram([Decimal("0.10"), Decimal("0.20"), Decimal("0.30")], bins=3))
        assert "3 bins" in description(root)

    def test_bin_count_is_capped(self):
        root = parse(render_histogram([float(i) for i in range(10_000)], bins=10_000))
        assert int(plot(root).get("data-bins", "0")) <= 61

    @given(st.lists(any_values, max_size=80), st.none() | st.integers(-3, 100))
    def test_never_raises_nor_emits_non_finite(self, values, bins):
        root = parse(render_histogram(values, bins=bins))
        assert drawn(root) <= len(values)


class TestHeatmap:
    """Cells print their value on a diverging scale centred on zero; gaps stay gaps."""

    def test_cells_and_gaps(self):
        cells = [[0.01 * (m - 5) for m in range(12)], [0.02, None, *([None] * 10)]]
        root = parse(render_heatmap(cells))
        assert 13 == drawn(root)
        labels = texts(root)
        assert "-5.0%" in labels
        assert "+6.0%" in labels
        assert "0.0%" in labels or "+0.0%" in labels
        assert {"pt-h-n4", "pt-h-p4", "pt-h0", "pt-h-na"} <= classes(root)
        assert "13 of 24 cells have a value" in description(root)
        assert "Highest +6.0% (2023 Dec), lowest -5.0% (2023 Jan)" in description(root)
        assert "last +2.0% (2024 Jan)" in description(root)

    def test_all_missing_is_empty(self):
        assert_empty(render_heatmap([[None] * 12, [None] * 12]))
        assert_empty(heatmap([], MONTHS, [], title="Monthly returns"))

    def test_single_cell(self):
        root = parse(heatmap(["2024"], ["Mar"], [[Decimal("0.031")]], title="Returns"))
        assert 1 == drawn(root)
        assert "+3.1%" in texts(root)

    def test_shape_mismatch_rejected(self):
        with pytest.raises(ValueError, match="2 rows of 12 values"):
            render_heatmap([[0.1] * 12, [0.1] * 11])

    @given(st.lists(st.lists(st.none() | any_values, min_size=12, max_size=12), max_size=6))
    def test_never_raises_nor_emits_non_finite(self, cells):
        rows = [str(2000 + i) for i in range(len(cells))]
        parse(render_heatmap(cells, rows=rows))


def render_categories(points, **kwargs):
    kwargs.setdefault("y_include", (0.0, 1.0))
    return category_chart(
        points, title="Win rate", x_label="Confidence", y_label="Win rate", **kwargs
    )


class TestCategoryChart:
    """One bar per category in the order given, whiskers for intervals, gaps for no data."""

    def test_bars_whiskers_and_gaps(self):
        root = parse(
            render_categories(
                [("0", None, None, None), ("1", 0.5, 0.2, 0.8), ("5", 0.1, 0.01, 0.4)]
            )
        )
        assert 2 == drawn(root)
        assert ["0", "1", "5"] == [t for t in texts(root) if t in ("0", "1", "5")]
        assert (
            "3 categories: 0 no data; 1 50% (interval 20% to 80%); 5 10% (interval 1% to 40%)."
            == description(root)
        )
        whisker = next(p for p in plot(root).iter(f"{NS}path") if p.get("class") == "pt-whisker")
        # Each whisker spans its interval: 20% to 80% lies between the 0% and 100% ticks.
        top, bottom = tick_y(root, "100%"), tick_y(root, "0%")
        first = float(re.findall(r"V([\d.]+)", whisker.get("d", ""))[0])
        start = float(re.match(r"M[\d.]+,([\d.]+)", whisker.get("d", "")).group(1))
        assert pytest.approx(bottom + 0.2 * (top - bottom), abs=0.01) == start
        assert pytest.approx(bottom + 0.8 * (top - bottom), abs=0.01) == first

    def test_negative_values_go_down(self):
        root = parse(
            render_categories(
                [("day", -0.4, None, None), ("swing", 0.8, None, None)],
                y_format="+.1f",
                y_include=None,
            )
        )
        assert {"pt-neg", "pt-pos"} <= classes(root)
        assert "pt-whisker" not in classes(root)

    def test_empty(self):
        assert_empty(render_categories([]))
        assert_empty(render_categories([("a", None, None, None)]))

    # A label is the caller's text: "Info" or "NaNa" in it is not a non-finite number.
    @given(
        st.lists(
            st.tuples(
                st.text(max_size=5).filter(lambda s: not {"nan", "inf"} & _trigrams(s.lower())),
                any_values,
                any_values,
                any_values,
            ),
            max_size=8,
        )
    )
    def test_never_raises_nor_emits_non_finite(self, points):
        parse(render_categories(points))


class TestStyling:
    """One stylesheet themes every class the charts use."""

    def test_every_class_is_styled(self):
        charts = [
            render_line([(T0, 1.0), (T0 + timedelta(1), -1.0)], fill_to_zero=True),
            render_bars([(date(2024, 1, 1), 1.0), (date(2024, 1, 2), -1.0), (date(2024, 1, 3), 0)]),
            render_histogram([-1.0, 1.0]),
            render_heatmap([[-0.1, 0.0, 0.1, *([None] * 9)], [0.05] * 12]),
            render_line([]),
        ]
        used = set().union(*(classes(parse(svg)) for svg in charts))
        assert "pt-chart" in used
        unstyled = {css for css in used if f".{css}" not in CHART_CSS}
        # The kind classes (pt-line-chart, ...) are hooks for the report, not styled here.
        assert {
            "pt-line-chart",
            "pt-bar-chart",
            "pt-histogram",
            "pt-heatmap",
            "pt-plot",
        } >= unstyled

    def test_dark_variant(self):
        assert "@media (prefers-color-scheme: dark)" in CHART_CSS

    def test_standalone_file_embeds_css(self):
        root = parse(with_css(render_line([(T0, 1.0)])))
        style = root.find(f"{NS}style")
        assert style is not None and style.text == CHART_CSS
