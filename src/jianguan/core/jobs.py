"""Scheduled jobs: declaration, discovery, and running one under a lock.

Each package's ``jobs.py`` exposes ``JOBS: list[Job]``. ``run`` executes a job in its own
transaction while holding a lock that every worker on the same database respects: a PostgreSQL
advisory lock (held on a dedicated connection) or, on the embedded SQLite database, an exclusive
``fcntl`` lock on a file under ``JIANGUAN_HOME/locks/``. A worker that cannot take the lock skips
the run ("already running elsewhere"). Every attempt is recorded in ``job_runs``.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import re
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from jianguan.config import get_settings
from jianguan.db import get_engine, session_scope, utcnow

log = logging.getLogger(__name__)

RUN_RETENTION_DAYS = 90


@dataclass(frozen=True)
class Job:
    """A unit of scheduled work. ``cron`` is a 5-field crontab in Asia/Shanghai time, or a callable
    returning one (read when the worker starts, so a setting can change it)."""

    name: str
    func: Callable[[Session], Any]
    cron: str | Callable[[], str] = "0 3 * * *"
    description: str = ""

    @property
    def schedule(self) -> str:
        return self.cron() if callable(self.cron) else self.cron


@dataclass(frozen=True)
class JobResult:
    name: str
    status: str  # ok | skipped | failed
    message: str
    started_at: dt.datetime
    finished_at: dt.datetime
    result: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "message": self.message,
                "started_at": self.started_at.isoformat(), "finished_at": self.finished_at.isoformat(),
                "result": self.result}


def all_jobs() -> dict[str, Job]:
    """Every package's jobs by name (names are unique across packages)."""
    from jianguan import registry

    found: dict[str, Job] = {}
    for module in registry.modules("jobs"):
        for job in getattr(module, "JOBS", []):
            if job.name in found and found[job.name] is not job:
                raise ValueError(f"two jobs are named {job.name!r}")
            found[job.name] = job
    return dict(sorted(found.items()))


def get_job(name: str) -> Job:
    jobs = all_jobs()
    if name not in jobs:
        raise LookupError(f"no job named {name!r}; known: {', '.join(jobs) or '-'}")
    return jobs[name]


# --------------------------------------------------------------------------- locking


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_lock`` (same in every process and release)."""
    digest = hashlib.sha256(f"jianguan.job:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def lock_path(name: str) -> os.PathLike[str]:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    folder = get_settings().home / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{safe}.lock"


@contextmanager
def _pg_lock(name: str, engine: Engine) -> Iterator[bool]:
    key = lock_key(name)
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        got = bool(conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}))
        try:
            yield got
        finally:
            if got:
                try:
                    conn.scalar(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                except Exception:  # never hand a connection still holding the lock back to the pool
                    conn.invalidate()
                    raise


@contextmanager
def _file_lock(name: str) -> Iterator[bool]:
    fd = os.open(lock_path(name), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{_host()}\n".encode())
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def job_lock(name: str, engine: Engine | None = None) -> Iterator[bool]:
    """Yield True when this process holds the job's lock, False when another one does."""
    engine = engine or get_engine()
    if engine.dialect.name == "postgresql":
        with _pg_lock(name, engine) as got:
            yield got
    elif engine.dialect.name == "sqlite":
        with _file_lock(name) as got:
            yield got
    else:
        raise RuntimeError(f"no job lock for database {engine.dialect.name!r}")


# --------------------------------------------------------------------------- running


def _host() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _summary(result: Any) -> str:
    if result is None:
        return ""
    try:
        return json.dumps(result, ensure_ascii=False, default=str)[:2000]
    except (TypeError, ValueError):
        return repr(result)[:2000]


def _record(engine: Engine, *, name: str, status: str, message: str = "",
            run_id: int | None = None, started: dt.datetime | None = None) -> int:
    from jianguan.notify.models import JobRun

    with session_scope(engine) as db:
        row = db.get(JobRun, run_id) if run_id is not None else None
        if row is None:
            row = JobRun(name=name, started_at=started or utcnow(), status=status, host=_host())
            db.add(row)
        row.status, row.message = status, message
        if status != "running":
            row.finished_at = utcnow()
        db.flush()
        return row.id


def run(job: Job, *, engine: Engine | None = None) -> JobResult:
    """Run ``job`` once in its own transaction if no other process is running it."""
    engine = engine or get_engine()
    started = utcnow()
    with job_lock(job.name, engine) as got:
        if not got:
            message = "already running elsewhere"
            try:
                _record(engine, name=job.name, status="skipped", message=message, started=started)
            except Exception:  # e.g. SQLite busy with the other run's writes: the skip still stands
                log.warning("could not record the skipped run of %s", job.name, exc_info=True)
            log.info("job %s skipped: %s", job.name, message)
            return JobResult(job.name, "skipped", message, started, utcnow())
        run_id = _record(engine, name=job.name, status="running", started=started)
        try:
            with session_scope(engine) as db:
                result = job.func(db)
            status, message = "ok", _summary(result)
        except Exception as exc:
            log.exception("job %s failed", job.name)
            status, message, result = "failed", f"{type(exc).__name__}: {exc}"[:2000], None
        _record(engine, name=job.name, status=status, message=message, run_id=run_id)
    log.info("job %s %s %s", job.name, status, message)
    return JobResult(job.name, status, message, started, utcnow(), result)


def run_job(name: str, *, engine: Engine | None = None) -> JobResult:
    return run(get_job(name), engine=engine)


def prune_runs(db: Session) -> dict[str, int]:
    """Forget job runs older than the retention period (the audit chain keeps what jobs changed)."""
    from jianguan.notify.models import JobRun

    cutoff = utcnow() - dt.timedelta(days=RUN_RETENTION_DAYS)
    result = db.execute(delete(JobRun).where(JobRun.started_at < cutoff))
    return {"deleted": int(result.rowcount or 0)}  # type: ignore[attr-defined]


def _overdue_scan(db: Session) -> Any:
    from jianguan.core import overdue

    return overdue.scan_job(db)


def _due_soon(db: Session) -> Any:
    from jianguan.core import due_soon

    return {"reminded": due_soon.remind(db)}


JOBS: list[Job] = [
    Job("workflow.due_soon", _due_soon, cron="0 8 * * *",
        description="Remind of steps falling due within two working days (on working days, 08:00)."),
    Job("workflow.overdue_scan", _overdue_scan, cron=lambda: get_settings().worker_overdue_cron,
        description="Escalate overdue workflow steps (notify → 督办 → 挂牌督办)."),
    Job("jobs.prune_runs", prune_runs, cron="30 3 * * *",
        description=f"Delete job-run records older than {RUN_RETENTION_DAYS} days."),
]
