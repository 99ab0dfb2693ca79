"""Hostile uploads through the real S3 server and the real flows: every kind ends with a reason.

Each kind of `tests/hostile.py` is one claim. Its files are uploaded through `ObjectStore`
(names it refuses must be refused before anything is stored, with advice), the claim is run by
the `process-claim` flow (Prefect's engine, the OCR worker pool with rapidocr), and then:

- the outcome is the one the kind expects: a file problem with its reason (`unsupported_file`
  issue, copy in quarantine/ with the reason), `unreadable_page`, `manifest_invalid`, or
  `processed` for content that is a valid document whatever its name;
- every stored upload is still in S3, byte for byte;
- no flow run crashed, no file was lost (each upload is a document or a file problem);
- each claim finished within its time bound (limits from the settings keep the 100 MB file and
  the bombs cheap).

The summary table (kind, outcome, reason) is printed on the terminal.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hostile import HostileCase, Outcome, generate, valid_manifest

from infra.s3server import EmbeddedS3
from infra.storage import (
    ObjectStore,
    UnsafeKeyError,
    UploadExistsError,
    validate_key,
)
from pipeline.errors import IntakeError
from pipeline.settings import get_settings

pytestmark = pytest.mark.ocr

# Small limits for this module (read by the flows and by the OCR worker processes alike): the
# 100 MB file is refused by its size without being decoded; the defaults stay for the rest.
LIMITS = {"INTAKE_MAX_FILE_BYTES": str(32 * 1024 * 1024), "INTAKE_MAX_PAGES": "100"}
SECONDS_WITHOUT_OCR = 30.0  # refused before decoding, or a text-layer PDF
SECONDS_WITH_OCR = 90.0  # one small page through the OCR worker pool
ADVICE = re.compile(
    r"upload|rename|scan|print|split|export|photograph|ask|put the manifest|claim\.json"
)
LOST, CRASHED = "lost", "crashed"


@dataclass(frozen=True, slots=True)
class Row:
    """What happened to one hostile kind."""

    case: HostileCase
    outcome: str
    reason: str
    message: str
    seconds: float

    @property
    def as_expected(self) -> bool:
        return self.outcome == self.case.expected.value and (
            not self.case.reasons or self.reason in self.case.reasons
        )


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> list[HostileCase]:
    return generate(tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="module")
def runtime(
    s3_server: EmbeddedS3, tmp_path_factory: pytest.TempPathFactory, prefect_engine: None
) -> Iterator[Any]:
    from flows.prefect_flows import Runtime

    with pytest.MonkeyPatch.context() as env:
        for key, value in LIMITS.items():
            env.setenv(key, value)  # inherited by the OCR worker processes started below
        get_settings.cache_clear()
        settings = get_settings().model_copy(
            update={
                "state_dir": tmp_path_factory.mktemp("hostile-state"),
                "s3_bucket": "hostile",
                "ocr_workers": 2,
            }
        )
        runtime = Runtime.install(Runtime(settings, endpoint=s3_server.endpoint))
        runtime.pool.worker_peak_rss()  # start the workers (and load OCR) before timing
        try:
            yield runtime
        finally:
            Runtime.reset()
    get_settings.cache_clear()


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _stored_sha256(objects: ObjectStore, key: str) -> str:
    """The digest of an object as the server returns it (any key: a raw S3 read)."""
    response = objects.client.get_object(objects.bucket, key)
    try:
        digest = hashlib.sha256()
        for chunk in response.stream(1 << 20):
            digest.update(chunk)
        return digest.hexdigest()
    finally:
        response.close()
        response.release_conn()


def _store_raw(objects: ObjectStore, claim_id: str, name: str, path: Path) -> None:
    """What another S3 client can do: store an object under any name, no checks."""
    with path.open("rb") as handle:
        objects.client.put_object(
            objects.bucket, f"claims/{claim_id}/{name}", handle, path.stat().st_size
        )


def _manifest_bytes(case: HostileCase) -> bytes:
    if case.manifest is not None:
        return case.manifest.read_bytes()
    return json.dumps(valid_manifest(case.claim_id), ensure_ascii=False).encode("utf-8")


def _upload(objects: ObjectStore, case: HostileCase) -> tuple[dict[str, str], IntakeError | None]:
    """Upload the case's files: the SHA-256 of what was stored, by name, and the refusal."""
    stored: dict[str, str] = {}
    if case.has_manifest:
        body = _manifest_bytes(case)
        objects.upload(case.claim_id, "claim.json", body)
        stored["claim.json"] = hashlib.sha256(body).hexdigest()
    refusal: IntakeError | None = None
    for upload in case.uploads:
        try:
            if case.raw:
                _store_raw(objects, case.claim_id, upload.name, upload.path)
            else:
                objects.upload(case.claim_id, upload.name, upload.path)
        except (UnsafeKeyError, UploadExistsError) as exc:
            refusal = exc
            continue
        stored.setdefault(upload.name, _sha256_file(upload.path))
    return stored, refusal


def _classify(case: HostileCase, result: dict[str, Any]) -> tuple[str, str, str]:
    """(outcome, reason, message) of the case's subject in a claim result."""
    issues = result["issues"]
    manifest_issue = next((i for i in issues if i["code"] == "manifest_invalid"), None)
    if manifest_issue is not None:
        return Outcome.MANIFEST_INVALID.value, "manifest_invalid", manifest_issue["message"]
    subject = case.subject
    assert subject is not None, case.id
    problem = next((p for p in result["file_problems"] if p["file"] == subject.name), None)
    if problem is not None:
        listed = any(
            i["code"] == "unsupported_file" and subject.name in i["message"] for i in issues
        )
        outcome = Outcome.UNSUPPORTED_FILE.value if listed else LOST
        return outcome, problem["reason"], problem["message"]
    documents = {d["id"] for d in result["documents"] if d["file"] == subject.name}
    if not documents:
        return LOST, "-", "neither a document nor a file problem"
    unreadable = next(
        (i for i in issues if i["code"] == "unreadable_page" and documents & set(i["doc_ids"])),
        None,
    )
    if unreadable is not None:  # the advice comes with it, as retake_photo
        advice = [i["message"] for i in issues if documents & set(i["doc_ids"])]
        return Outcome.UNREADABLE_PAGE.value, "unreadable_page", " / ".join(advice)
    types = sorted({d["doc_type"] for d in result["documents"] if d["id"] in documents})
    return Outcome.PROCESSED.value, "+".join(types), "read as " + ", ".join(types)


def _run_case(runtime: Any, case: HostileCase) -> Row:
    from flows.prefect_flows import process_claim

    objects: ObjectStore = runtime.objects
    started = time.monotonic()
    stored, refusal = _upload(objects, case)
    if refusal is not None:
        # refused before storage: nothing under the refused name, the rest untouched
        keys = {k.rsplit("/", 1)[-1] for k, _ in objects.list_keys(f"claims/{case.claim_id}/")}
        assert keys == set(stored), (case.id, keys)
        _check_originals(objects, case, stored)
        return Row(case, Outcome.REFUSED_UPLOAD.value, refusal.reason, str(refusal), 0.0)
    try:
        result = process_claim(case.claim_id)
    except Exception as exc:
        return Row(case, CRASHED, type(exc).__name__, str(exc), time.monotonic() - started)
    seconds = time.monotonic() - started
    outcome, reason, message = _classify(case, result)
    assert objects.get_result(case.claim_id) is not None, f"{case.id}: no result.json published"
    _check_originals(objects, case, stored)
    _check_quarantine(objects, case, outcome, reason, stored)
    return Row(case, outcome, reason, message, seconds)


def _check_originals(objects: ObjectStore, case: HostileCase, stored: dict[str, str]) -> None:
    for name, digest in stored.items():
        key = f"claims/{case.claim_id}/{name}"
        assert _stored_sha256(objects, key) == digest, f"{case.id}: {key!r} changed in S3"


def _check_quarantine(
    objects: ObjectStore, case: HostileCase, outcome: str, reason: str, stored: dict[str, str]
) -> None:
    quarantined = None
    if outcome == Outcome.UNSUPPORTED_FILE.value and case.subject is not None:
        quarantined = case.subject.name
    elif outcome == Outcome.MANIFEST_INVALID.value and "claim.json" in stored:
        quarantined = "claim.json"
    if reason == UnsafeKeyError.reason:
        quarantined = None  # an unsafe name cannot be copied by name: reported, left in place
    if quarantined is not None:
        recorded = objects.quarantine_reason(case.claim_id, quarantined) or ""
        assert recorded.startswith(reason), (case.id, recorded)


def _summary(rows: list[Row]) -> str:
    width = max(len(r.case.id) for r in rows)
    lines = [f"{'kind':<{width}}  {'expected':<17} {'outcome':<17} {'reason':<16} seconds"]
    for row in rows:
        mark = "" if row.as_expected else "   <-- UNEXPECTED"
        lines.append(
            f"{row.case.id:<{width}}  {row.case.expected.value:<17} {row.outcome:<17} "
            f"{row.reason:<16} {row.seconds:6.1f}{mark}"
        )
    counts = Counter(r.outcome for r in rows)
    refused = sum(
        n for outcome, n in counts.items() if outcome not in (Outcome.PROCESSED, LOST, CRASHED)
    )
    lines.append(
        f"kinds tried {len(rows)}, rejected with a reason {refused}, processed "
        f"{counts[Outcome.PROCESSED.value]}, lost {counts[LOST]}, crashed {counts[CRASHED]}, "
        f"not as expected {sum(not r.as_expected for r in rows)}"
    )
    return "\n".join(lines)


def test_every_hostile_kind_ends_with_a_recorded_reason_and_the_original_kept(
    runtime: Any,
    cases: list[HostileCase],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert len(cases) >= 30
    rows = [_run_case(runtime, case) for case in cases]
    summary = _summary(rows)
    with capsys.disabled():
        print("\n" + summary)
    assert [r.case.id for r in rows if r.outcome in (LOST, CRASHED)] == []
    assert [r.case.id for r in rows if not r.as_expected] == [], summary
    for row in rows:
        if row.outcome != Outcome.PROCESSED.value:
            assert ADVICE.search(row.message), f"{row.case.id}: no advice in {row.message!r}"
        bound = SECONDS_WITH_OCR if row.case.ocr else SECONDS_WITHOUT_OCR
        assert row.seconds < bound, f"{row.case.id} took {row.seconds:.1f} s"


def test_a_batch_of_hostile_claims_fails_none(runtime: Any, cases: list[HostileCase]) -> None:
    from flows.prefect_flows import process_pending

    ids = [c.claim_id for c in cases if c.expected is not Outcome.REFUSED_UPLOAD]
    for case in cases:  # uploads are no-ops when the first test stored them already
        if case.expected is not Outcome.REFUSED_UPLOAD:
            _upload(runtime.objects, case)
    statuses = process_pending(claim_ids=ids)
    assert sorted(statuses) == sorted(ids)
    assert {c: s for c, s in statuses.items() if s.startswith("failed")} == {}
    for case in cases:
        if case.expected is Outcome.MANIFEST_INVALID:
            result = runtime.objects.get_result(case.claim_id)
            assert result is not None and result["issues"][0]["code"] == "manifest_invalid"


@pytest.mark.parametrize(
    "key",
    [
        "/etc/passwd",
        "claims/C-1/../../etc/passwd",
        "claims/C-1/发票\x07\n.jpg",
        "claims/C-1/invoice\u202egpj.exe",
        "claims//C-1.jpg",
        "claims/C-1/..\\..\\boot.ini",
    ],
)
def test_unsafe_object_keys_are_refused_with_the_reason(key: str) -> None:
    with pytest.raises(UnsafeKeyError, match=r"the object key .+ (is|has|contains)"):
        validate_key(key)


def test_a_refused_name_stores_nothing_and_says_how_to_fix_it(runtime: Any) -> None:
    objects: ObjectStore = runtime.objects
    with pytest.raises(UnsafeKeyError, match=r"U\+0007.*rename it and upload it again"):
        objects.upload("H-refused", "发票\x07\n.jpg", b"\xff\xd8\xff")
    with pytest.raises(UnsafeKeyError, match=r"'\.\.'.*rename it"):
        objects.upload("H-refused", "../claim.json", b"{}")
    with pytest.raises(UnsafeKeyError, match=r"is an absolute path"):
        objects.upload("/etc", "passwd", b"root")
    assert objects.list_keys("claims/H-refused/") == []


def test_other_bytes_under_an_uploaded_name_are_refused_and_the_first_kept(runtime: Any) -> None:
    objects: ObjectStore = runtime.objects
    objects.upload("H-twice", "invoice.jpg", b"\xff\xd8\xff first")
    assert objects.upload("H-twice", "invoice.jpg", b"\xff\xd8\xff first").endswith("invoice.jpg")
    with pytest.raises(UploadExistsError, match="upload it under a new name"):
        objects.upload("H-twice", "invoice.jpg", b"\xff\xd8\xff second")
    assert objects.read_bytes("claims/H-twice/invoice.jpg") == b"\xff\xd8\xff first"
