"""JSON routes for evidence (upload, download) and the audit log (verify, browse). Thin."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from jianguan.audit import evidence
from jianguan.audit import service as audit
from jianguan.auth.models import User
from jianguan.core.api import attachment
from jianguan.core.errors import Forbidden
from jianguan.core.pagination import Page, PageParams, page_params
from jianguan.deps import CurrentUser, SessionDep

router = APIRouter(tags=["audit"])


class EvidenceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    sha256: str = Field(description="SHA-256 of the content; also its name in the store.")
    size: int
    content_type: str
    filename: str
    uploaded_by_name: str
    created_at: dt.datetime
    taken_at: dt.datetime | None
    latitude: float | None
    longitude: float | None
    note: str
    audit_entry_id: int | None = Field(description="The audit chain entry that recorded the upload.")


class AuditEntryRead(BaseModel):
    id: int
    at: dt.datetime
    actor_id: int | None
    actor_name: str
    action: str
    object_type: str
    object_id: str | None
    detail: dict[str, Any]
    payload_hash: str
    algorithm: str
    prev_hash: str
    hash: str


class VerifyRead(BaseModel):
    ok: bool
    checked: int
    broken_id: int | None
    code: str | None
    reason: str | None
    head_id: int | None
    head_hash: str | None


def _require_system_admin(user: User) -> None:
    if not user.is_system_admin:
        raise Forbidden()


@router.post("/evidence", response_model=EvidenceRead, status_code=201)
def upload_evidence(
    db: SessionDep,
    user: CurrentUser,
    file: Annotated[UploadFile, File(description="The evidence file (type and size limited).")],
    taken_at: Annotated[dt.datetime | None, Form(description="When it was taken, with time zone.")] = None,
    latitude: Annotated[float | None, Form()] = None,
    longitude: Annotated[float | None, Form()] = None,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Any:
    """Store an evidence file (证据); its SHA-256 enters the audit chain."""
    return evidence.store_evidence(db, stream=file.file, filename=file.filename or "",
                                   content_type=file.content_type, actor=user, taken_at=taken_at,
                                   latitude=latitude, longitude=longitude, note=note)


@router.get("/evidence/{sha256}", response_class=StreamingResponse,
            responses={200: {"content": {"application/octet-stream": {}}}})
def download_evidence(sha256: str, db: SessionDep, user: CurrentUser) -> StreamingResponse:
    """The stored bytes, re-hashed before they are sent; the read is audited."""
    row, handle = evidence.open_evidence(db, sha256=sha256, actor=user)

    def chunks() -> Iterator[bytes]:
        with handle:
            while chunk := handle.read(evidence.CHUNK):
                yield chunk

    headers = {
        "Content-Disposition": attachment(row.filename or sha256),
        "Content-Length": str(row.size),
        "X-Content-Type-Options": "nosniff",
        "ETag": f'"{sha256}"',
        "Cache-Control": "private, no-store",
    }
    return StreamingResponse(chunks(), media_type=row.content_type, headers=headers)


@router.get("/evidence/{sha256}/frames")
def evidence_frames(sha256: str, db: SessionDep, user: CurrentUser) -> list[dict[str, Any]]:
    """The key frames of a video (the thumbnail timeline): position, time in the video, image link."""
    evidence.get_evidence(db, sha256=sha256, actor=user)
    return [{"position": f.position, "at_seconds": float(f.at_seconds), "sha256": f.sha256,
             "url": f"/api/v1/evidence/{sha256}/frames/{f.position}"}
            for f in evidence.key_frames(db, sha256=sha256, actor=user)]


@router.get("/evidence/{sha256}/frames/{position}", response_class=StreamingResponse,
            responses={200: {"content": {"image/jpeg": {}}}})
def evidence_frame(sha256: str, position: int, db: SessionDep, user: CurrentUser) -> StreamingResponse:
    handle = evidence.open_frame(db, sha256=sha256, position=position, actor=user)

    def chunks() -> Iterator[bytes]:
        with handle:
            while chunk := handle.read(evidence.CHUNK):
                yield chunk

    return StreamingResponse(chunks(), media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})


@router.get("/audit/verify", response_model=VerifyRead)
def verify_chain(db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """Walk the whole audit chain (system admins only)."""
    _require_system_admin(user)
    return audit.verify(db).as_dict()


@router.get("/audit/entries", response_model=Page[AuditEntryRead])
def list_entries(
    db: SessionDep,
    user: CurrentUser,
    page: Annotated[PageParams, Depends(page_params)],
    object_type: Annotated[str | None, Query()] = None,
    object_id: Annotated[str | None, Query()] = None,
    action: Annotated[str | None, Query()] = None,
    actor_id: Annotated[int | None, Query()] = None,
) -> dict[str, Any]:
    """Audit entries, newest first (system admins only)."""
    _require_system_admin(user)
    rows, total = audit.list_entries(db, object_type=object_type, object_id=object_id, action=action,
                                     actor_id=actor_id, offset=page.offset, limit=page.limit)
    return {"items": [audit.entry_dict(r) for r in rows], "total": total,
            "offset": page.offset, "limit": page.limit}
