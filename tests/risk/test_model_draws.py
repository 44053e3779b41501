"""A plan may grade its draw's strata by the learned model only while the model beats the rule score."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.core.errors import Invalid
from jianguan.inspections import draws
from jianguan.inspections import service as plans
from jianguan.inspections.models import DrawEntity
from jianguan.risk import learning, service
from tests.inspections.conftest import DAY, make_world, plan_data
from tests.risk.test_learning import _population, _visit_all


def test_no_usable_model_refuses_the_option_by_name(db: Session) -> None:
    world = make_world(db, n_entities=4)
    service.load_rule_sets(db)
    with pytest.raises(Invalid) as refused:
        plans.create_plan(db, data=plan_data(weight_source="model"), actor=world.author)
    assert refused.value.field == "weight_source"
    plain = plans.create_plan(db, data=plan_data(), actor=world.author)
    assert plain.weight_source == "risk_score"


def test_a_usable_model_grades_the_strata_with_the_scores_shares(db: Session) -> None:
    world = make_world(db, n_entities=0)
    service.load_rule_sets(db)
    entities = _population(db, world)
    _visit_all(db, entities, [dt.date(2025, 1, 1), dt.date(2026, 1, 1)], seed=4, signal=True)
    model = learning.train(db, split_on=dt.date(2026, 1, 1), start=dt.date(2025, 1, 1), end=dt.date(2026, 6, 30),
                           actor=world.admin)
    assert model.usable_for_draws
    for i, entity in enumerate(entities):  # the score's grading: 30 red, 60 yellow, the rest blue
        entity.risk_level = "red" if i < 30 else ("yellow" if i < 90 else "blue")
    db.flush()

    plan = plans.create_plan(db, data=plan_data(weight_source="model", ratio="10"), actor=world.author)
    plans.decide(db, plan_id=plan.id, action="submit", actor=world.author)
    plans.decide(db, plan_id=plan.id, action="approve", actor=world.leader)
    draw = draws.run_draw(db, plan_id=plan.id, seed="7", on=DAY, actor=world.author)
    assert draw.params["model_number"] == model.number

    strata = {e: s for e, s in db.execute(select(DrawEntity.entity_id, DrawEntity.stratum)
                                          .where(DrawEntity.draw_id == draw.id))}
    levels = {e.id: strata[e.id].split("/")[0] for e in entities if e.id in strata}
    large = {e.id for e in entities if e.scale == "large"}
    red = [i for i, level in levels.items() if level == "red"]
    assert red and sum(i in large for i in red) / len(red) > 0.9  # the model's red are the large ones
    assert draws.verify(db, draw_id=draw.id, actor=world.author).identical
