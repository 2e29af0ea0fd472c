"""
A store in a local directory, with atomic writes.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
import time
from pathlib import Path

from perftrack.errors import InvalidKeyError, MissingKeyError, StoreError
from perftrack.stores._base import validate_key, validate_prefix

__all__ = ["LocalStore"]

_TEMP_PREFIX = ".tmp-"
# link() fails with these where the file system has no hard links (FAT, some FUSE mounts).
_NO_LINKS = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV})


def _write_all(fd: int, data: bytes) -> None:
    # os.write may write less than asked (a filling disk, a signal): loop, so that a short
    # write is either completed or raised, never mistaken for a durable one.
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _fsync_dir(path: Path) -> None:
    # A rename is durable only once its directory entry is: fsync the directory too.
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _make_parents(target: Path) -> None:
    # A new directory is durable only once its entry in its parent is: without this, a put
    # that returned could vanish with the directory it created ("<account>/snapshots/").
    missing = []
    folder = target.parent
    while not folder.is_dir():
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made meanwhile by another put
            folder.mkdir()
        _fsync_dir(folder.parent)


class LocalStore:
    """
    Objects as files under ``path`` (created on the first write).

    ``put`` writes a temporary file in the same directory, fsyncs it, renames it over the key
    and fsyncs the directory: a half-written object is never visible, and a completed put
    survives a crash. ``append`` opens with O_APPEND, writes everything and fsyncs before
    returning; ``put_if_absent`` writes a temporary file and hard-links it to the key, so it
    appears whole or not at all. Errors of
    the file system (permission denied, disk full, ...) are raised as ``StoreError``.
    Thread-safe: every operation is one system-level step on its own file.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"LocalStore({str(self.path)!r})"

    def _file(self, key: str) -> Path:
        parts = validate_key(key).split("/")
        if parts[-1].startswith(_TEMP_PREFIX):
            # Its file would pass for an interrupted put's: never listed, and removed.
            msg = f"invalid object key {key!r}: a name starting {_TEMP_PREFIX!r} is reserved"
            raise InvalidKeyError(msg)
        return self.path.joinpath(*parts)

    def put(self, key: str, data: bytes) -> None:
        target = self._file(key)
        tmp = None
        try:
            _make_parents(target)
            fd, tmp = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=target.parent)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
            tmp = None
            _fsync_dir(target.parent)
        except OSError as e:
            msg = f"cannot write object {key!r} at {target}: {e.strerror or e}"
            raise StoreError(msg) from e
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)

    def append(self, key: str, data: bytes) -> None:
        target = self._file(key)
        try:
            _make_parents(target)
            created = not target.exists()
            fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                _write_all(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            if created:
                _fsync_dir(target.parent)
        except OSError as e:
            msg = f"cannot append to object {key!r} at {target}: {e.strerror or e}"
            raise StoreError(msg) from e

    def put_if_absent(self, key: str, data: bytes) -> bool:
        target = self._file(key)
        tmp = None
        try:
            _make_parents(target)
            fd, tmp = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=target.parent)
            try:
                _write_all(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            # link() creates the key with its whole content or fails if it exists: a reader
            # never sees a half-written object (an O_EXCL create followed by a write would
            # show an empty lock to a second process, which would take it for abandoned).
            try:
                os.link(tmp, target)
            except OSError as e:
                if e.errno not in _NO_LINKS:
                    raise
                return self._create_exclusive(target, data)
            _fsync_dir(target.parent)
        except FileExistsError:
            return False
        except OSError as e:
            msg = f"cannot create object {key!r} at {target}: {e.strerror or e}"
            raise StoreError(msg) from e
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        return True

    @staticmethod
    def _create_exclusive(target: Path, data: bytes) -> bool:
        # For file systems without hard links: create-or-fail, then write (a reader may see
        # the object briefly empty).
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        _fsync_dir(target.parent)
        return True

    def get(self, key: str) -> bytes:
        target = self._file(key)
        try:
            return target.read_bytes()
        except FileNotFoundError:
            raise MissingKeyError(f"no object under key {key!r}") from None
        except OSError as e:
            msg = f"cannot read object {key!r} at {target}: {e.strerror or e}"
            raise StoreError(msg) from e

    def list(self, prefix: str = "") -> list[str]:
        validate_prefix(prefix)
        if not self.path.exists():
            return []
        keys = []
        try:
            for root, _dirs, files in os.walk(self.path):
                rel = Path(root).relative_to(self.path)
                for name in files:
                    if name.startswith(_TEMP_PREFIX):
                        continue  # an interrupted put: never an object
                    key = "/".join((*rel.parts, name))
                    if key.startswith(prefix):
                        keys.append(key)
        except OSError as e:
            msg = f"cannot list {self.path}: {e.strerror or e}"
            raise StoreError(msg) from e
        return sorted(keys)

    def remove_temporary(self, prefix: str, older_than: float = 60.0) -> int:
        """
        Delete the temporary files that puts interrupted by a crash left under ``prefix`` (a
        key prefix ending with '/'), if older than ``older_than`` seconds. They are never
        listed nor read; this only gives the space back. Returns how many were removed.
        """
        validate_prefix(prefix)
        root = self.path.joinpath(*prefix.strip("/").split("/")) if prefix else self.path
        cutoff = time.time() - older_than
        removed = 0
        for folder, _dirs, files in os.walk(root):
            for name in files:
                if not name.startswith(_TEMP_PREFIX):
                    continue
                path = Path(folder, name)
                with contextlib.suppress(OSError):
                    if path.stat().st_mtime < cutoff:
                        path.unlink()
                        removed += 1
        return removed

    def delete(self, key: str) -> None:
        target = self._file(key)
        try:
            target.unlink(missing_ok=True)
        except OSError as e:
            msg = f"cannot delete object {key!r} at {target}: {e.strerror or e}"
            raise StoreError(msg) from e
