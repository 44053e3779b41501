"""On a phone (375 px) an officer sees the queue's complaints on a map above the list — no tile server,
points and a cluster where six people complained about one restaurant — opens one from the cluster,
and without JavaScript still has the whole list."""

from __future__ import annotations

from jianguan.collab import service
from jianguan.collab.schemas import ComplaintIn
from jianguan.db import session_scope
from jianguan.reference import service as ref
from tests.e2e.conftest import LiveServer, screenshot, sign_in

RESTAURANT = (30.2741, 120.1551)
ELSEWHERE = [(30.2602, 120.1203), (30.2885, 120.0981), (30.2456, 120.1422)]


def complain(latitude: float, longitude: float, text: str) -> None:
    with session_scope() as db:
        service.receive(db, data=ComplaintIn(category="food_safety", content=text, region_code="330106",
                                             party_name="西湖面馆", latitude=latitude, longitude=longitude,
                                             anonymous=True), channel="web")


def test_an_officer_finds_a_cluster_on_the_map_and_opens_a_complaint(live_server: LiveServer,
                                                                      new_page: object) -> None:
    with session_scope() as db:
        ref.load_all(db)
    for i in range(6):
        complain(RESTAURANT[0] + i * 0.00002, RESTAURANT[1], f"在西湖面馆吃饭后腹泻呕吐，第{i + 1}位顾客。")
    for lat, lng in ELSEWHERE:
        complain(lat, lng, "店内冷柜温度过高，熟食变质。")
    page = new_page(375)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))  # type: ignore[attr-defined]
    sign_in(page, live_server)
    page.goto(live_server("/complaints"))  # type: ignore[attr-defined]
    page.wait_for_selector(".map-cluster")  # type: ignore[attr-defined]
    assert "地图显示 9 件" in page.inner_text("#map-note")  # type: ignore[attr-defined]
    map_box = page.locator("#complaint-map").bounding_box()  # type: ignore[attr-defined]
    table = page.locator(".queue-list").bounding_box()  # type: ignore[attr-defined]
    assert map_box["height"] >= 280 and map_box["y"] < table["y"]  # above the list, usable
    screenshot(page, "complaint-map", full_page=False)
    page.select_option("#map-colour", "category")  # type: ignore[attr-defined]
    assert page.is_visible(".legend[data-by=category]") and not page.is_visible(".legend[data-by=state]")  # type: ignore[attr-defined]
    page.locator(".map-cluster").first.click()  # type: ignore[attr-defined]
    page.wait_for_selector(".map-list a")  # type: ignore[attr-defined]
    assert page.locator(".map-list a").count() == 6  # type: ignore[attr-defined]
    page.locator(".map-list a").first.click()  # type: ignore[attr-defined]
    page.wait_for_url("**/complaints/*")  # type: ignore[attr-defined]
    assert "腹泻呕吐" in page.inner_text("main")  # type: ignore[attr-defined]
    assert errors == []


def test_without_javascript_the_list_is_the_page(live_server: LiveServer, browser: object) -> None:
    with session_scope() as db:
        ref.load_all(db)
    complain(*RESTAURANT, "在西湖面馆吃饭后腹泻呕吐，要求查处。")
    context = browser.new_context(viewport={"width": 375, "height": 812}, java_script_enabled=False)  # type: ignore[attr-defined]
    page = context.new_page()
    sign_in(page, live_server)
    page.goto(live_server("/complaints"))
    assert not page.is_visible("#complaint-map-panel")
    assert page.locator(".queue-list a[href^='/complaints/']").count() == 1
    context.close()
