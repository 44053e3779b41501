"""执法文书 pages: the register of issued documents, an agency's document settings (机关代字, seal,
own templates, officers' signatures) and the public check of a received PDF. Thin: the service decides."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from jianguan.core.api import attachment
from jianguan.core.errors import DomainError, NotFound
from jianguan.core.i18n import N_
from jianguan.deps import SessionDep
from jianguan.documents import render as renderer
from jianguan.documents import service
from jianguan.web.deps import CsrfProtected, OptionalPageUser, PageUser
from jianguan.web.render import page_step, render, render_error

router = APIRouter(include_in_schema=False)


@router.get("/documents", response_class=HTMLResponse)
def register(request: Request, db: SessionDep, user: PageUser, kind: Annotated[str, Query()] = "",
             year: Annotated[int | None, Query()] = None, q: Annotated[str, Query()] = "",
             page: Annotated[int, Query(ge=1)] = 1) -> Response:
    try:
        rows, total = service.list_documents(db, actor=user, kind=kind, year=year, query=q, offset=(page - 1) * 50)
    except DomainError as error:
        return render_error(request, error)
    return render(request, "documents/index.html", {"rows": rows, "total": total, "kind": kind, "year": year, "q": q,
                                                    "page": page, "kinds": service.kinds()})


@router.post("/documents/{document_id:int}/void", dependencies=[CsrfProtected])
def void(request: Request, document_id: int, db: SessionDep, user: PageUser,
         reason: Annotated[str, Form()] = "") -> Response:
    with page_step(request, db, N_("Document {number} is void; its number stays used."), number="") as step:
        doc = service.void(db, document_id=document_id, reason=reason, actor=user)
        step.done(N_("Document {number} is void; its number stays used."), number=doc.number)
    return RedirectResponse("/documents", status_code=303)


def _agency(user: PageUser, agency_id: int | None) -> int:
    chosen = agency_id or user.agency_id
    if chosen is None:
        raise NotFound(N_("No such agency."))
    return chosen


@router.get("/documents/settings", response_class=HTMLResponse)
def settings(request: Request, db: SessionDep, user: PageUser,
             agency: Annotated[int | None, Query()] = None) -> Response:
    try:
        found = service.settings_of(db, agency_id=_agency(user, agency), actor=user)
    except DomainError as error:
        return render_error(request, error)
    officer, signature = service.my_signature(db, actor=user)
    return render(request, "documents/settings.html", {"s": found, "kinds": service.kinds(), "officer": officer,
                                                       "signature": signature})


@router.post("/documents/settings/profile", dependencies=[CsrfProtected])
def save_profile(request: Request, db: SessionDep, user: PageUser, agency_id: Annotated[int, Form()],
                 abbreviation: Annotated[str, Form()] = "", version: Annotated[str, Form()] = "",
                 seal: UploadFile | None = None) -> Response:
    with page_step(request, db, N_("Document settings saved.")):
        has_file = seal is not None and bool(seal.filename)
        service.set_profile(db, agency_id=agency_id, abbreviation=abbreviation,
                            seal=seal.file if has_file and seal is not None else None,
                            expected_version=int(version) if version else None, actor=user)
    return RedirectResponse(f"/documents/settings?agency={agency_id}", status_code=303)


@router.post("/documents/settings/templates", dependencies=[CsrfProtected])
def upload_template(request: Request, db: SessionDep, user: PageUser, agency_id: Annotated[int, Form()],
                    kind: Annotated[str, Form()], format: Annotated[str, Form()], file: UploadFile) -> Response:
    with page_step(request, db, N_("Template accepted: it rendered the sample document.")):
        service.upload_template(db, agency_id=agency_id, kind=kind, fmt=format, stream=file.file,
                                filename=file.filename or "", actor=user)
    return RedirectResponse(f"/documents/settings?agency={agency_id}#templates", status_code=303)


@router.post("/documents/settings/templates/{template_id:int}/retire", dependencies=[CsrfProtected])
def retire_template(request: Request, template_id: int, db: SessionDep, user: PageUser,
                    agency_id: Annotated[int, Form()]) -> Response:
    with page_step(request, db, N_("The shipped template is used again.")):
        service.retire_template(db, template_id=template_id, actor=user)
    return RedirectResponse(f"/documents/settings?agency={agency_id}#templates", status_code=303)


@router.post("/documents/settings/signature", dependencies=[CsrfProtected])
def save_signature(request: Request, db: SessionDep, user: PageUser, officer_id: Annotated[int, Form()],
                   image: UploadFile) -> Response:
    with page_step(request, db, N_("Signature image saved.")):
        service.set_signature(db, officer_id=officer_id, image=image.file, actor=user)
    return RedirectResponse("/documents/settings#signature", status_code=303)


@router.get("/documents/settings/seal.png")
def seal(db: SessionDep, user: PageUser, agency: Annotated[int | None, Query()] = None) -> Response:
    data = service.seal_image(db, agency_id=_agency(user, agency), actor=user)
    if data is None:
        raise NotFound(N_("No seal image yet."))
    return Response(data, media_type="image/png", headers={"Cache-Control": "private, no-store"})


@router.get("/documents/settings/signature.png")
def signature(db: SessionDep, user: PageUser) -> Response:
    _officer, sha256 = service.my_signature(db, actor=user)
    data = service.read_file(sha256)
    if data is None:
        raise NotFound(N_("No signature image yet."))
    return Response(data, media_type="image/png", headers={"Cache-Control": "private, no-store"})


@router.get("/documents/templates/{kind}.{fmt}")
def shipped_template(kind: str, fmt: str, user: PageUser) -> Response:
    """The shipped template, to start an agency's own from (with docs/documents.md's field list)."""
    service.kind_of(kind)
    if fmt not in ("docx", "html"):
        raise NotFound(N_("No such template."))
    return Response(renderer.default_template(kind, fmt), media_type=service.MEDIA[fmt],
                    headers={"Content-Disposition": attachment(f"{service.kind_of(kind).title}-模板.{fmt}")})


@router.get("/documents/templates/own/{template_id:int}")
def own_template(template_id: int, db: SessionDep, user: PageUser) -> Response:
    row, data = service.template_file(db, template_id=template_id, actor=user)
    return Response(data, media_type=service.MEDIA[row.format],
                    headers={"Content-Disposition": attachment(row.filename or "template")})


@router.get("/documents/verify", response_class=HTMLResponse)
def verify_form(request: Request, user: OptionalPageUser) -> HTMLResponse:
    return render(request, "documents/verify.html", {"result": None})


@router.post("/documents/verify", response_class=HTMLResponse)
def verify(request: Request, db: SessionDep, user: OptionalPageUser, file: UploadFile) -> HTMLResponse:
    """Public and read-only (nothing is stored or changed), so no CSRF token is needed: anyone holding a
    PDF from us may check it."""
    data = file.file.read(service.VERIFY_MAX_BYTES + 1)
    too_large = len(data) > service.VERIFY_MAX_BYTES
    result = None if too_large else service.verify_pdf(db, data)
    return render(request, "documents/verify.html", {"result": result, "too_large": too_large,
                                                     "filename": file.filename or ""})
