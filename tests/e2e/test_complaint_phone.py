"""On a phone (375 px), without an account: a citizen complains about expired yogurt — the form keeps
what was typed when the phone number is wrong — gets a number and an access code, and follows the
complaint on the status page with both."""

from __future__ import annotations

import re

from jianguan.db import session_scope
from jianguan.reference import service as ref
from tests.e2e.conftest import LiveServer, screenshot


def test_a_citizen_complains_from_a_phone_and_follows_it(live_server: LiveServer, new_page: object) -> None:
    with session_scope() as db:
        ref.load_all(db)
    page = new_page(375)
    page.goto(live_server("/complaints/new"))  # type: ignore[attr-defined]
    page.select_option("select[name=category]", "food_safety")  # type: ignore[attr-defined]
    page.fill("textarea[name=content]", "在该店买的酸奶已经过期三天，店员拒绝退换。")  # type: ignore[attr-defined]
    page.fill("input[name=party_name]", "西湖面馆")  # type: ignore[attr-defined]
    page.select_option("select[name=region_code]", "330106")  # type: ignore[attr-defined]
    page.fill("input[name=name]", "陈女士")  # type: ignore[attr-defined]
    page.fill("input[name=phone]", "12345")  # type: ignore[attr-defined]
    page.click("form[action='/complaints/new'] button[type=submit]")  # type: ignore[attr-defined]
    assert "11 位" in page.inner_text("label:has(input[name=phone])")  # type: ignore[attr-defined]
    assert page.input_value("textarea[name=content]").startswith("在该店买的酸奶")  # type: ignore[attr-defined]
    screenshot(page, "complaint-form-refused")
    page.fill("input[name=phone]", "13800138000")  # type: ignore[attr-defined]
    page.click("form[action='/complaints/new'] button[type=submit]")  # type: ignore[attr-defined]
    number = page.inner_text("#number")  # type: ignore[attr-defined]
    code = page.inner_text("#access-code")  # type: ignore[attr-defined]
    assert re.fullmatch(r"TS\d{14}", number) and re.fullmatch(r"[A-Z0-9]{8}", code)
    screenshot(page, "complaint-received")
    page.click("section a[href='/complaints/status']")  # type: ignore[attr-defined]
    page.wait_for_url("**/complaints/status")  # type: ignore[attr-defined]
    page.fill("input[name=number]", number)  # type: ignore[attr-defined]
    page.fill("input[name=code]", code)  # type: ignore[attr-defined]
    page.click("form[action='/complaints/status'] button[type=submit]")  # type: ignore[attr-defined]
    result = page.inner_text("#result")  # type: ignore[attr-defined]
    assert number in result and "已收到" in result and "杭州市西湖区市场监督管理局" in result
    screenshot(page, "complaint-status")
