"""Catalog pages: tree, item with versions and diff, decisions with CSRF and stale versions, weights
editor errors beside each group, the designer and the entity checklist with its QR code."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from jianguan.catalog import content, service
from jianguan.catalog.models import ChecklistTemplate
from jianguan.db import session_scope
from jianguan.entities import service as entities
from jianguan.entities.uscc import make_uscc
from jianguan.reference import service as ref
from tests.catalog.conftest import item_data, make_people
from tests.officers.test_pages import sign_in

RESTAURANT = make_uscc("9", "1", "330106", "MA2H0401")
STALE = "该记录已被他人修改"


@pytest.fixture
def client(fresh_db_url: str) -> Iterator[TestClient]:
    from jianguan.app import create_app

    with session_scope() as db:
        ref.load_all(db)
        people = make_people(db)
        content.load(db)
        entities.create_entity(db, data={"uscc": RESTAURANT, "name": "西湖小吃店", "kind": "individual_business",
                                         "region_code": "330106", "industry_code": "6220", "scale": "micro"},
                               actor=None)
        service.propose_item(db, data=item_data(), reason="新增餐饮事项", actor=people.proposer)
    with TestClient(create_app()) as c:
        yield c


def _item_id(code: str) -> int:
    with session_scope() as db:
        item = service.item_by_code(db, code)
        assert item is not None
        return item.id


def test_the_catalog_tree_lists_main_items_with_their_sub_items(client: TestClient) -> None:
    sign_in(client, "zhang")
    page = client.get("/catalog")
    assert page.status_code == 200
    assert "对餐饮服务食品安全的监督检查" in page.text and 'class="sub-item"' in page.text
    joint = client.get("/catalog/joint")
    assert joint.status_code == 200 and "联合检查建议" in joint.text and "↔" in joint.text
    found = client.get("/catalog", params={"q": "油烟"})
    assert found.status_code == 200 and "油烟" in found.text and "对特种设备" not in found.text


def test_a_decision_on_the_page_moves_the_version_and_a_stale_form_is_refused(client: TestClient) -> None:
    csrf = sign_in(client, "zhang")
    item_id = _item_id("33000001901000")
    page = client.get(f"/catalog/items/{item_id}")
    assert "提交法制审核" in page.text
    version_id = int(re.search(r'/catalog/versions/(\d+)/decide', page.text).group(1))  # type: ignore[union-attr]
    version = int(re.search(r'name="version" value="(\d+)"', page.text).group(1))  # type: ignore[union-attr]
    done = client.post(f"/catalog/versions/{version_id}/decide", data={"csrf_token": csrf, "action": "submit",
                                                                      "version": version}, follow_redirects=True)
    assert done.status_code == 200 and "法制审核中" in done.text
    stale = client.post(f"/catalog/versions/{version_id}/decide", data={"csrf_token": csrf, "action": "submit",
                                                                       "version": version}, follow_redirects=True)
    assert stale.status_code == 200 and STALE in stale.text and "法制审核中" in stale.text
    no_csrf = client.post(f"/catalog/versions/{version_id}/decide", data={"action": "submit", "version": version})
    assert no_csrf.status_code in (400, 403)


def test_an_adjustment_drafted_on_the_page_shows_its_differences(client: TestClient) -> None:
    csrf = sign_in(client, "zhang")
    item_id = _item_id("33000001001000")
    made = client.post(f"/catalog/items/{item_id}/revise",
                       data={"csrf_token": csrf, "reason": "明确检查范围", "name": "对餐饮服务食品安全状况的监督检查",
                             "description": "", "change": "adjustment"}, follow_redirects=True)
    assert made.status_code == 200 and "已起草第 2 版" in made.text
    diff = client.get(f"/catalog/items/{item_id}", params={"version": 2, "a": 1, "b": 2})
    assert "<del>" in diff.text and "<ins>状况</ins>" in diff.text


def test_the_weights_editor_shows_each_wrong_group(client: TestClient) -> None:
    csrf = sign_in(client, "zhao")
    page = client.get("/catalog/indicators")
    assert page.status_code == 200 and "合规经营" in page.text and "D5.1.6" in page.text
    fields = dict(re.findall(r'name="(w:[^"]+)" value="([^"]*)"', page.text))
    assert len(fields) == 50
    fields["w:D1"] = "16"
    fields["w:D5.1.1"] = "abc"
    refused = client.post("/catalog/indicators", data={"csrf_token": csrf, "year": "2027", **fields})
    assert refused.status_code == 422
    assert "abc 不是数字" in refused.text
    fields["w:D5.1.1"] = re.search(r'name="w:D5.1.1" value="([^"]*)"', page.text).group(1)  # type: ignore[union-attr]
    summed = client.post("/catalog/indicators", data={"csrf_token": csrf, "year": "2027", **fields})
    assert summed.status_code == 422 and "合计为 101" in summed.text
    fields["w:D1"] = re.search(r'name="w:D1" value="([^"]*)"', page.text).group(1)  # type: ignore[union-attr]
    saved = client.post("/catalog/indicators", data={"csrf_token": csrf, "year": "2027", **fields},
                        follow_redirects=True)
    assert saved.status_code == 200 and "2027" in saved.text


def test_the_designer_changes_a_draft_and_previews_it(client: TestClient) -> None:
    csrf = sign_in(client, "root")
    with session_scope() as db:
        template_id = db.scalars(select(ChecklistTemplate.id).where(ChecklistTemplate.code == "TPL-HOTEL")).one()
    page = client.get(f"/catalog/templates/{template_id}/design")
    assert page.status_code == 200 and 'data-testid="preview"' in page.text
    first = re.search(r'id="p-([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    moved = client.post(f"/catalog/templates/{template_id}/design",
                        data={"csrf_token": csrf, "op": "down", "code": first}, follow_redirects=True)
    assert moved.status_code == 200 and "发布此草稿" in moved.text
    assert re.search(r'id="p-([^"]+)"', moved.text).group(1) != first  # type: ignore[union-attr]
    published = client.post(f"/catalog/templates/{template_id}/design", data={"csrf_token": csrf, "op": "publish"},
                            follow_redirects=True)
    assert "发布此草稿" not in published.text


def test_an_officer_opens_an_entity_checklist_with_its_qr_code(client: TestClient) -> None:
    csrf = sign_in(client, "zhang")
    page = client.get("/catalog/checklist", params={"uscc": RESTAURANT})
    assert page.status_code == 200 and "小微餐饮简化检查表" in page.text and "<svg" in page.text
    made = client.post("/catalog/checklist", data={"csrf_token": csrf, "uscc": RESTAURANT}, follow_redirects=True)
    assert made.status_code == 200 and "必查" in made.text
    unknown = client.get("/catalog/checklist", params={"uscc": "91330106MA2H9999XX"})
    assert "没有统一社会信用代码为" in unknown.text


def test_a_new_item_is_proposed_on_the_page_and_bad_input_is_named(client: TestClient) -> None:
    csrf = sign_in(client, "zhang")
    form = {"csrf_token": csrf, "code": "33000001960000", "name": "对网络餐饮服务第三方平台的监督检查",
            "domain": "food", "department": "市场监督管理局", "object_kinds": ["enterprise"],
            "methods": ["online", "documents"], "key_item": "on", "sampling_ratio": "10",
            "laws": ["food-safety-law", "", ""], "articles": ["第六十二条", "", ""],
            "points": "是否对入网食品经营者进行实名登记 | food-safety-law | 第六十二条 | 严重\n是否建立投诉处理制度",
            "reason": "网络餐饮监管需要"}
    bad = client.post("/catalog/items/new", data={**form, "laws": ["air-pollution-law", "", ""],
                                                  "articles": ["第一百一十八条", "", ""]})
    assert bad.status_code == 422 and "生态环境法典" in bad.text and "对网络餐饮服务第三方平台的监督检查" in bad.text
    made = client.post("/catalog/items/new", data=form, follow_redirects=True)
    assert made.status_code == 200 and "提交法制审核" in made.text and "是否对入网食品经营者进行实名登记" in made.text
    with session_scope() as db:
        item = service.item_by_code(db, "33000001960000")
        assert item is not None
        version = service.latest_version(db, item)
        assert [p.severity for p in version.check_points] == ["serious", "general"]
        assert version.legal_bases[0].article_no == "第六十二条" and version.state == "draft"
