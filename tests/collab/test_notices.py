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
    assert "complaint.assigned" in kinds_of(db, world.leader.id)
    assert kinds_of(db, world.author.id) == []  # officers take them from the queue
    bj_leader = auth.create_user(db, username="bj_leader", display_name="滨江领导", password=PASSWORD,
                                 roles=["leader"], agency_id=world.binjiang.id, actor=None)
    service.act(db, complaint_id=made.id, action="transfer", comment="属滨江区辖区",
                payload={"agency_id": str(world.binjiang.id)}, actor=world.author)
    assert kinds_of(db, bj_leader.id) == ["complaint.transferred"] and kinds_of(db, world.outsider.id) == []


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


def test_response_times_in_working_days(db: Session, world: World) -> None:
    import datetime as dt

    from jianguan.collab import figures

    on_time, late, waiting = (service.receive(db, data=complaint(), channel="web")[0] for _ in range(3))
    for record in (on_time, late, waiting):
        record.received_on = dt.date(2026, 12, 8)  # a Tuesday
    on_time.accepted_on = dt.date(2026, 12, 10)  # 2 working days
    late.accepted_on = dt.date(2026, 12, 21)  # 9 working days: past the 7
    on_time.replied_at = dt.datetime(2026, 12, 11, 2, tzinfo=dt.UTC)  # 10:00 Shanghai, the next working day
    waiting.due_date = dt.date(2026, 12, 17)
    db.flush()
    out = figures.figures(db, actor=world.author, today=dt.date(2026, 12, 22))
    assert out["accept"] == {"count": 2, "median": 5.5, "p90": 9.0}
    assert out["accepted_in_time_pct"] == 50.0
    assert out["reply"]["count"] == 1 and out["reply"]["median"] == 1.0 and out["replied_in_time_pct"] == 100.0
    assert out["overdue_now"] >= 1 and out["total"] == 3
