"""账号申请 pages: the public asks without signing in, follows the request with its token, and the
agency's admin decides on the page — scoped, with the history, and never over a newer version."""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from jianguan.auth.models import AccountRequest, User
from jianguan.core import workflow
from jianguan.db import session_scope
from tests.auth.conftest import TwoDistricts, make_two_districts
from tests.web.conftest import csrf_from, sign_in

NEW_PASSWORD = "Zhang-2026-wei"
PASSWORD = "Passw0rd-2026"  # the password of the TwoDistricts people


@pytest.fixture
def world(fresh_db_url: str) -> TwoDistricts:
    """A city bureau with two districts and their admins, committed so the app sees them."""
    with session_scope() as db:
        return make_two_districts(db)


def request_form(world: TwoDistricts, **changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "agency_id": str(world.district_a.id), "username": "zhang.wei", "display_name": "张伟",
        "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD, "requested_roles": ["officer"],
        "reason": "新入职执法人员，需办理执法检查业务", "phone": "13712345678",
    }
    form.update(changes)
    return form


def submit(client: TestClient, world: TwoDistricts, **changes: Any) -> tuple[int, str]:
    """File a request through the public page; returns its number and the token shown once."""
    csrf = csrf_from(client.get("/account-requests/new").text)
    response = client.post("/account-requests/new", data={**request_form(world, **changes), "csrf_token": csrf})
    assert response.status_code == 201, response.text
    number = re.search(r'id="request-number">(\d+)<', response.text)
    token = re.search(r'id="request-token">([^<]+)<', response.text)
    assert number and token
    return int(number.group(1)), token.group(1)


def version_on(html: str) -> str:
    found = re.search(r'name="version" value="(\d+)"', html)
    assert found, "no version in the form"
    return found.group(1)


def decide(client: TestClient, number: int, action: str, comment: str = "", version: str | None = None) -> Any:
    page = client.get(f"/account-requests/{number}").text
    data = {"csrf_token": csrf_from(page), "action": action, "comment": comment,
            "version": version or version_on(page)}
    return client.post(f"/account-requests/{number}/decide", data=data)


def record(number: int) -> SimpleNamespace:
    """The request as saved now (a plain copy, readable after the session closes)."""
    with session_scope() as db:
        found = db.get(AccountRequest, number)
        assert found is not None
        return SimpleNamespace(state=found.state, decision_comment=found.decision_comment, reason=found.reason,
                               requested_roles=found.requested_roles, phone=found.phone)


# --------------------------------------------------------------------------- public


def test_anyone_requests_an_account_without_signing_in_and_sees_the_token_once(
    client: TestClient, world: TwoDistricts
) -> None:
    page = client.get("/account-requests/new")
    assert page.status_code == 200
    html = page.text
    assert "<title>申请账号 · 监管</title>" in html
    # Agencies in tree order, children indented under the city bureau.
    assert html.index("杭州市市场监督管理局") < html.index("西湖区市场监督管理局")
    assert re.search(r">　└ 西湖区市场监督管理局<", html)
    # Only the roles the service lets the public ask for.
    assert re.findall(r'name="requested_roles" value="(\w+)"', html) == ["officer", "legal_reviewer", "leader"]

    number, token = submit(client, world)
    with session_scope() as db:
        saved = db.get(AccountRequest, number)
        assert saved is not None
        assert (saved.username, saved.state, saved.agency_id) == ("zhang.wei", "submitted", world.district_a.id)
        assert token not in saved.token_hash  # only a hash is kept
    done = client.post("/account-requests/status",
                       data={"csrf_token": csrf_from(client.get("/account-requests/status").text),
                             "request_id": str(number), "token": token})
    assert done.status_code == 200
    assert "待审核" in done.text and "张伟" in done.text
    assert "137****5678" in done.text and "13712345678" not in done.text


def test_the_confirmation_names_the_number_and_says_to_keep_the_token(
    client: TestClient, world: TwoDistricts
) -> None:
    csrf = csrf_from(client.get("/account-requests/new").text)
    response = client.post("/account-requests/new", data={**request_form(world), "csrf_token": csrf})
    assert response.headers["cache-control"] == "no-store"
    assert "查询码只显示这一次" in response.text
    assert re.search(r'href="/account-requests/status\?id=\d+"', response.text)


def test_a_taken_username_is_reported_next_to_the_username_field(client: TestClient, world: TwoDistricts) -> None:
    csrf = csrf_from(client.get("/account-requests/new").text)
    response = client.post("/account-requests/new",
                           data={**request_form(world, username="a_officer"), "csrf_token": csrf})
    assert response.status_code == 422
    assert re.search(r'id="f-username-err" class="field-error">该用户名已被占用。<', response.text)
    assert 'value="张伟"' in response.text  # what was typed is kept
    with session_scope() as db:
        assert db.scalar(select(func.count()).select_from(AccountRequest)) == 0


def test_empty_fields_and_mismatched_passwords_are_all_named_at_once(
    client: TestClient, world: TwoDistricts
) -> None:
    csrf = csrf_from(client.get("/account-requests/new").text)
    form = request_form(world, display_name="", reason=" ", confirm_password="Other-2026-pass",
                        requested_roles=[])
    response = client.post("/account-requests/new", data={**form, "csrf_token": csrf})
    assert response.status_code == 422
    html = response.text
    for name in ("display_name", "reason", "confirm_password", "requested_roles"):
        assert f'id="f-{name}-err"' in html, name
    assert "两次输入的密码不一致。" in html and "请至少选择一个角色。" in html


def test_a_weak_password_is_refused_on_the_password_field(client: TestClient, world: TwoDistricts) -> None:
    csrf = csrf_from(client.get("/account-requests/new").text)
    form = request_form(world, password="short1", confirm_password="short1")
    response = client.post("/account-requests/new", data={**form, "csrf_token": csrf})
    assert response.status_code == 422
    assert re.search(r'id="f-password-err" class="field-error">密码至少需要 10 位。<', response.text)


def test_a_request_posted_without_the_csrf_token_is_refused(client: TestClient, world: TwoDistricts) -> None:
    client.get("/account-requests/new")  # the visitor has a session, but the post does not carry its token
    response = client.post("/account-requests/new", data=request_form(world))
    assert response.status_code == 403
    assert "表单已过期，请刷新页面后重试。" in response.text
    with session_scope() as db:
        assert db.scalar(select(func.count()).select_from(AccountRequest)) == 0


def test_a_wrong_token_or_number_shows_nothing_of_the_request(client: TestClient, world: TwoDistricts) -> None:
    number, token = submit(client, world)
    csrf = csrf_from(client.get("/account-requests/status").text)
    answers = [
        client.post("/account-requests/status", data={"csrf_token": csrf, "request_id": str(number),
                                                       "token": token[:-1] + ("A" if token[-1] != "A" else "B")}),
        client.post("/account-requests/status", data={"csrf_token": csrf, "request_id": str(number + 1),
                                                       "token": token}),
        client.post("/account-requests/status", data={"csrf_token": csrf, "request_id": "abc", "token": ""}),
    ]
    for answer in answers:
        assert answer.status_code == 404
        assert "申请编号与查询码不匹配" in answer.text
        assert "张伟" not in answer.text and "zhang.wei" not in answer.text and "西湖区" not in answer.text


def test_the_login_page_links_to_the_account_request(client: TestClient) -> None:
    html = client.get("/login").text
    assert '<a href="/account-requests/new">申请账号</a>' in html


# --------------------------------------------------------------------------- admins


def test_an_agency_admin_sees_only_own_agency_requests(client: TestClient, world: TwoDistricts) -> None:
    mine, _ = submit(client, world)
    other, _ = submit(client, world, agency_id=str(world.district_b.id), username="li.na", display_name="李娜")
    sign_in(client, "a_admin", PASSWORD)
    listing = client.get("/account-requests")
    assert listing.status_code == 200
    assert "张伟" in listing.text and "李娜" not in listing.text
    assert f'href="/account-requests/{mine}"' in listing.text
    assert client.get(f"/account-requests/{other}").status_code == 404
    stranger = client.post(f"/account-requests/{other}/decide",
                           data={"csrf_token": csrf_from(listing.text), "action": "approve", "version": "1"})
    assert stranger.status_code == 404
    assert record(other).state == "submitted"


def test_a_system_admin_sees_every_agency_and_officers_may_not_list(
    client: TestClient, world: TwoDistricts
) -> None:
    submit(client, world)
    submit(client, world, agency_id=str(world.district_b.id), username="li.na", display_name="李娜")
    sign_in(client, "sysadmin", PASSWORD)
    text = client.get("/account-requests").text
    assert "张伟" in text and "李娜" in text and "共 2 条申请" in text
    client.cookies.clear()
    sign_in(client, "a_officer", PASSWORD)
    assert client.get("/account-requests").status_code == 403


def test_the_detail_shows_masked_phone_history_and_exactly_the_allowed_actions(
    client: TestClient, world: TwoDistricts
) -> None:
    number, _ = submit(client, world)
    sign_in(client, "a_admin", PASSWORD)
    html = client.get(f"/account-requests/{number}").text
    assert "137****5678" in html and "13712345678" not in html
    assert re.findall(r'name="action" value="(\w+)"', html) == ["approve", "return", "reject"]
    assert "申请已提交" in html and "申请人" in html  # the submit event in the timeline
    assert re.search(r'<span class="deadline[^"]*">', html)  # the deadline macro


def test_approving_on_the_page_creates_the_account_and_the_requester_signs_in(
    client: TestClient, world: TwoDistricts
) -> None:
    number, _ = submit(client, world)
    sign_in(client, "a_admin", PASSWORD)
    response = decide(client, number, "approve", "同意")
    assert response.status_code == 303
    assert response.headers["location"] == f"/account-requests/{number}"
    page = client.get(response.headers["location"]).text
    assert "账号 zhang.wei 已创建" in page
    assert "已批准" in page and 'name="action"' not in page  # nothing more to decide
    with session_scope() as db:
        user = db.scalars(select(User).where(User.username == "zhang.wei")).one()
        assert (user.roles, user.agency_id) == (["officer"], world.district_a.id)
    client.cookies.clear()
    sign_in(client, "zhang.wei", NEW_PASSWORD)
    assert "您好，张伟" in client.get("/").text


def test_rejecting_without_a_comment_names_the_comment_field(client: TestClient, world: TwoDistricts) -> None:
    number, _ = submit(client, world)
    sign_in(client, "a_admin", PASSWORD)
    response = decide(client, number, "reject", "   ")
    assert response.status_code == 422
    assert re.search(r'id="f-comment-err" class="field-error">请在意见中写明理由。<', response.text)
    assert record(number).state == "submitted"
    assert decide(client, number, "reject", "非本单位人员").status_code == 303
    assert (record(number).state, record(number).decision_comment) == ("rejected", "非本单位人员")


def test_a_decision_on_a_stale_page_gets_the_conflict_page_and_changes_nothing(
    client: TestClient, world: TwoDistricts
) -> None:
    number, _ = submit(client, world)
    sign_in(client, "a_admin", PASSWORD)
    stale = version_on(client.get(f"/account-requests/{number}").text)
    assert decide(client, number, "return", "请补充执法证编号").status_code == 303  # someone else acted first
    response = decide(client, number, "reject", "重复申请", version=stale)
    assert response.status_code == 409
    assert "该记录已被他人修改。请刷新后重试。" in response.text
    assert record(number).state == "returned"


def test_a_returned_request_is_amended_and_resubmitted_by_the_requester(
    client: TestClient, world: TwoDistricts
) -> None:
    number, token = submit(client, world)
    admin = TestClient(client.app, follow_redirects=False)
    sign_in(admin, "a_admin", PASSWORD)
    assert decide(admin, number, "return", "请写明执法证编号").status_code == 303

    csrf = csrf_from(client.get("/account-requests/status").text)
    status = client.post("/account-requests/status", data={"csrf_token": csrf, "request_id": str(number),
                                                           "token": token})
    assert "已退回补正" in status.text and "请写明执法证编号" in status.text
    assert "西湖区管理员" not in status.text and "a_admin" not in status.text  # the reviewer stays anonymous
    form = {"csrf_token": csrf, "request_id": str(number), "token": token, "version": version_on(status.text),
            "display_name": "张伟", "reason": "新入职执法人员，执法证编号 33010620260001",
            "requested_roles": ["officer", "legal_reviewer"], "phone": "", "comment": "已补充"}
    empty = client.post("/account-requests/status/resubmit", data={**form, "reason": ""})
    assert empty.status_code == 422 and 'id="f-reason-err"' in empty.text
    done = client.post("/account-requests/status/resubmit", data=form)
    assert done.status_code == 200 and "您的申请已重新提交审核。" in done.text
    saved = record(number)
    assert (saved.state, saved.requested_roles, saved.phone) == ("submitted", ["officer", "legal_reviewer"],
                                                                  "13712345678")
    assert "33010620260001" in saved.reason
    assert "已补充" in admin.get(f"/account-requests/{number}").text


def test_late_requests_are_flagged_with_their_escalation_level(client: TestClient, world: TwoDistricts) -> None:
    number, _ = submit(client, world)
    today = workflow.local_today()
    with session_scope() as db:
        saved = db.get(AccountRequest, number)
        assert saved is not None
        saved.due_date = today - dt.timedelta(days=30)  # long past: 挂牌督办
        db.flush()
        workflow.scan_overdue(db, today=today)
    sign_in(client, "a_admin", PASSWORD)
    listing = client.get("/account-requests", params={"state": "submitted", "overdue": "1"}).text
    assert re.search(r'class="badge escalation level-3">挂牌督办<', listing)
    assert "已逾期 30 天" in listing
    assert client.get("/account-requests", params={"state": "approved"}).text.count("张伟") == 0
    detail = client.get(f"/account-requests/{number}").text
    assert "逾期督办" in detail and "系统" in detail  # escalate events in the admin's timeline
