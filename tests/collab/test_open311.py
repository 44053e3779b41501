"""The public intake in the shape of Open311 GeoReport v2, driven as an Open311 client would: the
service list and definition, a form-encoded request, its status by id — and errors in the spec's shape."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from jianguan.auth import service as auth
from jianguan.db import session_scope
from tests.auth.conftest import token_for
from tests.inspections.conftest import make_world

BASE = "/api/v1/open311/v2"
REQUEST_FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "lat", "long", "media_url"}


class Open311Client:
    """What a GeoReport v2 client does: GET …/services.json, POST …/requests.json form-encoded."""

    def __init__(self, http: TestClient, base: str, api_key: str = "") -> None:
        self.http, self.base, self.api_key = http, base, api_key

    def services(self) -> list[dict[str, object]]:
        return self.http.get(f"{self.base}/services.json").json()

    def definition(self, code: str) -> dict[str, object]:
        return self.http.get(f"{self.base}/services/{code}.json").json()

    def create(self, **fields: str) -> tuple[int, object]:
        if self.api_key:
            fields["api_key"] = self.api_key
        got = self.http.post(f"{self.base}/requests.json", data=fields)
        return got.status_code, got.json()

    def status(self, request_id: str) -> list[dict[str, object]]:
        return self.http.get(f"{self.base}/requests/{request_id}.json").json()


@pytest.fixture
def client(fresh_db_url: str) -> Iterator[TestClient]:
    from jianguan.app import create_app

    with session_scope() as db:
        make_world(db, n_entities=10)
    with TestClient(create_app()) as c:
        yield c


def test_an_open311_client_files_and_follows_a_request(client: TestClient) -> None:
    o311 = Open311Client(client, BASE)
    services = o311.services()
    assert {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"} <= set(services[0])
    assert "food_safety" in [s["service_code"] for s in services]
    definition = o311.definition("food_safety")
    assert definition["service_code"] == "food_safety" and definition["attributes"][0]["code"] == "kind"
    assert client.get(f"{BASE}/services/ufo.json").status_code == 404
    status, created = o311.create(service_code="food_safety", jurisdiction_id="330106", lat="30.2741",
                                  long="120.1551", address_string="杭州市西湖区文三路1号",
                                  description="在该店买的酸奶已经过期三天，店员拒绝退换。", first_name="女士",
                                  last_name="陈", phone="13800138000", **{"attribute[party_name]": "西湖餐馆 003"})
    assert status == 201 and isinstance(created, list)
    request_id = created[0]["service_request_id"]
    assert request_id.startswith("TS") and len(created[0]["access_code"]) == 8
    shown = o311.status(request_id)[0]
    assert set(shown) == REQUEST_FIELDS and shown["status"] == "open" and shown["status_notes"] == "已收到"
    assert "酸奶" not in str(shown)  # what was written is restricted: never in the public status
    assert shown["agency_responsible"] == "杭州市西湖区市场监督管理局"
    listed = client.get(f"{BASE}/requests.json", params={"service_request_id": f"{request_id},TS0"}).json()
    assert [r["service_request_id"] for r in listed] == [request_id]


def test_open311_errors_name_the_field(client: TestClient) -> None:
    o311 = Open311Client(client, BASE)
    status, errors = o311.create(service_code="ufo", jurisdiction_id="330106", description="太短")
    assert status == 400 and isinstance(errors, list) and all({"code", "description"} == set(e) for e in errors)
    assert any("(content)" in e["description"] for e in errors)
    forged = Open311Client(client, BASE, api_key="not-a-key")
    assert forged.create(service_code="food_safety")[0] == 403


def test_a_connected_system_files_with_its_key(client: TestClient) -> None:
    with session_scope() as db:
        from sqlalchemy import select

        from jianguan.auth.models import User

        hotline = db.scalar(select(User).where(User.username == "author"))
        assert hotline is not None
        key, _row = auth.create_api_token(db, user=hotline, name="12345 热线", actor=hotline)
    status, _ = Open311Client(client, BASE, api_key=key).create(
        service_code="price", jurisdiction_id="330106", description="停车场收费未明码标价，多收费用二十元。",
        device_id="12345-20261207-0001")
    assert status == 201
    staff = client.get("/api/v1/complaints", headers=token_for("author")).json()
    assert [(c["channel"], c["category"]) for c in staff] == [("api", "price")]
