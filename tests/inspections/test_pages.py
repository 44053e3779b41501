"""Plan pages: the form names each wrong field, a plan goes through approval and the draw on its page,
the strata and reasons are shown, verification is one click, a sealed plan stays hidden."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from jianguan.db import session_scope
from tests.inspections.conftest import make_world
from tests.officers.test_pages import csrf_of, sign_in


@pytest.fixture
def client(fresh_db_url: str) -> Iterator[TestClient]:
    from jianguan.app import create_app

    with session_scope() as db:
        make_world(db)
    with TestClient(create_app()) as c:
        yield c


FORM = {"title": "西湖区餐饮双随机抽查", "kind": "routine_random", "methods": ["on_site"],
        "item_codes": ["33000001901000"], "region_code": "330106", "size_by": "ratio", "ratio": "25",
        "weighted": "on", "starts_on": "2026-12-01", "ends_on": "2026-12-31", "officers_per_domain": "2",
        "expert_count": "0"}


def _plan_id(response_url: str) -> int:
    found = re.search(r"/inspections/plans/(\d+)$", response_url)
    assert found, response_url
    return int(found.group(1))


def test_the_plan_form_names_each_wrong_field_and_keeps_what_was_typed(client: TestClient) -> None:
    csrf = sign_in(client, "author")
    bad = client.post("/inspections/plans/save", data={**FORM, "csrf_token": csrf, "ratio": "", "size_by": "count",
                                                        "count": "abc", "ends_on": "2026-11-01",
                                                        "region_code": "330108"})
    assert bad.status_code == 422
    assert 'name="count" value="abc"' in bad.text and "西湖区餐饮双随机抽查" in bad.text
    assert bad.text.count('class="field-error"') >= 1 and 'aria-invalid="true"' in bad.text
    again = client.post("/inspections/plans/save", data={**FORM, "csrf_token": csrf, "ends_on": "2026-11-01",
                                                          "region_code": "330108"})
    assert again.status_code == 422
    assert "结束日期不得早于开始日期" in again.text and "计划只能覆盖本部门辖区" in again.text


def test_draw_up_approve_draw_and_verify_on_the_pages(client: TestClient) -> None:
    csrf = sign_in(client, "author")
    saved = client.post("/inspections/plans/save", data={**FORM, "csrf_token": csrf})
    assert saved.status_code == 200 and "已制定" in saved.text
    plan_id = _plan_id(str(saved.url))
    page = client.get(f"/inspections/plans/{plan_id}")
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version and "提交审批" in page.text
    client.post(f"/inspections/plans/{plan_id}/decide", data={"csrf_token": csrf, "action": "submit",
                                                              "version": version.group(1)})
    client.post("/logout", data={"csrf_token": csrf_of(client)})
    csrf = sign_in(client, "leader")
    page = client.get(f"/inspections/plans/{plan_id}")
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version and "批准并备案" in page.text
    done = client.post(f"/inspections/plans/{plan_id}/decide", data={"csrf_token": csrf, "action": "approve",
                                                                     "version": version.group(1)})
    assert "已批准" in done.text and "杭州市市场监督管理局" in done.text  # filed with the city bureau
    drawn = client.post(f"/inspections/plans/{plan_id}/draw",
                        data={"csrf_token": csrf, "seed": "摇号会 第1轮 20261215", "inspection_date": "2026-12-15"})
    assert "抽取完成" in drawn.text and "摇号会 第1轮 20261215" in drawn.text
    assert "信用A类：免于日常双随机抽查" in drawn.text and "分层" in drawn.text and "执法员" in drawn.text
    verify_url = re.search(r'action="(/inspections/draws/\d+/verify)"', drawn.text)
    assert verify_url
    checked = client.post(verify_url.group(1), data={"csrf_token": csrf})
    assert "核验通过" in checked.text
    assert "作废本次抽取" in checked.text  # the leader may void before the plan begins


def test_a_sealed_plan_is_hidden_from_a_colleague(client: TestClient) -> None:
    csrf = sign_in(client, "author")
    saved = client.post("/inspections/plans/save", data={**FORM, "kind": "unannounced", "csrf_token": csrf})
    plan_id = _plan_id(str(saved.url))
    assert "检查开始前保密" in saved.text
    client.post("/logout", data={"csrf_token": csrf_of(client)})
    sign_in(client, "outsider")
    assert client.get(f"/inspections/plans/{plan_id}").status_code == 404
    assert "西湖区餐饮双随机抽查" not in client.get("/inspections").text
