"""On a phone an officer finds this morning's warning in the warning centre (list and the county map),
opens it, takes it up and, after checking, closes it as a false alarm with the reason; the rule's
false-alarm rate then shows it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from jianguan.collab.models import Complaint
from jianguan.core.workdays import today_shanghai
from jianguan.db import session_scope
from jianguan.entities.models import Entity
from jianguan.officers.models import Agency
from jianguan.reference import service as ref
from jianguan.risk import service, warning_rules, warnings
from tests.e2e.conftest import LiveServer, screenshot, sign_in


def _surge() -> None:
    with session_scope() as db:
        ref.load_all(db)
        service.load_rule_sets(db)
        warning_rules.load_shipped(db)
        agency = db.scalars(select(Agency).where(Agency.code == "330106-SJ")).one()
        agency.domains = ["market", "food"]
        shop = Entity(uscc="91330106TEST000001", name="西湖面馆", kind="enterprise", status="active",
                      region_code="330106", agency_id=agency.id, industry_code="6210",
                      latitude=Decimal("30.2741"), longitude=Decimal("120.1551"))
        db.add(shop)
        db.flush()
        today = today_shanghai()
        for i in range(4):
            db.add(Complaint(number=f"TS2026120700000{i}", access_hash="x", channel="web", category="food_safety",
                             content="吃后腹泻", region_code="330106", entity_id=shop.id,
                             received_on=today - dt.timedelta(days=i), workflow="complaint", state="received"))
        db.flush()
        assert warnings.raise_warnings(db, actor=None)["raised"] == 1


def test_an_officer_takes_up_a_warning_and_closes_it_as_a_false_alarm(live_server: LiveServer,
                                                                       new_page: object) -> None:
    _surge()
    page = new_page(375)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))  # type: ignore[attr-defined]
    sign_in(page, live_server)
    page.goto(live_server("/risk/warnings"))  # type: ignore[attr-defined]
    page.wait_for_selector("#warning-map .leaflet-interactive")  # type: ignore[attr-defined]
    assert "西湖面馆" in page.inner_text("main")  # type: ignore[attr-defined]
    screenshot(page, "warning-centre", full_page=False)
    page.locator("a[href^='/risk/warnings/']").first.click()  # type: ignore[attr-defined]
    page.wait_for_url("**/risk/warnings/*")  # type: ignore[attr-defined]
    assert "近7日食品安全投诉举报" in page.inner_text("main")  # type: ignore[attr-defined]
    page.click("button[value=take]")  # type: ignore[attr-defined]
    page.wait_for_selector("button[value=false_alarm]")  # type: ignore[attr-defined]
    assert "核查中" in page.inner_text("main")  # type: ignore[attr-defined]
    page.fill("textarea[name=comment]", "经现场核实，投诉为同一人重复反映，店内无问题。")  # type: ignore[attr-defined]
    page.click("button[value=false_alarm]")  # type: ignore[attr-defined]
    page.wait_for_selector("text=误报")  # type: ignore[attr-defined]
    assert "已办结" in page.inner_text("main")  # type: ignore[attr-defined]
    screenshot(page, "warning-closed")
    page.goto(live_server("/risk/rules"))  # type: ignore[attr-defined]
    row = page.locator("tr", has_text="FS-01")  # type: ignore[attr-defined]
    assert "100.0 %" in row.inner_text()
    assert errors == []
