"""Run by ``jianguan init``: load the shipped score rule sets and warning rules (idempotent)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from jianguan.risk import service, warning_rules


def load(db: Session) -> dict[str, int]:
    return {"score_rule_sets": service.load_rule_sets(db), "warning_rules": warning_rules.load_shipped(db)}
