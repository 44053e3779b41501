"""Import batches: upload, check (preview of problems), confirm (write), discard; the files each batch
keeps under ``JIANGUAN_HOME/imports/<id>/`` (upload, XLSX problem report, rejected rows, summary) and
its progress, which pages poll while a background thread works.

A batch moves checking → previewed → committed | rejected | discarded (failed on a crash). Confirm
checks the file again before writing — the registry may have changed since the preview — and
writes all of it or, in all-or-nothing mode with any error, nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.auth.models import Role, User
from jianguan.config import get_settings
from jianguan.core.errors import Conflict, DomainError, Forbidden, IllegalTransition, Invalid, NotFound
from jianguan.core.i18n import N_
from jianguan.db import utcnow
from jianguan.imports import pipeline, report
from jianguan.imports.models import ImportBatch

log = logging.getLogger(__name__)

KINDS = pipeline.KINDS
SUFFIXES = (".csv", ".xlsx")
ROLES: dict[str, tuple[Role, ...]] = {
    "entities": (Role.system_admin, Role.agency_admin, Role.officer),
    "officers": (Role.system_admin, Role.agency_admin),
    # Imported catalog items become drafts: they still go through legal review and approval.
    "catalog": (Role.system_admin, Role.agency_admin, Role.officer, Role.legal_reviewer),
    # Imported discretion rules become draft versions, approved by a legal reviewer or leader.
    "discretion": (Role.system_admin, Role.legal_reviewer, Role.leader),
    # Hotline batches (12345 转办) are received like any complaint: matched, routed, due for acceptance.
    "complaints": (Role.system_admin, Role.agency_admin, Role.officer),
    # Sensor readings and data feeds (risk centre), from files or connected systems' API tokens.
    "readings": (Role.system_admin, Role.agency_admin, Role.officer),
    "feeds": (Role.system_admin, Role.agency_admin, Role.officer),
}
PREVIEW_PROBLEMS = 500  # kept in summary.json for the page; the XLSX report has them all
FINAL = ("committed", "rejected", "discarded", "failed")


def folder(batch: ImportBatch) -> Path:
    return get_settings().home / "imports" / str(batch.id)


def upload_path(batch: ImportBatch) -> Path:
    return folder(batch) / f"upload{Path(batch.file_name).suffix.lower()}"


def may_import(actor: User, kind: str) -> bool:
    return actor.has_role(*ROLES.get(kind, ()))


def _ensure_may_import(actor: User, kind: str) -> None:
    if kind not in KINDS:
        raise Invalid("kind", N_("Unknown import kind {kind}."), kind=kind)
    if not may_import(actor, kind):
        raise Forbidden(N_("You may not import {kind}."), kind=kind)


def _can_see(batch: ImportBatch, actor: User) -> bool:
    if actor.is_system_admin or batch.user_id == actor.id:
        return True
    return actor.has_role(Role.agency_admin) and batch.agency_id == actor.agency_id


def get_batch(db: Session, *, batch_id: int, actor: User) -> ImportBatch:
    """The batch, if the actor uploaded it or administers its agency (its report holds restricted data)."""
    batch = db.get(ImportBatch, batch_id)
    if batch is None or not _can_see(batch, actor):
        raise NotFound()
    return batch


def list_batches(db: Session, *, actor: User, limit: int = 50) -> list[ImportBatch]:
    q = select(ImportBatch).order_by(ImportBatch.id.desc()).limit(limit)
    if not actor.is_system_admin:
        mine = ImportBatch.user_id == actor.id
        q = q.where(mine | (ImportBatch.agency_id == actor.agency_id) if actor.has_role(Role.agency_admin) else mine)
    return list(db.scalars(q))


def create(db: Session, *, kind: str, file: IO[bytes] | Path, file_name: str, actor: User, source: str = "",
           as_of: dt.datetime | None = None, valid_rows: bool = False, max_bytes: int | None = None,
           ) -> ImportBatch:
    """Store an uploaded file as a new batch (status ``checking``); ``check`` comes next."""
    _ensure_may_import(actor, kind)
    suffix = Path(file_name).suffix.lower()
    if suffix not in SUFFIXES:
        raise Invalid("file", N_("Upload a CSV or XLSX file (got {name})."), name=file_name or "-")
    if as_of is not None and as_of.tzinfo is None:
        raise Invalid("as_of", N_("Give the as-of time with its time zone."))
    if as_of is not None and as_of > utcnow() + dt.timedelta(minutes=5):
        raise Invalid("as_of", N_("The as-of time is in the future."))
    batch = ImportBatch(kind=kind, source_system=source.strip()[:60], as_of=as_of, file_name=Path(file_name).name,
                        user_id=actor.id, agency_id=actor.agency_id,
                        mode="valid_rows" if valid_rows else "all_or_nothing", status="checking",
                        started_at=utcnow())
    db.add(batch)
    db.flush()
    target = upload_path(batch)
    # A folder of this id can only be left by a batch whose transaction rolled back (SQLite reuses
    # the id): its files, a "running" progress among them, belong to nobody.
    shutil.rmtree(target.parent, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(file, Path):
        shutil.copyfile(file, target)
    else:
        with target.open("wb") as out:
            shutil.copyfileobj(file, out, 1 << 20)
    size = target.stat().st_size
    if max_bytes is not None and size > max_bytes:
        shutil.rmtree(target.parent, ignore_errors=True)
        raise Invalid("file", N_("The file is larger than {limit} MB."), limit=max_bytes // (1 << 20))
    if size == 0:
        shutil.rmtree(target.parent, ignore_errors=True)
        raise Invalid("file", N_("The file is empty."))
    batch.file_sha256 = pipeline.sha256(target)
    return batch


class _Tracker:
    """Writes ``progress.json`` (atomically) so any web process can show how far a batch got."""

    def __init__(self, batch: ImportBatch, action: str) -> None:
        self.path = folder(batch) / "progress.json"
        self.action = action
        self.write({"state": "running", "action": action, "phase": "check", "done": 0, "total": None})

    def write(self, data: dict[str, Any]) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False))
        os.replace(tmp, self.path)

    def __call__(self, phase: str, done: int, total: int | None) -> None:
        self.write({"state": "running", "action": self.action, "phase": phase, "done": done, "total": total})

    def finish(self, state: str = "done", error: str = "") -> None:
        self.write({"state": state, "action": self.action, "error": error})


def progress_file_queued(batch: ImportBatch, action: str) -> None:
    """Mark the batch as queued before its background task starts, so the next page shows the bar."""
    _Tracker(batch, action).write({"state": "queued", "action": action, "phase": "check", "done": 0,
                                   "total": None})


def progress_of(batch: ImportBatch) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads((folder(batch) / "progress.json").read_text())
    except (OSError, ValueError):
        return {"state": "done" if batch.status != "checking" else "queued"}
    return data


def summary_of(batch: ImportBatch) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads((folder(batch) / "summary.json").read_text())
    except (OSError, ValueError):
        return {}
    return data


def _record(batch: ImportBatch, outcome: pipeline.Outcome) -> None:
    """Report, rejected rows and summary files; counters on the batch."""
    summary = outcome.as_dict(limit=PREVIEW_PROBLEMS)
    path = folder(batch)
    batch.report_path = str(report.write_report(path / "report.xlsx", outcome, summary))
    if outcome.error_rows:
        batch.rejected_path = str(report.write_rejected(path / "rejected.csv", outcome))
    (path / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, default=str))
    batch.total, batch.processed = outcome.total, outcome.total
    batch.error_rows, batch.warning_rows = outcome.error_rows, outcome.warning_rows
    batch.created, batch.updated = outcome.created, outcome.updated


def check(db: Session, *, batch: ImportBatch, actor: User, progress: pipeline.Progress | None = None,
          ) -> pipeline.Outcome:
    """Check the whole file without writing; the batch becomes ``previewed`` with its report."""
    if batch.status != "checking":
        raise IllegalTransition(action="check", state=batch.status, allowed=["checking"])
    tracker = _Tracker(batch, "check")
    outcome = pipeline.run(db, upload_path(batch), kind=batch.kind, actor=actor, source=batch.source_system,
                           as_of=batch.as_of, write=False, progress=_both(tracker, progress),
                           file_sha256=batch.file_sha256)
    _record(batch, outcome)
    batch.status = "previewed"
    tracker.finish()
    return outcome


def ensure_confirmable(batch: ImportBatch, *, actor: User, queued: bool = False) -> None:
    """Refuse before a background write starts: wrong state, no right, or already running (``queued``:
    the caller is the background task the page queued, so its own marker does not count)."""
    if batch.status != "previewed":
        raise IllegalTransition(action="confirm", state=batch.status, allowed=["previewed"])
    _ensure_may_import(actor, batch.kind)
    if progress_of(batch).get("state") in (() if queued else ("running", "queued")):
        raise Conflict(N_("This import batch is already being processed."))


def confirm(db: Session, *, batch: ImportBatch, actor: User, valid_rows: bool | None = None,
            progress: pipeline.Progress | None = None, queued: bool = False) -> pipeline.Outcome:
    """Check again and write; all or nothing unless the mode is ``valid_rows``. One audit entry."""
    ensure_confirmable(batch, actor=actor, queued=queued)
    if valid_rows is not None:
        batch.mode = "valid_rows" if valid_rows else "all_or_nothing"
    tracker = _Tracker(batch, "confirm")
    outcome = pipeline.run(db, upload_path(batch), kind=batch.kind, actor=actor, source=batch.source_system,
                           as_of=batch.as_of, write=True, valid_rows=batch.mode == "valid_rows",
                           batch_label=str(batch.id), progress=_both(tracker, progress),
                           file_sha256=batch.file_sha256)
    _record(batch, outcome)
    batch.status = "committed" if outcome.written else "rejected"
    batch.finished_at = utcnow()
    detail: dict[str, Any] = {"kind": batch.kind, "file": batch.file_name, "sha256": batch.file_sha256,
                              "mode": batch.mode, "status": batch.status, "total": outcome.total,
                              "error_rows": outcome.error_rows, "created": outcome.created,
                              "updated": outcome.updated, "source_system": batch.source_system}
    audit.record(db, actor=actor, action="import.commit", object_type="import_batch", object_id=batch.id,
                 payload=detail, detail=detail)
    tracker.finish()
    return outcome


def discard(db: Session, *, batch: ImportBatch, actor: User) -> ImportBatch:
    """Give up a previewed batch; its upload is deleted (the report stays until the folder is purged)."""
    if batch.status not in ("previewed", "checking"):
        raise IllegalTransition(action="discard", state=batch.status, allowed=["previewed"])
    batch.status = "discarded"
    batch.finished_at = utcnow()
    upload_path(batch).unlink(missing_ok=True)
    audit.record(db, actor=actor, action="import.discard", object_type="import_batch", object_id=batch.id,
                 payload={"file": batch.file_name}, detail={"file": batch.file_name})
    return batch


def _both(tracker: _Tracker, progress: pipeline.Progress | None) -> pipeline.Progress:
    def tick(phase: str, done: int, total: int | None) -> None:
        tracker(phase, done, total)
        if progress is not None:
            progress(phase, done, total)

    return tick


def run_in_background(batch_id: int, user_id: int, action: str, valid_rows: bool | None = None) -> None:
    """Check or confirm a batch in its own transaction (a page's background task). A failure marks the
    batch ``failed`` with its message in the progress file; nothing of a failed write is kept."""
    from jianguan.auth.models import User as UserModel
    from jianguan.db import session_scope

    error: DomainError | Exception | None = None
    try:
        with session_scope() as db:
            actor = db.get(UserModel, user_id)
            batch = db.get(ImportBatch, batch_id)
            if actor is None or batch is None:
                return
            if action == "check":
                check(db, batch=batch, actor=actor)
            else:
                confirm(db, batch=batch, actor=actor, valid_rows=valid_rows, queued=True)
    except DomainError as exc:
        error = exc
    except Exception as exc:  # the page must learn the batch stopped, whatever stopped it
        log.exception("import batch %s: %s failed", batch_id, action)
        error = exc
    if error is None:
        return
    message = error.localized("zh_CN") if isinstance(error, DomainError) else str(error)[:500]
    with session_scope() as db:
        batch = db.get(ImportBatch, batch_id)
        if batch is None:
            return
        if action == "check":
            batch.status = "failed"
        batch.finished_at = utcnow()
        _Tracker(batch, action).finish("failed", message)


def batch_dict(batch: ImportBatch) -> dict[str, Any]:
    return {"id": batch.id, "kind": batch.kind, "file_name": batch.file_name, "sha256": batch.file_sha256,
            "source_system": batch.source_system, "as_of": batch.as_of.isoformat() if batch.as_of else None,
            "mode": batch.mode, "status": batch.status, "total": batch.total, "processed": batch.processed,
            "error_rows": batch.error_rows, "warning_rows": batch.warning_rows, "created": batch.created,
            "updated": batch.updated, "created_at": batch.created_at.isoformat() if batch.created_at else None,
            "finished_at": batch.finished_at.isoformat() if batch.finished_at else None,
            "progress": progress_of(batch), "has_report": bool(batch.report_path),
            "has_rejected": bool(batch.rejected_path)}


def import_file(db: Session, *, kind: str, path: Path, actor: User, source: str = "",
                as_of: dt.datetime | None = None, valid_rows: bool = False, dry_run: bool = False,
                progress: pipeline.Progress | None = None) -> tuple[ImportBatch, pipeline.Outcome]:
    """The CLI's one pass: store, then check only (``dry_run``) or check-and-write in a single read."""
    batch = create(db, kind=kind, file=path, file_name=path.name, actor=actor, source=source, as_of=as_of,
                   valid_rows=valid_rows)
    if dry_run:
        return batch, check(db, batch=batch, actor=actor, progress=progress)
    batch.status = "previewed"  # confirm checks the file before it writes anything
    return batch, confirm(db, batch=batch, actor=actor, progress=progress)
