"""Scheduled work of the risk centre: the nightly score of the whole registry and the re-score of
entities touched by new events during the day."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from jianguan.core.jobs import Job


def _score_all(db: Session) -> Any:
    from jianguan.risk import service

    return service.score(db, actor=None)


def _rescore(db: Session) -> Any:
    from jianguan.risk import service

    return service.rescore_touched(db)


JOBS: list[Job] = [
    Job("risk.score", _score_all, cron="30 2 * * *",
        description="Score every active entity; level changes go into the risk history the draws read."),
    Job("risk.rescore", _rescore, cron="*/15 * * * *",
        description="Re-score entities with new findings, complaints, warnings, incidents, feeds or readings."),
]
