"""Completeness (SPEC §3): which required documents the claim lacks."""

from __future__ import annotations

from pipeline.bundle import ClaimBundle, IssueCode, ValidationIssue
from pipeline.records import DocType
from pipeline.wording import with_article
from validators.common import issue
from validators.rules import Requirement, Rules

NAMES = {
    "id_card": "ID card (居民身份证)",
    "social_security_card": "social security card (社会保障卡)",
    "medical_invoice": "medical invoice (医疗收费票据)",
    "expense_list": "expense list (费用清单)",
    "discharge_summary": "discharge summary (出院小结)",
    "prescription_or_report": "prescription or examination report (处方/检查报告)",
    "filing_record": "filing record (异地就医备案表)",
    "residence_proof": "residence proof (居住证明/户口簿)",
    "residence_permit": "residence permit (居住证)",
    "employment_proof": "employment proof (劳动合同/派驻证明)",
    "referral_form": "referral form (转诊证明)",
    "emergency_certificate": "emergency certificate (急诊证明)",
    "agent_id_card": "agent's ID card (代办人身份证)",
    "bank_card": "bank card (银行卡)",
}


def requirements(bundle: ClaimBundle, rules: Rules) -> list[Requirement]:
    required = rules.required_documents
    manifest = bundle.manifest
    needed: list[Requirement] = list(required.always)
    needed += required.by_care_type.get(manifest.care_type.value, ())
    needed += required.by_claim_type.get(manifest.claim_type.value, ())
    if manifest.by_agent:
        needed += required.by_agent
    if required.bank_card_required:
        needed.append(DocType.BANK_CARD)
    unique: list[Requirement] = []
    for requirement in needed:
        if requirement not in unique:
            unique.append(requirement)
    return unique


def missing_documents(bundle: ClaimBundle, rules: Rules) -> list[str]:
    """The first alternative's name for each unmet requirement."""
    present = {d.doc_type for d in bundle.documents}
    missing: list[str] = []
    for requirement in requirements(bundle, rules):
        options = requirement if isinstance(requirement, tuple) else (requirement,)
        if not any(option in present for option in options):
            missing.append(options[0].value)
    return missing


def check_completeness(bundle: ClaimBundle, rules: Rules) -> list[ValidationIssue]:
    issues = []
    manifest = bundle.manifest
    kind = f"{manifest.claim_type.value} {manifest.care_type.value}".replace("_", " ")
    for doc_type in missing_documents(bundle, rules):
        issues.append(
            issue(
                IssueCode.MISSING_DOCUMENT,
                f"the claim needs {with_article(NAMES.get(doc_type, doc_type))} for "
                f"{with_article(kind)} claim: ask the claimant to supply it",
            )
        )
    return issues
