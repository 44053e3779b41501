"""Run by ``jianguan init`` (and so ``make demo``): load the reference tables, idempotently."""

from __future__ import annotations

from sqlalchemy.orm import Session

from jianguan.reference import service


def load(db: Session) -> dict[str, dict[str, int]]:
    return service.load_all(db)
