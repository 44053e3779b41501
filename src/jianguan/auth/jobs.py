"""Scheduled work of the auth package (run by ``jianguan worker``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from jianguan.core.jobs import Job


def _expire_returned(db: Session) -> Any:
    from jianguan.auth.account_requests import expire_returned

    return expire_returned(db)


JOBS: list[Job] = [
    Job("auth.expire_returned_requests", _expire_returned, cron="10 1 * * *",
        description="Account requests returned for more information and not resubmitted in 30 days lapse."),
]
