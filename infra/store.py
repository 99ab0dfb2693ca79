"""The claim store: claims, documents, fields, issues, status history, corrections, payments.

SQLAlchemy 2 over SQLite (embedded default, a file under the state dir) or PostgreSQL
(`INTAKE_DATABASE_URL=postgresql+psycopg://…`). Saving a claim's result is idempotent: the
rows of a claim are replaced as a whole, history only grows when the status changes, and a
calculation is stored once per input digest.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

FIELD_ACTIONS = ("edit", "confirm")  # corrections that vouch for a field's value


def _now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class ClaimRow(Base):
    __tablename__ = "claims"

    claim_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    claim_type: Mapped[str] = mapped_column(String(32))
    care_type: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), index=True)
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class DocumentRow(Base):
    __tablename__ = "documents"

    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.claim_id"), primary_key=True)
    doc_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    file: Mapped[str] = mapped_column(String(500))
    doc_type: Mapped[str] = mapped_column(String(32))
    doc_type_confidence: Mapped[float] = mapped_column(Float)
    pages: Mapped[list[int]] = mapped_column(JSON)


class FieldRow(Base):
    __tablename__ = "fields"

    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.claim_id"), primary_key=True)
    doc_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    confidence: Mapped[float] = mapped_column(Float)
    raw: Mapped[str] = mapped_column(Text, default="")


class IssueRow(Base):
    __tablename__ = "issues"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.claim_id"), index=True)
    code: Mapped[str] = mapped_column(String(48), index=True)
    severity: Mapped[str] = mapped_column(String(8))
    message: Mapped[str] = mapped_column(Text)
    field: Mapped[str | None] = mapped_column(String(64), nullable=True)


class InvoiceKeyRow(Base):
    """Invoices already used by a claim: the basis of duplicate detection."""

    __tablename__ = "invoice_keys"
    __table_args__ = (UniqueConstraint("invoice_key", "claim_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    invoice_key: Mapped[str] = mapped_column(String(80), index=True)
    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.claim_id"))


class StatusHistoryRow(Base):
    __tablename__ = "status_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.claim_id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    reason: Mapped[str] = mapped_column(Text, default="")


class CorrectionRow(Base):
    """A reviewer's change: who, when, old -> new, why (the audit trail)."""

    __tablename__ = "corrections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.claim_id"), index=True)
    doc_id: Mapped[str] = mapped_column(String(300))
    key: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    old_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    new_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    reviewer: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class CalculationRow(Base):
    __tablename__ = "calculations"
    __table_args__ = (UniqueConstraint("claim_id", "inputs_digest"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.claim_id"), index=True)
    inputs_digest: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class ClaimStore:
    """Persistence for claim results; one instance per process, sessions per operation."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = create_engine(url, pool_pre_ping=True)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        Base.metadata.create_all(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def claims_using_invoice(self, invoice_key: str, exclude_claim: str) -> list[str]:
        """Claims that used this invoice before `exclude_claim` did (the first user owns it)."""
        with self.session() as session:
            rows = session.execute(
                select(InvoiceKeyRow.claim_id, InvoiceKeyRow.id).where(
                    InvoiceKeyRow.invoice_key == invoice_key
                )
            ).all()
        mine = min((i for c, i in rows if c == exclude_claim), default=None)
        return sorted({c for c, i in rows if c != exclude_claim and (mine is None or i < mine)})

    def save_result(
        self,
        result: dict[str, Any],
        manifest: dict[str, Any],
        invoice_keys: list[str],
        content_hash: str = "",
    ) -> bool:
        """Store a claim's result, replacing earlier rows; True if the status changed."""
        claim_id = result["claim_id"]
        with self.session() as session:
            row = session.get(ClaimRow, claim_id)
            changed = row is None or row.status != result["status"]
            if row is None:
                row = ClaimRow(claim_id=claim_id, created_at=_now())
                session.add(row)
            row.claim_type = manifest["claim_type"]
            row.care_type = manifest["care_type"]
            row.status = result["status"]
            row.manifest = json.loads(json.dumps(manifest, default=str))
            row.result = result
            row.content_hash = content_hash
            row.updated_at = _now()
            session.flush()
            for table in (DocumentRow, FieldRow, IssueRow):
                session.execute(delete(table).where(table.claim_id == claim_id))
            self._add_children(session, claim_id, result)
            self._register_invoices(session, claim_id, invoice_keys)
            if changed:
                session.add(
                    StatusHistoryRow(
                        claim_id=claim_id, status=result["status"], reason=_summary(result)
                    )
                )
            return changed

    @staticmethod
    def _register_invoices(session: Session, claim_id: str, keys: list[str]) -> None:
        """Keep the first registration of each invoice (it decides who used it first)."""
        existing = dict(
            session.execute(
                select(InvoiceKeyRow.invoice_key, InvoiceKeyRow.id).where(
                    InvoiceKeyRow.claim_id == claim_id
                )
            ).all()
        )
        for key in set(existing) - set(keys):
            session.execute(delete(InvoiceKeyRow).where(InvoiceKeyRow.id == existing[key]))
        for key in sorted(set(keys) - set(existing)):
            session.add(InvoiceKeyRow(invoice_key=key, claim_id=claim_id))

    @staticmethod
    def _add_children(session: Session, claim_id: str, result: dict[str, Any]) -> None:
        for document in result.get("documents", []):
            session.add(
                DocumentRow(
                    claim_id=claim_id,
                    doc_id=document["id"],
                    file=document["file"],
                    doc_type=document["doc_type"],
                    doc_type_confidence=document["doc_type_confidence"],
                    pages=document["pages"],
                )
            )
            for key, field in document.get("fields", {}).items():
                session.add(
                    FieldRow(
                        claim_id=claim_id,
                        doc_id=document["id"],
                        key=key,
                        value=field["value"],
                        confidence=field["confidence"],
                        raw=field.get("raw", ""),
                    )
                )
        for found in result.get("issues", []):
            session.add(
                IssueRow(
                    claim_id=claim_id,
                    code=found["code"],
                    severity=found["severity"],
                    message=found["message"],
                    field=found.get("field"),
                )
            )

    def save_calculation(self, claim_id: str, digest: str, result: dict[str, Any]) -> bool:
        """Store a calculation once per input digest; False if it was already stored."""
        with self.session() as session:
            exists = session.scalar(
                select(CalculationRow.id).where(
                    CalculationRow.claim_id == claim_id, CalculationRow.inputs_digest == digest
                )
            )
            if exists is not None:
                return False
            session.add(CalculationRow(claim_id=claim_id, inputs_digest=digest, result=result))
            return True

    def get_result(self, claim_id: str) -> dict[str, Any] | None:
        with self.session() as session:
            row = session.get(ClaimRow, claim_id)
            return dict(row.result) if row else None

    def content_hash_of(self, claim_id: str) -> str | None:
        with self.session() as session:
            row = session.get(ClaimRow, claim_id)
            return row.content_hash if row else None

    def confirmed_fields(self, claim_id: str) -> set[str]:
        """'doc_id:field' pairs a reviewer confirmed or corrected."""
        with self.session() as session:
            rows = session.execute(
                select(CorrectionRow.doc_id, CorrectionRow.key).where(
                    CorrectionRow.claim_id == claim_id,
                    CorrectionRow.action.in_(FIELD_ACTIONS),
                )
            )
            return {f"{doc_id}:{key}" for doc_id, key in rows}

    def status_history(self, claim_id: str) -> list[tuple[str, str]]:
        with self.session() as session:
            rows = session.execute(
                select(StatusHistoryRow.status, StatusHistoryRow.reason)
                .where(StatusHistoryRow.claim_id == claim_id)
                .order_by(StatusHistoryRow.id)
            )
            return [(status, reason) for status, reason in rows]

    def add_correction(
        self,
        claim_id: str,
        doc_id: str,
        key: str,
        action: str,
        old_value: Any,
        new_value: Any,
        reviewer: str,
        reason: str = "",
    ) -> int:
        """Append one reviewer change to the audit trail; returns its id."""
        with self.session() as session:
            row = CorrectionRow(
                claim_id=claim_id,
                doc_id=doc_id,
                key=key,
                action=action,
                old_value=old_value,
                new_value=new_value,
                reviewer=reviewer,
                reason=reason,
            )
            session.add(row)
            session.flush()
            return row.id

    def corrections(self, claim_id: str) -> list[CorrectionRow]:
        """The audit trail of a claim, oldest first."""
        with self.session() as session:
            return list(
                session.scalars(
                    select(CorrectionRow)
                    .where(CorrectionRow.claim_id == claim_id)
                    .order_by(CorrectionRow.id)
                )
            )

    def all_corrections(self) -> list[CorrectionRow]:
        """The audit trail of every claim, oldest first (for statistics; read-only)."""
        with self.session() as session:
            return list(session.scalars(select(CorrectionRow).order_by(CorrectionRow.id)))

    def first_statuses(self) -> dict[str, str]:
        """Each claim's first recorded status: what the pipeline decided before any review."""
        first: dict[str, str] = {}
        with self.session() as session:
            rows = session.execute(
                select(StatusHistoryRow.claim_id, StatusHistoryRow.status).order_by(
                    StatusHistoryRow.id
                )
            )
            for claim_id, status in rows:
                first.setdefault(claim_id, status)
        return first

    def get_claim(self, claim_id: str) -> ClaimRow | None:
        with self.session() as session:
            return session.get(ClaimRow, claim_id)

    def list_claims(self, statuses: list[str] | None = None) -> list[ClaimRow]:
        """Claims, oldest first (the review queue's order), optionally of some statuses."""
        query = select(ClaimRow).order_by(ClaimRow.created_at, ClaimRow.claim_id)
        if statuses:
            query = query.where(ClaimRow.status.in_(statuses))
        with self.session() as session:
            return list(session.scalars(query))

    def take_claim(self, claim_id: str, reviewer: str) -> str | None:
        """Claim a claim for `reviewer` unless another reviewer holds it; returns the holder."""
        with self.session() as session:
            row = session.get(ClaimRow, claim_id, with_for_update=True)
            if row is None:
                return None
            if row.claimed_by is None:
                row.claimed_by = reviewer
            return row.claimed_by

    def release_claim(self, claim_id: str, reviewer: str, force: bool = False) -> bool:
        """Give a claim back; only its holder (or `force`, for admins) may."""
        with self.session() as session:
            row = session.get(ClaimRow, claim_id, with_for_update=True)
            if row is None or (row.claimed_by != reviewer and not force):
                return False
            row.claimed_by = None
            return True

    def calculations(self, claim_id: str) -> list[dict[str, Any]]:
        with self.session() as session:
            return [
                dict(r)
                for r in session.scalars(
                    select(CalculationRow.result)
                    .where(CalculationRow.claim_id == claim_id)
                    .order_by(CalculationRow.id)
                )
            ]

    def count(self, table: type[Base]) -> int:
        with self.session() as session:
            return len(session.scalars(select(table)).all())


def _summary(result: dict[str, Any]) -> str:
    codes = sorted({i["code"] for i in result.get("issues", [])})
    return ", ".join(codes) or "no issues"


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
