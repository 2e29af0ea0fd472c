"""
Persistence: the journal, snapshots, the account lock, and restore.

Layout under the account's prefix in the store::

    <account>/lock                         who holds the account (JSON)
    <account>/journal/<first seq>.jsonl    journal segments, one record per line
    <account>/snapshots/<seq>.snap         full state at a sequence number (zlib'd JSON)

A journal record is ``<crc32 hex> <json>\\n`` where the JSON is
``{"seq": n, "kind": ..., "id": event id or null, "data": {...}}`` with Decimals as strings and
times in ISO 8601 with their offset; replaying it is ``getattr(tracker, kind)(**data)``.
Sequence 0 of a new account is an ``init`` record holding the tracker's configuration.

A snapshot is ``<crc32 hex>\\n`` followed by the zlib-compressed JSON of ``{"schema": 3,
"seq": n, "state": {...}}``. Closed trades are stored by column (money and times joined
into one comma-separated string per field), so saving and loading cost a few C-level passes
per field instead of a Python round per value. Schema 3 adds the realizations of trades
built in steps (a sparse column) and of open positions; schema 2 (columns without them) and
schema 1 (one list per trade) still load, their steps read back from the day events.

Nothing here is thread-safe on its own: the tracker calls it under its lock (the batch
flusher takes the tracker's lock too).
"""

from __future__ import annotations

import bisect
import contextlib
import gc
import itertools
import json
import math
import operator
import os
import re
import socket
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal, localcontext
from functools import partial
from typing import TYPE_CHECKING, Any, Final, Literal, NamedTuple, overload

import attrs

from perftrack import signals
from perftrack._convert import amounts_hold, to_name, to_side, to_tags
from perftrack._log import log
from perftrack._model import MONEY_CONTEXT, RECORD_TRADE_ARGS, Trade
from perftrack.errors import (
    CorruptDataError,
    InvalidInputError,
    LockedError,
    MissingKeyError,
    StoreError,
)
from perftrack.stores import ObjectStore, validate_key

if TYPE_CHECKING:
    from perftrack._tracker import Tracker

__all__ = [
    "DURABILITIES",
    "SCHEMA_VERSION",
    "AccountLock",
    "Journal",
    "RestoreReport",
    "decode_record",
    "encode_record",
]


SCHEMA_VERSION: Final = 4
#: Snapshot schemas this version reads: 1 kept a list per closed trade, 2 a column per field,
#: 3 adds the realizations of trades built in steps and of open positions, 4 keeps the trade
#: detail in a section of its own and the folded state of each day's buckets in the head.
READABLE_SCHEMAS: Final = (1, 2, 3, 4)
#: Archive objects keep their own schema: 2 ends a trade row with its realizations (1 had a
#: booked_whole flag there). Nothing reads archives back but people and their tools.
ARCHIVE_SCHEMA: Final = 2
ARCHIVE_SCHEMAS: Final = (1, ARCHIVE_SCHEMA)
DURABILITIES: Final = ("sync", "batch")
SEGMENT_RECORDS: Final = 50_000  # records per journal segment before a new one starts


@contextlib.contextmanager
def _collector_paused(*, long_lived: bool = False) -> Iterator[None]:
    """
    Pause the cyclic garbage collector while bulk-building objects (loading or writing a
    snapshot): the objects are long-lived and hold no cycles worth finding, and each
    collection would walk the whole heap again, which costs more than the load itself at
    100,000 trades. Restores the collector's previous state.

    With ``long_lived`` (what was built is kept: an import's records, the trades it books),
    the objects built during the pause go straight to the oldest generation when it ends.
    Otherwise the first allocation after it runs a young collection over all of them, and a
    middle one later, only to find them alive (1.2 to 1.8 s of a 200,000-line import).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            # freeze() then unfreeze() moves every tracked object into the oldest generation
            # without visiting any. Not when the process keeps objects frozen itself (a
            # pre-fork server): unfreeze() would release those too.
            if long_lived and not gc.get_freeze_count():
                gc.freeze()
                gc.unfreeze()
            gc.enable()


# -- encoding --------------------------------------------------------------------------------


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    msg = f"cannot journal a {type(value).__name__}"
    raise TypeError(msg)


#: The arguments of a journaled record_trade of a whole trade, in the order the call writes
#: them (``realizations`` is there only for a trade recorded with its steps).
WHOLE_TRADE_ARGS: Final = tuple(name for name in RECORD_TRADE_ARGS if name != "realizations")


def encode_record(seq: int, kind: str, data: dict[str, Any]) -> bytes:
    """
    One journal line for an event.
    """
    if kind == "record_trade" and tuple(data) == WHOLE_TRADE_ARGS:
        return encode_trades([(seq, tuple(data.values()))])[0]
    return _encode_json(seq, kind, data)


def _encode_json(seq: int, kind: str, data: dict[str, Any]) -> bytes:
    """
    ``encode_record`` through the generic JSON encoder: any event.
    """
    event_id = data.get("event_id") or data.get("trade_id") or data.get("idea_id")
    body = json.dumps(
        {"seq": seq, "kind": kind, "id": event_id, "data": data},
        default=_plain,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
    return b"%08x %s\n" % (zlib.crc32(body), body)


#: The JSON of a string, as ``json.dumps(..., ensure_ascii=False)`` writes it (C code).
_json_str: Final[Callable[[str], str]] = json.encoder.encode_basestring

#: A record_trade record with its fields in WHOLE_TRADE_ARGS order: the bytes
#: ``json.dumps`` writes for it, but formatted in one step (the journal's hot path: the
#: generic encoder calls back into Python for every Decimal and datetime).
_TRADE_LINE: Final = (
    '{"seq":%d,"kind":"record_trade","id":%s,"data":{"trade_id":%s,"symbol":%s,"side":%s,'
    '"quantity":"%s","entry_price":"%s","exit_price":"%s","entry_time":"%s","exit_time":"%s",'
    '"fees":"%s","strategy":%s,"stop_price":%s,"target_price":%s,"tags":[%s],"net_pnl":%s,'
    '"idea_id":%s}}'
)


def _optional_json(value: object) -> str:
    if value is None:
        return "null"
    return _json_str(value) if isinstance(value, str) else f'"{value}"'


def _optional_column(column: tuple[Any, ...]) -> list[str]:
    """
    The JSON of each value of a column of Decimals or strings that may be None.
    """
    # Not ``count(None)``: each Decimal would ask the numbers ABCs what None is.
    if not any(map(operator.is_not, column, itertools.repeat(None))):
        return ["null"] * len(column)
    return list(map(_optional_json, column))


def encode_trades(items: list[tuple[int, tuple[Any, ...]]]) -> list[bytes]:
    """
    The journal lines of record_trade events: (sequence number, the arguments in
    WHOLE_TRADE_ARGS order), byte for byte what ``_encode_json`` writes for them, but a
    field at a time for the whole batch (C-level passes) instead of the generic encoder's
    calls back into Python for every Decimal and datetime.

    The values are what ``record_trade`` normalised: str names, Decimal money (whose text
    needs no escaping), aware datetimes, a tuple of tag names, None for what is absent.
    """
    (
        tids,
        symbols,
        sides,
        quantities,
        entries,
        exits,
        entry_times,
        exit_times,
        fees,
        strategies,
        stops,
        targets,
        tags,
        nets,
        ideas,
    ) = zip(*(args for _, args in items), strict=True)
    tid_json = _optional_column(tids)
    ids = (
        tid_json
        if all(tids)
        else _optional_column(tuple(t or i for t, i in zip(tids, ideas, strict=True)))
    )
    tag_json = {t: ",".join(map(_json_str, t)) for t in set(tags)}
    bodies = list(
        map(
            str.encode,
            map(
                _TRADE_LINE.__mod__,
                zip(
                    (seq for seq, _ in items),
                    ids,
                    tid_json,
                    map(_json_str, symbols),
                    map(_json_str, sides),
                    map(str, quantities),
                    map(str, entries),
                    map(str, exits),
                    map(datetime.isoformat, entry_times),
                    map(datetime.isoformat, exit_times),
                    map(str, fees),
                    map(_json_str, strategies),
                    _optional_column(stops),
                    _optional_column(targets),
                    map(tag_json.__getitem__, tags),
                    _optional_column(nets),
                    _optional_column(ideas),
                    strict=True,
                ),
            ),
        )
    )
    return list(map(b"%08x %s\n".__mod__, zip(map(zlib.crc32, bodies), bodies, strict=True)))


def decode_record(line: bytes) -> dict[str, Any]:
    """
    The record of one journal line.

    Raises:
        CorruptDataError: When the line is truncated or fails its checksum.
    """
    crc, _, body = line.rstrip(b"\n").partition(b" ")
    try:
        ok = int(crc, 16) == zlib.crc32(body) and line.endswith(b"\n")
        record: dict[str, Any] = json.loads(body) if ok else {}
    except ValueError:
        ok = False
    if not ok:
        msg = f"journal record fails its checksum: {line[:80]!r}"
        raise CorruptDataError(msg)
    if not _is_record(record):
        # Checksummed all the same (another writer's): damage, as a failing checksum is.
        msg = f"journal line is not a record (seq, kind, data): {line[:80]!r}"
        raise CorruptDataError(msg)
    return record


def _is_record(record: object) -> bool:
    """
    Whether a decoded journal line has a record's shape: a sequence number, a kind and data.
    """
    return (
        type(record) is dict
        and type(record.get("seq")) is int
        and record["seq"] >= 0
        and type(record.get("kind")) is str
        and type(record.get("data")) is dict
    )


def _tagged(value: object) -> object:
    """
    A JSON form that keeps Decimal, datetime and tuple apart from strings and lists.
    """
    if isinstance(value, Decimal):
        return {"$d": str(value)}
    if isinstance(value, datetime):
        return {"$t": value.isoformat()}
    if isinstance(value, tuple):
        return {"$u": [_tagged(v) for v in value]}
    if isinstance(value, list):
        return [_tagged(v) for v in value]
    return value


def _untagged(value: Any) -> Any:
    if isinstance(value, dict):
        if "$d" in value:
            return Decimal(value["$d"])
        if "$t" in value:
            return datetime.fromisoformat(value["$t"])
        if "$u" in value:
            return tuple(_untagged(v) for v in value["$u"])
        return {k: _untagged(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_untagged(v) for v in value]
    return value


def encode_snapshot(seq: int, state: dict[str, Any]) -> bytes:
    """
    A checksummed, compressed snapshot object: a head (everything but the trade detail) and
    the detail (closed trades and day events), compressed apart so that a read-only restore
    can answer summaries from the head alone (see the module docstring).
    """
    detail = {name: state[name] for name in _DETAIL_FIELDS}
    head = {k: v for k, v in state.items() if k not in _DETAIL_FIELDS}

    def packed(doc: dict[str, Any]) -> bytes:
        return zlib.compress(
            json.dumps(doc, default=_plain, separators=(",", ":")).encode(), level=1
        )

    head_z = packed({"schema": SCHEMA_VERSION, "seq": seq, "state": head})
    body = b"%d\n%s%s" % (len(head_z), head_z, packed(detail))
    return b"%08x\n%s" % (zlib.crc32(body), body)


#: The parts of a tracker's state a summary does not need: a schema 4 snapshot keeps them in
#: a section of their own, read when a query needs trades (``SnapshotDetail``).
_DETAIL_FIELDS: Final = ("trades", "days")


@attrs.frozen
class SnapshotDetail:
    """
    The trade detail section of a snapshot (checksummed with the rest), decompressed and
    parsed only when asked for.
    """

    packed: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")

    def load(self) -> dict[str, Any]:
        """
        ``{"trades": ..., "days": ...}`` as ``tracker_state`` wrote them.

        Raises:
            CorruptDataError: When the section does not decompress or parse.
        """
        try:
            detail: dict[str, Any] = json.loads(zlib.decompress(self.packed))
        except (ValueError, zlib.error) as e:
            msg = f"snapshot detail cannot be read: {e}"
            raise CorruptDataError(msg) from e
        return detail


def decode_snapshot(data: bytes) -> tuple[int, dict[str, Any]]:
    """
    (seq, state) of a snapshot object. The state of a schema 4 snapshot holds its trade
    detail as a ``SnapshotDetail`` under ``"detail"`` (see ``with_detail``).

    Raises:
        CorruptDataError: For a bad checksum, a damaged body or an unknown schema.
    """
    crc, _, body = data.partition(b"\n")
    try:
        if int(crc, 16) != zlib.crc32(body):
            msg = "snapshot fails its checksum"
            raise CorruptDataError(msg)
        detail = None
        # Schemas up to 3 are one zlib stream (its first byte is never a digit); schema 4
        # starts with the length of its head.
        size, newline, rest = body.partition(b"\n")
        if newline and size.isdigit():
            head_z, detail = rest[: int(size)], SnapshotDetail(rest[int(size) :])
            doc = json.loads(zlib.decompress(head_z))
        else:
            doc = json.loads(zlib.decompress(body))
    except (ValueError, zlib.error) as e:
        msg = f"snapshot cannot be read: {e}"
        raise CorruptDataError(msg) from e
    if not isinstance(doc, dict):
        msg = f"snapshot is not a JSON object (got a {type(doc).__name__})"
        raise CorruptDataError(msg)
    schema = doc.get("schema")
    if (
        type(schema) is not int
        or schema not in READABLE_SCHEMAS
        or (detail is None) != (schema < 4)
    ):
        msg = f"snapshot schema {schema!r} is not one of {READABLE_SCHEMAS}"
        raise CorruptDataError(msg)
    seq, state = doc.get("seq"), doc.get("state")
    if type(seq) is not int or seq < 0:
        msg = f"snapshot 'seq' must be a sequence number (got {seq!r})"
        raise CorruptDataError(msg)
    if not isinstance(state, dict):
        msg = f"snapshot 'state' must be a JSON object (got {state!r:.80})"
        raise CorruptDataError(msg)
    if detail is not None:
        state["detail"] = detail
    return seq, state


def with_detail(state: dict[str, Any]) -> dict[str, Any]:
    """
    ``state`` with its trade detail in place (read from a schema 4 snapshot's section).
    """
    detail = state.get("detail")
    if not isinstance(detail, SnapshotDetail):
        return state
    return {**{k: v for k, v in state.items() if k != "detail"}, **detail.load()}


# -- keys ------------------------------------------------------------------------------------


def _prefix(account: str) -> str:
    validate_key(account)
    return f"{account}/"


def _segment_key(account: str, first_seq: int) -> str:
    return f"{account}/journal/{first_seq:012d}.jsonl"


def _snapshot_key(account: str, seq: int) -> str:
    return f"{account}/snapshots/{seq:012d}.snap"


def _seq_of(key: str) -> int:
    return int(key.rsplit("/", 1)[1].split(".", 1)[0])


#: The names ``_segment_key`` and ``_snapshot_key`` write: anything else in their folders
#: (a copy tool's temporary file, an editor's backup) is no segment nor snapshot.
_SEGMENT_NAME: Final = re.compile(r"[0-9]+\.jsonl")
_SNAPSHOT_NAME: Final = re.compile(r"[0-9]+\.snap")


def _named(keys: list[str], folder: str, name: re.Pattern[str]) -> list[str]:
    return [k for k in keys if name.fullmatch(k[len(folder) :])]


def segments(store: ObjectStore, account: str) -> list[str]:
    """
    The account's journal segment keys in sequence order.
    """
    folder = f"{account}/journal/"
    return sorted(_named(store.list(folder), folder, _SEGMENT_NAME), key=_seq_of)


def snapshots(store: ObjectStore, account: str) -> list[str]:
    """
    The account's snapshot keys, newest first.
    """
    folder = f"{account}/snapshots/"
    return sorted(_named(store.list(folder), folder, _SNAPSHOT_NAME), key=_seq_of, reverse=True)


# -- the account lock ------------------------------------------------------------------------


def _holder_of(raw: bytes) -> dict[str, Any]:
    """
    What a lock (or takeover marker) says of its holder; {} when unreadable (abandoned).
    """
    try:
        holder = json.loads(raw)
    except ValueError:
        return {}
    return holder if isinstance(holder, dict) else {}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


#: The tokens of the account locks this process's trackers hold (or are taking): a lock of
#: this host and pid with another token was left by an earlier process that had the pid.
_LIVE_TOKENS: Final[set[str]] = set()


class AccountLock:
    """
    Who may write an account's journal: one live tracker at a time.

    The lock is an object created only if absent. A lock left by a process that died is taken
    over: on the same host when its pid no longer runs, elsewhere when its lease (refreshed by a
    heartbeat every lease/3 seconds) has expired.
    """

    def __init__(self, store: ObjectStore, account: str, lease_seconds: float = 60.0) -> None:
        self.store = store
        self.key = f"{account}/lock"
        self.lease = lease_seconds
        self.token = uuid.uuid4().hex
        #: Set by refresh() when another tracker has taken the account over.
        self.lost = False
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None
        # Held by refresh() from reading the lock to writing it and by release(): a release
        # between the two would otherwise be undone by the heartbeat's put.
        self._renewing = threading.Lock()

    def _body(self) -> bytes:
        return json.dumps(
            {
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "token": self.token,
                "time": time.time(),
            }
        ).encode()

    def acquire(self) -> None:
        """
        Take the lock or raise LockedError naming the holder.
        """
        # Live from the first marker on: another tracker of this process must not judge
        # this one's takeover abandoned.
        _LIVE_TOKENS.add(self.token)
        try:
            self._acquire()
        except BaseException:
            _LIVE_TOKENS.discard(self.token)
            raise

    def _acquire(self) -> None:
        # Stale markers (each removed under its own marker), the lock, then the create.
        for _ in range(5):
            if self._create(self.key):
                break
            raw = self._raw(self.key)
            if raw is None:
                continue  # released meanwhile
            holder = _holder_of(raw)
            if not self._abandoned(holder):
                msg = (
                    f"account lock {self.key!r} is held by pid {holder.get('pid')} on "
                    f"{holder.get('host')!r}; close that tracker first"
                )
                raise LockedError(msg)
            self._take_over(raw, holder)
        else:
            msg = f"account lock {self.key!r} could not be taken"
            raise LockedError(msg)
        self._heartbeat = threading.Thread(target=self._beat, name="perftrack-lease", daemon=True)
        self._heartbeat.start()

    def _take_over(self, raw: bytes, holder: dict[str, Any], key: str | None = None) -> None:
        """
        Remove the abandoned lock ``raw``, unless another tracker is removing it.

        Deleting is safe only for the one tracker that creates the takeover marker of that
        very lock: two trackers that both read the abandoned lock and both deleted it could
        each delete the lock the other had just created, and both would write the journal.
        The winner deletes the lock only if it still holds ``raw`` (under the marker, no one
        else deletes it), then its marker. A marker left by a tracker that died mid-takeover is
        abandoned like a lock and removed the same way, under its own marker (deleting it
        outright could delete the fresh marker of a tracker that removed it first).
        """
        key = self.key if key is None else key
        marker = f"{key}-takeover/{zlib.crc32(raw):08x}{len(raw):x}"
        if not self._create(marker):
            taker = self._raw(marker)
            if taker is None:
                return  # its takeover is done: the next attempt sees what it left
            taker_holder = _holder_of(taker)
            if not self._abandoned(taker_holder) or marker.count("-takeover/") > 3:
                msg = f"account lock {self.key!r} is being taken over by another tracker"
                raise LockedError(msg)
            self._take_over(taker, taker_holder, marker)  # its tracker died
            return
        try:
            if self._raw(key) == raw:
                if key == self.key:
                    log.warning("perftrack.lock_taken_over", key=self.key, holder=holder)
                self.store.delete(key)
        finally:
            self.store.delete(marker)

    def _create(self, key: str) -> bool:
        create = getattr(self.store, "put_if_absent", None)
        if create is not None:
            return bool(create(key, self._body()))
        # Without an atomic create, check-then-put: enough for one host, documented.
        if self._raw(key) is not None:
            return False
        self.store.put(key, self._body())
        return True

    def _raw(self, key: str) -> bytes | None:
        try:
            return self.store.get(key)
        except MissingKeyError:
            return None

    def _holder(self) -> dict[str, Any] | None:
        raw = self._raw(self.key)
        return None if raw is None else _holder_of(raw)

    def _abandoned(self, holder: dict[str, Any]) -> bool:
        """
        Whether the tracker that wrote ``holder`` (a lock or a takeover marker) is gone: on
        this host, its pid no longer runs, or the pid is this process's but none of its
        trackers holds the token (a former life of the pid: a container restarted as pid 1);
        anywhere, its lease expired (a live holder refreshes it every lease/3 seconds, so
        this also frees a lock whose pid another process now has).
        """
        if not holder:
            return True
        if holder.get("host") == socket.gethostname():
            pid = holder.get("pid")
            # No positive pid: os.kill(0 or -1, 0) would find our own group or every process
            # alive, and a lock no live process can be named by would block forever.
            if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
                return True
            if pid == os.getpid():
                return holder.get("token") not in _LIVE_TOKENS
            if not _pid_alive(pid):
                return True
        try:
            since = float(holder.get("time", 0))
        except (TypeError, ValueError):
            return True  # unreadable, like a lock that is not JSON
        return not time.time() - since <= self.lease  # NaN: abandoned too

    def _beat(self) -> None:
        while not self._stop.wait(self.lease / 3):
            self.refresh()

    def refresh(self) -> None:
        """
        Renew the lease (the heartbeat calls this every lease/3 seconds). If another tracker
        holds the lock now (it took over a lease that expired while this process stalled),
        mark the lock lost: the journal then refuses every event, so two writers never
        interleave one journal.
        """
        with self._renewing:
            if self._stop.is_set():
                return  # released: the lock is no longer ours to renew
            self._refresh()

    def _refresh(self) -> None:
        try:
            holder = self._holder()
            if holder is not None and holder.get("token") == self.token:
                self.store.put(self.key, self._body())
            elif not self.lost:
                self.lost = True
                log.error("perftrack.lock_lost", key=self.key, holder=holder)
        except StoreError:
            log.warning("perftrack.lease_refresh_failed", key=self.key)

    def release(self) -> None:
        """
        Give the lock up (only if still ours).
        """
        with self._renewing:  # waits for a renewal in flight
            self._stop.set()
        _LIVE_TOKENS.discard(self.token)
        try:
            holder = self._holder()
            if holder is not None and holder.get("token") == self.token:
                self.store.delete(self.key)
        except StoreError:
            log.warning("perftrack.lock_release_failed", key=self.key)


# -- the journal -----------------------------------------------------------------------------


class Journal:
    """
    Appends accepted events to the account's journal.

    With ``durability="sync"`` each event is durable before the tracker's call returns. With
    ``"batch"`` events are buffered and written together when ``max_events`` are waiting or
    ``max_ms`` have passed (a background thread), on ``flush()`` and on ``close()``: a crash
    can lose at most that much. A failed write keeps the buffer and raises ``StoreError`` from
    the next call.
    """

    def __init__(
        self,
        store: ObjectStore,
        account: str,
        *,
        next_seq: int,
        durability: str,
        max_events: int,
        max_ms: float,
        lock: threading.RLock,
    ) -> None:
        self.store = store
        self.account = account
        self.next_seq = next_seq
        self.durability = durability
        self.max_events = max_events
        self.max_ms = max_ms
        self.appendable = callable(getattr(store, "append", None))
        self.segment_first = next_seq
        self.segment_records = 0
        # Journal lines, or (seq, record_trade arguments) waiting to be encoded with their batch.
        self._buffer: list[bytes | tuple[int, tuple[Any, ...]]] = []
        self._buffer_first = next_seq
        # Lines taken from the buffer whose write has not succeeded yet, from sequence number
        # ``_taken_first`` on; they come before the buffer. Guarded by ``_io``.
        self._taken: list[bytes] = []
        self._taken_first = next_seq
        # Held while lines are taken and written, so that writes keep sequence order. Every
        # writer but the flusher takes it under the tracker's lock; the flusher takes it
        # there too, then writes after releasing the tracker's lock, so the bot's calls only
        # queue while a slow store (fsync, an S3 PUT) works.
        self._io = threading.Lock()
        self._failure: StoreError | None = None
        self._torn = False  # an append failed: the segment's tail may hold part of it
        self.lock: AccountLock | None = None  # the account's lock, when the tracker holds one
        self._tracker_lock = lock
        self._stop = threading.Event()
        self._flusher: threading.Thread | None = None
        if durability == "batch":
            self._flusher = threading.Thread(
                target=self._flush_loop, name="perftrack-journal", daemon=True
            )
            self._flusher.start()

    def sink(self, kind: str, data: dict[str, Any]) -> None:
        """
        The tracker's write-ahead sink: journal one event (under the tracker's lock).
        """
        self._check_lock()
        if self._failure is not None:
            # Retry what failed before accepting anything new.
            self._write()
        if not self._buffer:
            self._buffer_first = self.next_seq
        if (
            self.durability == "batch"
            and kind == "record_trade"
            and tuple(data) == WHOLE_TRADE_ARGS
        ):
            # Encoded with its batch when the batch is written (``encode_trades``, a field at
            # a time): the call only queues the accepted, normalised arguments.
            self._buffer.append((self.next_seq, tuple(data.values())))
        else:
            self._buffer.append(encode_record(self.next_seq, kind, data))
        self.next_seq += 1
        # What the flusher is writing counts too: it is not durable until that write returns,
        # so the bound on what a crash can lose holds while the store is slow.
        if self.durability == "sync" or len(self._buffer) + len(self._taken) >= self.max_events:
            try:
                self._write()
            except StoreError:
                self._forget_last()
                raise

    def _forget_last(self) -> None:
        """
        The event just taken could not be written: forget it, so that the failed call changes
        nothing (the tracker does not book it, so no retry may journal it). It is the last
        line taken; in batch mode the acknowledged lines before it wait for the retry, with
        the failure that makes the next call retry first. A torn tail is the next write's.
        """
        self._taken.pop()
        self.next_seq -= 1
        if self.durability == "sync" or not self._taken:
            self._failure = None

    def _check_lock(self) -> None:
        if self.lock is not None and self.lock.lost:
            msg = (
                f"account {self.account!r} was taken over by another tracker (its lease "
                "expired while this one stalled); this tracker writes no more events"
            )
            raise LockedError(msg)

    def _write(self) -> None:
        """
        Write every accepted event (under the tracker's lock).
        """
        with self._io:
            self._take()
            self._write_taken()

    def _take(self) -> None:
        """
        Move the buffer, encoded, behind the lines taken before (under the tracker's lock
        and ``_io``).
        """
        if not self._buffer:
            return
        lines = self._encoded()
        if not self._taken:
            self._taken_first = self._buffer_first
        self._taken += lines
        self._buffer.clear()

    def _write_taken(self) -> None:
        """
        Write the taken lines (under ``_io``); a failure keeps them for the next write.
        """
        if not self._taken:
            self._failure = None
            return
        self._check_lock()  # never append to a journal that another tracker now writes
        data = b"".join(self._taken)
        try:
            if self.appendable:
                put_whole = False
                if self._torn:
                    # A failed append may have left some or all of its bytes in the segment:
                    # never append after them. A segment that begins with the failed records
                    # is replaced whole; otherwise a new segment starts at the retried
                    # records, and readers ignore the old segment's records from there on.
                    put_whole = self.segment_first == self._taken_first
                    self.segment_first = self._taken_first
                    self.segment_records = 0
                elif self.segment_records >= SEGMENT_RECORDS:
                    self.segment_first = self._taken_first
                    self.segment_records = 0
                key = _segment_key(self.account, self.segment_first)
                if put_whole:
                    self.store.put(key, data)
                else:
                    self.store.append(key, data)  # type: ignore[attr-defined]
                self.segment_records += len(self._taken)
            else:
                self.store.put(_segment_key(self.account, self._taken_first), data)
        except StoreError as e:
            self._failure = e
            self._torn = self.appendable
            raise
        self._taken.clear()
        self._failure = None
        self._torn = False

    def _encoded(self) -> list[bytes]:
        """
        The buffer as journal lines: queued record_trade arguments are encoded together.
        """
        lines: list[bytes] = []
        queued: list[tuple[int, tuple[Any, ...]]] = []
        at: list[int] = []
        for item in self._buffer:
            if isinstance(item, bytes):
                lines.append(item)
            else:
                at.append(len(lines))
                lines.append(b"")
                queued.append(item)
        if queued:
            for i, line in zip(at, encode_trades(queued), strict=True):
                lines[i] = line
        return lines

    def flush(self) -> None:
        """
        Make every accepted event durable (under the tracker's lock).
        """
        self._write()

    def write_now(self, kind: str, data: dict[str, Any]) -> None:
        """
        Journal one record and make it durable with everything before it, whatever the
        durability, or raise ``StoreError`` with nothing of it queued (as a failed "sync"
        event): a record whose write failed must not be written later by someone else's
        flush. Under the tracker's lock.
        """
        self._write()  # the events before it first: a failure here has not queued it
        self._buffer_first = self.next_seq
        self._buffer.append(encode_record(self.next_seq, kind, data))
        self.next_seq += 1
        try:
            self._write()
        except StoreError:
            self._forget_last()  # only this record was waiting
            raise

    def start_new_segment(self) -> None:
        """
        Begin a fresh segment at the next sequence number (after a snapshot, so that older
        segments can be compacted away whole).
        """
        self._write()
        self.segment_first = self.next_seq
        self.segment_records = 0

    def _flush_loop(self) -> None:
        while not self._stop.wait(self.max_ms / 1000):
            with self._tracker_lock:
                # Free, or soon: the other writers take it inside the tracker's lock (the
                # init record at attach excepted, written before anything else uses the
                # tracker), and never wait for that lock while they hold it.
                self._io.acquire()
                try:
                    self._take()
                except BaseException:
                    self._io.release()
                    raise
            try:
                self._write_taken()  # the bot's calls go on meanwhile
            except StoreError:
                log.warning("perftrack.journal_flush_failed", account=self.account)
            finally:
                self._io.release()

    def close(self) -> None:
        """
        Stop the background flusher (the caller flushes under the tracker's lock first).
        """
        self._stop.set()
        if self._flusher is not None and self._flusher is not threading.current_thread():
            self._flusher.join(timeout=5)


# -- restore ---------------------------------------------------------------------------------


@attrs.frozen
class RestoreReport:
    """
    What a restore found: the snapshot it started from, how many journal records it replayed,
    and anything it could not use (damaged snapshots, a cut journal tail).
    """

    snapshot_seq: int | None
    replayed: int
    skipped_snapshots: tuple[str, ...] = ()
    dropped_records: int = 0
    problems: tuple[str, ...] = ()


Entry = tuple[str, int, dict[str, Any] | None, str | None]
RowEntry = tuple[str, int, "dict[str, Any] | TradeRun | None", str | None]


@overload
def read_journal(
    store: ObjectStore,
    account: str,
    after: int,
    *,
    rows: Literal[False] = False,
    read: dict[str, bytes] | None = None,
) -> Iterator[Entry]: ...


@overload
def read_journal(
    store: ObjectStore,
    account: str,
    after: int,
    *,
    rows: Literal[True],
    read: dict[str, bytes] | None = None,
) -> Iterator[RowEntry]: ...


def read_journal(
    store: ObjectStore,
    account: str,
    after: int,
    *,
    rows: bool = False,
    read: dict[str, bytes] | None = None,
) -> Iterator[RowEntry]:
    """
    (segment key, line number, record or None, problem) for every journal line after
    sequence ``after``, in order. A bad line yields None and a description. ``read`` holds
    segments the caller has read already (by key): each is taken from there (and dropped
    from it) instead of being read again.

    With ``rows``, consecutive record_trade lines in the layout ``encode_record`` writes come
    as one ``TradeRun`` (decoded, their Trades built) at the line of the first, instead of a
    record dict each.
    """
    keys = segments(store, account)
    for n, key in enumerate(keys):
        # A segment holds the records from its first sequence number up to the next
        # segment's: anything after that is what a failed append left behind, superseded by
        # the retry that started the next segment.
        limit = _seq_of(keys[n + 1]) if n + 1 < len(keys) else None
        if limit is not None and limit <= after + 1:
            continue  # wholly covered by the snapshot
        data = read.pop(key) if read and key in read else store.get(key)
        entries: Sequence[tuple[int, dict[str, Any] | TradeRun | None, str | None]] | None
        entries = _row_entries(data, after) if rows else None
        if entries is None:
            entries = _line_entries(data.splitlines(keepends=True), after)
        for i, record, problem in entries:
            if record is None:
                yield key, i, None, problem
            elif isinstance(record, TradeRun):
                # Its rows are after ``after`` already; keep those before the limit.
                run = record if limit is None else record.below(limit)
                if run.seqs:
                    yield key, i, run, None
            elif record["seq"] > after and (limit is None or record["seq"] < limit):
                yield key, i, record, None


def _line_entries(
    lines: list[bytes], after: int
) -> list[tuple[int, dict[str, Any] | None, str | None]]:
    """
    (line number, record or None, problem) for each line after ``after``.
    """
    decoded = _decode_segment(lines, after)
    out: list[tuple[int, dict[str, Any] | None, str | None]] = []
    for i, line in enumerate(lines):
        if _seq_before(line, after):
            continue  # covered by the snapshot: not even decoded
        record = decoded[i]
        if record is None:
            try:
                record = decode_record(line)
            except CorruptDataError as e:
                out.append((i, None, str(e)))
                continue
        out.append((i, record, None))
    return out


class TradeRun(NamedTuple):
    """
    Consecutive journaled record_trade lines of one segment, decoded: their sequence numbers,
    the Trades the calls built and the ``net_pnl`` each was given (or None), in line order.
    """

    seqs: list[int]
    trades: list[Trade]
    given: list[Decimal | None]

    def below(self, limit: int) -> TradeRun:
        """
        The rows whose sequence number is below ``limit``.
        """
        if max(self.seqs) < limit:
            return self
        kept = [n for n, seq in enumerate(self.seqs) if seq < limit]
        return TradeRun(
            [self.seqs[n] for n in kept],
            [self.trades[n] for n in kept],
            [self.given[n] for n in kept],
        )

    def part(self, start: int, stop: int) -> TradeRun:
        """
        The rows from position ``start`` to ``stop`` (excluded).
        """
        return TradeRun(self.seqs[start:stop], self.trades[start:stop], self.given[start:stop])


# A string that holds no escape: its bytes are its UTF-8 text. Lines with escaped strings
# (and any other layout) take the JSON decoder. (Possessive: a string's characters are never
# given back, since none of them can be the quote that ends it; the engine keeps no
# backtracking state per character, a sixteenth of the pass.)
_STR: Final = rb'"([^"\\\x00-\x1f]++)"'
_NULLABLE: Final = rb"(?:" + _STR + rb"|null)"
#: One journal line: a record_trade in ``_TRADE_LINE``'s layout (crc, body, then each value;
#: an absent nullable group reads b""), or any other line whole (the last group).
_ROW_LINE: Final = re.compile(
    rb'^(?:([0-9a-f]{8}) (\{"seq":(0|[1-9][0-9]*),"kind":"record_trade","id":'
    + rb'(?:"[^"\\\x00-\x1f]++"|null)'  # the trade id again (or the idea's): not read
    + rb',"data":\{"trade_id":'
    + _NULLABLE
    + b"".join(
        rb',"%s":%s' % (name.encode(), _STR)
        for name in WHOLE_TRADE_ARGS[1:10]  # symbol ... strategy: never null
    )
    + rb',"stop_price":'
    + _NULLABLE
    + rb',"target_price":'
    + _NULLABLE
    + rb',"tags":\[((?:"[^"\\\x00-\x1f]++")(?:,"[^"\\\x00-\x1f]++")*+)?\],"net_pnl":'
    + _NULLABLE
    + rb',"idea_id":'
    + _NULLABLE
    + rb"\}\})|(.*))$",
    re.MULTILINE,
)


def _row_entries(
    data: bytes, after: int
) -> list[tuple[int, dict[str, Any] | TradeRun | None, str | None]] | None:
    r"""
    ``_line_entries`` of a whole segment, with its record_trade lines as ``TradeRun``\ s
    (each run of them between other lines one entry, at its first line): one
    regular-expression pass over the segment and one conversion pass per field (each
    distinct name, tag set and amount converted once), instead of a JSON parse and a dict
    per record. Other lines (the init record, other kinds, escaped strings, lines that fail
    their checksum) go through ``_line_entries``. None when the segment holds something
    that only the line-by-line reading judges exactly (a carriage return, which splits
    lines there, or a value that does not convert).
    """
    if b"\r" in data:
        return None
    matches = _ROW_LINE.findall(data)
    matches.pop()  # the empty match after the last newline, or a last line cut before it
    columns: list[tuple[bytes, ...]] = (
        list(zip(*matches, strict=True)) if matches else [()] * _ROW_LINE.groups
    )
    # Other lines have no checksum group: -1 never equals a CRC-32.
    crcs = columns[0] if all(columns[0]) else [crc or b"-1" for crc in columns[0]]
    stated = list(map(int, crcs, itertools.repeat(16)))
    computed = list(map(zlib.crc32, columns[1]))
    rows_at: list[int] = list(range(len(matches)))
    other_at: list[int] = []
    if stated != computed:  # (one C comparison of the lists in the usual case)
        good = list(map(operator.eq, stated, computed))
        other_at = [i for i, ok in enumerate(good) if not ok]
        rows_at = [i for i, ok in enumerate(good) if ok]
    if after >= 0:  # what the snapshot covers is not even decoded
        seqs = columns[2]
        rows_at = [i for i in rows_at if int(seqs[i]) > after]
    if len(rows_at) != len(matches):
        columns = list(zip(*map(matches.__getitem__, rows_at), strict=True))
    other = [
        b"%s %s\n" % matches[i][:2] if matches[i][0] else matches[i][-1] + b"\n" for i in other_at
    ]
    if not data.endswith(b"\n") and data:
        other_at.append(len(matches))
        other.append(data[data.rfind(b"\n") + 1 :])  # a last line cut before its newline
    try:
        rows = _trade_rows(columns) if rows_at else None
    except (ValueError, ArithmeticError, InvalidInputError):
        return None  # not what encode_record writes: the line-by-line reading judges it
    out: list[tuple[int, dict[str, Any] | TradeRun | None, str | None]] = [
        (other_at[i], record, problem) for i, record, problem in _line_entries(other, after)
    ]
    if rows is not None:
        # Cut the rows into runs at the other lines, so that everything stays in line order.
        cuts = [bisect.bisect_left(rows_at, line) for line in other_at]
        bounds = [0, *(c for c in cuts if 0 < c < len(rows_at)), len(rows_at)]
        out += [
            (rows_at[start], rows.part(start, stop), None)
            for start, stop in itertools.pairwise(bounds)
            if start < stop
        ]
        out.sort(key=_first)
    return out


_first: Final = operator.itemgetter(0)
_ZONE_OF: Final = operator.attrgetter("tzinfo")


def _trade_rows(columns: list[tuple[bytes, ...]]) -> TradeRun:
    """
    The TradeRun of ``_ROW_LINE`` matches by column: each field converted in one pass, and
    the Trades built as ``record_trade`` builds them, a column at a time (``_round_trips``).
    """
    from perftrack._tracker import _round_trips, levels_hold  # noqa: PLC0415

    tids = _texts(columns[3])
    symbols = _coded(columns[4], partial(to_name, "symbol"))
    sides = _coded(columns[5], to_side)
    # Checksummed is not enough (another writer's record): each amount as record_trade takes
    # it (finite, in range, above its minimum: judged on the distinct values), each time with
    # a zone, no exit before its entry, each stop and target on its side, or the line-by-line
    # reading judges the record.
    qtys, entries, exits = (_coded(columns[i], Decimal, check=amounts_hold) for i in (6, 7, 8))
    t_ins, t_outs = (
        list(map(datetime.fromisoformat, map(bytes.decode, columns[i]))) for i in (9, 10)
    )
    if None in map(_ZONE_OF, t_ins) or None in map(_ZONE_OF, t_outs):
        raise ValueError("a time without a zone")
    if not all(map(operator.le, t_ins, t_outs)):
        raise ValueError("an exit before its entry")
    fees = _coded(columns[11], Decimal, check=partial(amounts_hold, minimum="nonnegative"))
    strategies = _coded(columns[12], partial(to_name, "strategy"))
    stops = _coded(columns[13], Decimal, check=amounts_hold)
    targets = _coded(columns[14], Decimal, check=amounts_hold)
    given = _coded(columns[16], Decimal, check=partial(amounts_hold, minimum="any"))
    with localcontext(MONEY_CONTEXT):
        if (any(columns[13]) and not levels_hold(sides, entries, stops, target=False)) or (
            any(columns[14]) and not levels_hold(sides, entries, targets, target=True)
        ):
            raise ValueError("a stop or target on the wrong side of its entry")
        # Absent values are found in the raw columns: ``None in`` a list of Decimals would
        # make each Decimal ask the numbers ABCs what None is.
        trades = _round_trips(
            (tids, symbols, strategies, sides, qtys, entries, exits, t_ins, t_outs, fees),
            given if any(columns[16]) else None,  # some net P&L was given
            stops if any(columns[13]) else None,
            targets,
            _coded(columns[15], _tag_tuple, empty=()),
            _texts(columns[17]),  # idea ids
            every_stop=all(columns[13]),
        )
    return TradeRun(list(map(int, columns[2])), trades, given)


def _record_trade_args(trade: Trade, net_pnl: Decimal | None) -> dict[str, Any]:
    """
    The ``record_trade`` arguments that built ``trade`` (``net_pnl`` as the source gave it).
    """
    args = {name: getattr(trade, name) for name in WHOLE_TRADE_ARGS}
    args["net_pnl"] = net_pnl
    return args


def _texts(column: tuple[bytes, ...]) -> list[str | None]:
    """
    The strings of a nullable column (b"" stands for null: a journaled string is never empty).
    """
    # (Truth tests, not comparisons with b"": they stop at the first that settles it.)
    if all(column):
        return list(map(bytes.decode, column))
    if not any(column):
        return [None] * len(column)
    return [text or None for text in map(bytes.decode, column)]


def _coded(
    column: tuple[bytes, ...],
    convert: Callable[[str], Any],
    empty: object = None,
    *,
    check: Callable[[list[Any]], bool] | None = None,
) -> list[Any]:
    """
    ``convert`` of each value of a column (b"" is ``empty``: null, or no tags), once per
    distinct value: names, tags, prices, sizes and fees repeat, and the trades then share
    one object each. ``check`` judges the distinct converted values (ValueError when it
    says no).
    """
    if not any(column):
        return [empty] * len(column)  # stops, targets, given net P&L, ideas: often all absent
    first = column[0]
    if column[-1] == first and column.count(first) == len(column):
        # One value throughout (a bot's usual size, fee or tags): one C-level comparison per
        # row instead of a hash and a lookup.
        value = convert(first.decode()) if first else empty
        if check is not None and first and not check([value]):
            raise ValueError(f"a value record_trade refuses: {first!r}")
        return [value] * len(column)
    memo = {raw: convert(raw.decode()) if raw else empty for raw in set(column)}
    if check is not None and not check([v for raw, v in memo.items() if raw]):
        raise ValueError("a value record_trade refuses")
    return list(map(memo.__getitem__, column))


def _tag_tuple(text: str) -> tuple[str, ...]:
    # '"a","b"' (the regular expression admits no quote inside a name).
    return to_tags(text[1:-1].split('","'))


def _decode_segment(lines: list[bytes], after: int) -> list[dict[str, Any] | None]:
    """
    The records of a segment's lines after ``after``, decoded together (one JSON parse for
    every line that passes its checksum, instead of one per line); None where a line fails or
    the batch does not parse, for ``decode_record`` to judge one by one.
    """
    bodies: list[bytes] = []
    at: list[int] = []
    crc32 = zlib.crc32
    for i, line in enumerate(lines):
        if _seq_before(line, after):
            continue
        crc, _, body = line[:-1].partition(b" ")
        if line.endswith(b"\n") and len(crc) == 8 and crc32(body) == _hex(crc):
            bodies.append(body)
            at.append(i)
    out: list[dict[str, Any] | None] = [None] * len(lines)
    try:
        records = json.loads(b"[%s]" % b",".join(bodies))
    except ValueError:
        return out
    if len(records) != len(at) or not all(map(_is_record, records)):
        return out
    for i, record in zip(at, records, strict=True):
        out[i] = record
    return out


def _hex(text: bytes) -> int:
    try:
        return int(text, 16)
    except ValueError:
        return -1


_SEQ_AT: Final = len(b'00000000 {"seq":')


def _seq_before(line: bytes, after: int) -> bool:
    """
    Whether a journal line's sequence number is at most ``after``, read from its fixed
    prefix without decoding it (False when the prefix is not the usual one).
    """
    end = line.find(b",", _SEQ_AT, _SEQ_AT + 20)
    if end < 0 or line[9:_SEQ_AT] != b'{"seq":':
        return False
    digits = line[_SEQ_AT:end]
    return digits.isdigit() and int(digits) <= after


def load_latest_snapshot(
    store: ObjectStore, account: str, skipped: list[str]
) -> tuple[str | None, int | None, dict[str, Any] | None]:
    """
    (key, seq, state) of the newest snapshot not in ``skipped`` that reads back intact; the
    damaged keys met on the way are added to ``skipped``.
    """
    for key in snapshots(store, account):
        if key in skipped:
            continue
        try:
            seq, state = decode_snapshot(store.get(key))
        except (CorruptDataError, MissingKeyError) as e:
            skipped.append(_skipped(key, str(e)))
            continue
        return key, seq, state
    return None, None, None


#: What loading a checksummed snapshot whose content is not what ``tracker_state`` writes
#: raises (a missing field, a value of the wrong type, text that is no Decimal or time).
MALFORMED: Final = (
    CorruptDataError,
    KeyError,
    IndexError,
    TypeError,
    ValueError,
    AttributeError,
    ArithmeticError,
)


class DetailUnreadable(CorruptDataError):
    """
    The trade detail of a lazily restored snapshot is not what ``tracker_state`` wrote.
    """


def _skipped(key: str | None, reason: str) -> str:
    """
    ``key``, logged as a damaged snapshot that a restore skips.
    """
    log.warning("perftrack.snapshot_skipped", key=key, reason=reason)
    return str(key)


def replay(tracker: Tracker, kind: str, data: dict[str, Any]) -> None:
    """
    Apply one journaled event to ``tracker`` (whose sinks are detached).
    """
    if kind == "init":
        return
    if "." in kind:
        tracker._replay_component(kind, data)
        return
    method: Callable[..., object] | None = getattr(tracker, kind, None)
    if kind not in REPLAYABLE or method is None:
        msg = f"'kind' is not a journaled event (got {kind!r})"
        raise InvalidInputError(msg)
    method(**data)


def replay_trades(tracker: Tracker, trades: list[Trade], given: list[Decimal | None]) -> int:
    """
    Apply a run of journaled ``record_trade`` events in order: the Trades they built and the
    ``net_pnl`` each was given. Returns how many took the trusted path (the rest went through
    the public call).

    A journal record passed its checksum and holds the arguments ``record_trade`` accepted
    and normalised when the event happened, so checking them again only costs time. The
    trusted path applies when no sink, observer (alerts, ideas, reviews) or signal receiver
    would see the event and the trade touches no existing id, no idea and no archived day:
    such trades are booked a run at a time (``Tracker._book_replayed_trades``). Everything
    else (and every other kind of event) goes through the public method, in its place in
    the order.
    """
    if (
        tracker._sinks
        or tracker._observers
        or signals.trade_closed.receivers
        or signals.equity_changed.receivers
    ):
        for at, (trade, net_pnl) in enumerate(zip(trades, given, strict=True)):
            _record_replayed(tracker, at, trade, net_pnl)
        return 0
    ordinals = _session_days(tracker, list(map(_EXIT_TIME, trades)))
    tids = list(map(_TRADE_ID, trades))
    closed_ids, open_ids, horizon = tracker._closed_ids, tracker._open, tracker._archived_before
    unique = set(tids)  # (a set: the views below then look up whichever side is smaller)
    if (
        None not in unique
        and not any(map(_IDEA_ID, trades))
        and len(unique) == len(tids)
        and closed_ids.keys().isdisjoint(unique)
        and open_ids.keys().isdisjoint(unique)
        and (horizon is None or min(ordinals) >= horizon)
    ):
        _book_trusted(tracker, trades, ordinals)  # the usual case: the whole run
        return len(trades)
    trusted = 0
    batch: list[Trade] = []
    days: list[int] = []
    taken: set[str] = set()
    for at, (trade, net_pnl, ordinal) in enumerate(zip(trades, given, ordinals, strict=True)):
        tid = trade.trade_id
        if (
            tid is None
            or trade.idea_id is not None
            or tid in closed_ids
            or tid in open_ids
            or tid in taken
            or (horizon is not None and ordinal < horizon)
        ):
            # In its place in the order: what the run gathered so far first.
            _book_trusted(tracker, batch, days)
            trusted += len(batch)
            batch, days, taken = [], [], set()
            _record_replayed(tracker, at, trade, net_pnl)
            continue
        taken.add(tid)
        batch.append(trade)
        days.append(ordinal)
    _book_trusted(tracker, batch, days)
    return trusted + len(batch)


#: What replaying a checksummed record that no tracker wrote raises: arguments that are not
#: the call's, or values it refuses (its InvalidInputError and DuplicateTradeError are
#: ValueErrors, UnknownTradeError a KeyError). A StoreError is the store's, and stays one.
_REFUSED: Final = (TypeError, KeyError, AttributeError, ValueError, ArithmeticError)


class RowRefused(Exception):
    """
    The public ``record_trade`` of row ``at`` of a ``replay_trades`` run refused it: the
    record was not written by a tracker (its error is the cause).
    """

    def __init__(self, at: int) -> None:
        super().__init__(at)
        self.at = at


def _record_replayed(tracker: Tracker, at: int, trade: Trade, net_pnl: Decimal | None) -> None:
    try:
        tracker.record_trade(**_record_trade_args(trade, net_pnl))
    except StoreError:
        raise
    except _REFUSED as e:
        raise RowRefused(at) from e


def _session_days(tracker: Tracker, times: list[datetime]) -> list[int]:
    """
    The session day of each of ``times``: for times in order (the usual case) one lookup and
    one bisection per day, since a day's session covers a contiguous range of instants.
    """
    calendar = tracker._calendar
    if not _ordered(times):
        return list(map(calendar.session_of, times))
    days: list[int] = []
    at = 0
    while at < len(times):
        ordinal = calendar.session_of(times[at])
        end = bisect.bisect_left(times, calendar.session_bounds(ordinal)[1], at)
        days += [ordinal] * (end - at)
        at = end
    return days


_EXIT_TIME: Final = operator.attrgetter("exit_time")
_TRADE_ID: Final = operator.attrgetter("trade_id")
_IDEA_ID: Final = operator.attrgetter("idea_id")


def _book_trusted(tracker: Tracker, trades: list[Trade], ordinals: list[int]) -> None:
    if trades:
        with tracker._lock, localcontext(MONEY_CONTEXT):
            tracker._book_replayed_trades(trades, ordinals)


REPLAYABLE: Final = frozenset(
    {
        "record_trade",
        "open_trade",
        "add_to_trade",
        "close_trade",
        "mark_price",
        "mark_bar",
        "mark_partial",
    }
)


# -- the state of a tracker ------------------------------------------------------------------

_TRADE_FIELDS: Final = (
    "trade_id",
    "symbol",
    "strategy",
    "side",
    "quantity",
    "entry_price",
    "exit_price",
    "entry_time",
    "exit_time",
    "fees",
    "net_pnl",
    "stop_price",
    "target_price",
    "tags",
    "idea_id",
    "risk",
    "r_multiple",
    "realizations",
)
_POSITION_FIELDS: Final = (
    "trade_id",
    "symbol",
    "strategy",
    "side",
    "qty",
    "cost",
    "entry_qty",
    "entry_cost",
    "exit_qty",
    "exit_value",
    "fees",
    "realized",
    "entry_time",
    "stop_price",
    "target_price",
    "tags",
    "idea_id",
)
_DECIMAL_TRADE: Final = frozenset(
    {
        "quantity",
        "entry_price",
        "exit_price",
        "fees",
        "net_pnl",
        "stop_price",
        "target_price",
        "risk",
    }
)
_DECIMAL_POSITION: Final = frozenset(
    {
        "qty",
        "cost",
        "entry_qty",
        "entry_cost",
        "exit_qty",
        "exit_value",
        "fees",
        "realized",
        "stop_price",
        "target_price",
    }
)


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _dec(value: str | None) -> Decimal | None:
    return None if value is None else _money(value)


def _money(text: str) -> Decimal:
    """
    An amount of a snapshot: finite, as every amount a tracker accepts (a checksummed
    snapshot holding NaN or an infinity was not written by ``tracker_state``).
    """
    value = Decimal(text)
    if not value.is_finite():
        msg = f"snapshot amount must be a finite number (got {text!r})"
        raise CorruptDataError(msg)
    return value


_TRADE_GETTERS: Final = tuple(map(operator.attrgetter, _TRADE_FIELDS))
_TIME_TRADE: Final = frozenset({"entry_time", "exit_time"})
#: Low-cardinality fields, stored as a table of distinct values and indices into it (a
#: million trades share a few strings and tag tuples after a load).
_CODED_TRADE: Final = frozenset({"symbol", "strategy", "side", "tags", "idea_id"})


def _steps_json(steps: Any) -> list[list[str]]:
    """
    Realizations as JSON: ``[time, net_pnl, fees]`` text per step.
    """
    return [[s.time.isoformat(), str(s.net_pnl), str(s.fees)] for s in steps]


def _steps_of(rows: list[list[str]]) -> tuple[Any, ...]:
    from perftrack._model import Realization  # noqa: PLC0415

    return tuple(
        Realization(datetime.fromisoformat(t), _money(net), _money(fee)) for t, net, fee in rows
    )


def _trade_columns(trades: list[Any]) -> dict[str, Any]:
    """
    Closed trades by column: Decimals and times joined into one comma-separated string per
    field (None as "None": neither a Decimal's nor an ISO time's text holds a comma or reads
    "None"); names, tags, idea ids and flags as a table of distinct values and a list of
    indices into it; the rest as JSON lists. One C-level pass per field instead of a Python
    call per value.
    """
    # A pass per field (a C loop each) costs half of transposing rows of all fields.
    columns: list[Any] = [list(map(getter, trades)) for getter in _TRADE_GETTERS]
    out: dict[str, Any] = {"n": len(trades)}
    for name, column in zip(_TRADE_FIELDS, columns, strict=True):
        if name in _DECIMAL_TRADE:
            out[name] = ",".join(map(str, column))
        elif name in _TIME_TRADE:
            out[name] = ",".join(map(datetime.isoformat, column))
        elif name in _CODED_TRADE:
            # Distinct values in first-seen order, then each value's index: two C passes.
            table = {v: i for i, v in enumerate(dict.fromkeys(column))}
            out[name] = {"table": list(table), "codes": list(map(table.__getitem__, column))}
        elif name == "realizations":  # sparse: most trades are realized whole
            given = map(operator.is_not, column, itertools.repeat(None))
            at = list(itertools.compress(range(len(column)), given))
            out[name] = {"at": at, "steps": [_steps_json(column[i]) for i in at]}
        else:
            out[name] = list(column)
    return out


def _decimal_column(text: str, n: int) -> list[Decimal | None]:
    if not n:
        return []
    parts = text.split(",")
    # Each distinct value is parsed once and shared (Decimals are immutable): prices, sizes
    # and fees repeat across trades.
    memo = {p: None if p == "None" else _money(p) for p in set(parts)}
    return list(map(memo.__getitem__, parts))


def _trades_of(state: dict[str, Any]) -> list[Any]:
    """
    The closed trades of a snapshot's state (schema 2 columns, or schema 1 rows).
    """

    rows = state["trades"]
    if isinstance(rows, list):  # schema 1: one list per trade, a booked_whole flag last
        trades = []
        for row in rows:
            fields = dict(zip(_TRADE_FIELDS, row, strict=True))
            fields["realizations"] = None  # read back from the day events (load_state)
            for name in _DECIMAL_TRADE:
                fields[name] = _dec(fields[name])
            fields["entry_time"] = _time(fields["entry_time"])
            fields["exit_time"] = _time(fields["exit_time"])
            fields["tags"] = tuple(fields["tags"])
            trades.append(Trade(**fields))
        return trades
    n = rows["n"]
    columns: list[Any] = []
    for name in _TRADE_FIELDS:
        if name == "realizations":
            sparse = rows.get(name)
            realized: list[Any] = [None] * n  # schema 2 has none: read from the day events
            if sparse is not None:
                for i, steps in zip(sparse["at"], sparse["steps"], strict=True):
                    realized[i] = _steps_of(steps)
            columns.append(realized)
            continue
        column = rows[name]
        if name in _DECIMAL_TRADE:
            column = _decimal_column(column, n)
        elif name in _TIME_TRADE:
            column = list(map(datetime.fromisoformat, column.split(","))) if n else []
        elif name in _CODED_TRADE:
            table = column["table"]
            if name == "tags":
                table = [tuple(t) for t in table]
            column = list(map(table.__getitem__, column["codes"]))
        if len(column) != n:
            msg = f"snapshot trade column {name!r} holds {len(column)} values, not {n}"
            raise CorruptDataError(msg)
        columns.append(column)
    return list(map(Trade, *columns))


def tracker_state(tracker: Tracker) -> dict[str, Any]:
    """
    Everything a tracker needs to come back exactly as it is (call under its lock).

    The per-day buckets are derived: restore rebuilds them from the raw day events.
    """
    from perftrack._stats import event_source  # noqa: PLC0415 (cycle: _stats is light)

    tracker._drain()
    trades = tracker._closed
    # (C-level passes: a comprehension costs three times as much at a million trades.)
    index = dict(zip(map(id, trades), itertools.count()))
    by_id: dict[str, int] = {}  # built when first needed: only steps of trades look ids up

    def source_ref(source: Any) -> list[Any]:
        if id(source) in index:
            return ["C", index[id(source)]]
        if source.trade_id in tracker._open and tracker._open[source.trade_id] is source:
            return ["O", source.trade_id]
        if not by_id and trades:
            by_id.update(zip(map(_TRADE_ID, trades), itertools.count()))
        if source.trade_id in by_id:
            return ["C", by_id[source.trade_id]]  # a position that has closed since
        # Its trade closed on a day retention archived: keep what buckets match on.
        return _archived_ref(source)

    days: dict[str, list[Any]] = {}
    for ordinal, events in tracker._days.items():
        rows: list[Any] = []
        for event in events:
            if isinstance(event, tuple):
                when, amount, fee, closed, source = event
                rows.append(
                    [
                        when,
                        amount,
                        fee,
                        None if closed is None else index[id(closed)],
                        source_ref(source),
                    ]
                )
            else:
                rows.append(index[id(event_source(event))])
        days[str(ordinal)] = rows
    live = tracker._live
    return {
        "config": {
            "starting_equity": tracker._start,
            "timezone": tracker.timezone,
            "calendar": tracker.calendar,
            "periods_per_year": tracker.periods_per_year,
        },
        "trades": _trade_columns(trades),
        "positions": [
            [getattr(p, f) for f in _POSITION_FIELDS] + [_tagged(p.opened), _steps_json(p.steps)]
            for p in tracker._open.values()
        ],
        "days": days,
        "symbols": {s: [b.qty, b.cost, b.mark, b.unrealized] for s, b in tracker._symbols.items()},
        "realized": tracker._realized,
        "unrealized": tracker._unrealized,
        "live": [live.time, live.equity, live.peak, live.max_dd, live.max_dd_pct],
        "clock": tracker._clock,
        "first_day": tracker._first_day,
        "last_day": tracker._last_day,
        "next_id": tracker._next_id,
        "event_ids": {k: _tagged(v) for k, v in tracker._event_ids.items()},
        "recent_opens": [[k, _tagged(v)] for k, v in tracker._recent_opens.items()],
        "combos": [list(k) for k in tracker._combos],
        "partial_days": sorted(tracker._partial_days),
        "archived_before": tracker._archived_before,
        "archived": [
            [
                list(key),
                [
                    [o, b.to_state()]
                    for o, b in zip(series.days, series.buckets, strict=True)
                    if o < tracker._archived_before
                ],
            ]
            for key, series in tracker._series.items()
        ]
        if tracker._archived_before is not None
        else [],
        "components": {name: c.snapshot_state() for name, c in tracker._components.items()},
        "buckets": _bucket_states(tracker),
    }


def _bucket_states(tracker: Tracker) -> list[Any]:
    """
    Per filter key, its retained days and the folded state of each day's bucket, or None for
    a bucket left queued: what a read-only restore answers summaries from without the trade
    detail (``load_lazily``). A live tracker folds a key's day when the key's next day
    begins, so only each key's newest bucket can hold a queue (at most QUEUE_LIMIT events):
    it is folded now. Queues on earlier days are a bulk load's (an import, a restore), which
    wait for their first read by design; they are stored as such and rebuilt from their day's
    events when first read after a read-only restore.
    """
    archived = tracker._archived_before
    out = []
    for key, series in tracker._series.items():
        newest = len(series.buckets) - 1
        days = [
            [o, b.to_state() if i == newest or not (b.queue or b.stale) else None]
            for i, (o, b) in enumerate(zip(series.days, series.buckets, strict=True))
            if archived is None or o >= archived
        ]
        out.append([list(key), days])
    return out


@attrs.frozen
class ArchivedSource:
    """
    What buckets match on, for an event whose source is neither a kept trade nor an open
    position: its trade's detail retention archived, or it is a step of a trade recorded
    with its realizations (whose closing step must not be the trade itself: that event
    would realize the whole trade).
    """

    trade_id: str
    strategy: str
    symbol: str
    side: str
    tags: tuple[str, ...]


def _source(ref: list[Any], tracker: Tracker, trades: list[Any]) -> Any:
    tag = ref[0]
    if tag == "O":
        return tracker._open[ref[1]]
    if tag == "C":
        return trades[ref[1]]
    return ArchivedSource(ref[1], ref[2], ref[3], ref[4], tuple(ref[5]))


def archive_days(
    tracker: Tracker, store: ObjectStore, ordinals: list[int], *, write: bool = True
) -> None:
    """
    Move the raw events and closed trades of ``ordinals`` (session days behind the retention
    horizon) into compressed archive objects; their day buckets, folded, stay in memory.
    With ``write=False`` (a read-only restore: the writer archived them already) the days
    only leave memory.
    """
    account = tracker._persistence.account
    tracker._drain()
    gone: set[str] = set()
    try:
        for ordinal in ordinals:
            _archive_day(tracker, store, account, ordinal, gone, write=write)
    finally:
        # Whatever was archived before a failing put is gone from memory consistently.
        for trade_id in gone:
            tracker._closed_ids.pop(trade_id, None)
        if gone:
            tracker._closed = [t for t in tracker._closed if t.trade_id not in gone]
            # Rolling windows cover retained trades only, as after a restore (which rebuilds
            # them from the retained trades). Archived trades are the oldest: on the left.
            for series in tracker._series.values():
                recent = series.recent
                while recent and recent[0].trade_id in gone:
                    recent.popleft()


def _archived_ref(source: Any) -> list[Any]:
    """
    A reference to a realization's source whose closed trade is not kept: what the buckets
    match on (id, strategy, symbol, side, tags).
    """
    return ["A", source.trade_id, source.strategy, source.symbol, source.side, list(source.tags)]


def _archive_day(
    tracker: Tracker,
    store: ObjectStore,
    account: str,
    ordinal: int,
    gone: set[str],
    *,
    write: bool = True,
) -> None:
    events = tracker._days[ordinal]
    closing: list[Any] = [e if not isinstance(e, tuple) else e[3] for e in events]
    day_trades = [t for t in closing if t is not None]
    index = {id(t): i for i, t in enumerate(day_trades)}
    rows: list[Any] = []
    for event in events:
        if not isinstance(event, tuple):
            rows.append(index[id(event)])
            continue
        when, amount, fee, closed, source = event
        ref = ["C", index[id(source)]] if id(source) in index else _archived_ref(source)
        rows.append([when, amount, fee, None if closed is None else index[id(closed)], ref])
    day = date.fromordinal(ordinal).isoformat()
    body = json.dumps(
        {
            "schema": ARCHIVE_SCHEMA,
            "day": day,
            "trades": [
                [getattr(t, f) for f in _TRADE_FIELDS[:-1]]
                + [None if t.realizations is None else _steps_json(t.realizations)]
                for t in day_trades
            ],
            "events": rows,
        },
        default=_plain,
        separators=(",", ":"),
    ).encode()
    packed = zlib.compress(body, level=6)
    if write:
        store.put(f"{account}/archive/{day}.json.z", b"%08x\n%s" % (zlib.crc32(packed), packed))
    # Only once the archive is durable does the day leave memory.
    for series in tracker._series.values():
        i = bisect.bisect_left(series.days, ordinal)
        if i < len(series.days) and series.days[i] == ordinal:
            series.buckets[i].flush()
            series.buckets[i].source = None  # nothing left to rebuild it from
    gone.update(t.trade_id for t in day_trades)
    del tracker._days[ordinal]
    # Advance day by day: if a later put fails, what is archived already stays refused.
    if tracker._archived_before is None or tracker._archived_before <= ordinal:
        tracker._archived_before = ordinal + 1


def load_state(tracker: Tracker, state: dict[str, Any]) -> None:
    """
    Fill a freshly constructed tracker from ``tracker_state`` output and rebuild its buckets.
    """
    state = with_detail(state)
    trades: list[Trade] = _trades_of(state)
    old_positions = False
    if not (isinstance(state["trades"], dict) and "realizations" in state["trades"]):
        old_positions = _steps_from_days(state, trades)  # schema 1 or 2
    tracker._closed = trades
    tracker._closed_ids = dict(zip((t.trade_id for t in trades), trades, strict=True))
    _load_head(tracker, state)
    for ordinal_text in sorted(state["days"], key=int):
        ordinal = int(ordinal_text)
        day, indexed = _day_events(tracker, state["days"][ordinal_text], trades)
        tracker._days[ordinal] = day
        index_day(tracker, ordinal, indexed)
    end_bulk(tracker)
    if old_positions:
        _position_steps_from_days(tracker)
    _load_components(tracker, state)


def load_lazily(tracker: Tracker, state: dict[str, Any]) -> None:
    """
    Fill a freshly constructed tracker from a schema 4 snapshot's head, without its trade
    detail: the buckets come folded from the snapshot (those it holds queued are rebuilt
    from their day's events on first read), and the closed trades, the id registry, the day
    events and the rolling windows are read from the detail section only when something asks
    for them (``load_detail``, through ``_LazyTracker.__getattr__``). For read-only trackers: a
    summary of a million trades then reads a few thousand bucket states instead of a million
    trades.
    """
    from perftrack._stats import Bucket  # noqa: PLC0415
    from perftrack._tracker import _Series  # noqa: PLC0415

    _load_head(tracker, state)
    series_of = tracker._series
    for key_list, days in state["buckets"]:
        key = (key_list[0], key_list[1], key_list[2], key_list[3])
        series = series_of.get(key)
        if series is None:
            series = series_of[key] = _Series(partial(tracker._key_events, key))
        for ordinal, bucket_state in days:
            if bucket_state is None:
                bucket = Bucket(series.source, ordinal)
                bucket.stale = True  # rebuilt from the day's events (the detail) when read
            else:
                bucket = Bucket.from_state(bucket_state, ordinal)
            series.insert(ordinal, bucket)
    _load_components(tracker, state)
    from perftrack._tracker import _LazyTracker  # noqa: PLC0415

    tracker._detail = state["detail"]
    # Until load_detail, these resolve through _LazyTracker.__getattr__, which loads them.
    for name in LAZY_DETAIL:
        delattr(tracker, name)
    tracker.__class__ = _LazyTracker


#: The tracker attributes that ``load_lazily`` leaves to ``load_detail``.
LAZY_DETAIL: Final = ("_closed", "_closed_ids", "_days")


def load_detail(tracker: Tracker) -> None:
    """
    Read the trade detail of a lazily restored tracker: closed trades, ids, day events, the
    rolling windows, and the sources that buckets rebuild from. Idempotent; thread-safe (under
    the tracker's lock).
    """
    from perftrack._tracker import ROLLING_CAPACITY, Tracker  # noqa: PLC0415

    with tracker._lock:
        # Re-checked under the lock: another thread may have loaded it meanwhile.
        detail = tracker._detail
        if detail is None:
            return
        state = detail.load()
        with _collector_paused(long_lived=True):
            # Read whole before anything is set: a detail that is not what tracker_state
            # wrote (checksummed all the same) is a typed error, the tracker left as it was.
            try:
                trades = _trades_of(state)
                days: dict[int, list[Any]] = {}
                for ordinal_text in sorted(state["days"], key=int):
                    rows = state["days"][ordinal_text]
                    days[int(ordinal_text)] = _day_events(tracker, rows, trades)[0]
            except MALFORMED as e:
                msg = f"snapshot detail cannot be read: {e!r}"
                raise DetailUnreadable(msg) from e
            tracker._closed = trades
            tracker._closed_ids = dict(zip((t.trade_id for t in trades), trades, strict=True))
            tracker._days = days
            archived = tracker._archived_before
            wanted = {}
            for key, series in tracker._series.items():
                for ordinal, bucket in zip(series.days, series.buckets, strict=True):
                    if archived is None or ordinal >= archived:
                        bucket.source = series.source
                wanted[key] = series.recent
            # The rolling windows: each key's newest retained trades in close order, as the
            # day-by-day indexing of a full restore leaves them.
            open_keys = dict(wanted)
            for trade in reversed(trades):
                if not open_keys:
                    break
                for key in tracker._keys(trade.strategy, trade.symbol, trade.side, trade.tags):
                    recent = open_keys.get(key)
                    if recent is None:
                        continue
                    recent.appendleft(trade)
                    if len(recent) >= ROLLING_CAPACITY:
                        del open_keys[key]
        tracker._detail = None
        tracker.__class__ = Tracker  # every attribute is in place again


def _load_head(tracker: Tracker, state: dict[str, Any]) -> None:
    """
    Everything of a snapshot's state but the closed trades, the day events and the
    components: positions, the ledger, the clock, the registries, and archived days' buckets.
    """
    from perftrack._stats import Bucket  # noqa: PLC0415
    from perftrack._tracker import _LivePath, _Position, _Series, _Symbol  # noqa: PLC0415

    width = len(_POSITION_FIELDS)
    for row in state["positions"]:
        fields = dict(zip(_POSITION_FIELDS, row[:width], strict=True))
        opened = _untagged(row[width])
        entry_time = datetime.fromisoformat(fields["entry_time"])
        # Built with placeholders, then every field set from the snapshot.
        pos = _Position(
            fields["trade_id"],
            fields["symbol"],
            fields["strategy"],
            fields["side"],
            Decimal(1),
            Decimal(1),
            entry_time,
            Decimal(0),
            None,
            None,
            tuple(fields["tags"]),
            fields["idea_id"],
        )
        for name in _DECIMAL_POSITION:
            setattr(pos, name, _dec(fields[name]))
        pos.opened = opened
        if len(row) > width + 1:
            pos.steps = list(_steps_of(row[width + 1]))
        tracker._open[pos.trade_id] = pos
    for symbol, (qty, cost, mark, unrealized) in state["symbols"].items():
        book = _Symbol(_money(mark))
        book.qty, book.cost, book.unrealized = _money(qty), _money(cost), _money(unrealized)
        tracker._symbols[symbol] = book
    tracker._realized = _money(state["realized"])
    tracker._unrealized = _money(state["unrealized"])
    live_time, equity, peak, max_dd, max_pct = state["live"]
    live = _LivePath(_money(equity))
    live.time = _time(live_time)
    live.peak, live.max_dd, live.max_dd_pct = _money(peak), _money(max_dd), _money(max_pct)
    tracker._live = live
    tracker._clock = _time(state["clock"])
    tracker._first_day = state["first_day"]
    tracker._last_day = state["last_day"]
    tracker._next_id = state["next_id"]
    tracker._event_ids = {k: _untagged(v) for k, v in state["event_ids"].items()}
    tracker._recent_opens = {k: _untagged(v) for k, v in state.get("recent_opens", ())}
    tracker._combos = {(k[0], k[1], k[2], k[3]) for k in state["combos"]}
    tracker._partial_days = set(state.get("partial_days", ()))
    tracker._archived_before = state.get("archived_before")
    for key_list, buckets in state.get("archived", ()):
        key = (key_list[0], key_list[1], key_list[2], key_list[3])
        series = tracker._series.get(key)
        if series is None:
            series = tracker._series[key] = _Series(partial(tracker._key_events, key))
        for ordinal, bucket_state in buckets:
            series.insert(ordinal, Bucket.from_state(bucket_state, ordinal))


def _day_events(
    tracker: Tracker, rows: list[Any], trades: list[Any]
) -> tuple[list[Any], list[tuple[Any, Any, Any]]]:
    """
    One day's events from a snapshot's rows, and (event, source, closed) for indexing them.
    """
    day: list[Any] = []
    indexed: list[tuple[Any, Any, Any]] = []
    for row in rows:
        if isinstance(row, int):
            trade = trades[row]
            day.append(trade)
            indexed.append((trade, trade, trade))
            continue
        when, amount, fee, closed_i, ref = row
        source = _source(ref, tracker, trades)
        closed = None if closed_i is None else trades[closed_i]
        event = (datetime.fromisoformat(when), _money(amount), _money(fee), closed, source)
        day.append(event)
        indexed.append((event, source, closed))
    return day, indexed


def _load_components(tracker: Tracker, state: dict[str, Any]) -> None:
    for name, component_state in state.get("components", {}).items():
        component = tracker._components.get(name)
        if component is not None:
            component.restore_state(component_state)


def _steps_from_days(state: dict[str, Any], trades: list[Any]) -> bool:
    """
    For a snapshot of schema 1 or 2, which did not store realizations: give each trade built
    from events the steps its day events booked (the closing one last, the others in day and
    arrival order), in place in ``trades``. A trade whose steps do not add up to it (some
    were archived) stays without them, as it was. True when the snapshot has open positions,
    whose steps ``_position_steps_from_days`` reads back.
    """
    from perftrack._model import Realization  # noqa: PLC0415

    steps: dict[int, list[Any]] = {}
    closing: dict[int, Any] = {}
    for ordinal_text in sorted(state["days"], key=int):
        for row in state["days"][ordinal_text]:
            if isinstance(row, int) or row[4][0] != "C":
                continue
            when, amount, fee, closed_i, ref = row
            step = Realization(datetime.fromisoformat(when), _money(amount), _money(fee))
            if closed_i is None:
                steps.setdefault(ref[1], []).append(step)
            else:
                closing[closed_i] = step
    for i, last in closing.items():
        trade = trades[i]
        schedule = (*steps.get(i, ()), last)
        with localcontext(MONEY_CONTEXT):
            net = sum((s.net_pnl for s in schedule), Decimal(0))
            fees = sum((s.fees for s in schedule), Decimal(0))
        if net == trade.net_pnl and fees == trade.fees:
            trades[i] = attrs.evolve(trade, realizations=schedule)
    return bool(state["positions"])


def _position_steps_from_days(tracker: Tracker) -> None:
    """
    For a snapshot of schema 1 or 2: each open position's steps, from its day events.
    """
    from perftrack._model import Realization  # noqa: PLC0415

    for ordinal in sorted(tracker._days):
        for event in tracker._days[ordinal]:
            if isinstance(event, tuple) and event[3] is None:
                pos = tracker._open.get(event[4].trade_id)
                if pos is not None and pos is event[4]:
                    pos.steps.append(Realization(event[0], event[1], event[2]))


def end_bulk(tracker: Tracker) -> None:
    """
    After a bulk load (snapshot or journal replay): from now on, the live rules for every
    bucket, fold at 256 queued events and at the day's end.
    """
    tracker._drain()  # the events the replay booked last
    for series in tracker._series.values():
        for bucket in series.buckets:
            bucket.bulk = False


def index_day(tracker: Tracker, ordinal: int, indexed: list[tuple[Any, Any, Any]]) -> None:
    """
    Bulk-load one day's events into the buckets, as ``tracker._index(..., bulk=True)`` for
    each (event, source, closed) in turn would, but a bucket at a time: a day's events for one
    key that arrive in time order extend its queue at once (``Bucket.add`` on each would queue
    them one by one, nothing folds in bulk), and closed trades in exit order extend the
    rolling window at once. Anything out of order goes through the one-by-one path.
    """
    from perftrack._stats import event_time  # noqa: PLC0415

    keys_of = tracker._keys
    slots: dict[Any, tuple[list[Any], list[Any]]] = {}
    for event, source, closed in indexed:
        for key in keys_of(source.strategy, source.symbol, source.side, source.tags):
            slot = slots.get(key)
            if slot is None:
                slot = slots[key] = ([], [])
            slot[0].append(event)
            if closed is not None:
                slot[1].append(closed)
    # When the whole day is in time order (the usual case), so is every key's share of it:
    # one check here instead of one per key.
    in_order = _ordered(list(map(event_time, (event for event, _, _ in indexed))))
    exits_in_order = _ordered([closed.exit_time for _, _, closed in indexed if closed is not None])
    _index_slots(tracker, ordinal, slots, in_order=in_order, exits_in_order=exits_in_order)


def index_trades(tracker: Tracker, ordinal: int, trades: list[Any]) -> None:
    """
    ``index_day`` of a day's closed trades each realized whole (the trade is its own event,
    source and closed trade): the trades of each combination of filter values are gathered
    once, and each filter key takes the combinations it covers, merged back into booking
    order, instead of one append per key per trade.
    """
    keys_of, known = tracker._keys, tracker._keys_cache
    # By the identity of the (cached) keys tuple: hashing the tuple itself costs more.
    positions: dict[int, list[int]] = {}
    combos: dict[int, tuple[Any, ...]] = {}
    for n, trade in enumerate(trades):
        combo = (trade.strategy, trade.symbol, trade.side, trade.tags)
        keys = known.get(combo) or keys_of(*combo)
        at = positions.get(id(keys))
        if at is None:
            at = positions[id(keys)] = []
            combos[id(keys)] = keys
        at.append(n)
    parts: dict[Any, list[list[int]]] = {}
    for ident, at in positions.items():  # in order of first use, as index_day meets keys
        for key in combos[ident]:
            part = parts.get(key)
            if part is None:
                parts[key] = [at]
            else:
                part.append(at)
    slots: dict[Any, tuple[list[Any], list[Any]]] = {}
    for key, part in parts.items():
        at = part[0] if len(part) == 1 else sorted(itertools.chain.from_iterable(part))
        events = trades if len(at) == len(trades) else list(map(trades.__getitem__, at))
        slots[key] = (events, events)
    in_order = _ordered(list(map(_EXIT_TIME, trades)))  # a trade's event time is its exit
    _index_slots(tracker, ordinal, slots, in_order=in_order, exits_in_order=in_order)


def _index_slots(
    tracker: Tracker,
    ordinal: int,
    slots: dict[Any, tuple[list[Any], list[Any]]],
    *,
    in_order: bool,
    exits_in_order: bool,
) -> None:
    """
    Queue each key's share of a day (its events, its closed trades) in the key's bucket and
    rolling window; ``in_order``: the day's events are in time order, ``exits_in_order``:
    its closed trades in exit order.
    """
    from perftrack._stats import event_time  # noqa: PLC0415
    from perftrack._tracker import _push_recent, _Series  # noqa: PLC0415

    series_of = tracker._series
    for key, (events, closed_trades) in slots.items():
        series = series_of.get(key)
        if series is None:
            series = series_of[key] = _Series(partial(tracker._key_events, key))
        i, bucket = series.bucket(ordinal, bulk=True)
        first = event_time(events[0])
        if (
            bucket.bulk
            and not bucket.stale
            and (bucket.seen is None or bucket.seen <= first)
            and (in_order or _ordered(list(map(event_time, events))))
        ):
            bucket.queue.extend(events)
            bucket.seen = event_time(events[-1])
        else:
            for event in events:
                bucket.add(event)
        if i != len(series.buckets) - 1:
            series.changed(i)
        recent = series.recent
        if (
            closed_trades
            and (not recent or recent[-1].exit_time <= closed_trades[0].exit_time)
            and (exits_in_order or _ordered([t.exit_time for t in closed_trades]))
        ):
            recent.extend(closed_trades)  # a bounded deque keeps the newest, as appends would
        else:
            for trade in closed_trades:
                _push_recent(recent, trade)


def _ordered(values: list[Any]) -> bool:
    return all(map(operator.le, values, values[1:]))


# -- options, restore, snapshots -------------------------------------------------------------


@attrs.frozen
class Options:
    """
    The persistence options of a tracker, checked.
    """

    account: str
    durability: str
    snapshot_every: int
    snapshot_interval: float | None
    batch_max_events: int
    batch_max_ms: float

    @classmethod
    def checked(cls, **values: Any) -> Options:
        check_account(values["account"])
        if values["durability"] not in DURABILITIES:
            msg = f"'durability' must be one of {DURABILITIES} (got {values['durability']!r})"
            raise InvalidInputError(msg)
        for name in ("snapshot_every", "batch_max_events"):
            value = values[name]
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                msg = f"{name!r} must be a positive int (got {value!r})"
                raise InvalidInputError(msg)
        for name in ("snapshot_interval", "batch_max_ms"):
            value = values[name]
            if value is None and name == "snapshot_interval":
                continue
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not 0 < value < math.inf  # (NaN fails both: a timer that never fires)
            ):
                msg = f"{name!r} must be a positive number (got {value!r})"
                raise InvalidInputError(msg)
        return cls(**values)


def check_account(account: object) -> None:
    """
    Raise InvalidInputError unless ``account`` can name an account's keys in a store.
    """
    # No "/": account "team" would then hold account "team/bot1" under its own prefix (a
    # copy of "team" took the other's objects and lock, and deleted the other's in the copy).
    try:
        plain = "/" not in validate_key(account)
    except StoreError:
        plain = False
    if not plain:
        msg = f"'account' must be a plain name usable as a store key, without '/' (got {account!r})"
        raise InvalidInputError(msg)


def account_has_data(store: ObjectStore, account: str) -> bool:
    """
    Whether ``store`` already holds a journal or a snapshot for ``account``.
    """
    return bool(segments(store, account) or snapshots(store, account))


def _stored_config(
    store: ObjectStore, account: str, state: dict[str, Any] | None, read: dict[str, bytes]
) -> dict[str, Any] | None:
    """
    The account's configuration: the snapshot's, else the journal's init record. The
    segment read for the init record is left in ``read`` (by key), for the replay that
    follows to take instead of reading it again.
    """
    if state is not None:
        config = state.get("config")
        if not isinstance(config, dict) or not all(name in config for name in CONFIG_KEYS):
            msg = f"snapshot 'config' must hold {CONFIG_KEYS} (got {config!r:.200})"
            raise CorruptDataError(msg)
        return config
    keys = segments(store, account)
    if keys:
        # The init record is the journal's first line (a store reads whole objects).
        data = read[keys[0]] = store.get(keys[0])
        end = data.find(b"\n") + 1
        try:
            head = decode_record(data[:end] if end else data)
        except CorruptDataError:
            head = {}
        limit = _seq_of(keys[1]) if len(keys) > 1 else None
        if head.get("kind") == "init" and (limit is None or head["seq"] < limit):
            init_data: dict[str, Any] = head["data"]
            return init_data
    for _key, _line, record, _problem in read_journal(store, account, -1, read=dict(read)):
        if record is not None and record["kind"] == "init":
            init: dict[str, Any] = record["data"]
            return init
        break
    return None


CONFIG_KEYS: Final = ("starting_equity", "timezone", "calendar", "periods_per_year")


def _same_setting(name: str, given: object, stored: object) -> bool:
    """
    Whether an option given to restore names the stored setting: by value for the numbers
    (``periods_per_year=252`` is the 252.0 the constructor stored; ``"10000.00"`` the
    starting equity 10000), by text for the names.
    """
    if str(given) == str(stored):
        return True
    try:
        if name == "periods_per_year":
            return not isinstance(given, bool) and float(given) == float(stored)  # type: ignore[arg-type]
        if name == "starting_equity":
            from perftrack._convert import to_decimal  # noqa: PLC0415

            return to_decimal(name, given, error=InvalidInputError) == Decimal(str(stored))
    except (TypeError, ValueError, ArithmeticError):
        return False
    return False


#: How many times a read-only restore reads a store whose writer snapshotted meanwhile.
READ_ONLY_ATTEMPTS: Final = 3


def restore(
    cls: type[Tracker],
    store: ObjectStore,
    account: str,
    options: dict[str, Any],
    *,
    read_only: bool = False,
) -> Tracker:
    """
    The implementation of ``Tracker.restore``: a writable restore takes the account's lock
    before it reads anything, so that it never reads, nor repairs, a journal that a live
    tracker is appending to.
    """
    if "store" in options:
        msg = "'store' is restore()'s first argument, not an option"
        raise InvalidInputError(msg)
    if read_only:
        # Without the lock a live writer goes on meanwhile: two snapshots it writes while the
        # restore reads compact away the journal after the snapshot read, which then looks
        # damaged. Such a restore is done again from the newer snapshot.
        for _attempt in range(READ_ONLY_ATTEMPTS - 1):
            newest = snapshots(store, account)[:1]
            tracker = _restore(cls, store, account, options, None)
            report = tracker.restore_report
            if (
                report is None
                or not (report.problems or report.dropped_records)
                or snapshots(store, account)[:1] == newest
            ):
                return tracker
        return _restore(cls, store, account, options, None)
    lock = AccountLock(store, account)
    lock.acquire()
    try:
        return _restore(cls, store, account, options, lock)
    except BaseException:
        lock.release()  # (a no-op once the restored tracker owns it and released it)
        raise


def _configured(cls: type[Tracker], config: dict[str, Any], **settings: Any) -> Tracker:
    """
    A new ``cls`` with an account's stored configuration (``CONFIG_KEYS``) and ``settings``.
    """
    return cls(
        config["starting_equity"],
        timezone=config["timezone"],
        calendar=config["calendar"],
        periods_per_year=config["periods_per_year"],
        **settings,
    )


def _restore(
    cls: type[Tracker],
    store: ObjectStore,
    account: str,
    options: dict[str, Any],
    lock: AccountLock | None,
    skipped: list[str] | None = None,
) -> Tracker:
    read_only = lock is None
    skipped = [] if skipped is None else skipped
    while True:
        with _collector_paused():
            key, seq, state = load_latest_snapshot(store, account, skipped)
        read: dict[str, bytes] = {}  # the segment holding the init record, for the replay
        try:
            config = _stored_config(store, account, state, read)
        except CorruptDataError as e:
            if state is None:
                raise
            skipped.append(_skipped(key, str(e)))
            continue
        if config is None:
            if account_has_data(store, account):
                msg = f"account {account!r} has a journal but neither an init record nor a snapshot"
                raise CorruptDataError(msg)
            if lock is None:
                return _read_only(cls(account=account, **options))
            lock.release()  # nothing to read: the new tracker takes the lock itself
            return cls(store=store, account=account, **options)
        for name in CONFIG_KEYS:
            if name in options and not _same_setting(name, options[name], config[name]):
                msg = (
                    f"{name!r} of account {account!r} is {config[name]!r} in the store "
                    f"(got {options[name]!r})"
                )
                raise InvalidInputError(msg)
        settings = {k: v for k, v in options.items() if k not in CONFIG_KEYS}
        tracker = _configured(cls, config, account=account, **settings)
        # What the restore builds is the tracker's state, kept: it goes to the oldest generation
        # at once, not walked by a young collection at the first allocation after the pause.
        try:
            with localcontext(MONEY_CONTEXT), _collector_paused(long_lived=True):
                lazy = read_only and type(tracker) is _tracker_class()  # (a subclass keeps it)
                if state is not None and lazy and isinstance(state.get("detail"), SnapshotDetail):
                    load_lazily(tracker, state)  # nothing can change it: the detail waits
                elif state is not None:
                    load_state(tracker, state)
        except MALFORMED as e:
            # Checksummed, but not what tracker_state writes (another writer's bug): damaged
            # like a snapshot that fails its checksum, so the previous one and the journal.
            skipped.append(_skipped(key, f"snapshot content cannot be read: {e!r}"))
            continue
        break
    after = -1 if seq is None else seq
    problems: list[str] = [f"damaged snapshot {k} skipped" for k in skipped]
    state_box: dict[str, int] = {}
    # Components read what they delivered before the restart (e.g. the alert journal) so the
    # replay delivers only what the crash kept from being delivered.
    tracker._store = store
    tracker._read_only = read_only  # (a writable restore holds the lock: components may repair)
    for component in tracker._components.values():
        load_delivered = getattr(component, "load_delivered", None)
        if callable(load_delivered):
            load_delivered()
    tracker._replaying = True
    unreadable: DetailUnreadable | None = None
    try:
        with _collector_paused(long_lived=True):
            _replay_journal_into(tracker, store, account, after, problems, state_box, read)
    except DetailUnreadable as e:
        unreadable = e
    finally:
        tracker._replaying = False
        if unreadable is None:  # (else the tracker is dropped)
            end_bulk(tracker)
    if unreadable is not None:
        # A lazily loaded detail the replay needed: as damaged as a snapshot failing its
        # checksum (only read-only restores load lazily, and they change nothing in the store).
        skipped.append(_skipped(key, str(unreadable)))
        return _restore(cls, store, account, options, lock, skipped)
    expected, replayed = state_box["expected"], state_box["replayed"]
    damaged_lines, remaining = state_box["damaged"], state_box["remaining"]
    if (damaged_lines or remaining) and not read_only:
        log.warning(
            "perftrack.journal_truncated",
            account=account,
            damaged_lines=damaged_lines,
            dropped_records=remaining,
            kept_up_to=expected - 1,
        )
        _repair_journal(store, account, expected)
    tracker.restore_report = RestoreReport(
        snapshot_seq=seq,
        replayed=replayed,
        skipped_snapshots=tuple(skipped),
        dropped_records=remaining,
        problems=tuple(problems),
    )
    if lock is None:
        # As the writer did after each of these events: the days behind the horizon leave
        # memory (their archives are the writer's), or trades(), rolling windows and the
        # equity curve would cover more than the writer's.
        tracker._apply_retention("restore", {}, None, [])
        return _read_only(tracker)
    tracker._attach(store, next_seq=expected, new_account=False, lock=lock)
    try:
        # The replay ran before retention was attached: bring the archive up to date now.
        tracker._apply_retention("restore", {}, None, [])
    except BaseException:
        tracker.close()
        raise
    return tracker


def _tracker_class() -> type[Tracker]:
    """
    ``Tracker`` itself: only its instances are restored lazily, since a lazy restore
    switches the instance's class while the detail is unread (``_LazyTracker``), which
    would lose a subclass of the caller's.
    """
    from perftrack._tracker import Tracker  # noqa: PLC0415

    return Tracker


def _read_only(tracker: Tracker) -> Tracker:
    from perftrack._tracker import _refuse_read_only  # noqa: PLC0415

    tracker._read_only = True
    tracker._sinks.append(_refuse_read_only)
    return tracker


def _replay_journal_into(
    tracker: Tracker,
    store: ObjectStore,
    account: str,
    after: int,
    problems: list[str],
    out: dict[str, int],
    read: dict[str, bytes],
) -> None:
    expected = after + 1
    replayed = damaged_lines = remaining = 0
    stop_reason = None
    # Consecutive record_trade records wait here (their Trades, the net P&L each was given)
    # and are applied together, before the next record of another kind.
    trades: list[Trade] = []
    given: list[Decimal | None] = []
    # Where each run of ``trades`` came from: (its first position, segment, sequence numbers).
    places: list[tuple[int, str, list[int]]] = []
    for key, line_no, record, problem in read_journal(store, account, after, rows=True, read=read):
        if stop_reason is not None:
            remaining += len(record.seqs) if isinstance(record, TradeRun) else 1
            continue
        if record is None:
            damaged_lines += 1
            problems.append(f"{key} line {line_no + 1}: {problem}")
            continue
        if isinstance(record, TradeRun):
            n = len(record.seqs)
            if record.seqs == list(range(expected, expected + n)):  # the usual case
                places.append((len(trades), key, record.seqs))
                trades += record.trades
                given += record.given
                replayed += n
                expected += n
                continue
            # Otherwise row by row, as for single records below.
            for at, seq in enumerate(record.seqs):
                if stop_reason is not None:
                    remaining += 1
                elif seq > expected:
                    stop_reason = f"journal jumps from {expected - 1} to {seq} in {key}"
                    remaining += 1
                elif seq == expected:
                    places.append((len(trades), key, [seq]))
                    trades.append(record.trades[at])
                    given.append(record.given[at])
                    replayed += 1
                    expected += 1
            continue
        seq = record["seq"]
        if seq < expected:
            continue  # written twice by a retried append
        if seq > expected:
            stop_reason = f"journal jumps from {expected - 1} to {seq} in {key}"
            remaining += 1
            continue
        if tracker._detail is not None:
            # The journal moves the state on from the snapshot's: the detail must be there
            # as the snapshot left it before the first record changes anything.
            load_detail(tracker)
        if trades:
            _replayed_trades(tracker, trades, given, places)
            trades, given, places = [], [], []
        if record["kind"] == IMPORT_KIND:
            problems.append(_missing_import(key, record))
        else:
            _replayed(tracker, key, line_no, record)
        replayed += 1
        expected += 1
    if trades:
        if tracker._detail is not None:
            load_detail(tracker)  # as above: before the first change
        _replayed_trades(tracker, trades, given, places)
    if stop_reason is not None:
        problems.append(stop_reason)
    out.update(expected=expected, replayed=replayed, damaged=damaged_lines, remaining=remaining)


def _replayed(tracker: Tracker, key: str, line_no: int, record: dict[str, Any]) -> None:
    """
    ``replay`` of a record that passed its checksum. One the tracker refuses, or whose
    arguments are not the call's, was not written by a tracker (another version's, another
    tool's): CorruptDataError, naming it, instead of the raw error of the call.
    """
    try:
        replay(tracker, record["kind"], record["data"])
    except StoreError:
        raise
    except _REFUSED as e:
        what = f"record {record['seq']} ({record['kind']!r})"
        msg = f"{key} line {line_no + 1}: {what} cannot be replayed: {e}"
        raise CorruptDataError(msg) from e


def _replayed_trades(
    tracker: Tracker,
    trades: list[Trade],
    given: list[Decimal | None],
    places: list[tuple[int, str, list[int]]],
) -> None:
    """
    ``replay_trades``; a row its public call refuses (an id a closed trade holds with other
    content) is CorruptDataError naming segment and record, as ``_replayed`` names others.
    ``places``: where the runs of ``trades`` came from, as ``_replay_journal_into`` keeps them.
    """
    try:
        replay_trades(tracker, trades, given)
    except RowRefused as e:
        first, key, seqs = places[bisect.bisect_right(places, e.at, key=_first) - 1]
        seq = seqs[e.at - first]
        msg = f"{key}: record {seq} ('record_trade') cannot be replayed: {e.__cause__}"
        raise CorruptDataError(msg) from e.__cause__


#: A journal record standing for an import written as one snapshot (perftrack._bulk): the
#: snapshot at its sequence number holds the imported trades.
IMPORT_KIND: Final = "import_trades"


def _missing_import(key: str, record: dict[str, Any]) -> str:
    """
    The problem to report when a replay meets an import record: its snapshot, which holds
    the import, is missing or damaged (a crash before it was written, or bit rot), so the
    account restores without that import, whole.
    """
    trades = record["data"].get("trades")
    return (
        f"{key}: the import of {trades} trades at seq {record['seq']} has no intact "
        "snapshot; restored without it"
    )


def _repair_journal(store: ObjectStore, account: str, next_seq: int) -> None:
    """
    Rewrite the journal so it holds exactly the records below ``next_seq`` that read back
    intact: a cut tail or a damaged record never confuses a later restore.
    """
    keys = segments(store, account)
    for n, key in enumerate(keys):
        limit = min(next_seq, _seq_of(keys[n + 1])) if n + 1 < len(keys) else next_seq
        data = store.get(key)
        kept = []
        for line in data.splitlines(keepends=True):
            try:
                record = decode_record(line)
            except CorruptDataError:
                continue
            if record["seq"] < limit:
                kept.append(line)
        clean = b"".join(kept)
        if not kept:
            store.delete(key)
        elif clean != data:
            store.put(key, clean)


def save_snapshot(tracker: Tracker, store: ObjectStore, journal: Journal) -> int:
    """
    Write a snapshot at the journal's current sequence number and compact: keep the two newest
    snapshots and the journal from the older of them on (so a damaged newest snapshot falls back
    to the previous one plus the journal).
    """
    journal.flush()
    seq = journal.next_seq - 1
    for component in tracker._components.values():
        flush = getattr(component, "flush", None)
        if callable(flush):
            flush()
    with _collector_paused():
        snapshot = encode_snapshot(seq, tracker_state(tracker))
    store.put(_snapshot_key(journal.account, seq), snapshot)
    journal.start_new_segment()
    kept = snapshots(store, journal.account)[:2]
    for key in snapshots(store, journal.account)[2:]:
        store.delete(key)
    if len(kept) == 2:
        floor = _seq_of(kept[1])
        keys = segments(store, journal.account)
        for n, key in enumerate(keys):
            nxt = _seq_of(keys[n + 1]) if n + 1 < len(keys) else None
            if nxt is not None and nxt <= floor + 1:
                store.delete(key)  # every record in it is covered by both kept snapshots
    return seq


def verify(store: ObjectStore, account: str) -> list[str]:
    """
    One line per object of the account that fails its checksum or format (the alert journal,
    which has no checksums: per line that is not a whole alert object).
    """
    problems = []
    for key in snapshots(store, account):
        try:
            _, state = decode_snapshot(store.get(key))
        except (CorruptDataError, MissingKeyError) as e:
            problems.append(f"{key}: {e}")
            continue
        # Checksummed is not enough: it must load as a restore loads it.
        try:
            config = _stored_config(store, account, state, {}) or {}  # (never None here)
            scratch = _configured(_tracker_class(), config)
            with localcontext(MONEY_CONTEXT), _collector_paused():
                load_state(scratch, state)
        except MALFORMED as e:
            problems.append(f"{key}: snapshot content cannot be read: {e!r}")
    for key in store.list(f"{account}/archive/"):
        crc, _, packed = store.get(key).partition(b"\n")
        try:
            ok = int(crc, 16) == zlib.crc32(packed)
        except ValueError:
            ok = False
        if not ok:
            problems.append(f"{key}: archive fails its checksum")
            continue
        try:
            doc = json.loads(zlib.decompress(packed))
        except (ValueError, zlib.error) as e:
            problems.append(f"{key}: archive cannot be read: {e}")
            continue
        schema = doc.get("schema") if isinstance(doc, dict) else None
        if type(schema) is not int or schema not in ARCHIVE_SCHEMAS:  # (True == 1 == 1.0)
            problems.append(f"{key}: archive schema {schema!r} is not one of {ARCHIVE_SCHEMAS}")
    expected: int | None = None
    for key, line_no, record, problem in read_journal(store, account, -1):
        if record is None:
            problems.append(f"{key} line {line_no + 1}: {problem}")
            continue
        if expected is not None and record["seq"] > expected:
            problems.append(f"{key}: sequence jumps from {expected - 1} to {record['seq']}")
        expected = max(expected or 0, record["seq"] + 1)
    from perftrack.alerts import ALERT_JOURNAL, _journal_problems  # noqa: PLC0415 (a cycle)

    alert_key = f"{account}/{ALERT_JOURNAL}"
    with contextlib.suppress(MissingKeyError):  # missing: no alert was ever raised
        problems += _journal_problems(alert_key, store.get(alert_key))
    return problems


def copy_account(source: ObjectStore, target: ObjectStore, account: str) -> int:
    """
    Make ``target`` hold exactly what ``source`` holds for ``account`` (its lock aside):
    copy every object, then delete the target's objects of the account that the source no
    longer has (snapshots and segments compacted away since an earlier copy).

    Keys are copied in sorted order, so the journal is in place before the snapshots: a copy
    interrupted half-way still restores, to an earlier state.
    """
    lock = f"{account}/lock"

    def copied(key: str) -> bool:
        return key != lock and not key.startswith(f"{lock}-takeover/")

    keys = [k for k in source.list(_prefix(account)) if copied(k)]
    for key in keys:
        target.put(key, source.get(key))
    wanted = set(keys)
    for key in target.list(_prefix(account)):
        if key not in wanted and copied(key):
            target.delete(key)
    return len(keys)
