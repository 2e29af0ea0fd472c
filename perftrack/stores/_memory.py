"""
An in-memory object store, for tests and throwaway runs.
"""

from __future__ import annotations

import threading

from perftrack.errors import MissingKeyError
from perftrack.stores._base import validate_key, validate_prefix

__all__ = ["MemoryStore"]


class MemoryStore:
    """
    Objects in a dict behind a lock. Thread-safe; supports ``append``.
    """

    def __init__(self) -> None:
        self._objects: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def put(self, key: str, data: bytes) -> None:
        validate_key(key)
        with self._lock:
            self._objects[key] = bytes(data)

    def append(self, key: str, data: bytes) -> None:
        validate_key(key)
        with self._lock:
            self._objects[key] = self._objects.get(key, b"") + bytes(data)

    def put_if_absent(self, key: str, data: bytes) -> bool:
        validate_key(key)
        with self._lock:
            if key in self._objects:
                return False
            self._objects[key] = bytes(data)
            return True

    def get(self, key: str) -> bytes:
        validate_key(key)
        with self._lock:
            try:
                return self._objects[key]
            except KeyError:
                raise MissingKeyError(f"no object under key {key!r}") from None

    def list(self, prefix: str = "") -> list[str]:
        validate_prefix(prefix)
        with self._lock:
            return sorted(k for k in self._objects if k.startswith(prefix))

    def delete(self, key: str) -> None:
        validate_key(key)
        with self._lock:
            self._objects.pop(key, None)

    def __repr__(self) -> str:
        return f"MemoryStore({len(self._objects)} objects)"
