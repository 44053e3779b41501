"""Plans through approval and filing; draws that keep every rule, leave evidence and verify."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jianguan.catalog.models import NegativeListEntry
from jianguan.core import workflow
from jianguan.core.errors import Conflict, Forbidden, IllegalTransition, Invalid, NotFound
from jianguan.inspections import draws, service
from jianguan.inspections.models import Draw, DrawAssignment, DrawEntity
from jianguan.notify.models import Notification
from jianguan.officers import roster
from tests.inspections.conftest import DAY, World, make_world, plan_data, tag


def approved_plan(db: Session, world: World, **extra: object) -> int:
    plan = service.create_plan(db, data=plan_data(**extra), actor=world.author)
    service.decide(db, plan_id=plan.id, action="submit", actor=world.author)
    service.decide(db, plan_id=plan.id, action="approve", actor=world.leader)
    return plan.id


def test_a_plan_is_drawn_up_approved_by_someone_else_and_filed_with_the_city(db: Session, world: World) -> None:
    plan = service.create_plan(db, data=plan_data(), actor=world.author)
    assert plan.state == "draft" and plan.code == "330106-SJ-JH2026-001" and plan.agency_id == world.xihu.id
    service.decide(db, plan_id=plan.id, action="submit", actor=world.author)
    assert plan.state == "awaiting_approval" and plan.due_date is not None
    with pytest.raises(Forbidden):
        service.decide(db, plan_id=plan.id, action="approve", actor=world.author)
    with pytest.raises(Invalid) as refused:
        service.decide(db, plan_id=plan.id, action="return", actor=world.leader)
    assert refused.value.field == "comment"
    service.decide(db, plan_id=plan.id, action="approve", actor=world.leader)
    assert plan.state == "approved" and plan.filed_with_agency_id == world.city.id and plan.filed_at is not None
    told = db.scalars(select(Notification.user_id).where(Notification.kind == "inspection_plan.filed")).all()
    assert told == [world.city_leader.id]
    with pytest.raises(IllegalTransition):
        service.decide(db, plan_id=plan.id, action="submit", actor=world.author)


def test_bad_plans_are_refused_field_by_field(db: Session, world: World) -> None:
    with pytest.raises(Invalid) as caught:
        service.create_plan(db, data=plan_data(kind="nonsense", methods=["telepathy"], count=10,
                                               scope={"region_code": "330108"},
                                               starts_on=dt.date(2026, 12, 31), ends_on=dt.date(2026, 12, 1)),
                            actor=world.author)
    fields = {p["field"] for p in caught.value.to_dict("zh_CN")["details"]}
    assert {"kind", "methods", "count", "scope.region_code", "ends_on"} <= fields
    with pytest.raises(Invalid) as named:
        service.create_plan(db, data=plan_data(kind="targeted"), actor=world.author)
    assert named.value.field == "target_usccs"
    with pytest.raises(Forbidden):
        service.create_plan(db, data=plan_data(), actor=world.leader)  # leaders approve, they do not draft


def test_an_item_on_the_negative_list_stops_the_plan_at_submission(db: Session, world: World) -> None:
    db.add(NegativeListEntry(code="NEG-001", matter="以罚款指标考核执法人员", keywords=["罚款指标"], item_codes=[]))
    db.flush()
    plan = service.create_plan(db, data=plan_data(title="完成罚款指标专项检查"), actor=world.author)
    with pytest.raises(Invalid) as caught:
        service.decide(db, plan_id=plan.id, action="submit", actor=world.author)
    assert "罚款指标" in caught.value.localized("zh_CN")
    assert plan.state == "draft"


def test_a_draw_keeps_the_rules_and_verifies(db: Session, world: World) -> None:
    tag(db, world.entities[8], "abnormal_list")  # red/C: forced in
    world.entities[9].status = "cancelled"  # never drawn
    plan_id = approved_plan(db, world)
    draw = draws.run_draw(db, plan_id=plan_id, seed="2026年12月7日 公开摇号 0815", on=DAY, actor=world.author)
    assert draw.seed_source == "public" and draw.algorithm == "jg-draw/1" and len(draw.pool_hash) == 64
    rows = db.scalars(select(DrawEntity).where(DrawEntity.draw_id == draw.id)).all()
    reasons = Counter(r.reason for r in rows)
    assert reasons["abnormal_list"] == 1
    excluded = draw.summary["exclusions"]
    assert excluded["closed"] == 1
    assert excluded["credit_exempt"] == sum(1 for e in world.entities if e.credit_class == "A" and e.status == "active")
    eligible = 120 - excluded["closed"] - excluded["credit_exempt"] - 1
    assert reasons["random"] == int((Decimal(eligible) * Decimal("0.2")).quantize(Decimal(1), ROUND_HALF_UP))
    ids = {r.entity_id for r in rows}
    assert world.entities[9].id not in ids
    assert not ids & {e.id for e in world.entities if e.credit_class == "A" and e.id != world.entities[8].id}
    teams = Counter(a.entity_id for a in db.scalars(select(DrawAssignment).where(DrawAssignment.draw_id == draw.id)))
    assert set(teams) == ids and set(teams.values()) == {2}
    check = draws.verify(db, draw_id=draw.id, actor=world.leader)
    assert check.identical and check.snapshot_intact and check.rerun_matches and check.rows_match


def test_verify_notices_a_changed_result(db: Session, world: World) -> None:
    draw = draws.run_draw(db, plan_id=approved_plan(db, world), seed="42", on=DAY, actor=world.author)
    row = db.scalar(select(DrawAssignment).where(DrawAssignment.draw_id == draw.id).limit(1))
    assert row is not None
    others = [o.id for o in world.officers if o.id != row.officer_id]
    row.officer_id = others[0]
    db.flush()
    check = draws.verify(db, draw_id=draw.id, actor=world.leader)
    assert not check.identical and not check.rows_match
    assert check.snapshot_intact and check.rerun_matches


def test_one_valid_draw_per_plan_and_voiding_is_recorded(db: Session, world: World) -> None:
    plan_id = approved_plan(db, world)
    first = draws.run_draw(db, plan_id=plan_id, seed="1", on=DAY, actor=world.author)
    with pytest.raises(Conflict):
        draws.run_draw(db, plan_id=plan_id, seed="2", on=DAY, actor=world.author)
    with pytest.raises(Forbidden):
        draws.void_draw(db, draw_id=first.id, reason="种子读错", actor=world.author)
    draws.void_draw(db, draw_id=first.id, reason="会议记录显示种子读错", actor=world.leader)
    second = draws.run_draw(db, plan_id=plan_id, seed="2", on=DAY, actor=world.author)
    assert second.number == 2 and first.voided_at is not None
    assert [d.number for d in draws.draws_of(db, second.plan)] == [1, 2]


def test_too_few_officers_draws_nothing(db: Session) -> None:
    world = make_world(db, officers=1)
    plan_id = approved_plan(db, world)
    with pytest.raises(Invalid) as caught:
        draws.run_draw(db, plan_id=plan_id, seed="s", on=DAY, actor=world.author)
    assert caught.value.field == "officers" and caught.value.details
    assert db.scalar(select(func.count()).select_from(Draw)) == 0


def test_leave_and_a_suspended_credential_keep_officers_out(db: Session) -> None:
    world = make_world(db, officers=4)
    roster.add_leave(db, officer_id=world.officers[0].id, starts_on=DAY, ends_on=DAY, actor=None)
    world.officers[1].credentials[0].status = "suspended"
    db.flush()
    draw = draws.run_draw(db, plan_id=approved_plan(db, world), seed="s", on=DAY, actor=world.author)
    used = set(db.scalars(select(DrawAssignment.officer_id).where(DrawAssignment.draw_id == draw.id)))
    assert used == {world.officers[2].id, world.officers[3].id}


def test_recusal_and_the_previous_team_stand_aside(db: Session, world: World) -> None:
    target = world.entities[5]
    tag(db, target, "serious_violation")  # forced in both draws
    roster.add_conflict(db, officer_id=world.officers[0].id, relation="relative", entity_id=target.id, actor=None)
    first = draws.run_draw(db, plan_id=approved_plan(db, world), seed="a", on=DAY, actor=world.author)
    team = set(db.scalars(select(DrawAssignment.officer_id).where(DrawAssignment.draw_id == first.id,
                                                                  DrawAssignment.entity_id == target.id)))
    assert len(team) == 2 and world.officers[0].id not in team
    second = draws.run_draw(db, plan_id=approved_plan(db, world), seed="a", on=DAY, actor=world.author)
    again = set(db.scalars(select(DrawAssignment.officer_id).where(DrawAssignment.draw_id == second.id,
                                                                   DrawAssignment.entity_id == target.id)))
    assert len(again) == 2 and not again & team and world.officers[0].id not in again
    # Entities drawn by the first plan for the same item are not drawn again within 180 days.
    assert second.summary["exclusions"]["recent"] == first.selected_count - 1


def test_an_unannounced_plan_is_sealed_until_it_begins(db: Session, world: World) -> None:
    plan_id = approved_plan(db, world, kind="unannounced")
    colleague = world.outsider
    colleague.agency_id = world.xihu.id
    db.flush()
    with pytest.raises(NotFound):
        service.get_plan(db, plan_id=plan_id, actor=colleague)
    assert plan_id not in [p.id for p in service.list_plans(db, actor=colleague)[0]]
    assert service.get_plan(db, plan_id=plan_id, actor=world.leader).restricted
    with pytest.raises(Invalid):  # no draw yet
        service.decide(db, plan_id=plan_id, action="begin", actor=world.author)
    draw = draws.run_draw(db, plan_id=plan_id, seed="x", on=DAY, actor=world.author)
    with pytest.raises(NotFound):
        draws.get_draw(db, draw_id=draw.id, actor=colleague)
    service.decide(db, plan_id=plan_id, action="begin", actor=world.author)
    assert draws.get_draw(db, draw_id=draw.id, actor=colleague).id == draw.id
    assert workflow.history(db, service.get_plan(db, plan_id=plan_id, actor=None))[-1].action == "begin"


def test_a_count_plan_and_a_targeted_plan(db: Session, world: World) -> None:
    counted = draws.run_draw(db, plan_id=approved_plan(db, world, ratio=None, count=7), seed="c", on=DAY,
                             actor=world.author)
    assert counted.selected_count == 7
    usccs = [world.entities[0].uscc, world.entities[4].uscc]
    targeted = draws.run_draw(db, plan_id=approved_plan(db, world, kind="targeted", ratio=None, target_usccs=usccs),
                              seed="t", on=DAY, actor=world.author)
    rows, total = draws.results(db, targeted)
    assert total == 2 and {r.uscc for r in rows} == set(usccs) and {r.reason for r in rows} == {"named"}
    assert all(len(r.officers) == 2 for r in rows)


def test_a_city_plan_draws_the_officers_of_the_districts_below(db: Session, world: World) -> None:
    plan = service.create_plan(db, data=plan_data(scope={"region_code": "330100"}), actor=world.city_officer)
    service.decide(db, plan_id=plan.id, action="submit", actor=world.city_officer)
    city_leader = world.city_leader
    service.decide(db, plan_id=plan.id, action="approve", actor=city_leader)
    draw = draws.run_draw(db, plan_id=plan.id, seed="city", on=DAY, actor=world.city_officer)
    used = set(db.scalars(select(DrawAssignment.officer_id).where(DrawAssignment.draw_id == draw.id)))
    assert used and used <= {o.id for o in world.officers}  # Xihu's officers, under the city bureau
    assert draws.taking_part(db, plan) == sorted({world.city.id, world.xihu.id, world.binjiang.id})
