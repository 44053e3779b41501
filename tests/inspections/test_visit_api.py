"""The inspection loop over HTTP: answers PUT twice give one answer, uploads by multipart, a stale
decision is 409, an officer not on the team cannot record anything."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from jianguan.auth import service as auth
from jianguan.auth.models import User
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
    interview = client.post(f"{base}/evidence", headers=me, data={"kind": "interview"},
                            files={"file": ("询问笔录.pdf", b"%PDF-1.4 record", "application/pdf")})
    assert interview.status_code == 201 and interview.json()["kind"] == "interview"
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
    assert "js/visit.js" in page.text and "完成现场检查" in page.text and "上传询问笔录" in page.text
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
    first = json.loads(Path(out).read_text(encoding="utf-8").splitlines()[0])
    assert code == 0 and first["inspection_code"] == record["inspection_code"]
    assert inspection_id


def test_the_entity_portal(started: tuple[TestClient, int, str]) -> None:
    from tests.officers.test_pages import csrf_of, sign_in

    client, inspection_id, point = started
    with session_scope() as db:
        record = db.get(Inspection, inspection_id)
        assert record is not None
        zfy = db.scalars(select(User).where(User.username == "zfy")).one()
        for answer in record.answers:
            visits.save_answer(db, inspection_id=record.id, point_code=answer.point_code,
                               answer="no" if answer.point_code == point else "yes", actor=zfy)
        visits.refuse_signature(db, inspection_id=record.id, reason="拒签", actor=zfy)
        visits.decide(db, inspection_id=record.id, action="finish_visit", actor=zfy)
        visits.decide(db, inspection_id=record.id, action="send_feedback", actor=zfy)
        auth.create_user(db, username="shopowner", display_name="店主", password=PASSWORD, roles=["entity_user"],
                         entity_id=record.entity_id, actor=None)
    sign_in(client, "shopowner")
    assert client.get(f"/inspections/visits/{inspection_id}", follow_redirects=False).status_code == 303
    page = client.get("/inspections/rectification")
    assert page.status_code == 200 and "提交整改方案" in page.text
    version = page.text.split('name="version" value="')[1].split('"')[0]
    finding_id = page.text.split('id="finding-')[1].split('"')[0]
    planned = client.post(f"/inspections/findings/{finding_id}/decide", data={
        "csrf_token": csrf_of(client), "action": "submit_plan", "version": version, "responsible": "店主",
        "measures": "补办许可证", "timetable": "两周内"})
    assert "补办许可证" in planned.text and "整改方案待审核" in planned.text
    kept = client.post(f"/inspections/rectification/{finding_id}/evidence", data={"csrf_token": csrf_of(client)},
                       files={"file": ("许可证.png", PNG, "image/png")})
    assert "许可证.png" in kept.text
    assert client.get("/inspections").status_code == 200  # the officers' pages show it nothing
    assert "330106-SJ-JH2026" not in client.get("/inspections").text


def test_the_board_page(started: tuple[TestClient, int, str]) -> None:
    from tests.officers.test_pages import sign_in

    client, _, _ = started
    sign_in(client, "leader")
    page = client.get("/inspections/board")
    assert page.status_code == 200 and "督办看板" in page.text and "待执法人员处理" in page.text
