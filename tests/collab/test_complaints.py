"""Complaints: intake with a tracking number and access code, the entity matched (fuzzy Chinese names),
routing by rules as data, duplicate suggestions and merging, the loop's deadlines in working days,
reopening once, the complainant's own view, and restricted content masked and audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.audit.models import AuditEntry
from jianguan.collab import figures, service
from jianguan.collab.schemas import ComplaintIn
from jianguan.core.errors import Conflict, Forbidden, Invalid, NotFound
from tests.inspections.conftest import World

TODAY = dt.date(2026, 9, 25)  # 中秋


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "today_shanghai", lambda: TODAY)


def complaint(**extra: Any) -> ComplaintIn:
    data: dict[str, Any] = {"category": "food_safety", "content": "在该店买的酸奶已经过期三天，店员拒绝退换。",
                            "party_name": "西湖餐馆 007", "region_code": "330106", "name": "陈女士",
                            "phone": "13800138000", "latitude": 30.2741, "longitude": 120.1551}
    data.update(extra)
    return ComplaintIn.model_validate(data)


def test_a_complaint_is_numbered_matched_routed_and_due_for_acceptance(db: Session, world: World) -> None:
    made, code = service.receive(db, data=complaint(), channel="web")
    assert made.number == "TS20260925000001" and len(code) == 8
    assert made.entity_id == world.entities[7].id and made.match_score is not None and made.match_score >= 85
    assert made.agency_id == world.xihu.id and made.routed_by == "market"
    assert made.state == "received" and made.due_date == dt.date(2026, 10, 12)  # 7 working days across 中秋 and 国庆
    assert made.access_hash != code and service.by_code(db, number=made.number, code=code.lower()) is made
    with pytest.raises(NotFound):
        service.by_code(db, number=made.number, code="WRONG123")
    with pytest.raises(Invalid) as bad:
        service.receive(db, data=complaint(category="ufo", region_code="999999", name="", phone="12"),
                        channel="web")
    assert {bad.value.field, *(o.field for o in bad.value.others)} == {"category", "region_code", "phone"}
    tip, _ = service.receive(db, data=complaint(kind="tip", anonymous=True, name="", phone="",
                                                category="environment"), channel="hotline")
    assert tip.agency_id is None and tip.complainant_name is None  # no ecology agency here: unrouted


def test_the_loop_and_its_deadlines(db: Session, world: World) -> None:
    made, code = service.receive(db, data=complaint(), channel="web")
    with pytest.raises(NotFound):  # another district's officer does not even see it
        service.act(db, complaint_id=made.id, action="accept", actor=world.outsider)
    with pytest.raises(Forbidden):  # the city's leader sees it, but it is Xihu's to handle
        service.act(db, complaint_id=made.id, action="accept", actor=world.city_leader)
    service.act(db, complaint_id=made.id, action="accept", actor=world.author)
    assert made.accepted_on == TODAY and made.due_date == dt.date(2026, 12, 3)  # 45 working days
    service.act(db, complaint_id=made.id, action="take", actor=world.author)
    with pytest.raises(Invalid) as short:
        service.act(db, complaint_id=made.id, action="reply", comment="已处理", payload={"outcome": "inspection"},
                    actor=world.author)
    assert short.value.field == "comment"
    service.act(db, complaint_id=made.id, action="reply", comment="经现场核查，已责令该店下架过期酸奶并退款。",
                payload={"outcome": "inspection"}, actor=world.author)
    status = service.public_status(db, made)
    assert status["state"] == "replied" and status["may_reopen"] and "下架" in status["reply"]
    service.rate(db, number=made.number, code=code, rating=2)
    with pytest.raises(Conflict):
        service.rate(db, number=made.number, code=code, rating=5)
    service.reopen(db, number=made.number, code=code, reason="退款至今未到账")
    assert made.state == "handling" and made.reopened
    service.act(db, complaint_id=made.id, action="reply", comment="已督促商家退款，款项已原路退回。",
                payload={"outcome": "mediation"}, actor=world.author)
    with pytest.raises(Conflict):
        service.reopen(db, number=made.number, code=code, reason="还是不满意")  # once only


def test_a_transfer_is_counted_and_the_new_agency_has_its_own_period(db: Session, world: World) -> None:
    made, _ = service.receive(db, data=complaint(), channel="hotline")
    with pytest.raises(Invalid):
        service.act(db, complaint_id=made.id, action="transfer", comment="", actor=world.author)
    service.act(db, complaint_id=made.id, action="transfer", comment="属于滨江区辖区",
                payload={"agency_id": str(world.binjiang.id)}, actor=world.author)
    assert made.agency_id == world.binjiang.id and made.transfers == 1 and made.state == "received"
    assert figures.figures(db, actor=world.outsider)["transferred"] == 1


def test_duplicates_are_suggested_and_merged_ones_follow_the_master(db: Session, world: World) -> None:
    first, _ = service.receive(db, data=complaint(), channel="web")
    same_shop, _ = service.receive(db, data=complaint(content="该店冷柜里的牛奶也过期了，希望查处。"), channel="web")
    nearby, _ = service.receive(db, data=complaint(party_name="", content="在该店买的酸奶已经过期三天，店员拒绝退换！",
                                                   latitude=30.2745, longitude=120.1553), channel="hotline")
    far, _ = service.receive(db, data=complaint(party_name="", content="在该店买的酸奶已经过期三天，店员拒绝退换。",
                                                latitude=30.30, longitude=120.20), channel="web")
    found = {c.id: why for c, why in service.duplicates_of(db, first)}
    assert found == {same_shop.id: "same_entity", nearby.id: "similar_text"}
    service.merge(db, master_id=first.id, duplicate_ids=[nearby.id], actor=world.author)
    assert nearby.state == "merged" and nearby.master_id == first.id
    service.act(db, complaint_id=first.id, action="accept", actor=world.author)
    service.act(db, complaint_id=first.id, action="take", actor=world.author)
    service.act(db, complaint_id=first.id, action="reply", comment="经现场核查，已责令该店下架过期酸奶并退款。",
                payload={"outcome": "inspection"}, actor=world.author)
    assert far.id not in found
    follows = service.public_status(db, nearby)  # the merged one's complainant sees the master's reply
    assert follows["state"] == "replied" and follows["merged_into"] == first.number and "下架" in follows["reply"]


def test_content_is_masked_outside_the_handling_agency_and_reads_are_audited(db: Session, world: World) -> None:
    made, _ = service.receive(db, data=complaint(), channel="web")
    mine = service.view(service.get(db, complaint_id=made.id, actor=world.author), world.author)
    assert mine["full"] and mine["complainant_phone"] == "13800138000" and "酸奶" in mine["content"]
    city = service.view(service.get(db, complaint_id=made.id, actor=world.city_leader), world.city_leader)
    assert not city["full"] and city["complainant_phone"] == "138****8000" and "仅承办部门可见" in city["content"]
    with pytest.raises(NotFound):
        service.get(db, complaint_id=made.id, actor=world.outsider)
    reads = db.scalars(select(AuditEntry).where(AuditEntry.action == "complaint.read")).all()
    assert len(reads) == 2


def test_many_complaints_from_one_phone_are_flagged_not_discarded(db: Session, world: World) -> None:
    made = [service.receive(db, data=complaint(content=f"第{i}次反映：该店酸奶过期，店员拒绝退换。"), channel="web")[0]
            for i in range(10)]
    assert [c.flagged for c in made] == [""] * 9 + ["repeated"]
    other, _ = service.receive(db, data=complaint(phone="13900139000"), channel="web")
    assert other.flagged == "" and len(service.queue(db, actor=world.author)) == 11


def test_a_name_is_found_among_many_by_its_telling_characters(db: Session, world: World) -> None:
    from jianguan.entities.models import Entity

    for i in range(900):  # more than the candidate pool: the characters pick the few hundred to score
        db.add(Entity(uscc=f"91330106MANY{i:06d}", name=f"杭州市西湖区第{i}号餐饮有限公司", kind="enterprise",
                      status="active", region_code="330106", agency_id=world.xihu.id))
    db.add(Entity(uscc="91330106NOODLE0001", name="杭州市西湖区老余面馆", kind="enterprise", status="active",
                  region_code="330106", agency_id=world.xihu.id))
    db.flush()
    found = service.match_entity(db, uscc="", name="老余面馆", region_code="330106")
    assert found.entity is not None and found.entity.uscc == "91330106NOODLE0001"
    assert service.match_entity(db, uscc="", name="完全无关的名字", region_code="330106").entity is None
