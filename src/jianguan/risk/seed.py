"""Run by ``jianguan init``: load the shipped score rule sets (idempotent)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from jianguan.risk import service


def load(db: Session) -> dict[str, int]:
    return {"score_rule_sets": service.load_rule_sets(db)}
