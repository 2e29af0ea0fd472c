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

from perftrack._convert import to_date_or_time
from perftrack._model import Summary, Trade
from perftrack.errors import InvalidInputError
from perftrack.reports import _svg
from perftrack.reports._text import cents, idea_list_rows, idea_summary_rows, variances

if TYPE_CHECKING:
    from perftrack._tracker import Tracker
    from perftrack.alerts import Targets

__all__ = ["render_html"]

CENT = Decimal("0.01")
#: The unit of money on the axes: a tracker is one account in one currency, not named.
MONEY = "account currency"

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
.filters { display: flex; flex-wrap: wrap; gap: 8px 14px; align-items: center; margin: 8px 0; }
.filters label { font-size: 0.85rem; color: var(--muted); }
.filters input, .filters select { font: inherit; color: var(--fg); background: var(--card);
                                  border: 1px solid var(--line); border-radius: 4px; }
"""

#: Filters the ideas table by the data-* attributes of its rows; inline, nothing is fetched.
IDEAS_JS = """
(function () {
  var box = document.getElementById("idea-filters");
  var table = document.getElementById("idea-table");
  if (!box || !table) { return; }
  var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr"));
  var count = document.getElementById("idea-count");
  var keys = ["symbol", "horizon", "status", "confidence"];
  function apply() {
    var f = {};
    box.querySelectorAll("[data-filter]").forEach(function (el) {
      f[el.getAttribute("data-filter")] = el.value;
    });
    var shown = 0;
    rows.forEach(function (tr) {
      var d = tr.dataset;
      var ok = (!f.from || d.date >= f.from) && (!f.to || d.date <= f.to) &&
        keys.every(function (k) { return !f[k] || d[k] === f[k]; });
      tr.hidden = !ok;
      if (ok) { shown += 1; }
    });
    count.textContent = shown + " of " + rows.length + " ideas shown";
  }
  // A link may carry filters: report.html#status=win&symbol=NVDA.
  location.hash.replace(/^#/, "").split("&").forEach(function (pair) {
    var kv = pair.split("=");
    if (["from", "to"].concat(keys).indexOf(kv[0]) < 0) { return; }
    var el = box.querySelector("[data-filter='" + kv[0] + "']");
    if (el && kv.length === 2) { el.value = decodeURIComponent(kv[1]); }
  });
  box.addEventListener("input", apply);
  box.addEventListener("change", apply);
  apply();
})();
"""

#: The ideas table shows at most this many ideas, the newest.
IDEA_ROWS = 2000


def _money(value: Decimal | None) -> str:
    return "-" if value is None else f"{cents(value):,}"


def _num(value: float | None, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


def _esc(value: object) -> str:
    return _html.escape(str(value))


def _table(
    head: Sequence[str],
    rows: Sequence[Sequence[object]],
    caption: str = "",
    *,
    table_id: str | None = None,
    row_data: Sequence[dict[str, object]] | None = None,
) -> str:
    """
    A table; ``row_data`` gives each row ``data-*`` attributes (what the ideas filters read).
    """
    ident = f" id='{_esc(table_id)}'" if table_id else ""
    out = [f'<div class="table-wrap"><table{ident}>']
    if caption:
        out.append(f"<caption class='muted'>{_esc(caption)}</caption>")
    out.append(
        "<thead><tr>"
        + "".join(f"<th scope='col'>{_esc(h)}</th>" for h in head)
        + "</tr></thead><tbody>"
    )
    for n, row in enumerate(rows):
        data = (
            ""
            if row_data is None
            else "".join(f" data-{k}='{_esc(v)}'" for k, v in row_data[n].items())
        )
        out.append(f"<tr{data}>" + "".join(f"<td>{_esc(c)}</td>" for c in row) + "</tr>")
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
            goal = _target_text(check)
            target = f"<div class='target {css}'>target {_esc(goal)}: {word}</div>"
        out.append(
            f"<div class='card'><div class='label'>{_esc(label)}</div>"
            f"<div class='value'>{_esc(value)}</div>{target}</div>"
        )
    out.append("</section>")
    return "".join(out)


def _target_text(check: dict[str, Any]) -> str:
    """
    A target written as its figure is (a win rate of 0.5 as 50.0%, money to the cent).
    """
    value = check["target"]
    if check["metric"] == "win_rate":
        return _num(float(value), ".1%")
    if check["metric"] == "max_drawdown_pct":
        return _num(float(value), ".2%")
    if isinstance(value, Decimal):
        return _money(value)
    return _num(float(value)) if isinstance(value, float) else str(value)


def _session_date(summary: Summary) -> date:
    """
    The (last) day a period summary covers: its end is the next midnight, and a weekdays
    calendar opens Monday's session on Saturday, so neither bound names it directly.
    """
    assert summary.end is not None
    return (summary.end - timedelta(microseconds=1)).date()


def _span(days: Sequence[Summary]) -> str:
    """
    The session days a report covers, as a reader names them ("2025-01-06 to 2025-04-04"),
    rather than the bounds of its first and last session in instants.
    """
    if not days:
        return "no sessions"
    first, last = _session_date(days[0]), _session_date(days[-1])
    return str(first) if first == last else f"{first} to {last}"


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
    from perftrack.alerts import Targets  # noqa: PLC0415 (the report imports no alerts else)

    if targets is not None and not isinstance(targets, Targets):
        msg = f"'targets' must be a perftrack.Targets or None (got {targets!r})"
        raise InvalidInputError(msg)
    # The bounds as the tracker's queries read them (dates, aware datetimes or ISO text): the
    # equity curve is cut the same way, at the instants the summary's window opens and closes
    # (a weekdays calendar books Saturday to Monday's session: a date is not its day's bounds).
    start = None if start is None else to_date_or_time("start", start)
    end = None if end is None else to_date_or_time("end", end)
    zone = tracker.timezone
    summary = tracker.summary(start=start, end=end)
    trades = tracker.trades(start=start, end=end)
    opens = start if start is None or summary.start is None else summary.start
    closes = end if end is None or summary.end is None else summary.end
    # The zone the page names: times are written in it. The charts are given it rather than
    # read it off their first point (a fixed offset, or UTC for the trades: an hour off across
    # a DST change).
    local = tracker._calendar.zone
    curve = [
        (t, e)
        for t, e in tracker.equity_curve()
        if (opens is None or (t >= opens if isinstance(opens, datetime) else t.date() >= opens))
        and (closes is None or (t < closes if isinstance(closes, datetime) else t.date() <= closes))
    ]
    days = tracker.periods("day", start=start, end=end)
    weeks = tracker.periods("week", start=start, end=end)
    months = tracker.periods("month", start=start, end=end)
    axis = f"Date ({zone})"
    charts = [
        _svg.line_chart(
            curve,
            title="Equity (realized)",
            x_label=axis,
            y_label=f"Equity ({MONEY})",
            chart_id="equity",
            zone=local,
        ),
        _svg.line_chart(
            _underwater(curve),
            title="Underwater: fall below the running peak",
            x_label=axis,
            y_label="Drawdown (% below the peak)",
            y_format=".1%",
            fill_to_zero=True,
            chart_id="underwater",
            zone=local,
        ),
        _svg.bar_chart(
            [(_session_date(d), d.net_pnl) for d in days if d.trades or d.net_pnl],
            title="Daily net P&L",
            x_label=axis,
            y_label=f"Net P&L ({MONEY})",
            chart_id="daily",
        ),
    ]
    # Each month's return is on the equity it opened with: the window may start mid-month,
    # and its months are whole (as the Months table shows them).
    opened = None if not months or months[0].start is None else months[0].start
    years, cells = _monthly_returns(months, summary_start_equity(tracker, opened))
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
            zone=local,
        )
    )
    charts.append(
        _svg.histogram(
            [t.r_multiple for t in trades if t.r_multiple is not None],
            title="R-multiples per trade",
            x_label="R (multiples of the initial risk)",
            chart_id="r-dist",
        )
    )
    charts.append(
        _svg.histogram(
            [t.net_pnl for t in trades],
            title="Net P&L per trade",
            x_label=f"Net P&L ({MONEY})",
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
    ideas_html, ideas_script = _ideas_section(tracker, start, end)
    alerts = tracker.alerts.history()

    def at(when: datetime | None) -> datetime | None:
        return None if when is None else when.astimezone(local)

    alert_rows = [
        [
            a.id,
            a.severity,
            a.rule,
            a.metric,
            a.actual,
            a.target,
            at(a.raised_at),
            at(a.resolved_at) or "active",
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
                t.exit_time.astimezone(local).isoformat(timespec="minutes"),
            ]
            for t in chosen
        ]

    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{_esc(title)}</title><style>{PAGE_CSS}{_svg.CHART_CSS}</style></head><body><main>",
        f"<h1>{_esc(title)}</h1>",
        f"<p class='muted'>{summary.trades} trades · {_esc(_span(days))} · "
        f"times in {_esc(zone)}"
        + (" · <strong>partial input</strong>" if summary.partial else "")
        + "</p>",
        _headline(summary, targets),
        "<h2>Charts</h2><div class='charts'>",
        *(f"<figure>{c}</figure>" for c in charts),
        "</div>",
        *breakdowns,
        periods,
        ideas_html,
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
        "</main>",
        f"<script>{ideas_script}</script>" if ideas_script else "",
        "</body></html>",
    ]
    return "".join(parts)


def _r(value: object) -> str:
    return "-" if value is None else f"{float(value):+.2f}"  # type: ignore[arg-type]


def _ideas_section(tracker: Tracker, start: date | None, end: date | None) -> tuple[str, str]:
    """
    The trade ideas section (overview figures, the latest weekly review's recommendations,
    win rate by confidence, the R distribution, edge, confidence and horizon tables with
    Wilson intervals, and the filterable ideas table) and its script; ("", "") without ideas.
    """
    from perftrack._review import build_weekly_report  # noqa: PLC0415

    ideas = tracker.ideas
    with tracker._lock:
        s = ideas.summary(start=start, end=end)
        if s.ideas == 0:
            return "", ""
        listed = ideas.list(start=start, end=end)
        edges = ideas.breakdown("edge", start=start, end=end)
        confidence = ideas.breakdown("confidence", start=start, end=end)
        horizons = ideas.breakdown("horizon", start=start, end=end)
        review = build_weekly_report(tracker, listed[-1].created_at) if listed else None
    zone = tracker._calendar.zone
    interval = "-" if s.win_rate_low is None else f"{s.win_rate_low:.0%} to {s.win_rate_high:.0%}"
    cards = [
        ("Ideas", f"{s.ideas:,}"),
        ("Won / lost", f"{s.wins:,} / {s.losses:,}"),
        ("Win rate", _num(s.win_rate, ".1%")),
        ("95% interval", interval),
        ("Average R", _r(s.avg_r)),
        ("Total R", _r(s.total_r)),
        ("Expired", f"{s.expired:,} (avg {_r(s.expired_r)} R)"),
        ("Pending / open", f"{s.pending:,} / {s.open:,}"),
        ("Avg MFE / MAE", f"{_r(s.avg_mfe_r)} / {_r(s.avg_mae_r)}"),
        ("Taken", f"{s.taken:,} ({_money(s.taken_net_pnl)})"),
    ]
    out = [
        "<section aria-labelledby='ideas-h'><h2 id='ideas-h'>Trade ideas</h2>",
        '<section class="cards" aria-label="Trade idea figures">',
        *(
            f"<div class='card'><div class='label'>{_esc(label)}</div>"
            f"<div class='value'>{_esc(value)}</div></div>"
            for label, value in cards
        ),
        "</section>",
    ]
    if review is not None:
        out.append(f"<h2>Weekly review {_esc(review.week)}</h2>")
        if review.recommendations:
            out.append(
                "<ul>"
                + "".join(
                    f"<li><strong>{_esc(r.rule)}</strong>: {_esc(r.message)}</li>"
                    for r in review.recommendations
                )
                + "</ul>"
            )
        else:
            out.append(
                "<p>No recommendations: no rule fired (a rule judges only groups of at least "
                f"{review.thresholds.min_sample} ideas).</p>"
            )
    levels = [confidence.get(level) for level in range(6)]
    charts = [
        _svg.category_chart(
            [
                (str(level), None, None, None)
                if c is None
                else (str(level), c.win_rate, c.win_rate_low, c.win_rate_high)
                for level, c in enumerate(levels)
            ],
            title="Idea win rate by confidence (95% interval)",
            x_label="Confidence",
            y_label="Win rate",
            y_include=(0.0, 1.0),
            chart_id="idea-confidence",
        ),
        _svg.histogram(
            [float(i.r_achieved) for i in listed if i.r_achieved is not None],
            title="R achieved per idea",
            x_label="R",
            y_label="Ideas",
            x_format="+.2f",
            # R values cluster on a few levels (-1 at the stop, the target's R): finer bins
            # than the automatic rule keep them apart.
            bins=20,
            chart_id="idea-r-dist",
        ),
    ]
    out += ["<div class='charts'>", *(f"<figure>{c}</figure>" for c in charts), "</div>"]
    for title, rows, first in (
        ("Ideas by edge", edges.items(), "edge"),
        ("Ideas by confidence", sorted(confidence.items()), "confidence"),
        ("Ideas by horizon", sorted(horizons.items()), "horizon"),
    ):
        lines = idea_summary_rows([(str(k), v) for k, v in rows], first)
        out.append(f"<h2>{_esc(title)}</h2>" + _table(lines[0], lines[1:]))
    shown = listed[-IDEA_ROWS:]
    out.append(_ideas_table(shown, len(listed), zone))
    out.append("</section>")
    return "".join(out), IDEAS_JS


def _ideas_table(ideas: Sequence[Any], total: int, zone: Any) -> str:
    """
    The ideas table with its filters: date range, symbol, horizon, status and confidence.
    """

    def options(name: str, values: Sequence[str]) -> str:
        items = "".join(f"<option value='{_esc(v)}'>{_esc(v)}</option>" for v in values)
        return (
            f"<label>{_esc(name.capitalize())} <select data-filter='{name}'>"
            f"<option value=''>all</option>{items}</select></label>"
        )

    days = [i.created_at.astimezone(zone).date().isoformat() for i in ideas]
    symbols = sorted({i.symbol for i in ideas})
    out = [
        "<h2>Ideas</h2><div class='filters' id='idea-filters' role='group' "
        "aria-label='Filter the ideas'>",
        f"<label>From <input type='date' data-filter='from' min='{days[0]}' max='{days[-1]}'>"
        "</label>",
        f"<label>To <input type='date' data-filter='to' min='{days[0]}' max='{days[-1]}'></label>",
        options("symbol", symbols),
        options("horizon", ["day", "swing"]),
        options("status", ["pending", "open", "win", "loss", "expired"]),
        options("confidence", [str(n) for n in range(6)]),
        f"<span id='idea-count' class='muted' aria-live='polite'>{len(ideas):,} ideas</span>",
        "</div>",
    ]
    lines = idea_list_rows(ideas, zone)
    caption = f"the newest {len(ideas):,} of {total:,} ideas" if total > len(ideas) else ""
    data = [
        {
            "date": day,
            "symbol": i.symbol,
            "horizon": i.horizon or "",
            "status": i.status,
            "confidence": i.confidence,
        }
        for i, day in zip(ideas, days, strict=True)
    ]
    out.append(_table(lines[0], lines[1:], caption, table_id="idea-table", row_data=data))
    return "".join(out)


def summary_start_equity(tracker: Tracker, start: datetime | None) -> Decimal:
    """
    The account's realized equity at the instant ``start``: everything realized before it.
    """
    if start is None:
        return tracker.starting_equity
    return tracker.starting_equity + tracker.summary(end=start).net_pnl


_ = Any
