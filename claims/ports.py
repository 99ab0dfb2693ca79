"""What the claim service needs from the outside, as protocols (the SQL store implements them)."""

from __future__ import annotations

from typing import Any, Protocol

from validators.duplicates import InvoiceRegistry


class ResultStore(InvoiceRegistry, Protocol):
    """Where results and calculations are kept; also the registry of used invoices."""

    def save_result(
        self,
        result: dict[str, Any],
        manifest: dict[str, Any],
        invoice_keys: list[str],
        content_hash: str = "",
    ) -> bool: ...

    def save_calculation(self, claim_id: str, digest: str, result: dict[str, Any]) -> bool: ...
