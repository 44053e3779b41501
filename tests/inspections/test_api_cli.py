"""Plans and draws over HTTP and from the command line: the same rules, clear refusals, verify exits."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from jianguan.db import session_scope
from tests.auth.conftest import token_for
from tests.inspections.conftest import World, make_world, plan_data


@pytest.fixture
def world(fresh_db_url: str) -> World:
    with session_scope() as db:
        return make_world(db)


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    from jianguan.app import create_app

    with TestClient(create_app()) as c:
        yield c


def run_cli(*args: str) -> tuple[int, str, str]:
    from jianguan.cli import app

    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def plan_json(**extra: object) -> dict[str, object]:
    return plan_data(**extra).model_dump(mode="json")


def approved(client: TestClient, **extra: object) -> int:
    author, leader = token_for("author"), token_for("leader")
    created = client.post("/api/v1/inspections/plans", json=plan_json(**extra), headers=author)
    assert created.status_code == 201, created.text
    plan_id = int(created.json()["id"])
    submitted = client.post(f"/api/v1/inspections/plans/{plan_id}/actions/submit", json={}, headers=author)
    assert submitted.status_code == 200
    done = client.post(f"/api/v1/inspections/plans/{plan_id}/actions/approve", json={"comment": "同意"}, headers=leader)
    assert done.json()["state"] == "approved", done.text
    return plan_id


def test_a_plan_is_approved_drawn_and_verified_over_the_api(client: TestClient) -> None:
    author, leader, outsider = token_for("author"), token_for("leader"), token_for("outsider")
    bad = client.post("/api/v1/inspections/plans", json=plan_json(kind="x", ratio="20", count=5), headers=author)
    assert bad.status_code == 422
    assert {d["field"] for d in bad.json()["error"]["details"]} >= {"kind", "count"}
    plan_id = approved(client)
    early = client.post(f"/api/v1/inspections/plans/{plan_id}/actions/close", json={}, headers=leader)
    assert early.status_code == 409 and "begin" in early.json()["error"]["details"]["allowed_actions"]
    drawn = client.post(f"/api/v1/inspections/plans/{plan_id}/draws",
                        json={"seed": "公开摇号 2026-12-15", "inspection_date": "2026-12-15"}, headers=author)
    assert drawn.status_code == 201, drawn.text
    draw = drawn.json()
    assert draw["seed_source"] == "public" and draw["selected_count"] > 0
    again = client.post(f"/api/v1/inspections/plans/{plan_id}/draws", json={}, headers=author)
    assert again.status_code == 409
    page = client.get(f"/api/v1/inspections/draws/{draw['id']}/entities?limit=5", headers=author).json()
    assert page["total"] == draw["selected_count"] and all(len(e["officers"]) == 2 for e in page["items"])
    snapshot = client.get(f"/api/v1/inspections/draws/{draw['id']}/snapshot", headers=author)
    assert hashlib.sha256(snapshot.content).hexdigest() == draw["pool_hash"]
    checked = client.post(f"/api/v1/inspections/draws/{draw['id']}/verify", headers=leader).json()
    assert checked["identical"] is True
    assert client.get(f"/api/v1/inspections/plans/{plan_id}", headers=outsider).status_code == 404
    detail = client.get(f"/api/v1/inspections/plans/{plan_id}", headers=leader).json()
    assert detail["filed_with_agency_id"] is not None and "begin" in detail["actions"]
    assert [h["action"] for h in detail["history"]] == ["start", "submit", "approve"]


def test_stale_edits_get_409(client: TestClient) -> None:
    author = token_for("author")
    plan = client.post("/api/v1/inspections/plans", json=plan_json(), headers=author).json()
    url = f"/api/v1/inspections/plans/{plan['id']}"
    first = client.put(url, json={**plan_json(title="改过的标题"), "expected_version": plan["version"]}, headers=author)
    assert first.status_code == 200 and first.json()["title"] == "改过的标题"
    second = client.put(url, json={**plan_json(title="另一个标题"), "expected_version": plan["version"]},
                        headers=author)
    assert second.status_code == 409


def test_draw_run_and_verify_from_the_cli(client: TestClient) -> None:
    plan_id = approved(client)
    code, out, _ = run_cli("draw", "run", str(plan_id), "--seed", "8848", "--date", "2026-12-15", "--json")
    assert code == 0, out
    draw = json.loads(out)
    assert draw["seed"] == "8848" and draw["summary"]["strata"]
    code, out, _ = run_cli("draw", "verify", str(draw["id"]), "--json")
    assert code == 0 and json.loads(out)["identical"] is True
    code, _, err = run_cli("draw", "run", str(plan_id), "--json")
    assert code == 2 and "作废" in err  # already drawn: void it first
    code, out, _ = run_cli("draw", "show", str(draw["id"]), "--entities", "--json")
    shown = json.loads(out)
    assert len(shown["entities"]) == draw["selected_count"]
    with session_scope() as db:
        from sqlalchemy import select

        from jianguan.inspections.models import DrawEntity

        row = db.scalar(select(DrawEntity).where(DrawEntity.draw_id == draw["id"]).limit(1))
        assert row is not None
        row.stratum = "red/A"
    code, out, _ = run_cli("draw", "verify", str(draw["id"]), "--json")
    assert code == 1 and json.loads(out)["rows_match"] is False


def test_the_expert_pool_must_be_big_enough(client: TestClient) -> None:
    for i in range(3):
        code, out, _ = run_cli("expert", "add", f"专家{i}", "--domain", "food", "--organisation", "浙江大学", "--json")
        assert code == 0, out
    plan_id = approved(client, expert_count=1)
    code, _, err = run_cli("draw", "run", str(plan_id), "--date", "2026-12-15")
    assert code == 2 and "专家" in err
    code, out, _ = run_cli("plan", "rules", "list", "--json")
    assert json.loads(out)[0]["rules"]["risk_ratio"]["red"] == "60"
