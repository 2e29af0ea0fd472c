"""
An adapter for any object that saves and reads values by key: the object stores of hosted
algorithmic-trading platforms (QuantConnect's ``ObjectStore``, ...), or a dict.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Iterable
from typing import Any

from perftrack.errors import MissingKeyError, StoreError
from perftrack.stores._base import validate_key, validate_prefix

__all__ = ["KeyValueStore"]


class KeyValueStore:
    """
    A perftrack store over a key-value backend, named by its method names.

    Args:
        backend: The object, e.g. QuantConnect's ``self.object_store``.
        save: Method taking (key, value); default ``"save_bytes"``.
        read: Method taking (key) and returning the value; default ``"read_bytes"``.
        delete: Method taking (key); default ``"delete"``.
        contains: Method taking (key) and returning whether it exists (default
            ``"contains_key"``; None when ``read`` raises for a missing key).
        keys: Method or attribute listing every key; None iterates the backend (whose items
            may be keys, or pairs with a ``key`` attribute, as QuantConnect's are).
        text: True for backends that store text only: values are base64-encoded.

    Thread-safe as far as the backend is; operations are serialised by a lock here.
    """

    def __init__(
        self,
        backend: Any,
        *,
        save: str = "save_bytes",
        read: str = "read_bytes",
        delete: str = "delete",
        contains: str | None = "contains_key",
        keys: str | None = None,
        text: bool = False,
    ) -> None:
        self._backend = backend
        self._save: Callable[[str, Any], Any] = getattr(backend, save)
        self._read: Callable[[str], Any] = getattr(backend, read)
        self._delete: Callable[[str], Any] = getattr(backend, delete)
        self._contains: Callable[[str], bool] | None = (
            getattr(backend, contains) if contains and hasattr(backend, contains) else None
        )
        self._keys = keys
        self._text = text
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"KeyValueStore({type(self._backend).__name__})"

    def _call(self, action: str, key: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except (MissingKeyError, StoreError):
            raise
        except KeyError:
            raise MissingKeyError(f"no object under key {key!r}") from None
        except Exception as e:
            raise StoreError(f"cannot {action} {key!r} in {self!r}: {e}") from e

    def put(self, key: str, data: bytes) -> None:
        validate_key(key)
        value: Any = base64.b64encode(data).decode() if self._text else bytearray(data)
        with self._lock:
            self._call("write", key, lambda: self._save(key, value))

    def put_if_absent(self, key: str, data: bytes) -> bool:
        validate_key(key)
        value: Any = base64.b64encode(data).decode() if self._text else bytearray(data)
        # Check and save under one hold of the lock: let go in between, two callers of this
        # process could both find the key absent and both "create" it (two lock holders).
        with self._lock:
            if key in self._call("list", key, self._all_keys):
                return False
            self._call("write", key, lambda: self._save(key, value))
        return True

    def get(self, key: str) -> bytes:
        validate_key(key)
        with self._lock:
            if self._contains is not None and not self._call(
                "check",
                key,
                lambda: self._contains(key),  # type: ignore[misc]
            ):
                raise MissingKeyError(f"no object under key {key!r}")
            value = self._call("read", key, lambda: self._read(key))
        if value is None:
            raise MissingKeyError(f"no object under key {key!r}")
        if self._text:
            return base64.b64decode(value)
        return bytes(value)

    def _all_keys(self) -> list[str]:
        source: Any = self._backend if self._keys is None else getattr(self._backend, self._keys)
        items: Iterable[Any] = source() if callable(source) else source
        return [str(getattr(item, "key", getattr(item, "Key", item))) for item in items]

    def list(self, prefix: str = "") -> list[str]:
        validate_prefix(prefix)
        with self._lock:
            keys = self._call("list", prefix, self._all_keys)
        return sorted(k for k in keys if k.startswith(prefix))

    def delete(self, key: str) -> None:
        validate_key(key)
        with self._lock:
            contains = self._contains
            if contains is not None and not self._call("check", key, lambda: contains(key)):
                return
            try:
                self._call("delete", key, lambda: self._delete(key))
            except MissingKeyError:
                return
