"""
Import trade ideas from the records bots already keep: JSON lines or CSV with the columns
trade_id, ticker, trade_type, direction, entry, stop, target, target2, confidence, edges,
rationale, status, r_achieved, created_at, closed_at. The mapping is documented in
docs/ideas.md ("Importing ideas").
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import attrs

from perftrack._periods import Calendar
from perftrack.errors import InvalidInputError
from perftrack.importers._files import _bad, json_objects

if TYPE_CHECKING:
    from perftrack._tracker import Tracker

__all__ = ["IdeaImport", "load_ideas", "read_ideas"]

#: trade_type values naming a horizon, and the horizon.
HORIZONS: Final = {
    "day": "day",
    "daytrade": "day",
    "day_trade": "day",
    "intraday": "day",
    "scalp": "day",
    "swing": "swing",
    "swingtrade": "swing",
    "swing_trade": "swing",
    "position": "swing",
}
#: trade_type values naming how the entry is reached.
ENTRY_TYPES: Final = ("market", "limit", "stop")
SIDES: Final = {
    "long": "long",
    "buy": "long",
    "bull": "long",
    "bullish": "long",
    "short": "short",
    "sell": "short",
    "bear": "short",
    "bearish": "short",
}
#: Status words and the outcome they stand for.
STATUSES: Final = {
    "win": "win",
    "won": "win",
    "target": "win",
    "target_hit": "win",
    "hit_target": "win",
    "loss": "loss",
    "lost": "loss",
    "stop": "loss",
    "stopped": "loss",
    "stopped_out": "loss",
    "stop_hit": "loss",
    "expired": "expired",
    "pending": "pending",
    "new": "pending",
    "open": "open",
    "active": "open",
    "triggered": "open",
}
#: Columns read into record_idea's arguments (``ticker`` or ``symbol``, ``direction`` or
#: ``side``); any other column goes into the idea's ``context``.
COLUMNS: Final = frozenset(
    {
        "trade_id",
        "idea_id",
        "ticker",
        "symbol",
        "trade_type",
        "horizon",
        "entry_type",
        "direction",
        "side",
        "entry",
        "stop",
        "target",
        "target2",
        "confidence",
        "edges",
        "rationale",
        "status",
        "r_achieved",
        "created_at",
        "closed_at",
        "expires_at",
    }
)


@attrs.frozen
class IdeaImport:
    """
    What an ideas file held: ``ideas`` (``record_idea`` keyword arguments, in creation order),
    ``outcomes`` (idea id -> (status, r_achieved, closed_at) for records the file calls won,
    lost or expired) and ``warnings`` (what could not be read and was skipped).
    """

    ideas: tuple[dict[str, Any], ...] = ()
    outcomes: dict[str, tuple[str, Any, datetime | None]] = attrs.field(factory=dict)
    warnings: tuple[str, ...] = ()
    #: idea id -> where its record is ("ideas.csv line 7"), for error messages.
    sources: dict[str, str] = attrs.field(factory=dict)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _time(path: object, where: str, name: str, value: Any, zone: Any) -> datetime | None:
    text = _text(value)
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _bad(path, where, f"{name!r} is not an ISO 8601 time (got {text!r})") from None
    if when.tzinfo is None:
        if zone is None:
            raise _bad(
                path, where, f"{name!r} has no UTC offset (got {text!r}); give the times' zone"
            )
        when = when.replace(tzinfo=zone)
    return when


def _edges(value: Any) -> tuple[str, ...]:
    if isinstance(value, (list, tuple)):
        return tuple(str(v).strip() for v in value if str(v).strip())
    text = _text(value)
    if text is None:
        return ()
    if text.startswith("["):
        try:
            items = json.loads(text)
        except ValueError:
            items = None
        if isinstance(items, list):
            return _edges(items)
    for separator in ("|", ";", ","):
        if separator in text:
            return tuple(p.strip() for p in text.split(separator) if p.strip())
    return (text,)


def _confidence(path: object, where: str, value: Any) -> Any:
    text = _text(value)
    if text is None:
        return None
    try:
        number = float(text)
    except ValueError:
        return text  # record_idea names the bad value
    return int(number) if number.is_integer() else text


def _word(value: Any) -> str | None:
    text = _text(value)
    return None if text is None else text.lower().replace("-", "_").replace(" ", "_")


def _record(path: object, where: str, raw: Mapping[str, Any], zone: Any) -> dict[str, Any]:
    """
    One record as (record_idea arguments, outcome or None) folded into one dict; the outcome
    keys start with "_".
    """
    values = {str(k).strip().lower(): v for k, v in raw.items() if k is not None}
    symbol = _text(values.get("ticker")) or _text(values.get("symbol"))
    if symbol is None:
        raise _bad(path, where, "no 'ticker' (or 'symbol')")
    side_word = _word(values.get("direction")) or _word(values.get("side"))
    if side_word not in SIDES:
        raise _bad(path, where, f"'direction' must be long or short (got {side_word!r})")
    idea: dict[str, Any] = {"symbol": symbol, "side": SIDES[side_word]}
    kind = _word(values.get("trade_type"))
    if kind in HORIZONS:
        idea["horizon"] = HORIZONS[kind]
    elif kind in ENTRY_TYPES:
        idea["entry_type"] = kind
    elif kind is not None:
        raise _bad(
            path,
            where,
            f"'trade_type' must name a horizon {sorted(set(HORIZONS))} or an entry type "
            f"{list(ENTRY_TYPES)} (got {kind!r})",
        )
    for name in ("horizon", "entry_type"):
        if _word(values.get(name)) is not None:
            idea[name] = _word(values.get(name))
    for name in ("entry", "stop", "target", "target2"):
        text = _text(values.get(name))
        if text is None and name != "target2":
            raise _bad(path, where, f"no {name!r}")
        if text is not None:
            idea[name] = text
    confidence = _confidence(path, where, values.get("confidence"))
    if confidence is not None:
        idea["confidence"] = confidence
    edges = _edges(values.get("edges"))
    if edges:
        idea["edges"] = edges
    rationale = _text(values.get("rationale"))
    if rationale is not None:
        idea["rationale"] = rationale
    created = _time(path, where, "created_at", values.get("created_at"), zone)
    if created is None:
        raise _bad(path, where, "no 'created_at'")
    idea["time"] = created
    expires = _time(path, where, "expires_at", values.get("expires_at"), zone)
    if expires is not None:
        idea["expires_after"] = expires - created
    context = {
        k: v if isinstance(v, (str, int, float, bool)) or v is None else json.dumps(v)
        for k, v in values.items()
        if k not in COLUMNS and _text(v) is not None
    }
    if context:
        idea["context"] = {k: str(v) for k, v in context.items()}
    idea_id = _text(values.get("trade_id")) or _text(values.get("idea_id"))
    if idea_id is None:
        # A stable id, so that importing the same file twice is a no-op.
        seed = json.dumps(
            [symbol, idea["side"], idea["entry"], idea["stop"], created.isoformat()]
        ).encode()
        idea_id = "import-" + hashlib.sha256(seed).hexdigest()[:16]
    idea["idea_id"] = idea_id
    status = _word(values.get("status"))
    if status is not None and status not in STATUSES:
        raise _bad(
            path,
            where,
            f"'status' must be one of {sorted(set(STATUSES.values()))} (got {status!r})",
        )
    idea["_status"] = None if status is None else STATUSES[status]
    r_text = _text(values.get("r_achieved"))
    idea["_r"] = r_text
    idea["_closed"] = _time(path, where, "closed_at", values.get("closed_at"), zone)
    return idea


def read_ideas(
    paths: str | Path | Iterable[str | Path], *, timezone: str | None = None
) -> IdeaImport:
    """
    Idea records from JSON-lines files (``.jsonl``, ``.ndjson`` or ``.json``: one object per
    line) or CSV files with a header (any other name), all read before anything is returned.

    A last line cut short (JSON lines: no newline and not JSON; CSV: no newline and fewer
    fields than the header) is skipped with a warning. Any other bad line is an error naming
    the file, the line and the field.

    Args:
        paths: A file, or several.
        timezone: The IANA zone of times written without a UTC offset; None (the default)
            makes such times an error.

    Raises:
        InvalidInputError: For an unreadable file or a bad line.
    """
    zone = None if timezone is None else Calendar(timezone).zone
    rows: list[tuple[Path, str, Mapping[str, Any]]] = []
    warnings: list[str] = []
    for path in [paths] if isinstance(paths, (str, Path)) else list(paths):
        rows += _rows(Path(path), warnings)
    ideas = []
    outcomes: dict[str, tuple[str, Any, datetime | None]] = {}
    sources: dict[str, str] = {}
    for path, where, raw in rows:
        idea = _record(path, where, raw, zone)
        sources[idea["idea_id"]] = f"'file' {path}: {where}"
        status, r_text, closed = idea.pop("_status"), idea.pop("_r"), idea.pop("_closed")
        if status in ("win", "loss", "expired"):
            outcomes[idea["idea_id"]] = (status, r_text, closed)
        ideas.append(idea)
    ideas.sort(key=lambda i: i["time"])
    return IdeaImport(
        ideas=tuple(ideas), outcomes=outcomes, warnings=tuple(warnings), sources=sources
    )


def _rows(path: Path, warnings: list[str]) -> list[tuple[Path, str, Mapping[str, Any]]]:
    """
    The records of one file with where they are ("line 7"); a cut last line is a warning.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise InvalidInputError(f"'file' {path} cannot be read: {e}") from e
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        objects, cut = json_objects(path, text)
        if cut is not None:
            warnings.append(cut)
        return [(path, f"line {i}", record) for i, record in objects]
    rows: list[tuple[Path, str, Mapping[str, Any]]] = []
    lines = text.splitlines(keepends=True)
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        raise _bad(path, "header", "the file is empty")
    for record in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(header):
            last = line >= len(lines) and not lines[-1].endswith(("\n", "\r"))
            if last and len(record) < len(header):
                warnings.append(f"{path}: last line {line} is cut short, skipped")
                continue
            raise _bad(
                path, f"line {line}", f"{len(record)} fields where the header has {len(header)}"
            )
        rows.append((path, f"line {line}", dict(zip(header, record, strict=True))))
    return rows


def load_ideas(tracker: Tracker, result: IdeaImport) -> int:
    """
    Record ``result``'s ideas in ``tracker`` and apply the outcomes the file states; returns
    the ideas added.

    Events go in time order: each idea at its ``created_at``, each stated outcome (won, lost,
    expired) at its ``closed_at`` (its ``created_at`` when the file has none) as an
    ``override`` with reason ``"imported"``, so the idea's status and r_achieved are the
    file's while its ``override`` field keeps what the tracker's rules had made of it. An idea
    the file calls pending or open is left to the rules. Ideas already in the tracker with the
    same id and content are skipped, so an import can run twice.

    Everything is first loaded into a scratch tracker (with the ideas of the same ids the
    tracker already holds), so a bad record raises before the tracker is touched.

    Raises:
        InvalidInputError: For a bad record, naming the line, the field and the value.
        DuplicateTradeError: For an idea id the tracker holds with other content.
    """
    import perftrack as pt  # noqa: PLC0415

    scratch = pt.Tracker(
        tracker.starting_equity, timezone=tracker.timezone, calendar=tracker.calendar
    )
    for idea in result.ideas:
        if _has(tracker, idea["idea_id"]):
            scratch.record_idea(**_arguments(tracker.ideas.get(idea["idea_id"])))
    _apply(scratch, result)
    before = len(tracker.ideas.list())
    _apply(tracker, result)
    return len(tracker.ideas.list()) - before


def _apply(tracker: Tracker, result: IdeaImport) -> None:
    steps: list[tuple[datetime, int, str]] = []
    by_id = {}
    for n, idea in enumerate(result.ideas):
        by_id[idea["idea_id"]] = idea
        steps.append((idea["time"], 2 * n, idea["idea_id"]))
    for n, (idea_id, outcome) in enumerate(result.outcomes.items()):
        created = by_id[idea_id]["time"]
        steps.append((max(outcome[2] or created, created), 2 * n + 1, idea_id))
    steps.sort(key=lambda step: (step[0], step[1] % 2, step[1]))
    for _, kind, idea_id in steps:
        where = result.sources.get(idea_id, "")
        try:
            if kind % 2 == 0:
                tracker.record_idea(**by_id[idea_id])
                continue
            current = tracker.ideas.get(idea_id)
            if _reason(current.override) == "imported":
                continue  # imported before
            status, r_text, closed = result.outcomes[idea_id]
            if closed is not None:
                # Time passes to the close first: what the rules do by then (an expiry) is
                # what the override records as overridden, at the close's time.
                tracker.ideas.expire(at=closed)
            tracker.ideas.override(idea_id, status=status, r_achieved=r_text, reason="imported")
        except InvalidInputError as e:
            raise type(e)(f"{where}: {e}" if where else str(e)) from e


def _reason(override: Any) -> Any:
    if override is None:
        return None
    if isinstance(override, Mapping):
        return override.get("reason")
    return getattr(override, "reason", None)


def _arguments(idea: Any) -> dict[str, Any]:
    """
    The record_idea arguments that recreate ``idea`` as it was recorded.
    """
    return {
        "symbol": idea.symbol,
        "side": idea.side,
        "entry": idea.entry,
        "stop": idea.stop,
        "target": idea.target,
        "target2": idea.target2,
        "entry_type": idea.entry_type,
        "confidence": idea.confidence,
        "edges": idea.edges,
        "horizon": idea.horizon,
        "time": idea.created_at,
        "expires_after": idea.expires_at - idea.created_at,
        "idea_id": idea.idea_id,
        "rationale": idea.rationale,
        "context": idea.context,
    }


def _has(tracker: Tracker, idea_id: str) -> bool:
    from perftrack.errors import UnknownIdeaError  # noqa: PLC0415

    try:
        tracker.ideas.get(idea_id)
    except UnknownIdeaError:
        return False
    return True
