"""Applicability rules, the smart checklist over the shipped catalog, mandatory points, the content
load, indicator weights and the CLI."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from jianguan.catalog import checklists, content, indicators, rules, service
from jianguan.catalog.models import ItemVersion
from jianguan.core.errors import Conflict, Forbidden, Invalid
from jianguan.entities import service as entities
from jianguan.entities.uscc import make_uscc
from tests.catalog.conftest import People, make_people

TODAY = dt.date(2026, 11, 23)


def test_a_rule_matches_only_when_every_key_matches() -> None:
    rule = {"industry_prefix": ["62"], "scale": ["small", "micro"]}
    small_restaurant = rules.Profile(kind="enterprise", industry_code="6210", scale="micro")
    ok, why = rules.evaluate(rule, small_restaurant)
    assert ok and len(why) == 2 and "6210" in why[0] and "62" in why[0]
    assert rules.evaluate(rule, rules.Profile(industry_code="6210", scale="large")) == (False, [])
    assert rules.evaluate(rule, rules.Profile(industry_code="5210", scale="micro")) == (False, [])
    assert rules.evaluate({}, small_restaurant) == (True, [])
    licensed = rules.Profile(licence_types=frozenset({"food_business", "drug_business"}))
    assert rules.evaluate({"licence_type": ["food_business"]}, licensed)[0]
    assert not rules.evaluate({"tags": ["complaint_heavy"]}, licensed)[0]


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["industry_prefix", "scale", "risk_level", "tags"]),
                       st.lists(st.sampled_from(["62", "6210", "13", "micro", "large", "red", "blue",
                                                 "key_industry"]), min_size=1, max_size=3)),
       st.sampled_from(["6210", "1310", "5211"]), st.sampled_from(["micro", "large"]),
       st.sampled_from(["red", "blue"]), st.frozensets(st.sampled_from(["key_industry", "abnormal_list"])))
def test_a_rule_with_one_more_key_never_matches_more_entities(rule: dict[str, list[str]], industry: str, scale: str,
                                                              risk: str, tags: frozenset[str]) -> None:
    profile = rules.Profile(industry_code=industry, scale=scale, risk_level=risk, tags=tags)
    for key in list(rule):
        looser = {k: v for k, v in rule.items() if k != key}
        if rules.evaluate(rule, profile)[0]:
            assert rules.evaluate(looser, profile)[0]
    assert rules.specificity(rule) == len(rule)


def test_rule_validation_names_the_key_and_the_value() -> None:
    known = {"enterprise_scale": {"small", "micro"}}.get
    with pytest.raises(Invalid) as bad_key:
        rules.validate({"colour": ["red"]}, lambda d: known(d) or set())
    assert bad_key.value.field == "applies.colour"
    with pytest.raises(Invalid) as bad_value:
        rules.validate({"scale": ["tiny"]}, lambda d: known(d) or set())
    assert bad_value.value.field == "applies.scale" and "tiny" in str(bad_value.value)
    with pytest.raises(Invalid):
        rules.validate({"industry_prefix": ["H62"]}, lambda d: set())
    assert rules.validate({"industry_prefix": ["62", " 62 "]}, lambda d: set()) == {"industry_prefix": ["62"]}


@pytest.fixture
def loaded(db: Session) -> People:
    from jianguan.reference import service as ref

    ref.load_all(db)
    people = make_people(db)
    content.load(db)
    return people


def _entity(db: Session, n: int, industry: str, scale: str = "medium", kind: str = "enterprise",
            risk: str | None = None, licence: str | None = None, tag: str | None = None) -> Any:
    data = {"uscc": make_uscc("9", "1", "330106", f"MA2H{n:04d}"), "name": f"测试主体{n}", "kind": kind,
            "region_code": "330106", "industry_code": industry, "scale": scale}
    entity = entities.create_entity(db, data=data, actor=None)
    if risk:
        entities.set_risk(db, entity=entity, value=risk, source="test", actor=None)
    if licence:
        entities.upsert_licence(db, entity=entity, data={"licence_type": licence, "number": f"L{n:06d}",
                                                         "valid_until": "2029-12-31"}, actor=None)
    if tag:
        entities.add_tag(db, entity=entity, tag=tag, actor=None)
    return entity


def test_the_shipped_catalog_loads_whole_and_again_changes_nothing(db: Session, loaded: People) -> None:
    items = db.scalar(select(func.count()).select_from(ItemVersion).where(ItemVersion.state == "in_force")) or 0
    assert items >= 60
    points = checklists.points_in_force(db)
    assert len(points) >= 300
    domains = {v.item.domain for v in db.scalars(select(ItemVersion))}
    assert {"food", "ecology", "emergency", "transport", "health", "urban"} <= domains
    assert all(p.law_slug and p.article_text for p in points.values())  # no basis, no inspection
    assert not any(p.law_slug in ("air-pollution-law", "water-pollution-law", "environmental-protection-law")
                   for p in points.values())
    templates = checklists.list_templates(db)
    assert len(templates) >= 10
    catering = next(v for t, v in templates if t.code == "TPL-CATERING")
    assert sum(p.mandatory for p in catering.points) >= 15
    again = content.load(db)
    assert again["items"] == again["templates"] == again["indicators"] == again["negative_list"] == 0
    assert again["items_kept"] == items


def test_the_template_follows_the_entity_profile(db: Session, loaded: People) -> None:
    """Eight concrete entities and the template each one gets."""
    cases = [
        (_entity(db, 1, "6210", scale="large"), "TPL-CATERING"),  # a large restaurant: the full form
        (_entity(db, 2, "6220", scale="micro", kind="individual_business"), "TPL-CATERING-SIMPLE"),
        (_entity(db, 3, "7291", scale="small"), "TPL-SMALL-GENERAL"),  # a small office: the general short form
        (_entity(db, 4, "1310", scale="micro"), "TPL-FOOD-PRODUCTION"),  # food production is never "simplified"
        (_entity(db, 5, "5990", scale="medium", licence="hazardous_chemicals"), "TPL-HAZCHEM"),
        (_entity(db, 6, "4790", scale="large"), "TPL-CONSTRUCTION"),
        (_entity(db, 7, "8411", scale="small"), "TPL-MEDICAL"),  # same specificity as small-general, higher priority
        (_entity(db, 8, "6110", scale="medium"), "TPL-HOTEL"),
        (_entity(db, 9, "5430", scale="medium"), "TPL-ROAD-FREIGHT"),
    ]
    for entity, expected in cases:
        chosen = checklists.plan(db, entity=entity, on=TODAY)
        assert chosen.template is not None and chosen.template.template.code == expected, (entity.industry_code,
                                                                                             chosen.reasons)
        assert chosen.points and all(p.reason for p in chosen.points)
    simple = checklists.plan(db, entity=cases[1][0], on=TODAY)
    assert 8 <= len(simple.points) <= 12
    assert any("6220" in r for r in simple.reasons) and any("小微餐饮简化检查表" in r for r in simple.reasons)


def test_a_point_with_its_own_rule_appears_only_when_the_entity_fits(db: Session, loaded: People) -> None:
    plain = _entity(db, 11, "6210", scale="large")
    licensed = _entity(db, 12, "6210", scale="large", licence="food_business", risk="red", tag="complaint_heavy")
    few = {p.point.code for p in checklists.plan(db, entity=plain, on=TODAY).points}
    many = {p.point.code: p for p in checklists.plan(db, entity=licensed, on=TODAY).points}
    extra = set(many) - few
    assert extra and few < set(many)
    reasons = " ".join(many[c].reason for c in extra)
    assert "食品经营许可证" in reasons and "投诉集中" in reasons  # says which licence / tag brought it


def test_mandatory_points_stay_and_added_points_are_recorded(db: Session, loaded: People) -> None:
    entity = _entity(db, 21, "6210", scale="large")
    checklist = checklists.create(db, entity=entity, actor=loaded.proposer, on=TODAY)
    mandatory = next(p for p in checklist.points if p.mandatory)
    optional = next(p for p in checklist.points if not p.mandatory)
    with pytest.raises(Conflict):
        checklists.remove_point(db, checklist_id=checklist.id, code=mandatory.check_point.code, reason="不需要",
                                actor=loaded.proposer)
    with pytest.raises(Invalid):
        checklists.remove_point(db, checklist_id=checklist.id, code=optional.check_point.code, reason="",
                                actor=loaded.proposer)
    checklists.remove_point(db, checklist_id=checklist.id, code=optional.check_point.code, reason="本店无此设施",
                            actor=loaded.proposer)
    other = next(c for c in checklists.points_in_force(db) if c.startswith("33000003"))  # an emergency point
    added = checklists.add_point(db, checklist_id=checklist.id, code=other, actor=loaded.proposer)
    assert added.added_by == loaded.proposer.id and not added.mandatory
    with pytest.raises(Conflict):
        checklists.add_point(db, checklist_id=checklist.id, code=other, actor=loaded.proposer)
    with pytest.raises(Invalid):
        checklists.add_point(db, checklist_id=checklist.id, code="NO-SUCH-POINT", actor=loaded.proposer)


def test_weights_must_sum_to_exactly_100_in_every_group(db: Session, loaded: People) -> None:
    year = 2027
    now = {n.code: n.weight for n in indicators.tree(db, year=2026)}
    assert sum((w or Decimal(0) for w in now.values()), Decimal(0)) == 100
    rows = {n.indicator.code: n for n in indicators.walk(indicators.tree(db, year=2026))}
    weights = {code: node.weight for code, node in rows.items() if node.weight is not None}
    indicators.set_weights(db, year=year, weights=weights, actor=loaded.approver)
    assert {n.code: n.weight for n in indicators.tree(db, year=year)} == now
    wrong = dict(weights, D1=weights["D1"] + 1)
    with pytest.raises(Invalid) as refused:
        indicators.set_weights(db, year=year, weights=wrong, actor=loaded.approver)
    assert refused.value.field == "domains" and "101" in refused.value.localized("zh_CN")
    inner = dict(weights, **{"D5.1.1": weights["D5.1.1"] - Decimal("0.5")})
    with pytest.raises(Invalid) as sub:
        indicators.set_weights(db, year=year, weights=inner, actor=loaded.approver)
    assert sub.value.field == "D5.1" and "99.5" in sub.value.localized("zh_CN")
    with pytest.raises(Invalid) as both:
        indicators.set_weights(db, year=year, weights=dict(inner, D1=weights["D1"] + 1), actor=loaded.approver)
    shown = both.value.to_dict("zh_CN")["details"]
    assert [d["field"] for d in shown] == ["domains", "D5.1"] and "不是 100" in shown[1]["message"]
    with pytest.raises(Invalid):
        indicators.set_weights(db, year=year, weights=dict(weights, D1="15.001"), actor=loaded.approver)
    with pytest.raises(Forbidden):  # an officer may not
        indicators.set_weights(db, year=year, weights=weights, actor=loaded.proposer)


def test_scores_roll_up_as_weighted_means_of_what_was_checked(db: Session, loaded: People) -> None:
    rows = {n.code: n for n in indicators.walk(indicators.tree(db, year=2026))}
    d5 = rows["D5.1"]
    first, second = d5.children[0], d5.children[1]
    scores = indicators.roll_up(db, year=2026, leaf_scores={first.code: Decimal(100), second.code: Decimal(40)})
    expected = ((100 * first.weight + 40 * second.weight) / (first.weight + second.weight)).quantize(Decimal("0.01"))
    assert scores["D5.1"] == expected  # unchecked sub-indicators do not count as 0
    assert scores["D5"] == expected  # D5.1 is the only scored child of D5
    assert "D1" not in scores


runner = CliRunner()


def test_checklist_for_prints_the_points_and_why(fresh_db_url: str) -> None:
    from jianguan.cli import app
    from jianguan.db import session_scope
    from jianguan.reference import service as ref

    with session_scope() as db:
        ref.load_all(db)
        entity = _entity(db, 31, "6220", scale="micro")
        uscc = entity.uscc
    loaded = runner.invoke(app, ["catalog", "load", "--json"])
    assert loaded.exit_code == 0, loaded.output
    assert json.loads(loaded.stdout)["items"] >= 60
    result = runner.invoke(app, ["checklist", "for", "--entity", uscc, "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["template"]["code"] == "TPL-CATERING-SIMPLE"
    assert 8 <= len(out["points"]) <= 12 and all(p["reason"] and p["legal_basis"] for p in out["points"])
    food = runner.invoke(app, ["checklist", "for", "--entity", uscc, "--item", "33000001001000", "--json"])
    assert food.exit_code == 0 and json.loads(food.stdout)["items"] == ["33000001001000"]
    unknown = runner.invoke(app, ["checklist", "for", "--entity", "91330106MA2H9999XX", "--json"])
    assert unknown.exit_code == 2 and "91330106MA2H9999XX" in unknown.output
    items = runner.invoke(app, ["catalog", "items", "--json", "--q", "餐饮"])
    every = runner.invoke(app, ["catalog", "items", "--json"])
    found, total = json.loads(items.stdout), json.loads(every.stdout)
    assert items.exit_code == 0 and 0 < len(found) < len(total) and any("餐饮" in i["name"] for i in found)


def test_joint_visit_candidates_pair_departments_with_overlapping_points(db: Session, loaded: People) -> None:
    found = service.joint_candidates(db)
    assert found
    best = found[0]
    assert best.a.item.domain != best.b.item.domain and best.object_kinds and best.overlaps
