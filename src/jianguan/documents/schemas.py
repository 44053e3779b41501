"""The JSON shapes of documents."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from jianguan.documents.models import Document


class VoidIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


def document_dict(doc: Document) -> dict[str, Any]:
    return {"id": doc.id, "kind": doc.kind, "title": doc.context.get("title", ""), "number": doc.number,
            "agency_id": doc.agency_id, "subject_type": doc.subject_type, "subject_id": doc.subject_id,
            "entity_id": doc.entity_id, "issued_on": doc.issued_on.isoformat(),
            "context_sha256": doc.context_sha256, "pdf_sha256": doc.pdf_sha256, "docx_sha256": doc.docx_sha256,
            "signer": doc.signer, "rendered_at": doc.rendered_at, "void": doc.voided_at is not None,
            "void_reason": doc.void_reason, "version": doc.version,
            "links": {"pdf": f"/api/v1/documents/{doc.id}/pdf", "docx": f"/api/v1/documents/{doc.id}/docx"}}
