"""Finish a claim: validate its bundle, calculate a complete one, build and store the result.

Every path that ends a claim comes here: the Prefect flows and the CLI after reading the
uploads (`process`), revalidation after a reviewer's correction (`conclude` with the outcome
it decided), and a claim whose manifest is wrong (`manifest_error_result`).
"""

from __future__ import annotations

from claims.calculation import calculate_claim
from claims.ports import ResultStore
from pipeline.bundle import (
    MANIFEST,
    ClaimBundle,
    ClaimStatus,
    FileProblem,
    ManifestError,
    Severity,
    ValidationIssue,
)
from pipeline.calculator import ReimbursementResult
from pipeline.result import ClaimResult
from validators.duplicates import InvoiceRegistry, invoice_keys
from validators.rules import rules_for_region
from validators.validate import Outcome, validate


def evaluate(
    bundle: ClaimBundle, registry: InvoiceRegistry | None = None
) -> tuple[Outcome, ReimbursementResult | None]:
    """Validate, then calculate when (and only when) the claim is complete."""
    outcome = validate(bundle, rules_for_region(bundle.manifest.insured_region), registry)
    complete = outcome.status is ClaimStatus.COMPLETE
    return outcome, calculate_claim(bundle) if complete else None


def result_of(
    bundle: ClaimBundle, outcome: Outcome, reimbursement: ReimbursementResult | None
) -> ClaimResult:
    """The claim's result (SPEC §6) from its bundle, its validation and its calculation."""
    return ClaimResult(
        claim_id=bundle.manifest.claim_id,
        status=outcome.status,
        claim_type=bundle.manifest.claim_type,
        care_type=bundle.manifest.care_type,
        documents=bundle.documents,
        file_problems=bundle.file_problems,
        missing_documents=outcome.missing_documents,
        issues=outcome.issues,
        reimbursement=reimbursement,
    )


def conclude(
    bundle: ClaimBundle,
    outcome: Outcome,
    reimbursement: ReimbursementResult | None,
    store: ResultStore | None,
    content_hash: str = "",
) -> ClaimResult:
    """Build the result and, with a store, keep it with the claim's invoice keys (for the
    duplicate check of later claims) and its calculation (once per input digest)."""
    result = result_of(bundle, outcome, reimbursement)
    if store is not None:
        manifest = bundle.manifest.model_dump(mode="json")
        store.save_result(result.as_json(), manifest, invoice_keys(bundle), content_hash)
        if reimbursement is not None:
            store.save_calculation(
                bundle.manifest.claim_id, reimbursement.inputs_digest, reimbursement.as_json()
            )
    return result


def process(
    bundle: ClaimBundle, store: ResultStore | None = None, content_hash: str = ""
) -> ClaimResult:
    """Validate, calculate and store one assembled claim."""
    outcome, reimbursement = evaluate(bundle, store)
    return conclude(bundle, outcome, reimbursement, store, content_hash)


def manifest_error_result(claim_id: str, error: ManifestError, stored: bool) -> ClaimResult:
    """The result of a claim whose claim.json is missing or wrong: nothing read, one issue.

    The claim cannot be completed until the operator supplies a valid manifest, so it is
    `incomplete`, with the `manifest_invalid` issue saying what to fix; a stored claim.json is
    listed as a file problem too (the flows quarantine it with the reason)."""
    message = str(error).removeprefix(f"{error.path}: ") if error.path else str(error)
    problems = [FileProblem(file=MANIFEST, reason=error.reason, message=message)] if stored else []
    issue = ValidationIssue(code=error.reason, severity=Severity.ERROR, message=message)
    return ClaimResult(
        claim_id=claim_id,
        status=ClaimStatus.INCOMPLETE,
        file_problems=problems,
        issues=[issue],
    )
