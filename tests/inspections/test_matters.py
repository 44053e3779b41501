"""督查: the list (admit, adjust, exit), matters handed down as linked children, the three linked lists
with 销号 per task, the second 督查, accountability, and the two rates against their 95 % targets."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.auth import service as auth
from jianguan.auth.models import User
from jianguan.core import workflow
from jianguan.core.errors import Forbidden, IllegalTransition, Invalid, NotFound
from jianguan.entities.models import Entity
from jianguan.inspections import matters, visits
from jianguan.inspections.models import MatterTask, SupervisionMatter
from jianguan.inspections.schemas import (
    AccountabilityIn,
    HandDownIn,
    MatterChanges,
    MatterIn,
    ProblemIn,
    ResponsibilityIn,
    TaskIn,
)
from jianguan.notify.models import Notification
from jianguan.officers import service as agencies
from jianguan.officers.models import Agency
from jianguan.reference import service as ref
from tests.auth.conftest import PASSWORD

TODAY = dt.date(2026, 6, 1)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass
class Offices:
    province: Agency
    city: Agency
    county: Agency
    city_officer: User
    city_leader: User
    city_leader2: User
    county_officer: User
    county_leader: User
    units: list[Entity]
    restaurant: Entity
    unit_user: User


def make_offices(db: Session) -> Offices:
    ref.load_all(db)

    def office(code: str, name: str, region: str, parent: Agency | None) -> Agency:
        return agencies.create_agency(db, code=code, name=name, region_code=region, domains=["inspection"],
                                      parent_id=parent.id if parent else None, actor=None)

    province = office("33-DC", "浙江省人民政府督查室", "330000", None)
    city = office("3301-DC", "杭州市人民政府督查室", "330100", province)
    county = office("330106-DC", "杭州市西湖区人民政府督查室", "330106", city)

    def user(name: str, roles: list[str], agency: Agency) -> User:
        return auth.create_user(db, username=name, display_name=name, password=PASSWORD, roles=roles,
                                agency_id=agency.id, data_scope="agency", actor=None)

    units = []
    for i, name in enumerate(("西湖区发展和改革局", "西湖区住房和城乡建设局", "西湖区市场监督管理局")):
        unit = Entity(uscc=f"11330106MB000000{i}X", name=name, kind="government_unit", status="active",
                      region_code="330106")
        db.add(unit)
        units.append(unit)
    restaurant = Entity(uscc="91330106TEST000001", name="西湖餐馆", kind="enterprise", status="active",
                        region_code="330106")
    db.add(restaurant)
    db.flush()
    unit_user = auth.create_user(db, username="fgj", display_name="发改局联络员", password=PASSWORD,
                                 roles=["entity_user"], entity_id=units[0].id, actor=None)
    return Offices(province, city, county, user("city_du", ["officer"], city), user("city_lead", ["leader"], city),
                   user("city_lead2", ["leader"], city), user("xh_du", ["officer"], county),
                   user("xh_lead", ["leader"], county), units, restaurant, unit_user)


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(visits, "today_shanghai", lambda: TODAY)


@pytest.fixture
def offices(db: Session) -> Offices:
    return make_offices(db)


def matter_in(**extra: object) -> MatterIn:
    data: dict[str, object] = {"title": "优化营商环境“一件事”改革落实情况", "level": "city",
                               "source_ref": "杭政办〔2026〕5号", "due_on": dt.date(2026, 9, 30)}
    data.update(extra)
    return MatterIn.model_validate(data)


def listed(db: Session, o: Offices, **extra: object) -> SupervisionMatter:
    """Put forward by the city officer, admitted by a leader, 督查 started."""
    matter = matters.create_matter(db, data=matter_in(**extra), actor=o.city_officer)
    matters.decide(db, matter_id=matter.id, action="admit", actor=o.city_leader)
    matters.decide(db, matter_id=matter.id, action="begin", actor=o.city_officer)
    return matter


def with_task(db: Session, o: Offices, matter: SupervisionMatter, *, due: dt.date = dt.date(2026, 7, 31)) -> MatterTask:
    unit = o.units[0].uscc
    problem = matters.add_problem(db, matter_id=matter.id, data=ProblemIn(
        unit_uscc=unit, text="企业开办“一件事”线上办理率不足50%", found_on=dt.date(2026, 5, 20)), actor=o.city_officer)
    matters.add_responsibility(db, problem_id=problem.id, data=ResponsibilityIn(
        unit_uscc=unit, person="王局长", position="局长"), actor=o.city_officer)
    return matters.add_task(db, problem_id=problem.id, data=TaskIn(
        unit_uscc=unit, owner="李科长", measures="上线企业开办一网通办专区并培训窗口人员", due_on=due),
        actor=o.city_officer)


def done(db: Session, o: Offices, task: MatterTask) -> None:
    matters.attach(db, task_id=task.id, stream=io.BytesIO(PNG), filename="专区截图.png", content_type="image/png",
                   actor=o.unit_user)
    matters.decide_task(db, task_id=task.id, action="submit", actor=o.unit_user)
    matters.decide_task(db, task_id=task.id, action="accept", actor=o.city_officer)


def test_the_list_admits_adjusts_and_exits_with_reasons(db: Session, offices: Offices) -> None:
    o = offices
    matter = matters.create_matter(db, data=matter_in(unit_usccs=[o.units[0].uscc]), actor=o.city_officer)
    assert matter.state == "draft" and matter.code == "DC-3301-DC-2026-0001" and matter.unit_ids == [o.units[0].id]
    with pytest.raises(Forbidden):  # an officer does not admit to the list
        matters.decide(db, matter_id=matter.id, action="admit", actor=o.city_officer)
    own = matters.create_matter(db, data=matter_in(), actor=o.city_leader)
    with pytest.raises(Forbidden):  # nor does a leader admit what they put forward
        matters.decide(db, matter_id=own.id, action="admit", actor=o.city_leader)
    matters.decide(db, matter_id=matter.id, action="admit", actor=o.city_leader)
    assert matter.state == "admitted" and matter.due_date == dt.date(2026, 9, 30)
    with pytest.raises(Invalid) as no_reason:
        matters.decide(db, matter_id=matter.id, action="adjust", changes=MatterChanges(due_on=dt.date(2026, 10, 31)),
                       actor=o.city_officer)
    assert no_reason.value.field == "comment"
    matters.decide(db, matter_id=matter.id, action="adjust", comment="省里调整了完成时限",
                   changes=MatterChanges(due_on=dt.date(2026, 10, 31)), actor=o.city_officer)
    assert matter.due_on == dt.date(2026, 10, 31) and matter.state == "admitted"
    last = workflow.history(db, matter)[-1]
    assert last.action == "adjust" and last.comment == "省里调整了完成时限"
    with pytest.raises(Invalid):  # a restaurant is not a government unit
        matters.create_matter(db, data=matter_in(unit_usccs=[o.restaurant.uscc]), actor=o.city_officer)
    with pytest.raises(Invalid):
        matters.decide(db, matter_id=matter.id, action="exit", actor=o.city_leader)
    matters.decide(db, matter_id=matter.id, action="exit", comment="任务已并入省级事项", actor=o.city_leader)
    assert matter.state == "exited" and matter.exit_reason == "任务已并入省级事项"
    with pytest.raises(IllegalTransition):
        matters.decide(db, matter_id=matter.id, action="begin", actor=o.city_officer)


def test_a_matter_handed_down_is_linked_not_retyped(db: Session, offices: Offices) -> None:
    o = offices
    upper = listed(db, o)
    with pytest.raises(Invalid) as too_late:
        matters.hand_down(db, matter_id=upper.id, data=HandDownIn(agency_id=o.county.id, due_on=dt.date(2026, 12, 1)),
                          actor=o.city_officer)
    assert too_late.value.field == "due_on"
    with pytest.raises(Invalid):  # not to the province, only to the level directly below
        matters.hand_down(db, matter_id=upper.id, data=HandDownIn(agency_id=o.province.id), actor=o.city_officer)
    child = matters.hand_down(db, matter_id=upper.id, data=HandDownIn(
        agency_id=o.county.id, due_on=dt.date(2026, 8, 31), unit_usccs=[o.units[0].uscc]), actor=o.city_officer)
    assert child.parent_id == upper.id and child.level == "county" and child.title == ""
    assert matters.title_of(child) == matters.title_of(upper) == "优化营商环境“一件事”改革落实情况"
    upper.title = "优化营商环境“一件事”改革落实情况（修订）"  # one wording, read through the link
    assert matters.title_of(child) == upper.title
    assert child.state == "draft" and child.agency_id == o.county.id
    matters.decide(db, matter_id=child.id, action="admit", actor=o.county_leader)
    rows, _ = matters.list_matters(db, actor=o.county_officer)
    assert [m.id for m in rows] == [child.id]  # the county sees its own, not the city's list
    tree = matters.tree([upper, child])
    assert [(m.id, depth) for m, depth in tree] == [(upper.id, 0), (child.id, 1)]


def test_the_three_lists_must_be_whole_before_completion(db: Session, offices: Offices) -> None:
    o = offices
    matter = listed(db, o)
    with pytest.raises(Invalid) as restaurant:
        matters.add_problem(db, matter_id=matter.id, data=ProblemIn(
            unit_uscc=o.restaurant.uscc, text="问题", found_on=TODAY), actor=o.city_officer)
    assert restaurant.value.field == "unit_uscc"
    problem = matters.add_problem(db, matter_id=matter.id, data=ProblemIn(
        unit_uscc=o.units[1].uscc, text="老旧小区改造进度滞后", found_on=TODAY), actor=o.city_officer)
    with pytest.raises(Invalid) as incomplete:
        matters.decide(db, matter_id=matter.id, action="complete", actor=o.city_officer)
    fields = {incomplete.value.field, *(p.field for p in incomplete.value.others)}
    assert fields == {"responsibilities", "tasks"}
    matters.add_responsibility(db, problem_id=problem.id, data=ResponsibilityIn(
        unit_uscc=o.units[1].uscc, person="赵局长"), actor=o.city_officer)
    with pytest.raises(Invalid) as late:
        matters.add_task(db, problem_id=problem.id, data=TaskIn(
            unit_uscc=o.units[1].uscc, owner="钱科长", measures="倒排工期", due_on=dt.date(2026, 10, 8)),
            actor=o.city_officer)
    assert late.value.field == "due_on"
    task = matters.add_task(db, problem_id=problem.id, data=TaskIn(
        unit_uscc=o.units[1].uscc, owner="钱科长", measures="倒排工期，每周调度", due_on=dt.date(2026, 8, 31)),
        actor=o.city_officer)
    assert task.state == "open" and task.due_date == dt.date(2026, 8, 31)
    with pytest.raises(Invalid) as no_evidence:
        matters.decide_task(db, task_id=task.id, action="submit", actor=o.city_officer)
    assert no_evidence.value.field == "evidence"
    with pytest.raises(NotFound):  # another unit's account does not even see this task
        matters.attach(db, task_id=task.id, stream=io.BytesIO(PNG), filename="x.png", content_type="image/png",
                       actor=o.unit_user)
    matters.attach(db, task_id=task.id, stream=io.BytesIO(PNG), filename="进度表.png", content_type="image/png",
                   actor=o.city_officer)
    matters.decide_task(db, task_id=task.id, action="submit", actor=o.city_officer)
    with pytest.raises(Invalid) as not_accepted:
        matters.decide(db, matter_id=matter.id, action="complete", actor=o.city_officer)
    assert not_accepted.value.field == "tasks"
    matters.decide_task(db, task_id=task.id, action="accept", actor=o.city_officer)
    assert task.state == "accepted" and task.accepted_on == TODAY
    matters.decide(db, matter_id=matter.id, action="complete", actor=o.city_officer)
    assert matter.state == "completed" and matter.completed_on == TODAY


def test_the_unit_rectifies_through_its_own_account_and_two_rejections_escalate(db: Session, offices: Offices) -> None:
    o = offices
    matter = listed(db, o)
    task = with_task(db, o, matter)
    assert [t.id for t in matters.unit_tasks(db, actor=o.unit_user)] == [task.id]
    for round_ in range(2):
        matters.attach(db, task_id=task.id, stream=io.BytesIO(PNG + bytes([round_])), filename="证明.png",
                       content_type="image/png", actor=o.unit_user)
        matters.decide_task(db, task_id=task.id, action="submit", actor=o.unit_user)
        with pytest.raises(Forbidden):  # the unit does not accept its own rectification
            matters.decide_task(db, task_id=task.id, action="accept", actor=o.unit_user)
        matters.decide_task(db, task_id=task.id, action="reject", comment="线上办理率仍未达标", actor=o.city_officer)
    assert task.rejections == 2 and task.escalation_level == 2
    told = db.scalars(select(Notification.user_id).where(Notification.kind == "matter.escalated")).all()
    assert o.city_leader.id in told and o.unit_user.id in told and o.city_officer.id not in told


def test_what_is_not_done_goes_to_a_second_round(db: Session, offices: Offices) -> None:
    o = offices
    matter = listed(db, o)
    finished, left = with_task(db, o, matter), with_task(db, o, matter, due=dt.date(2026, 8, 15))
    done(db, o, finished)
    with pytest.raises(Invalid) as no_date:
        matters.decide(db, matter_id=matter.id, action="follow_up", comment="未完成", actor=o.city_officer)
    assert no_date.value.field == "due_on"
    with pytest.raises(Invalid) as no_reason:
        matters.decide(db, matter_id=matter.id, action="follow_up", due_on=dt.date(2026, 11, 30), actor=o.city_officer)
    assert no_reason.value.field == "comment" and matter.state == "supervising"
    matters.decide(db, matter_id=matter.id, action="follow_up", comment="8月底前未完成的再督查",
                   due_on=dt.date(2026, 11, 30), actor=o.city_officer)
    assert matter.state == "followed_up"
    second = db.scalars(select(SupervisionMatter).where(SupervisionMatter.previous_id == matter.id)).one()
    assert (second.round, second.state, second.code) == (2, "supervising", f"{matter.code}-R2")
    assert len(second.problems) == 1 and second.problems[0].origin_problem_id == left.problem_id
    carried = second.problems[0].tasks
    assert [(t.state, t.due_on, t.measures) for t in carried] == [("open", dt.date(2026, 11, 30), left.measures)]
    assert second.problems[0].responsibilities[0].person == "王局长"


def test_accountability_is_recorded_against_the_unit_and_the_problem(db: Session, offices: Offices) -> None:
    o = offices
    matter = listed(db, o)
    task = with_task(db, o, matter)
    with pytest.raises(Invalid) as measure:
        matters.add_accountability(db, matter_id=matter.id, data=AccountabilityIn(
            unit_uscc=o.units[0].uscc, measure="开除", reason="推进不力", decided_on=TODAY), actor=o.city_leader)
    assert measure.value.field == "measure"
    row = matters.add_accountability(db, matter_id=matter.id, data=AccountabilityIn(
        unit_uscc=o.units[0].uscc, problem_id=task.problem_id, person="王局长", measure="约谈",
        reason="推进不力，进度滞后", decided_on=TODAY, decided_by="杭州市人民政府"), actor=o.city_leader)
    assert row.measure == "interview" and row.unit_id == o.units[0].id
    assert matters.figures(db, actor=o.city_leader, year=2026, today=TODAY)["accountabilities"] == 1


def test_the_rates_count_what_fell_due_against_the_95_percent_targets(db: Session, offices: Offices) -> None:
    o = offices
    on_time = listed(db, o, due_on=dt.date(2026, 6, 30))
    done(db, o, with_task(db, o, on_time, due=dt.date(2026, 6, 20)))
    matters.decide(db, matter_id=on_time.id, action="complete", actor=o.city_officer)  # 1 June
    late = listed(db, o, due_on=dt.date(2026, 6, 30))
    late_task = with_task(db, o, late, due=dt.date(2026, 6, 10))
    followed = listed(db, o, due_on=dt.date(2026, 6, 30))
    with_task(db, o, followed, due=dt.date(2026, 6, 15))
    gone = listed(db, o, due_on=dt.date(2026, 6, 30))
    matters.decide(db, matter_id=gone.id, action="exit", comment="不再列入", actor=o.city_leader)
    listed(db, o, due_on=dt.date(2026, 11, 30))  # not due yet on 1 July
    july = dt.date(2026, 7, 1)
    import jianguan.inspections.visits as v

    v.today_shanghai = lambda: july  # type: ignore[assignment]  # undone by the autouse fixture
    done(db, o, late_task)
    matters.decide(db, matter_id=late.id, action="complete", actor=o.city_officer)
    matters.decide(db, matter_id=followed.id, action="follow_up", comment="再督查", due_on=dt.date(2026, 9, 30),
                   actor=o.city_officer)
    got = matters.figures(db, actor=o.city_leader, year=2026, today=july)
    assert got["implementation"] == {"done": 1, "due": 3, "percent": 33.3, "target": 95, "meets_target": False}
    # tasks due by 1 July: on time (accepted 1 June ≤ 20 June), late (accepted 1 July > 10 June), the followed-up
    # one (never accepted); the carried copy is due 30 September.
    assert got["acceptance"] == {"done": 1, "due": 3, "percent": 33.3, "target": 95, "meets_target": False}
    assert got["by_level"]["city"]["due"] == 3 and got["by_level"]["county"]["due"] == 0
    assert matters.figures(db, actor=o.county_leader, year=2026, today=july)["implementation"]["due"] == 0
