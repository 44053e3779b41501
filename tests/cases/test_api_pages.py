"""Cases and the discretion engine over HTTP, on the pages and from the command line."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from jianguan.cases import steps
from jianguan.db import session_scope
from tests.auth.conftest import token_for
from tests.cases.test_cases import TODAY
from tests.inspections.conftest import make_world
from tests.officers.test_pages import csrf_of, sign_in


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(steps, "today_shanghai", lambda: TODAY)


@pytest.fixture
def client(fresh_db_url: str) -> Iterator[tuple[TestClient, str]]:
    from jianguan.app import create_app

    with session_scope() as db:
        uscc = make_world(db, n_entities=3).entities[0].uscc
    with TestClient(create_app()) as c:
        yield c, uscc


def test_cases_over_the_api(client: tuple[TestClient, str]) -> None:
    c, uscc = client
    officer, leader = token_for("author"), token_for("leader")
    bad = c.post("/api/v1/cases", json={"title": "无证经营", "source_type": "complaint", "discovered_on": "2026-09-20"},
                 headers=officer)
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "party_name"
    made = c.post("/api/v1/cases", json={"title": "无证经营", "source_type": "complaint", "party_uscc": uscc,
                                         "discovered_on": "2026-09-20", "violation_code": "SP-122"}, headers=officer)
    assert made.status_code == 201 and made.json()["due_date"] == "2026-10-22"
    case_id = made.json()["id"]
    assert c.post(f"/api/v1/cases/{case_id}/actions/file", json={}, headers=officer).status_code == 403
    stale = c.post(f"/api/v1/cases/{case_id}/actions/file", json={"expected_version": 99}, headers=leader)
    assert stale.status_code == 409
    filed = c.post(f"/api/v1/cases/{case_id}/actions/file", json={}, headers=leader).json()
    assert filed["state"] == "filed" and filed["due_date"] == "2026-12-24"
    assert c.get(f"/api/v1/cases/{case_id}", headers=token_for("outsider")).status_code == 404
    got = c.post("/api/v1/cases/discretion/suggest", json={"rule": "CP-49", "facts": {"goods_value": "10000"},
                                                            "on": "2026-06-01"}, headers=officer).json()
    assert got["range"] == ["16000.00", "24000.00"] and got["tier"] == "ordinary"
    wrong = c.post("/api/v1/cases/discretion/suggest", json={"rule": "CP-49", "facts": {"goods_value": "很多"}},
                   headers=officer)
    assert wrong.status_code == 422 and wrong.json()["error"]["details"][0]["field"] == "goods_value"


def test_the_pages(client: tuple[TestClient, str]) -> None:
    c, uscc = client
    csrf = sign_in(c, "author")
    made = c.post("/cases", data={"csrf_token": csrf, "title": "销售过期食品", "source_type": "complaint",
                                  "party_uscc": uscc, "violation_code": "SP-124", "discovered_on": "2026-09-20"},
                  follow_redirects=False)
    assert made.status_code == 303
    page = c.get(made.headers["location"])
    assert "销售过期食品" in page.text and "裁量基准" in page.text and 'value="file"' not in page.text
    suggested = c.get(made.headers["location"] + "?goods_value=8000&first_violation=true")
    assert "从轻处罚" in suggested.text and "50000.00 – 65000.00" in suggested.text
    assert "《中华人民共和国食品安全法》第一百二十四条" in suggested.text
    listing = c.get("/cases")
    assert listing.status_code == 200 and "销售过期食品" in listing.text and "2026-10-22" in listing.text
    c.post("/logout", data={"csrf_token": csrf_of(c)})
    csrf = sign_in(c, "leader")
    version = c.get(made.headers["location"]).text.split('name="version" value="')[1].split('"')[0]
    refused = c.post(made.headers["location"] + "/decide",  # followed to the case page, with the refusal
                     data={"csrf_token": csrf, "action": "decline", "version": version}).text
    assert "请在意见中写明理由" in refused and "待立案审查" in refused  # refused without a reason, still a lead
    c.post(made.headers["location"] + "/decide", data={"csrf_token": csrf, "action": "decline", "version": version,
                                                       "comment": "不属于本机关管辖"})
    assert "不属于本机关管辖" in c.get(made.headers["location"]).text


def test_the_commands(client: tuple[TestClient, str]) -> None:
    from jianguan.cli import app

    listed = CliRunner().invoke(app, ["case", "list", "--json"])
    assert listed.exit_code == 0 and json.loads(listed.stdout) == []
    rules = CliRunner().invoke(app, ["discretion", "list", "--json"])
    assert {"SP-124", "CP-49", "GG-55"} <= {r["code"] for r in json.loads(rules.stdout)}
