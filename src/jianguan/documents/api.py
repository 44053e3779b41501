"""JSON routes of documents under /api/v1/documents. Thin: parse, call, shape."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, UploadFile
from fastapi.responses import Response

from jianguan.core.api import attachment
from jianguan.core.pagination import Page, PageParams, page_params
from jianguan.deps import CurrentUser, SessionDep
from jianguan.documents import service
from jianguan.documents.schemas import VoidIn, document_dict

router = APIRouter(prefix="/documents", tags=["documents"])


@router.get("", response_model=Page[dict[str, Any]])
def list_documents(db: SessionDep, user: CurrentUser, page: Annotated[PageParams, Depends(page_params)],
                   kind: str = "", year: int | None = None, q: str = "", subject_type: str = "",
                   subject_id: int | None = None) -> Page[Any]:
    if subject_type and subject_id is not None:
        rows = service.for_subject(db, subject_type=subject_type, subject_id=subject_id, actor=user)
        return Page(items=[document_dict(d) for d in rows], total=len(rows), offset=0, limit=len(rows) or 1)
    found, total = service.list_documents(db, actor=user, kind=kind, year=year, query=q, offset=page.offset,
                                          limit=page.limit)
    return Page(items=[document_dict(d) for d in found], total=total, offset=page.offset, limit=page.limit)


@router.get("/kinds")
def kinds() -> list[dict[str, Any]]:
    return [{"code": k.code, "title": k.title, "series": k.series, "sealed": k.sealed}
            for k in service.kinds().values()]


@router.get("/{document_id}")
def get_document(document_id: int, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    doc = service.get_document(db, document_id=document_id, actor=user)
    return {**document_dict(doc), "context": doc.context}


@router.get("/{document_id}/{fmt}", response_class=Response,
            responses={200: {"content": {service.MEDIA["pdf"]: {}, service.MEDIA["docx"]: {}}}})
def download(document_id: int, fmt: str, db: SessionDep, user: CurrentUser) -> Response:
    """The PDF (signed) or DOCX; rendered on first request and the same bytes ever after."""
    doc, data = service.render_files(db, document_id=document_id, fmt=fmt, actor=user)
    return Response(data, media_type=service.MEDIA[fmt], headers={
        "Content-Disposition": attachment(service.file_name(doc, fmt)), "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store"})


@router.post("/{document_id}/void")
def void(document_id: int, body: VoidIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return document_dict(service.void(db, document_id=document_id, reason=body.reason, actor=user))


@router.post("/verify")
def verify(file: UploadFile, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """Is this PDF one of our documents, unchanged? (signature + register)"""
    return service.verify_pdf(db, file.file.read(service.VERIFY_MAX_BYTES))


@router.put("/profiles/{agency_id}")
def set_profile(agency_id: int, db: SessionDep, user: CurrentUser, abbreviation: Annotated[str, Form()],
                seal: UploadFile | None = None, expected_version: Annotated[int | None, Form()] = None,
                ) -> dict[str, Any]:
    row = service.set_profile(db, agency_id=agency_id, abbreviation=abbreviation,
                              seal=seal.file if seal is not None else None, expected_version=expected_version,
                              actor=user)
    return {"agency_id": row.agency_id, "abbreviation": row.abbreviation, "seal_sha256": row.seal_sha256,
            "version": row.version}


@router.put("/signatures/{officer_id}")
def set_signature(officer_id: int, image: UploadFile, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    row = service.set_signature(db, officer_id=officer_id, image=image.file, actor=user)
    return {"officer_id": row.officer_id, "sha256": row.sha256}


@router.post("/templates/{agency_id}", status_code=201)
def upload_template(agency_id: int, db: SessionDep, user: CurrentUser, kind: Annotated[str, Form()],
                    format: Annotated[str, Form()], file: UploadFile) -> dict[str, Any]:
    row = service.upload_template(db, agency_id=agency_id, kind=kind, fmt=format, stream=file.file,
                                  filename=file.filename or "", actor=user)
    return {"id": row.id, "kind": row.kind, "format": row.format, "sha256": row.sha256}


@router.delete("/templates/{template_id}")
def retire_template(template_id: int, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    row = service.retire_template(db, template_id=template_id, actor=user)
    return {"id": row.id, "retired": True}
