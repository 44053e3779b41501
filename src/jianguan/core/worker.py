"""``jianguan worker``: run every package's jobs on their cron schedules (APScheduler 3).

Run one worker per deployment (more are harmless: each job takes a lock, so a second worker
skips a run the first is doing). Web processes never run jobs.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_SCHEDULER_STARTED
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from jianguan.config import get_settings
from jianguan.core.jobs import Job, JobResult, all_jobs, run

log = logging.getLogger(__name__)


def timezone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def trigger(job: Job) -> Any:
    """The job's cron trigger; a bad expression fails here, when the worker starts."""
    try:
        return CronTrigger.from_crontab(job.schedule, timezone=timezone())
    except ValueError as exc:
        raise ValueError(f"job {job.name}: bad cron expression {job.schedule!r}: {exc}") from exc


def next_run(job: Job, now: dt.datetime | None = None) -> dt.datetime | None:
    now = now or dt.datetime.now(timezone())
    fire: dt.datetime | None = trigger(job).get_next_fire_time(None, now)
    return fire


def _run_logged(name: str) -> None:
    job = all_jobs()[name]
    run(job)


def build_scheduler(jobs: Iterable[Job] | None = None) -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone=timezone())
    for job in jobs if jobs is not None else all_jobs().values():
        scheduler.add_job(
            _run_logged, trigger(job), args=[job.name], id=job.name, name=job.name,
            max_instances=1, coalesce=True, misfire_grace_time=300, replace_existing=True,
        )
    return scheduler


def run_forever() -> None:
    """Block, running jobs on schedule, until SIGTERM or SIGINT; running jobs finish first.

    The stop signals are blocked in every thread and taken by one helper thread with ``sigwait``,
    so a signal is never lost on a thread that is not waiting for it, whenever it arrives.
    """
    scheduler = build_scheduler()
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    started = threading.Event()
    scheduler.add_listener(lambda _event: started.set(), EVENT_SCHEDULER_STARTED)
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)  # inherited by threads started below

    def wait_for_stop() -> None:
        signum = signal.sigwait(stop_signals)
        log.info("worker stopping (signal %s); letting running jobs finish", signum)
        started.wait()
        scheduler.shutdown(wait=True)

    stopper = threading.Thread(target=wait_for_stop, name="jianguan-worker-stop", daemon=True)
    stopper.start()
    for job in scheduler.get_jobs():
        log.info("scheduled %s: %s", job.id, job.trigger)
    try:
        scheduler.start()  # logs "Scheduler started", then blocks until shut down
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, stop_signals)
    stopper.join(timeout=60)


def run_once(names: Iterable[str] | None = None) -> list[JobResult]:
    """Run the given jobs (default: all) once each, in name order, and return what happened."""
    jobs = all_jobs()
    chosen = list(names) if names is not None else list(jobs)
    return [run(jobs[name]) for name in chosen]
