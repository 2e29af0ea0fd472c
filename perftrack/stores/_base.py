"""
The object-store protocol and the key rules every store enforces.
"""

from __future__ import annotations

import re
from typing import Protocol, runtime_checkable

from perftrack.errors import InvalidKeyError

__all__ = ["AppendableStore", "ObjectStore", "validate_key", "validate_prefix"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f\\]")


@runtime_checkable
class ObjectStore(Protocol):
    """
    A flat namespace of byte objects under '/'-separated keys.

    Implementations must make ``put`` atomic (an object is either wholly there or not) and be
    safe to call from several threads.
    """

    def put(self, key: str, data: bytes) -> None:
        """
        Store ``data`` under ``key``, replacing what was there, atomically.
        """

    def get(self, key: str) -> bytes:
        """
        The object under ``key``.

        Raises:
            MissingKeyError: When there is none.
        """

    def list(self, prefix: str = "") -> list[str]:
        """
        Every key under ``prefix``, sorted.
        """

    def delete(self, key: str) -> None:
        """
        Remove ``key``; removing a missing key is not an error.
        """


@runtime_checkable
class AppendableStore(ObjectStore, Protocol):
    """
    A store that can also append to an object durably (the journal's fast path).
    """

    def append(self, key: str, data: bytes) -> None:
        """
        Append ``data`` to the object under ``key`` (creating it), durably before returning.
        """


def validate_key(key: object) -> str:
    """
    ``key`` if it cannot escape a store's root, else InvalidKeyError naming it.

    A key is '/'-separated, relative, and none of its parts is empty, '.' or '..'; it holds no
    backslash, NUL or other control character.
    """
    if not isinstance(key, str) or not key:
        msg = f"invalid object key {key!r}: must be a non-empty string"
        raise InvalidKeyError(msg)
    if key.startswith("/"):
        msg = f"invalid object key {key!r}: must be relative, not absolute"
        raise InvalidKeyError(msg)
    if _CONTROL.search(key):
        msg = f"invalid object key {key!r}: backslashes and control characters are not allowed"
        raise InvalidKeyError(msg)
    for part in key.split("/"):
        if part in ("", ".", ".."):
            msg = f"invalid object key {key!r}: empty, '.' and '..' parts are not allowed"
            raise InvalidKeyError(msg)
    return key


def validate_prefix(prefix: object) -> str:
    """
    A listing prefix: empty, or a valid key optionally ending with '/'.
    """
    if prefix == "":
        return ""
    if isinstance(prefix, str) and prefix.endswith("/"):
        validate_key(prefix[:-1])
        return prefix
    return validate_key(prefix)
