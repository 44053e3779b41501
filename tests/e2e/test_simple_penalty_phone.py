"""On a phone (375 px): an officer in a shop decides a warning on the spot — the form refuses a fine
above the simple procedure's limit, naming the article — then issues the 当场行政处罚决定书 and sees it on
the case page, ready to download."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from jianguan.auth.models import User
from jianguan.db import session_scope
from jianguan.entities.models import Entity
from jianguan.officers import credentials, roster
from jianguan.officers.models import Agency
from jianguan.reference import service as ref
from tests.e2e.conftest import LiveServer, screenshot, sign_in


def _officers() -> None:
    with session_scope() as db:
        ref.load_all(db)
        agency = db.scalars(select(Agency)).one()
        for i, user in enumerate(db.scalars(select(User).order_by(User.id))):
            officer = roster.create_officer(db, agency_id=agency.id, name=user.display_name, domains=["food"],
                                            user_id=user.id, actor=None)
            credentials.issue_credential(db, officer_id=officer.id, number=f"XH2026S{i}", domains=["food"],
                                         issued_on=dt.date(2025, 1, 1), expires_on=dt.date(2031, 1, 1), actor=None)
        db.add(Entity(uscc="92330106MA2H0602XX", name="西湖面馆", kind="individual_business", status="active",
                      region_code="330106", agency_id=agency.id, industry_code="6220", address="文三路2号"))


def test_a_warning_on_the_spot_from_a_phone(live_server: LiveServer, new_page: object) -> None:
    _officers()
    page = new_page(375)
    sign_in(page, live_server)
    page.goto(live_server("/cases/simple"))  # type: ignore[attr-defined]
    page.fill("input[name=title]", "未按规定公示食品经营许可证")  # type: ignore[attr-defined]
    page.fill("input[name=party_uscc]", "92330106MA2H0602XX")  # type: ignore[attr-defined]
    page.fill("input[name=place]", "西湖面馆前厅")  # type: ignore[attr-defined]
    page.fill("textarea[name=facts]", "经营场所未在醒目位置公示食品经营许可证")  # type: ignore[attr-defined]
    page.check("input[name=kinds][value='3']")  # type: ignore[attr-defined]
    page.fill("input[name=fine]", "5000")  # type: ignore[attr-defined]
    boxes = page.locator("input[name=officer_ids]")  # type: ignore[attr-defined]
    for i in range(boxes.count()):
        boxes.nth(i).check()
    page.click("form[action='/cases/simple'] button[type=submit]")  # type: ignore[attr-defined]
    # Refused above ¥3,000: the same form comes back with everything typed and the article at the fine.
    assert "第五十一条" in page.inner_text("label:has(input[name=fine])")  # type: ignore[attr-defined]
    assert page.input_value("textarea[name=facts]") == "经营场所未在醒目位置公示食品经营许可证"  # type: ignore[attr-defined]
    screenshot(page, "case-simple-refused")
    page.uncheck("input[name=kinds][value='3']")  # type: ignore[attr-defined]
    page.check("input[name=kinds][value='1']")  # type: ignore[attr-defined]
    page.fill("input[name=fine]", "")  # type: ignore[attr-defined]
    page.click("form[action='/cases/simple'] button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url("**/cases/*")  # type: ignore[attr-defined]
    body = page.inner_text("body")  # type: ignore[attr-defined]
    assert "当场行政处罚决定书" in body and "简易程序" in body and "当罚〔" in body
    pdf = page.locator("#documents a", has_text="PDF").first  # type: ignore[attr-defined]
    assert pdf.get_attribute("href").startswith("/api/v1/documents/")
    screenshot(page, "case-simple-decided")
