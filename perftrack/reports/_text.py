"""
Summaries as text: a terminal table, JSON and Markdown. Pure functions; thread-safe.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from decimal import Context, Decimal
from typing import Any

from perftrack._model import Summary
from perftrack.alerts import AlertEvent, Targets

__all__ = [
    "IDEA_COLUMNS",
    "IDEA_LIST_COLUMNS",
    "VARIANCES",
    "aligned",
    "idea_list_rows",
    "idea_summary_rows",
    "markdown_table",
    "markdown_text",
    "summary_json",
    "summary_markdown",
    "summary_table",
    "variances",
]

CENT = Decimal("0.01")

#: (summary field, target field, "min" or "max"): what a target is compared with.
VARIANCES = (
    ("win_rate", "min_win_rate", "min"),
    ("payoff_ratio", "min_risk_reward", "min"),
    ("profit_factor", "min_profit_factor", "min"),
    ("max_drawdown_pct", "max_drawdown_pct", "max"),
    ("max_drawdown", "max_drawdown", "max"),
    ("max_loss_streak", "max_loss_streak", "max"),
)


def variances(summary: Summary, targets: Targets | None) -> list[dict[str, Any]]:
    """
    Each configured target beside the summary's figure: actual, target, variance
    (actual - target) and whether it is breached. Undefined figures are not breaches.
    """
    if targets is None:
        return []
    # A strategy's row is held to its [targets.strategy.NAME] table where that sets a target.
    own = targets.per_strategy.get(summary.scope.get("strategy", ""))

    def goal(name: str) -> Any:
        mine = None if own is None else getattr(own, name)
        return getattr(targets, name) if mine is None else mine

    out = []
    for field, target_field, kind in VARIANCES:
        target = goal(target_field)
        actual = getattr(summary, field)
        if target is None:
            continue
        breached = None
        variance = None
        if actual is not None:
            variance = actual - type(actual)(target)
            breached = actual < target if kind == "min" else actual > target
        out.append(
            {
                "metric": field,
                "target": target,
                "actual": actual,
                "variance": variance,
                "breached": bool(breached),
            }
        )
    daily = goal("max_daily_loss")
    if daily is not None and summary.period == "day":
        loss = -summary.net_pnl
        out.append(
            {
                "metric": "daily_loss",
                "target": daily,
                "actual": loss,
                "variance": loss - daily,
                "breached": loss > daily,
            }
        )
    return out


def cents(value: Decimal) -> Decimal:
    """
    ``value`` to the cent, in a context as wide as the amount: the caller's default 28 digits
    cannot quantize 1e26 and up (InvalidOperation), and money is accepted up to 1e100. Zero
    has no sign: "-0.00" (a break-even short's Decimal("-0"), a loss under half a cent) would
    read as a loss, and the charts write 0.00.
    """
    rounded = Context(prec=max(28, value.adjusted() + 4)).quantize(value, CENT)
    return rounded.copy_abs() if rounded.is_zero() else rounded


def _money(value: Decimal | None) -> str:
    return "-" if value is None else f"{cents(value):,}"


def _ratio(value: float | None, percent: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:.1%}" if percent else f"{value:.2f}"


_COLUMNS: tuple[tuple[str, Callable[[Summary], str]], ...] = (
    ("trades", lambda s: str(s.trades)),
    ("win%", lambda s: _ratio(s.win_rate, True)),
    ("net P&L", lambda s: _money(s.net_pnl)),
    ("avg win", lambda s: _money(s.avg_win)),
    ("avg loss", lambda s: _money(s.avg_loss)),
    ("avg R:R", lambda s: _ratio(s.payoff_ratio)),
    ("PF", lambda s: _ratio(s.profit_factor)),
    ("max DD", lambda s: _money(s.max_drawdown)),
    ("DD%", lambda s: _ratio(s.max_drawdown_pct, True)),
    ("sharpe", lambda s: _ratio(s.sharpe)),
    ("streak", lambda s: f"{s.current_streak:+d}"),
    ("max W/L", lambda s: f"{s.max_win_streak}/{s.max_loss_streak}"),
)


def aligned(lines: Sequence[Sequence[str]]) -> str:
    """
    Rows of text cells as a plain-text table: the first row is the header, underlined; the
    first column is left-aligned, the others right-aligned.
    """
    widths = [max(len(row[i]) for row in lines) for i in range(len(lines[0]))]
    out = []
    for n, row in enumerate(lines):
        out.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def summary_table(rows: Sequence[tuple[str, Summary]]) -> str:
    """
    A plain-text table, one row per (label, summary).
    """
    lines = [("window", *(name for name, _ in _COLUMNS))]
    lines += [(label, *(cell(s) for _, cell in _COLUMNS)) for label, s in rows]
    return aligned(lines)


def _r(value: Any) -> str:
    return "-" if value is None else f"{float(value):+.2f}"


def _interval(s: Any) -> str:
    if s.win_rate_low is None or s.win_rate_high is None:
        return "-"
    return f"{s.win_rate_low:.0%}-{s.win_rate_high:.0%}"


#: (header, cell) of the idea summary table.
IDEA_COLUMNS: tuple[tuple[str, Callable[[Any], str]], ...] = (
    ("ideas", lambda s: str(s.ideas)),
    ("pending", lambda s: str(s.pending)),
    ("open", lambda s: str(s.open)),
    ("won", lambda s: str(s.wins)),
    ("lost", lambda s: str(s.losses)),
    ("expired", lambda s: str(s.expired)),
    ("win%", lambda s: _ratio(s.win_rate, True)),
    ("95% interval", _interval),
    ("avg R", lambda s: _r(s.avg_r)),
    ("total R", lambda s: _r(s.total_r)),
    ("best R", lambda s: _r(s.best_r)),
    ("worst R", lambda s: _r(s.worst_r)),
    ("taken", lambda s: str(s.taken)),
)

#: (header, cell) of the idea list table.
IDEA_LIST_COLUMNS: tuple[tuple[str, Callable[[Any], str]], ...] = (
    ("idea", lambda i: str(i.idea_id)),
    ("created", lambda i: i.created_at.isoformat(timespec="minutes")),
    ("symbol", lambda i: str(i.symbol)),
    ("side", lambda i: str(i.side)),
    ("horizon", lambda i: i.horizon or "-"),
    ("conf", lambda i: str(i.confidence)),
    ("edges", lambda i: ",".join(i.edges) or "-"),
    ("status", lambda i: str(i.status)),
    ("R", lambda i: _r(i.r_achieved)),
    ("MFE R", lambda i: _r(i.mfe_r)),
    ("MAE R", lambda i: _r(i.mae_r)),
)


def idea_summary_rows(
    rows: Sequence[tuple[str, Any]], first: str = "window"
) -> list[tuple[str, ...]]:
    """
    The header and one row of text cells per (label, IdeaSummary).
    """
    lines = [(first, *(name for name, _ in IDEA_COLUMNS))]
    lines += [(str(label), *(cell(s) for _, cell in IDEA_COLUMNS)) for label, s in rows]
    return lines


def idea_list_rows(ideas: Sequence[Any], zone: Any = None) -> list[tuple[str, ...]]:
    """
    The header and one row of text cells per Idea; creation times in ``zone`` when given.
    """

    def created(idea: Any) -> str:
        when = idea.created_at if zone is None else idea.created_at.astimezone(zone)
        return str(when.isoformat(timespec="minutes"))

    columns = [(n, created if n == "created" else cell) for n, cell in IDEA_LIST_COLUMNS]
    lines = [tuple(name for name, _ in columns)]
    lines += [tuple(cell(i) for _, cell in columns) for i in ideas]
    return lines


#: Line breaks and other control characters (in Markdown a line break ends a row or heading),
#: and the bidi controls, which would reorder the rest of the line: the figures beside a name.
_MD_BREAKS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
#: What makes Markdown text more than text: escapes, cell ends, HTML tags, links.
_MD_MARKUP = re.compile(r"([\\|<\[\]])")


def markdown_text(text: str) -> str:
    """
    ``text`` (a name: it may hold anything) as Markdown text on one line: line breaks become
    spaces, and backslashes, pipes, "<" and brackets are escaped, so it neither ends a table
    row or a heading, nor opens a cell, nor injects HTML or a link.
    """
    return _MD_MARKUP.sub(r"\\\1", _MD_BREAKS.sub(" ", text))


def markdown_table(lines: Sequence[Sequence[str]]) -> str:
    """
    Rows of text cells (the first is the header) as a Markdown table.
    """
    out = ["| " + " | ".join(lines[0]) + " |", "|" + "---|" * len(lines[0])]
    out += ["| " + " | ".join(markdown_text(c) for c in row) + " |" for row in lines[1:]]
    return "\n".join(out)


def summary_json(
    summary: Summary,
    *,
    window: str,
    targets: Targets | None = None,
    alerts: Sequence[AlertEvent] = (),
) -> dict[str, Any]:
    """
    The JSON document of one summary (schema: perftrack/schemas/summary.schema.json).
    """
    from perftrack._model import json_safe  # noqa: PLC0415

    return {
        "window": window,
        "summary": summary.to_dict(),
        "targets": json_safe(variances(summary, targets)),
        "alerts": [a.to_dict() for a in alerts],
    }


def summary_markdown(
    summary: Summary,
    *,
    title: str,
    targets: Targets | None = None,
    alerts: Sequence[AlertEvent] = (),
) -> str:
    """
    A Markdown page with the sections Overview, Metrics and Alerts.
    """
    s = summary
    lines = [f"# {markdown_text(title)}", "", "## Overview", ""]
    start = "-" if s.start is None else s.start.isoformat()
    end = "-" if s.end is None else s.end.isoformat()
    lines.append(f"Window: {start} to {end}" + (" (partial input)" if s.partial else ""))
    lines.append("")
    if s.trades == 0:
        lines += ["No trades in window", ""]
    else:
        lines += [
            f"{s.trades} trades, {s.wins} won, {s.losses} lost, {s.breakeven} even; "
            f"net P&L {_money(s.net_pnl)}.",
            "",
        ]
    lines += ["## Metrics", "", "| metric | value | target | variance |", "|---|---|---|---|"]
    checks = {v["metric"]: v for v in variances(s, targets)}
    rows = [
        ("win_rate", _ratio(s.win_rate, True)),
        ("net_pnl", _money(s.net_pnl)),
        *([("daily_loss", _money(-s.net_pnl))] if "daily_loss" in checks else []),
        ("fees", _money(s.fees)),
        ("avg_win", _money(s.avg_win)),
        ("avg_loss", _money(s.avg_loss)),
        ("payoff_ratio", _ratio(s.payoff_ratio)),
        ("profit_factor", _ratio(s.profit_factor)),
        ("expectancy", _money(s.expectancy)),
        ("max_drawdown", _money(s.max_drawdown)),
        ("max_drawdown_pct", _ratio(s.max_drawdown_pct, True)),
        ("current_streak", f"{s.current_streak:+d}"),
        ("max_win_streak", str(s.max_win_streak)),
        ("max_loss_streak", str(s.max_loss_streak)),
        ("avg_r_multiple", _ratio(s.avg_r_multiple)),
        ("sharpe", _ratio(s.sharpe)),
        ("sortino", _ratio(s.sortino)),
        ("sqn", _ratio(s.sqn)),
    ]
    for name, value in rows:
        check = checks.get(name)
        target = variance = ""
        if check:
            target, variance = _target_cells(check)
            if check["breached"]:
                variance += " (breached)"
        lines.append(f"| {name} | {value} | {target} | {variance} |")
    lines += ["", "## Alerts", ""]
    if alerts:
        # A custom rule's key and metric are a bot's text: written as text, on one line.
        lines += [
            f"- {markdown_text(a.severity)}: {markdown_text(a.rule)} "
            f"({markdown_text(a.metric)} {a.actual} against {a.target}), "
            f"raised {a.raised_at}" + ("" if a.active else f", resolved {a.resolved_at}")
            for a in alerts
        ]
    else:
        lines.append("No alerts.")
    return "\n".join(lines) + "\n"


#: The metrics shown as percentages: their targets and variances are shown so too.
_PERCENT_METRICS = ("win_rate", "max_drawdown_pct")


def _target_cells(check: dict[str, Any]) -> tuple[str, str]:
    """
    (target, variance) of a Markdown metrics row, in the units of its value column: money
    exact to the cent, percentages as percentages, other ratios to 4 significant digits.
    """
    target, variance = check["target"], check["variance"]
    if check["metric"] in _PERCENT_METRICS:
        shown = _ratio(float(target), True)
        return shown, "-" if variance is None else f"{variance:+.1%}"
    if variance is None:
        return str(target), "-"
    if isinstance(variance, Decimal):
        return str(target), f"{cents(variance):+,}"
    return str(target), f"{variance:+.4g}"


def dumps(document: dict[str, Any]) -> str:
    """
    Deterministic JSON (sorted keys), so unchanged inputs give the same bytes.
    """
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
