"""Entity API, pages and export through the app: scoped, masked, version-checked."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from fastapi.testclient import TestClient

from jianguan.db import session_scope
from jianguan.entities import service
from tests.auth.conftest import TwoDistricts, token_for
from tests.entities.conftest import BINJIANG_USCC, XIHU_USCC, entity_data
from tests.officers.test_pages import sign_in


@pytest.fixture
def two(districts: TwoDistricts) -> dict[str, int]:
    with session_scope() as db:
        a = service.create_entity(db, data=entity_data(XIHU_USCC, "西湖甲餐饮有限公司", "330106",
                                                       established_on="2019-04-02"), actor=None)
        a.agency_id = districts.district_a.id
        service.set_risk(db, entity=a, value="red", on=dt.date(2026, 2, 2), reason="投诉集中", actor=None)
        b = service.create_entity(db, data=entity_data(BINJIANG_USCC, "滨江乙科技有限公司", "330108"), actor=None)
        b.agency_id = districts.district_b.id
        db.flush()
        return {"a": a.id, "b": b.id}


def test_the_api_lists_only_entities_in_scope_with_masked_fields(client: TestClient, two: dict[str, int]) -> None:
    headers = token_for("a_officer")
    page = client.get("/api/v1/entities", headers=headers).json()
    assert page["total"] == 1 and page["items"][0]["name"] == "西湖甲餐饮有限公司"
    assert page["items"][0]["legal_rep_id_number"] == "110101********8515"
    assert client.get(f"/api/v1/entities/{two['b']}", headers=headers).status_code == 404
    assert client.get("/api/v1/entities", headers=headers, params={"q": "滨江"}).json()["total"] == 0
    assert client.get(f"/api/v1/entities/{two['a']}", headers=headers, params={"purpose": "x"}).status_code == 403


def test_a_system_admin_with_a_purpose_reads_restricted_fields(client: TestClient, two: dict[str, int]) -> None:
    got = client.get(f"/api/v1/entities/{two['a']}", headers=token_for("sysadmin"), params={"purpose": "案件调查"})
    assert got.status_code == 200 and got.json()["legal_rep_id_number"] == "110101199003078515"


def test_create_patch_with_version_and_history(client: TestClient, two: dict[str, int]) -> None:
    headers = token_for("a_officer")
    from jianguan.entities.uscc import make_uscc

    created = client.post("/api/v1/entities", headers=headers, json={
        "uscc": make_uscc("9", "2", "330106", "MA2H0100"), "name": "西湖小吃店", "kind": "individual_business",
        "region_code": "330106", "registered_capital": "3.5", "credit_class": "B"})
    assert created.status_code == 201, created.text
    body = created.json()
    patched = client.patch(f"/api/v1/entities/{body['id']}", headers=headers,
                           json={"version": body["version"], "address": "文三路 90 号"})
    assert patched.status_code == 200 and patched.json()["address"] == "文三路 90 号"
    stale = client.patch(f"/api/v1/entities/{body['id']}", headers=headers,
                         json={"version": body["version"], "address": "x"})
    assert stale.status_code == 409
    history = client.get(f"/api/v1/entities/{two['a']}/history", headers=headers).json()
    assert history["risk"][0]["value"] == "red" and history["risk"][0]["valid_to"] is None
    bad = client.post("/api/v1/entities", headers=headers, json={"uscc": XIHU_USCC[:17] + "0", "name": "x",
                                                                 "kind": "enterprise", "region_code": "330106"})
    assert bad.status_code == 422


def test_the_licensing_system_grants_a_licence_and_the_entity_comes_under_supervision(
        client: TestClient, two: dict[str, int]) -> None:
    from jianguan.entities.uscc import make_uscc

    code = make_uscc("9", "1", "330106", "MA2H0200")
    got = client.post("/api/v1/entities/licences", headers=token_for("a_admin"), json={
        "uscc": code, "entity": {"name": "西湖新开饭店有限公司", "kind": "enterprise", "region_code": "330106"},
        "licence": {"licence_type": "food_business", "number": "JY13301060009999",
                    "valid_from": "2026-03-16", "valid_until": "2031-03-15"}})
    assert got.status_code == 201, got.text
    assert got.json()["entity"]["under_supervision_since"] == "2026-03-16"
    eid = got.json()["entity"]["id"]
    licences = client.get(f"/api/v1/entities/{eid}/licences", headers=token_for("a_officer")).json()
    assert [lic["number"] for lic in licences] == ["JY13301060009999"]


def test_export_through_the_api_is_scoped_and_masked(client: TestClient, two: dict[str, int]) -> None:
    got = client.get("/api/v1/entities/export", headers=token_for("a_officer"), params={"format": "xlsx"})
    assert got.status_code == 200
    book = zipfile.ZipFile(io.BytesIO(got.content))
    xml = "".join(book.read(n).decode() for n in book.namelist() if n.startswith("xl/") and n.endswith(".xml"))
    assert "西湖甲餐饮有限公司" in xml and "滨江乙科技有限公司" not in xml
    assert "110101199003078515" not in xml and "110101********8515" in xml


def test_the_search_page_and_entity_page_are_scoped_and_masked(client: TestClient, two: dict[str, int]) -> None:
    sign_in(client, "a_officer")
    page = client.get("/entities")
    assert page.status_code == 200
    assert "西湖甲餐饮有限公司" in page.text and "滨江乙科技有限公司" not in page.text
    assert client.get("/entities", params={"industry_code": "xx"}).status_code == 200
    detail = client.get(f"/entities/{two['a']}")
    assert detail.status_code == 200
    assert "110101********8515" in detail.text and "110101199003078515" not in detail.text
    assert "138****8000" in detail.text and "2019-04-02" in detail.text
    assert client.get(f"/entities/{two['b']}").status_code == 404
    home = client.get("/")
    assert 'href="/entities"' in home.text


def test_the_export_links_on_the_search_page_work_with_the_signed_in_session(
        client: TestClient, two: dict[str, int]) -> None:
    sign_in(client, "a_officer")
    page = client.get("/entities", params={"q": "西湖"})
    assert "/api/v1/entities/export?q=%E8%A5%BF%E6%B9%96&sort=name&format=csv" in page.text
    got = client.get("/api/v1/entities/export", params={"q": "西湖", "format": "csv"})
    assert got.status_code == 200 and got.text.lstrip("\ufeff").startswith("uscc,name,")
    assert "西湖甲餐饮有限公司" in got.text and "滨江" not in got.text
