"""Claims in a real S3 server: immutable uploads, results, quarantine, presigned URLs, safety."""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from pipeline.s3server import EmbeddedS3
from pipeline.settings import Settings
from pipeline.storage import (
    ObjectStore,
    StorageUnavailableError,
    UnsafeKeyError,
    UploadExistsError,
    validate_key_part,
)


@pytest.fixture
def objects(
    s3_server: EmbeddedS3, settings: Settings, request: pytest.FixtureRequest
) -> ObjectStore:
    bucket = "t" + str(abs(hash(request.node.name)) % 10**8)
    store = ObjectStore(
        settings.model_copy(update={"s3_bucket": bucket}), endpoint=s3_server.endpoint
    )
    store.ensure_bucket()
    return store


def test_a_5_mb_upload_round_trips(objects: ObjectStore, tmp_path: Path) -> None:
    payload = os.urandom(5 * 1024 * 1024)
    objects.upload("C-1", "scan.pdf", payload)
    folder = objects.download_claim("C-1", tmp_path / "C-1")
    assert (folder / "scan.pdf").read_bytes() == payload


def test_uploads_are_immutable_but_identical_reuploads_are_harmless(objects: ObjectStore) -> None:
    objects.upload("C-1", "a.jpg", b"first")
    objects.upload("C-1", "a.jpg", b"first")
    with pytest.raises(UploadExistsError, match="never overwritten"):
        objects.upload("C-1", "a.jpg", b"second")
    assert objects.read_bytes("claims/C-1/a.jpg") == b"first"


def test_pending_claims_follow_uploads_and_results(objects: ObjectStore) -> None:
    objects.upload("C-1", "claim.json", b"{}")
    objects.upload("C-2", "a.jpg", b"no manifest yet")
    assert objects.pending_claims() == ["C-1"]
    objects.put_result("C-1", "result.json", {"status": "complete"})
    assert objects.pending_claims() == []
    time.sleep(1.1)  # S3 timestamps have one-second resolution
    objects.upload("C-1", "late.jpg", b"new page")
    assert objects.pending_claims() == ["C-1"]
    assert objects.claim_ids() == ["C-1", "C-2"]


def test_results_are_overwritten_and_not_downloaded_as_uploads(
    objects: ObjectStore, tmp_path: Path
) -> None:
    objects.upload("C-1", "claim.json", b"{}")
    objects.put_result("C-1", "result.json", {"status": "needs_review", "name": "张三"})
    objects.put_result("C-1", "result.json", {"status": "complete", "name": "张三"})
    assert objects.get_json("claims/C-1/_results/result.json") == {
        "status": "complete",
        "name": "张三",
    }
    assert [p.name for p in objects.download_claim("C-1", tmp_path / "d").iterdir()] == [
        "claim.json"
    ]


def test_quarantine_keeps_the_original_and_records_the_reason(objects: ObjectStore) -> None:
    objects.upload("C-1", "bad.docx", b"PK\x03\x04")
    key = objects.quarantine("C-1", "bad.docx", "unsupported_file: a ZIP archive, not 图片")
    assert objects.read_bytes("claims/C-1/bad.docx") == b"PK\x03\x04"
    assert "unsupported_file" in objects.metadata(key)["x-amz-meta-reason"]


def test_presigned_put_then_get(objects: ObjectStore) -> None:
    url = objects.presigned_put("C-9", "photo.jpg", expires_seconds=60)
    request = urllib.request.Request(url, data=b"jpeg bytes", method="PUT")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    get_url = objects.presigned_get("claims/C-9/photo.jpg", expires_seconds=60)
    with urllib.request.urlopen(get_url, timeout=10) as response:
        assert response.read() == b"jpeg bytes"


def test_an_expired_presigned_url_is_refused(objects: ObjectStore) -> None:
    objects.upload("C-1", "a.jpg", b"x")
    url = objects.presigned_get("claims/C-1/a.jpg", expires_seconds=1)
    time.sleep(2.5)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=10)
    assert refused.value.code == 403


@pytest.mark.parametrize(
    "name", ["../etc", "..", "/etc/passwd", "a/b", "a\\b", "a\x00b", "", "x" * 201, "_results"]
)
def test_unsafe_names_are_refused_before_reaching_s3(name: str) -> None:
    with pytest.raises(UnsafeKeyError):
        validate_key_part(name)


def test_unicode_file_names_are_fine() -> None:
    assert validate_key_part("发票 第1页.jpg") == "发票 第1页.jpg"


def test_a_wrong_secret_is_rejected(s3_server: EmbeddedS3, settings: Settings) -> None:
    from minio.error import S3Error

    wrong = ObjectStore(
        settings.model_copy(update={"s3_secret_key": "wrong"}), endpoint=s3_server.endpoint
    )
    with pytest.raises(S3Error):
        wrong.ensure_bucket()


def test_a_stopped_server_gives_storage_unavailable_quickly(
    tmp_path: Path, settings: Settings
) -> None:
    server = EmbeddedS3(tmp_path / "s3", settings.s3_access_key, settings.s3_secret_key).start()
    store = ObjectStore(settings, endpoint=server.endpoint)
    store.ensure_bucket()
    process: Any = server.process
    server.stop()
    assert process.poll() is not None  # no server left behind
    started = time.monotonic()
    with pytest.raises(StorageUnavailableError, match="unavailable"):
        store.claim_ids()
    assert time.monotonic() - started < 15
