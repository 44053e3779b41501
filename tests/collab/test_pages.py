"""The public form and status page without an account, and the staff queue and complaint page."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from jianguan.db import session_scope
from tests.inspections.conftest import make_world
from tests.officers.test_pages import sign_in

FORM = {"kind": "complaint", "category": "food_safety", "content": "在该店买的酸奶已经过期三天，店员拒绝退换。",
        "party_name": "西湖餐馆 003", "region_code": "330106", "address": "文三路1号", "name": "陈女士",
        "phone": "13800138000"}


@pytest.fixture
def client(fresh_db_url: str) -> Iterator[TestClient]:
    from jianguan.app import create_app

    with session_scope() as db:
        make_world(db, n_entities=5)
    with TestClient(create_app()) as c:
        yield c


def test_the_public_form_and_status_page(client: TestClient) -> None:
    page = client.get("/complaints/new")
    assert page.status_code == 200 and "投诉举报" in page.text and "西湖区" in page.text
    bad = client.post("/complaints/new", data={**FORM, "phone": "12", "content": "短"})
    assert bad.status_code == 422 and "文三路1号" in bad.text and bad.text.count('role="alert"') >= 2
    sent = client.post("/complaints/new", data=FORM, files={"photo": ("shelf.png", PNG, "image/png")})
    assert sent.status_code == 201
    number = re.search(r'id="number">(TS\d+)<', sent.text).group(1)  # type: ignore[union-attr]
    code = re.search(r'id="access-code">([A-Z0-9]{8})<', sent.text).group(1)  # type: ignore[union-attr]
    wrong = client.post("/complaints/status", data={"number": number, "code": "AAAAAAAA"})
    assert wrong.status_code == 404 and "酸奶" not in wrong.text
    shown = client.post("/complaints/status", data={"number": number, "code": code})
    assert shown.status_code == 200 and "已收到" in shown.text and "杭州市西湖区市场监督管理局" in shown.text


def test_the_staff_queue_and_complaint_page(client: TestClient) -> None:
    for _ in range(2):
        client.post("/complaints/new", data=FORM)
    csrf = sign_in(client, "author")
    queue = client.get("/complaints")
    assert queue.status_code == 200 and queue.text.count("TS") >= 2
    first = int(re.findall(r'href="/complaints/(\d+)"', queue.text)[-1])
    page = client.get(f"/complaints/{first}")
    assert "酸奶" in page.text and "13800138000" in page.text and "可能重复" in page.text
    version = page.text.split('name="version" value="')[1].split('"')[0]
    client.post(f"/complaints/{first}/decide", data={"csrf_token": csrf, "action": "accept", "version": version})
    dup = re.search(r'name="duplicate_ids" value="(\d+)"', client.get(f"/complaints/{first}").text)
    assert dup is not None
    merged = client.post(f"/complaints/{first}/merge", data={"csrf_token": csrf, "duplicate_ids": dup.group(1)})
    assert "已将 1 件" in merged.text


PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82")
