"""Run by ``jianguan init``: load the sampling rule sets shipped with the package (idempotent)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from jianguan.inspections import rules


def load(db: Session) -> dict[str, int]:
    return {"sampling_rule_sets": rules.load(db)}
