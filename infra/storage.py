"""Claim files in S3 (MinIO, SeaweedFS or any S3) through the `minio` SDK.

Layout in the bucket:
    claims/<claim_id>/<file>                uploads: immutable, never deleted or overwritten
    claims/<claim_id>/claim.json            the claim's manifest, itself an upload
    claims/<claim_id>/_results/<name>.json  results (result.json, reimbursement.json): rewritable
    quarantine/<claim_id>/<file>            copies of refused uploads, the reason in metadata

Every key part is validated before anything reaches the server (`validate_key_part`), so a name
from a browser or a scanner can never climb out of its claim (`..`), hide (control characters)
or mean something else on a reviewer's disk (backslashes, absolute paths).

An upload is immutable because results and the audit trail refer to it by name: storing other
bytes under an existing upload name raises UploadExistsError, the same bytes again are a no-op
(the SHA-256 of each upload is kept in its metadata). The check and the write are two requests,
so two writers racing on one new name can still both write; presigned PUT URLs cannot enforce
it at all, which is why `presigned_put` refuses names that already exist.

Pending claims (`pending_claims`): a claim with a `claim.json` and no `_results/result.json`, or
with an upload modified at or after its result. S3 keeps whole seconds, so an upload and the
result in the same second are a tie; the tie is settled by a fingerprint of the uploads that
the result was computed from (stored with result.json): a miss would leave a claim unprocessed,
a redundant run only costs time.

Connection failures, timeouts and 5xx answers are retried with exponential backoff, then raised
as StorageUnavailable naming the endpoint; refused credentials raise StorageAccessDenied at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import io
import json
import logging
import mimetypes
import os
import re
import tempfile
import threading
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, Protocol, TypeVar
from urllib.parse import quote, unquote, urlsplit

import certifi
import urllib3
from minio import Minio
from minio.commonconfig import CopySource
from minio.datatypes import Object
from minio.error import InvalidResponseError, S3Error, ServerError
from minio.helpers import DictType

from pipeline.bundle import MANIFEST
from pipeline.errors import IntakeError
from pipeline.settings import Settings

log = logging.getLogger(__name__)

CLAIMS = "claims"
RESULTS = "_results"
QUARANTINE = "quarantine"
RESULT = "result.json"
MAX_PART_BYTES = 200
MAX_KEY_BYTES = 1024  # the S3 limit
MAX_HEADER_CHARS = 1024  # one user-metadata value; S3 allows 2 KB for all of them
MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # the SigV4 limit
SHA256_META = "sha256"
FINGERPRINT_META = "uploads-sha256"
REASON_META = "reason"
JSON_TYPE = "application/json; charset=utf-8"
CHUNK = 1024 * 1024
BACKOFF_FIRST = 0.25
BACKOFF_MAX = 2.0
INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})  # controls, formatting, surrogates
ABSOLUTE = re.compile(r"^([/\\]|[A-Za-z]:[/\\])")
HEADER_SAFE = " !#$&'()*+,-./:;<=>?@[]^_`{|}~"  # printable ASCII kept readable; % is escaped
MISSING_CODES = frozenset({"NoSuchKey", "NoSuchObject", "ResourceNotFound"})
AUTH_CODES = frozenset(
    {
        "AccessDenied",
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId",
        "InvalidSecurity",
        "InvalidToken",
        "ExpiredToken",
    }
)
TRANSIENT_CODES = frozenset({"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout"})
NETWORK_ERRORS = (
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    ConnectionError,
    TimeoutError,
)
T = TypeVar("T")


class StorageError(Exception):
    """The object store failed us: infrastructure, not input a person must fix."""


class StorageUnavailable(StorageError, ConnectionError):  # noqa: N818 - name in the brief
    """S3 could not be reached (refused, timed out, 5xx) even after the retries.

    A ConnectionError, so generic retry rules (the flows' retry condition) treat it as
    transient."""


StorageUnavailableError = StorageUnavailable  # the flows import this name


class StorageAccessDenied(StorageError, PermissionError):  # noqa: N818 - reads as a state
    """S3 refused our credentials or permissions: retrying will not help, configuration will."""


class ObjectNotFoundError(LookupError):
    """No object under that key."""


class UnsafeKeyError(IntakeError):
    """A claim id or file name that cannot safely become part of an object key."""

    reason = "unsafe_key"


class UploadExistsError(IntakeError):
    """An upload is immutable: other bytes under an existing upload name are refused."""

    reason = "upload_exists"


@dataclass(frozen=True, slots=True)
class StoredObject:
    """What a HEAD tells about one object; `metadata` is the decoded user metadata."""

    key: str
    size: int
    etag: str
    last_modified: datetime | None
    content_type: str
    metadata: dict[str, str]


def _part_problem(name: str) -> str | None:
    """Why `name` cannot be one part of a key, or None. Structural checks only."""
    if not name:
        return "is empty"
    if not name.strip():
        return "is blank"
    if ".." in re.split(r"[/\\]", name) or name == ".":
        return "contains '..' or '.', a relative path step"
    if ABSOLUTE.match(name):
        return "is an absolute path"
    if "\\" in name:
        return "contains a backslash"
    if "/" in name:
        return "contains '/', a path separator"
    bad = next((c for c in name if unicodedata.category(c) in INVISIBLE), None)
    if bad is not None:
        return f"contains the control or invisible character U+{ord(bad):04X}"
    size = len(name.encode("utf-8"))
    if size > MAX_PART_BYTES:
        return f"is {size} bytes long in UTF-8; the limit is {MAX_PART_BYTES}"
    return None


def validate_key_part(name: str) -> str:
    """A claim id or file name safe as one part of an object key, else UnsafeKeyError.

    Names starting with '_' or '.' are reserved for the intake's own entries (`_results`)."""
    problem = _part_problem(name)
    if problem is None and name.startswith(("_", ".")):
        problem = "starts with '_' or '.', which the intake reserves for its own files"
    if problem:
        raise UnsafeKeyError(f"the name {name!r} {problem}; rename it and upload it again")
    return name


def validate_key(key: str) -> str:
    """A whole object key: every '/'-separated part must pass the structural checks."""
    problem = "is an absolute path" if key.startswith("/") else None
    if problem is None and len(key.encode("utf-8", errors="replace")) > MAX_KEY_BYTES:
        problem = f"is longer than {MAX_KEY_BYTES} bytes"
    for part in key.split("/") if problem is None else ():
        problem = "has an empty part" if not part else _part_problem(part)
        if problem:
            break
    if problem:
        raise UnsafeKeyError(f"the object key {key!r} {problem}")
    return key


def claim_prefix(claim_id: str) -> str:
    return f"{CLAIMS}/{validate_key_part(claim_id)}/"


def upload_key(claim_id: str, name: str) -> str:
    return f"{claim_prefix(claim_id)}{validate_key_part(name)}"


def result_key(claim_id: str, name: str = RESULT) -> str:
    return f"{claim_prefix(claim_id)}{RESULTS}/{validate_key_part(name)}"


def quarantine_key(claim_id: str, name: str) -> str:
    return f"{QUARANTINE}/{validate_key_part(claim_id)}/{validate_key_part(name)}"


def is_upload_key(key: str) -> bool:
    """Under claims/<id>/ but not under its _results/: immutable."""
    parts = key.split("/")
    return len(parts) >= 3 and parts[0] == CLAIMS and parts[2] != RESULTS


def parse_endpoint(endpoint: str, secure: bool) -> tuple[str, bool]:
    """`host:port` for minio from `host:port` or a URL, whose scheme then decides TLS."""
    if "://" not in endpoint:
        return endpoint.strip().rstrip("/"), secure
    parts = urlsplit(endpoint.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise ValueError(f"S3 endpoint {endpoint!r} must be host:port or http(s)://host:port")
    return parts.netloc, parts.scheme == "https"


def header_value(text: str) -> str:
    """Text as an ASCII metadata value (percent-encoded), cut to MAX_HEADER_CHARS."""
    out: list[str] = []
    length = 0
    for char in text:
        piece = quote(char, safe=HEADER_SAFE)
        if length + len(piece) > MAX_HEADER_CHARS:
            break
        out.append(piece)
        length += len(piece)
    return "".join(out)


def _http_client(settings: Settings) -> urllib3.PoolManager:
    """Short connect timeout so a dead server fails fast; no urllib3 retries (ours do it)."""
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=settings.s3_connect_timeout, read=settings.s3_read_timeout),
        retries=False,
        maxsize=16,
        cert_reqs="CERT_REQUIRED",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
    )


def _summary(exc: BaseException) -> str:
    text = str(exc).replace("\n", " ")
    return f"{type(exc).__name__}: {text[:300]}"


def _is_transient(exc: Exception) -> bool:
    if isinstance(exc, S3Error):
        return exc.code in TRANSIENT_CODES or exc.response.status >= 500
    return isinstance(exc, (ServerError, InvalidResponseError, *NETWORK_ERRORS))


class _Readable(Protocol):
    def read(self, amount: int, /) -> bytes: ...


def _sha256_stream(stream: _Readable) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def _json_bytes(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=1, default=str).encode("utf-8")


def _content_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _user_metadata(info: Object) -> dict[str, str]:
    """x-amz-meta-* headers, prefix dropped, lower-cased, percent-decoded."""
    prefix = "x-amz-meta-"
    return {
        key.lower()[len(prefix) :]: unquote(str(value))
        for key, value in (info.metadata or {}).items()
        if key.lower().startswith(prefix)
    }


def _fingerprint(listing: list[Object], prefix: str) -> str:
    """What a claim's uploads are: names, sizes and ETags, order-free."""
    rows = sorted(
        f"{o.object_name[len(prefix) :]}\0{o.size}\0{o.etag}"
        for o in listing
        if o.object_name and not o.is_dir and is_upload_key(o.object_name)
    )
    return hashlib.sha256("\n".join(rows).encode("utf-8")).hexdigest()


class ObjectStore:
    """One bucket of claims through the minio SDK; see the module docstring for the layout.

    Thread-safe: the flows share one store between their worker threads."""

    def __init__(
        self, settings: Settings, endpoint: str | None = None, attempts: int | None = None
    ) -> None:
        configured = endpoint or settings.s3_endpoint
        if not configured:
            raise ValueError(
                "no S3 endpoint: set INTAKE_S3_ENDPOINT, or start the embedded server "
                "(infra.s3server.EmbeddedS3) and pass its endpoint"
            )
        self.endpoint, self.secure = parse_endpoint(configured, settings.s3_secure)
        self.bucket = settings.s3_bucket
        self.access_key = settings.s3_access_key
        self.attempts = max(1, attempts or settings.s3_attempts)
        self.client = Minio(
            self.endpoint,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key,
            secure=self.secure,
            region=settings.s3_region,  # known region: no GetBucketLocation round trip
            http_client=_http_client(settings),
        )
        self._fingerprints: dict[str, str] = {}
        self._skipped: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"{'https' if self.secure else 'http'}://{self.endpoint}"

    # -- plumbing -------------------------------------------------------------------------

    def _call(self, what: str, action: Callable[[], T]) -> T:
        """Run one S3 request; retry transient failures, translate the final ones."""
        failure: Exception | None = None
        for attempt in range(1, self.attempts + 1):
            try:
                return action()
            except Exception as exc:
                if isinstance(exc, S3Error) and exc.code in AUTH_CODES:
                    raise StorageAccessDenied(
                        f"S3 at {self.url} refused access key {self.access_key!r} during {what} "
                        f"({exc.code}: {exc.message}); check INTAKE_S3_ACCESS_KEY and "
                        "INTAKE_S3_SECRET_KEY"
                    ) from exc
                if not _is_transient(exc):
                    raise
                failure = exc
            if attempt < self.attempts:
                delay = min(BACKOFF_FIRST * 2 ** (attempt - 1), BACKOFF_MAX)
                log.warning("S3 %s failed (%s); retry in %.2f s", what, _summary(failure), delay)
                time.sleep(delay)
        assert failure is not None
        raise StorageUnavailable(
            f"S3 at {self.url} is unavailable: {what} failed {self.attempts} times, last with "
            f"{_summary(failure)}; is the server running (INTAKE_S3_ENDPOINT)?"
        ) from failure

    def _missing(self, what: str, key: str, action: Callable[[], T]) -> T:
        """`_call`, with a missing object raised as ObjectNotFoundError."""
        try:
            return self._call(what, action)
        except S3Error as exc:
            if exc.code in MISSING_CODES:
                raise ObjectNotFoundError(f"no object {key} in bucket {self.bucket}") from exc
            raise

    def _list(self, prefix: str, recursive: bool = True) -> list[Object]:
        return self._call(
            f"listing {prefix}",
            lambda: list(self.client.list_objects(self.bucket, prefix=prefix, recursive=recursive)),
        )

    # -- bucket and objects ---------------------------------------------------------------

    def ensure_bucket(self) -> None:
        """Create the bucket unless it exists (another process may win the race: fine)."""
        if self._call("bucket check", lambda: self.client.bucket_exists(self.bucket)):
            return
        try:
            self._call("bucket creation", lambda: self.client.make_bucket(self.bucket))
        except S3Error as exc:
            if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise
        log.info("created bucket %s at %s", self.bucket, self.url)

    def stat(self, key: str) -> StoredObject:
        validate_key(key)
        info = self._missing("stat", key, lambda: self.client.stat_object(self.bucket, key))
        return StoredObject(
            key=key,
            size=int(info.size or 0),
            etag=str(info.etag or ""),
            last_modified=info.last_modified,
            content_type=str(info.content_type or ""),
            metadata=_user_metadata(info),
        )

    def exists(self, key: str) -> bool:
        try:
            self.stat(key)
        except ObjectNotFoundError:
            return False
        return True

    def metadata(self, key: str) -> dict[str, str]:
        """Every header of the object, lower-cased, as sent (`x-amz-meta-reason`, …)."""
        validate_key(key)
        info = self._missing("stat", key, lambda: self.client.stat_object(self.bucket, key))
        return {k.lower(): str(v) for k, v in (info.metadata or {}).items()}

    def read_bytes(self, key: str) -> bytes:
        validate_key(key)

        def fetch() -> bytes:
            response = self.client.get_object(self.bucket, key)
            try:
                return bytes(response.read())
            finally:
                response.close()
                response.release_conn()

        return self._missing("download", key, fetch)

    def get_file(self, key: str, dest: Path) -> Path:
        """Stream an object to `dest` (written beside it, then renamed into place)."""
        validate_key(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        partial = dest.parent / f".{uuid.uuid4().hex}.part"
        try:
            self._missing(
                "download",
                key,
                lambda: self.client.fget_object(
                    self.bucket, key, str(dest), tmp_file_path=str(partial)
                ),
            )
        finally:
            partial.unlink(missing_ok=True)
        return dest

    def _remote_sha256(self, key: str) -> str:
        def digest() -> str:
            response = self.client.get_object(self.bucket, key)
            try:
                return _sha256_stream(response)
            finally:
                response.close()
                response.release_conn()

        return self._missing("download", key, digest)

    # -- uploads: immutable ---------------------------------------------------------------

    def put_file(
        self, claim_id: str, name: str, path: Path, content_type: str | None = None
    ) -> str:
        """Store a local file as an upload; returns its key (see `_put_immutable`)."""
        key = upload_key(claim_id, name)
        with path.open("rb") as handle:
            digest = _sha256_stream(handle)
        size = path.stat().st_size
        return self._put_immutable(
            key, size, digest, lambda: path.open("rb"), content_type or _content_type(name)
        )

    def put_bytes(
        self, claim_id: str, name: str, data: bytes, content_type: str | None = None
    ) -> str:
        """Store bytes as an upload; returns its key (see `_put_immutable`)."""
        key = upload_key(claim_id, name)
        digest = hashlib.sha256(data).hexdigest()
        return self._put_immutable(
            key, len(data), digest, lambda: io.BytesIO(data), content_type or _content_type(name)
        )

    def upload(self, claim_id: str, name: str, data: bytes | Path) -> str:
        """put_file or put_bytes, whichever `data` is."""
        if isinstance(data, Path):
            return self.put_file(claim_id, name, data)
        return self.put_bytes(claim_id, name, data)

    def _put_immutable(
        self,
        key: str,
        size: int,
        digest: str,
        opener: Callable[[], BinaryIO],
        content_type: str,
    ) -> str:
        """Write `key` unless it exists: the same bytes again are a no-op, others refused."""
        if self._same_upload_exists(key, size, digest):
            log.debug("%s already stored with the same bytes", key)
            return key
        self._put(key, size, opener, content_type, {SHA256_META: digest})
        log.info("stored %s (%d bytes)", key, size)
        return key

    def _same_upload_exists(self, key: str, size: int, digest: str) -> bool:
        try:
            existing = self.stat(key)
        except ObjectNotFoundError:
            return False
        known = existing.metadata.get(SHA256_META)
        if existing.size == size and (known or self._remote_sha256(key)) == digest:
            return True
        *_, claim_id, name = key.split("/")
        raise UploadExistsError(
            f"{name} already exists in claim {claim_id} with other content; uploads are never "
            "overwritten: upload it under a new name"
        )

    def _put(
        self,
        key: str,
        size: int,
        opener: Callable[[], BinaryIO],
        content_type: str,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        """One PUT (multipart above 5 MiB); each retry reads from a fresh stream."""
        headers: DictType = {k: header_value(v) for k, v in (metadata or {}).items()}

        def put() -> None:
            with opener() as stream:
                self.client.put_object(
                    self.bucket, key, stream, size, content_type=content_type, metadata=headers
                )

        self._call(f"upload of {key}", put)

    # -- claims -----------------------------------------------------------------------------

    def list_keys(self, prefix: str) -> list[tuple[str, float]]:
        """(key, last-modified POSIX time) of every object under `prefix`."""
        return [
            (str(o.object_name), o.last_modified.timestamp() if o.last_modified else 0.0)
            for o in self._list(prefix)
            if o.object_name and not o.is_dir
        ]

    def claim_ids(self) -> list[str]:
        """Every claim folder under claims/, from one delimited listing."""
        ids = []
        for entry in self._list(f"{CLAIMS}/", recursive=False):
            parts = str(entry.object_name or "").split("/")
            if entry.is_dir and len(parts) >= 2 and _part_problem(parts[1]) is None:
                ids.append(parts[1])
        return sorted(ids)

    def pending_claims(self) -> list[str]:
        """Claims with a manifest whose result is missing or not newer than every upload."""
        newest: dict[str, float] = {}
        results: dict[str, float] = {}
        manifests: set[str] = set()
        for key, modified in self.list_keys(f"{CLAIMS}/"):
            parts = key.split("/")
            if len(parts) < 3:
                continue
            claim_id = parts[1]
            if not is_upload_key(key):
                if parts[2:] == [RESULTS, RESULT]:
                    results[claim_id] = modified
                continue
            newest[claim_id] = max(newest.get(claim_id, 0.0), modified)
            manifests.update([claim_id] if parts[2:] == [MANIFEST] else [])
        return sorted(c for c in manifests if self._is_pending(c, newest[c], results.get(c)))

    def _is_pending(self, claim_id: str, newest_upload: float, result: float | None) -> bool:
        if result is None or newest_upload > result:
            return True
        if newest_upload < result:
            return False
        # same second: done only if the result was computed from exactly these uploads
        recorded = self.stat(result_key(claim_id)).metadata.get(FINGERPRINT_META)
        return recorded != self.uploads_fingerprint(claim_id)

    def uploads_fingerprint(self, claim_id: str) -> str:
        """The fingerprint of the claim's uploads now (the listing download_claim uses)."""
        prefix = claim_prefix(claim_id)
        return _fingerprint(self._list(prefix, recursive=False), prefix)

    def download_claim(self, claim_id: str, dest: Path) -> Path:
        """The claim's uploads (not its results) into `dest`, for processing."""
        prefix = claim_prefix(claim_id)
        dest.mkdir(parents=True, exist_ok=True)
        listing = self._list(prefix, recursive=False)
        skipped: dict[str, str] = {}
        for entry in listing:
            name = str(entry.object_name or "")[len(prefix) :]
            if entry.is_dir or not name:
                continue  # _results/ and anything nested are not uploads
            try:
                validate_key_part(name)
            except UnsafeKeyError as exc:
                log.warning("claim %s: skipping %r: %s", claim_id, name, exc)
                skipped[name] = str(exc)
                continue
            self.get_file(prefix + name, dest / name)
        with self._lock:  # what the next result.json of this claim was computed from
            self._fingerprints[claim_id] = _fingerprint(listing, prefix)
            self._skipped[claim_id] = skipped
        return dest

    def skipped_uploads(self, claim_id: str) -> dict[str, str]:
        """Objects the last `download_claim` of the claim left out, name -> reason: their names
        are unsafe (another S3 client stored them). They are never read, but must be reported."""
        with self._lock:
            return self._skipped.pop(claim_id, {})

    @contextlib.contextmanager
    def checkout(self, claim_id: str) -> Iterator[Path]:
        """A temporary folder holding the claim's uploads, removed afterwards."""
        with tempfile.TemporaryDirectory(prefix="intake-claim-") as workdir:
            yield self.download_claim(claim_id, Path(workdir) / validate_key_part(claim_id))

    # -- results and JSON -------------------------------------------------------------------

    def put_result(self, claim_id: str, name: str, data: Any) -> str:
        """Write (or overwrite) claims/<id>/_results/<name> as JSON."""
        key = result_key(claim_id, name)
        metadata = {}
        if name == RESULT:
            with self._lock:
                fingerprint = self._fingerprints.pop(claim_id, None)
            metadata[FINGERPRINT_META] = fingerprint or self.uploads_fingerprint(claim_id)
        body = _json_bytes(data)
        self._put(key, len(body), lambda: io.BytesIO(body), JSON_TYPE, metadata)
        return key

    def get_result(self, claim_id: str, name: str = RESULT) -> dict[str, Any] | None:
        try:
            return self.get_json(result_key(claim_id, name))
        except ObjectNotFoundError:
            return None

    def put_json(self, key: str, data: Any) -> str:
        """JSON under any key; under claims/<id>/ outside _results/ it is an immutable upload."""
        validate_key(key)
        body = _json_bytes(data)
        if is_upload_key(key):
            digest = hashlib.sha256(body).hexdigest()
            return self._put_immutable(key, len(body), digest, lambda: io.BytesIO(body), JSON_TYPE)
        self._put(key, len(body), lambda: io.BytesIO(body), JSON_TYPE)
        return key

    def get_json(self, key: str) -> dict[str, Any]:
        data = json.loads(self.read_bytes(key))
        if not isinstance(data, dict):
            raise ValueError(f"{key} does not hold a JSON object")
        return data

    # -- quarantine ---------------------------------------------------------------------------

    def quarantine(self, claim_id: str, name: str, reason: str) -> str:
        """Copy a refused upload to quarantine/<id>/<name> with the reason; the original stays."""
        source = upload_key(claim_id, name)
        target = quarantine_key(claim_id, name)
        original = self.stat(source)
        metadata: DictType = {
            "Content-Type": original.content_type or "application/octet-stream",
            REASON_META: header_value(reason),
            "source": header_value(source),
            "quarantined-at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        if SHA256_META in original.metadata:
            metadata[SHA256_META] = original.metadata[SHA256_META]
        self._call(
            f"quarantine of {source}",
            lambda: self.client.copy_object(
                self.bucket,
                target,
                CopySource(self.bucket, source),
                metadata=metadata,
                metadata_directive="REPLACE",
            ),
        )
        log.info("quarantined %s: %s", source, reason)
        return target

    def quarantine_reason(self, claim_id: str, name: str) -> str | None:
        try:
            return self.stat(quarantine_key(claim_id, name)).metadata.get(REASON_META)
        except ObjectNotFoundError:
            return None

    # -- presigned URLs ---------------------------------------------------------------------

    def presigned_put(self, claim_id: str, name: str, expires_seconds: int = 900) -> str:
        """A URL a browser can PUT one new upload to; refused for names already taken."""
        key = upload_key(claim_id, name)
        if self.exists(key):
            raise UploadExistsError(
                f"{name} already exists in claim {claim_id}; uploads are never overwritten: "
                "upload it under a new name"
            )
        return self.client.presigned_put_object(self.bucket, key, _expiry(expires_seconds))

    def presigned_get(self, key: str, expires_seconds: int = 300) -> str:
        """A URL that reads one object until it expires."""
        validate_key(key)
        return self.client.presigned_get_object(self.bucket, key, _expiry(expires_seconds))


def _expiry(seconds: int) -> timedelta:
    if not 1 <= seconds <= MAX_PRESIGN_SECONDS:
        raise ValueError(f"a presigned URL lives 1 to {MAX_PRESIGN_SECONDS} seconds, not {seconds}")
    return timedelta(seconds=seconds)
