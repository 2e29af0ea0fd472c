"""
The HTML report: one self-contained file (inline SVG and CSS, nothing fetched when viewed),
readable on a laptop and on a phone.
"""

from __future__ import annotations

import html as _html
from collections import deque
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from perftrack._model import Summary, Trade
from perftrack.reports import _svg
from perftrack.reports._text import variances

if TYPE_CHECKING:
    from perftrack._tracker import Tracker
    from perftrack.alerts import Targets

__all__ = ["render_html"]

CENT = Decimal("0.01")

PAGE_CSS = """
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #57606a; --line: #d0d7de;
        --bg: #ffffff; --card: #f6f8fa; --good: #1a7f37; --bad: #cf222e; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6edf3; --muted: #9da7b3; --line: #30363d; --bg: #0d1117; --card: #161b22;
          --good: #3fb950; --bad: #f85149; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
       color: var(--fg); background: var(--bg); }
main { max-width: 1100px; margin: 0 auto; padding: 16px; }
h1 { font-size: 1.5rem; margin: 0.2em 0; } h2 { font-size: 1.15rem; margin: 1.6em 0 0.5em; }
.muted { color: var(--muted); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 8px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
        padding: 8px 10px; }
.card .label { color: var(--muted); font-size: 0.8rem; }
.card .value { font-size: 1.25rem; font-variant-numeric: tabular-nums; }
.card .target { font-size: 0.8rem; }
.breached { color: var(--bad); } .met { color: var(--good); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 480px), 1fr));
          gap: 12px; }
figure { margin: 0; background: var(--card); border: 1px solid var(--line); border-radius: 8px;
         padding: 6px; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums;
        font-size: 0.9rem; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: right;
         white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
thead th { position: sticky; top: 0; background: var(--bg); }
"""


def _money(value: Decimal | None) -> str:
    return "-" if value is None else f"{value.quantize(CENT):,}"


def _num(value: float | None, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


def _esc(value: object) -> str:
    return _html.escape(str(value))


def _table(head: Sequence[str], rows: Sequence[Sequence[object]], caption: str = "") -> str:
    out = ['<div class="table-wrap"><table>']
    if caption:
        out.append(f"<caption class='muted'>{_esc(caption)}</caption>")
    out.append(
        "<thead><tr>"
        + "".join(f"<th scope='col'>{_esc(h)}</th>" for h in head)
        + "</tr></thead><tbody>"
    )
    for row in rows:
        out.append("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in row) + "</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


_SUMMARY_HEAD = (
    "",
    "trades",
    "win %",
    "net P&L",
    "avg win",
    "avg loss",
    "payoff",
    "PF",
    "expectancy",
    "max DD",
    "DD %",
    "sharpe",
    "SQN",
)


def _summary_row(label: str, s: Summary) -> list[object]:
    return [
        label,
        s.trades,
        _num(s.win_rate, ".1%"),
        _money(s.net_pnl),
        _money(s.avg_win),
        _money(s.avg_loss),
        _num(s.payoff_ratio),
        _num(s.profit_factor),
        _money(s.expectancy),
        _money(s.max_drawdown),
        _num(s.max_drawdown_pct, ".2%"),
        _num(s.sharpe),
        _num(s.sqn),
    ]


def _headline(s: Summary, targets: Targets | None) -> str:
    checks = {v["metric"]: v for v in variances(s, targets)}
    cards = [
        ("Net P&L", _money(s.net_pnl), "net_pnl"),
        ("Win rate", _num(s.win_rate, ".1%"), "win_rate"),
        ("Payoff ratio", _num(s.payoff_ratio), "payoff_ratio"),
        ("Profit factor", _num(s.profit_factor), "profit_factor"),
        ("Expectancy", _money(s.expectancy), "expectancy"),
        (
            "Max drawdown",
            f"{_money(s.max_drawdown)} ({_num(s.max_drawdown_pct, '.2%')})",
            "max_drawdown_pct",
        ),
        ("Sharpe", _num(s.sharpe), "sharpe"),
        ("Sortino", _num(s.sortino), "sortino"),
        ("SQN", _num(s.sqn), "sqn"),
    ]
    out = ['<section class="cards" aria-label="Headline figures">']
    for label, value, metric in cards:
        target = ""
        check = checks.get(metric) or (
            checks.get("max_drawdown") if metric == "max_drawdown_pct" else None
        )
        if check is not None:
            css = "breached" if check["breached"] else "met"
            word = "breached" if check["breached"] else "met"
            target = f"<div class='target {css}'>target {_esc(check['target'])}: {word}</div>"
        out.append(
            f"<div class='card'><div class='label'>{_esc(label)}</div>"
            f"<div class='value'>{_esc(value)}</div>{target}</div>"
        )
    out.append("</section>")
    return "".join(out)


def _session_date(summary: Summary) -> date:
    """
    The (last) day a period summary covers: its end is the next midnight, and a weekdays
    calendar opens Monday's session on Saturday, so neither bound names it directly.
    """
    assert summary.end is not None
    return (summary.end - timedelta(microseconds=1)).date()


def _rolling_win_rate(trades: Sequence[Trade], n: int = 20) -> list[tuple[datetime, float]]:
    window: deque[bool] = deque(maxlen=n)
    wins = 0
    out = []
    for t in trades:
        if len(window) == n:
            wins -= window[0]
        win = t.net_pnl > 0
        window.append(win)
        wins += win
        if len(window) == n:
            out.append((t.exit_time, wins / n))
    return out


def _underwater(curve: Sequence[tuple[datetime, Decimal]]) -> list[tuple[datetime, float]]:
    peak = None
    out = []
    for when, equity in curve:
        peak = equity if peak is None or equity > peak else peak
        out.append((when, float((equity - peak) / peak) if peak > 0 else 0.0))
    return out


def _monthly_returns(
    months: Sequence[Summary], start_equity: Decimal
) -> tuple[list[str], list[list[float | None]]]:
    equity = start_equity
    by_year: dict[int, list[float | None]] = {}
    for m in months:
        assert m.end is not None
        last = (
            m.end.date()
            if m.end.hour or m.end.minute
            else m.end.date().fromordinal(m.end.date().toordinal() - 1)
        )
        row = by_year.setdefault(last.year, [None] * 12)
        row[last.month - 1] = float(m.net_pnl / equity) if equity > 0 else None
        equity += m.net_pnl
    years = sorted(by_year)
    return [str(y) for y in years], [by_year[y] for y in years]


def render_html(
    tracker: Tracker,
    *,
    title: str = "Trading performance",
    start: date | None = None,
    end: date | None = None,
    targets: Targets | None = None,
) -> str:
    """
    The whole report as one HTML document, for the window [start, end] (default: all time).

    Thread-safe (it only queries the tracker). Long series are downsampled without hiding
    the extremes (see docs/charts.md).
    """
    zone = tracker.timezone
    summary = tracker.summary(start=start, end=end)
    trades = tracker.trades(start=start, end=end)
    curve = [
        (t, e)
        for t, e in tracker.equity_curve()
        if (start is None or t.date() >= start) and (end is None or t.date() <= end)
    ]
    days = tracker.periods("day", start=start, end=end)
    weeks = tracker.periods("week", start=start, end=end)
    months = tracker.periods("month", start=start, end=end)
    axis = f"Date ({zone})"
    charts = [
        _svg.line_chart(
            curve, title="Equity (realized)", x_label=axis, y_label="Equity", chart_id="equity"
        ),
        _svg.line_chart(
            _underwater(curve),
            title="Underwater: fall below the running peak",
            x_label=axis,
            y_label="Drawdown",
            y_format=".1%",
            fill_to_zero=True,
            chart_id="underwater",
        ),
        _svg.bar_chart(
            [(_session_date(d), d.net_pnl) for d in days if d.trades or d.net_pnl],
            title="Daily net P&L",
            x_label=axis,
            y_label="Net P&L",
            chart_id="daily",
        ),
    ]
    years, cells = _monthly_returns(months, summary_start_equity(tracker, start))
    charts.append(
        _svg.heatmap(
            years,
            ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
            cells,
            title="Monthly returns",
            x_label="Month",
            y_label="Year",
            chart_id="monthly",
        )
    )
    charts.append(
        _svg.line_chart(
            _rolling_win_rate(trades),
            title="Rolling 20-trade win rate",
            x_label=axis,
            y_label="Win rate",
            y_format=".0%",
            y_include=(0.0, 1.0),
            chart_id="rolling-win-rate",
        )
    )
    charts.append(
        _svg.histogram(
            [t.r_multiple for t in trades if t.r_multiple is not None],
            title="R-multiples per trade",
            x_label="R",
            chart_id="r-dist",
        )
    )
    charts.append(
        _svg.histogram(
            [t.net_pnl for t in trades],
            title="Net P&L per trade",
            x_label="Net P&L",
            chart_id="pnl-dist",
        )
    )
    breakdowns = []
    for by in ("strategy", "symbol", "tag"):
        rows = [_summary_row(k, s) for k, s in tracker.breakdown(by, start=start, end=end).items()]
        breakdowns.append(f"<h2>By {by}</h2>" + _table(_SUMMARY_HEAD, rows))
    periods = (
        "<h2>Months</h2>"
        + _table(_SUMMARY_HEAD, [_summary_row(f"{_session_date(m):%Y-%m}", m) for m in months])
        + "<h2>Weeks</h2>"
        + _table(
            _SUMMARY_HEAD,
            [_summary_row(f"{_session_date(w):%G-W%V}", w) for w in weeks[-26:]],
            "the last 26 weeks",
        )
        + "<h2>Days</h2>"
        + _table(
            _SUMMARY_HEAD,
            [_summary_row(str(_session_date(d)), d) for d in days[-31:]],
            "the last 31 days",
        )
    )
    alerts = tracker.alerts.history()
    alert_rows = [
        [
            a.id,
            a.severity,
            a.rule,
            a.metric,
            a.actual,
            a.target,
            a.raised_at,
            a.resolved_at or "active",
            a.acknowledged_by or "",
        ]
        for a in alerts[-50:]
    ]
    ranked = sorted(trades, key=lambda t: t.net_pnl)
    trade_head = ("trade", "symbol", "strategy", "side", "net P&L", "R", "exit")

    def trade_rows(chosen: Sequence[Trade]) -> list[list[object]]:
        return [
            [
                t.trade_id,
                t.symbol,
                t.strategy,
                t.side,
                _money(t.net_pnl),
                _num(t.r_multiple),
                t.exit_time.isoformat(timespec="minutes"),
            ]
            for t in chosen
        ]

    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{_esc(title)}</title><style>{PAGE_CSS}{_svg.CHART_CSS}</style></head><body><main>",
        f"<h1>{_esc(title)}</h1>",
        f"<p class='muted'>{summary.trades} trades · {_esc(summary.start or '')} to "
        f"{_esc(summary.end or '')} · times in {_esc(zone)}"
        + (" · <strong>partial input</strong>" if summary.partial else "")
        + "</p>",
        _headline(summary, targets),
        "<h2>Charts</h2><div class='charts'>",
        *(f"<figure>{c}</figure>" for c in charts),
        "</div>",
        *breakdowns,
        periods,
        "<h2>Alerts</h2>",
        _table(
            (
                "id",
                "severity",
                "rule",
                "metric",
                "actual",
                "target",
                "raised",
                "resolved",
                "acknowledged by",
            ),
            alert_rows,
        )
        if alert_rows
        else "<p>No alerts.</p>",
        "<h2>Best trades</h2>",
        _table(trade_head, trade_rows(ranked[::-1][:5])),
        "<h2>Worst trades</h2>",
        _table(trade_head, trade_rows(ranked[:5])),
        "</main></body></html>",
    ]
    return "".join(parts)


def summary_start_equity(tracker: Tracker, start: date | None) -> Decimal:
    """
    The account's equity at the start of the report's window.
    """
    if start is None:
        return tracker.starting_equity
    return tracker.starting_equity + sum(
        (d.net_pnl for d in tracker.periods("day", end=start)[:-1]), Decimal(0)
    )


_ = Any
