"""消息通知 page: my notifications newest first, unread highlighted, opened or marked read with CSRF."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from jianguan.db import session_scope
from jianguan.notify import service as notify
from jianguan.notify.models import Notification
from tests.web.conftest import People, csrf_from, sign_in


def send(user_id: int, title: str, link: str = "", **params: str) -> int:
    with session_scope() as db:
        return notify.send(db, user_ids=[user_id], kind="test", title=title, link=link, params=params)[0].id


def read_at(note_id: int) -> object:
    with session_scope() as db:
        return db.scalar(select(Notification.read_at).where(Notification.id == note_id))


def test_my_notifications_are_listed_newest_first_with_the_unread_highlighted(
    client: TestClient, people: People
) -> None:
    older = send(people.officer_id, "Overdue reminder", link="/account-requests/7")
    newer = send(people.officer_id, "{level_label}: {subject}", link="/account-requests/8",
                 level_label="Supervised (督办)", subject="张伟 (zhang.wei)")
    send(people.admin_id, "Not for the officer")
    sign_in(client, "wangjg")
    html = client.get("/notifications").text
    assert "<title>消息通知 · 监管</title>" in html
    assert html.index(f'id="note-{newer}"') < html.index(f'id="note-{older}"')
    assert "督办：张伟 (zhang.wei)" in html and "逾期提醒" in html  # translated for the reader
    assert "Not for the officer" not in html
    assert len(re.findall(r'class="note is-unread"', html)) == 2
    assert "2 条未读" in html
    assert 'class="bell" href="/notifications"' in html  # the bell in the header links here


def test_opening_a_notification_marks_it_read_and_goes_to_its_object(client: TestClient, people: People) -> None:
    note = send(people.officer_id, "Overdue reminder", link="/account-requests/7")
    sign_in(client, "wangjg")
    csrf = csrf_from(client.get("/notifications").text)
    response = client.post(f"/notifications/{note}/read", data={"csrf_token": csrf, "open": "1"})
    assert response.status_code == 303 and response.headers["location"] == "/account-requests/7"
    assert read_at(note) is not None
    html = client.get("/notifications").text
    assert 'class="note is-unread"' not in html and "已读" in html


def test_a_link_to_another_site_is_never_followed(client: TestClient, people: People) -> None:
    note = send(people.officer_id, "Overdue reminder", link="//evil.example/")
    sign_in(client, "wangjg")
    csrf = csrf_from(client.get("/notifications").text)
    response = client.post(f"/notifications/{note}/read", data={"csrf_token": csrf, "open": "1"})
    assert response.headers["location"] == "/notifications"


def test_mark_read_with_htmx_swaps_the_item_and_updates_the_bell(client: TestClient, people: People) -> None:
    first = send(people.officer_id, "Overdue reminder")
    send(people.officer_id, "Overdue reminder")
    sign_in(client, "wangjg")
    csrf = csrf_from(client.get("/notifications").text)
    response = client.post(f"/notifications/{first}/read", headers={"HX-Request": "true", "X-CSRF-Token": csrf})
    assert response.status_code == 200
    html = response.text
    assert "<html" not in html  # a fragment, not a page
    assert f'<li class="note" id="note-{first}">' in html
    assert re.search(r'<span class="bell-count" hx-swap-oob="outerHTML:\.bell \.bell-count">1</span>', html)
    assert '<span id="unread-summary" hx-swap-oob="true">1 条未读</span>' in html


def test_mark_all_read_clears_the_unread_count(client: TestClient, people: People) -> None:
    notes = [send(people.officer_id, "Overdue reminder") for _ in range(3)]
    sign_in(client, "wangjg")
    csrf = csrf_from(client.get("/notifications").text)
    response = client.post("/notifications/read-all", data={"csrf_token": csrf})
    assert response.status_code == 303 and response.headers["location"] == "/notifications"
    html = client.get("/notifications").text
    assert "已将 3 条通知标为已读。" in html and "全部已读" in html
    assert 'class="bell-count"' not in html
    assert all(read_at(n) is not None for n in notes)
    assert "没有未读通知。" in client.get("/notifications?unread=1").text


def test_marking_read_needs_the_csrf_token_and_ones_own_notification(client: TestClient, people: People) -> None:
    mine = send(people.officer_id, "Overdue reminder")
    theirs = send(people.admin_id, "Overdue reminder")
    sign_in(client, "wangjg")
    assert client.post(f"/notifications/{mine}/read", data={}).status_code == 403
    assert client.post("/notifications/read-all", data={}).status_code == 403
    assert read_at(mine) is None
    csrf = csrf_from(client.get("/notifications").text)
    assert client.post(f"/notifications/{theirs}/read", data={"csrf_token": csrf}).status_code == 404
    assert read_at(theirs) is None


def test_notifications_need_a_signed_in_user(client: TestClient) -> None:
    response = client.get("/notifications")
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/notifications"
