"""The six-step loop: inspections made when a plan begins, notice 5 working days ahead, preparation
approved before anything is recorded, 亮证 by two officers, answers saved (and re-saved) as the officer
goes, evidence by hash, signature or refusal, findings with deadlines, feedback, rectification with
escalation after two rejections, 销号 only when every finding is accepted."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jianguan.audit.models import AuditEntry
from jianguan.auth import service as auth
from jianguan.auth.models import User
from jianguan.core import workflow
from jianguan.core.errors import Conflict, Forbidden, IllegalTransition, Invalid, NotFound
from jianguan.core.models import WorkflowEvent
from jianguan.inspections import draws, service, visits
from jianguan.inspections.models import Finding, Inspection
from jianguan.officers import roster
from tests.auth.conftest import PASSWORD
from tests.inspections.conftest import DAY, World, make_world, plan_data

TODAY = dt.date(2026, 12, 8)  # a Tuesday
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(visits, "today_shanghai", lambda: TODAY)


def officer_user(db: Session, world: World, i: int) -> User:
    """The account of the i-th Xihu officer (made on first use)."""
    found = db.scalar(select(User).where(User.username == f"zfy{i}"))
    if found is not None:
        return found
    user = auth.create_user(db, username=f"zfy{i}", display_name=f"执法员{i}", password=PASSWORD, roles=["officer"],
                            agency_id=world.xihu.id, data_scope="agency", actor=None)
    officer = world.officers[i]
    roster.update_officer(db, officer_id=officer.id, user_id=user.id, version=officer.version, actor=None)
    return user


def member(db: Session, world: World, record: Inspection, n: int) -> User:
    officer_id = record.officers[n].officer_id
    return officer_user(db, world, next(i for i, o in enumerate(world.officers) if o.id == officer_id))


def begun(db: Session, world: World, **extra: object) -> list[Inspection]:
    plan = service.create_plan(db, data=plan_data(**extra), actor=world.author)
    service.decide(db, plan_id=plan.id, action="submit", actor=world.author)
    service.decide(db, plan_id=plan.id, action="approve", actor=world.leader)
    draw = draws.run_draw(db, plan_id=plan.id, seed="loop", on=DAY, actor=world.author)
    service.decide(db, plan_id=plan.id, action="begin", actor=world.leader)
    made = db.scalars(select(Inspection).where(Inspection.plan_id == plan.id).order_by(Inspection.id)).all()
    assert len(made) == draw.selected_count
    return list(made)


def on_site(db: Session, world: World, record: Inspection) -> tuple[User, User]:
    """Schedule, give notice, prepare, approve, show two credentials, start: ready to record."""
    users = [member(db, world, record, 0), member(db, world, record, 1)]
    visits.schedule(db, inspection_id=record.id, on=dt.date(2026, 12, 21), actor=users[0])
    visits.decide(db, inspection_id=record.id, action="send_notice", actor=users[0])
    visits.prepare(db, inspection_id=record.id, actor=users[0])
    visits.decide(db, inspection_id=record.id, action="approve_preparation", actor=world.leader)
    for user in users:
        visits.show_credential(db, inspection_id=record.id, actor=user)
    visits.decide(db, inspection_id=record.id, action="start_visit", actor=users[0])
    return users[0], users[1]


def test_beginning_a_plan_makes_one_inspection_per_drawn_entity_with_its_team(db: Session, world: World) -> None:
    made = begun(db, world)
    first = made[0]
    assert first.state == "notice" and first.notice_required and first.code.startswith("330106-SJ-JC2026-")
    assert len(first.officers) == 2 and all(o.credential_number.startswith("XH2026") for o in first.officers)
    assert db.scalar(select(func.count()).select_from(WorkflowEvent).where(
        WorkflowEvent.workflow == "inspection", WorkflowEvent.action == "start")) == len(made)
    assert db.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "inspection.create_from_draw")) == 1
    unannounced = begun(db, world, kind="unannounced")
    assert {i.state for i in unannounced} == {"preparing"} and "四不两直" in unannounced[0].notice_skip_reason


def test_the_notice_goes_out_five_working_days_before_the_visit(db: Session, world: World) -> None:
    record = begun(db, world)[0]
    user = member(db, world, record, 0)
    visits.schedule(db, inspection_id=record.id, on=dt.date(2026, 12, 14), actor=user)
    assert record.due_date == dt.date(2026, 12, 7)  # Mon 14 Dec − 5 working days: the Monday before
    with pytest.raises(Invalid) as late:
        visits.decide(db, inspection_id=record.id, action="send_notice", actor=user)
    assert "2026-12-15" in late.value.localized("zh_CN")  # 8 Dec + 5 working days
    visits.schedule(db, inspection_id=record.id, on=dt.date(2026, 12, 15), actor=user)
    visits.decide(db, inspection_id=record.id, action="send_notice", actor=user)
    assert record.state == "preparing" and record.notice_sent_on == TODAY
    with pytest.raises(Invalid):  # a routine inspection may not skip the notice
        visits.decide(db, inspection_id=begun(db, world)[0].id, action="skip_notice", comment="来不及", actor=user)


def test_nothing_is_recorded_before_the_preparation_is_approved_and_two_credentials_shown(
        db: Session, world: World) -> None:
    record = begun(db, world, kind="complaint", ratio=None,
                   target_usccs=[world.entities[1].uscc])[0]
    assert record.state == "preparing"
    a, b = member(db, world, record, 0), member(db, world, record, 1)
    with pytest.raises(Invalid):  # no checklist yet
        visits.decide(db, inspection_id=record.id, action="approve_preparation", actor=world.leader)
    visits.prepare(db, inspection_id=record.id, actor=a)
    point = record.answers[0].point_code
    with pytest.raises(Conflict):
        visits.save_answer(db, inspection_id=record.id, point_code=point, answer="yes", actor=a)
    with pytest.raises(Forbidden):  # the officer cannot approve the team's own preparation
        visits.decide(db, inspection_id=record.id, action="approve_preparation", actor=a)
    visits.decide(db, inspection_id=record.id, action="approve_preparation", actor=world.leader)
    visits.show_credential(db, inspection_id=record.id, actor=a)
    with pytest.raises(Invalid) as one:
        visits.decide(db, inspection_id=record.id, action="start_visit", actor=a)
    assert one.value.field == "credentials"
    with pytest.raises(NotFound):  # another district's officer does not even see it
        visits.show_credential(db, inspection_id=record.id, actor=world.outsider)
    visits.show_credential(db, inspection_id=record.id, actor=b)
    visits.decide(db, inspection_id=record.id, action="start_visit", actor=a)
    assert record.state == "on_site" and record.visit_started_at is not None


def test_a_visit_with_problems_goes_through_rectification_to_closing(db: Session, world: World) -> None:
    record = begun(db, world)[0]
    a, b = on_site(db, world, record)
    codes = [x.point_code for x in record.answers]
    visits.save_answer(db, inspection_id=record.id, point_code=codes[0], answer="yes", actor=a)
    # Saved again (a retry after a lost connection, or a change of mind): overwritten, never doubled.
    visits.save_answer(db, inspection_id=record.id, point_code=codes[0], answer="no", note="许可证过期", actor=a)
    assert [x.answer for x in record.answers if x.point_code == codes[0]] == ["no"]
    visits.save_answer(db, inspection_id=record.id, point_code=codes[1], value="12.5", actor=b)  # above 8 ℃
    with pytest.raises(Invalid) as why:
        visits.save_answer(db, inspection_id=record.id, point_code=codes[1], answer="na", actor=b)
    assert why.value.field == "note"
    photo = visits.attach(db, inspection_id=record.id, stream=io.BytesIO(PNG), filename="冷柜.png",
                          content_type="image/png", kind="photo", point_code=codes[1], latitude="30.2741",
                          longitude="120.1551", actor=b)
    assert len(photo.sha256) == 64
    with pytest.raises(Invalid) as incomplete:
        visits.decide(db, inspection_id=record.id, action="finish_visit", actor=a)
    assert incomplete.value.field == "signature" or "signature" in {p.field for p in incomplete.value.others}
    visits.sign(db, inspection_id=record.id, signer="店长 李四", stream=io.BytesIO(PNG), actor=a)
    visits.decide(db, inspection_id=record.id, action="finish_visit", actor=a)
    assert record.state == "feedback" and record.result == "problems" and len(record.findings) == 2
    cold = next(f for f in record.findings if f.point_code == codes[1])
    assert cold.basis == "《中华人民共和国食品安全法》第五十四条" and cold.state == "open"
    visits.set_rectify_by(db, finding_id=cold.id, on=dt.date(2027, 1, 20), actor=a)  # before the letter goes out
    assert (cold.rectify_by, cold.due_date) == (dt.date(2027, 1, 20), dt.date(2027, 1, 20))
    with pytest.raises(Invalid):
        visits.set_rectify_by(db, finding_id=cold.id, on=TODAY, actor=a)
    with pytest.raises(Invalid) as findings:
        visits.decide(db, inspection_id=record.id, action="conclude", actor=a)
    assert findings.value.field == "findings"
    with pytest.raises(IllegalTransition):
        visits.decide(db, inspection_id=record.id, action="close", actor=a)
    visits.decide(db, inspection_id=record.id, action="send_feedback", actor=a)
    assert record.state == "rectifying" and record.feedback_sent_on == TODAY
    for finding in record.findings:
        visits.decide_finding(db, finding_id=finding.id, action="submit_plan", actor=a,
                              payload={"responsible": "李四", "measures": "更换冷柜温控", "timetable": "12月底前"})
        visits.decide_finding(db, finding_id=finding.id, action="approve_plan", actor=a)
        visits.attach(db, inspection_id=record.id, stream=io.BytesIO(PNG + b"fix"), filename="整改.png",
                      content_type="image/png", kind="photo", finding_id=finding.id, actor=a)
        visits.decide_finding(db, finding_id=finding.id, action="submit_evidence", actor=a)
    with pytest.raises(IllegalTransition):
        visits.decide(db, inspection_id=record.id, action="close", actor=a)  # not reviewing yet
    visits.decide(db, inspection_id=record.id, action="review", actor=a)
    first, second = record.findings
    visits.decide_finding(db, finding_id=first.id, action="accept", actor=a)
    for _ in range(2):
        visits.decide_finding(db, finding_id=second.id, action="reject", comment="温度仍超标", actor=a)
        if second.rejections < 2:
            visits.decide_finding(db, finding_id=second.id, action="submit_evidence", actor=a)
    assert second.rejections == 2 and second.escalation_level == 2  # 督办 after two rejections
    on_board = visits.board(db, actor=world.leader)
    assert [f.id for f in on_board["findings"]] == [second.id]
    assert visits.board(db, actor=world.outsider)["findings"] == []  # another district's board
    with pytest.raises(Invalid) as open_finding:
        visits.decide(db, inspection_id=record.id, action="close", actor=a)
    assert open_finding.value.field == "findings"
    visits.decide_finding(db, finding_id=second.id, action="submit_evidence", actor=a)
    visits.decide_finding(db, finding_id=second.id, action="accept", actor=a)
    visits.decide(db, inspection_id=record.id, action="close", actor=a)
    assert record.state == "closed" and record.closed_at is not None
    actions = [e.action for e in workflow.history(db, record)]
    assert actions[:6] == ["start", "send_notice", "approve_preparation", "start_visit", "finish_visit",
                           "send_feedback"]


def test_a_clean_visit_concludes_at_feedback_and_refusal_to_sign_is_recorded(db: Session, world: World) -> None:
    record = begun(db, world)[0]
    a, _ = on_site(db, world, record)
    for answer in record.answers:
        visits.save_answer(db, inspection_id=record.id, point_code=answer.point_code, answer="yes",
                           value="5" if "温度" in answer.text else "", actor=a)
    with pytest.raises(Invalid):
        visits.refuse_signature(db, inspection_id=record.id, reason="", actor=a)
    visits.refuse_signature(db, inspection_id=record.id, reason="负责人拒绝签字，两名执法人员在场见证", actor=a)
    visits.decide(db, inspection_id=record.id, action="finish_visit", actor=a)
    assert record.result == "no_problem" and not record.findings
    visits.decide(db, inspection_id=record.id, action="conclude", actor=a)
    assert record.state == "closed"
    assert db.scalar(select(func.count()).select_from(Finding)) == 0


def test_my_tasks_lists_only_my_inspections(db: Session) -> None:
    world = make_world(db, officers=4)
    made = begun(db, world)
    user = officer_user(db, world, 0)
    mine, total = visits.my_inspections(db, actor=user)
    expected = [i.id for i in made if any(o.officer_id == world.officers[0].id for o in i.officers)]
    assert total == len(expected) > 0 and sorted(i.id for i in mine) == sorted(expected)


def test_a_plan_closes_only_when_its_inspections_are_closed(db: Session, world: World) -> None:
    made = begun(db, world, kind="complaint", ratio=None, target_usccs=[world.entities[2].uscc])
    plan_id = made[0].plan_id
    assert plan_id is not None
    with pytest.raises(Invalid) as still:
        service.decide(db, plan_id=plan_id, action="close", actor=world.leader)
    assert still.value.field == "inspections"
    assert visits.plan_progress(db, plan_id) == {"preparing": 1}
    visits.decide(db, inspection_id=made[0].id, action="cancel", comment="主体已停业", actor=world.leader)
    service.decide(db, plan_id=plan_id, action="close", actor=world.leader)
    assert service.get_plan(db, plan_id=plan_id, actor=None).state == "closed"


def test_the_overdue_scan_escalates_in_bulk_and_tells_each_officer_once(db: Session) -> None:
    from jianguan.audit import service as audit
    from jianguan.notify.models import Notification

    world = make_world(db, officers=3)
    made = begun(db, world)
    user = officer_user(db, world, 0)
    mine = [i for i in made if any(o.officer_id == world.officers[0].id for o in i.officers)]
    assert len(mine) >= 2
    for record in made:  # visits on Thursday 10 Dec: the notice was due on Thursday 3 Dec
        visits.schedule(db, inspection_id=record.id, on=dt.date(2026, 12, 10), actor=world.leader)
    assert {r.due_date for r in made} == {dt.date(2026, 12, 3)}
    found = workflow.scan_overdue(db, today=dt.date(2026, 12, 9))
    raised = [e for e in found if e.workflow == "inspection"]
    assert sorted({e.record_id for e in raised}) == sorted(r.id for r in made)
    assert {(e.level, e.name) for e in raised} == {(2, "督办"), (1, "notify")}  # 4 working days late
    assert all(r.escalation_level == 2 for r in made)
    notes = db.scalars(select(Notification).where(Notification.user_id == user.id)).all()
    assert len(notes) == 2  # one per level, however many of their inspections are late
    assert {n.params["count"] for n in notes} == {len(mine)}
    assert not [e for e in workflow.scan_overdue(db, today=dt.date(2026, 12, 9)) if e.workflow == "inspection"]
    assert audit.verify(db).ok


def test_the_entity_rectifies_through_its_own_account(db: Session, world: World) -> None:
    record = begun(db, world)[0]
    a, _ = on_site(db, world, record)
    for answer in record.answers:
        visits.save_answer(db, inspection_id=record.id, point_code=answer.point_code,
                           answer="no" if answer is record.answers[0] else "yes",
                           value="" if answer is record.answers[0] else "5", actor=a)
    visits.refuse_signature(db, inspection_id=record.id, reason="拒签", actor=a)
    visits.decide(db, inspection_id=record.id, action="finish_visit", actor=a)
    visits.decide(db, inspection_id=record.id, action="send_feedback", actor=a)
    with pytest.raises(Invalid):  # an entity account names its entity
        auth.create_user(db, username="shop", display_name="店主", password=PASSWORD, roles=["entity_user"],
                         actor=None)
    with pytest.raises(Invalid):  # …and belongs to no agency
        auth.create_user(db, username="shop", display_name="店主", password=PASSWORD, roles=["entity_user"],
                         agency_id=world.xihu.id, entity_id=record.entity_id, actor=None)
    shop = auth.create_user(db, username="shop", display_name="店主", password=PASSWORD, roles=["entity_user"],
                            entity_id=record.entity_id, actor=None)
    other = auth.create_user(db, username="othershop", display_name="别家", password=PASSWORD, roles=["entity_user"],
                             entity_id=world.entities[-1].id, actor=None)
    assert service.list_plans(db, actor=shop)[1] == 0  # sees no plans, no other entity
    finding = visits.entity_findings(db, actor=shop)[0]
    assert visits.entity_findings(db, actor=other) == []
    with pytest.raises(NotFound):
        visits.decide_finding(db, finding_id=finding.id, action="submit_plan", actor=other,
                              payload={"responsible": "x", "measures": "y", "timetable": "z"})
    visits.decide_finding(db, finding_id=finding.id, action="submit_plan", actor=shop,
                          payload={"responsible": "店主", "measures": "补办许可证", "timetable": "两周内"})
    with pytest.raises(Forbidden):  # the entity does not approve its own plan
        visits.decide_finding(db, finding_id=finding.id, action="approve_plan", actor=shop)
    visits.decide_finding(db, finding_id=finding.id, action="approve_plan", actor=a)
    visits.attach(db, inspection_id=record.id, stream=io.BytesIO(PNG + b"licence"), filename="许可证.png",
                  content_type="image/png", kind="photo", finding_id=finding.id, actor=shop)
    with pytest.raises(NotFound):
        visits.attach(db, inspection_id=record.id, stream=io.BytesIO(PNG), filename="x.png", content_type="image/png",
                      kind="photo", finding_id=finding.id, actor=other)
    visits.decide_finding(db, finding_id=finding.id, action="submit_evidence", actor=shop)
    visits.decide_finding(db, finding_id=finding.id, action="accept", actor=a)
    assert finding.state == "accepted"


def test_the_other_departments_of_a_joint_plan_are_copied(db: Session, world: World) -> None:
    from jianguan.notify.models import Notification

    binjiang_leader = auth.create_user(db, username="bj_leader", display_name="滨江负责人", password=PASSWORD,
                                       roles=["leader"], agency_id=world.binjiang.id, actor=None)
    record = begun(db, world, kind="joint", agency_ids=[world.binjiang.id])[0]
    a = member(db, world, record, 0)
    visits.schedule(db, inspection_id=record.id, on=dt.date(2026, 12, 21), actor=a)
    visits.decide(db, inspection_id=record.id, action="send_notice", actor=a)
    visits.prepare(db, inspection_id=record.id, actor=a)
    visits.decide(db, inspection_id=record.id, action="approve_preparation", actor=world.leader)
    copied = db.scalars(select(Notification).where(Notification.kind == "inspection.copied")).all()
    assert [n.user_id for n in copied] == [binjiang_leader.id] and copied[0].params["date"] == "2026-12-21"


def test_a_remote_inspection_is_chosen_among_the_plans_methods(db: Session, world: World) -> None:
    record = begun(db, world, methods=["on_site", "remote_video"])[0]
    user = member(db, world, record, 0)
    with pytest.raises(Invalid) as wrong:
        visits.schedule(db, inspection_id=record.id, on=dt.date(2026, 12, 21), method="mystery_shopper", actor=user)
    assert wrong.value.field == "method" and record.method == "on_site"
    visits.schedule(db, inspection_id=record.id, on=dt.date(2026, 12, 21), method="remote_video", actor=user)
    assert record.method == "remote_video" and record.scheduled_on == dt.date(2026, 12, 21)
