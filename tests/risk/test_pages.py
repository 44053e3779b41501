"""The risk profile, the overview and the incident register through the pages, the API and the CLI."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from jianguan.cli import app
from jianguan.db import session_scope
from jianguan.entities.models import Entity
from jianguan.risk import service
from tests.auth.conftest import token_for
from tests.inspections.conftest import make_world
from tests.officers.test_pages import sign_in
from tests.risk.conftest import finding

YESTERDAY = dt.date.today() - dt.timedelta(days=1)


@pytest.fixture
def client(fresh_db_url: str) -> Iterator[TestClient]:
    from jianguan.app import create_app

    with session_scope() as db:
        world = make_world(db, n_entities=6)
        service.load_rule_sets(db)
        shop = world.entities[0]
        for _ in range(3):
            finding(db, shop, on=YESTERDAY - dt.timedelta(days=20), severity="serious")
        service.score(db, actor=None)
    with TestClient(create_app()) as c:
        yield c


def shop_id() -> int:
    with session_scope() as db:
        found = db.scalar(select(Entity.id).where(Entity.uscc == "91330106TEST000000"))
        assert found is not None
        return found


def test_the_profile_explains_the_score_and_the_overview_ranks_it_first(client: TestClient) -> None:
    sign_in(client, "author")
    entity_id = shop_id()
    page = client.get(f"/risk/entities/{entity_id}")
    assert page.status_code == 200
    assert "近三年违法违规（按严重程度）" in page.text and "risk-chart-data" in page.text
    data = json.loads(page.text.split('id="risk-chart-data">')[1].split("</script>")[0])
    assert data["parts"][0]["name"] == "近三年违法违规（按严重程度）" and data["parts"][0]["value"] == 16.0
    overview = client.get("/risk")
    assert overview.status_code == 200
    first = overview.text.index("/risk/entities/")
    assert overview.text[first:].startswith(f"/risk/entities/{entity_id}\"")
    entity_page = client.get(f"/entities/{entity_id}")
    assert f"/risk/entities/{entity_id}" in entity_page.text and "近三年违法违规" in entity_page.text


def test_an_incident_recorded_on_the_page_turns_the_entity_red(client: TestClient) -> None:
    csrf = sign_in(client, "author")
    entity_id = shop_id()
    bad = client.post(f"/risk/entities/{entity_id}/incidents",
                      data={"csrf_token": csrf, "kind": "major_accident", "severity": "major", "occurred_on": ""},
                      follow_redirects=False)
    assert bad.status_code == 303
    assert "请填写事件发生日期" in client.get(bad.headers["location"]).text
    done = client.post(f"/risk/entities/{entity_id}/incidents",
                       data={"csrf_token": csrf, "kind": "major_accident", "severity": "major",
                             "occurred_on": YESTERDAY.isoformat(), "source": "应急管理局通报"}, follow_redirects=False)
    assert done.status_code == 303
    with session_scope() as db:
        entity = db.get(Entity, entity_id)
        assert entity is not None and entity.risk_level == "red"
    register = client.get("/risk/incidents")
    assert "应急管理局通报" in register.text and "重大事故" in register.text
    timeline = client.get(f"/entities/{entity_id}")
    assert "重大事故" in timeline.text


def test_other_districts_do_not_see_the_profile(client: TestClient) -> None:
    sign_in(client, "outsider")
    assert client.get(f"/risk/entities/{shop_id()}").status_code in (403, 404)
    assert "西湖餐馆000" not in client.get("/risk").text


def test_the_api_explains_and_registers_incidents(client: TestClient) -> None:
    headers = token_for("author")
    explained = client.get("/api/v1/risk/entities/91330106TEST000000/explain", headers=headers).json()
    assert explained["scored"] and explained["indicators"][0]["code"] == "violations"
    refused = client.post("/api/v1/risk/incidents", headers=headers,
                          json={"uscc": "91330106TEST000000", "kind": "flood", "severity": "major",
                                "occurred_on": YESTERDAY.isoformat()})
    assert refused.status_code == 422 and refused.json()["error"]["details"][0]["field"] == "kind"
    made = client.post("/api/v1/risk/incidents", headers=headers,
                       json={"uscc": "91330106TEST000000", "kind": "data_breach", "severity": "serious",
                             "occurred_on": YESTERDAY.isoformat()})
    assert made.status_code == 201 and made.json()["risk_level"] == "red"
    assert client.post("/api/v1/risk/score", headers=headers).status_code == 403
    history = client.get("/api/v1/risk/entities/91330106TEST000000/scores", headers=headers).json()
    assert history[0]["level"] == "red" and len(history) == 2


def test_the_cli_scores_and_explains(client: TestClient) -> None:
    runner = CliRunner()
    scored = runner.invoke(app, ["risk", "score", "--json"])
    assert scored.exit_code == 0, scored.output
    assert json.loads(scored.output)["scored"] == 6
    explained = runner.invoke(app, ["risk", "explain", "91330106TEST000000", "--json"])
    assert explained.exit_code == 0 and json.loads(explained.output)["indicators"][0]["code"] == "violations"
    missing = runner.invoke(app, ["risk", "explain", "91330106TEST999999"])
    assert missing.exit_code == 2
    added = runner.invoke(app, ["risk", "incident", "add", "91330106TEST000001", "--kind", "other", "--severity",
                                "general", "--on", YESTERDAY.isoformat(), "--json"])
    assert added.exit_code == 0 and json.loads(added.output)["red_until"] is None
    listed = runner.invoke(app, ["risk", "incident", "list", "--json"])
    assert [r["uscc"] for r in json.loads(listed.output)] == ["91330106TEST000001"]
