"""The inspection loop over HTTP: answers PUT twice give one answer, uploads by multipart, a stale
decision is 409, an officer not on the team cannot record anything."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from jianguan.auth import service as auth
from jianguan.db import session_scope
from jianguan.inspections import draws, service, visits
from jianguan.inspections.models import Inspection
from jianguan.officers import roster
from tests.auth.conftest import PASSWORD, token_for
from tests.inspections.conftest import DAY, make_world, plan_data

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def started(fresh_db_url: str) -> Iterator[tuple[TestClient, int, str]]:
    """An inspection on site whose first officer has the account ``zfy``."""
    from jianguan.app import create_app

    with session_scope() as db:
        world = make_world(db)
        plan = service.create_plan(db, data=plan_data(kind="complaint", ratio=None,
                                                      target_usccs=[world.entities[1].uscc]), actor=world.author)
        service.decide(db, plan_id=plan.id, action="submit", actor=world.author)
        service.decide(db, plan_id=plan.id, action="approve", actor=world.leader)
        draws.run_draw(db, plan_id=plan.id, seed="api", on=DAY, actor=world.author)
        service.decide(db, plan_id=plan.id, action="begin", actor=world.leader)
        record = db.scalars(select(Inspection)).one()
        officer = next(o for o in world.officers if o.id == record.officers[0].officer_id)
        user = auth.create_user(db, username="zfy", display_name="执法员", password=PASSWORD, roles=["officer"],
                                agency_id=world.xihu.id, actor=None)
        roster.update_officer(db, officer_id=officer.id, user_id=user.id, version=officer.version, actor=None)
        visits.prepare(db, inspection_id=record.id, actor=user)
        visits.decide(db, inspection_id=record.id, action="approve_preparation", actor=world.leader)
        for member in record.officers:
            visits.show_credential(db, inspection_id=record.id, actor=user, officer_id=member.officer_id)
        visits.decide(db, inspection_id=record.id, action="start_visit", actor=user)
        point = record.answers[0].point_code
        inspection_id = record.id
    with TestClient(create_app()) as client:
        yield client, inspection_id, point


def test_the_loop_over_http(started: tuple[TestClient, int, str]) -> None:
    client, inspection_id, point = started
    me, outsider = token_for("zfy"), token_for("outsider")
    base = f"/api/v1/inspections/visits/{inspection_id}"
    mine = client.get("/api/v1/inspections/visits?mine=true", headers=me).json()
    assert [v["id"] for v in mine["items"]] == [inspection_id]
    for _ in range(2):  # the phone retries after a lost connection
        saved = client.put(f"{base}/answers/{point}", json={"answer": "no", "note": "无证经营"}, headers=me)
        assert saved.status_code == 200, saved.text
    detail = client.get(base, headers=me).json()
    assert [a["answer"] for a in detail["answers"] if a["point_code"] == point] == ["no"]
    bad = client.put(f"{base}/answers/{point}", json={"answer": "maybe"}, headers=me)
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "answer"
    assert client.put(f"{base}/answers/{point}", json={"answer": "yes"}, headers=outsider).status_code == 404
    photo = client.post(f"{base}/evidence", headers=me, data={"kind": "photo", "point_code": point,
                                                               "latitude": "30.27", "longitude": "120.15"},
                        files={"file": ("现场.png", PNG, "image/png")})
    assert photo.status_code == 201 and len(photo.json()["sha256"]) == 64
    signed = client.post(f"{base}/signature", headers=me, data={"signer": "店长 李四"},
                         files={"file": ("signature.png", PNG, "image/png")}).json()
    stale = client.post(f"{base}/actions/finish_visit", json={"expected_version": signed["version"] - 1},
                        headers=me)
    assert stale.status_code == 409
    for answer in detail["answers"][1:]:
        client.put(f"{base}/answers/{answer['point_code']}", json={"answer": "yes", "value": "5"}, headers=me)
    done = client.post(f"{base}/actions/finish_visit", json={"expected_version": signed["version"]}, headers=me)
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "feedback" and "send_feedback" in done.json()["actions"]
    finding = client.get(base, headers=me).json()["findings"][0]
    assert finding["basis"].startswith("《中华人民共和国食品安全法》") and finding["state"] == "open"


def test_the_phone_pages(started: tuple[TestClient, int, str]) -> None:
    from tests.officers.test_pages import csrf_of, sign_in

    client, inspection_id, point = started
    sign_in(client, "zfy")
    tasks = client.get("/inspections/tasks")
    assert tasks.status_code == 200 and f"/inspections/visits/{inspection_id}" in tasks.text
    page = client.get(f"/inspections/visits/{inspection_id}")
    assert page.status_code == 200 and "现场检查中" in page.text and f'data-point="{point}"' in page.text
    assert "js/visit.js" in page.text and "完成现场检查" in page.text
    refused = client.post(f"/inspections/visits/{inspection_id}/refusal", data={"csrf_token": csrf_of(client),
                                                                                "reason": "拒绝签字"})
    assert "已记录拒签情况" in refused.text and "拒绝签字" in refused.text
    client.post("/logout", data={"csrf_token": csrf_of(client)})
    sign_in(client, "outsider")
    assert client.get(f"/inspections/visits/{inspection_id}").status_code == 404


def test_reporting_records_in_the_national_layout(started: tuple[TestClient, int, str], tmp_path: object) -> None:
    import datetime as dt
    import io
    import json

    import polars as pl

    from tests.inspections.test_api_cli import run_cli

    client, inspection_id, _ = started
    today = dt.date.today()
    since, until = (today - dt.timedelta(days=1)).isoformat(), (today + dt.timedelta(days=1)).isoformat()
    lines = client.get(f"/api/v1/inspections/records?since={since}&until={until}", headers=token_for("leader"))
    assert lines.status_code == 200
    record = json.loads(lines.text.splitlines()[0])
    assert record["item_codes"] == "33000001901000" and record["agency_code"] == "330106-SJ"
    assert record["uscc"] and record["division_code"] == "330106" and record["double_random"] is False
    assert record["officers"].count("（XH2026") == 2 and record["started_at"]
    assert client.get(f"/api/v1/inspections/records?since={since}&until={until}",
                      headers=token_for("outsider")).text == ""  # another district's officer: nothing
    book = client.get(f"/api/v1/inspections/records?since={since}&until={until}&format=xlsx",
                      headers=token_for("leader"))
    sheet = pl.read_excel(io.BytesIO(book.content))
    assert sheet.columns[:3] == ["检查编号", "计划编号", "是否双随机"] and sheet.height == 1
    out = f"{tmp_path}/records.jsonl"
    code, _, _ = run_cli("inspection", "export", "--since", since, "--until", until, "--out", out)
    assert code == 0 and json.loads(open(out, encoding="utf-8").readline())["inspection_code"] == record[
        "inspection_code"]
    assert inspection_id
