"""Claims in a real S3 server (SeaweedFS `weed mini`): immutable uploads, results, quarantine,
presigned URLs, unsafe keys, refused credentials, a dead server, and the server's lifecycle."""

from __future__ import annotations

import os
import socket
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.s3server import EmbeddedS3, EmbeddedS3Error, port_free
from infra.storage import (
    ObjectNotFoundError,
    ObjectStore,
    StorageAccessDenied,
    StorageUnavailable,
    UnsafeKeyError,
    UploadExistsError,
    parse_endpoint,
    validate_key,
    validate_key_part,
)
from pipeline.settings import Settings

# -- fixtures -----------------------------------------------------------------------------------


def _store(server: EmbeddedS3, settings: Settings, **changes: object) -> ObjectStore:
    """A store on its own bucket, so tests share the server but never each other's objects."""
    update = {"s3_bucket": f"t-{uuid.uuid4().hex[:16]}", **changes}
    return ObjectStore(settings.model_copy(update=update), endpoint=server.endpoint)


@pytest.fixture
def store(s3_server: EmbeddedS3, settings: Settings) -> ObjectStore:
    objects = _store(s3_server, settings)
    objects.ensure_bucket()
    return objects


@pytest.fixture
def own_server(tmp_path: Path, settings: Settings) -> Iterator[EmbeddedS3]:
    """A server of the test's own, for tests that stop or restart it."""
    server = EmbeddedS3(tmp_path / "s3", settings=settings).start()
    yield server
    server.stop()


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


# -- buckets, round trips -------------------------------------------------------------------------


def test_ensure_bucket_creates_the_bucket_once(s3_server: EmbeddedS3, settings: Settings) -> None:
    objects = _store(s3_server, settings)
    assert not objects.client.bucket_exists(objects.bucket)
    objects.ensure_bucket()
    objects.ensure_bucket()
    assert objects.client.bucket_exists(objects.bucket)


def test_a_5_mb_file_round_trips_through_a_multipart_upload(
    store: ObjectStore, tmp_path: Path
) -> None:
    payload = os.urandom(5 * 1024 * 1024 + 1)  # one byte over a part: two parts
    source = tmp_path / "scan.pdf"
    source.write_bytes(payload)
    key = store.put_file("C-1", "scan.pdf", source)
    assert key == "claims/C-1/scan.pdf"
    info = store.stat(key)
    assert info.size == len(payload) and info.content_type == "application/pdf"
    assert store.get_file(key, tmp_path / "back" / "scan.pdf").read_bytes() == payload
    with store.checkout("C-1") as folder:
        assert (folder / "scan.pdf").read_bytes() == payload
    assert not folder.exists()


def test_a_missing_object_is_a_lookup_error(store: ObjectStore, tmp_path: Path) -> None:
    with pytest.raises(ObjectNotFoundError, match=r"claims/C-1/none\.jpg"):
        store.read_bytes("claims/C-1/none.jpg")
    with pytest.raises(ObjectNotFoundError):
        store.get_file("claims/C-1/none.jpg", tmp_path / "none.jpg")
    assert not (tmp_path / "none.jpg").exists()
    assert store.get_result("C-1") is None
    assert not store.exists("claims/C-1/none.jpg")


# -- immutability, results ---------------------------------------------------------------------


def test_uploads_are_immutable_but_identical_reuploads_are_harmless(store: ObjectStore) -> None:
    store.put_bytes("C-1", "a.jpg", b"first")
    before = store.stat("claims/C-1/a.jpg")
    time.sleep(1.1)  # a rewrite would show as a later Last-Modified
    assert store.put_bytes("C-1", "a.jpg", b"first") == "claims/C-1/a.jpg"
    assert store.stat("claims/C-1/a.jpg") == before
    with pytest.raises(UploadExistsError, match=r"a\.jpg already exists in claim C-1"):
        store.put_bytes("C-1", "a.jpg", b"second")
    with pytest.raises(UploadExistsError):
        store.put_json("claims/C-1/a.jpg", {"not": "the same"})
    assert store.read_bytes("claims/C-1/a.jpg") == b"first"


def test_results_are_overwritten_and_not_downloaded_as_uploads(
    store: ObjectStore, tmp_path: Path
) -> None:
    store.put_json("claims/C-1/claim.json", {"claim_id": "C-1"})
    store.put_result("C-1", "result.json", {"status": "needs_review", "name": "张三"})
    store.put_result("C-1", "result.json", {"status": "complete", "name": "张三"})
    store.put_result("C-1", "reimbursement.json", {"fund_payment": "812.40"})
    assert store.get_result("C-1") == {"status": "complete", "name": "张三"}
    assert store.get_json("claims/C-1/_results/reimbursement.json") == {"fund_payment": "812.40"}
    folder = store.download_claim("C-1", tmp_path / "C-1")
    assert [p.name for p in folder.iterdir()] == ["claim.json"]


# -- listing, pending ----------------------------------------------------------------------------


def test_claims_are_listed_and_pending_until_a_newer_result(store: ObjectStore) -> None:
    store.put_bytes("C-1", "claim.json", b"{}")
    store.put_bytes("C-2", "a.jpg", b"no manifest yet")
    store.put_bytes("C-3", "claim.json", b"{}")
    store.put_result("C-3", "result.json", {"status": "complete"})
    assert store.claim_ids() == ["C-1", "C-2", "C-3"]
    assert store.pending_claims() == ["C-1"]
    time.sleep(1.1)  # S3 keeps whole seconds
    store.put_bytes("C-3", "late.jpg", b"a page sent later")
    assert store.pending_claims() == ["C-1", "C-3"]
    time.sleep(1.1)
    store.put_result("C-3", "result.json", {"status": "complete"})
    assert store.pending_claims() == ["C-1"]


def test_a_result_from_older_uploads_stays_pending_even_within_the_same_second(
    store: ObjectStore, tmp_path: Path
) -> None:
    store.put_bytes("C-1", "claim.json", b"{}")
    store.download_claim("C-1", tmp_path / "run1")
    store.put_result("C-1", "result.json", {"status": "complete"})
    assert store.pending_claims() == []
    store.download_claim("C-1", tmp_path / "run2")  # processing starts ...
    store.put_bytes("C-1", "late.jpg", b"... a page arrives meanwhile ...")
    store.put_result("C-1", "result.json", {"status": "complete"})  # ... and ends without it
    assert store.pending_claims() == ["C-1"]


# -- quarantine ----------------------------------------------------------------------------------


def test_quarantine_keeps_the_original_and_records_the_reason(store: ObjectStore) -> None:
    store.put_bytes("C-1", "发票.docx", b"PK\x03\x04")
    original = store.stat("claims/C-1/发票.docx")
    reason = "unsupported_file: a ZIP archive, not 图片\n(100% sure)"
    key = store.quarantine("C-1", "发票.docx", reason)
    assert key == "quarantine/C-1/发票.docx"
    assert store.read_bytes(key) == b"PK\x03\x04"
    assert store.quarantine_reason("C-1", "发票.docx") == reason
    meta = store.stat(key).metadata
    assert meta["source"] == "claims/C-1/发票.docx" and meta["quarantined-at"].startswith("20")
    assert "unsupported_file" in store.metadata(key)["x-amz-meta-reason"]  # raw header: ASCII
    assert store.read_bytes("claims/C-1/发票.docx") == b"PK\x03\x04"
    assert store.stat("claims/C-1/发票.docx") == original
    with pytest.raises(ObjectNotFoundError):
        store.quarantine("C-1", "never-uploaded.pdf", "unsupported_file")


# -- presigned URLs ------------------------------------------------------------------------------


def test_presigned_put_then_get(store: ObjectStore) -> None:
    url = store.presigned_put("C-9", "照片 1.jpg", expires_seconds=60)
    request = urllib.request.Request(url, data=b"jpeg bytes", method="PUT")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    get_url = store.presigned_get("claims/C-9/照片 1.jpg", expires_seconds=60)
    with urllib.request.urlopen(get_url, timeout=10) as response:
        assert response.read() == b"jpeg bytes"
    # no SHA-256 recorded by a browser upload: the bytes themselves are compared
    store.put_bytes("C-9", "照片 1.jpg", b"jpeg bytes")
    with pytest.raises(UploadExistsError):
        store.put_bytes("C-9", "照片 1.jpg", b"other bytes")
    with pytest.raises(UploadExistsError):
        store.presigned_put("C-9", "照片 1.jpg")


def test_an_expired_presigned_url_is_refused(store: ObjectStore) -> None:
    store.put_bytes("C-1", "a.jpg", b"x")
    url = store.presigned_get("claims/C-1/a.jpg", expires_seconds=1)
    time.sleep(2)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=10)
    assert refused.value.code == 403
    assert b"expired" in refused.value.read()


@pytest.mark.parametrize("seconds", [0, 7 * 24 * 3600 + 1])
def test_a_presigned_url_lives_one_second_to_seven_days(store: ObjectStore, seconds: int) -> None:
    with pytest.raises(ValueError, match="presigned"):
        store.presigned_get("claims/C-1/a.jpg", expires_seconds=seconds)


# -- unsafe keys ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("..", r"'\.\.'"),
        ("../etc", r"'\.\.'"),
        ("a\\..\\b", r"'\.\.'"),
        ("/etc/passwd", "absolute path"),
        ("\\\\server\\share", "absolute path"),
        ("C:\\Windows", "absolute path"),
        ("a\\b", "backslash"),
        ("a/b", "path separator"),
        ("", "is empty"),
        ("   ", "is blank"),
        ("a\x00b", "U\\+0000"),
        ("a\nb", "U\\+000A"),
        ("invoice\u202egpj.exe", "U\\+202E"),  # right-to-left override: hides the extension
        ("x" * 201, "201 bytes"),
        ("票" * 67, "201 bytes"),
        ("_results", "reserves"),
        (".hidden", "reserves"),
    ],
)
def test_unsafe_names_are_refused_with_the_reason(name: str, problem: str) -> None:
    with pytest.raises(UnsafeKeyError, match=problem) as refused:
        validate_key_part(name)
    assert refused.value.reason == "unsafe_key"


@pytest.mark.parametrize("key", ["/claims/C-1/a.jpg", "claims//a.jpg", "claims/../a", "a\tb/c"])
def test_unsafe_whole_keys_are_refused(key: str) -> None:
    with pytest.raises(UnsafeKeyError):
        validate_key(key)


def test_unsafe_names_never_reach_the_server(store: ObjectStore) -> None:
    with pytest.raises(UnsafeKeyError):
        store.put_bytes("../C-1", "a.jpg", b"x")
    with pytest.raises(UnsafeKeyError):
        store.put_bytes("C-1", "../../a.jpg", b"x")
    with pytest.raises(UnsafeKeyError):
        store.read_bytes("claims/C-1/../../etc")
    with pytest.raises(UnsafeKeyError):
        store.presigned_put("C-1", "a\\b.jpg")
    with pytest.raises(UnsafeKeyError):
        store.quarantine("C-1", "/etc/passwd", "unsafe")
    assert store.claim_ids() == []


def test_unicode_and_long_names_within_the_limit_are_fine(store: ObjectStore) -> None:
    for name in ("发票 第1页.jpg", "x" * 200, "票" * 66 + "ab", "a..b.pdf"):
        assert validate_key_part(name) == name
        store.put_bytes("C-1", name, name.encode())
        assert store.read_bytes(f"claims/C-1/{name}") == name.encode()


# -- configuration and failures ------------------------------------------------------------------


def test_endpoints_may_be_urls() -> None:
    assert parse_endpoint("127.0.0.1:9000", False) == ("127.0.0.1:9000", False)
    assert parse_endpoint("https://s3.example.cn:9000", False) == ("s3.example.cn:9000", True)
    assert parse_endpoint("http://127.0.0.1:9000/", True) == ("127.0.0.1:9000", False)
    with pytest.raises(ValueError, match="host:port"):
        parse_endpoint("http://127.0.0.1:9000/bucket", False)


def test_a_store_needs_an_endpoint(settings: Settings) -> None:
    with pytest.raises(ValueError, match="INTAKE_S3_ENDPOINT"):
        ObjectStore(settings.model_copy(update={"s3_endpoint": None}))


def test_a_wrong_secret_is_rejected_clearly(s3_server: EmbeddedS3, settings: Settings) -> None:
    wrong = _store(s3_server, settings, s3_secret_key="not-the-secret")
    started = time.monotonic()
    with pytest.raises(StorageAccessDenied, match="INTAKE_S3_SECRET_KEY") as refused:
        wrong.claim_ids()
    assert "SignatureDoesNotMatch" in str(refused.value) and s3_server.endpoint in str(
        refused.value
    )
    assert time.monotonic() - started < 2  # not retried: waiting will not fix a secret


def test_a_stopped_server_gives_storage_unavailable_quickly(
    own_server: EmbeddedS3, settings: Settings
) -> None:
    objects = _store(own_server, settings)
    objects.ensure_bucket()
    own_server.stop()
    started = time.monotonic()
    with pytest.raises(StorageUnavailable, match="unavailable") as failed:
        objects.claim_ids()
    assert time.monotonic() - started < 10
    assert own_server.endpoint in str(failed.value) and "3 times" in str(failed.value)
    assert isinstance(failed.value, ConnectionError)  # what generic retry rules look for


def test_a_server_that_never_answers_does_not_hang(settings: Settings) -> None:
    with socket.socket() as silent:  # accepts connections (backlog) but never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        endpoint = f"127.0.0.1:{silent.getsockname()[1]}"
        objects = ObjectStore(
            settings.model_copy(update={"s3_read_timeout": 0.5}), endpoint=endpoint
        )
        started = time.monotonic()
        with pytest.raises(StorageUnavailable, match="ReadTimeout"):
            objects.ensure_bucket()
        assert time.monotonic() - started < 5


# -- the embedded server ---------------------------------------------------------------------------


def test_the_embedded_server_stops_cleanly_leaving_nothing_behind(
    own_server: EmbeddedS3, s3_server: EmbeddedS3
) -> None:
    assert own_server.endpoint != s3_server.endpoint  # two servers side by side
    assert own_server.started_in < 30
    pid = own_server.pid
    ports = own_server.ports
    assert pid is not None and ports is not None
    sockets = ports.grpc_sockets()
    assert any(path.exists() for path in sockets)  # weed's own, in /tmp
    own_server.stop()
    assert not own_server.running and _gone(pid)
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)  # nothing left in its process group either
    assert all(port_free(port) for port in ports.numbers())
    assert not any(path.exists() for path in sockets)
    own_server.stop()  # idempotent


def test_one_data_folder_one_server_and_data_survive_a_restart(
    own_server: EmbeddedS3, settings: Settings
) -> None:
    with pytest.raises(EmbeddedS3Error, match="already served by another embedded S3 server"):
        EmbeddedS3(own_server.data_dir, settings=settings).start()
    objects = _store(own_server, settings)
    objects.ensure_bucket()
    objects.put_bytes("C-1", "a.jpg", b"before the restart")
    endpoint = own_server.endpoint
    own_server.stop()
    with EmbeddedS3(own_server.data_dir, settings=settings) as again:
        assert again.endpoint == endpoint  # its previous ports were free: reused
        objects.put_bytes("C-1", "b.jpg", b"after the restart")
        assert objects.read_bytes("claims/C-1/a.jpg") == b"before the restart"
        assert objects.read_bytes("claims/C-1/b.jpg") == b"after the restart"


def test_a_server_that_cannot_start_says_why(tmp_path: Path, settings: Settings) -> None:
    server = EmbeddedS3(tmp_path / "s3", settings=settings, extra_args=("-no.such.flag=1",))
    with pytest.raises(EmbeddedS3Error, match="exited with code") as failed:
        server.start()
    assert "flag provided but not defined: -no.such.flag" in str(failed.value)
    assert server.process is None and not server.running
    with EmbeddedS3(tmp_path / "s3", settings=settings) as fine:  # lock released
        assert fine.running
