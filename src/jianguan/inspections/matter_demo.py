"""The demo's 督查: five government units of Xihu, one unit account (发改局), a city matter on the list,
handed down to Xihu with problems, responsibilities and tasks (one accepted), an accountability
measure and a 督查 visit. Loaded by ``inspections/demo.py``; idempotent."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.auth import service as auth
from jianguan.auth.models import User
from jianguan.documents import art
from jianguan.entities.models import Entity
from jianguan.entities.uscc import make_uscc
from jianguan.inspections import matters
from jianguan.inspections.models import SupervisionMatter
from jianguan.inspections.schemas import (
    AccountabilityIn,
    HandDownIn,
    MatterIn,
    ProblemIn,
    ResponsibilityIn,
    TaskIn,
    VisitIn,
)

UNITS = ("杭州市西湖区发展和改革局", "杭州市西湖区住房和城乡建设局", "杭州市西湖区数据资源管理局",
         "杭州市西湖区北山街道办事处", "杭州市西湖区翠苑街道办事处")
UNIT_LOGIN = ("xihu_fgj", "发改局联络员", "西湖区发展和改革局（政府部门账号，督查整改）")


def _units(db: Session) -> list[Entity]:
    out = []
    for i, name in enumerate(UNITS):
        uscc = make_uscc("1", "1", "330106", f"MB{i:05d}8")
        found = db.scalar(select(Entity).where(Entity.uscc == uscc))
        if found is None:
            found = Entity(uscc=uscc, name=name, kind="government_unit", status="active", region_code="330106",
                           address="杭州市西湖区")
            db.add(found)
        out.append(found)
    db.flush()
    return out


def load(db: Session, today: dt.date) -> dict[str, Any]:
    people = {u.username: u for u in db.scalars(select(User).where(User.username.in_(
        ["hz_du", "hz_du_leader", "xihu_du", "xihu_du_leader", UNIT_LOGIN[0]])))}
    if db.scalar(select(SupervisionMatter.id).limit(1)) is not None or "hz_du" not in people:
        return {"matters": 0}
    units = _units(db)
    if UNIT_LOGIN[0] not in people:
        from jianguan.auth.demo import DEMO_PASSWORD

        people[UNIT_LOGIN[0]] = auth.create_user(db, username=UNIT_LOGIN[0], display_name=UNIT_LOGIN[1],
                                                 password=DEMO_PASSWORD, roles=["entity_user"],
                                                 entity_id=units[0].id, actor=None)
    city, city_leader = people["hz_du"], people["hz_du_leader"]
    due = today + dt.timedelta(days=90)
    upper = matters.create_matter(db, data=MatterIn(
        title="优化营商环境“一件事”集成改革落实情况", level="provincial", source_ref="浙政办发〔2026〕12号",
        category="营商环境", due_on=due, description="省政府部署：企业开办、工程建设项目审批等“一件事”全流程网办。"),
        actor=city)
    matters.decide(db, matter_id=upper.id, action="admit", comment="纳入2026年市级督查清单", actor=city_leader)
    matters.decide(db, matter_id=upper.id, action="begin", actor=city)
    county = matters.hand_down(db, matter_id=upper.id, data=HandDownIn(
        agency_id=_below(db), due_on=today + dt.timedelta(days=75),
        title="西湖区企业开办和工程建设项目审批", unit_usccs=[u.uscc for u in units[:3]]), actor=city)
    matters.decide(db, matter_id=county.id, action="admit", comment="按市里要求纳入", actor=people["xihu_du_leader"])
    xihu = people["xihu_du"]
    matters.decide(db, matter_id=county.id, action="begin", actor=xihu)
    found_on = today - dt.timedelta(days=10)
    plan = [
        (units[0], "企业开办“一件事”线上办理率为61%，低于90%的目标", "李明", "分管副局长",
         "上线企业开办一网通办专区，窗口人员全员培训", 30),
        (units[1], "工程建设项目审批“多测合一”未落地，企业需重复提交测绘成果", "王强", "局长",
         "与规划资源部门共享测绘成果，取消重复提交", 45),
        (units[2], "政务数据共享接口响应超时，影响“一件事”联办", "陈静", "副局长", "扩容共享接口并建立超时告警", 20),
    ]
    tasks = []
    for unit, text, person, position, measures, days in plan:
        problem = matters.add_problem(db, matter_id=county.id, data=ProblemIn(
            unit_uscc=unit.uscc, text=text, found_on=found_on, source="实地督查"), actor=xihu)
        matters.add_responsibility(db, problem_id=problem.id, data=ResponsibilityIn(
            unit_uscc=unit.uscc, person=person, position=position), actor=xihu)
        tasks.append(matters.add_task(db, problem_id=problem.id, data=TaskIn(
            unit_uscc=unit.uscc, owner=person, measures=measures, due_on=today + dt.timedelta(days=days)), actor=xihu))
    matters.attach(db, task_id=tasks[2].id, stream=io.BytesIO(art.signature("接口扩容完成")), filename="扩容记录.png",
                   content_type="image/png", actor=xihu)
    matters.decide_task(db, task_id=tasks[2].id, action="submit", actor=xihu)
    matters.decide_task(db, task_id=tasks[2].id, action="accept", actor=xihu)
    matters.add_accountability(db, matter_id=county.id, data=AccountabilityIn(
        unit_uscc=units[1].uscc, person="王强", position="局长", measure="interview",
        reason="“多测合一”推进滞后，经督促仍未明确时间表", decided_on=today - dt.timedelta(days=3),
        decided_by="杭州市西湖区人民政府"), actor=xihu)
    for unit in units[3:]:
        matters.record_visit(db, matter_id=county.id, data=VisitIn(
            unit_uscc=unit.uscc, visited_on=today - dt.timedelta(days=5), on_site=True, hours="3.5",
            documents_demanded=6, note="实地督查“一件事”窗口"), actor=xihu)
    return {"matters": 2, "problems": len(plan)}


def _below(db: Session) -> int:
    from jianguan.officers.models import Agency

    found = db.scalar(select(Agency.id).where(Agency.code == "330106-DC"))
    assert found is not None
    return int(found)


def logins() -> list[tuple[str, str, str]]:
    from jianguan.auth.demo import DEMO_PASSWORD

    return [(UNIT_LOGIN[0], DEMO_PASSWORD, f"{UNIT_LOGIN[1]} · {UNIT_LOGIN[2]}")]
