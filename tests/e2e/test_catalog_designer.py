"""In a browser: an agency admin designs a checklist (search a point, add it, make it mandatory, move
it) and sees the officer's phone form change beside it; the preview and the officer's own page fit a
375 px phone; publishing makes it the template new checklists use."""

from __future__ import annotations

import re

from sqlalchemy import select

from jianguan.auth import service as auth
from jianguan.catalog import checklists, content
from jianguan.catalog.models import ChecklistTemplate
from jianguan.db import session_scope
from jianguan.entities import service as entities
from jianguan.entities.uscc import make_uscc
from jianguan.officers.models import Agency
from jianguan.reference import service as ref
from tests.e2e.conftest import PASSWORD, LiveServer, screenshot, sign_in

SHOP = make_uscc("9", "1", "330106", "MA2H0501")


def _world() -> int:
    with session_scope() as db:
        ref.load_all(db)
        agency = db.scalars(select(Agency)).one()
        auth.create_user(db, username="zhaoadmin", display_name="赵管理", password=PASSWORD, roles=["agency_admin"],
                         agency_id=agency.id, actor=None)
        content.load(db)
        entities.create_entity(db, data={"uscc": SHOP, "name": "西湖面馆", "kind": "individual_business",
                                         "region_code": "330106", "industry_code": "6220", "scale": "micro",
                                         "agency_code": agency.code}, actor=None)
        return db.scalars(select(ChecklistTemplate.id).where(ChecklistTemplate.code == "TPL-CATERING-SIMPLE")).one()


def test_designing_a_checklist_shows_the_phone_form(live_server: LiveServer, new_page: object) -> None:
    template_id = _world()
    page = new_page(1440)  # type: ignore[operator]
    sign_in(page, live_server, "zhaoadmin")
    page.goto(live_server("/catalog/templates"))
    page.click("text=小微餐饮简化检查表")
    page.wait_for_url(re.compile(r"/catalog/templates/\d+/design"))
    preview = page.locator("[data-testid=preview]")
    before = preview.locator(".pt").count()
    assert 8 <= before <= 12
    page.fill("input[type=search][name=q]", "留样")
    page.click("form[role=search] button[type=submit]")
    candidate = page.locator(".pt-row:has(select[name=section])").first
    code = candidate.locator(".code").inner_text().strip()
    candidate.locator("button", has_text="添加").click()
    page.wait_for_selector(f"#p-{code}")
    assert preview.locator(".pt").count() == before + 1
    assert preview.locator(f"#pt-{code}").count() == 1
    assert page.locator("text=发布此草稿").count() == 1  # the change started a draft
    page.locator(f"#p-{code} button", has_text="必查").click()
    page.wait_for_selector(f"#p-{code} .must")
    assert preview.locator(f"#pt-{code} .must").count() == 1  # the phone form marks it mandatory
    def order() -> list[str]:
        return [c.strip() for c in page.locator(".pt-row[id^=p-] .code").all_inner_texts()]  # type: ignore[attr-defined]

    was = order().index(code)
    assert was > 0  # added at the end of its section, after the section's other points
    page.locator(f"#p-{code} button[title='↑']").click()
    page.wait_for_selector(f"#p-{code}")
    assert order().index(code) == was - 1
    screenshot(page, "catalog-designer")

    phone = new_page(375)  # type: ignore[operator]
    sign_in(phone, live_server, "zhaoadmin")
    phone.goto(live_server(f"/catalog/templates/{template_id}/design"))
    frame = phone.locator("[data-testid=preview]").bounding_box()
    assert frame is not None and frame["width"] <= 375
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    screenshot(phone, "catalog-designer")
    screenshot(phone, "catalog-designer-top", full_page=False)

    page.click("text=发布此草稿")
    page.wait_for_selector("text=模板已发布")
    with session_scope() as db:
        entity = entities.find(db, uscc_code=SHOP)
        assert entity is not None
        planned = checklists.plan(db, entity=entity)
        assert code in [p.point.code for p in planned.points]
        assert next(p for p in planned.points if p.point.code == code).mandatory

    phone.goto(live_server(f"/catalog/checklist?uscc={SHOP}"))
    assert phone.locator(f"#pt-{code} .must").count() == 1 and phone.locator("svg").count() >= 1
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    must = phone.locator(".pt:has(.must):has(input[value=na])").first
    assert not must.locator(".na-reason").is_visible()
    must.locator("input[value=na]").check()
    assert must.locator(".na-reason").is_visible()  # a mandatory point marked 不适用 asks why
    screenshot(phone, "catalog-checklist")
    phone.locator("[data-testid=checklist-form]").scroll_into_view_if_needed()
    screenshot(phone, "catalog-checklist-form", full_page=False)
