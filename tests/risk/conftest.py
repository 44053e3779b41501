"""The inspections world (a district, people, 120 catering entities) with the score rule sets loaded."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from sqlalchemy.orm import Session

from jianguan.entities.models import Entity
from jianguan.inspections.models import Finding, Inspection
from jianguan.risk import service
from tests.inspections.conftest import World, make_world

AS_OF = dt.date(2026, 12, 7)
_numbers = itertools.count(1)


@pytest.fixture
def world(db: Session) -> World:
    built = make_world(db, n_entities=12)
    service.load_rule_sets(db)
    return built


def at(day: dt.date) -> dt.datetime:
    """Noon in Shanghai on ``day``, as stored (UTC)."""
    return dt.datetime(day.year, day.month, day.day, 4, tzinfo=dt.UTC)


def inspection(db: Session, entity: Entity, *, on: dt.date, result: str | None = "problems",
               state: str = "closed", due: dt.date | None = None) -> Inspection:
    row = Inspection(code=f"T-{next(_numbers)}", entity_id=entity.id,
                     agency_id=entity.agency_id, region_code=entity.region_code, kind="routine_random",
                     workflow="inspection", state=state, scheduled_on=on, result=result, due_date=due,
                     created_at=at(on))
    db.add(row)
    db.flush()
    return row


def finding(db: Session, entity: Entity, *, on: dt.date, severity: str = "general", **extra: Any) -> Finding:
    parent = inspection(db, entity, on=on)
    row = Finding(inspection_id=parent.id, entity_id=entity.id, agency_id=entity.agency_id,
                  region_code=entity.region_code, text="冷藏食品未按要求温度贮存", severity=severity,
                  rectify_by=extra.pop("rectify_by", on + dt.timedelta(days=15)), workflow="finding",
                  state=extra.pop("state", "accepted"), created_at=at(on), **extra)
    db.add(row)
    db.flush()
    return row
