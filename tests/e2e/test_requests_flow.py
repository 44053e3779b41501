"""账号申请 end to end in Chromium: a newcomer asks on a phone, the agency admin approves on a desktop,
the newcomer signs in. Then the notification bell follows a mark-read made with HTMX."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.e2e.conftest import PASSWORD, LiveServer, screenshot, sign_in

pytestmark = pytest.mark.e2e
NEW_PASSWORD = "Zhang-2026-wei"


def make_admin() -> int:
    from jianguan.auth import service
    from jianguan.db import session_scope
    from jianguan.officers.models import Agency

    with session_scope() as db:
        agency = db.scalars(select(Agency).where(Agency.code == "330106-SJ")).one()
        admin = service.create_user(db, username="xihu_admin", display_name="赵管理", password=PASSWORD,
                                    roles=["agency_admin"], agency_id=agency.id, actor=None)
        return admin.id


def no_sideways_scroll(page: Any) -> bool:
    width: int = page.viewport_size["width"]
    return bool(page.evaluate("document.documentElement.scrollWidth") <= width)


def test_public_request_approved_by_the_admin_then_the_new_officer_signs_in(
    live_server: LiveServer, new_page: Any
) -> None:
    make_admin()

    # A newcomer, on a phone, from the sign-in page.
    phone = new_page(375)
    phone.goto(live_server("/login"))
    phone.click("text=申请账号")
    phone.wait_for_url(live_server("/account-requests/new"))
    assert no_sideways_scroll(phone)
    phone.click("form.request-form button[type=submit]")  # nothing filled in: every field says so
    assert phone.inner_text("#f-display_name-err") == "此项为必填项。"
    screenshot(phone, "account-request-errors")
    agency = phone.eval_on_selector(
        "#f-agency_id", "s => [...s.options].find(o => o.text.includes('西湖区')).value")
    phone.select_option("#f-agency_id", agency)
    phone.fill("#f-username", "zhang.wei")
    phone.fill("#f-display_name", "张伟")
    phone.fill("#f-password", NEW_PASSWORD)
    phone.fill("#f-confirm_password", NEW_PASSWORD)
    phone.fill("#f-reason", "新入职执法人员，需办理执法检查业务")
    phone.fill("#f-phone", "13712345678")
    phone.click("form.request-form button[type=submit]")
    number = phone.inner_text("#request-number")
    token = phone.inner_text("#request-token")
    assert number.isdigit() and len(token) > 20
    assert no_sideways_scroll(phone)
    screenshot(phone, "account-request-submitted")

    # The agency admin, on a desktop: the home card leads to the list, the list to the request.
    desk = new_page(1440)
    sign_in(desk, live_server, "xihu_admin")
    assert desk.get_attribute("#card-account_requests .card-value", "data-count") == "1"
    desk.click("#card-account_requests .card-link")
    desk.wait_for_url(live_server("/account-requests"))
    assert "张伟" in desk.inner_text("#request-results")
    screenshot(desk, "account-requests")
    desk.click(f"a[href='/account-requests/{number}'] >> nth=0")
    desk.wait_for_url(live_server(f"/account-requests/{number}"))
    assert "137****5678" in desk.inner_text("main")
    screenshot(desk, "account-request-detail")
    desk.click("button[value=approve]")
    desk.wait_for_selector(".alert-success")
    assert "账号 zhang.wei 已创建" in desk.inner_text("#messages")
    assert "已批准" in desk.inner_text("h1")
    screenshot(desk, "account-request-approved")

    # The requester sees the outcome with the token, then signs in as the new officer.
    phone.goto(live_server(f"/account-requests/status?id={number}"))
    phone.fill("#f-token", token)
    phone.click("form[action='/account-requests/status'] button[type=submit]")
    assert "您的账号已创建" in phone.inner_text("main")
    screenshot(phone, "account-request-status")
    officer = new_page(375)
    sign_in(officer, live_server, "zhang.wei", NEW_PASSWORD)
    assert officer.inner_text("h1") == "您好，张伟"


def test_marking_a_notification_read_updates_the_item_and_the_bell_in_place(
    live_server: LiveServer, new_page: Any
) -> None:
    from jianguan.db import session_scope
    from jianguan.notify import service as notify

    admin_id = make_admin()
    with session_scope() as db:
        for subject in ("张伟 (zhang.wei)", "李娜 (li.na)"):
            notify.send(db, user_ids=[admin_id], kind="workflow.escalation", title="{level_label}: {subject}",
                        link="/account-requests/1",
                        params={"level_label": "Supervised (督办)", "subject": subject})
    for width in (375, 1440):
        page = new_page(width)
        sign_in(page, live_server, "xihu_admin")
        page.click("a.bell")
        page.wait_for_url(live_server("/notifications"))
        if width == 375:
            assert page.inner_text(".bell-count") == "2"
            assert page.locator(".note.is-unread").count() == 2
            screenshot(page, "notifications")
            page.click(".note.is-unread >> nth=0 >> text=标为已读")
            page.wait_for_function("document.querySelectorAll('.note.is-unread').length === 1")
            assert page.inner_text(".bell-count") == "1"
            assert page.inner_text("#unread-summary") == "1 条未读"
            assert page.url == live_server("/notifications")  # no reload
            assert no_sideways_scroll(page)
        else:
            page.click(".note.is-unread >> text=标为已读")
            page.wait_for_function("document.querySelectorAll('.note.is-unread').length === 0")
            assert page.locator(".bell-count").count() == 0
            assert page.inner_text("#unread-tab-count") == ""
            assert not page.is_visible("text=全部标为已读")
            assert page.inner_text("#unread-summary") == "全部已读"
            screenshot(page, "notifications-read")
