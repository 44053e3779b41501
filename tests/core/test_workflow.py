"""The workflow engine: declared loops, transitions, deadlines, events, and the overdue scan.

A toy review loop runs on account-request rows: the engine works for any mapped class.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jianguan.audit.models import AuditEntry
from jianguan.auth import service as users
from jianguan.auth.models import AccountRequest, User
from jianguan.core import workflow
from jianguan.core.errors import Forbidden, IllegalTransition, Invalid
from jianguan.core.models import WorkflowEvent
from jianguan.core.workflow import SYSTEM, Context, Deadline, Escalation, T, Workflow
from jianguan.notify.models import Notification
from jianguan.officers import service as agencies
from jianguan.officers.models import Agency

SHANGHAI = ZoneInfo("Asia/Shanghai")
PASSWORD = "Passw0rd-2026"


def at(y: int, m: int, d: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(y, m, d, hour, tzinfo=SHANGHAI).astimezone(dt.UTC)


def needs_comment(ctx: Context) -> None:
    if not ctx.comment:
        raise Invalid("comment", "A comment is needed.")


def toy_recipients(db: Session, record: AccountRequest, esc: Escalation) -> list[int]:
    names = ["leader"] if esc.level < 2 else ["leader", "boss"]
    return list(db.scalars(select(User.id).where(User.username.in_(names))))


TOY = Workflow(
    "test.review",
    model=AccountRequest,
    label="Toy review",
    states=("draft", "review", "done", "cancelled"),
    transitions=[
        T("send", "draft", "review", roles={"officer"}),
        T("finish", "review", "done", roles={"leader"}, guard=needs_comment),
        T("cancel", ("draft", "review"), "cancelled", roles={"officer", "leader"}),
        T("reopen", "cancelled", "draft", roles={SYSTEM}),
    ],
    deadlines=[Deadline("review", working_days=5), Deadline("draft", days=15, escalate=[])],
    recipients=toy_recipients,
    subject=lambda r: r.username,
)


@dataclass
class World:
    agency: Agency
    officer: User
    leader: User
    boss: User
    sysadmin: User


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch) -> Iterator[Workflow]:
    monkeypatch.setitem(workflow._REGISTRY, TOY.name, TOY)
    yield TOY


@pytest.fixture
def world(db: Session, toy: Workflow) -> World:
    agency = agencies.create_agency(db, code="330106-SJ", name="西湖区市场监督管理局", region_code="330106",
                                    actor=None)

    def user(name: str, roles: list[str]) -> User:
        return users.create_user(db, username=name, display_name=name, password=PASSWORD, roles=roles,
                                 agency_id=agency.id, actor=None)

    return World(agency, user("officer", ["officer"]), user("leader", ["leader"]), user("boss", ["leader"]),
                 user("sysadmin", ["system_admin"]))


def clock(monkeypatch: pytest.MonkeyPatch, when: dt.datetime) -> None:
    monkeypatch.setattr(workflow, "utcnow", lambda: when)


def new_record(db: Session, world: World, name: str = "zhang.wei") -> AccountRequest:
    record = AccountRequest(username=name, display_name="张伟", agency_id=world.agency.id,
                            region_code="330106", password_hash="-")
    workflow.start(db, record, workflow=TOY, actor=world.officer)
    return record


def events(db: Session, record: AccountRequest) -> list[tuple[str, str | None, str]]:
    return [(e.action, e.from_state, e.to_state) for e in workflow.history(db, record)]


# --------------------------------------------------------------------------- declaration


def test_declaration_refuses_unknown_states() -> None:
    with pytest.raises(ValueError, match="unknown states"):
        Workflow("bad", states=("a", "b"), transitions=[T("go", "a", "c")])


def test_declaration_refuses_the_same_action_twice_from_one_state() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        Workflow("bad", states=("a", "b"), transitions=[T("go", "a", "b"), T("go", ("a", "b"), "a")])


def test_deadline_takes_working_days_or_calendar_days_not_both() -> None:
    with pytest.raises(ValueError):
        Deadline("a", working_days=3, days=3)
    with pytest.raises(ValueError):
        Deadline("a")


def test_the_laws_short_periods_cannot_be_declared_as_calendar_days() -> None:
    with pytest.raises(ValueError, match="working days"):
        Deadline("a", days=5)
    assert Deadline("a", days=15).days == 15


def test_escalation_ladder_may_be_named_by_level_names() -> None:
    ladder = Deadline("a", working_days=5, escalate=["notify", "督办"]).ladder
    assert [(e.level, e.name, e.after_working_days) for e in ladder] == [(1, "notify", 0), (2, "督办", 3)]


def test_escalation_thresholds_must_not_fall_as_levels_rise() -> None:
    with pytest.raises(ValueError):
        Deadline("a", working_days=5, escalate=[Escalation(1, "x", 5), Escalation(2, "y", 1)])


# --------------------------------------------------------------------------- acting


def test_start_puts_record_in_initial_state_with_event_and_audit(db: Session, world: World) -> None:
    record = new_record(db, world)
    assert (record.workflow, record.state, record.escalation_level) == ("test.review", "draft", 0)
    assert events(db, record) == [("start", None, "draft")]
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "test.review.start")).one()
    assert (entry.object_type, entry.object_id, entry.actor_name) == ("account_requests", str(record.id),
                                                                      "officer")


def test_review_falls_due_five_working_days_after_sending_across_national_day(
    db: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = new_record(db, world)
    clock(monkeypatch, at(2026, 9, 28))
    event = workflow.act(db, record, action="send", actor=world.officer, comment="请审核")
    # 29, 30 Sep; 1–7 Oct holiday; 8, 9 Oct; 10 Oct is a working Saturday (domain-rules §2).
    assert record.due_date == dt.date(2026, 10, 10)
    assert record.due_unconfirmed is False
    assert record.state_since == at(2026, 9, 28)
    assert (event.from_state, event.to_state, event.comment, event.due_date) == (
        "draft", "review", "请审核", dt.date(2026, 10, 10))
    assert event.actor_id == world.officer.id and len(event.payload_hash) == 64


def test_calendar_day_deadline_ending_in_a_holiday_rolls_to_the_next_working_day(
    db: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock(monkeypatch, at(2026, 9, 16))
    record = new_record(db, world)
    assert record.due_date == dt.date(2026, 10, 8)  # 16 Sep + 15 days = 1 Oct, a holiday (Art. 85)


def test_deadline_beyond_the_known_calendar_is_flagged_unconfirmed(
    db: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = new_record(db, world)
    clock(monkeypatch, at(2026, 12, 28))
    workflow.act(db, record, action="send", actor=world.officer)
    assert record.due_date is not None and record.due_date.year == 2027
    assert record.due_unconfirmed is True


def test_state_without_a_deadline_clears_the_due_date(db: Session, world: World) -> None:
    record = new_record(db, world)
    workflow.act(db, record, action="send", actor=world.officer)
    workflow.act(db, record, action="finish", actor=world.leader, comment="ok")
    assert (record.state, record.due_date) == ("done", None)


def test_illegal_action_is_refused_with_the_allowed_actions(db: Session, world: World) -> None:
    record = new_record(db, world)
    with pytest.raises(IllegalTransition) as caught:
        workflow.act(db, record, action="finish", actor=world.officer, comment="x")
    assert caught.value.http_status == 409
    assert caught.value.details == {"allowed_actions": ["send", "cancel"]}
    assert record.state == "draft"
    assert events(db, record) == [("start", None, "draft")]


def test_unknown_action_is_illegal_too(db: Session, world: World) -> None:
    record = new_record(db, world)
    with pytest.raises(IllegalTransition) as caught:
        workflow.act(db, record, action="teleport", actor=world.leader)
    assert caught.value.allowed == ["cancel"]  # what the leader may do in draft


def test_actor_without_the_role_is_forbidden_and_a_system_admin_may_act(db: Session, world: World) -> None:
    record = new_record(db, world)
    with pytest.raises(Forbidden):
        workflow.act(db, record, action="send", actor=world.leader)
    workflow.act(db, record, action="send", actor=world.sysadmin)
    assert record.state == "review"


def test_guard_refusal_leaves_the_record_untouched(db: Session, world: World) -> None:
    record = new_record(db, world)
    workflow.act(db, record, action="send", actor=world.officer)
    version = record.version
    with pytest.raises(Invalid) as caught:
        workflow.act(db, record, action="finish", actor=world.leader)
    assert caught.value.field == "comment"
    assert (record.state, record.version) == ("review", version)


def test_system_transitions_need_the_system_and_refuse_people(db: Session, world: World) -> None:
    record = new_record(db, world)
    workflow.act(db, record, action="cancel", actor=world.officer)
    with pytest.raises(Forbidden):
        workflow.act(db, record, action="reopen", actor=None)  # the public is not the system
    for person in (world.leader, world.sysadmin):
        with pytest.raises(Forbidden):
            workflow.act(db, record, action="reopen", actor=person)
    event = workflow.act(db, record, action="reopen", actor=None, system=True)
    assert (record.state, event.actor_name, event.actor_id) == ("draft", "system", None)


def test_allowed_actions_depend_on_state_and_roles(db: Session, world: World) -> None:
    record = new_record(db, world)
    assert workflow.allowed_actions(record, world.officer) == ["send", "cancel"]
    assert workflow.allowed_actions(record, world.leader) == ["cancel"]
    assert workflow.allowed_actions(record, world.sysadmin) == ["send", "cancel"]
    assert workflow.allowed_actions(record, None) == []


def test_every_transition_is_audited_in_the_same_transaction(db: Session, world: World) -> None:
    before = db.scalar(select(func.count()).select_from(AuditEntry))
    record = new_record(db, world)
    workflow.act(db, record, action="send", actor=world.officer)
    workflow.act(db, record, action="finish", actor=world.leader, comment="好")
    actions = db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()[-3:]
    assert actions == ["test.review.start", "test.review.send", "test.review.finish"]
    assert db.scalar(select(func.count()).select_from(AuditEntry)) == (before or 0) + 3
    assert events(db, record) == [("start", None, "draft"), ("send", "draft", "review"),
                                  ("finish", "review", "done")]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(["send", "finish", "cancel", "reopen", "teleport"]), max_size=8))
def test_any_sequence_of_actions_keeps_state_and_history_consistent(
    db: Session, world: World, actions: list[str]
) -> None:
    record = new_record(db, world, name=f"p{abs(hash(tuple(actions))) % 10**9}")
    taken = 0
    for action in actions:
        before = record.state
        try:
            workflow.act(db, record, action=action, actor=None if action == "reopen" else world.sysadmin,
                         comment="c", system=action == "reopen")
            taken += 1
        except IllegalTransition as exc:
            assert record.state == before
            assert action not in exc.allowed
    history = workflow.history(db, record)
    assert len(history) == taken + 1
    assert record.state in TOY.states and history[-1].to_state == record.state
    for earlier, later in itertools.pairwise(history):
        assert later.from_state == earlier.to_state  # each step starts where the last one ended


# --------------------------------------------------------------------------- overdue scan


def in_review(
    db: Session, world: World, monkeypatch: pytest.MonkeyPatch, name: str = "zhang.wei"
) -> AccountRequest:
    record = new_record(db, world, name)
    clock(monkeypatch, at(2026, 9, 28))
    workflow.act(db, record, action="send", actor=world.officer)
    assert record.due_date == dt.date(2026, 10, 10)
    return record


def levels(found: list[workflow.Escalated]) -> list[tuple[int, str]]:
    return [(e.level, e.name) for e in found if e.workflow == "test.review"]


def test_overdue_scan_escalates_step_by_step_in_working_days(
    db: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = in_review(db, world, monkeypatch)
    assert levels(workflow.scan_overdue(db, today=dt.date(2026, 10, 10))) == []  # due today: not late
    assert levels(workflow.scan_overdue(db, today=dt.date(2026, 10, 11))) == [(1, "notify")]
    assert levels(workflow.scan_overdue(db, today=dt.date(2026, 10, 11))) == []  # idempotent
    # 督办 once 3 working days have passed after the due date: 12, 13, 14 Oct → from 15 Oct.
    assert levels(workflow.scan_overdue(db, today=dt.date(2026, 10, 14))) == []
    assert levels(workflow.scan_overdue(db, today=dt.date(2026, 10, 15))) == [(2, "督办")]
    # 挂牌督办 after 10 working days: 12–16 and 19–23 Oct → from 24 Oct.
    assert levels(workflow.scan_overdue(db, today=dt.date(2026, 10, 23))) == []
    assert levels(workflow.scan_overdue(db, today=dt.date(2026, 10, 24))) == [(3, "挂牌督办")]
    assert levels(workflow.scan_overdue(db, today=dt.date(2026, 12, 31))) == []
    assert record.escalation_level == 3
    escalations = [e for e in workflow.history(db, record) if e.action == "escalate"]
    assert [(e.comment, e.from_state, e.to_state, e.actor_name) for e in escalations] == [
        ("notify", "review", "review", "system"), ("督办", "review", "review", "system"),
        ("挂牌督办", "review", "review", "system")]


def test_a_late_scan_catches_up_through_every_level(db: Session, world: World,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    in_review(db, world, monkeypatch)
    assert levels(workflow.scan_overdue(db, today=dt.date(2026, 11, 2))) == [(1, "notify"), (2, "督办"),
                                                                             (3, "挂牌督办")]


def test_escalation_notifies_the_workflows_recipients(db: Session, world: World,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    record = in_review(db, world, monkeypatch)
    workflow.scan_overdue(db, today=dt.date(2026, 10, 11))
    notes = db.scalars(select(Notification).order_by(Notification.id)).all()
    assert [(n.user_id, n.kind, n.params["level_label"]) for n in notes] == [
        (world.leader.id, "workflow.escalation", "Overdue reminder")]
    assert notes[0].params["subject"] == record.username and notes[0].params["due_date"] == "2026-10-10"
    workflow.scan_overdue(db, today=dt.date(2026, 10, 15))
    second = db.scalars(select(Notification.user_id).where(Notification.id > notes[0].id)).all()
    assert sorted(second) == sorted([world.leader.id, world.boss.id])


def test_escalation_leaves_the_version_alone_so_open_forms_stay_valid(
    db: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = in_review(db, world, monkeypatch)
    version = record.version
    workflow.scan_overdue(db, today=dt.date(2026, 10, 30))
    db.refresh(record)
    assert (record.escalation_level, record.version) == (3, version)
    audit = db.scalars(select(AuditEntry.action).where(AuditEntry.object_id == str(record.id))).all()
    assert audit.count("test.review.escalate") == 3


def test_acting_on_an_escalated_record_starts_its_new_step_at_level_zero(
    db: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = in_review(db, world, monkeypatch)
    workflow.scan_overdue(db, today=dt.date(2026, 10, 15))
    assert record.escalation_level == 2
    workflow.act(db, record, action="cancel", actor=world.leader)
    assert (record.escalation_level, record.due_date) == (0, None)
    assert levels(workflow.scan_overdue(db, today=dt.date(2026, 12, 1))) == []


def test_states_without_an_escalation_ladder_are_never_escalated(
    db: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock(monkeypatch, at(2026, 9, 16))
    record = new_record(db, world)  # draft: 15 calendar days, no ladder
    assert levels(workflow.scan_overdue(db, today=dt.date(2026, 12, 1))) == []
    assert record.escalation_level == 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.dates(min_value=dt.date(2026, 10, 1), max_value=dt.date(2026, 12, 31)), min_size=1,
                max_size=5))
def test_scans_never_lower_a_level_and_a_repeat_scan_does_nothing(
    db: Session, world: World, monkeypatch: pytest.MonkeyPatch, days: list[dt.date]
) -> None:
    record = in_review(db, world, monkeypatch, name=f"s{abs(hash(tuple(days))) % 10**9}")
    level = 0
    for day in days:
        workflow.scan_overdue(db, today=day)
        assert record.escalation_level >= level
        level = record.escalation_level
        assert levels(workflow.scan_overdue(db, today=day)) == []
    escalations = db.scalar(select(func.count()).select_from(WorkflowEvent).where(
        WorkflowEvent.record_id == record.id, WorkflowEvent.action == "escalate"))
    assert escalations == level  # one event per level reached, never twice
