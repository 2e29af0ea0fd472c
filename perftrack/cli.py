"""
The ``perftrack`` command: summaries, files for dashboards, alerts, imports and the demo.

Exit codes: 0 all is well, 2 a target is breached, 1 an error (one line on stderr; the
traceback only with ``--debug``). Every command reads the store given by ``--data`` (a
directory, ``s3://bucket/prefix`` or ``memory://``; default ``./perftrack-data`` or
``PERFTRACK_DATA``) and ``--account`` (default ``main``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
from collections.abc import Sequence
from datetime import UTC, date, timedelta
from pathlib import Path
from typing import Any, NoReturn

from perftrack._log import before_first_line

__all__ = ["main"]

WINDOWS = {"daily": "day", "weekly": "week", "monthly": "month", "all": "all"}
EXIT_OK, EXIT_ERROR, EXIT_BREACH = 0, 1, 2


class CommandError(Exception):
    """
    A problem the command reports in one line and exit code 1.
    """


class _Parser(argparse.ArgumentParser):
    """
    argparse, with usage errors on one line and exit code 1: argparse's own 2 would read as
    "a target is breached".
    """

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _common(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """
    The options every command takes, accepted before and after the command name. Only the
    top level sets defaults: a subcommand's default would overwrite what was given before it.
    """
    suppress: dict[str, Any] = {} if defaults else {"default": argparse.SUPPRESS}
    parser.add_argument(
        "--data",
        **(suppress or {"default": os.environ.get("PERFTRACK_DATA", "perftrack-data")}),
        help="the store: a directory, s3://bucket/prefix or memory:// "
        "(default ./perftrack-data, env PERFTRACK_DATA)",
    )
    parser.add_argument(
        "--account", **(suppress or {"default": "main"}), help="the account (default main)"
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        **(suppress or {"default": False}),
        help="show tracebacks on errors",
    )


def _parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    _common(common, defaults=False)
    parser = _Parser(prog="perftrack", description="Trading performance from a perftrack store.")
    _common(parser, defaults=True)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("summary", parents=[common], help="print the metrics of a window")
    p.add_argument("--window", choices=list(WINDOWS), default="all")
    p.add_argument("--start", help="first day (YYYY-MM-DD), inclusive")
    p.add_argument("--end", help="last day (YYYY-MM-DD), inclusive")
    p.add_argument("--strategy")
    p.add_argument("--symbol")
    p.add_argument("--by", choices=["strategy", "symbol", "side", "tag"])
    p.add_argument("--format", choices=["table", "json", "markdown"], default="table")
    p.add_argument("--export", metavar="DIR", help="also write the JSON and Markdown there")
    p.add_argument(
        "--targets",
        metavar="FILE",
        help="targets TOML: show variances, exit 2 when one is breached",
    )
    p.add_argument(
        "--backfill",
        type=int,
        metavar="N",
        help="rebuild the files of the last N days (as the backfill command)",
    )

    p = sub.add_parser(
        "backfill",
        parents=[common],
        help="write daily, weekly and monthly summaries of the last N days",
    )
    p.add_argument("days", type=int)
    p.add_argument("--targets", metavar="FILE")

    p = sub.add_parser("alerts", parents=[common], help="list or acknowledge alerts")
    p.add_argument("--active", action="store_true", help="only the unresolved ones")
    p.add_argument("--ack", metavar="ID", help="acknowledge an alert")
    p.add_argument("--by", help="who acknowledges")
    p.add_argument("--targets", metavar="FILE", help="the targets the account runs with")

    sub.add_parser("verify", parents=[common], help="check every stored object's checksum")

    p = sub.add_parser("report", parents=[common], help="write the HTML report")
    p.add_argument("--html", required=True, metavar="FILE")
    p.add_argument(
        "--window",
        choices=list(WINDOWS),
        default="all",
        help="the period containing the newest event (default: all time)",
    )
    p.add_argument("--start", help="first day (YYYY-MM-DD)")
    p.add_argument("--end", help="last day (YYYY-MM-DD)")
    p.add_argument("--targets", metavar="FILE")
    p.add_argument("--title", default="Trading performance")

    p = sub.add_parser("export", parents=[common], help="export trades or summaries")
    p.add_argument("what", choices=["trades", "summaries", "returns"])
    p.add_argument("--format", choices=["csv", "json", "jsonl", "xlsx"], default="csv")
    p.add_argument(
        "--period",
        choices=["day", "week", "month"],
        default="day",
        help="summaries: one row per period (default day)",
    )
    p.add_argument("--start", help="first day (YYYY-MM-DD)")
    p.add_argument("--end", help="last day (YYYY-MM-DD)")
    p.add_argument("--out", metavar="FILE", help="default: standard output")

    p = sub.add_parser(
        "demo",
        parents=[common],
        help="run the simulated bot into the store, then print and write reports",
    )
    p.add_argument("--days", type=int, default=90)
    p.add_argument("--seed", type=int, default=7)

    p = sub.add_parser(
        "ideas",
        parents=[common],
        help="trade ideas: list them, summarise them, or print the weekly review",
        description="list: the ideas, newest last; summary: their outcomes (--by to break "
        "them down); report: the weekly review with its recommendations.",
    )
    p.add_argument("action", choices=["list", "summary", "report"])
    p.add_argument(
        "--week",
        metavar="YYYY-Www",
        help="only the ideas created in this ISO week (report: default the newest event's)",
    )
    p.add_argument("--start", help="list, summary: first day (YYYY-MM-DD), inclusive")
    p.add_argument("--end", help="list, summary: last day (YYYY-MM-DD), inclusive")
    p.add_argument("--status", choices=["pending", "open", "win", "loss", "expired"])
    p.add_argument("--symbol")
    p.add_argument("--horizon", choices=["day", "swing"])
    p.add_argument("--confidence", type=int, choices=range(6), metavar="0-5")
    p.add_argument("--edge")
    p.add_argument("--by", choices=["edge", "confidence", "horizon", "symbol", "side"])
    p.add_argument("--format", choices=["table", "json", "markdown"], default="table")
    p.add_argument(
        "--targets",
        metavar="FILE",
        help="report: a targets TOML whose [review] table sets the thresholds",
    )
    p.add_argument("--export", metavar="DIR", help="report: also write the JSON and Markdown")

    p = sub.add_parser(
        "import",
        parents=[common],
        help="load history from another tool, or idea records (import ideas FILE)",
    )
    p.add_argument(
        "format",
        choices=["jsonl", "json", "xlsx", "freqtrade", "mt5", "csv", "tdameritrade", "ideas"],
    )
    p.add_argument("files", nargs="+")
    p.add_argument(
        "--times-in",
        metavar="ZONE",
        help="ideas, mt5, tdameritrade: the zone of times written without a UTC offset "
        "(default: ideas an error, mt5 UTC, tdameritrade America/New_York)",
    )
    p.add_argument(
        "--starting-equity", help="for a new account (default: from the file, else 10000)"
    )
    p.add_argument("--timezone", default="UTC", help="for a new account")
    p.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FIELD=COLUMN",
        help="csv: which column holds a record_trade field",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """
    Run the command; returns its exit code.
    """
    args = _parser().parse_args(argv)
    # Configured only if something logs: a run that logs nothing never imports structlog.
    before_first_line(lambda: _configure_logging(args.debug))
    try:
        return int(globals()[f"_cmd_{args.command}"](args))
    except KeyboardInterrupt:
        return EXIT_ERROR
    except BrokenPipeError:
        # The reader stopped reading (`| head`): nothing to report. Standard output goes to
        # the null device so that the interpreter's last flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR
    except Exception as e:  # one clear line, unless asked for the traceback
        if args.debug:
            raise
        kind = "" if isinstance(e, CommandError) else f"{type(e).__name__}: "
        message = " ".join(str(e).split())  # one line, whatever the exception holds
        print(f"perftrack {args.command}: {kind}{message}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        before_first_line(None)  # what this run did not log leaves the process as it was


# -- helpers -----------------------------------------------------------------------------------


def _configure_logging(debug: bool) -> None:
    """
    Keep the library's log lines off standard output, which carries the JSON and tables that
    scripts read: the command is an application, so it may configure structlog, unless the
    embedding program already did. Restoring an account with --targets evaluates its history
    and raises each alert again; the command prints alerts itself, so their WARN lines show
    only with --debug.
    """
    import logging  # noqa: PLC0415

    import structlog  # noqa: PLC0415

    if structlog.is_configured():
        return
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.DEBUG if debug else logging.ERROR
        ),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )


def _store(args: argparse.Namespace) -> Any:
    from perftrack.stores import open_store  # noqa: PLC0415 (keep start-up fast)

    return open_store(args.data)


def _read(args: argparse.Namespace, targets: Any = None, *, writable: bool = False) -> Any:
    """
    The account's tracker, restored read-only (a bot may hold the account) unless
    ``writable``. An account with nothing stored is an error: a mistyped --data or --account
    must not print an empty summary and exit 0.
    """
    import perftrack as pt  # noqa: PLC0415

    store = _existing(args)
    options = {"targets": targets} if targets is not None else {}
    return pt.Tracker.restore(store, account=args.account, read_only=not writable, **options)


def _existing(args: argparse.Namespace) -> Any:
    """
    The store, when the account has something stored in it.
    """
    from perftrack._persist import segments, snapshots  # noqa: PLC0415

    store = _store(args)
    if not segments(store, args.account) and not snapshots(store, args.account):
        raise CommandError(f"no account {args.account!r} in {args.data} (nothing stored there)")
    return store


def _alerts_in(alerts: Sequence[Any], summary: Any) -> list[Any]:
    """
    The alerts raised inside a summary's window, so a day's file lists that day's alerts and
    does not change when a later one is raised.
    """
    if summary.start is None and summary.end is None:
        return list(alerts)
    return [
        a
        for a in alerts
        if a.raised_at is not None
        and (summary.start is None or a.raised_at >= summary.start)
        and (summary.end is None or a.raised_at < summary.end)
    ]


def _write_atomic(path: Path, data: bytes) -> None:
    """
    Write ``path`` whole or not at all: a temporary file beside it, then a rename.
    """
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def _targets(path: str | None) -> Any:
    if path is None:
        return None
    from perftrack.alerts import Targets  # noqa: PLC0415

    return Targets.from_toml(path)


def _day(text: str | None, name: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--{name} must be a date YYYY-MM-DD (got {text!r})") from None


# -- summary -----------------------------------------------------------------------------------


def _cmd_summary(args: argparse.Namespace) -> int:
    from perftrack.reports._text import (  # noqa: PLC0415
        dumps,
        summary_json,
        summary_markdown,
        summary_table,
        variances,
    )

    if args.backfill is not None:
        return _backfill(args, args.backfill)
    targets = _targets(args.targets)
    tracker = _read(args, targets)
    rows = _summary_rows(tracker, args)
    alerts = tracker.alerts.history()
    if args.format == "table":
        print(summary_table(rows))
        for label, s in rows:
            for v in variances(s, targets):
                mark = "BREACHED" if v["breached"] else "ok"
                print(
                    f"  {label} {v['metric']}: {_figure(v['actual'])} vs target "
                    f"{_figure(v['target'])}, variance {_figure(v['variance'], signed=True)} "
                    f"({mark})"
                )
    elif args.format == "json":
        docs = [
            summary_json(s, window=label, targets=targets, alerts=_alerts_in(alerts, s))
            for label, s in rows
        ]
        print(dumps(docs[0] if len(docs) == 1 else {"summaries": docs}), end="")
    else:
        for label, s in rows:
            print(
                summary_markdown(
                    s, title=f"{label} summary", targets=targets, alerts=_alerts_in(alerts, s)
                )
            )
    if args.export:
        directory = Path(args.export)
        directory.mkdir(parents=True, exist_ok=True)
        taken: set[str] = set()
        for label, s in rows:
            name = label.replace("/", "-").replace(" ", "_")
            if name in taken:
                # "mean rev" after "mean_rev": its own file, not written over the other's.
                digest = hashlib.blake2s(label.encode("utf-8", "surrogatepass"), digest_size=4)
                name += f"-{digest.hexdigest()}"
                # (An earlier row may have had that name too: "a b-<digest>" as "a_b-<digest>".)
                base, n = name, 2
                while name in taken:
                    name, n = f"{base}-{n}", n + 1
            taken.add(name)
            _write_atomic(
                directory / f"{name}.json",
                dumps(
                    summary_json(s, window=label, targets=targets, alerts=_alerts_in(alerts, s))
                ).encode(),
            )
            _write_atomic(
                directory / f"{name}.md",
                summary_markdown(
                    s, title=f"{label} summary", targets=targets, alerts=_alerts_in(alerts, s)
                ).encode(),
            )
    breached = any(v["breached"] for _, s in rows for v in variances(s, targets))
    return EXIT_BREACH if breached else EXIT_OK


def _figure(value: Any, *, signed: bool = False) -> str:
    """
    A figure for the terminal: ratios to four significant digits, money exact.
    """
    if value is None:
        return "-"
    if isinstance(value, float):
        return format(value, "+.4g" if signed else ".4g")
    return f"{value:+}" if signed else str(value)


def _summary_rows(tracker: Any, args: argparse.Namespace) -> list[tuple[str, Any]]:
    """
    (label, summary) per row the summary command prints: the window (``all``, bounded by
    --start/--end), the period holding the newest event, or every period in --start..--end;
    with --by, one row per value of that dimension in each of those windows. --strategy and
    --symbol filter every row.
    """
    period = WINDOWS[args.window]
    start, end = _day(args.start, "start"), _day(args.end, "end")
    filters = {"strategy": args.strategy, "symbol": args.symbol}
    windows: list[tuple[str, dict[str, Any]]]
    if period == "all":
        windows = [("all", {"start": start, "end": end})]
    elif start or end:
        windows = [
            (_label(s, period), {"period": period, "at": _label_day(s)})
            for s in tracker.periods(period, start=start, end=end)
        ]
    else:
        # The newest event is what "now" is for a stored account.
        current = tracker.summary(period, at=tracker.clock)
        windows = [(_label(current, period), {"period": period, "at": tracker.clock})]
    rows: list[tuple[str, Any]] = []
    for label, window in windows:
        if not args.by:
            rows.append((label, tracker.summary(**window, **filters)))
            continue
        for value in tracker.breakdown(args.by, **window):
            if filters.get(args.by) not in (None, value):
                continue  # --by symbol --symbol X: only X's row
            name = value if len(windows) == 1 else f"{label} {value}"
            rows.append((name, tracker.summary(**window, **{**filters, args.by: value})))
    return rows


def _label_day(summary: Any) -> date | None:
    """
    The last session day a period summary covers (its end is the next midnight).
    """
    if summary.end is None:
        return None
    last: date = (summary.end - timedelta(microseconds=1)).date()
    return last


def _label(summary: Any, period: str) -> str:
    """
    The session day, ISO week or month a summary covers, named from its last instant (a
    weekdays calendar opens Monday's session on Saturday, so its start would mislead).
    """
    last = _label_day(summary)
    if last is None:
        return period
    if period == "month":
        return f"{last:%Y-%m}"
    if period == "week":
        return f"{last:%G-W%V}"
    return str(last.isoformat())


# -- backfill ----------------------------------------------------------------------------------


def _cmd_backfill(args: argparse.Namespace) -> int:
    return _backfill(args, args.days)


def _backfill(args: argparse.Namespace, days: int, targets: Any = None) -> int:
    """
    Write ``performance/{window}-summary-YYYY-MM-DD.json`` and ``.md`` for the last ``days``
    session days before the newest event, and the weeks and months they fall in. A file is
    rewritten only when its content changed; every write is atomic (the store's put).
    """
    from perftrack.reports._text import dumps, summary_json, summary_markdown  # noqa: PLC0415
    from perftrack.stores import validate_key  # noqa: PLC0415

    if days <= 0:
        raise CommandError(f"N must be a positive number of days (got {days})")
    if targets is None:
        targets = _targets(getattr(args, "targets", None))
    store = _store(args)
    tracker = _read(args, targets)
    if tracker.clock is None:
        print("no events in the store: nothing to write", file=sys.stderr)
        return EXIT_OK
    prefix = "performance/" if args.account == "main" else f"performance/{args.account}/"
    last = tracker.clock.astimezone(tracker._calendar.zone).date()
    wanted: dict[tuple[str, date], Any] = {}
    for n in range(days):
        day = last - timedelta(days=n)
        for window in ("day", "week", "month"):
            summary = tracker.summary(window, at=day)
            if summary.start is not None:
                label = _label(summary, window)
                wanted.setdefault((window, date.fromisoformat(_first_day(label, window))), summary)
    alerts = tracker.alerts.history()
    written = unchanged = 0
    show_progress = sys.stderr.isatty() and len(wanted) > 20
    names = {"day": "daily", "week": "weekly", "month": "monthly"}
    for k, ((window, first_day), summary) in enumerate(sorted(wanted.items())):
        stem = f"{prefix}{names[window]}-summary-{first_day.isoformat()}"
        documents = {
            f"{stem}.json": dumps(
                summary_json(
                    summary,
                    window=names[window],
                    targets=targets,
                    alerts=_alerts_in(alerts, summary),
                )
            ).encode(),
            f"{stem}.md": summary_markdown(
                summary,
                title=f"{names[window]} summary {first_day}",
                targets=targets,
                alerts=_alerts_in(alerts, summary),
            ).encode(),
        }
        for key, data in documents.items():
            validate_key(key)
            if not key.startswith(prefix):  # nothing may leave <data>/performance/
                raise CommandError(f"refusing to write outside {prefix}: {key}")
            if _same(store, key, data):
                unchanged += 1
                continue
            store.put(key, data)
            written += 1
        if show_progress:
            done = (k + 1) * 30 // len(wanted)
            print(
                f"\r[{'#' * done}{'.' * (30 - done)}] {k + 1}/{len(wanted)}",
                end="",
                file=sys.stderr,
            )
    if show_progress:
        print(file=sys.stderr)
    print(f"{written} files written, {unchanged} unchanged under {args.data}/{prefix}")
    return EXIT_OK


def _first_day(label: str, window: str) -> str:
    if window == "month":
        return f"{label}-01"
    if window == "week":
        return date.fromisocalendar(int(label[:4]), int(label[6:]), 1).isoformat()
    return label


def _same(store: Any, key: str, data: bytes) -> bool:
    from perftrack.errors import MissingKeyError  # noqa: PLC0415

    try:
        old = store.get(key)
    except MissingKeyError:
        return False
    return hashlib.sha256(old).digest() == hashlib.sha256(data).digest()


# -- alerts, verify ----------------------------------------------------------------------------


def _cmd_alerts(args: argparse.Namespace) -> int:
    targets = _targets(args.targets)
    if args.ack:
        with _read(args, targets, writable=True) as tracker:
            alert = tracker.alerts.acknowledge(args.ack, by=args.by)
        print(f"acknowledged {alert.id} ({alert.rule})")
        return EXIT_OK
    tracker = _read(args, targets)
    alerts = tracker.alerts.active() if args.active else tracker.alerts.history()
    if not alerts:
        print("no alerts")
    for a in alerts:
        state = "active" if a.active else f"resolved {a.resolved_at}"
        ack = f", acknowledged by {a.acknowledged_by}" if a.acknowledged_at else ""
        print(
            f"{a.id}  {a.severity:8} {a.rule}: {a.metric} {a.actual} vs {a.target}  "
            f"raised {a.raised_at}, {state}{ack}"
        )
    return EXIT_BREACH if any(a.active for a in alerts) else EXIT_OK


def _cmd_verify(args: argparse.Namespace) -> int:
    from perftrack._persist import verify  # noqa: PLC0415

    problems = verify(_existing(args), args.account)
    for line in problems:
        print(line)
    print("ok" if not problems else f"{len(problems)} problems")
    return EXIT_OK if not problems else EXIT_ERROR


# -- report, export ----------------------------------------------------------------------------


def _cmd_report(args: argparse.Namespace) -> int:
    from perftrack import reports  # noqa: PLC0415

    targets = _targets(args.targets)
    tracker = _read(args, targets)
    start, end = _day(args.start, "start"), _day(args.end, "end")
    if args.window != "all" and tracker.clock is not None:
        window = tracker.summary(WINDOWS[args.window], at=tracker.clock)
        if window.start is not None and window.end is not None:
            start = (
                (window.end - timedelta(microseconds=1)).date()
                if args.window == "daily"
                else _first_session(window, tracker.calendar)
            )
            end = (window.end - timedelta(microseconds=1)).date()
    page = reports.html(tracker, title=args.title, start=start, end=end, targets=targets)
    out = Path(args.html)
    _write_atomic(out, page.encode())
    print(f"{out} ({len(page) / 1024:,.0f} KB)")
    return EXIT_OK


def _first_session(summary: Any, calendar: str) -> date:
    """
    The first session day of a week or month: its first day, except that a weekdays
    calendar has no weekend sessions (its week opens Monday's session on Saturday).
    """
    first: date = summary.start.date()
    if calendar != "weekdays" or first.weekday() < 5:
        return first
    return first + timedelta(days=7 - first.weekday())


def _cmd_export(args: argparse.Namespace) -> int:
    from perftrack import reports  # noqa: PLC0415

    tracker = _read(args)
    out = Path(args.out) if args.out else None
    if args.what == "returns":
        if args.format != "csv":
            raise CommandError(f"export returns writes CSV only (got --format {args.format})")
        data = reports.daily_returns_csv(
            tracker, start=_day(args.start, "start"), end=_day(args.end, "end")
        ).encode()
        if out is not None:
            _write_atomic(out, data)
    else:
        data = reports.export(
            tracker,
            args.what,
            args.format,
            out,
            start=_day(args.start, "start"),
            end=_day(args.end, "end"),
            period=args.period,
        )
    if out is None:
        sys.stdout.buffer.write(data)
    return EXIT_OK


# -- import, demo ------------------------------------------------------------------------------


def _cmd_import(args: argparse.Namespace) -> int:
    from perftrack._persist import _collector_paused  # noqa: PLC0415

    if args.format == "ideas":
        return _import_ideas(args)
    # Everything the import builds lives until the process ends: the cyclic collector would
    # only walk the growing heap again and again (a tenth of a large import's time).
    with _collector_paused():
        return _import_trades(args)


def _import_trades(args: argparse.Namespace) -> int:
    import perftrack as pt  # noqa: PLC0415
    from perftrack import importers  # noqa: PLC0415
    from perftrack.importers._base import load_into_store  # noqa: PLC0415

    if len(args.files) > 1 and args.format != "jsonl":
        raise CommandError(f"import {args.format} reads one file (got {len(args.files)})")
    if args.format == "jsonl":
        result = importers.read_jsonl(args.files)
    elif args.format == "json":
        result = importers.read_json(args.files[0])
    elif args.format == "xlsx":
        result = importers.read_xlsx(args.files[0])
    elif args.format == "freqtrade":
        result = importers.read_freqtrade(args.files[0])
    elif args.format == "mt5":
        result = importers.read_mt5(args.files[0], timezone=_zone(args.times_in) or UTC)
    elif args.format == "tdameritrade":
        result = importers.read_td_ameritrade(args.files[0], timezone=_zone(args.times_in))
    else:
        bad = [item for item in args.map if "=" not in item]
        if bad:
            raise CommandError(f"--map takes FIELD=COLUMN (got {bad[0]!r})")
        mapping = dict(item.split("=", 1) for item in args.map)
        result = importers.read_csv(args.files[0], mapping)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    equity = args.starting_equity or result.starting_equity or "10000"
    # Periodic snapshots write the whole state, so taking one every N events of a large import
    # costs O(trades squared). A file of whole trades goes in as one journal record and one
    # snapshot (all or nothing); fills are journaled one by one, then snapshotted once.
    with pt.Tracker.restore(
        _store(args),
        account=args.account,
        starting_equity=equity,
        timezone=args.timezone,
        durability="batch",
        snapshot_every=2**62,
        snapshot_interval=None,
    ) as tracker:
        added = load_into_store(tracker, result)
        total = len(tracker.trades())
    print(f"{added} trades imported into {args.data} (account {args.account}); {total} in all")
    return EXIT_OK


def _zone(name: str | None) -> Any:
    """The zone --times-in names (None when not given)."""
    if name is None:
        return None
    from perftrack._periods import _resolve_zone  # noqa: PLC0415

    return _resolve_zone(name)


def _import_ideas(args: argparse.Namespace) -> int:
    import perftrack as pt  # noqa: PLC0415
    from perftrack import importers  # noqa: PLC0415
    from perftrack._persist import account_has_data  # noqa: PLC0415

    result = importers.read_ideas(args.files, timezone=args.times_in)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    store = _store(args)
    # A new account takes the equity and zone given; an existing one keeps its own.
    new = {"starting_equity": args.starting_equity or "10000", "timezone": args.timezone}
    with pt.Tracker.restore(
        store,
        account=args.account,
        durability="batch",
        snapshot_every=2**62,
        snapshot_interval=None,
        **({} if account_has_data(store, args.account) else new),
    ) as tracker:
        added = importers.load_ideas(tracker, result)
        total = len(tracker.ideas.list())
        if added:
            tracker.save_snapshot()
    print(f"{added} ideas imported into {args.data} (account {args.account}); {total} in all")
    return EXIT_OK


# -- ideas -------------------------------------------------------------------------------------


def _week(text: str | None) -> date | None:
    from perftrack._review import week_monday  # noqa: PLC0415

    if text is None:
        return None
    try:
        return week_monday(text)
    except ValueError:
        raise CommandError(f"--week must be an ISO week like 2025-W47 (got {text!r})") from None


def _cmd_ideas(args: argparse.Namespace) -> int:
    from perftrack.reports._text import (  # noqa: PLC0415
        aligned,
        dumps,
        idea_list_rows,
        idea_summary_rows,
        markdown_table,
    )

    tracker = _read(args, _targets(args.targets))
    monday = _week(args.week)
    if monday is not None and (args.start or args.end):
        raise CommandError("--week and --start/--end exclude each other")
    start = monday if monday is not None else _day(args.start, "start")
    end = monday + timedelta(days=6) if monday is not None else _day(args.end, "end")
    filters = {
        "symbol": args.symbol,
        "horizon": args.horizon,
        "confidence": args.confidence,
        "edge": args.edge,
    }
    filters = {k: v for k, v in filters.items() if v is not None}
    if args.action == "report":
        return _ideas_report(args, tracker, monday)
    if args.action == "list":
        ideas = tracker.ideas.list(status=args.status, start=start, end=end, **filters)
        if args.format == "json":
            print(dumps({"ideas": [i.to_dict() for i in ideas]}), end="")
        elif not ideas:
            print("No ideas in window")
        elif args.format == "markdown":
            print(markdown_table(idea_list_rows(ideas, tracker._calendar.zone)))
        else:
            print(aligned(idea_list_rows(ideas, tracker._calendar.zone)))
        return EXIT_OK
    label = args.week or ("all" if start is None and end is None else f"{start or ''}..{end or ''}")
    rows: list[tuple[str, Any]]
    if args.by:
        if filters:
            given = ", ".join(f"--{k}" for k in filters)
            raise CommandError(f"--by gives every value of its dimension: drop {given}")
        window = {"period": "week", "at": monday} if monday else {"start": start, "end": end}
        rows = [(str(k), s) for k, s in tracker.ideas.breakdown(args.by, **window).items()]
    elif monday is not None:
        rows = [(label, tracker.ideas.summary("week", at=monday, **filters))]
    else:
        rows = [(label, tracker.ideas.summary(start=start, end=end, **filters))]
    first = args.by or "window"
    if args.format == "json":
        docs = [{first: k, "summary": s.to_dict()} for k, s in rows]
        print(dumps(docs[0] if len(docs) == 1 and not args.by else {"summaries": docs}), end="")
    elif args.format == "markdown":
        print(markdown_table(idea_summary_rows(rows, first)))
    else:
        print(aligned(idea_summary_rows(rows, first)))
    return EXIT_OK


def _ideas_report(args: argparse.Namespace, tracker: Any, monday: date | None) -> int:
    at: Any = monday
    if at is None:
        # The newest event: a trade or price, or an idea (ideas keep their own clock).
        ideas = tracker.ideas.list()
        times = [t for t in (tracker.clock, ideas[-1].created_at if ideas else None) if t]
        if not times:
            print("no events in the store: name a --week", file=sys.stderr)
            return EXIT_OK
        at = max(times)
    report = tracker.ideas.weekly_report(at=at)
    text = report.to_json() if args.format == "json" else report.to_markdown()
    print(text, end="")
    if args.export:
        directory = Path(args.export)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"{report.week}.json").write_text(report.to_json())
        (directory / f"{report.week}.md").write_text(report.to_markdown())
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> int:
    from perftrack import _demo  # noqa: PLC0415
    from perftrack._persist import segments, snapshots  # noqa: PLC0415

    store = _store(args)
    if segments(store, args.account) or snapshots(store, args.account):
        # The demo replays the same simulated history: start its account afresh.
        if str(args.data).startswith("s3://"):
            raise CommandError(f"account {args.account!r} exists in {args.data}; choose another")
        for key in store.list(f"{args.account}/"):
            store.delete(key)
        shutil.rmtree(Path(args.data) / "performance", ignore_errors=True)
    tracker = _demo.run_demo(days=args.days, seed=args.seed, store=store)
    tracker.close()
    print(_demo.report_text(tracker))
    print()
    if not str(args.data).startswith(("s3://", "memory://")):
        from perftrack import reports  # noqa: PLC0415

        report = Path(args.data) / "performance" / "report.html"
        report.parent.mkdir(parents=True, exist_ok=True)
        page = reports.html(tracker, title="perftrack demo", targets=_demo.TARGETS)
        _write_atomic(report, page.encode())
        print(f"HTML report: {report}")
    history = tracker.trades()
    days = (
        1
        if tracker.clock is None or not history
        else ((tracker.clock.date() - history[0].exit_time.date()).days + 1)
    )
    _backfill(args, days, _demo.TARGETS)
    print(f"reports: {args.data}/performance/")
    _ = json  # the JSON documents are written by _backfill
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
