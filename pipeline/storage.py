"""Claim files in S3 (MinIO, SeaweedFS or any S3) through the `minio` SDK.

Layout in the bucket:
    claims/<claim_id>/<file>                uploads; immutable, never deleted or overwritten
    claims/<claim_id>/_results/<name>.json  results; rewritten on every run
    quarantine/<claim_id>/<file>            copies of refused uploads, reason in metadata
Every key part is validated: `..`, absolute paths, separators and control characters are
refused before anything reaches the server.
"""

from __future__ import annotations

import io
import json
import logging
import time
import unicodedata
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import urllib3
from minio import Minio
from minio.commonconfig import CopySource
from minio.error import S3Error

from pipeline.errors import IntakeError
from pipeline.settings import Settings

log = logging.getLogger(__name__)

CLAIMS = "claims"
RESULTS = "_results"
QUARANTINE = "quarantine"
MANIFEST = "claim.json"
T = TypeVar("T")


class StorageUnavailableError(Exception):
    """The S3 server cannot be reached: infrastructure, retried by the flows."""


class UnsafeKeyError(IntakeError):
    reason = "unsafe_key"


class UploadExistsError(IntakeError):
    """An upload is immutable: a different file under an existing name is refused."""

    reason = "upload_exists"


def validate_key_part(name: str) -> str:
    """A claim id or file name safe to use as one part of an object key."""
    problem = None
    if not name or not name.strip():
        problem = "is empty"
    elif name in (".", "..") or ".." in name.split("/"):
        problem = "contains '..'"
    elif "/" in name or "\\" in name:
        problem = "contains a path separator"
    elif any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        problem = "contains control characters"
    elif len(name.encode("utf-8")) > 200:
        problem = "is longer than 200 bytes"
    elif name.startswith((".", "_")):
        problem = "starts with '.' or '_' (reserved)"
    if problem:
        raise UnsafeKeyError(f"the name {name!r} {problem}; rename the file and upload it again")
    return name


def upload_key(claim_id: str, name: str) -> str:
    return f"{CLAIMS}/{validate_key_part(claim_id)}/{validate_key_part(name)}"


def result_key(claim_id: str, name: str) -> str:
    return f"{CLAIMS}/{validate_key_part(claim_id)}/{RESULTS}/{validate_key_part(name)}"


class ObjectStore:
    """One bucket of claims; every call retried with backoff, then StorageUnavailableError."""

    def __init__(self, settings: Settings, endpoint: str | None = None, attempts: int = 3) -> None:
        self.endpoint = endpoint or settings.s3_endpoint or ""
        if not self.endpoint:
            raise ValueError("no S3 endpoint: set INTAKE_S3_ENDPOINT or start the embedded server")
        self.bucket = settings.s3_bucket
        self.attempts = attempts
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=3.0, read=30.0),
            retries=urllib3.Retry(total=0),
            maxsize=16,
        )
        self.client = Minio(
            self.endpoint,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key,
            secure=settings.s3_secure,
            region=settings.s3_region,
            http_client=http,
        )

    def _call(self, what: str, action: Callable[[], T]) -> T:
        delay = 0.5
        for attempt in range(1, self.attempts + 1):
            try:
                return action()
            except S3Error:
                raise
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                if attempt == self.attempts:
                    raise StorageUnavailableError(
                        f"S3 at {self.endpoint} unavailable during {what} after {attempt} tries: {exc}"
                    ) from exc
                log.warning("S3 %s failed (%s); retrying in %.1f s", what, exc, delay)
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    def ensure_bucket(self) -> None:
        if not self._call("bucket check", lambda: self.client.bucket_exists(self.bucket)):
            self._call("bucket creation", lambda: self.client.make_bucket(self.bucket))

    def exists(self, key: str) -> bool:
        try:
            self._call("stat", lambda: self.client.stat_object(self.bucket, key))
            return True
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject", "ResourceNotFound"):
                return False
            raise

    def read_bytes(self, key: str) -> bytes:
        def fetch() -> bytes:
            response = self.client.get_object(self.bucket, key)
            try:
                return bytes(response.read())
            finally:
                response.close()
                response.release_conn()

        return self._call("download", fetch)

    def _put(
        self, key: str, data: bytes, content_type: str, metadata: dict[str, str] | None = None
    ) -> None:
        self._call(
            "upload",
            lambda: self.client.put_object(
                self.bucket,
                key,
                io.BytesIO(data),
                len(data),
                content_type=content_type,
                metadata=metadata,  # type: ignore[arg-type]
            ),
        )

    def upload(self, claim_id: str, name: str, data: bytes | Path) -> str:
        """Store an upload; the same bytes again are a no-op, different bytes are refused."""
        key = upload_key(claim_id, name)
        payload = data.read_bytes() if isinstance(data, Path) else data
        if self.exists(key):
            if self.read_bytes(key) == payload:
                return key
            raise UploadExistsError(
                f"{name} already exists in claim {claim_id} with other content; uploads are never "
                "overwritten — upload it under a new name"
            )
        self._put(key, payload, "application/octet-stream")
        return key

    def list_keys(self, prefix: str) -> list[tuple[str, float]]:
        """(key, last-modified timestamp) of every object under `prefix`."""

        def listing() -> list[tuple[str, float]]:
            return [
                (str(o.object_name), o.last_modified.timestamp() if o.last_modified else 0.0)
                for o in self.client.list_objects(self.bucket, prefix=prefix, recursive=True)
                if o.object_name
            ]

        return self._call("listing", listing)

    def claim_ids(self) -> list[str]:
        ids = {key.split("/")[1] for key, _ in self.list_keys(f"{CLAIMS}/") if key.count("/") >= 2}
        return sorted(ids)

    def pending_claims(self) -> list[str]:
        """Claims with a manifest and no result, or uploads newer than their result."""
        uploads: dict[str, float] = {}
        results: dict[str, float] = {}
        manifests: set[str] = set()
        for key, modified in self.list_keys(f"{CLAIMS}/"):
            parts = key.split("/")
            if len(parts) < 3:
                continue
            claim_id = parts[1]
            if parts[2] == RESULTS:
                if parts[-1] == "result.json":
                    results[claim_id] = modified
                continue
            uploads[claim_id] = max(uploads.get(claim_id, 0.0), modified)
            if parts[2] == MANIFEST:
                manifests.add(claim_id)
        return sorted(c for c in manifests if c not in results or uploads[c] > results[c])

    def download_claim(self, claim_id: str, dest: Path) -> Path:
        """The claim's uploads (not its results) into `dest`."""
        dest.mkdir(parents=True, exist_ok=True)
        prefix = f"{CLAIMS}/{validate_key_part(claim_id)}/"
        for key, _ in self.list_keys(prefix):
            name = key[len(prefix) :]
            if "/" in name:
                continue  # results and anything nested are not uploads
            try:
                validate_key_part(name)
            except UnsafeKeyError:
                log.warning("skipping unsafe key %r", key)
                continue
            (dest / name).write_bytes(self.read_bytes(key))
        return dest

    def put_result(self, claim_id: str, name: str, data: dict[str, Any]) -> str:
        key = result_key(claim_id, name)
        body = json.dumps(data, ensure_ascii=False, indent=1, default=str).encode("utf-8")
        self._put(key, body, "application/json; charset=utf-8")
        return key

    def get_json(self, key: str) -> dict[str, Any]:
        data = json.loads(self.read_bytes(key))
        if not isinstance(data, dict):
            raise ValueError(f"{key} does not hold a JSON object")
        return data

    def quarantine(self, claim_id: str, name: str, reason: str) -> str:
        """Copy a refused upload aside with the reason; the original stays where it is."""
        source = upload_key(claim_id, name)
        target = f"{QUARANTINE}/{validate_key_part(claim_id)}/{validate_key_part(name)}"
        metadata = {"reason": quote(reason[:1500], safe=" :;,.()-_/")}
        self._call(
            "quarantine",
            lambda: self.client.copy_object(
                self.bucket,
                target,
                CopySource(self.bucket, source),
                metadata=metadata,  # type: ignore[arg-type]
                metadata_directive="REPLACE",
            ),
        )
        return target

    def metadata(self, key: str) -> dict[str, str]:
        stat = self._call("stat", lambda: self.client.stat_object(self.bucket, key))
        return {k.lower(): str(v) for k, v in (stat.metadata or {}).items()}

    def presigned_put(self, claim_id: str, name: str, expires_seconds: int = 900) -> str:
        key = upload_key(claim_id, name)
        return self.client.presigned_put_object(
            self.bucket, key, timedelta(seconds=expires_seconds)
        )

    def presigned_get(self, key: str, expires_seconds: int = 300) -> str:
        return self.client.presigned_get_object(
            self.bucket, key, timedelta(seconds=expires_seconds)
        )
