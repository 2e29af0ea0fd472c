"""
Reports: the HTML report renders in a real browser with every chart drawn; exports keep every
field exact and import back to the same trades and summaries.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import shutil
import subprocess
import tempfile
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

import perftrack as pt
from perftrack import _demo, importers, reports
from perftrack.importers._files import TRADE_FIELDS
from tests.observe import T0
from tests.test_svg import description, drawn, parse, plot

ROOT = Path(__file__).parent.parent


@pytest.fixture(name="demo", scope="module")
def _demo_tracker() -> pt.Tracker:
    return _demo.run_demo(days=60)


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("chromium is missing: make test installs it (scripts/install-test-tools.sh)")
    return path


class TestHtml:
    """One self-contained file, every section and chart present."""

    def test_contents(self, demo):
        page = reports.html(demo, title="Demo", targets=pt.Targets(min_win_rate=0.6))
        for text in (
            "Net P&amp;L",
            "Win rate",
            "Payoff ratio",
            "Profit factor",
            "Expectancy",
            "Max drawdown",
            "Sharpe",
            "Sortino",
            "SQN",
            "By strategy",
            "By symbol",
            "By tag",
            "Months",
            "Weeks",
            "Days",
            "Alerts",
            "Best trades",
            "Worst trades",
            "America/New_York",
            "breached",
            "Trade ideas",
            "Ideas by edge",
            "Ideas by confidence",
            "Ideas by horizon",
            "95% interval",
            "Weekly review",
            "id='idea-filters'",
        ):
            assert text in page, text
        assert 9 == page.count("<svg")
        assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
        assert "https://" not in page
        # One inline script (the ideas filters), nothing loaded.
        assert 1 == page.count("<script") and "<script src" not in page
        assert "fetch(" not in page and "XMLHttpRequest" not in page
        titles = [
            "Equity (realized)",
            "Underwater: fall below the running peak",
            "Daily net P&amp;L",
            "Monthly returns",
            "Rolling 20-trade win rate",
            "R-multiples per trade",
            "Net P&amp;L per trade",
        ]
        svgs = re.findall(r"<svg.*?</svg>", page)
        drawn_titles = [re.search(r"<title[^>]*>(.*?)</title>", c).group(1) for c in svgs]
        assert titles == drawn_titles[: len(titles)]  # then the ideas charts
        for svg in svgs:
            parse(svg)  # role="img", <title> and <desc> linked by aria-labelledby, finite
        # Axes with units and the time zone.
        assert page.count("Date (America/New_York)") >= 4
        for unit in (
            "Equity (account currency)",
            "Drawdown (% below the peak)",
            "Net P&amp;L (account currency)",
            "R (multiples of the initial risk)",
        ):
            assert unit in page, unit
        assert "target 60.0%: breached" in page  # beside the win rate, written as it is
        assert "<td>2025-01" in page  # the months table
        assert "the last 26 weeks" in page and "the last 31 days" in page

    def test_no_ideas_no_section(self):
        tracker = pt.Tracker("1000")
        tracker.record_trade("X", "long", 1, "10", "15", T0, T0)
        page = reports.html(tracker)
        assert "Trade ideas" not in page and "<script" not in page
        assert 7 == page.count("<svg")

    def test_ideas_section_contents(self):
        tracker = pt.Tracker("1000", timezone="America/New_York")
        for n, (edge, price) in enumerate([("a<b", "102"), ("a<b", "99"), ("c", "102")]):
            when = T0 + timedelta(hours=n)
            tracker.record_idea(
                symbol=f"S{n}",
                side="long",
                entry="100",
                stop="99",
                target="102",
                confidence=n + 3,
                edges=(edge,),
                horizon="day",
                time=when,
                idea_id=f"i{n}",
            )
            tracker.mark_price(f"S{n}", price, when + timedelta(minutes=1))
        page = reports.html(tracker)
        section = page[page.index("Trade ideas") :]
        assert "a&lt;b" in section and "a<b" not in section  # escaped
        assert "<td>+2.00</td>" in section and "<td>-1.00</td>" in section
        assert 3 == section.count("<tr data-date='2025-03-03'")
        assert "data-status='win'" in section and "data-confidence='4'" in section
        confidence = section[section.index('id="idea-confidence-d"') :]
        assert "3 100% (interval 21% to 100%)" in confidence[: confidence.index("</desc>")]
        limited = reports.html(tracker, start=T0.date() + timedelta(days=1))
        assert "Trade ideas" not in limited

    def test_nothing_to_fetch(self, demo):
        page = reports.html(demo)
        assert "@import" not in page and "url(" not in page
        # The one inline script (the ideas filters) loads nothing.
        scripts = re.findall(r"<script[^>]*>(.*?)</script>", page, re.S)
        assert 1 == len(scripts) == page.count("<script")
        assert not re.search(r"fetch\(|XMLHttpRequest|import\(|\.src\b|WebSocket", scripts[0])
        links = re.findall(r"""(?:src|href|srcset|action|poster|data)\s*=\s*["']([^"']*)""", page)
        assert [] == links
        assert set(re.findall(r"https?://[^\s\"'<>]+", page)) <= {"http://www.w3.org/2000/svg"}

    def test_alerts_active_and_recent(self):
        tracker = pt.Tracker("1000", targets=pt.Targets(max_loss_streak=1))
        for n, exit_price in enumerate(("9", "9", "12", "12")):
            when = T0 + timedelta(hours=n)
            tracker.record_trade("X", "long", 1, "10", exit_price, when, when)
        tracker.record_trade(
            "X", "long", 1, "10", "9", T0 + timedelta(hours=5), T0 + timedelta(hours=5)
        )
        tracker.record_trade(
            "X", "long", 1, "10", "9", T0 + timedelta(hours=6), T0 + timedelta(hours=6)
        )
        page = reports.html(tracker)
        section = page[page.index("<h2>Alerts</h2>") : page.index("<h2>Best trades</h2>")]
        assert section.count("max_loss_streak") == 2
        assert "<td>active</td>" in section  # the second streak
        assert "<td>2025-03-03 16:00:00+00:00</td>" in section  # the first, resolved

    def test_best_and_worst_trades(self, demo):
        page = reports.html(demo)
        ranked = sorted(demo.trades(), key=lambda t: t.net_pnl)
        best = page[page.index("<h2>Best trades</h2>") : page.index("<h2>Worst trades</h2>")]
        worst = page[page.index("<h2>Worst trades</h2>") :]
        assert all(f"<td>{t.trade_id}</td>" in best for t in ranked[-5:])
        assert all(f"<td>{t.trade_id}</td>" in worst for t in ranked[:5])

    def test_daily_bars_on_their_own_day(self):
        tracker = pt.Tracker("1000", timezone="America/New_York")
        tracker.record_trade("X", "long", 1, "10", "15", T0, T0)  # a Monday, 09:00 New York
        page = reports.html(tracker)
        assert "<td>2025-03-03</td>" in page and "<td>2025-03-04</td>" not in page
        daily = page[page.index("Daily net P&amp;L") : page.index("Monthly returns")]
        assert "2025-03-04" not in daily and "Mar 4" not in daily

    def test_100k_trades_small_with_extremes_kept(self):
        """
        At 100,000 trades the page stays under 2 MB, and the long charts are thinned from the
        whole series (whose extremes the thinning keeps: tests/test_svg.py), so the deepest
        drawdown and the best and worst days are drawn. How fast it renders is measured in
        benchmarks/, not here.
        """
        tracker = pt.Tracker("1000000")
        for n in range(100_000):
            when = T0 + timedelta(minutes=5 * n)
            exit_price = {30_000: "5100", 60_000: "1"}.get(n, "101" if n % 3 else "99")
            tracker.record_trade(
                f"S{n % 7}",
                "long",
                30 if n in (30_000, 60_000) else 1,
                "100",
                exit_price,
                when,
                when,
                strategy=f"s{n % 4}",
                stop_price="98",
            )
        page = reports.html(tracker)
        assert len(page.encode()) <= 2 * 1024 * 1024
        charts = {
            c.get("aria-labelledby", "").split("-t ")[0]: c
            for c in (parse(svg) for svg in re.findall(r"<svg.*?</svg>", page))
        }
        equity, underwater, daily = charts["equity"], charts["underwater"], charts["daily"]
        curve = tracker.equity_curve()
        for chart in (equity, underwater):
            assert str(len(curve)) == plot(chart).get("data-source-points")
            assert drawn(chart) <= 2_000
        low, high = min(e for _, e in curve), max(e for _, e in curve)
        assert f"Minimum {low:,.2f}" in description(equity)
        assert f"maximum {high:,.2f}" in description(equity)
        deepest = tracker.summary().max_drawdown_pct
        assert f"Minimum {-deepest:.1%}" in description(underwater)
        days = tracker.periods("day")
        best, worst = max(d.net_pnl for d in days), min(d.net_pnl for d in days)
        assert f"Highest {best:,.2f}" in description(daily)
        assert f"lowest {worst:,.2f}" in description(daily)

    def test_trade_times_in_the_account_zone(self):
        """
        The page says "times in America/New_York": the trade tables write exit times in that
        zone too (as the ideas table does), so a trade closed at 03:30 UTC shows on the
        session day it was booked to, the evening before.
        """
        tracker = pt.Tracker("1000", timezone="America/New_York")
        exit_time = datetime(2025, 3, 7, 3, 30, tzinfo=UTC)
        tracker.record_trade("X", "long", 1, "10", "15", exit_time, exit_time, trade_id="late")
        page = reports.html(tracker)
        assert "times in America/New_York" in page and "<td>2025-03-06</td>" in page
        best = page[page.index("<h2>Best trades</h2>") : page.index("<h2>Worst trades</h2>")]
        assert "<td>2025-03-06T22:30-05:00</td>" in best
        assert "+00:00" not in best

    def test_alert_times_in_the_account_zone(self):
        """
        The alerts table writes when each alert was raised and resolved in the zone the page
        names, as the trade and ideas tables do.
        """
        tracker = pt.Tracker("1000", targets=pt.Targets(max_loss_streak=1), timezone="Asia/Kolkata")
        for n, exit_price in enumerate(("9", "9", "12")):
            when = T0 + timedelta(hours=n)
            tracker.record_trade("X", "long", 1, "10", exit_price, when, when)
        page = reports.html(tracker)
        section = page[page.index("<h2>Alerts</h2>") : page.index("<h2>Best trades</h2>")]
        assert "times in Asia/Kolkata" in page
        assert "<td>2025-03-03 20:30:00+05:30</td><td>2025-03-03 21:30:00+05:30</td>" in section

    def test_equity_curve_covers_the_sessions_of_the_window(self):
        """
        A weekdays calendar books Saturday's trades to Monday's session: a report from that
        Monday counts them (its trades and daily bars do), so its equity and underwater
        charts start from them too, not from the first point dated Monday.
        """
        tracker = pt.Tracker("1000", timezone="America/New_York", calendar="weekdays")
        for when in (
            datetime(2025, 3, 7, 15, tzinfo=UTC),  # Friday
            datetime(2025, 3, 8, 17, tzinfo=UTC),  # Saturday: Monday's session
            datetime(2025, 3, 10, 15, tzinfo=UTC),  # Monday
        ):
            tracker.record_trade("X", "long", 1, "10", "11", when, when)
        monday = date(2025, 3, 10)
        assert 2 == tracker.summary(start=monday).trades
        page = reports.html(tracker, start=monday)
        assert "2 trades · 2025-03-10 ·" in page
        for chart in ("equity", "underwater"):
            svg = page[page.index(f'id="{chart}-t"') :]
            svg = svg[: svg.index("</svg>")]
            assert 'data-source-points="2"' in svg, chart
            assert "2 points from 2025-03-08 12:00 to 2025-03-10 " in svg, chart
        assert "Minimum 1,002.00 (2025-03-08 12:00)" in page

    def test_chart_times_in_the_account_zone_across_dst(self):
        """
        The charts' axes say "Date (America/New_York)": their times are New York's on both
        sides of a daylight-saving change (the equity curve's and the rolling win rate's),
        not the first point's offset nor UTC.
        """
        tracker = pt.Tracker("1000", timezone="America/New_York")
        first = datetime(2025, 3, 9, 4, tzinfo=UTC)  # Saturday 23:00 EST
        for n in range(20):
            when = first + timedelta(hours=n % 2 * 12, minutes=n)  # then Sunday 12:00 EDT
            tracker.record_trade("X", "long", 1, "10", "11", when, when)
        page = reports.html(tracker)
        for chart in ("equity", "rolling-win-rate"):
            desc = page[page.index(f'id="{chart}-d"') :]
            desc = desc[: desc.index("</desc>")]
            assert "to 2025-03-09 12:19." in desc, (chart, desc)

    def test_monthly_return_of_a_window_opened_mid_month(self):
        """
        Each monthly return is that month's P&L (the Months table's figure, the whole month)
        as a share of the equity the month opened with, wherever in it the window starts:
        the same month shows the same return in every report.
        """
        tracker = pt.Tracker("1000", timezone="America/New_York")
        for day, hour, exit_price in ((7, 14, "1010"), (10, 14, "110"), (10, 15, "30")):
            when = datetime(2025, 3, day, hour, tzinfo=UTC)
            tracker.record_trade("X", "long", 1, "10", exit_price, when, when)
        march = tracker.periods("month")[-1]
        shown = f"Highest {float(march.net_pnl / tracker.starting_equity):+.1%} (2025 Mar)"
        assert "Highest +112.0% (2025 Mar)" == shown
        for start in (None, date(2025, 3, 10), datetime(2025, 3, 10, 14, 30, tzinfo=UTC)):
            page = reports.html(tracker, start=start)
            assert "<tr><td>2025-03</td><td>3</td><td>100.0%</td><td>1,120.00</td>" in page
            monthly = page[page.index('id="monthly-d"') :]
            assert shown in monthly[: monthly.index("</desc>")], start

    def test_renders_in_chromium(self, demo, tmp_path):
        page = tmp_path / "report.html"
        page.write_text(reports.html(demo, title="Demo", targets=pt.Targets(min_win_rate=0.6)))
        shot = tmp_path / "shot.png"
        done, fetched = headless(tmp_path, "--window-size=1200,3000", f"--screenshot={shot}", page)
        assert shot.exists() and shot.stat().st_size > 20_000, done.stderr[-2000:]
        assert [] == [line for line in done.stderr.splitlines() if "CONSOLE" in line]
        assert set() == fetched  # nothing but the file itself was loaded
        dom, _ = headless(tmp_path, "--dump-dom", page)
        drawn = re.findall(r'data-points="(\d+)"', dom.stdout)
        assert len(drawn) >= 9  # the seven charts and the two of the ideas
        assert all(int(n) > 0 for n in drawn), drawn
        # The ideas filters ran (the count is written by the script) ...
        rows = re.findall(r"<tr data-date=\"[^\"]*\"[^>]*>", dom.stdout)
        assert rows and f"{len(rows)} of {len(rows)} ideas shown" in dom.stdout
        # ... and filter: a link carrying a filter shows only the matching rows.
        done, fetched = headless(tmp_path, "--dump-dom", page, fragment="#status=win&confidence=4")
        assert [] == [line for line in done.stderr.splitlines() if "CONSOLE" in line]
        assert set() == fetched
        rows = re.findall(r"<tr data-date=\"[^\"]*\"[^>]*>", done.stdout)
        shown = [r for r in rows if "hidden" not in r]
        assert shown and all('data-status="win"' in r for r in shown)
        assert all('data-confidence="4"' in r for r in shown)
        assert f"{len(shown)} of {len(rows)} ideas shown" in done.stdout

    def test_phone_width(self, demo, tmp_path):
        """
        At a phone's 390 CSS pixels the page does not scroll sideways (wide tables scroll in
        their own box) and every chart lays out with a visible size. Headless Chromium will
        not open a window narrower than 500 pixels, so the report goes into a 390-pixel frame.
        """
        report = reports.html(demo, title="Demo")
        harness = tmp_path / "phone.html"
        harness.write_text(
            "<!doctype html><html><head><meta charset='utf-8'><style>body{margin:0}"
            "iframe{border:0;width:390px;height:844px;display:block}</style></head><body>"
            f"<iframe id='phone' srcdoc=\"{html.escape(report, quote=True)}\"></iframe>"
            "<script>const f = document.getElementById('phone');"
            "f.addEventListener('load', () => {"
            "  const d = f.contentDocument, root = d.documentElement;"
            "  const plots = [...d.querySelectorAll('svg .pt-plot')];"
            "  const shown = plots.filter(g => { const b = g.getBoundingClientRect();"
            "    return b.width > 0 && b.height > 0; }).length;"
            "  document.body.dataset.result = JSON.stringify({scroll: root.scrollWidth,"
            "    width: root.clientWidth, svgs: d.querySelectorAll('svg').length,"
            "    plots: plots.length, shown: shown});"
            "});</script></body></html>"
        )
        done, fetched = headless(tmp_path, "--window-size=500,900", "--dump-dom", harness)
        match = re.search(r'data-result="([^"]+)"', done.stdout)
        assert match, done.stderr[-2000:]
        result = json.loads(html.unescape(match.group(1)))
        assert 0 < result["width"] <= 390
        assert result["scroll"] <= result["width"], result  # no horizontal overflow
        assert result["svgs"] == result["plots"] == result["shown"] >= 7, result
        assert set() == fetched
        shot = tmp_path / "phone.png"
        headless(tmp_path, "--window-size=500,900", f"--screenshot={shot}", harness)
        assert shot.exists() and shot.stat().st_size > 10_000


def headless(
    tmp_path: Path, *args: object, fragment: str = ""
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """
    Run headless Chromium on a file (its URL ending in ``fragment``) with every host
    unresolvable; returns the run and the http(s) URLs the page asked for (from Chromium's
    network log, without the browser's own requests).
    """
    *options, page = args
    assert isinstance(page, Path)
    netlog = tmp_path / f"net-{len(list(tmp_path.glob('net-*')))}.json"
    done = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--log-net-log={netlog}",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            *map(str, options),
            page.as_uri() + fragment,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    text = netlog.read_text() if netlog.exists() else '{"events": []}'
    try:
        log = json.loads(text)
    except ValueError:  # a log cut at exit lacks its closing brackets
        log = json.loads(text.rstrip().rstrip(",") + "]}")
    fetched = {
        e["params"]["url"]
        for e in log.get("events", [])
        if isinstance(e.get("params"), dict)
        and str(e["params"].get("url", "")).startswith(("http://", "https://"))
        # Requests the page made carry its file:// site; the browser's own carry none.
        and "file://" in str(e["params"].get("site_for_cookies", ""))
    }
    return done, fetched


def re_import(tracker: pt.Tracker, fmt: str, directory: Path) -> pt.Tracker:
    """
    ``tracker``'s trades exported as ``fmt`` and imported into a new tracker like it.
    """
    path = directory / f"trades.{fmt}"
    reports.export(tracker, "trades", fmt, path)
    result = {
        "csv": importers.read_csv,
        "json": importers.read_json,
        "jsonl": lambda p: importers.read_jsonl([p]),
        "xlsx": importers.read_xlsx,
    }[fmt](path)
    again = pt.Tracker(
        tracker.starting_equity, timezone=tracker.timezone, calendar=tracker.calendar
    )
    importers.load_into(again, result)
    return again


def assert_same_books(tracker: pt.Tracker, again: pt.Tracker) -> None:
    """
    Every trade, every summary figure of every day, week, month and all time, the equity
    curve and the daily returns are the same in both trackers.
    """
    assert tracker.trades() == again.trades()
    assert [t.to_dict() for t in tracker.trades()] == [t.to_dict() for t in again.trades()]
    assert tracker.summary().to_dict() == again.summary().to_dict()
    for period in ("day", "week", "month"):
        mine = [s.to_dict() for s in tracker.periods(period)]
        assert mine == [s.to_dict() for s in again.periods(period)], period
    for by in ("strategy", "symbol", "side", "tag"):
        mine = {k: v.to_dict() for k, v in tracker.breakdown(by).items()}
        assert mine == {k: v.to_dict() for k, v in again.breakdown(by).items()}, by
    assert tracker.equity_curve() == again.equity_curve()
    assert tracker.daily_returns() == again.daily_returns()
    assert tracker.max_drawdown_period() == again.max_drawdown_period()


def _gfm_cells(row: str) -> list[str]:
    """
    A Markdown table row's cells as GitHub splits them: on every pipe that no backslash
    escapes (a backslash escapes the next character, a backslash too).
    """
    cells, cell, escaped = [], "", False
    for char in row.strip()[1:-1]:
        if escaped:
            cell, escaped = cell + char, False
        elif char == "\\":
            cell, escaped = cell + char, True
        elif char == "|":
            cells, cell = [*cells, cell], ""
        else:
            cell += char
    return [*cells, cell]


class TestText:
    """Markdown and terminal text: every figure the summary's to the cent, names as text."""

    def test_money_that_is_zero_to_the_cent_has_no_minus_sign(self):
        """
        A break-even short realizes Decimal("-0"), and a loss under half a cent is 0.00 to
        the cent: neither is written "-0.00", which reads as a loss (the charts write 0.00).
        """
        from perftrack.reports._text import summary_markdown, summary_table

        tracker = pt.Tracker("1000")
        tracker.record_trade("X", "short", 1, "10", "10", T0, T0, trade_id="even")
        tracker.record_trade("Y", "long", 1, "10", "10.001", T0, T0, fees="0.005", trade_id="y")
        assert "-0" == str(tracker.trades()[0].net_pnl)
        s = tracker.summary()
        assert Decimal("-0.004") == s.net_pnl
        page = reports.html(tracker)
        markdown = summary_markdown(s, title="t")
        table = summary_table([("all", s)])
        for text in (page, markdown, table):
            assert re.search(r"-0\.00(?![0-9])", text) is None  # (-0.0004% is a chart tick)
        assert "<td>even</td><td>X</td><td>default</td><td>short</td><td>0.00</td>" in page
        assert "| net_pnl | 0.00 |" in markdown and "net P&L 0.00." in markdown

    def test_markdown_table_keeps_each_name_in_its_cell(self):
        """
        Names hold anything: a line break, a backslash before a pipe, an HTML tag, a code
        span's backticks. Each stays one cell of its row, written as text, never as markup.
        """
        from perftrack.reports._text import markdown_table

        names = [
            "a\nb",
            "c\\|d",
            "e\\",
            "<script>alert(1)</script>",
            "`x|y`",
            "-->\r\u2028z",
            "[a](javascript:x)",
            "\u202eright to left",
        ]
        out = markdown_table([("edge", "ideas"), *((name, "1") for name in names)])
        lines = out.splitlines()
        assert 2 + len(names) == len(lines)
        for line in lines[2:]:
            assert 2 == len(_gfm_cells(line)), line
            assert " 1 " == _gfm_cells(line)[1]
        assert "\\<script>alert(1)\\</script>" in out and "`x\\|y`" in out
        assert "\\[a\\](javascript:x)" in out  # no link
        assert "\u202e" not in out  # which would show the figures after it reversed

    def test_markdown_title_is_one_heading_line(self):
        """
        The title (`perftrack summary --by strategy` writes the strategy's name in it) is
        the page's one level-1 heading, as text: a line break in it opens no section.
        """
        from perftrack.reports._text import summary_markdown

        tracker = pt.Tracker("1000")
        tracker.record_trade("X", "long", 1, "10", "11", T0, T0)
        title = "evil\n## Alerts\n- fake\n<script>alert(1)</script> summary"
        lines = summary_markdown(tracker.summary(), title=title).splitlines()
        assert lines[0].startswith("# evil") and "" == lines[1] and "## Overview" == lines[2]
        assert ["## Overview", "## Metrics", "## Alerts"] == [
            line for line in lines if line.startswith("#") and not line.startswith("# ")
        ]
        assert "\\<script>" in lines[0]
        assert not any(re.search(r"(?<!\\)<", line) for line in lines)  # no tag opens

    def test_markdown_alert_names_stay_on_their_line(self):
        """
        A custom rule names its key and metric (a bot's text): each alert stays one list
        item written as text; a line break in a key opens no section, a tag injects no HTML.
        """
        from perftrack.reports._text import summary_markdown

        def rule(view: Any) -> list[pt.Breach]:
            return [pt.Breach("k\n## Metrics\n<img src=x onerror=alert(1)>", "m\n- x", 1, 0)]

        tracker = pt.Tracker("1000", targets=pt.Targets(custom=[rule]))
        tracker.record_trade("X", "long", 1, "10", "11", T0, T0)
        page = summary_markdown(tracker.summary(), title="t", alerts=tracker.alerts.history())
        lines = page.splitlines()
        assert 1 == lines.count("## Metrics") and not any(line == "- x" for line in lines)
        assert not any(re.search(r"(?<!\\)<", line) for line in lines)
        (item,) = [line for line in lines if line.startswith("- ")]
        assert item.startswith("- warning: k ## Metrics \\<img src=x onerror=alert(1)> (m - x 1")


class TestExports:
    """Every field, exact, and back again."""

    def _tracker(self) -> pt.Tracker:
        tracker = pt.Tracker("10000", timezone="Europe/Paris")
        for n in range(30):
            when = T0 + timedelta(hours=7 * n)
            if n % 2:  # times keep the offset they were given
                when = when.astimezone(ZoneInfo("Europe/Paris"))
            tracker.record_trade(
                "X" if n % 2 else "Y",
                "short" if n % 3 else "long",
                "1.5",
                "100.10",
                "100.37" if n % 4 else "99.99",
                when - timedelta(hours=1),
                when,
                fees="0.07",
                strategy=f"s{n % 3}",
                stop_price=None,
                tags=("a", "b") if n % 2 else (),
                trade_id=f"t{n}",
            )
        return tracker

    def test_every_field_exact(self):
        tracker = self._tracker()
        trades = [t.to_dict() for t in tracker.trades()]
        expected_columns = [*trades[0]]
        as_csv = list(
            csv.DictReader(io.StringIO(reports.export(tracker, "trades", "csv").decode()))
        )
        as_json = json.loads(reports.export(tracker, "trades", "json"))
        as_jsonl = [
            json.loads(line) for line in reports.export(tracker, "trades", "jsonl").splitlines()
        ]
        assert expected_columns == list(as_csv[0]) == list(as_json[0]) == list(as_jsonl[0])
        assert trades == as_json == as_jsonl  # Decimals as exact strings, times with offsets
        for mine, row in zip(trades, as_csv, strict=True):
            for name, value in mine.items():
                text = "|".join(value) if isinstance(value, list) else value
                text = "" if text is None else text
                assert str(text) == row[name] or repr(text) == row[name], (name, value)
        second = tracker.trades()[1]
        assert "+01:00" == as_csv[1]["exit_time"][-6:]  # Europe/Paris in March
        assert second.exit_time == datetime.fromisoformat(as_csv[1]["exit_time"])
        assert "100.10" == as_csv[0]["entry_price"]  # the text as given, trailing zero kept

    @pytest.mark.parametrize("fmt", ["csv", "json", "jsonl", "xlsx"])
    def test_round_trip(self, fmt, tmp_path):
        tracker = self._tracker()
        again = re_import(tracker, fmt, tmp_path)
        assert [t.to_dict() for t in tracker.trades()] == [t.to_dict() for t in again.trades()]
        assert tracker.summary().to_dict() == again.summary().to_dict()
        for period in ("day", "week", "month"):
            assert reports.export(tracker, "summaries", "csv", period=period) == reports.export(
                again, "summaries", "csv", period=period
            )
        assert reports.daily_returns_csv(tracker) == reports.daily_returns_csv(again)

    @pytest.mark.parametrize("fmt", ["csv", "json", "jsonl", "xlsx"])
    def test_round_trip_of_trades_booked_in_steps(self, fmt, demo, tmp_path):
        """
        The demo opens, scales in and exits in parts: the trades come back exactly, with their
        realizations, and so does every summary figure of every period (drawdowns and Sharpe
        included), the equity curve and the daily returns.
        """
        assert any(t.realizations for t in demo.trades())
        again = re_import(demo, fmt, tmp_path)
        assert_same_books(demo, again)

    def test_file_without_realizations_imports_as_before(self, demo, tmp_path):
        """An export from before the column: each trade realized whole at its exit."""
        text = reports.export(demo, "trades", "csv").decode()
        rows = list(csv.DictReader(io.StringIO(text)))
        path = tmp_path / "old.csv"
        with path.open("w", newline="") as f:
            columns = [c for c in rows[0] if c != "realizations"]
            writer = csv.DictWriter(f, columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
        again = pt.Tracker(demo.starting_equity, timezone=demo.timezone)
        importers.load_into(again, importers.read_csv(path))
        assert all(t.booked_whole for t in again.trades())
        assert [{**t.to_dict(), "realizations": None} for t in demo.trades()] == [
            t.to_dict() for t in again.trades()
        ]
        assert demo.summary().net_pnl == again.summary().net_pnl

    def test_realizations_cell_that_is_not_json(self, tmp_path):
        path = tmp_path / "bad.csv"
        reports.export(self._tracker(), "trades", "csv", path)
        lines = path.read_text().splitlines()
        header = lines[0].split(",")
        cells = lines[2].split(",")
        cells[header.index("realizations")] = "[{oops"
        lines[2] = ",".join(cells)
        path.write_text("\n".join(lines) + "\n")
        with pytest.raises(pt.errors.InvalidInputError, match=r"row 3: 'realizations' is not JSON"):
            importers.read_csv(path)

    @pytest.mark.parametrize("fmt", ["csv", "json", "jsonl", "xlsx"])
    def test_round_trip_through_the_command(self, fmt, tmp_path):
        from perftrack.cli import main
        from perftrack.stores import LocalStore

        source, copy = tmp_path / "source", tmp_path / "copy"
        with pt.Tracker("10000", store=LocalStore(source), timezone="Europe/Paris") as t:
            for trade in self._tracker().trades():
                t.record_trade(**{k: getattr(trade, k) for k in TRADE_FIELDS})
        out = tmp_path / f"trades.{fmt}"
        assert 0 == main(
            ["export", "trades", "--format", fmt, "--out", str(out), "--data", str(source)]
        )
        assert 0 == main(
            [
                "import",
                fmt,
                str(out),
                "--data",
                str(copy),
                "--starting-equity",
                "10000",
                "--timezone",
                "Europe/Paris",
            ]
        )
        before = pt.Tracker.restore(LocalStore(source), read_only=True)
        after = pt.Tracker.restore(LocalStore(copy), read_only=True)
        for what in ("trades", "summaries"):
            assert reports.export(before, what, "json") == reports.export(after, what, "json")

    def test_xlsx_typed_cells(self, tmp_path):
        import openpyxl

        path = tmp_path / "t.xlsx"
        tracker = self._tracker()
        reports.export(tracker, "trades", "xlsx", path)
        book = openpyxl.load_workbook(path)
        sheet = book.worksheets[0]
        assert "trades" == sheet.title and "hidden" == book["exact"].sheet_state
        header = [c.value for c in sheet[1]]
        row = dict(zip(header, sheet[2], strict=True))
        for name in ("quantity", "entry_price", "exit_price", "fees", "net_pnl"):
            assert isinstance(row[name].value, float | int), name
        assert "0.00" == row["entry_price"].number_format  # shown as 100.10
        assert isinstance(row["r_multiple"].value, float | type(None))
        first = tracker.trades()[0]
        for name in ("entry_time", "exit_time"):
            assert isinstance(row[name].value, datetime) and row[name].is_date
        assert first.exit_time.astimezone(UTC).replace(tzinfo=None) == row["exit_time"].value

    def test_xlsx_edited_cell_wins_over_its_exact_copy(self, tmp_path):
        import openpyxl

        path = tmp_path / "t.xlsx"
        reports.export(self._tracker(), "trades", "xlsx", path)
        book = openpyxl.load_workbook(path)
        sheet = book.worksheets[0]
        header = [c.value for c in sheet[1]]
        sheet.cell(row=2, column=header.index("entry_price") + 1, value=101.5)
        book.save(path)
        trades = importers.read_xlsx(path).trades
        assert ("101.5", "100.10") == (trades[0]["entry_price"], trades[1]["entry_price"])

    @pytest.mark.parametrize("period", ["day", "week", "month"])
    def test_summaries_every_field_exact(self, period):
        tracker = self._tracker()
        expected = [s.to_dict() for s in tracker.periods(period)]
        as_json = json.loads(reports.export(tracker, "summaries", "json", period=period))
        as_csv = list(
            csv.DictReader(
                io.StringIO(reports.export(tracker, "summaries", "csv", period=period).decode())
            )
        )
        assert expected == as_json
        assert [list(expected[0])] == [list(as_csv[0])]
        for mine, row in zip(expected, as_csv, strict=True):
            for name in ("net_pnl", "avg_win", "avg_loss", "expectancy", "fees", "start", "end"):
                assert ("" if mine[name] is None else mine[name]) == row[name], name

    def test_daily_returns_for_pandas(self):
        pd = pytest.importorskip("pandas")
        tracker = self._tracker()
        series = reports.to_pandas(tracker)
        assert isinstance(series.index, pd.DatetimeIndex)
        assert len(series) == len(tracker.daily_returns())
        text = reports.daily_returns_csv(tracker)
        read = pd.read_csv(io.StringIO(text), index_col=0, parse_dates=True).squeeze()
        assert list(read.round(12)) == list(series.round(12))
        assert Decimal(0) != tracker.summary().net_pnl

    def _formula_like(self) -> pt.Tracker:
        """Names that a spreadsheet would read as formulas (user data, from a bot's config)."""
        tracker = pt.Tracker("10000", timezone="Europe/Paris")
        names = ("=1+2", "+SUM(A1:A9)", "-2+3", "@SUM(1)", "'=quoted", "plain")
        for n, name in enumerate(names):
            when = T0 + timedelta(hours=n)
            tracker.record_trade(
                name,
                "long",
                "1",
                "100",
                "101",
                when - timedelta(minutes=30),
                when,
                strategy=name,
                tags=(name, "t"),
                trade_id=f"t{n}",
            )
        return tracker

    def test_xlsx_writes_names_like_formulas_as_text(self, tmp_path):
        openpyxl = pytest.importorskip("openpyxl")
        tracker = self._formula_like()
        path = tmp_path / "t.xlsx"
        reports.export(tracker, "trades", "xlsx", path)
        sheet = openpyxl.load_workbook(path).worksheets[0]
        kinds = {cell.data_type for row in sheet.iter_rows(min_row=2) for cell in row}
        assert "f" not in kinds  # no cell of user text became a formula Excel would run
        assert_same_books(tracker, re_import(tracker, "xlsx", tmp_path))

    def test_csv_neutralises_names_like_formulas_and_reads_them_back(self, tmp_path):
        tracker = self._formula_like()
        rows = list(csv.reader(io.StringIO(reports.export(tracker, "trades", "csv").decode())))
        head = rows[0]
        for row in rows[1:]:
            for name in ("symbol", "strategy", "tags"):
                assert row[head.index(name)][0] not in "=+-@", (name, row)
        assert_same_books(tracker, re_import(tracker, "csv", tmp_path))

    @pytest.mark.parametrize("fmt", ["csv", "xlsx"])
    def test_round_trip_of_tags_holding_the_separator(self, fmt, tmp_path):
        tracker = pt.Tracker("10000")
        tracker.record_trade("X", "long", 1, "10", "11", T0, T0, tags=("a|b", "c"))
        tracker.record_trade("X", "long", 1, "10", "11", T0, T0, tags=("[x]", "y"))
        tracker.record_trade("X", "long", 1, "10", "11", T0, T0, tags=("p", "q"))
        assert_same_books(tracker, re_import(tracker, fmt, tmp_path))


class TestScreenshot:
    """The README shows a screenshot of the demo's report, and says how to take it again."""

    def test_readme_shows_it(self):
        readme = (ROOT / "README.md").read_text()
        assert "](docs/report-demo.png)" in readme
        assert "scripts/report-screenshot.sh" in readme
        png = (ROOT / "docs/report-demo.png").read_bytes()
        assert png.startswith(b"\x89PNG") and int.from_bytes(png[16:20], "big") >= 1000


# -- round trips of random trades built in steps ------------------------------------------------

_BASE = datetime(2025, 3, 6, tzinfo=UTC)  # across the US and European daylight-saving changes
# Event times carry fixed offsets: the tracker's own zone (below) crosses the daylight-saving
# changes. (Two times of one ZoneInfo subtract as wall clocks, so a holding time across a
# change would differ from the same instants read back with their offsets.)
_OFFSETS = [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-5))]
_STEP_FEES = st.sampled_from([Decimal(0), Decimal("0.25"), Decimal("1.10")])
_PRICES = st.integers(min_value=80, max_value=120).map(lambda k: Decimal(k) / 4)
# (action, half-hours after the entry, price, fee): scale-ins and partial exits of one unit,
# at times before or after each other (a late report is still booked at its own time).
_ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["add", "partial"]),
        st.integers(0, 72),
        _PRICES,
        _STEP_FEES,
    ),
    max_size=4,
)
_SCRIPTS = st.lists(
    st.fixed_dictionaries(
        {
            "start": st.integers(0, 20 * 48),
            "offset": st.sampled_from(_OFFSETS),
            "symbol": st.sampled_from(["AAA", "BBB"]),
            "side": st.sampled_from(["long", "short"]),
            "quantity": st.sampled_from([Decimal(2), Decimal(3), Decimal("4.5")]),
            "price": _PRICES,
            "fee": _STEP_FEES,
            "actions": _ACTIONS,
            "close": st.tuples(st.integers(0, 96), _PRICES, _STEP_FEES),
            "whole": st.booleans(),
        }
    ),
    min_size=1,
    max_size=6,
)


def _play(tracker: pt.Tracker, n: int, script: dict) -> None:
    """
    One trade: recorded whole, or opened, scaled into, partly exited and closed.
    """
    start = _BASE + timedelta(minutes=30 * script["start"])

    def at(later: int) -> datetime:
        # Added in UTC, then shown in the script's zone: a real instant, never one that a
        # daylight-saving change skips.
        return (start + timedelta(minutes=30 * later)).astimezone(script["offset"])

    entry = at(0)
    minutes, exit_price, exit_fee = script["close"]
    # The exit comes last: an event dated after it that realizes nothing (a scale-in without
    # a fee) would stretch the tracker's lived range where no export follows it.
    exit_time = at(max([minutes, *(a[1] for a in script["actions"])]))
    common = {"symbol": script["symbol"], "side": script["side"], "strategy": f"s{n % 2}"}
    if script["whole"]:
        tracker.record_trade(
            **common,
            quantity=script["quantity"],
            entry_price=script["price"],
            exit_price=exit_price,
            entry_time=entry,
            exit_time=exit_time,
            fees=exit_fee,
            tags=("a",) if n % 2 else (),
            trade_id=f"t{n}",
        )
        return
    tid = f"t{n}"
    tracker.open_trade(
        tid,
        **common,
        quantity=script["quantity"],
        price=script["price"],
        time=entry,
        fees=script["fee"],
        tags=("a", "b") if n % 2 else (),
    )
    held = script["quantity"]
    for action, later, price, fee in script["actions"]:
        when = at(later)
        if action == "add":
            tracker.add_to_trade(tid, quantity=1, price=price, time=when, fees=fee)
            held += 1
        elif held > 1:
            tracker.close_trade(tid, price=price, time=when, quantity=1, fees=fee)
            held -= 1
    tracker.close_trade(tid, price=exit_price, time=exit_time, fees=exit_fee)


class TestRoundTripProperties:
    """Random trades built in steps, across days and time zones, export and import intact."""

    @pytest.mark.parametrize("fmt", ["csv", "json", "jsonl", "xlsx"])
    @settings(max_examples=40)
    @given(
        scripts=_SCRIPTS,
        zone=st.sampled_from(["UTC", "America/New_York", "Australia/Lord_Howe"]),
        calendar=st.sampled_from(["all", "weekdays"]),
    )
    def test_every_summary_comes_back(self, fmt, scripts, zone, calendar):
        tracker = pt.Tracker("1000", timezone=zone, calendar=calendar)
        for n, script in enumerate(scripts):
            _play(tracker, n, script)
        with tempfile.TemporaryDirectory() as directory:
            again = re_import(tracker, fmt, Path(directory))
        assert_same_books(tracker, again)


# -- export's arguments ----------------------------------------------------------------


def _one_trade() -> pt.Tracker:
    tracker = pt.Tracker("10000")
    start = datetime(2025, 3, 3, 14, tzinfo=UTC)
    tracker.record_trade("X", "long", 1, "100", "110", start, start + timedelta(hours=1))
    return tracker


def test_export_writes_to_a_path_given_as_text(tmp_path: Path) -> None:
    # `out` as a str raised AttributeError ('str' object has no attribute 'with_name').
    out = tmp_path / "trades.csv"
    data = reports.export(_one_trade(), "trades", "csv", str(out))  # type: ignore[arg-type]
    assert out.read_bytes() == data


@pytest.mark.parametrize(
    ("args", "field"),
    [(("bogus", "csv"), "'what'"), (("trades", "pdf"), "'format'")],
)
def test_export_refuses_bad_arguments_with_a_typed_error(args: Any, field: str) -> None:
    with pytest.raises(pt.errors.InvalidInputError, match=field):
        reports.export(_one_trade(), *args)


def test_export_refuses_an_out_that_is_not_a_path() -> None:
    with pytest.raises(pt.errors.InvalidInputError, match="'out'"):
        reports.export(_one_trade(), "trades", "csv", 5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bounds",
    [
        {"start": "2025-03-03"},
        {"end": "2025-03-04T00:00:00Z"},
        {"start": datetime(2025, 3, 3, 14, tzinfo=UTC)},
    ],
    ids=["start-text", "end-text", "start-datetime"],
)
def test_html_takes_the_bounds_the_queries_take(bounds: dict[str, Any]) -> None:
    # The summary and trades took these; the equity-curve filter then compared a date with a
    # str or a datetime and raised TypeError.
    page = reports.html(_one_trade(), **bounds)
    assert "<svg" in page


def test_html_refuses_targets_that_are_not_targets() -> None:
    with pytest.raises(pt.errors.InvalidInputError, match="'targets'"):
        reports.html(_one_trade(), targets=5)  # type: ignore[arg-type]


def test_html_and_the_weekly_markdown_show_money_of_1e26_and_more() -> None:
    # Money is accepted below 1e100; the report quantized it to cents in the caller's
    # 28-digit context and raised decimal.InvalidOperation from 1e26 on.
    tracker = pt.Tracker("10000")
    start = datetime(2025, 3, 3, 14, tzinfo=UTC)
    tracker.record_trade("X", "long", "1e20", "1e10", "2e10", start, start + timedelta(hours=1))
    assert tracker.summary().net_pnl == Decimal("1e30")
    assert "1,000,000,000,000,000,000,000,000,000,000.00" in reports.html(tracker)
    markdown = tracker.ideas.weekly_report(at=start).to_markdown()
    assert "net P&L 1,000,000,000,000,000,000,000,000,000,000.00" in markdown
    from perftrack.reports._text import summary_markdown

    assert "1,000,000,000,000,000,000,000,000,000,000.00" in summary_markdown(
        tracker.summary(), title="t"
    )
