"""The complaint queue's map: its points are the list's (same filters, same data scope) and carry a
place, a category and a state, never what was written or who wrote it; the page works without it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from jianguan.db import session_scope
from tests.inspections.conftest import make_world
from tests.officers.test_pages import sign_in

XIHU = {"kind": "complaint", "category": "food_safety", "content": "在该店买的酸奶已经过期三天，店员拒绝退换。",
        "party_name": "西湖餐馆 003", "region_code": "330106", "address": "文三路1号", "name": "陈女士",
        "phone": "13800138000", "latitude": "30.2741", "longitude": "120.1551"}
BINJIANG = {**XIHU, "category": "price", "content": "停车场收费未明码标价，多收费用二十元。",
            "party_name": "江南停车场", "region_code": "330108", "address": "江南大道99号", "name": "周先生",
            "phone": "13900139000", "latitude": "30.2085", "longitude": "120.2120"}
SECRETS = ("酸奶", "停车场收费", "陈女士", "周先生", "13800138000", "13900139000", "文三路", "江南大道", "西湖餐馆",
           "江南停车场")


@pytest.fixture
def client(fresh_db_url: str) -> Iterator[TestClient]:
    from jianguan.app import create_app

    with session_scope() as db:
        make_world(db, n_entities=5)
    with TestClient(create_app()) as c:
        for form in (XIHU, XIHU, BINJIANG):
            assert c.post("/complaints/new", data=form).status_code == 201
        assert c.post("/complaints/new", data={**XIHU, "latitude": "", "longitude": ""}).status_code == 201
        yield c


def test_each_agency_sees_only_its_own_points_and_no_restricted_text(client: TestClient) -> None:
    assert client.get("/api/v1/complaints/map").status_code == 401
    sign_in(client, "outsider")  # an officer of 滨江区
    theirs = client.get("/api/v1/complaints/map")
    assert theirs.status_code == 200
    body = theirs.json()
    assert (body["total"], body["with_place"], body["shown"]) == (1, 1, 1)
    [point] = body["points"]
    assert set(point) == {"id", "number", "state", "category", "lat", "lng", "cell"}
    assert (point["category"], point["lat"], point["lng"]) == ("price", 30.2085, 120.212)
    assert [r["name"] for r in body["regions"]] == ["滨江区"]
    assert not any(text in theirs.text for text in SECRETS)

    client.cookies.clear()
    sign_in(client, "author")  # an officer of 西湖区
    ours = client.get("/api/v1/complaints/map").json()
    assert (ours["total"], ours["with_place"], ours["shown"]) == (3, 2, 2)  # one gave no place
    assert {p["category"] for p in ours["points"]} == {"food_safety"}
    assert point["id"] not in {p["id"] for p in ours["points"]}
    assert not any(text in client.get("/api/v1/complaints/map").text for text in SECRETS)
    assert client.get("/api/v1/complaints/map?category=price").json()["total"] == 0
    assert client.get("/api/v1/complaints/map?state=received").json()["shown"] == 2
    assert client.get("/api/v1/complaints/map?state=closed").json()["points"] == []


def test_the_queue_page_has_the_map_and_a_list_without_javascript(client: TestClient) -> None:
    sign_in(client, "author")
    page = client.get("/complaints?category=food_safety")
    assert page.status_code == 200
    assert 'data-url="/api/v1/complaints/map?category=food_safety"' in page.text
    assert "/static/vendor/leaflet/leaflet.js" in page.text and "/static/vendor/leaflet/leaflet.css" in page.text
    assert "unpkg" not in page.text and "cdn" not in page.text.lower()
    panel = re.search(r'<section[^>]*id="complaint-map-panel"[^>]*>', page.text)
    assert panel is not None and " hidden" in panel.group(0)  # shown by the script; else the list is the page
    assert page.text.count('href="/complaints/') >= 3
