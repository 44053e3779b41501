"""Scheduled work of the notify package: deliver the outbox, forget old delivered messages."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from jianguan.core.jobs import Job


def _drain_outbox(db: Session) -> Any:
    """Commit after every batch: what was delivered stays delivered if a later batch is interrupted."""
    from jianguan.notify import outbox

    return outbox.drain(db, after_batch=db.commit).as_dict()


def _prune_sent(db: Session) -> Any:
    from jianguan.notify import outbox

    return outbox.prune_sent(db)


JOBS: list[Job] = [
    Job("notify.outbox", _drain_outbox, cron="* * * * *",
        description="Deliver due e-mail and SMS notifications; retry failures with backoff, then dead letters."),
    Job("notify.prune_sent", _prune_sent, cron="40 3 * * *",
        description="Delete delivered outbox messages older than 90 days (the notifications stay)."),
]
