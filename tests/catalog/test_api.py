"""The catalog API: approval through HTTP with 409/422 on bad moves, stale decisions, checklists in
scope, weights with one message per wrong group."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from jianguan.catalog import content
from jianguan.db import session_scope
from jianguan.entities import service as entities
from jianguan.entities.uscc import make_uscc
from jianguan.reference import service as ref
from tests.auth.conftest import token_for
from tests.catalog.conftest import item_data, make_people

RESTAURANT = make_uscc("9", "1", "330106", "MA2H0301")


@pytest.fixture
def client(fresh_db_url: str) -> Iterator[TestClient]:
    from jianguan.app import create_app

    with session_scope() as db:
        ref.load_all(db)
        make_people(db)
        content.load(db)
        entities.create_entity(db, data={"uscc": RESTAURANT, "name": "西湖小吃店", "kind": "individual_business",
                                         "region_code": "330106", "industry_code": "6220", "scale": "micro"},
                               actor=None)
    with TestClient(create_app()) as c:
        yield c


def test_an_item_goes_through_approval_over_the_api(client: TestClient) -> None:
    proposer, reviewer, approver = token_for("zhang"), token_for("wang"), token_for("zhao")
    body = {"reason": "新增事项", "item": item_data().model_dump(mode="json")}
    created = client.post("/api/v1/catalog/items", json=body, headers=proposer)
    assert created.status_code == 201, created.text
    version = created.json()
    assert version["state"] == "draft" and version["legal_basis"][0]["title"] == "中华人民共和国食品安全法"
    again = client.post("/api/v1/catalog/items", json=body, headers=proposer)
    assert again.status_code == 409
    url = f"/api/v1/catalog/versions/{version['id']}/decide"
    early = client.post(url, json={"action": "approve", "comment": "同意"}, headers=approver)
    assert early.status_code == 409 and early.json()["error"]["code"] == "illegal_transition"
    assert client.post(url, json={"action": "submit"}, headers=proposer).json()["state"] == "under_review"
    queue = client.get("/api/v1/catalog/approvals", headers=reviewer).json()
    assert [v["id"] for v in queue] == [version["id"]] and "pass_review" in queue[0]["actions"]
    leader = client.get("/api/v1/catalog/approvals", headers=approver).json()
    assert "pass_review" not in leader[0]["actions"]  # a leader may send it back, not pass the legal review
    no_reason = client.post(url, json={"action": "return"}, headers=reviewer)
    assert no_reason.status_code == 422 and no_reason.json()["error"]["details"][0]["field"] == "comment"
    passed = client.post(url, json={"action": "pass_review", "comment": "依据充分"}, headers=reviewer).json()
    stale = client.post(url, json={"action": "approve", "comment": "同意", "version": passed["version"] - 1},
                        headers=approver)
    assert stale.status_code == 409
    done = client.post(url, json={"action": "approve", "comment": "同意", "version": passed["version"]},
                       headers=approver)
    assert done.status_code == 200 and done.json()["state"] == "in_force"
    item = client.get(f"/api/v1/catalog/items/{version['item_id']}", headers=reviewer).json()
    assert item["status"] == "in_force" and item["current"] == 1


def test_bad_input_names_the_field(client: TestClient) -> None:
    headers = token_for("zhang")
    data = item_data().model_dump(mode="json")
    data["legal_basis"] = [{"law": "air-pollution-law", "article": "第一百一十八条"}]
    refused = client.post("/api/v1/catalog/items", json={"reason": "x", "item": data}, headers=headers)
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["details"][0]["field"] == "legal_basis[0]" and "生态环境法典" in error["message"]
    data = dict(item_data().model_dump(mode="json"), code="123")
    short = client.post("/api/v1/catalog/items", json={"reason": "x", "item": data}, headers=headers)
    assert short.status_code == 422 and "code" in short.text


def test_a_checklist_over_the_api_keeps_mandatory_points(client: TestClient) -> None:
    headers = token_for("zhang")
    made = client.post("/api/v1/catalog/checklists", json={"uscc": RESTAURANT}, headers=headers)
    assert made.status_code == 201, made.text
    checklist = made.json()
    assert 8 <= len(checklist["points"]) <= 12 and any("小微餐饮简化检查表" in r for r in checklist["reasons"])
    mandatory = next(p for p in checklist["points"] if p["mandatory"])
    drop = client.post(f"/api/v1/catalog/checklists/{checklist['id']}/points/drop",
                       json={"code": mandatory["code"], "reason": "不需要"}, headers=headers)
    assert drop.status_code == 409
    added = client.post(f"/api/v1/catalog/checklists/{checklist['id']}/points",
                        json={"code": "33000003001001-01"}, headers=headers)
    assert added.status_code == 201, added.text  # an emergency point added by the officer, recorded
    assert added.json()["points"][-1]["added_by"] is not None
    unknown = client.post("/api/v1/catalog/checklists", json={"uscc": make_uscc("9", "1", "330106", "MA2H0999")},
                          headers=headers)
    assert unknown.status_code == 422 and unknown.json()["error"]["details"][0]["field"] == "uscc"


def test_weights_are_refused_group_by_group(client: TestClient) -> None:
    tree = client.get("/api/v1/catalog/indicators", params={"year": 2026}, headers=token_for("zhao")).json()
    assert len(tree) == 8 and sum(len(d["children"]) for d in tree) == 36
    weights = {d["code"]: d["weight"] for d in tree}
    weights["D1"] = str(float(weights["D1"]) + 5)
    refused = client.put("/api/v1/catalog/indicators/weights/2027", json={"weights": weights},
                         headers=token_for("zhao"))
    assert refused.status_code == 422
    fields = [d["field"] for d in refused.json()["error"]["details"]]
    assert "domains" in fields and "D1" in fields  # the domains' sum, and D1's missing children
    assert client.put("/api/v1/catalog/indicators/weights/2027", json={"weights": weights},
                      headers=token_for("zhang")).status_code == 403
