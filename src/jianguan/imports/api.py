"""JSON routes of the import pipeline under /api/v1/imports.

Upload answers 202 at once and checks in the background; poll the batch until ``progress.state`` is
``done``, read the problems, then confirm (again 202 + poll). Reports and templates are downloads.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, File, Form, Query, UploadFile
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel

from jianguan.audit import service as audit
from jianguan.config import get_settings
from jianguan.core.errors import Invalid, NotFound
from jianguan.core.i18n import N_
from jianguan.deps import CurrentUser, SessionDep
from jianguan.imports import service, templates

router = APIRouter(prefix="/imports", tags=["imports"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def parse_as_of(value: str | None) -> dt.datetime | None:
    """ISO date-time; without a zone it is read as Beijing time (what the source systems write)."""
    if value is None or not value.strip():
        return None
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise Invalid("as_of", N_("Not a date and time: {value}"), value=value) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))


class ConfirmIn(BaseModel):
    valid_rows: bool = False


@router.post("/{kind}", status_code=202)
def upload(kind: str, db: SessionDep, user: CurrentUser, background: BackgroundTasks,
           file: Annotated[UploadFile, File()], source_system: Annotated[str, Form()] = "",
           as_of: Annotated[str | None, Form()] = None) -> JSONResponse:
    """Store the file and start checking it (202; poll ``GET /imports/batches/{id}``)."""
    batch = service.create(db, kind=kind, file=file.file, file_name=file.filename or "", actor=user,
                           source=source_system, as_of=parse_as_of(as_of), max_bytes=get_settings().import_max_bytes)
    background.add_task(service.run_in_background, batch.id, user.id, "check")
    return JSONResponse(service.batch_dict(batch), status_code=202,
                        headers={"Location": f"/api/v1/imports/batches/{batch.id}"})


@router.get("/batches")
def batches(db: SessionDep, user: CurrentUser, limit: Annotated[int, Query(ge=1, le=200)] = 50,
            ) -> list[dict[str, Any]]:
    return [service.batch_dict(b) for b in service.list_batches(db, actor=user, limit=limit)]


@router.get("/batches/{batch_id}")
def batch(batch_id: int, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """Status, progress and — once checked — the summary with the first problems."""
    found = service.get_batch(db, batch_id=batch_id, actor=user)
    return {**service.batch_dict(found), "summary": service.summary_of(found)}


@router.post("/batches/{batch_id}/confirm", status_code=202)
def confirm(batch_id: int, body: ConfirmIn, db: SessionDep, user: CurrentUser,
            background: BackgroundTasks) -> dict[str, Any]:
    """Write the batch (all or nothing, or only the valid rows with ``valid_rows: true``)."""
    found = service.get_batch(db, batch_id=batch_id, actor=user)
    service.ensure_confirmable(found, actor=user)
    service.progress_file_queued(found, "confirm")
    background.add_task(service.run_in_background, found.id, user.id, "confirm", body.valid_rows)
    return service.batch_dict(found)


@router.post("/batches/{batch_id}/discard")
def discard(batch_id: int, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    found = service.get_batch(db, batch_id=batch_id, actor=user)
    return service.batch_dict(service.discard(db, batch=found, actor=user))


def _download(db: SessionDep, user: CurrentUser, batch_id: int, which: str) -> FileResponse:
    found = service.get_batch(db, batch_id=batch_id, actor=user)
    path = Path(found.report_path if which == "report" else found.rejected_path)
    if not path.name or not path.is_file():
        raise NotFound()
    audit.record_export(db, actor=user, what=f"import_batch.{which}", filters={"batch": found.id},
                        row_count=found.error_rows + found.warning_rows, fmt=path.suffix.lstrip("."))
    name = f"import-{found.id}-{'report.xlsx' if which == 'report' else 'rejected.csv'}"
    return FileResponse(path, filename=name, media_type=XLSX if which == "report" else "text/csv; charset=utf-8")


@router.get("/batches/{batch_id}/report.xlsx", response_class=FileResponse)
def report(batch_id: int, db: SessionDep, user: CurrentUser) -> FileResponse:
    """The XLSX problem report: problem cells highlighted, a column of messages, a summary sheet."""
    return _download(db, user, batch_id, "report")


@router.get("/batches/{batch_id}/rejected.csv", response_class=FileResponse)
def rejected(batch_id: int, db: SessionDep, user: CurrentUser) -> FileResponse:
    """The rows that were not imported, in the upload's columns, to correct and re-import."""
    return _download(db, user, batch_id, "rejected")


@router.get("/templates/{kind}.xlsx", response_class=FileResponse)
def template(kind: str, db: SessionDep, user: CurrentUser) -> FileResponse:
    """The XLSX template: header row of field keys, field descriptions, dropdowns for coded fields."""
    return FileResponse(templates.cached_template(db, kind), filename=f"{kind}-template.xlsx", media_type=XLSX)
