"""The case procedure over the API, on the pages and from the command line: the same rules answer with the
field named (422), a stale form gets 409, and the pages show every deadline and the documents issued."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from jianguan.auth import service as auth
from jianguan.cases import steps
from jianguan.db import session_scope
from jianguan.officers.models import Officer
from tests.auth.conftest import token_for
from tests.inspections.conftest import PASSWORD, make_world
from tests.officers.test_pages import sign_in


class Clock:
    day = dt.date(2026, 8, 3)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> type[Clock]:
    Clock.day = dt.date(2026, 8, 3)
    monkeypatch.setattr(steps, "today_shanghai", lambda: Clock.day)
    return Clock


@pytest.fixture
def client(fresh_db_url: str) -> Iterator[tuple[TestClient, str, list[int]]]:
    from jianguan.app import create_app

    with session_scope() as db:
        world = make_world(db, n_entities=3)
        auth.create_user(db, username="fazhi", display_name="法制审核员", password=PASSWORD, roles=["legal_reviewer"],
                         agency_id=world.xihu.id, actor=None)
        uscc = world.entities[0].uscc
        officers = list(db.scalars(select(Officer.id).where(Officer.agency_id == world.xihu.id).order_by(Officer.id)))
    with TestClient(create_app()) as c:
        yield c, uscc, officers


def test_a_case_over_the_api(client: tuple[TestClient, str, list[int]], clock: type[Clock]) -> None:
    c, uscc, officers = client
    officer, leader, reviewer = token_for("author"), token_for("leader"), token_for("fazhi")
    case = c.post("/api/v1/cases", json={"title": "经营超过保质期的食品", "source_type": "complaint",
                                         "party_uscc": uscc, "discovered_on": "2026-07-30",
                                         "violation_code": "SP-124"}, headers=officer).json()
    url = f"/api/v1/cases/{case['id']}"
    clock.day = dt.date(2026, 8, 4)
    assert c.post(f"{url}/actions/file", json={}, headers=leader).json()["state"] == "filed"
    assert c.post(f"{url}/officers", json={"officer_ids": officers[:2]}, headers=officer).status_code == 200
    content = {"respondent": {"name": "王五"}, "qa": [{"q": "进货时间？", "a": "7月1日"}]}
    record = c.post(f"{url}/records", json={"kind": "inquiry", "content": content}, headers=officer)
    assert record.status_code == 201 and record.json()["document_id"]
    outside = c.post(f"{url}/proposal", json={"facts": {"goods_value": "8000"}, "kinds": ["3"], "fine": "60000"},
                     headers=officer)
    assert outside.status_code == 422 and outside.json()["error"]["details"][0]["field"] == "reason"
    proposed = c.post(f"{url}/proposal", json={"facts": {"goods_value": "8000"}, "kinds": ["3"], "fine": "70000"},
                      headers=officer).json()
    assert proposed["suggestion"]["range"] == ["65000.00", "85000.00"] and not proposed["deviation"]
    short = c.post(f"{url}/actions/report", json={"comment": "短"}, headers=officer)
    assert short.status_code == 422 and short.json()["error"]["details"][0]["field"] == "comment"
    c.post(f"{url}/actions/report", json={"comment": "经营超过保质期的酸奶24盒，货值8000元。"}, headers=officer)
    assert c.post(f"{url}/actions/approve", json={"comment": "同意"}, headers=officer).status_code == 403
    assert c.post(f"{url}/actions/approve", json={"comment": "同意"}, headers=reviewer).json()["state"] == "reviewed"
    noticed = c.post(f"{url}/actions/notify", json={}, headers=officer).json()
    stale = c.post(f"{url}/actions/record_statement", json={"comment": "请求从轻", "expected_version": 1},
                   headers=officer)
    assert stale.status_code == 409
    clock.day = dt.date(2026, 8, 12)  # past the 5 working days
    decided = c.post(f"{url}/actions/decide", json={"payload": {"fine": "65000"}, "expected_version":
                                                    noticed["version"]}, headers=leader).json()
    assert decided["state"] == "decided" and decided["decision"]["fine"] == "65000.00"
    assert decided["decision_number"].endswith("处罚〔2026〕1号")
    served = c.post(f"{url}/actions/serve", json={"payload": {"served_on": "2026-08-12"}}, headers=officer).json()
    assert served["payment_due_on"] == "2026-08-27"
    paid = c.post(f"{url}/payments", json={"amount": "65000", "receipt": "FS-1"}, headers=officer)
    assert paid.status_code == 201 and paid.json()["surcharge"] == "0.00"
    done = c.post(f"{url}/actions/execute", json={}, headers=officer).json()
    assert done["state"] == "executed"
    shown = {d["label"]: d for d in done["deadlines"]}
    assert shown["Decision served (7 working days)"]["met_on"] == "2026-08-12"
    queue = c.get("/api/v1/cases/review-queue", headers=reviewer).json()
    assert queue == []
    consistency = c.get("/api/v1/cases/consistency", headers=leader).json()
    assert consistency["decided"] == 1 and consistency["outside"] == 0  # ¥65,000 is inside ¥65,000–85,000
    assert consistency["rules"][0]["median"] == "65000.00"

    listed = CliRunner().invoke(__import__("jianguan.cli", fromlist=["app"]).app,
                                ["case", "show", case["code"], "--json"])
    assert listed.exit_code == 0
    out = json.loads(listed.stdout)
    assert out["state"] == "executed" and any(d["title"] == "行政处罚决定书" for d in out["documents"])


def test_the_case_pages(client: tuple[TestClient, str, list[int]], clock: type[Clock]) -> None:
    c, uscc, officers = client
    csrf = sign_in(c, "author")
    simple = c.post("/cases/simple", data={"csrf_token": csrf, "title": "未公示许可证", "party_uscc": uscc,
                                          "facts": "经营场所未公示食品经营许可证", "place": "前厅", "kinds": "3",
                                          "fine": "5000", "officer_ids": [str(o) for o in officers[:2]]})
    assert "行政处罚法第五十一条" in simple.text  # refused: over ¥3,000, the form is shown again
    made = c.post("/cases/simple", data={"csrf_token": csrf, "title": "未公示许可证", "party_uscc": uscc,
                                        "facts": "经营场所未公示食品经营许可证", "place": "前厅", "kinds": "1",
                                        "officer_ids": [str(o) for o in officers[:2]]}, follow_redirects=False)
    assert made.status_code == 303 and "/cases/" in made.headers["location"]
    page = c.get(made.headers["location"].split("#")[0])
    assert "当场行政处罚决定书" in page.text and "简易程序" in page.text and "期限" in page.text
    c.post("/logout", data={"csrf_token": csrf})
    public = c.get("/typical-cases")  # anyone, without signing in
    assert public.status_code == 200 and "典型案例" in public.text and "/login" not in str(public.url)
    csrf = sign_in(c, "author")
    for path, words in (("/cases", "法制审核"), ("/cases/review", "法制审核"), ("/cases/typical", "典型案例"),
                        ("/cases/consistency", "畸轻畸重")):
        got = c.get(path)
        assert got.status_code == 200 and words in got.text, path


def test_the_rule_editor(client: tuple[TestClient, str, list[int]], clock: type[Clock], tmp_path: Path) -> None:
    from jianguan.cases import benchmarks, discretion

    c, _uscc, _officers = client
    try:
        csrf = sign_in(c, "leader")
        page = c.get("/cases/discretion/SP-126-54")
        assert page.status_code == 200 and "SP-126-54" in page.text and "effective_from" in page.text
        text = page.text.split('class="yaml-edit" spellcheck="false">')[1].split("</textarea>")[0]
        import html

        edited = html.unescape(text).replace("min: 5000", "min: 6000")
        saved = c.post("/cases/discretion", data={"csrf_token": csrf, "spec": edited, "note": "提高下限"})
        assert "草稿" in saved.text and "v2" in saved.text
        bad = c.post("/cases/discretion", data={"csrf_token": csrf, "spec": "code: [", "note": "x"})
        assert "YAML" in bad.text
        versions = c.get("/api/v1/cases/discretion/rules/SP-126-54", headers=token_for("fazhi")).json()
        draft = versions[0]
        assert draft["status"] == "draft" and draft["spec"]["range"][0]["min"] == 6000
        own = c.post(f"/api/v1/cases/discretion/versions/{draft['id']}/decision", json={"approve": True},
                     headers=token_for("leader"))
        assert own.status_code == 403
        done = c.post(f"/api/v1/cases/discretion/versions/{draft['id']}/decision", json={"approve": True},
                      headers=token_for("fazhi")).json()
        assert done["status"] == "approved"
        got = c.post("/api/v1/cases/discretion/suggest", json={"rule": "SP-126-54", "facts": {}, "on": "2026-12-01"},
                     headers=token_for("author")).json()
        assert got["legal_range"] == ["6000.00", "50000.00"] and got["version"] == 2
        assert c.get("/cases/discretion/export.xlsx").content[:2] == b"PK"
        from jianguan.cli import app

        out = tmp_path / "rules.csv"
        exported = CliRunner().invoke(app, ["discretion", "export", "--out", str(out)])
        assert exported.exit_code == 0 and "6000-50000" in out.read_text(encoding="utf-8")
        listed = CliRunner().invoke(app, ["discretion", "versions", "SP-126-54", "--json"])
        assert [v["status"] for v in json.loads(listed.stdout)] == ["approved", "shipped"]
    finally:
        benchmarks._installed_key = None
        discretion.install([])
