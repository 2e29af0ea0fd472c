"""
S3 and S3-compatible object storage (AWS, MinIO, Ceph, ...), through boto3.
"""

from __future__ import annotations

from typing import Any

from perftrack.errors import MissingKeyError, StoreError
from perftrack.stores._base import validate_key, validate_prefix

__all__ = ["S3Store"]


class S3Store:
    """
    Objects in an S3 bucket under an optional prefix.

    ``client_options`` go to ``boto3.client("s3", ...)``: ``endpoint_url`` for an
    S3-compatible server, ``region_name``, credentials. S3 has no append, so the journal
    writes numbered segment objects; a PUT is atomic. ``put_if_absent`` uses a conditional
    PUT (``If-None-Match: *``) where the server supports it. Errors of the service or the
    network are raised as ``StoreError``. Thread-safe (boto3 clients are).

    Requires the ``s3`` extra: ``pip install 'perftrack[s3]'``.
    """

    def __init__(self, bucket: str, prefix: str = "", **client_options: Any) -> None:
        try:
            import boto3  # noqa: PLC0415 (optional dependency, loaded only when used)
            from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415
        except ImportError as e:  # pragma: no cover - depends on the environment
            msg = "S3Store needs boto3: pip install 'perftrack[s3]'"
            raise ImportError(msg) from e
        if prefix:
            validate_key(prefix.rstrip("/"))
        self.bucket = bucket
        self.prefix = f"{prefix.rstrip('/')}/" if prefix else ""
        self._client = boto3.client("s3", **client_options)
        self._errors: tuple[type[BaseException], ...] = (BotoCoreError, ClientError)

    def __repr__(self) -> str:
        return f"S3Store({self.bucket!r}, prefix={self.prefix!r})"

    def _fail(self, action: str, key: str, error: BaseException) -> StoreError:
        code = getattr(error, "response", {}).get("Error", {}).get("Code", "")
        if code in ("NoSuchKey", "404"):
            return MissingKeyError(f"no object under key {key!r}")
        return StoreError(f"cannot {action} s3://{self.bucket}/{self.prefix}{key}: {error}")

    def put(self, key: str, data: bytes) -> None:
        full = self.prefix + validate_key(key)
        try:
            self._client.put_object(Bucket=self.bucket, Key=full, Body=data)
        except self._errors as e:
            raise self._fail("write", key, e) from e

    def put_if_absent(self, key: str, data: bytes) -> bool:
        full = self.prefix + validate_key(key)
        try:
            self._client.put_object(Bucket=self.bucket, Key=full, Body=data, IfNoneMatch="*")
        except self._errors as e:
            code = getattr(e, "response", {}).get("Error", {}).get("Code", "")
            if code in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                return False
            raise self._fail("create", key, e) from e
        return True

    def get(self, key: str) -> bytes:
        full = self.prefix + validate_key(key)
        try:
            body: bytes = self._client.get_object(Bucket=self.bucket, Key=full)["Body"].read()
        except self._errors as e:
            raise self._fail("read", key, e) from e
        return body

    def list(self, prefix: str = "") -> list[str]:
        validate_prefix(prefix)
        keys = []
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix + prefix
            )
            for page in pages:
                keys += [item["Key"][len(self.prefix) :] for item in page.get("Contents", ())]
        except self._errors as e:
            raise self._fail("list", prefix, e) from e
        return sorted(keys)

    def delete(self, key: str) -> None:
        full = self.prefix + validate_key(key)
        try:
            self._client.delete_object(Bucket=self.bucket, Key=full)
        except self._errors as e:
            raise self._fail("delete", key, e) from e
