"""A complaint followed up: verified by a complaint-triggered inspection plan (named entity, no advance
notice, through the usual approval and draw), or registered as a case lead; the reply names it. And
the public intake throttled per network, its robot trap refused."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from jianguan.collab import followup, service
from jianguan.core.errors import Conflict, Invalid, NotFound, TooManyRequests
from jianguan.inspections import draws
from jianguan.inspections import service as inspections
from tests.collab.test_complaints import complaint
from tests.collab.test_pages import FORM, client
from tests.inspections.conftest import ITEM, World

TODAY = dt.date(2026, 12, 8)


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "today_shanghai", lambda: TODAY)
    monkeypatch.setattr("jianguan.cases.steps.today_shanghai", lambda: TODAY)


def accepted(db: Session, world: World, **extra: object) -> int:
    made, _ = service.receive(db, data=complaint(**extra), channel="web")
    service.act(db, complaint_id=made.id, action="accept", actor=world.author)
    return made.id


def test_a_complaint_verified_by_a_complaint_triggered_plan(db: Session, world: World) -> None:
    complaint_id = accepted(db, world)
    with pytest.raises(NotFound):  # another district does not even see it
        followup.verify_by_inspection(db, complaint_id=complaint_id, item_codes=[ITEM], actor=world.outsider)
    plan = followup.verify_by_inspection(db, complaint_id=complaint_id, item_codes=[ITEM], actor=world.author)
    assert plan.kind == "complaint" and plan.state == "draft" and plan.agency_id == world.xihu.id
    assert inspections.target_usccs(db, plan) == [world.entities[7].uscc] and "TS2026" in plan.title
    record = service.get(db, complaint_id=complaint_id, actor=world.author)
    assert (record.outcome, record.outcome_ref) == ("inspection", f"plan:{plan.code}")
    with pytest.raises(Conflict):  # once is enough
        followup.to_case(db, complaint_id=complaint_id, actor=world.author)
    inspections.decide(db, plan_id=plan.id, action="submit", actor=world.author)
    inspections.decide(db, plan_id=plan.id, action="approve", actor=world.leader)
    draw = draws.run_draw(db, plan_id=plan.id, seed="ts", on=TODAY, actor=world.author)
    assert draw.selected_count == 1  # the named entity, whatever its credit
    service.act(db, complaint_id=complaint_id, action="take", actor=world.author)
    service.act(db, complaint_id=complaint_id, action="reply", payload={"outcome": "inspection"}, actor=world.author,
                comment="经现场核查，该店确有销售过期酸奶，已责令下架。")
    assert record.outcome_ref == f"plan:{plan.code}"  # the reply keeps naming the plan


def test_a_complaint_registered_as_a_case_lead(db: Session, world: World) -> None:
    complaint_id = accepted(db, world)
    case = followup.to_case(db, complaint_id=complaint_id, actor=world.author)
    assert case.state == "lead" and case.source_type == "complaint" and case.entity_id == world.entities[7].id
    assert case.source_ref.startswith("TS2026") and "酸奶" in case.facts and case.agency_id == world.xihu.id
    unmatched = accepted(db, world, party_name="", latitude=None, longitude=None)
    with pytest.raises(Invalid) as error:
        followup.to_case(db, complaint_id=unmatched, actor=world.author)
    assert error.value.field == "entity"
    fresh, _ = service.receive(db, data=complaint(content="另一件事：该店门口占道经营，影响通行。"), channel="web")
    with pytest.raises(Conflict):  # not yet accepted
        followup.to_case(db, complaint_id=fresh.id, actor=world.author)


def test_one_network_is_throttled_per_hour(db: Session, world: World) -> None:
    limit = int(service.rules()["intake_limit_per_hour"])
    for _ in range(limit):
        service.receive(db, data=complaint(anonymous=True, name="", phone=""), channel="web", ip="203.0.113.9")
    with pytest.raises(TooManyRequests):
        service.receive(db, data=complaint(anonymous=True, name="", phone=""), channel="web", ip="203.0.113.9")
    service.receive(db, data=complaint(anonymous=True, name="", phone=""), channel="web", ip="198.51.100.1")
    service.receive(db, data=complaint(), channel="hotline", actor=world.author)  # staff are never throttled


def test_the_public_form_refuses_its_robot_trap_and_a_flood(client: TestClient) -> None:
    trapped = client.post("/complaints/new", data={**FORM, "website": "http://spam.example"})
    assert trapped.status_code == 422 and "12345" in trapped.text
    limit = int(service.rules()["intake_limit_per_hour"])
    for _ in range(limit):
        assert client.post("/complaints/new", data=FORM).status_code == 201
    flooded = client.post("/complaints/new", data=FORM)
    assert flooded.status_code == 429 and "12345" in flooded.text and "文三路1号" in flooded.text
    open311 = client.post("/api/v1/open311/v2/requests.json", data={
        "service_code": "food_safety", "jurisdiction_id": "330106", "description": "在该店买的酸奶已经过期三天。"})
    assert open311.status_code == 429


__all__ = ["client"]  # the public pages' client fixture, shared
