"""
Summaries as text: a terminal table, JSON and Markdown. Pure functions; thread-safe.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from perftrack._model import Summary
from perftrack.alerts import AlertEvent, Targets

__all__ = ["VARIANCES", "summary_json", "summary_markdown", "summary_table", "variances"]

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
    out = []
    for field, target_field, kind in VARIANCES:
        target = getattr(targets, target_field)
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
    if targets.max_daily_loss is not None and summary.period == "day":
        loss = -summary.net_pnl
        out.append(
            {
                "metric": "daily_loss",
                "target": targets.max_daily_loss,
                "actual": loss,
                "variance": loss - targets.max_daily_loss,
                "breached": loss > targets.max_daily_loss,
            }
        )
    return out


def _money(value: Decimal | None) -> str:
    return "-" if value is None else f"{value.quantize(CENT):,}"


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


def summary_table(rows: Sequence[tuple[str, Summary]]) -> str:
    """
    A plain-text table, one row per (label, summary).
    """
    lines = [("window", *(name for name, _ in _COLUMNS))]
    lines += [(label, *(cell(s) for _, cell in _COLUMNS)) for label, s in rows]
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
    lines = [f"# {title}", "", "## Overview", ""]
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
            target = str(check["target"])
            variance = "-" if check["variance"] is None else f"{check['variance']:+.4g}"
            if check["breached"]:
                variance += " (breached)"
        lines.append(f"| {name} | {value} | {target} | {variance} |")
    lines += ["", "## Alerts", ""]
    if alerts:
        lines += [
            f"- {a.severity}: {a.rule} ({a.metric} {a.actual} against {a.target}), "
            f"raised {a.raised_at}" + ("" if a.active else f", resolved {a.resolved_at}")
            for a in alerts
        ]
    else:
        lines.append("No alerts.")
    return "\n".join(lines) + "\n"


def dumps(document: dict[str, Any]) -> str:
    """
    Deterministic JSON (sorted keys), so unchanged inputs give the same bytes.
    """
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
