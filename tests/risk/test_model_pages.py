"""The model page and commands: train through the CLI, read the evaluation on the page and in JSON."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from jianguan.cli import app
from jianguan.db import session_scope
from jianguan.risk import service
from tests.inspections.conftest import make_world
from tests.officers.test_pages import sign_in
from tests.risk.test_learning import _population, _visit_all


@pytest.fixture
def client(fresh_db_url: str) -> Iterator[TestClient]:
    from jianguan.app import create_app

    with session_scope() as db:
        world = make_world(db, n_entities=0)
        service.load_rule_sets(db)
        _visit_all(db, _population(db, world), [dt.date(2025, 1, 1), dt.date(2026, 1, 1)], seed=4, signal=True)
    with TestClient(create_app()) as c:
        yield c


def test_train_show_and_read_the_evaluation(client: TestClient) -> None:
    runner = CliRunner()
    empty = runner.invoke(app, ["risk", "model", "show", "--json"])
    assert empty.exit_code == 0 and json.loads(empty.output) is None
    backwards = runner.invoke(app, ["risk", "model", "train", "--start", "2026-06-30", "--split-on", "2026-01-01",
                                    "--end", "2025-01-01"])
    assert backwards.exit_code == 2 and "split_on" in backwards.output
    trained = runner.invoke(app, ["risk", "model", "train", "--start", "2025-01-01", "--split-on", "2026-01-01",
                                  "--end", "2026-06-30", "--json"])
    assert trained.exit_code == 0, trained.output
    out = json.loads(trained.output)
    assert out["number"] == 1 and out["usable_for_draws"] is True
    assert out["model"]["lift_10"] > out["rule"]["lift_10"] and out["model"]["auc"] > 0.7

    sign_in(client, "root")
    page = client.get("/risk/model")
    assert page.status_code == 200 and "model-chart-data" in page.text
    curves = json.loads(page.text.split('id="model-chart-data">')[1].split("</script>")[0])
    assert curves["roc"]["model"][0] == [0.0, 0.0] and len(curves["gain"]["model"]) == 20
    assert str(out["model"]["lift_10"]) in page.text and 'action="/risk/model/train"' in page.text
    sign_in(client, "author")
    assert 'action="/risk/model/train"' not in client.get("/risk/model").text
