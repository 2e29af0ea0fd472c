"""
The object stores: one contract for every store, key rules, atomic local writes, and S3 against
a real S3 server on loopback.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import given

import perftrack as pt
from perftrack import errors
from perftrack.stores import (
    KeyValueStore,
    LocalStore,
    MemoryStore,
    ObjectStore,
    open_store,
    validate_key,
)
from tests.observe import T0, fingerprint
from tests.s3server import CREDENTIALS, _s3_bucket, _s3_endpoint  # noqa: F401 (fixtures)


class FakePlatformStore:
    """
    The shape of a hosted platform's object store: text values, pairs when iterated.
    """

    class Pair:
        def __init__(self, key: str) -> None:
            self.key = key

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def save(self, key: str, value: str) -> bool:
        self.values[key] = value
        return True

    def read(self, key: str) -> str:
        return self.values[key]

    def contains_key(self, key: str) -> bool:
        return key in self.values

    def delete(self, key: str) -> bool:
        return self.values.pop(key, None) is not None

    def __iter__(self):
        return iter([self.Pair(k) for k in self.values])


@pytest.fixture(name="make_store", params=["memory", "local", "s3", "keyvalue"])
def _make_store(request, tmp_path) -> Callable[[], ObjectStore]:
    if request.param == "memory":
        store = MemoryStore()
        return lambda: store
    if request.param == "local":
        return lambda: LocalStore(tmp_path / "data")
    if request.param == "keyvalue":
        backend = FakePlatformStore()
        return lambda: KeyValueStore(backend, save="save", read="read", text=True)
    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = request.getfixturevalue("s3_bucket")
    from perftrack.stores import S3Store

    return lambda: S3Store(bucket, "bots/a", endpoint_url=endpoint, **CREDENTIALS)


class TestContract:
    """Every store puts, gets, lists and deletes alike."""

    def test_put_get_list_delete(self, make_store):
        store = make_store()
        store.put("main/journal/1.jsonl", b"one")
        store.put("main/snapshots/2.snap", b"two")
        store.put("main/journal/1.jsonl", b"uno")
        assert store.get("main/journal/1.jsonl") == b"uno"
        assert store.list("main/") == ["main/journal/1.jsonl", "main/snapshots/2.snap"]
        assert store.list("main/journal/") == ["main/journal/1.jsonl"]
        store.delete("main/journal/1.jsonl")
        store.delete("main/journal/1.jsonl")  # deleting what is gone is fine
        assert make_store().list() == ["main/snapshots/2.snap"]

    def test_missing_key(self, make_store):
        with pytest.raises(errors.MissingKeyError, match="'nope'"):
            make_store().get("nope")

    def test_create_only(self, make_store):
        store = make_store()
        assert store.put_if_absent("a/lock", b"1")  # type: ignore[attr-defined]
        assert not store.put_if_absent("a/lock", b"2")  # type: ignore[attr-defined]
        assert store.get("a/lock") == b"1"

    @pytest.mark.parametrize("key", ["/abs", "../up", "a/../b", "a//b", "a\\b", "a\x00b", ""])
    def test_refuses_escaping_keys(self, make_store, key):
        store = make_store()
        for call in (
            lambda: store.put(key, b"x"),
            lambda: store.get(key),
            lambda: store.delete(key),
        ):
            with pytest.raises(errors.InvalidKeyError, match="invalid object key"):
                call()
        assert [] == store.list()

    def test_tracker_round_trip(self, make_store):
        tracker = pt.Tracker("1000", store=make_store())
        tracker.record_trade("X", "long", 2, "10", "12", T0, T0, fees="0.5", tags=("a",))
        tracker.open_trade("o", symbol="Y", side="short", quantity=3, price="5", time=T0)
        before = fingerprint(tracker)
        tracker.close()
        with pt.Tracker.restore(make_store()) as again:
            assert before == fingerprint(again)


class TestKeys:
    """A key that could escape the store is refused, naming the key."""

    @pytest.mark.parametrize(
        "key", ["", "/etc/passwd", "../x", "a/../b", "a//b", "a/./b", "a\\b", "a\x00b", "a/"]
    )
    def test_refused(self, key):
        with pytest.raises(errors.InvalidKeyError, match="invalid object key"):
            validate_key(key)

    @given(st.text(max_size=20))
    def test_never_escapes_the_root(self, key):
        root = Path("/srv/store")
        try:
            validate_key(key)
        except errors.InvalidKeyError:
            return
        resolved = (root / key).resolve()
        assert root in resolved.parents

    def test_every_store_validates(self, tmp_path):
        for store in (MemoryStore(), LocalStore(tmp_path)):
            with pytest.raises(errors.InvalidKeyError):
                store.put("../escape", b"x")


class TestLocalStore:
    """Writes are atomic and failures are StoreErrors."""

    def test_failed_put_keeps_the_old_object(self, tmp_path, monkeypatch):
        store = LocalStore(tmp_path)
        store.put("k", b"old")

        def broken(*args: Any) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(os, "replace", broken)
        with pytest.raises(errors.StoreError, match="No space left"):
            store.put("k", b"new")
        assert store.get("k") == b"old"
        assert store.list() == ["k"]
        assert os.listdir(tmp_path) == ["k"]  # no temporary file left behind

    def test_permission_denied(self, tmp_path, monkeypatch):
        store = LocalStore(tmp_path)

        def denied(*args: Any, **kwargs: Any) -> int:
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(os, "open", denied)
        with pytest.raises(errors.StoreError, match="Permission denied"):
            store.append("journal", b"x")

    def test_temporary_files_are_never_listed(self, tmp_path):
        (tmp_path / ".tmp-123").write_bytes(b"half")
        assert LocalStore(tmp_path).list() == []

    def test_a_key_named_like_a_temporary_file_is_refused(self, tmp_path):
        """Its object would never be listed, and removed as an interrupted put's."""
        store = LocalStore(tmp_path)
        for call in (
            lambda: store.put("main/.tmp-notes", b"x"),
            lambda: store.append("main/.tmp-notes", b"x"),
            lambda: store.put_if_absent("main/.tmp-notes", b"x"),
        ):
            with pytest.raises(errors.InvalidKeyError, match=r"'main/\.tmp-notes'"):
                call()
        assert [] == os.listdir(tmp_path)
        store.put("main/.tmp-dir/x", b"x")  # only a file's own name is reserved
        assert ["main/.tmp-dir/x"] == store.list()

    def test_old_temporary_files_are_removed_when_an_account_is_opened(self, tmp_path):
        store = LocalStore(tmp_path)
        pt.Tracker("1000", store=store).close()
        (tmp_path / "main" / "snapshots").mkdir()
        old, fresh = tmp_path / "main/snapshots/.tmp-old", tmp_path / "main/snapshots/.tmp-new"
        old.write_bytes(b"a put a crash interrupted")
        fresh.write_bytes(b"a put in progress")
        os.utime(old, (0, 0))
        pt.Tracker.restore(store).close()
        assert (False, True) == (old.exists(), fresh.exists())

    def test_put_order_is_write_fsync_rename_fsync_directory(self, tmp_path, monkeypatch):
        calls: list[str] = []
        real_fsync, real_replace = os.fsync, os.replace

        def fsync(fd: int) -> None:
            calls.append("fsync-dir" if os.path.isdir(f"/proc/self/fd/{fd}") else "fsync-file")
            real_fsync(fd)

        def replace(src: str, dst: str) -> None:
            assert Path(src).parent == Path(dst).parent  # the temporary file is beside it
            assert Path(src).name.startswith(".tmp-")
            calls.append("rename")
            real_replace(src, dst)

        monkeypatch.setattr(os, "fsync", fsync)
        monkeypatch.setattr(os, "replace", replace)
        (tmp_path / "a").mkdir()  # (a directory the put creates is fsynced too: below)
        LocalStore(tmp_path).put("a/b", b"data")
        assert ["fsync-file", "rename", "fsync-dir"] == calls

    @pytest.mark.parametrize("method", ["put", "append", "put_if_absent"])
    def test_the_directories_a_write_creates_are_durable(self, tmp_path, monkeypatch, method):
        """Each new directory's entry is fsynced in its parent before the write returns."""
        synced: list[Path] = []
        real_fsync = os.fsync

        def fsync(fd: int) -> None:
            path = Path(os.readlink(f"/proc/self/fd/{fd}"))
            if path.is_dir():
                synced.append(path)
            real_fsync(fd)

        monkeypatch.setattr(os, "fsync", fsync)
        store = LocalStore(tmp_path / "data")
        getattr(store, method)("main/snapshots/1.snap", b"data")
        wanted = [tmp_path, tmp_path / "data", tmp_path / "data/main"]
        assert set(wanted) <= set(synced)

    def test_short_writes_are_completed(self, tmp_path, monkeypatch):
        real_write = os.write

        def one_byte(fd: int, data: Any) -> int:
            return real_write(fd, bytes(data[:1]))

        monkeypatch.setattr(os, "write", one_byte)
        store = LocalStore(tmp_path)
        store.append("j", b"abc")
        assert store.put_if_absent("lock", b"whole")
        monkeypatch.setattr(os, "write", real_write)
        assert (b"abc", b"whole") == (store.get("j"), store.get("lock"))


class TestS3:
    """S3 errors become StoreErrors."""

    def test_missing_bucket(self, s3_endpoint):
        from perftrack.stores import S3Store

        store = S3Store("no-such-bucket", endpoint_url=s3_endpoint, **CREDENTIALS)
        with pytest.raises(errors.StoreError):
            store.put("k", b"x")

    def test_unreachable_server(self):
        from perftrack.stores import S3Store

        store = S3Store(
            "b",
            endpoint_url="http://127.0.0.1:9",
            **CREDENTIALS,
            config=__import__("botocore.config").config.Config(
                retries={"max_attempts": 1}, connect_timeout=1
            ),
        )
        with pytest.raises(errors.StoreError):
            store.list()

    def test_open_store(self, tmp_path, monkeypatch, s3_endpoint, s3_bucket):
        assert isinstance(open_store(str(tmp_path)), LocalStore)
        assert isinstance(open_store("memory://"), MemoryStore)
        monkeypatch.setenv("PERFTRACK_S3_ENDPOINT_URL", s3_endpoint)
        for name, value in CREDENTIALS.items():
            monkeypatch.setenv(
                {
                    "aws_access_key_id": "AWS_ACCESS_KEY_ID",
                    "aws_secret_access_key": "AWS_SECRET_ACCESS_KEY",
                    "region_name": "AWS_DEFAULT_REGION",
                }[name],
                value,
            )
        store = open_store(f"s3://{s3_bucket}/deep/prefix")
        store.put("x", b"1")
        assert store.list() == ["x"]
