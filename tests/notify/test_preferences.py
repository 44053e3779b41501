"""Who gets what by which channel: the kinds.yaml defaults, each person's choices, mandatory kinds,
and addresses that are missing (skipped, never an error)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.core.errors import Forbidden, Invalid
from jianguan.notify import kinds, preferences, service
from jianguan.notify.kinds import Channels
from jianguan.notify.models import Notification, NotificationPreference, OutboxMessage
from tests.auth.conftest import TwoDistricts, make_two_districts


@pytest.fixture
def people(db: Session) -> TwoDistricts:
    world = make_two_districts(db)
    world.a_officer.email = "wang.jg@xh.example.gov.cn"  # a_officer also has a phone on file
    world.b_officer.email = "li.na@bj.example.gov.cn"
    db.flush()
    return world


def outbox_of(db: Session, user_id: int) -> list[tuple[str, str]]:
    rows = db.scalars(select(OutboxMessage).where(OutboxMessage.user_id == user_id).order_by(OutboxMessage.id))
    return [(r.channel, r.address) for r in rows]


ESCALATION = {"kind": "workflow.escalation", "title": "{level_label}: {subject}",
              "body": "{workflow_label} was due on {due_date} and is overdue. Please deal with it.",
              "params": {"level_label": "Supervised (督办)", "subject": "西湖面馆", "workflow_label": "Account request",
                         "due_date": "2026-10-10"}}


def test_the_shipped_kinds_file_is_valid_and_every_entry_has_a_label() -> None:
    table = kinds.table()
    assert table.entries[-1].key == kinds.OTHER
    assert all(e.key in kinds.LABELS for e in table.entries), "add a label in notify/kinds.py"
    assert table.entry_for("workflow.escalation").mandatory
    assert table.entry_for("finding.escalated").mandatory and table.entry_for("matter.escalated").mandatory
    assert table.entry_for("complaint.transferred").default.email
    assert table.entry_for("something.new") is table.entries[-1]


def test_a_broken_kinds_file_names_the_file_and_the_field() -> None:
    with pytest.raises(ValueError, match=r"kinds.yaml: kinds\[0\].emial: Extra inputs"):
        kinds.parse("defaults: {in_app: true}\nkinds:\n  - kind: x.y\n    emial: true\n")


def test_escalations_go_by_email_by_default_to_whoever_has_an_address(db: Session, people: TwoDistricts) -> None:
    service.send(db, user_ids=[people.a_officer.id, people.a_admin.id], **ESCALATION)
    assert outbox_of(db, people.a_officer.id) == [("email", "wang.jg@xh.example.gov.cn")]
    assert outbox_of(db, people.a_admin.id) == []  # no address: skipped, and the send still succeeds
    assert len(db.scalars(select(Notification).where(Notification.kind == "workflow.escalation")).all()) == 2


def test_other_kinds_stay_in_the_app_by_default(db: Session, people: TwoDistricts) -> None:
    notes = service.send(db, user_ids=[people.a_officer.id], kind="inspection_plan.filed", title="计划已报备")
    assert len(notes) == 1 and outbox_of(db, people.a_officer.id) == []


def test_the_email_is_rendered_in_the_recipients_language_at_send_time(db: Session, people: TwoDistricts) -> None:
    people.b_officer.locale = "en"
    service.send(db, user_ids=[people.a_officer.id, people.b_officer.id], link="/account-requests/7", **ESCALATION)
    zh = db.scalars(select(OutboxMessage).where(OutboxMessage.user_id == people.a_officer.id)).one()
    en = db.scalars(select(OutboxMessage).where(OutboxMessage.user_id == people.b_officer.id)).one()
    assert zh.subject == "【互联网+监管平台】督办：西湖面馆"
    assert zh.body.startswith("账号申请") and "2026-10-10" in zh.body
    assert "http://127.0.0.1:8000/account-requests/7" in zh.body and "请勿回复" in zh.body
    assert en.subject == "[Supervision platform] Supervised (督办): 西湖面馆"
    assert en.body.startswith("Account request was due on 2026-10-10")


def test_a_person_turns_on_sms_and_off_email_for_a_kind(db: Session, people: TwoDistricts) -> None:
    preferences.save(db, user=people.a_officer, actor=people.a_officer,
                     choices={"workflow.escalation": Channels(in_app=True, email=False, sms=True)})
    service.send(db, user_ids=[people.a_officer.id], **ESCALATION)
    assert outbox_of(db, people.a_officer.id) == [("sms", "13800138000")]


def test_sms_without_a_phone_is_skipped(db: Session, people: TwoDistricts) -> None:
    preferences.save(db, user=people.a_admin, actor=people.a_admin,
                     choices={"*": Channels(in_app=True, email=True, sms=True)})
    assert service.send(db, user_ids=[people.a_admin.id], kind="test.any", title="x")
    assert outbox_of(db, people.a_admin.id) == []  # neither an e-mail nor a phone on file


def test_a_choice_for_all_other_kinds_does_not_override_a_kinds_own_default(db: Session, people: TwoDistricts) -> None:
    preferences.save(db, user=people.a_officer, actor=people.a_officer,
                     choices={"*": Channels(in_app=True, email=False, sms=False)})
    service.send(db, user_ids=[people.a_officer.id], kind="complaint.transferred", title="转办")
    assert outbox_of(db, people.a_officer.id) == [("email", "wang.jg@xh.example.gov.cn")]
    preferences.save(db, user=people.a_officer, actor=people.a_officer,
                     choices={"*": Channels(in_app=True, email=True, sms=False)})
    service.send(db, user_ids=[people.a_officer.id], kind="inspection_plan.filed", title="报备")
    assert outbox_of(db, people.a_officer.id) == [("email", "wang.jg@xh.example.gov.cn")]  # the entry wins
    service.send(db, user_ids=[people.a_officer.id], kind="test.unlisted", title="其他")
    assert len(outbox_of(db, people.a_officer.id)) == 2


def test_a_kind_turned_off_in_the_app_is_not_shown_but_still_mailed(db: Session, people: TwoDistricts) -> None:
    preferences.save(db, user=people.a_officer, actor=people.a_officer,
                     choices={"*.transferred": Channels(in_app=False, email=True, sms=False)})
    notes = service.send(db, user_ids=[people.a_officer.id], kind="complaint.transferred", title="转办：投诉 1 件")
    assert notes == []
    row = db.scalars(select(OutboxMessage).where(OutboxMessage.user_id == people.a_officer.id)).one()
    assert row.notification_id is None and row.subject.endswith("转办：投诉 1 件")


def test_mandatory_kinds_cannot_leave_the_app(db: Session, people: TwoDistricts) -> None:
    with pytest.raises(Invalid):
        preferences.save(db, user=people.a_officer, actor=people.a_officer,
                         choices={"workflow.escalation": Channels(in_app=False, email=True)})
    # even a row written behind the service's back does not hide a 督办
    db.add(NotificationPreference(user_id=people.a_officer.id, kind="finding.escalated", in_app=False, email=False,
                                  sms=False))
    db.flush()
    notes = service.send(db, user_ids=[people.a_officer.id], kind="finding.escalated", title="督办：问题 F-1")
    assert len(notes) == 1


def test_choosing_the_default_again_removes_the_stored_row(db: Session, people: TwoDistricts) -> None:
    user = people.a_officer
    preferences.save(db, user=user, actor=user, choices={"*.overdue": Channels(True, False, False)})
    assert db.scalars(select(NotificationPreference).where(NotificationPreference.user_id == user.id)).all()
    settings = preferences.save(db, user=user, actor=user, choices={"*.overdue": Channels(True, True, False)})
    assert not db.scalars(select(NotificationPreference).where(NotificationPreference.user_id == user.id)).all()
    assert not any(s.customised for s in settings)


def test_nobody_else_may_change_a_persons_preferences_but_a_system_admin(db: Session, people: TwoDistricts) -> None:
    with pytest.raises(Forbidden):
        preferences.save(db, user=people.a_officer, actor=people.a_admin, choices={"*": Channels()})
    preferences.save(db, user=people.a_officer, actor=people.admin, choices={"*": Channels(True, True, False)})


def test_inactive_accounts_get_no_mail(db: Session, people: TwoDistricts) -> None:
    people.a_officer.is_active = False
    db.flush()
    service.send(db, user_ids=[people.a_officer.id], **ESCALATION)
    assert outbox_of(db, people.a_officer.id) == []


def test_own_email_is_checked_trimmed_and_removable(db: Session, people: TwoDistricts) -> None:
    user = people.a_admin
    preferences.set_email(db, user=user, email="  zhang.wei@xh.example.gov.cn ", actor=user)
    assert user.email == "zhang.wei@xh.example.gov.cn"
    with pytest.raises(Invalid) as refused:
        preferences.set_email(db, user=user, email="zhang.wei at xh", actor=user)
    assert refused.value.field == "email"
    preferences.set_email(db, user=user, email="", actor=user)
    assert user.email is None


def test_one_send_to_many_people_reads_preferences_and_addresses_in_a_few_queries(
    db: Session, people: TwoDistricts
) -> None:
    from sqlalchemy import event

    statements: list[str] = []
    engine = db.get_bind()
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        ids = [people.a_officer.id, people.b_officer.id, people.a_admin.id, people.b_admin.id, people.city_leader.id]
        service.send(db, user_ids=ids, **ESCALATION)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) <= 4, selects  # preferences, addresses, and the audit head
