"""联合检查 and 跨区域协查: a joint task brings two departments' inspections of one entity into one
visit (agreed by each, one date, each its own checklist, counted once by the burden index); an
assistance request goes to another region's agency, is accepted or declined, answered with the
inspection that answers it, and closed by the asker — each step by the right side only."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from jianguan.auth import service as auth
from jianguan.auth.models import User
from jianguan.collab import assist, joint
from jianguan.core.errors import Conflict, Forbidden, Invalid, NotFound
from jianguan.inspections import burden
from jianguan.notify.models import Notification
from tests.auth.conftest import PASSWORD
from tests.inspections.conftest import World
from tests.inspections.test_burden import at, visit

TODAY = dt.date(2026, 12, 8)


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(joint, "today_shanghai", lambda: TODAY)
    monkeypatch.setattr(assist, "today_shanghai", lambda: TODAY)


def binjiang_leader(db: Session, world: World) -> User:
    return auth.create_user(db, username="bj_leader", display_name="滨江领导", password=PASSWORD, roles=["leader"],
                            agency_id=world.binjiang.id, data_scope="agency", actor=None)


def pair(db: Session, world: World) -> tuple[int, int]:
    shop = world.entities[4]
    a = visit(db, world, shop, world.xihu.id, state="notice", scheduled=dt.date(2026, 12, 18))
    b = visit(db, world, shop, world.binjiang.id, state="preparing", scheduled=dt.date(2026, 12, 15))
    return a.id, b.id


def test_a_joint_task_is_agreed_scheduled_visited_and_counted_once(db: Session, world: World) -> None:
    a, b = pair(db, world)
    task = joint.propose(db, inspection_ids=[a, b], scheduled_on=dt.date(2026, 12, 16), actor=world.author)
    assert task.state == "proposed" and task.agency_id == world.xihu.id and task.agreed_agency_ids == [world.xihu.id]
    assert db.query(Notification).filter(Notification.kind == "joint_task.proposed").count() >= 1
    with pytest.raises(Conflict):  # Binjiang has not agreed yet
        joint.act(db, task_id=task.id, action="schedule", actor=world.leader)
    other = binjiang_leader(db, world)
    with pytest.raises(Forbidden):  # only Xihu, the lead, schedules
        joint.act(db, task_id=task.id, action="schedule", actor=other)
    joint.act(db, task_id=task.id, action="agree", actor=other)
    with pytest.raises(Forbidden):  # agreeing twice is not offered
        joint.act(db, task_id=task.id, action="agree", actor=other)
    joint.act(db, task_id=task.id, action="schedule", actor=world.leader, payload={"scheduled_on": "2026-12-17"})
    members = joint.members(db, task)
    assert task.state == "scheduled" and {m.scheduled_on for m in members} == {dt.date(2026, 12, 17)}
    with pytest.raises(Conflict):  # nobody has been there yet
        joint.act(db, task_id=task.id, action="close", actor=world.leader)
    for m in members:  # each department records its own visit, at the same time
        m.state, m.visit_started_at, m.visit_ended_at = "closed", at(12, 17, 9), at(12, 17, 12)
    joint.act(db, task_id=task.id, action="close", actor=world.leader)
    assert task.state == "closed" and task.closed_at is not None

    figures = burden.burden(db, actor=world.city_leader, year=2026)
    row = figures.per_object.filter(figures.per_object["entity_id"] == members[0].entity_id).to_dicts()[0]
    assert row["visits"] == 1 and row["departments"] == 2 and row["joint"] == 1 and row["hours"] == 3.0
    assert figures.figures["merged_visit_rate"] == 100.0


def test_a_joint_task_needs_two_departments_one_entity_and_unvisited_inspections(db: Session, world: World) -> None:
    a, b = pair(db, world)
    same = visit(db, world, world.entities[4], world.xihu.id, state="notice").id
    elsewhere = visit(db, world, world.entities[5], world.binjiang.id, state="notice").id
    done = visit(db, world, world.entities[4], world.binjiang.id, state="closed", start=at(12, 1)).id
    on = dt.date(2026, 12, 16)
    with pytest.raises(Invalid) as error:
        joint.propose(db, inspection_ids=[a, same], scheduled_on=on, actor=world.author)
    assert error.value.field == "inspection_ids"
    with pytest.raises(Invalid):
        joint.propose(db, inspection_ids=[a, elsewhere], scheduled_on=on, actor=world.author)
    with pytest.raises(Conflict):
        joint.propose(db, inspection_ids=[a, done], scheduled_on=on, actor=world.author)
    with pytest.raises(Invalid) as past:
        joint.propose(db, inspection_ids=[a, b], scheduled_on=dt.date(2026, 12, 1), actor=world.author)
    assert past.value.field == "scheduled_on"
    with pytest.raises(Forbidden):  # the city takes no part in these two
        joint.propose(db, inspection_ids=[a, b], scheduled_on=on, actor=world.city_officer)
    task = joint.propose(db, inspection_ids=[a, b], scheduled_on=on, actor=world.author)
    with pytest.raises(Conflict):  # already in a task
        joint.propose(db, inspection_ids=[a, b], scheduled_on=on, actor=world.author)
    joint.act(db, task_id=task.id, action="cancel", comment="滨江区检查计划调整", actor=world.leader)
    assert all(m.joint_task_id is None for m in joint.members(db, task))
    assert joint.propose(db, inspection_ids=[a, b], scheduled_on=on, actor=world.author).code != task.code


def test_an_assistance_request_runs_between_two_agencies(db: Session, world: World) -> None:
    other = binjiang_leader(db, world)
    shop = world.entities[4]
    with pytest.raises(Invalid) as error:
        assist.request(db, agency_id=world.xihu.id, kind="inspect", subject="协查", reason="太短", actor=world.author)
    fields = {error.value.field, *(o.field for o in error.value.others)}
    assert fields == {"agency_id", "subject", "reason", "uscc"}
    record = assist.request(db, agency_id=world.binjiang.id, kind="inspect", subject="协查西湖餐馆进货来源",
                            reason="该店销售的冷链食品来自滨江区供货商，请协助核查供货商进货查验记录。", uscc=shop.uscc,
                            wanted_by=dt.date(2027, 1, 29), actor=world.author)
    assert record.state == "requested" and record.due_date == dt.date(2026, 12, 11)  # 3 working days
    assert db.query(Notification).filter(Notification.kind == "assist.requested",
                                         Notification.user_id == other.id).count() == 1
    with pytest.raises(Forbidden):  # the asker cannot accept its own request
        assist.act(db, request_id=record.id, action="accept", actor=world.leader)
    with pytest.raises(NotFound):  # nor can a third agency see it
        assist.get(db, request_id=record.id, actor=make_third(db, world))
    assist.act(db, request_id=record.id, action="accept", actor=other)
    assert record.due_date == dt.date(2027, 1, 29)  # the asked-for date is later than 15 working days
    theirs = visit(db, world, shop, world.binjiang.id, state="closed", start=at(12, 9))
    mine = visit(db, world, shop, world.xihu.id, state="closed", start=at(12, 9))
    with pytest.raises(Invalid) as wrong:
        assist.act(db, request_id=record.id, action="answer", comment="已核查，供货商进货查验记录齐全。", actor=other,
                   payload={"inspection_code": mine.code})
    assert wrong.value.field == "inspection_code"
    assist.act(db, request_id=record.id, action="answer", comment="已核查，供货商进货查验记录齐全。", actor=other,
               payload={"inspection_code": theirs.code})
    assert record.result_ref == theirs.code
    assist.act(db, request_id=record.id, action="send_back", comment="请补充冷链温度记录", actor=world.leader)
    assert record.state == "accepted"
    assist.act(db, request_id=record.id, action="answer", comment="已补充冷链温度记录，未见异常。", actor=other,
               payload={"inspection_code": theirs.code})
    with pytest.raises(Forbidden):  # only the asker closes
        assist.act(db, request_id=record.id, action="close", actor=other)
    assist.act(db, request_id=record.id, action="close", actor=world.leader)
    assert record.state == "closed"
    assert [r.code for r in assist.listing(db, actor=other, direction="incoming")] == [record.code]
    assert assist.listing(db, actor=other, direction="outgoing") == []


def test_a_declined_request_keeps_its_reason(db: Session, world: World) -> None:
    other = binjiang_leader(db, world)
    record = assist.request(db, agency_id=world.binjiang.id, kind="assist", subject="协助调查取证",
                            reason="请协助对涉案当事人在滨江区的仓库进行现场勘验。", party_name="某仓储公司",
                            actor=world.author)
    with pytest.raises(Invalid):
        assist.act(db, request_id=record.id, action="decline", actor=other)
    assist.act(db, request_id=record.id, action="decline", comment="该仓库已迁出本区，请向余杭区提出。", actor=other)
    assert record.state == "declined" and "迁出" in record.decline_reason


def make_third(db: Session, world: World) -> User:
    from jianguan.officers import service as agencies

    third = agencies.create_agency(db, code="330110-SJ", name="杭州市余杭区市场监督管理局", region_code="330110",
                                   parent_id=world.city.id, domains=["market"], actor=None)
    return auth.create_user(db, username="yuhang", display_name="余杭", password=PASSWORD, roles=["officer"],
                            agency_id=third.id, data_scope="agency", actor=None)
