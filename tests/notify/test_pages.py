"""The preferences page and API, the operator's outbox page and API, the admin's e-mail field, and
the `jianguan notify …` commands."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from jianguan.db import session_scope
from jianguan.notify import outbox, service
from jianguan.notify.models import NotificationPreference, OutboxMessage
from tests.auth.conftest import TwoDistricts, token_for
from tests.officers.test_pages import csrf_of, sign_in


def prefs_of(user_id: int) -> dict[str, tuple[bool, bool, bool]]:
    with session_scope() as db:
        rows = db.scalars(select(NotificationPreference).where(NotificationPreference.user_id == user_id))
        return {r.kind: (r.in_app, r.email, r.sms) for r in rows}


def dead_letter(user_id: int, error: str = "SMTPRecipientsRefused: 550 no such mailbox") -> int:
    with session_scope() as db:
        row = OutboxMessage(channel="email", user_id=user_id, kind="workflow.escalation",
                            address="nobody@xh.example.gov.cn", subject="【互联网+监管平台】督办：西湖面馆",
                            body="请处理。", status="dead", attempts=outbox.MAX_ATTEMPTS, last_error=error)
        db.add(row)
        db.flush()
        return row.id


def test_the_preferences_page_shows_every_kind_with_mandatory_ones_locked(
    client: TestClient, districts: TwoDistricts
) -> None:
    sign_in(client, "a_officer")
    assert 'href="/notifications/preferences"' in client.get("/notifications").text
    page = client.get("/notifications/preferences")
    assert page.status_code == 200
    text = page.text
    assert "通知设置" in text and "逾期提醒与督办、挂牌督办" in text and "其他所有通知" in text
    assert re.search(r'name="in_app" value="workflow.escalation" checked disabled', text)
    assert re.search(r'name="by_email" value="\*.transferred" checked', text)
    assert "138****8000" in text and "13800138000" not in text
    assert "本系统尚未配置邮件服务" in text
    assert 'href="/notifications/outbox"' not in text  # operators only


def test_saving_the_preferences_page_stores_only_what_differs_and_the_own_email(
    client: TestClient, districts: TwoDistricts
) -> None:
    csrf = sign_in(client, "a_officer")
    keys = ["workflow.escalation", "*.escalated", "*.overdue", "*.transferred", "*"]
    form = {"csrf_token": csrf, "email": " wang.jg@xh.example.gov.cn ", "kind": keys,
            "in_app": ["*.escalated", "*.overdue", "*"],  # the mandatory escalation box is disabled: not sent
            "by_email": ["workflow.escalation", "*.escalated", "*.overdue"],  # transfers by e-mail: off
            "by_sms": ["workflow.escalation"]}
    saved = client.post("/notifications/preferences", data=form, follow_redirects=False)
    assert saved.status_code == 303
    assert prefs_of(districts.a_officer.id) == {"workflow.escalation": (True, True, True),
                                                "*.transferred": (False, False, False)}
    with session_scope() as db:
        from jianguan.auth.models import User

        assert db.get(User, districts.a_officer.id).email == "wang.jg@xh.example.gov.cn"  # type: ignore[union-attr]
    assert "通知设置已保存" in client.get("/notifications/preferences").text


def test_a_bad_email_on_the_preferences_page_is_shown_next_to_the_field(
    client: TestClient, districts: TwoDistricts
) -> None:
    csrf = sign_in(client, "a_officer")
    response = client.post("/notifications/preferences", data={"csrf_token": csrf, "email": "wang at xh"})
    assert response.status_code == 422
    assert 'id="f-email-err"' in response.text and "name@example.gov.cn" in response.text
    assert 'value="wang at xh"' in response.text


def test_the_preferences_api_reads_and_changes_only_the_kinds_given(
    client: TestClient, districts: TwoDistricts
) -> None:
    headers = token_for("b_officer")
    got = client.get("/api/v1/notify/notifications/preferences", headers=headers).json()
    assert got["email"] is None and got["has_phone"] is True and got["email_configured"] is False
    escalation = next(k for k in got["kinds"] if k["kind"] == "workflow.escalation")
    assert escalation["mandatory"] and escalation["email"] and not escalation["customised"]
    put = client.put("/api/v1/notify/notifications/preferences", headers=headers,
                     json={"email": "li.na@bj.example.gov.cn", "kinds": {"complaint.assigned": {"email": True}}})
    assert put.status_code == 200, put.text
    body = put.json()
    assert body["email"] == "li.na@bj.example.gov.cn"
    assert {"kind": "complaint.assigned", "in_app": True, "email": True, "sms": False}.items() <= next(
        k for k in body["kinds"] if k["kind"] == "complaint.assigned").items()
    refused = client.put("/api/v1/notify/notifications/preferences", headers=headers,
                         json={"kinds": {"workflow.escalation": {"in_app": False}}})
    assert refused.status_code == 422 and refused.json()["error"]["details"][0]["field"] == "in_app"


def test_the_outbox_page_is_for_system_admins_and_requeues_dead_letters(
    client: TestClient, districts: TwoDistricts
) -> None:
    mid = dead_letter(districts.a_officer.id)
    sign_in(client, "a_admin")
    assert client.get("/notifications/outbox").status_code == 403
    client.cookies.clear()
    csrf = sign_in(client, "sysadmin")
    assert 'href="/notifications/outbox"' in client.get("/notifications").text
    page = client.get("/notifications/outbox")
    assert page.status_code == 200
    assert "通知发件箱" in page.text and "投递失败" in page.text
    assert "550 no such mailbox" in page.text and "n***@xh.example.gov.cn" in page.text
    assert "nobody@xh.example.gov.cn" not in page.text
    done = client.post(f"/notifications/outbox/{mid}/retry", data={"csrf_token": csrf, "status": "dead"},
                       follow_redirects=False)
    assert done.status_code == 303
    with session_scope() as db:
        row = db.get(OutboxMessage, mid)
        assert row is not None and (row.status, row.attempts) == ("pending", 0)
    assert "已重新排队" in client.get("/notifications/outbox?status=pending").text
    assert "督办：西湖面馆" in client.get("/notifications/outbox?status=pending").text


def test_requeueing_all_dead_letters_from_the_page(client: TestClient, districts: TwoDistricts) -> None:
    dead_letter(districts.a_officer.id)
    dead_letter(districts.b_officer.id)
    sign_in(client, "sysadmin")
    csrf = csrf_of(client)
    client.post("/notifications/outbox/retry-dead", data={"csrf_token": csrf}, follow_redirects=False)
    text = client.get("/notifications/outbox").text
    assert "已将 2 条投递失败的消息重新排队" in text and "没有投递失败的消息" in text


def test_the_outbox_api_is_for_system_admins(client: TestClient, districts: TwoDistricts) -> None:
    mid = dead_letter(districts.a_officer.id)
    assert client.get("/api/v1/notify/outbox", headers=token_for("a_admin")).status_code == 403
    headers = token_for("sysadmin")
    body = client.get("/api/v1/notify/outbox", headers=headers, params={"status": "dead"}).json()
    assert body["totals"]["dead"] == 1 and body["items"][0]["to"] == "n***@xh.example.gov.cn"
    assert client.post(f"/api/v1/notify/outbox/{mid}/retry", headers=headers).json() == {"requeued": 1}
    assert client.post(f"/api/v1/notify/outbox/{mid}/retry", headers=headers).status_code == 409


def test_an_admin_sets_a_users_email_on_the_account_page_and_through_the_api(
    client: TestClient, districts: TwoDistricts
) -> None:
    csrf = sign_in(client, "a_admin")
    page = client.get(f"/users/{districts.a_officer.id}").text
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version and 'name="email"' in page
    form = {"csrf_token": csrf, "version": version.group(1), "display_name": "a_officer", "roles": ["officer"],
            "data_scope": "agency", "is_active": "on", "email": "wang.jg@xh.example.gov.cn"}
    assert client.post(f"/users/{districts.a_officer.id}", data=form, follow_redirects=False).status_code == 303
    assert "wang.jg@xh.example.gov.cn" in client.get(f"/users/{districts.a_officer.id}").text
    bad = client.post(f"/users/{districts.a_officer.id}", data={**form, "version": str(int(version.group(1)) + 1),
                                                                "email": "not-an-address"})
    assert bad.status_code == 422 and 'id="f-email-err"' in bad.text
    headers = token_for("a_admin")
    current = client.get(f"/api/v1/users/{districts.a_officer.id}", headers=headers).json()
    assert current["email"] == "wang.jg@xh.example.gov.cn"
    cleared = client.patch(f"/api/v1/users/{districts.a_officer.id}", headers=headers,
                           json={"email": "", "version": current["version"]})
    assert cleared.status_code == 200 and cleared.json()["email"] is None


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_cli_lists_the_outbox_drains_it_and_requeues(
    runner: CliRunner, districts: TwoDistricts, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jianguan.cli import app
    from jianguan.config import reset_settings

    mid = dead_letter(districts.a_officer.id)
    with session_scope() as db:
        from jianguan.auth.models import User
        from jianguan.notify import preferences
        from jianguan.notify.kinds import Channels

        officer = db.get(User, districts.a_officer.id)
        assert officer is not None
        preferences.save(db, user=officer, actor=officer, choices={"workflow.escalation": Channels(True, False, True)})
        service.send(db, user_ids=[officer.id], kind="workflow.escalation", title="督办：{code}",
                     params={"code": "J-1"})
    listed = runner.invoke(app, ["notify", "outbox", "--json"])
    assert listed.exit_code == 0, listed.output
    data = json.loads(listed.stdout)
    assert data["totals"] == {"pending": 1, "failed": 0, "sent": 0, "dead": 1}
    assert data["configured"] == {"email": False, "sms": False}
    dead = json.loads(runner.invoke(app, ["notify", "outbox", "--status", "dead", "--json"]).stdout)["items"]
    assert [d["id"] for d in dead] == [mid] and "550" in dead[0]["last_error"]
    assert runner.invoke(app, ["notify", "outbox", "--status", "lost"]).exit_code == 2

    monkeypatch.setenv("JIANGUAN_SMS_GATEWAY", "jianguan.notify.channels:LogSms")
    reset_settings()
    drained = runner.invoke(app, ["notify", "drain", "--json"])
    assert drained.exit_code == 0, drained.output
    assert json.loads(drained.stdout)["sent"] == 1
    table = runner.invoke(app, ["notify", "drain"])
    assert table.exit_code == 0 and "sent 0" in table.output

    assert runner.invoke(app, ["notify", "retry"]).exit_code == 2
    again = runner.invoke(app, ["notify", "retry", "--dead", "--json"])
    assert again.exit_code == 0 and json.loads(again.stdout) == {"requeued": 1}
    assert runner.invoke(app, ["notify", "retry", str(mid)]).exit_code == 2  # pending now: refused
