"""Sign in, see the home page, sign out — in a real browser, at phone, desktop and wall-screen widths."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import PASSWORD, LiveServer, screenshot, sign_in

pytestmark = pytest.mark.e2e


def count_on(page: Any, card: str) -> int:
    return int(page.get_attribute(f"#card-{card} .card-value", "data-count"))


def test_sign_in_see_the_home_page_with_counts_and_sign_out(live_server: LiveServer, new_page: Any) -> None:
    page = new_page(1440)
    page.goto(live_server("/"))
    assert page.url == live_server("/login?next=/")
    assert page.title() == "登录 · 监管"
    screenshot(page, "login")

    page.fill("#f-username", "wangjg")
    page.fill("#f-password", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(live_server("/"))
    assert page.title() == "首页 · 监管"
    assert page.inner_text("h1") == "您好，王建国"
    assert count_on(page, "agencies") == 1
    assert count_on(page, "users") == 2
    assert count_on(page, "notifications") == 0
    assert "即将上线" in page.inner_text("#sidenav")
    screenshot(page, "home")

    page.click(".user-menu summary")
    assert page.is_visible("text=杭州市西湖区市场监督管理局")
    page.click(".user-menu-panel button[type=submit]")
    page.wait_for_url(live_server("/login"))
    assert page.is_visible("text=您已退出登录")
    page.goto(live_server("/"))
    assert page.url == live_server("/login?next=/")


def test_wrong_password_shows_the_error_on_the_form(live_server: LiveServer, new_page: Any) -> None:
    page = new_page(1440)
    page.goto(live_server("/login"))
    page.fill("#f-username", "wangjg")
    page.fill("#f-password", "not-the-password-1")
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_selector(".alert-error")
    assert "用户名或密码错误" in page.inner_text(".alert-error")
    assert page.input_value("#f-username") == "wangjg"
    assert page.input_value("#f-password") == ""
    assert page.url == live_server("/login")
    screenshot(page, "login-wrong-password")


def test_phone_width_has_no_horizontal_scroll_and_a_usable_menu(
    live_server: LiveServer, new_page: Any
) -> None:
    page = new_page(375)
    page.goto(live_server("/login"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "login")
    sign_in(page, live_server)
    for path in ("/", "/account"):
        page.goto(live_server(path))
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, path
    page.goto(live_server("/"))
    screenshot(page, "home")

    assert not page.is_visible("#sidenav")  # folded behind the menu button
    page.click(".nav-toggle")
    assert page.is_visible("#sidenav")
    heights = page.eval_on_selector_all("#sidenav li > *", "els => els.map(e => e.offsetHeight)")
    assert len(heights) == 11 and min(heights) >= 44  # 首页 + ten domains, thumb-sized
    screenshot(page, "home-menu-open", full_page=False)
    page.keyboard.press("Escape")
    assert not page.is_visible("#sidenav")

    page.goto(live_server("/account"))
    screenshot(page, "account")


def test_wall_screen_lays_the_cards_out_in_one_wide_row(live_server: LiveServer, new_page: Any) -> None:
    page = new_page(1920)
    sign_in(page, live_server)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1920
    tops = page.eval_on_selector_all(".cards .card", "els => els.map(e => e.offsetTop)")
    assert len(tops) >= 4 and len(set(tops[:4])) == 1
    screenshot(page, "home")
    page.goto(live_server("/?lang=en"))
    assert page.inner_text("h1") == "Hello, 王建国"
    screenshot(page, "home-en")


def test_account_page_creates_a_token_shown_once(live_server: LiveServer, new_page: Any) -> None:
    page = new_page(1440)
    sign_in(page, live_server)
    page.goto(live_server("/account"))
    page.fill("#f-token_name", "区县数据交换")
    page.click("form.token-form button[type=submit]")
    token = page.inner_text("#new-token")
    assert token.startswith("jgt_")
    screenshot(page, "account-new-token")
    page.goto(live_server("/account"))
    assert "区县数据交换" in page.inner_text("#tokens")
    assert token not in page.content()


def test_htmx_errors_appear_in_the_message_area_and_the_page_stays(
    live_server: LiveServer, new_page: Any
) -> None:
    page = new_page(1440)
    sign_in(page, live_server)
    # The CSRF header comes from the layout's hx-headers; the 404 fragment is retargeted to #messages.
    page.evaluate("htmx.ajax('POST', '/account/tokens/99999/revoke', {source: '#main', target: '#main'})")
    page.wait_for_selector("#messages .alert-error")
    assert "未找到" in page.inner_text("#messages")
    assert page.inner_text("h1") == "您好，王建国"
