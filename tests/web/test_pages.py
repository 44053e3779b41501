"""Pages through the real app: Chinese by default, CSRF on every form, sign-in required."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from jianguan.auth.models import LoginAttempt, User
from jianguan.db import session_scope
from tests.web.conftest import PASSWORD, People, csrf_from, sign_in


def test_login_page_renders_in_chinese(client: TestClient) -> None:
    response = client.get("/login")
    assert response.status_code == 200
    html = response.text
    assert '<html lang="zh-CN"' in html
    assert "<title>登录 · 监管</title>" in html
    assert "用户名" in html and "密码" in html
    assert 'name="csrf_token"' in html


def test_login_page_switches_to_english_and_remembers_it(client: TestClient) -> None:
    html = client.get("/login?lang=en").text
    assert '<html lang="en"' in html and "Username" in html
    assert "Username" in client.get("/login").text  # the cookie keeps the choice


def test_unauthenticated_home_redirects_to_login_with_next(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/"


def test_deep_link_survives_the_sign_in(client: TestClient, people: People) -> None:
    assert client.get("/account").headers["location"] == "/login?next=/account"
    token = csrf_from(client.get("/login?next=/account").text)
    response = client.post("/login", data={"username": "wangjg", "password": PASSWORD,
                                           "csrf_token": token, "next": "/account"})
    assert response.headers["location"] == "/account"


def test_sign_in_never_redirects_to_another_site(client: TestClient, people: People) -> None:
    token = csrf_from(client.get("/login").text)
    response = client.post("/login", data={"username": "wangjg", "password": PASSWORD,
                                           "csrf_token": token, "next": "//evil.example/"})
    assert response.headers["location"] == "/"


def test_form_post_without_csrf_token_is_refused_with_a_clear_message(
    client: TestClient, people: People
) -> None:
    response = client.post("/login", data={"username": "wangjg", "password": PASSWORD})
    assert response.status_code == 403
    assert "表单已过期，请刷新页面后重试。" in response.text
    sign_in(client, "wangjg")
    response = client.post("/logout", data={})
    assert response.status_code == 403
    assert "表单已过期，请刷新页面后重试。" in response.text
    assert client.get("/").status_code == 200  # still signed in


def test_wrong_password_is_shown_on_the_form_and_counted(client: TestClient, people: People) -> None:
    token = csrf_from(client.get("/login").text)
    response = client.post("/login", data={"username": "wangjg", "password": "wrong-pass-1",
                                           "csrf_token": token})
    assert response.status_code == 401
    assert "用户名或密码错误" in response.text
    assert 'value="wangjg"' in response.text  # the username is kept, the password is not
    with session_scope() as db:  # the failed attempt was committed, so throttling sees it
        assert db.scalars(select(LoginAttempt).where(~LoginAttempt.succeeded)).all()


def test_empty_fields_are_named_inline(client: TestClient, people: People) -> None:
    token = csrf_from(client.get("/login").text)
    response = client.post("/login", data={"username": "", "password": "", "csrf_token": token})
    assert response.status_code == 422
    assert 'id="f-username-err"' in response.text and "请输入用户名" in response.text
    assert 'id="f-password-err"' in response.text and "请输入密码" in response.text


def test_repeated_failures_show_the_throttling_message(client: TestClient, people: People) -> None:
    token = csrf_from(client.get("/login").text)
    for _ in range(5):
        client.post("/login", data={"username": "wangjg", "password": "guess-12345", "csrf_token": token})
    response = client.post("/login", data={"username": "wangjg", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 429
    assert "登录失败次数过多" in response.text
    assert int(response.headers["retry-after"]) > 0


def test_signed_in_home_shows_real_counts(client: TestClient, people: People) -> None:
    sign_in(client, "wangjg")
    response = client.get("/")
    assert response.status_code == 200
    html = response.text
    assert "<title>首页 · 监管</title>" in html
    assert "王建国" in html and "西湖区市场监督管理局" in html
    assert 'id="card-agencies"' in html and 'id="card-users"' in html
    # An officer with the own-agency scope sees one agency and the two accounts in it.
    assert html.split('id="card-agencies"')[1].split('data-count="')[1].startswith("1\"")
    assert html.split('id="card-users"')[1].split('data-count="')[1].startswith("2\"")
    assert 'id="card-audit"' not in html  # audit counts are for admins
    assert 'id="card-today"' in html


def test_admin_home_counts_audit_entries(client: TestClient, people: People) -> None:
    sign_in(client, "lihua")
    html = client.get("/").text
    assert 'id="card-audit"' in html


def test_navigation_lists_every_domain_and_never_links_to_a_missing_page(
    client: TestClient, people: People
) -> None:
    from jianguan import registry

    sign_in(client, "wangjg")
    html = client.get("/").text
    nav = html.split('id="sidenav"')[1].split("</nav>")[0]
    for domain in registry.DOMAINS:
        if registry.has_module(domain.package, "pages"):
            assert f'href="/{domain.package}"' in nav
        else:
            assert f'href="/{domain.package}"' not in nav
    coming = sum(1 for d in registry.DOMAINS if not registry.has_module(d.package, "pages"))
    assert nav.count('<span class="soon-tag">即将上线</span>') == coming


def test_logout_ends_the_session(client: TestClient, people: People) -> None:
    sign_in(client, "wangjg")
    token = csrf_from(client.get("/").text)
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert "您已退出登录" in client.get("/login").text
    assert client.get("/").status_code == 303


def test_password_change_keeps_this_session_and_ends_others(client: TestClient, people: People) -> None:
    from jianguan.app import create_app

    sign_in(client, "wangjg")
    with TestClient(create_app(), follow_redirects=False) as other:
        sign_in(other, "wangjg")
        token = csrf_from(client.get("/account").text)
        response = client.post("/account/password", data={
            "csrf_token": token, "current_password": PASSWORD,
            "new_password": "Longjing-2027", "confirm_password": "Longjing-2027"})
        assert response.status_code == 303
        assert "密码已修改" in client.get("/account").text
        assert other.get("/").status_code == 303  # the other browser must sign in again
    with session_scope() as db:
        user = db.scalars(select(User).where(User.username == "wangjg")).one()
        assert user.session_epoch == 1


def test_password_change_errors_name_the_field(client: TestClient, people: People) -> None:
    sign_in(client, "wangjg")
    token = csrf_from(client.get("/account").text)
    response = client.post("/account/password", data={
        "csrf_token": token, "current_password": PASSWORD,
        "new_password": "Longjing-2027", "confirm_password": "Longjing-2028"})
    assert response.status_code == 422
    assert 'id="f-confirm_password-err"' in response.text and "两次输入的新密码不一致" in response.text
    response = client.post("/account/password", data={
        "csrf_token": token, "current_password": "not-it-123",
        "new_password": "Longjing-2027", "confirm_password": "Longjing-2027"})
    assert 'id="f-current_password-err"' in response.text and "当前密码不正确" in response.text


def test_api_token_is_shown_once_works_and_can_be_revoked(client: TestClient, people: People) -> None:
    sign_in(client, "wangjg")
    token = csrf_from(client.get("/account").text)
    response = client.post("/account/tokens", data={"csrf_token": token, "token_name": "区县数据交换",
                                                    "expires_days": "90"})
    assert response.status_code == 201
    secret = response.text.split('id="new-token">')[1].split("<")[0]
    assert secret.startswith("jgt_")
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200
    page = client.get("/account").text
    assert "区县数据交换" in page and secret not in page
    token_id = page.split("/account/tokens/")[1].split("/revoke")[0]
    response = client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": token})
    assert response.status_code == 303
    assert "已撤销" in client.get("/account").text
    client.cookies.clear()
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_unknown_page_gets_a_chinese_not_found_page(client: TestClient, people: People) -> None:
    sign_in(client, "wangjg")
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "页面不存在" in response.text
    assert "王建国" in response.text  # the layout still knows who is signed in


def test_htmx_errors_come_back_as_a_fragment_for_the_message_area(client: TestClient, people: People) -> None:
    sign_in(client, "wangjg")
    token = csrf_from(client.get("/account").text)
    response = client.post("/account/tokens/99999/revoke", data={"csrf_token": token},
                           headers={"HX-Request": "true"})
    assert response.status_code == 404
    assert response.headers["hx-retarget"] == "#messages"
    assert "<html" not in response.text and "未找到" in response.text


def test_htmx_request_without_session_is_sent_to_sign_in(client: TestClient) -> None:
    response = client.get("/account", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["hx-redirect"] == "/login?next=/account"


@pytest.mark.parametrize(("day", "kind", "shown"), [
    (dt.date(2026, 10, 1), "holiday", "法定节假日"),
    (dt.date(2026, 10, 10), "adjusted_working_day", "调休上班"),
    (dt.date(2026, 11, 24), "working_day", "工作日"),
    (dt.date(2026, 11, 28), "weekend", "周末休息"),
])
def test_today_card_says_what_kind_of_day_it_is(
    client: TestClient, people: People, monkeypatch: pytest.MonkeyPatch, day: dt.date, kind: str, shown: str
) -> None:
    from jianguan.web import pages

    monkeypatch.setattr(pages.workdays, "today_shanghai", lambda: day)
    sign_in(client, "wangjg")
    card = client.get("/").text.split('id="card-today"')[1].split("</article>")[0]
    assert f'datetime="{day.isoformat()}"' in card
    assert shown in card
    assert ("国庆节" in card) == (kind != "working_day" and day.month == 10)
    assert "未确认" not in card


def test_today_card_flags_a_year_whose_holidays_are_not_published(
    client: TestClient, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jianguan.web import pages

    monkeypatch.setattr(pages.workdays, "today_shanghai", lambda: dt.date(2027, 3, 3))
    sign_in(client, "wangjg")
    card = client.get("/").text.split('id="card-today"')[1].split("</article>")[0]
    assert "2027年3月3日" in card and "未确认（节假日安排尚未发布）" in card
