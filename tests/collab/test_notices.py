"""Who hears of new work: the agency a complaint is routed or transferred to, and each officer a draw
puts on an inspection team (once per plan, with how many)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jianguan.auth import service as auth
from jianguan.collab import service
from jianguan.inspections import draws
from jianguan.inspections import service as inspections
from jianguan.inspections.models import Inspection, InspectionOfficer
from jianguan.notify.models import Notification
from jianguan.officers import roster
from tests.auth.conftest import PASSWORD
from tests.collab.test_complaints import complaint
from tests.inspections.conftest import DAY, World, plan_data


def kinds_of(db: Session, user_id: int) -> list[str]:
    return list(db.scalars(select(Notification.kind).where(Notification.user_id == user_id)
                           .order_by(Notification.id)))


def test_the_agency_hears_of_a_complaint_routed_or_transferred_to_it(db: Session, world: World) -> None:
    made, _ = service.receive(db, data=complaint(), channel="web")
    assert "complaint.assigned" in kinds_of(db, world.author.id)
    assert kinds_of(db, world.outsider.id) == []
    service.act(db, complaint_id=made.id, action="transfer", comment="属滨江区辖区",
                payload={"agency_id": str(world.binjiang.id)}, actor=world.author)
    assert kinds_of(db, world.outsider.id) == ["complaint.transferred"]


def test_each_officer_on_a_drawn_team_hears_once_how_many(db: Session, world: World,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    accounts = {}
    for i, officer in enumerate(world.officers):
        user = auth.create_user(db, username=f"zf{i:02d}", display_name=officer.name, password=PASSWORD,
                                roles=["officer"], agency_id=world.xihu.id, actor=None)
        roster.update_officer(db, officer_id=officer.id, user_id=user.id, version=officer.version, actor=None)
        accounts[officer.id] = user.id
    plan = inspections.create_plan(db, data=plan_data(), actor=world.author)
    inspections.decide(db, plan_id=plan.id, action="submit", actor=world.author)
    inspections.decide(db, plan_id=plan.id, action="approve", actor=world.leader)
    draws.run_draw(db, plan_id=plan.id, seed="notices", on=DAY, actor=world.author)
    inspections.decide(db, plan_id=plan.id, action="begin", actor=world.leader)
    notes = list(db.scalars(select(Notification).where(Notification.kind == "inspection.assigned")))
    assert notes and len({n.user_id for n in notes}) == len(notes)  # one each
    assert {n.user_id for n in notes} <= set(accounts.values())
    seats = db.scalar(select(func.count()).select_from(InspectionOfficer).join(Inspection)
                      .where(Inspection.plan_id == plan.id, InspectionOfficer.officer_id.is_not(None)))
    assert sum(int(n.params["count"]) for n in notes) == seats  # every seat on a team told, once
    assert all(n.params["plan"] == plan.code for n in notes)
