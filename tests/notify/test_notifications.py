"""In-app notifications: sent to people, read in their own language, marked read by them only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.audit.models import AuditEntry
from jianguan.core.errors import NotFound
from jianguan.db import session_scope
from jianguan.notify import service
from tests.auth.conftest import TwoDistricts, make_two_districts, token_for


@pytest.fixture
def people(db: Session) -> TwoDistricts:
    return make_two_districts(db)


def test_send_creates_one_notification_per_distinct_user_and_one_audit_entry(
    db: Session, people: TwoDistricts
) -> None:
    notes = service.send(db, user_ids=[people.a_admin.id, people.b_admin.id, people.a_admin.id],
                         kind="test", title="请处理", body="正文", link="/x")
    assert sorted(n.user_id for n in notes) == sorted([people.a_admin.id, people.b_admin.id])
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "notify.send")).one()
    assert '"recipients": 2' in entry.detail


def test_sending_to_nobody_writes_nothing(db: Session, people: TwoDistricts) -> None:
    assert service.send(db, user_ids=[], kind="test", title="x") == []
    assert db.scalars(select(AuditEntry).where(AuditEntry.action == "notify.send")).first() is None


def test_unread_count_and_list_are_per_user_newest_first(db: Session, people: TwoDistricts) -> None:
    first = service.send(db, user_ids=[people.a_admin.id], kind="test", title="一")[0]
    second = service.send(db, user_ids=[people.a_admin.id], kind="test", title="二")[0]
    service.send(db, user_ids=[people.b_admin.id], kind="test", title="别人的")
    assert service.unread_count(db, people.a_admin) == 2
    rows, total = service.list_for(db, people.a_admin)
    assert total == 2 and [r.id for r in rows] == [second.id, first.id]
    service.mark_read(db, notification_id=first.id, actor=people.a_admin)
    assert service.unread_count(db, people.a_admin) == 1
    unread, total = service.list_for(db, people.a_admin, unread_only=True)
    assert [r.id for r in unread] == [second.id] and total == 1


def test_someone_elses_notification_cannot_be_marked_read(db: Session, people: TwoDistricts) -> None:
    note = service.send(db, user_ids=[people.a_admin.id], kind="test", title="x")[0]
    with pytest.raises(NotFound):
        service.mark_read(db, notification_id=note.id, actor=people.b_admin)
    assert note.read_at is None


def test_marking_read_twice_keeps_the_first_time(db: Session, people: TwoDistricts) -> None:
    note = service.send(db, user_ids=[people.a_admin.id], kind="test", title="x")[0]
    when = service.mark_read(db, notification_id=note.id, actor=people.a_admin).read_at
    assert service.mark_read(db, notification_id=note.id, actor=people.a_admin).read_at == when


def test_titles_are_shown_in_the_readers_language(db: Session, people: TwoDistricts) -> None:
    note = service.send(
        db, user_ids=[people.a_admin.id], kind="workflow.escalation", title="{level_label}: {subject}",
        body="{workflow_label} was due on {due_date} and is overdue. Please deal with it.",
        params={"level_label": "Supervised (督办)", "subject": "张伟 (zhang.wei)",
                "workflow_label": "Account request", "due_date": "2026-10-10"},
    )[0]
    assert service.localize(note, "en") == (
        "Supervised (督办): 张伟 (zhang.wei)",
        "Account request was due on 2026-10-10 and is overdue. Please deal with it.")
    title, body = service.localize(note, "zh_CN")
    assert title == "督办：张伟 (zhang.wei)"
    assert body.startswith("账号申请") and "2026-10-10" in body


# --------------------------------------------------------------------------- API


@pytest.fixture
def committed(fresh_db_url: str) -> TwoDistricts:
    with session_scope() as db:
        return make_two_districts(db)


@pytest.fixture
def client(fresh_db_url: str) -> Iterator[TestClient]:
    from jianguan.app import create_app

    with TestClient(create_app()) as c:
        yield c


def test_api_lists_own_notifications_and_marks_one_read(client: TestClient, committed: TwoDistricts) -> None:
    with session_scope() as db:
        mine = service.send(db, user_ids=[committed.a_admin.id], kind="test", title="请审核", link="/a")[0].id
        service.send(db, user_ids=[committed.b_admin.id], kind="test", title="别人的")
    headers = token_for("a_admin")
    body = client.get("/api/v1/notify/notifications", headers=headers).json()
    assert (body["total"], body["unread"]) == (1, 1)
    items = [(n["id"], n["title"], n["link"], n["read_at"]) for n in body["items"]]
    assert items == [(mine, "请审核", "/a", None)]
    response = client.post(f"/api/v1/notify/notifications/{mine}/read", headers=headers)
    assert response.status_code == 200 and response.json()["read_at"] is not None
    assert client.get("/api/v1/notify/notifications", headers=headers).json()["unread"] == 0


def test_api_refuses_anonymous_readers_and_hides_others_notifications(
    client: TestClient, committed: TwoDistricts
) -> None:
    with session_scope() as db:
        theirs = service.send(db, user_ids=[committed.b_admin.id], kind="test", title="x")[0].id
    assert client.get("/api/v1/notify/notifications").status_code == 401
    response = client.post(f"/api/v1/notify/notifications/{theirs}/read", headers=token_for("a_admin"))
    assert response.status_code == 404


def test_api_marks_all_read(client: TestClient, committed: TwoDistricts) -> None:
    with session_scope() as db:
        service.send(db, user_ids=[committed.a_admin.id], kind="test", title="一")
        service.send(db, user_ids=[committed.a_admin.id], kind="test", title="二")
    headers = token_for("a_admin")
    assert client.post("/api/v1/notify/notifications/read-all", headers=headers).json() == {"marked": 2}
    assert client.get("/api/v1/notify/notifications", headers=headers).json()["unread"] == 0
