"""
Object stores for the journal, snapshots and reports.

Any object with ``put``, ``get``, ``list`` and ``delete`` (the ``ObjectStore`` protocol) will
do; ``append`` and ``put_if_absent`` are optional capabilities the journal and the account lock
use when a store has them.
"""

from __future__ import annotations

import os
from typing import Any

from perftrack.stores._base import AppendableStore, ObjectStore, validate_key, validate_prefix
from perftrack.stores._keyvalue import KeyValueStore
from perftrack.stores._local import LocalStore
from perftrack.stores._memory import MemoryStore

__all__ = [
    "AppendableStore",
    "KeyValueStore",
    "LocalStore",
    "MemoryStore",
    "ObjectStore",
    "S3Store",
    "open_store",
    "validate_key",
    "validate_prefix",
]


def __getattr__(name: str) -> Any:
    # S3Store imports boto3 lazily; its module is only loaded when asked for.
    if name == "S3Store":
        from perftrack.stores._s3 import S3Store  # noqa: PLC0415

        return S3Store
    msg = f"module 'perftrack.stores' has no attribute {name!r}"
    raise AttributeError(msg)


def open_store(location: str) -> ObjectStore:
    """
    The store a location names: ``s3://bucket/prefix`` for an S3Store (endpoint from
    ``PERFTRACK_S3_ENDPOINT_URL`` or ``AWS_ENDPOINT_URL`` when set), ``memory://`` for a
    MemoryStore, anything else a local directory.
    """
    if location.startswith("s3://"):
        from perftrack.stores._s3 import S3Store  # noqa: PLC0415

        bucket, _, prefix = location[5:].partition("/")
        endpoint = os.environ.get("PERFTRACK_S3_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL")
        options = {"endpoint_url": endpoint} if endpoint else {}
        return S3Store(bucket, prefix, **options)
    if location == "memory://":
        return MemoryStore()
    return LocalStore(location)
