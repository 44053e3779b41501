"""Scheduled jobs: discovery, runs recorded, and one run at a time across processes (the lock)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from jianguan.core import jobs, worker
from jianguan.core.jobs import Job
from jianguan.db import get_engine, session_scope
from jianguan.notify.models import JobRun
from tests.conftest import BACKEND

ROOT = Path(__file__).resolve().parents[2]


def test_every_packages_jobs_are_discovered_with_valid_schedules() -> None:
    found = jobs.all_jobs()
    assert {"workflow.overdue_scan", "jobs.prune_runs", "auth.expire_returned_requests"} <= set(found)
    for job in found.values():
        assert worker.next_run(job) is not None


def test_overdue_scan_runs_every_15_minutes_unless_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    from jianguan.config import reset_settings

    assert jobs.get_job("workflow.overdue_scan").schedule == "*/15 * * * *"
    monkeypatch.setenv("JIANGUAN_WORKER_OVERDUE_CRON", "*/5 8-18 * * 1-5")
    reset_settings()
    assert jobs.get_job("workflow.overdue_scan").schedule == "*/5 8-18 * * 1-5"


def test_worker_schedules_every_job_in_shanghai_time() -> None:
    scheduler = worker.build_scheduler()
    scheduled = {j.id: j for j in scheduler.get_jobs()}
    assert set(scheduled) == set(jobs.all_jobs())
    assert str(scheduled["workflow.overdue_scan"].trigger.timezone) == "Asia/Shanghai"
    assert "minute='*/15'" in str(scheduled["workflow.overdue_scan"].trigger)


def test_a_bad_cron_expression_is_refused_when_the_worker_starts() -> None:
    with pytest.raises(ValueError, match="bad cron"):
        worker.trigger(Job("x", lambda db: None, cron="every tuesday"))


def test_lock_key_is_a_stable_signed_64_bit_number() -> None:
    key = jobs.lock_key("workflow.overdue_scan")
    assert key == jobs.lock_key("workflow.overdue_scan") != jobs.lock_key("jobs.prune_runs")
    assert -(2**63) <= key < 2**63


def runs(name: str) -> list[tuple[str, str]]:
    with session_scope() as db:
        return [(r.status, r.message) for r in db.scalars(select(JobRun).where(JobRun.name == name)
                                                           .order_by(JobRun.id))]


def test_a_run_commits_its_work_and_is_recorded(fresh_db_url: str) -> None:
    from jianguan.officers.models import Agency

    def create(db: object) -> dict[str, int]:
        from jianguan.officers import service

        service.create_agency(db, code="J-1", name="job agency", region_code="330106", actor=None)  # type: ignore[arg-type]
        return {"created": 1}

    result = jobs.run(Job("test.create", create))
    assert (result.status, result.result) == ("ok", {"created": 1})
    assert runs("test.create") == [("ok", '{"created": 1}')]
    with session_scope() as db:
        assert db.scalar(select(Agency.id).where(Agency.code == "J-1")) is not None


def test_a_failing_run_rolls_back_and_is_recorded_as_failed(fresh_db_url: str) -> None:
    from jianguan.officers.models import Agency

    def broken(db: object) -> None:
        from jianguan.officers import service

        service.create_agency(db, code="J-2", name="half done", region_code="330106", actor=None)  # type: ignore[arg-type]
        raise RuntimeError("disk on fire")

    result = jobs.run(Job("test.broken", broken))
    assert result.status == "failed" and "disk on fire" in result.message
    assert runs("test.broken") == [("failed", "RuntimeError: disk on fire")]
    with session_scope() as db:
        assert db.scalar(select(Agency.id).where(Agency.code == "J-2")) is None


def test_a_job_held_elsewhere_is_skipped_and_recorded(fresh_db_url: str) -> None:
    called: list[int] = []
    job = Job("test.held", lambda db: called.append(1))
    with jobs.job_lock(job.name) as got:  # another connection / open file: as a second worker would
        assert got
        result = jobs.run(job)
    assert (result.status, result.message, called) == ("skipped", "already running elsewhere", [])
    assert jobs.run(job).status == "ok" and called == [1]  # released afterwards
    assert [s for s, _ in runs("test.held")] == ["skipped", "ok"]


def test_old_job_runs_are_pruned(fresh_db_url: str) -> None:
    import datetime as dt

    from jianguan.db import utcnow

    with session_scope() as db:
        db.add(JobRun(name="old", started_at=utcnow() - dt.timedelta(days=100), status="ok"))
        db.add(JobRun(name="new", started_at=utcnow() - dt.timedelta(days=1), status="ok"))
    assert jobs.run_job("jobs.prune_runs").result == {"deleted": 1}
    with session_scope() as db:
        names = set(db.scalars(select(JobRun.name)))
    assert "new" in names and "old" not in names


# --------------------------------------------------------------------------- two processes

SLEEPER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from jianguan.core.jobs import Job, run

    out, release = Path(sys.argv[1]), Path(sys.argv[3])
    def work(db):
        with out.open("a") as fh:
            fh.write("ran\\n")
        Path(sys.argv[2]).write_text("started")
        deadline = time.monotonic() + 60
        while not release.exists() and time.monotonic() < deadline:  # hold the lock until told
            time.sleep(0.05)
        return {"released": release.exists()}

    result = run(Job("test.sleeper", work))
    print(result.status, result.message)
    """
)


def _spawn(script: Path, out: Path, flag: Path) -> subprocess.Popen[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH", "")]))
    release = out.with_name("release")
    return subprocess.Popen([sys.executable, str(script), str(out), str(flag), str(release)], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for(path: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def test_two_processes_never_run_the_same_job_at_once(fresh_db_url: str, tmp_path: Path) -> None:
    script, out = tmp_path / "sleeper.py", tmp_path / "ran.txt"
    script.write_text(SLEEPER)
    first = _spawn(script, out, tmp_path / "first.started")
    _wait_for(tmp_path / "first.started")
    # While the first holds the lock, the mechanism of this backend is visibly in use.
    if BACKEND == "postgresql":
        with get_engine().connect() as conn:
            held = conn.scalar(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND ((classid::bigint << 32) | objid::bigint) = :k"), {"k": jobs.lock_key("test.sleeper")})
        assert held == 1
    else:
        import fcntl

        with open(jobs.lock_path("test.sleeper"), "a") as fh, pytest.raises(BlockingIOError):
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    # The first holds the lock until the second has finished, however slowly the second starts.
    second = _spawn(script, out, tmp_path / "second.started")
    second_out, second_err = second.communicate(timeout=120)
    (tmp_path / "release").write_text("go")
    first_out, first_err = first.communicate(timeout=120)
    assert first.returncode == 0, first_err
    assert second.returncode == 0, second_err
    assert first_out.strip() == "ok {\"released\": true}"
    assert second_out.strip() == "skipped already running elsewhere"
    assert out.read_text() == "ran\n"  # exactly one of them did the work
    assert sorted(s for s, _ in runs("test.sleeper")) == ["ok", "skipped"]


# --------------------------------------------------------------------------- commands


def test_jobs_list_prints_every_job_as_json(fresh_db_url: str) -> None:
    from jianguan.cli import app

    result = CliRunner().invoke(app, ["jobs", "list", "--json"])
    assert result.exit_code == 0, result.output
    names = {row["name"] for row in json.loads(result.output)}
    assert {"workflow.overdue_scan", "auth.expire_returned_requests"} <= names


def test_jobs_run_runs_one_job_and_reports_it(fresh_db_url: str) -> None:
    from jianguan.cli import app

    result = CliRunner().invoke(app, ["jobs", "run", "workflow.overdue_scan", "--json"])
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.output)
    assert (row["name"], row["status"], row["result"]) == ("workflow.overdue_scan", "ok",
                                                          {"escalated": 0, "by_level": {}})
    assert CliRunner().invoke(app, ["jobs", "run", "no.such.job"]).exit_code == 2


def test_worker_once_runs_every_job_and_exits(fresh_db_url: str) -> None:
    from jianguan.cli import app

    result = CliRunner().invoke(app, ["worker", "--once", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert {r["name"] for r in rows} == set(jobs.all_jobs())
    assert {r["status"] for r in rows} == {"ok"}


def test_worker_runs_until_sigterm_then_stops_cleanly(fresh_db_url: str, tmp_path: Path) -> None:
    import signal

    script = tmp_path / "worker.py"
    script.write_text("from jianguan.cli import main\nmain()\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    proc = subprocess.Popen([sys.executable, str(script), "worker"], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        lines: list[str] = []
        while not any("Scheduler started" in line for line in lines):
            assert time.monotonic() < deadline and proc.poll() is None, "".join(lines)
            assert proc.stdout is not None
            lines.append(proc.stdout.readline())
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, "".join(lines) + rest
    assert any("scheduled workflow.overdue_scan" in line for line in lines)
