"""字典 pages, the reference API and ``jianguan reference``: read by everyone, edited by a system admin."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from jianguan.cli import app as cli_app
from jianguan.db import session_scope
from jianguan.reference import service
from tests.auth.conftest import TwoDistricts, token_for
from tests.officers.test_pages import sign_in

runner = CliRunner()


@pytest.fixture
def loaded(districts: TwoDistricts) -> TwoDistricts:
    with session_scope() as db:
        service.load_all(db)
    return districts


def test_the_api_lists_domains_and_their_items(client: TestClient, loaded: TwoDistricts) -> None:
    headers = token_for("a_officer")
    domains = client.get("/api/v1/reference/value-domains", headers=headers).json()
    assert {"code": "penalty_kind", "name": "处罚种类"}.items() <= domains[6].items()
    penalty = client.get("/api/v1/reference/value-domains/penalty_kind", headers=headers).json()
    assert [i["code"] for i in penalty["items"]][-2:] == ["90", "99"]
    assert [i["is_standard"] for i in penalty["items"]].count(False) == 2
    assert client.get("/api/v1/reference/value-domains/nope", headers=headers).status_code == 404
    assert client.get("/api/v1/reference/value-domains").status_code == 401


def test_the_api_browses_regions_and_industries(client: TestClient, loaded: TwoDistricts) -> None:
    headers = token_for("a_officer")
    beijing = client.get("/api/v1/reference/regions", params={"parent": "110000"}, headers=headers).json()
    assert {"code": "110105", "name": "朝阳区", "level": "county", "parent_code": "110000"} in beijing
    found = client.get("/api/v1/reference/regions", params={"q": "西湖区"}, headers=headers).json()
    assert found[0]["code"] == "330106"
    classes = client.get("/api/v1/reference/industries", params={"level": "class", "q": "正餐"}, headers=headers)
    assert [i["code"] for i in classes.json()] == ["6210"]
    path = client.get("/api/v1/reference/industries/6210", headers=headers).json()
    assert [i["code"] for i in path] == ["H", "62", "621", "6210"]
    assert client.get("/api/v1/reference/regions/999999", headers=headers).status_code == 404


def test_the_api_lets_only_an_admin_edit_and_refuses_a_stale_version(client: TestClient,
                                                                      loaded: TwoDistricts) -> None:
    body = {"code": "fireworks", "name": "烟花爆竹经营许可证"}
    refused = client.post("/api/v1/reference/value-domains/licence_type/items", json=body,
                          headers=token_for("a_admin"))
    assert refused.status_code == 403
    admin = token_for("sysadmin")
    made = client.post("/api/v1/reference/value-domains/licence_type/items", json=body, headers=admin)
    assert made.status_code == 201, made.text
    item = made.json()
    renamed = client.patch(f"/api/v1/reference/value-domain-items/{item['id']}",
                           json={"version": item["version"], "name": "烟花爆竹经营（零售）许可证"}, headers=admin)
    assert renamed.status_code == 200
    stale = client.patch(f"/api/v1/reference/value-domain-items/{item['id']}",
                         json={"version": item["version"], "retire": True}, headers=admin)
    assert stale.status_code == 409
    retired = client.patch(f"/api/v1/reference/value-domain-items/{item['id']}",
                           json={"version": renamed.json()["version"], "retire": True}, headers=admin)
    assert retired.status_code == 200 and retired.json()["valid_to"] is not None
    current = client.get("/api/v1/reference/value-domains/licence_type", headers=admin).json()
    assert "fireworks" not in [i["code"] for i in current["items"]]


def test_the_landing_page_shows_the_three_dictionaries_with_counts(client: TestClient,
                                                                   loaded: TwoDistricts) -> None:
    sign_in(client, "a_officer")
    page = client.get("/datastd")
    assert page.status_code == 200
    assert 'href="/datastd"' in client.get("/").text  # the navigation item is live
    for card, count in (("value-domains", "19"), ("regions", "3,212"), ("industries", "1,971")):
        assert re.search(rf'id="card-{card}".*?data-count="{count.replace(",", "")}"', page.text, re.S)


def test_the_region_and_industry_pages_browse_and_search(client: TestClient, loaded: TwoDistricts) -> None:
    sign_in(client, "a_officer")
    provinces = client.get("/datastd/regions").text
    assert "浙江省" in provinces and "台湾省" in provinces
    zhejiang = client.get("/datastd/regions", params={"parent": "330100"}).text
    assert "西湖区" in zhejiang and "杭州市" in zhejiang
    found = client.get("/datastd/regions", params={"q": "朝阳"}).text
    assert "110105" in found and "220104" in found  # 北京 and 长春 both have a 朝阳区
    sections = client.get("/datastd/industries").text
    assert "住宿和餐饮业" in sections
    assert "正餐服务" in client.get("/datastd/industries", params={"parent": "621"}).text
    assert "6210" in client.get("/datastd/industries", params={"q": "正餐"}).text


def test_an_officer_reads_a_domain_but_gets_no_edit_form(client: TestClient, loaded: TwoDistricts) -> None:
    sign_in(client, "a_officer")
    page = client.get("/datastd/value-domains/penalty_kind").text
    assert "行政拘留" in page and 'name="action"' not in page and "/items" not in page
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/account").text)
    assert csrf
    refused = client.post("/datastd/value-domains/risk_level/items",
                          data={"csrf_token": csrf.group(1), "code": "orange", "name": "较高风险（橙）"})
    assert refused.status_code == 403


def test_an_admin_edits_items_on_the_page(client: TestClient, loaded: TwoDistricts) -> None:
    csrf = sign_in(client, "sysadmin")
    page = client.get("/datastd/value-domains/risk_level").text
    assert 'name="action" value="retire"' in page
    added = client.post("/datastd/value-domains/risk_level/items",
                        data={"csrf_token": csrf, "code": "orange", "name": "较高风险（橙）"}, follow_redirects=False)
    assert added.status_code == 303
    page = client.get("/datastd/value-domains/risk_level").text
    assert "较高风险（橙）" in page
    row = re.search(r'<tr id="item-\d+"[^>]*>\s*<td[^>]*><code>orange</code>.*?</tr>', page, re.S)
    assert row
    found = re.search(r'items/(\d+)".*?name="version" value="(\d+)"', row.group(0), re.S)
    assert found
    item_id, version = found.groups()
    bad = client.post("/datastd/value-domains/risk_level/items",
                      data={"csrf_token": csrf, "code": "orange", "name": "橙"})
    assert bad.status_code == 409
    blank = client.post(f"/datastd/value-domains/risk_level/items/{item_id}",
                        data={"csrf_token": csrf, "version": version, "action": "save", "name": " "})
    assert blank.status_code == 422 and "field-error" in blank.text
    retired = client.post(f"/datastd/value-domains/risk_level/items/{item_id}",
                          data={"csrf_token": csrf, "version": version, "action": "retire"}, follow_redirects=False)
    assert retired.status_code == 303
    stale = client.post(f"/datastd/value-domains/risk_level/items/{item_id}",
                        data={"csrf_token": csrf, "version": version, "action": "restore"})
    assert stale.status_code == 409
    with session_scope() as db:
        assert service.resolve(db, "risk_level", "orange") is None


def test_the_cli_loads_idempotently_and_reports_counts(fresh_db_url: str) -> None:
    first = runner.invoke(cli_app, ["reference", "load", "--json"])
    assert first.exit_code == 0, first.output
    counts = json.loads(first.output)
    assert counts["regions"] == {"province": 34, "city": 333, "county": 2845, "inserted": 3212, "updated": 0}
    assert {k: counts["industries"][k] for k in ("section", "division", "group", "class")} == {
        "section": 20, "division": 97, "group": 473, "class": 1381}
    again = json.loads(runner.invoke(cli_app, ["reference", "load", "--json"]).output)
    assert again["regions"]["inserted"] == again["industries"]["inserted"] == again["value_domains"]["inserted"] == 0
    path = runner.invoke(cli_app, ["reference", "industry", "6210", "--json"])
    assert [p["code"] for p in json.loads(path.output)] == ["H", "62", "621", "6210"]
    assert runner.invoke(cli_app, ["reference", "industry", "9999"]).exit_code == 1
    items = json.loads(runner.invoke(cli_app, ["reference", "domains", "credit_class", "--json"]).output)
    assert [i["code"] for i in items] == ["A", "B", "C", "D"]
    regions = json.loads(runner.invoke(cli_app, ["reference", "regions", "--parent", "110000", "--json"]).output)
    assert any(r["code"] == "110105" for r in regions)
