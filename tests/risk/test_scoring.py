"""The score's arithmetic (points, weights, levels, explanation) and a scoring run's effects."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jianguan.audit.models import AuditEntry
from jianguan.core.errors import Forbidden, Invalid
from jianguan.entities.models import RiskHistory
from jianguan.risk import indicators, scoring, service
from jianguan.risk.models import RiskScore
from tests.inspections.conftest import World
from tests.risk.conftest import AS_OF, finding

RULES: dict[str, Any] = {k: v for k, v in scoring.shipped_rule_sets()[0].items()}
COUNTED = list(indicators.COUNTED)


def frame(**columns: Any) -> pl.DataFrame:
    base: dict[str, Any] = {"entity_id": [1], "credit": ["A"], "scale": ["micro"], "industry": [0.0],
                            **{c: [0.0] for c in COUNTED}}
    base.update({k: [v] for k, v in columns.items()})
    return pl.DataFrame(base)


def scored(**columns: Any) -> dict[str, Any]:
    return scoring.points(frame(**columns), RULES).collect().row(0, named=True)


def test_points_follow_the_curve_at_and_between_its_pairs() -> None:
    # violations: [[0, 0], [1, 35], [3, 70], [6, 100]]
    assert [scored(violations=v)["p_violations"] for v in (0, 1, 2, 3, 4.5, 6, 60)] == [0, 35, 52.5, 70, 85, 100, 100]
    assert scored(credit="D")["p_credit"] == 100 and scored(credit=None)["p_credit"] == 35


def test_the_score_is_the_weighted_sum_and_the_level_follows_the_thresholds() -> None:
    quiet = scored()
    assert quiet["score"] == pytest.approx(0.6)  # a micro business: 20 points × weight 3
    assert quiet["level"] == "blue"
    loud = scored(credit="D", violations=6, complaints=8, rectifications=2, abnormal=1, industry=85.0)
    expected = 14 + 16 + 8 + 8 + 6 + 8.5 + 0.6
    assert loud["score"] == pytest.approx(expected) and loud["level"] == "red"
    assert scoring.level_of(RULES["thresholds"]["yellow"], RULES) == "yellow"
    assert scoring.level_of(RULES["thresholds"]["yellow"] - 0.01, RULES) == "blue"


def test_an_incident_makes_the_entity_red_whatever_its_score() -> None:
    assert scored(incident_red=True)["level"] == "red"
    assert scoring.level_of(0, RULES, incident_red=True) == "red"
    assert scoring.red_until(RULES, kind="major_accident", severity="major",
                             occurred_on=dt.date(2026, 3, 1)) == dt.date(2027, 3, 1)
    assert scoring.red_until(RULES, kind="major_accident", severity="general", occurred_on=dt.date(2026, 3, 1)) is None


def test_the_explanation_sums_to_the_score_largest_part_first() -> None:
    values = {"credit": "C", "violations": 2.0, "complaints": 3.0, "industry": 55.0, "scale": "small"}
    parts = scoring.explain(values, RULES)
    assert sum(p.contribution for p in parts) == pytest.approx(scored(**values)["score"], abs=0.05)
    assert [p.code for p in parts[:2]] == ["credit", "violations"]  # 9.8 and 8.4
    assert parts[0].name == "信用等级" and parts[0].value == "C"
    assert [p.contribution for p in parts] == sorted((p.contribution for p in parts), reverse=True)


@settings(max_examples=60, deadline=None)
@given(code=st.sampled_from(COUNTED), low=st.floats(0, 50), extra=st.floats(0, 50))
def test_more_of_any_counted_indicator_never_lowers_the_score(code: str, low: float, extra: float) -> None:
    first, second = scored(**{code: low}), scored(**{code: low + extra})
    assert 0 <= first["score"] <= second["score"] <= 100


def test_rule_sets_are_checked_before_they_are_loaded() -> None:
    service.validate_rules(RULES)
    heavy = {**RULES, "indicators": {**RULES["indicators"], "credit": {**RULES["indicators"]["credit"], "weight": 20}}}
    with pytest.raises(Invalid, match="100"):
        service.validate_rules(heavy)
    backwards = {**RULES, "indicators": {**RULES["indicators"],
                                         "sensor": {"name": "x", "weight": 6, "scale": [[5, 0], [1, 100]]}}}
    with pytest.raises(Invalid) as caught:
        service.validate_rules(backwards)
    assert caught.value.field == "indicators.sensor.scale"
    with pytest.raises(Invalid) as caught:
        service.validate_rules({**RULES, "thresholds": {"red": 20, "yellow": 30}})
    assert caught.value.field == "thresholds"
    missing = {**RULES, "indicators": {k: v for k, v in RULES["indicators"].items() if k != "sampling"}}
    with pytest.raises(Invalid, match="sampling"):
        service.validate_rules(missing)


def test_a_run_writes_moved_scores_and_level_changes_into_the_risk_history(db: Session, world: World) -> None:
    shop = world.entities[1]  # yellow before the run: the score makes it red
    assert shop.risk_level == "yellow"
    for _ in range(6):
        finding(db, shop, on=AS_OF - dt.timedelta(days=30), severity="serious")
    first = service.score(db, as_of=AS_OF, actor=world.admin)
    assert first["scored"] == len(world.entities) and first["new_rows"] == len(world.entities)
    latest = service.latest(db, entity_id=shop.id)
    assert latest is not None and latest.indicator_values["violations"] == 18.0
    db.refresh(shop)
    open_rows = db.scalars(select(RiskHistory).where(RiskHistory.entity_id == shop.id,
                                                     RiskHistory.valid_to.is_(None))).all()
    assert [(r.value, r.source, r.valid_from) for r in open_rows] == [(shop.risk_level, "risk_score", AS_OF)]
    assert open_rows[0].reason.startswith("风险评分")
    again = service.score(db, as_of=AS_OF, actor=world.admin)
    assert again["new_rows"] == 0 and again["level_changes"] == 0
    assert db.scalar(select(func.count()).select_from(RiskScore)) == len(world.entities)
    assert db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "risk.levels")) == 1


def test_an_incident_turns_the_entity_red_at_once_and_withdrawing_it_undoes_that(db: Session, world: World) -> None:
    shop = world.entities[1]
    service.score(db, as_of=AS_OF, actor=world.admin)
    db.refresh(shop)
    assert shop.risk_level != "red"
    incident = service.record_incident(db, entity=shop, kind="major_accident", severity="major",
                                       occurred_on=AS_OF - dt.timedelta(days=3), source="应急管理局通报",
                                       actor=world.author)
    db.refresh(shop)
    assert shop.risk_level == "red"
    explained = service.explain(db, entity=shop, actor=world.author)
    assert explained["level"] == "red" and explained["incident"] == incident.id
    assert "重大事故" in explained["reasons"][0]
    service.withdraw_incident(db, incident_id=incident.id, reason="主体名称录错", actor=world.author)
    db.refresh(shop)
    assert shop.risk_level != "red"


def test_incidents_are_checked_and_recorded_only_by_staff(db: Session, world: World) -> None:
    shop = world.entities[2]
    with pytest.raises(Invalid) as caught:
        service.record_incident(db, entity=shop, kind="earthquake", severity="huge",
                                occurred_on=dt.date(2099, 1, 1), actor=world.author)
    assert {p.field for p in (caught.value, *caught.value.others)} == {"kind", "severity", "occurred_on"}
    with pytest.raises(Forbidden):
        service.record_incident(db, entity=shop, kind="other", severity="general", occurred_on=AS_OF, actor=None)


def test_the_quarter_hour_rescore_takes_only_entities_touched_since_the_last_good_run(db: Session,
                                                                                     world: World) -> None:
    from jianguan.db import utcnow
    from jianguan.notify.models import JobRun

    service.score(db, as_of=AS_OF, actor=None)
    db.add(JobRun(name="risk.score", started_at=utcnow(), status="ok", host="test"))
    db.flush()
    assert service.rescore_touched(db) == {"touched": 0}
    shop = world.entities[2]
    for _ in range(2):  # recorded just now
        finding(db, shop, on=AS_OF, severity="serious").created_at = utcnow()
    db.flush()
    touched = service.touched_since(db, since=utcnow() - dt.timedelta(minutes=5))
    assert touched == [shop.id]
    again = service.rescore_touched(db)
    assert again["touched"] == 1 and again["scored"] == 1 and again["new_rows"] == 1
    latest = service.latest(db, entity_id=shop.id)
    assert latest is not None and latest.indicator_values["violations"] == 6.0
