"""The joint task board and its API: a proposed merge on the board becomes a joint task; the other
department agrees over the API; a request to another agency refused on the form keeps what was typed
and names each field; an agency not involved sees none of it."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from jianguan.auth import service as auth
from jianguan.collab import joint
from jianguan.collab.models import AssistRequest
from jianguan.core.workdays import today_shanghai
from jianguan.db import session_scope
from jianguan.inspections.models import Inspection
from jianguan.officers.models import Agency
from tests.auth.conftest import PASSWORD, token_for
from tests.inspections.conftest import make_world
from tests.inspections.test_burden import visit
from tests.officers.test_pages import sign_in


@pytest.fixture
def client(fresh_db_url: str) -> Iterator[TestClient]:
    from jianguan.app import create_app

    soon = today_shanghai() + dt.timedelta(days=7)
    with session_scope() as db:
        world = make_world(db, n_entities=6)
        visit(db, world, world.entities[4], world.xihu.id, state="notice", scheduled=soon)
        visit(db, world, world.entities[4], world.binjiang.id, state="notice", scheduled=soon + dt.timedelta(days=2))
        auth.create_user(db, username="bj_leader", display_name="滨江领导", password=PASSWORD, roles=["leader"],
                         agency_id=world.binjiang.id, data_scope="agency", actor=None)
    with TestClient(create_app()) as c:
        yield c


def test_a_merge_proposed_on_the_board_is_agreed_over_the_api(client: TestClient) -> None:
    csrf = sign_in(client, "city_leader")  # the city sees both districts' visits
    board = client.get("/collab/joint")
    assert board.status_code == 200 and "联合检查" in board.text and "西湖餐馆004" in board.text
    csrf = sign_in(client, "author")
    codes = re.findall(r'name="inspection_codes" value="([^"]+)"', client.get("/collab/joint").text)
    assert codes == [], "one district alone does not see the other's visit"
    with session_scope() as db:
        codes = list(db.scalars(select(Inspection.code).order_by(Inspection.id)))
    on = (today_shanghai() + dt.timedelta(days=8)).isoformat()
    made = client.post("/collab/joint", data={"csrf_token": csrf, "inspection_codes": codes, "scheduled_on": on,
                                              "note": "上午9点门口集合"}, follow_redirects=False)
    assert made.status_code == 303 and made.headers["location"].startswith("/collab/joint/")
    page = client.get(made.headers["location"])
    assert page.status_code == 200 and "上午9点门口集合" in page.text and "等待" in page.text
    task_id = int(made.headers["location"].rsplit("/", 1)[1])

    headers = token_for("bj_leader")
    seen = client.get(f"/api/v1/collab/joint-tasks/{task_id}", headers=headers).json()
    assert seen["actions"] == ["agree"] and len(seen["inspections"]) == 2
    agreed = client.post(f"/api/v1/collab/joint-tasks/{task_id}/actions/agree", headers=headers,
                         json={"expected_version": seen["version"]})
    assert agreed.status_code == 200 and sorted(agreed.json()["agreed_agency_ids"]) == sorted(seen["agency_ids"])
    stale = client.post(f"/api/v1/collab/joint-tasks/{task_id}/actions/schedule", headers=token_for("leader"),
                        json={"expected_version": seen["version"]})
    assert stale.status_code == 409
    done = client.post(f"/api/v1/collab/joint-tasks/{task_id}/actions/schedule", headers=token_for("leader"),
                       json={"expected_version": agreed.json()["version"]})
    assert done.status_code == 200 and done.json()["state"] == "scheduled"
    with session_scope() as db:
        task = joint.get(db, task_id=task_id, actor=db.scalar(select(auth.User).where(auth.User.username == "root")))
        assert {m.scheduled_on.isoformat() for m in joint.members(db, task)} == {on}
    assert client.get(f"/api/v1/collab/joint-tasks/{task_id}", headers=token_for("outsider")).status_code == 200
    assert client.get(f"/api/v1/collab/joint-tasks/{task_id}", headers=token_for("city_officer")).status_code == 200


def test_a_request_form_refused_keeps_what_was_typed(client: TestClient) -> None:
    csrf = sign_in(client, "author")
    form = client.get("/collab/assist/new")
    assert form.status_code == 200 and "杭州市滨江区市场监督管理局" in form.text
    bad = client.post("/collab/assist/new", data={"csrf_token": csrf, "kind": "inspect", "subject": "协查进货来源",
                                                  "reason": "短", "uscc": "91330106NOTHERE00"})
    assert bad.status_code == 422 and "协查进货来源" in bad.text and bad.text.count('role="alert"') == 3
    with session_scope() as db:
        assert db.scalar(select(AssistRequest.id)) is None
    headers = token_for("author")
    with session_scope() as db:
        agencies = {name: i for name, i in db.execute(select(Agency.name, Agency.id))}
    made = client.post("/api/v1/collab/assist-requests", headers=headers, json={
        "agency_id": agencies["杭州市滨江区市场监督管理局"], "kind": "inspect", "subject": "协查进货来源",
        "reason": "请协助核查供货商进货查验记录及冷链温度记录。", "uscc": "91330106TEST000004"})
    assert made.status_code == 201 and made.json()["state"] == "requested"
    theirs = client.get("/api/v1/collab/assist-requests?direction=incoming", headers=token_for("bj_leader")).json()
    assert [r["code"] for r in theirs] == [made.json()["code"]] and theirs[0]["actions"] == ["accept", "decline"]
    page = client.get(f"/collab/assist/{made.json()['id']}")
    assert page.status_code == 200 and "供货商进货查验记录" in page.text
    refused = client.post("/api/v1/collab/assist-requests", headers=headers, json={
        "agency_id": agencies["杭州市西湖区市场监督管理局"], "kind": "nonsense", "subject": "x", "reason": "y"})
    assert refused.status_code == 422
    fields = {d["field"] for d in refused.json()["error"]["details"]} | {refused.json()["error"].get("field")}
    assert {"agency_id", "kind", "subject", "reason"} <= fields
