"""Scheduled work of the risk centre: the nightly score of the whole registry and the re-score of
entities touched by new events during the day."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from jianguan.core.jobs import Job


def _ready(db: Session) -> bool:
    """A database set up without ``jianguan init`` has no rule set yet: the jobs wait for it."""
    from sqlalchemy import select

    from jianguan.risk.models import ScoreRuleSet

    return db.scalar(select(ScoreRuleSet.id).limit(1)) is not None


def _score_all(db: Session) -> Any:
    from jianguan.risk import service

    return service.score(db, actor=None) if _ready(db) else {"skipped": "no score rule set loaded"}


def _rescore(db: Session) -> Any:
    from jianguan.risk import service

    return service.rescore_touched(db) if _ready(db) else {"skipped": "no score rule set loaded"}


def _raise_warnings(db: Session) -> Any:
    from jianguan.risk import warnings

    return warnings.raise_warnings(db)


def _cross_check(db: Session) -> Any:
    from jianguan.risk import feeds

    return feeds.cross_check_last_month(db)


def _credit(db: Session) -> Any:
    from jianguan.risk import credit

    return credit.evaluate(db, actor=None) if _ready(db) else {"skipped": "no score rule set loaded"}


JOBS: list[Job] = [
    Job("risk.cross_check", _cross_check, cron="0 3 2 * *",
        description="Cross-check last month's declared figures against metered electricity and each other."),
    Job("risk.credit", _credit, cron="30 4 1 * *",
        description="Credit feedback from the last 12 months' inspection outcomes: proposals for the leaders."),
    Job("risk.warnings", _raise_warnings, cron="0 6 * * *",
        description="Evaluate the warning rules in force for today and raise what fired, routed to the agencies."),
    Job("risk.score", _score_all, cron="30 2 * * *",
        description="Score every active entity; level changes go into the risk history the draws read."),
    Job("risk.rescore", _rescore, cron="*/15 * * * *",
        description="Re-score entities with new findings, complaints, warnings, incidents, feeds or readings."),
]
