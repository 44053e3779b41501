"""督查 and the burden index over HTTP, on the pages and from the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from jianguan.db import session_scope
from jianguan.inspections import visits
from tests.auth.conftest import token_for
from tests.inspections.test_matters import TODAY, make_offices
from tests.officers.test_pages import csrf_of, sign_in

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(visits, "today_shanghai", lambda: TODAY)


@pytest.fixture
def client(fresh_db_url: str) -> Iterator[tuple[TestClient, dict[str, str]]]:
    from jianguan.app import create_app

    with session_scope() as db:
        o = make_offices(db)
        usccs = {"unit": o.units[0].uscc, "other": o.units[1].uscc, "restaurant": o.restaurant.uscc,
                 "county": str(o.county.id)}
    with TestClient(create_app()) as c:
        yield c, usccs


def test_a_matter_through_the_api(client: tuple[TestClient, dict[str, str]]) -> None:
    c, ids = client
    officer, leader, unit = token_for("city_du"), token_for("city_lead"), token_for("fgj")
    made = c.post("/api/v1/inspections/matters", json={"title": "减证便民行动落实情况", "level": "city",
                                                      "due_on": "2026-09-30", "unit_usccs": [ids["unit"]]},
                  headers=officer)
    assert made.status_code == 201, made.text
    matter = made.json()
    base = f"/api/v1/inspections/matters/{matter['id']}"
    assert c.post(f"{base}/actions/admit", json={}, headers=officer).status_code == 403
    assert c.post(f"{base}/actions/admit", json={"expected_version": matter["version"]},
                  headers=leader).status_code == 200
    stale = c.put(base, json={"due_on": "2026-10-31", "comment": "延期", "expected_version": matter["version"]},
                  headers=officer)
    assert stale.status_code == 409  # the admission changed it since
    assert c.post(f"{base}/actions/begin", json={}, headers=officer).status_code == 200
    bad = c.post(f"{base}/problems", json={"unit_uscc": ids["restaurant"], "text": "证明材料仍需纸质提交",
                                           "found_on": "2026-05-30"}, headers=officer)
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "unit_uscc"
    problem = c.post(f"{base}/problems", json={"unit_uscc": ids["unit"], "text": "证明材料仍需纸质提交",
                                               "found_on": "2026-05-30"}, headers=officer).json()
    assert c.post(f"/api/v1/inspections/matters/problems/{problem['id']}/responsibilities",
                  json={"unit_uscc": ids["unit"], "person": "王局长"}, headers=officer).status_code == 201
    task = c.post(f"/api/v1/inspections/matters/problems/{problem['id']}/tasks",
                  json={"unit_uscc": ids["unit"], "owner": "李科长", "measures": "取消纸质证明",
                        "due_on": "2026-07-31"}, headers=officer).json()
    t = f"/api/v1/inspections/matters/tasks/{task['id']}"
    assert c.post(f"{t}/evidence", files={"file": ("清单.png", PNG, "image/png")}, headers=unit).status_code == 201
    assert c.post(f"{t}/actions/submit", json={}, headers=unit).json()["state"] == "submitted"
    assert c.post(f"{t}/actions/accept", json={}, headers=unit).status_code == 403
    assert c.post(f"{t}/actions/accept", json={}, headers=officer).json()["state"] == "accepted"
    assert c.post(f"{base}/actions/complete", json={}, headers=officer).json()["state"] == "completed"
    shown = c.get(base, headers=leader).json()
    assert shown["problems"][0]["tasks"][0]["accepted_on"] == TODAY.isoformat()
    assert c.get(base, headers=token_for("xh_du")).status_code == 404  # the county does not see the city's list
    figures = c.get("/api/v1/inspections/matters/figures?year=2026", headers=leader).json()
    assert figures["implementation"]["due"] == 0  # due 30 September, not yet due on 1 June
    burden = c.get("/api/v1/inspections/burden?year=2026", headers=leader)
    assert burden.status_code == 200 and "figures" in burden.json()
    assert c.get("/api/v1/inspections/burden/overlaps", headers=leader).json() == []


def test_the_pages(client: tuple[TestClient, dict[str, str]]) -> None:
    c, ids = client
    csrf = sign_in(c, "city_du")
    missing = c.post("/inspections/matters", data={"csrf_token": csrf, "title": "x", "level": "city", "due_on": ""},
                     follow_redirects=True)
    assert "title" in missing.text  # named: too short (and no date)
    made = c.post("/inspections/matters", data={"csrf_token": csrf, "title": "“一网通办”落实情况", "level": "city",
                                                "due_on": "2026-09-30", "units": ids["unit"]}, follow_redirects=False)
    assert made.status_code == 303 and made.headers["location"].startswith("/inspections/matters/")
    page = c.get(made.headers["location"])
    assert "“一网通办”落实情况" in page.text and "三单联动" in page.text
    assert 'value="admit"' not in page.text  # the officer who put it forward cannot admit it
    listing = c.get("/inspections/matters")
    assert "决策部署落实率" in listing.text and "“一网通办”落实情况" in listing.text
    c.post("/logout", data={"csrf_token": csrf_of(c)})
    csrf = sign_in(c, "city_lead")
    matter_id = made.headers["location"].rsplit("/", 1)[1]
    page = c.get(f"/inspections/matters/{matter_id}")
    version = page.text.split('name="version" value="')[1].split('"')[0]
    c.post(f"/inspections/matters/{matter_id}/decide", data={"csrf_token": csrf, "action": "admit",
                                                             "version": version})
    assert "已纳入清单" in c.get(f"/inspections/matters/{matter_id}").text
    burden = c.get("/inspections/burden")
    assert burden.status_code == 200 and "非现场检查占比" in burden.text


def test_the_unit_sees_its_tasks_on_its_own_page(client: tuple[TestClient, dict[str, str]]) -> None:
    c, ids = client
    from jianguan.inspections import matters
    from jianguan.inspections.schemas import MatterIn, ProblemIn, ResponsibilityIn, TaskIn
    from tests.inspections.test_matters import Offices

    with session_scope() as db:
        from sqlalchemy import select

        from jianguan.auth.models import User

        officer = db.scalars(select(User).where(User.username == "city_du")).one()
        leader = db.scalars(select(User).where(User.username == "city_lead")).one()
        m = matters.create_matter(db, data=MatterIn(title="政务服务“好差评”整改", due_on=TODAY.replace(month=9)),
                                  actor=officer)
        matters.decide(db, matter_id=m.id, action="admit", actor=leader)
        matters.decide(db, matter_id=m.id, action="begin", actor=officer)
        p = matters.add_problem(db, matter_id=m.id, data=ProblemIn(unit_uscc=ids["unit"], text="差评未整改",
                                                                   found_on=TODAY), actor=officer)
        matters.add_responsibility(db, problem_id=p.id, data=ResponsibilityIn(unit_uscc=ids["unit"], person="王"),
                                   actor=officer)
        matters.add_task(db, problem_id=p.id, data=TaskIn(unit_uscc=ids["unit"], owner="李", measures="逐条回访差评",
                                                          due_on=TODAY.replace(month=8)), actor=officer)
        assert Offices  # the world of test_matters
    sign_in(c, "fgj")
    page = c.get("/inspections/rectification")
    assert "督查整改任务" in page.text and "逐条回访差评" in page.text


def test_the_commands(client: tuple[TestClient, dict[str, str]], tmp_path: Path) -> None:
    from jianguan.cli import app

    listed = CliRunner().invoke(app, ["matter", "list", "--json"])
    assert listed.exit_code == 0 and json.loads(listed.stdout) == []
    figures = CliRunner().invoke(app, ["matter", "figures", "--year", "2026", "--json"])
    assert figures.exit_code == 0 and json.loads(figures.stdout)["implementation"]["target"] == 95
    burden = CliRunner().invoke(app, ["inspection", "burden", "--year", "2026", "--json"])
    assert burden.exit_code == 0 and json.loads(burden.stdout)["objects"] == []
    env = {**os.environ, "JIANGUAN_HOME": str(tmp_path)}
    env.pop("JIANGUAN_DATABASE_URL", None)
    run = [sys.executable, "-m", "jianguan.cli"]
    assert subprocess.run([*run, "init"], env=env, capture_output=True, timeout=120).returncode == 0
    alone = subprocess.run([*run, "matter", "list", "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert alone.returncode == 0 and json.loads(alone.stdout) == [], alone.stderr[-2000:]
