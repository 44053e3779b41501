"""数据导入 pages: upload → check in the background with a progress bar → preview of the problems →
confirm (all, or only the valid rows) → result with the report and the rejected rows to correct."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from jianguan.config import get_settings
from jianguan.core.errors import DomainError, Invalid
from jianguan.core.i18n import N_
from jianguan.deps import SessionDep
from jianguan.imports import pipeline, service
from jianguan.imports.api import parse_as_of
from jianguan.imports.models import ImportBatch
from jianguan.web.deps import CsrfProtected, PageUser
from jianguan.web.render import field_errors, flash, locale_of, render

router = APIRouter(include_in_schema=False)
KIND_LABELS = {"entities": N_("Supervised entities"), "officers": N_("Officers"),
               "catalog": N_("Supervision catalog"), "discretion": N_("Discretion benchmarks"),
               "complaints": N_("Hotline complaints (12345)"), "readings": N_("Sensor readings"),
               "feeds": N_("Data feeds (sampling, opinion, work safety, declared figures)")}
STATUS_LABELS = {"checking": N_("Checking"), "previewed": N_("Checked, awaiting confirmation"),
                 "committed": N_("Imported"), "rejected": N_("Rejected: nothing written"),
                 "discarded": N_("Discarded"), "failed": N_("Failed")}
PROBLEMS_PER_PAGE = 50


def _size(n: int) -> str:
    return f"{n / (1 << 30):g} GB" if n >= 1 << 30 else f"{n // (1 << 20)} MB"


def _index(request: Request, db: SessionDep, user: PageUser, *, kind: str, errors: dict[str, str] | None = None,
           form: dict[str, str] | None = None, status_code: int = 200) -> HTMLResponse:
    kinds = [k for k in pipeline.KINDS if service.may_import(user, k)]
    return render(request, "imports/index.html", {
        "kinds": kinds, "kind": kind if kind in kinds else (kinds[0] if kinds else ""), "kind_labels": KIND_LABELS,
        "status_labels": STATUS_LABELS, "batches": service.list_batches(db, actor=user, limit=30),
        "errors": errors or {}, "form": form or {}, "max_size": _size(get_settings().import_max_bytes),
    }, status_code=status_code)


@router.get("/imports", response_class=HTMLResponse)
def imports_home(request: Request, db: SessionDep, user: PageUser,
                 kind: Annotated[str, Query()] = "entities") -> HTMLResponse:
    return _index(request, db, user, kind=kind)


@router.post("/imports", dependencies=[CsrfProtected])
def upload(request: Request, db: SessionDep, user: PageUser, background: BackgroundTasks,
           kind: Annotated[str, Form()], file: Annotated[UploadFile | None, File()] = None,
           source_system: Annotated[str, Form()] = "", as_of: Annotated[str, Form()] = "") -> Response:
    try:
        if file is None or not file.filename:
            raise Invalid("file", N_("Choose a file to upload."))
        batch = service.create(db, kind=kind, file=file.file, file_name=file.filename, actor=user,
                               source=source_system, as_of=parse_as_of(as_of),
                               max_bytes=get_settings().import_max_bytes)
    except Invalid as error:
        db.rollback()
        form = {"source_system": source_system, "as_of": as_of}
        return _index(request, db, user, kind=kind, errors=field_errors(error, locale_of(request)), form=form,
                      status_code=422)
    background.add_task(service.run_in_background, batch.id, user.id, "check")
    return RedirectResponse(f"/imports/{batch.id}", status_code=303)


def _running(batch: ImportBatch) -> bool:
    return service.progress_of(batch).get("state") in ("running", "queued")


@router.get("/imports/{batch_id}", response_class=HTMLResponse)
def batch_page(request: Request, batch_id: int, db: SessionDep, user: PageUser,
               page: Annotated[int, Query(ge=1)] = 1) -> HTMLResponse:
    batch = service.get_batch(db, batch_id=batch_id, actor=user)
    summary = service.summary_of(batch)
    problems = summary.get("problems", [])
    pages = max(1, (len(problems) + PROBLEMS_PER_PAGE - 1) // PROBLEMS_PER_PAGE)
    shown = problems[(page - 1) * PROBLEMS_PER_PAGE:page * PROBLEMS_PER_PAGE]
    return render(request, "imports/batch.html", {
        "batch": batch, "summary": summary, "problems": shown, "page": min(page, pages), "pages": pages,
        "progress": service.progress_of(batch), "running": _running(batch), "kind_labels": KIND_LABELS,
        "status_labels": STATUS_LABELS, "fields": {f.key: f.label for f in pipeline.kind_module(batch.kind).FIELDS},
    })


@router.get("/imports/{batch_id}/progress", response_class=HTMLResponse)
def progress(request: Request, batch_id: int, db: SessionDep, user: PageUser) -> Response:
    """Polled every second by the progress bar; when the work ends the whole page reloads."""
    batch = service.get_batch(db, batch_id=batch_id, actor=user)
    if not _running(batch):
        return Response(status_code=204, headers={"HX-Refresh": "true"})
    return render(request, "imports/_progress.html", {"batch": batch, "progress": service.progress_of(batch)})


@router.post("/imports/{batch_id}/confirm", dependencies=[CsrfProtected])
def confirm(request: Request, batch_id: int, db: SessionDep, user: PageUser, background: BackgroundTasks,
            valid_rows: Annotated[str, Form()] = "") -> Response:
    batch = service.get_batch(db, batch_id=batch_id, actor=user)
    try:
        service.ensure_confirmable(batch, actor=user)
    except DomainError as error:
        flash(request, error.message, "error", **error.params)
        return RedirectResponse(f"/imports/{batch.id}", status_code=303)
    service.progress_file_queued(batch, "confirm")
    background.add_task(service.run_in_background, batch.id, user.id, "confirm", valid_rows == "1")
    return RedirectResponse(f"/imports/{batch.id}", status_code=303)


@router.post("/imports/{batch_id}/discard", dependencies=[CsrfProtected])
def discard(request: Request, batch_id: int, db: SessionDep, user: PageUser) -> Response:
    batch = service.get_batch(db, batch_id=batch_id, actor=user)
    service.discard(db, batch=batch, actor=user)
    flash(request, N_("The import was discarded; nothing was written."))
    return RedirectResponse("/imports", status_code=303)


@router.get("/imports/{batch_id}/report.xlsx")
def report(batch_id: int, db: SessionDep, user: PageUser) -> Response:
    from jianguan.imports.api import report as api_report

    return api_report(batch_id, db, user)


@router.get("/imports/{batch_id}/rejected.csv")
def rejected(batch_id: int, db: SessionDep, user: PageUser) -> Response:
    from jianguan.imports.api import rejected as api_rejected

    return api_rejected(batch_id, db, user)


@router.get("/imports/templates/{kind}.xlsx")
def template(kind: str, db: SessionDep, user: PageUser) -> Response:
    from jianguan.imports.api import template as api_template

    return api_template(kind, db, user)
