"""The warning centre, a warning's page and the rule pages; the same through the API and the CLI."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from jianguan.cli import app
from jianguan.collab.models import Complaint
from jianguan.core.workdays import today_shanghai
from jianguan.db import session_scope
from jianguan.risk import service, warning_rules
from jianguan.risk.models import Warning
from tests.auth.conftest import token_for
from tests.inspections.conftest import make_world
from tests.officers.test_pages import sign_in


@pytest.fixture
def client(fresh_db_url: str) -> Iterator[TestClient]:
    from jianguan.app import create_app

    with session_scope() as db:
        world = make_world(db, n_entities=3)
        service.load_rule_sets(db)
        warning_rules.load_shipped(db)
        today = today_shanghai()
        for i, back in enumerate((0, 1, 2, 3)):
            db.add(Complaint(number=f"TS2026000000{i}", access_hash="x", channel="web", category="food_safety",
                             content="后厨卫生差", region_code="330106", entity_id=world.entities[0].id,
                             received_on=today - dt.timedelta(days=back), workflow="complaint", state="received"))
    with TestClient(create_app()) as c:
        yield c


def raised() -> Warning:
    runner = CliRunner()
    out = runner.invoke(app, ["risk", "warnings", "raise", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["raised"] == 1
    with session_scope() as db:
        return db.scalars(select(Warning)).one()


def test_the_centre_lists_it_and_the_loop_runs_on_its_page(client: TestClient) -> None:
    warning = raised()
    csrf = sign_in(client, "author")
    centre = client.get("/risk/warnings")
    assert centre.status_code == 200 and warning.code in centre.text and "近7日" in centre.text
    page = client.get(f"/risk/warnings/{warning.id}")
    assert page.status_code == 200 and 'value="take"' in page.text and 'value="false_alarm"' in page.text
    assert "《中华人民共和国食品安全法》" in page.text  # the rule's legal basis, by the law's title
    took = client.post(f"/risk/warnings/{warning.id}/act", data={"csrf_token": csrf, "action": "take",
                                                                "version": str(warning.version)},
                       follow_redirects=False)
    assert took.status_code == 303
    no_reason = client.post(f"/risk/warnings/{warning.id}/act", data={"csrf_token": csrf, "action": "false_alarm"},
                            follow_redirects=False)
    assert "请在意见中写明理由" in client.get(no_reason.headers["location"]).text
    with session_scope() as db:
        still = db.get(Warning, warning.id)
        assert still is not None and still.state == "verifying"
    client.post(f"/risk/warnings/{warning.id}/act",
                data={"csrf_token": csrf, "action": "false_alarm", "comment": "投诉人为同一人，经核实无问题"})
    with session_scope() as db:
        stored = db.get(Warning, warning.id)
        assert stored is not None and (stored.state, stored.disposition) == ("closed", "false_alarm")
    rules_page = client.get("/risk/rules")
    assert "FS-01" in rules_page.text and "100.0 %" in rules_page.text


def test_other_districts_see_nothing(client: TestClient) -> None:
    warning = raised()
    sign_in(client, "outsider")
    assert warning.code not in client.get("/risk/warnings").text
    assert client.get(f"/risk/warnings/{warning.id}").status_code == 404


def test_the_rule_page_back_tests_and_the_editor_refuses_bad_data_by_field(client: TestClient) -> None:
    csrf = sign_in(client, "root")
    page = client.get("/risk/rules/FS-01?days=30")
    assert page.status_code == 200 and "回测：近 30 日" in page.text
    bad = client.post("/risk/rules/FS-01", data={"csrf_token": csrf, "spec": "name: 食品安全投诉激增\nkind: window\n"})
    assert bad.status_code == 422 and "params" in bad.text
    broken = client.post("/risk/rules/FS-01", data={"csrf_token": csrf, "spec": "name: [unclosed"})
    assert broken.status_code == 422 and "YAML" in broken.text
    with session_scope() as db:
        spec = warning_rules.versions(db, code="FS-01")[0].spec
    import yaml

    text = yaml.safe_dump({**spec, "dedup_days": 14}, allow_unicode=True)
    saved = client.post("/risk/rules/FS-01", data={"csrf_token": csrf, "spec": text}, follow_redirects=False)
    assert saved.status_code == 303
    with session_scope() as db:
        assert warning_rules.versions(db, code="FS-01")[0].version_number == 2
    csrf = sign_in(client, "author")
    assert client.post("/risk/rules/FS-01", data={"csrf_token": csrf, "spec": text}).status_code == 403


def test_the_api_lists_acts_and_back_tests(client: TestClient) -> None:
    warning = raised()
    headers = token_for("author")
    listed = client.get("/api/v1/risk/warnings", headers=headers).json()
    assert listed["total"] == 1 and listed["items"][0]["actions"] == ["take", "transfer", "false_alarm"]
    took = client.post(f"/api/v1/risk/warnings/{warning.id}/take", headers=headers, json={})
    assert took.status_code == 200 and took.json()["state"] == "verifying"
    refused = client.post(f"/api/v1/risk/warnings/{warning.id}/dispose", headers=headers, json={})
    assert refused.status_code == 422 and refused.json()["error"]["details"][0]["field"] == "disposition"
    stale = client.post(f"/api/v1/risk/warnings/{warning.id}/feedback", headers=headers,
                        json={"comment": "x", "expected_version": 1})
    assert stale.status_code == 409
    rules = client.get("/api/v1/risk/rules", headers=headers).json()
    assert len(rules) >= 20 and {r["code"] for r in rules} >= {"FS-01", "WS-04"}
    test = client.get("/api/v1/risk/rules/FS-01/backtest?days=30", headers=headers).json()
    assert test["summary"]["warnings"] == 1


def test_the_cli_lists_rules_warnings_and_back_tests(client: TestClient) -> None:
    warning = raised()
    runner = CliRunner()
    listed = json.loads(runner.invoke(app, ["risk", "warnings", "list", "--json"]).output)
    assert [w["code"] for w in listed["items"]] == [warning.code]
    active = json.loads(runner.invoke(app, ["risk", "rules", "list", "--json"]).output)
    assert len(active) >= 20
    tested = runner.invoke(app, ["risk", "rules", "backtest", "fs-01", "--days", "30", "--json"])
    assert tested.exit_code == 0 and json.loads(tested.output)["summary"]["warnings"] == 1
    missing = runner.invoke(app, ["risk", "rules", "backtest", "XX-99"])
    assert missing.exit_code == 2
