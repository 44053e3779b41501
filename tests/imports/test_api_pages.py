"""The import pipeline through the API, the pages and the CLI, committed for real."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import polars as pl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from jianguan.db import session_scope
from jianguan.entities.models import Entity
from jianguan.entities.uscc import make_uscc
from jianguan.reference import service as ref
from tests.auth.conftest import TwoDistricts, token_for
from tests.officers.test_pages import sign_in

HEADER = "uscc,name,kind,status,region_code,industry_code,established_on,legal_rep_id_number,credit_class\n"


def row(i: int, *, date: str = "2020-05-06", industry: str = "6210", region: str = "330106") -> str:
    code = make_uscc("9", "1", region, f"MA2H{i:04d}")
    return f"{code},西湖餐饮{i}有限公司,企业,存续,{region},{industry},{date},110101199003078515,B"


def body(rows: list[str]) -> bytes:
    return (HEADER + "\n".join(rows) + "\n").encode()


BAD = [row(1), row(2, date="2020-02-30"), row(3, industry="ZZZZ"), row(4)]
GOOD = [row(1), row(2), row(3), row(4)]


@pytest.fixture
def world(districts: TwoDistricts) -> TwoDistricts:
    with session_scope() as db:
        ref.load_all(db)
    return districts


def today_iso() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).isoformat()


def entities() -> int:
    with session_scope() as db:
        return db.scalar(select(func.count()).select_from(Entity)) or 0


def upload(client: TestClient, user: str, data: bytes, name: str = "entities.csv", **form: str) -> dict:
    got = client.post("/api/v1/imports/entities", headers=token_for(user), data=form,
                      files={"file": (name, io.BytesIO(data), "text/csv")})
    assert got.status_code == 202, got.text
    batch = client.get(got.headers["Location"], headers=token_for(user)).json()
    return batch


def test_api_upload_shows_problems_and_an_all_or_nothing_confirm_writes_nothing(
        client: TestClient, world: TwoDistricts) -> None:
    batch = upload(client, "a_officer", body(BAD))
    assert batch["status"] == "previewed" and batch["progress"]["state"] == "done"
    problems = {(p["row"], p["field"], p["code"]) for p in batch["summary"]["problems"]}
    assert problems == {(3, "established_on", "date"), (4, "industry_code", "industry")}
    assert batch["summary"]["error_rows"] == 2 and batch["summary"]["valid_rows"] == 2
    assert all(re.search(r"[\u4e00-\u9fff]", p["message"]) for p in batch["summary"]["problems"])
    done = client.post(f"/api/v1/imports/batches/{batch['id']}/confirm", headers=token_for("a_officer"), json={})
    assert done.status_code == 202
    after = client.get(f"/api/v1/imports/batches/{batch['id']}", headers=token_for("a_officer")).json()
    assert after["status"] == "rejected" and entities() == 0
    again = client.post(f"/api/v1/imports/batches/{batch['id']}/confirm", headers=token_for("a_officer"), json={})
    assert again.status_code == 409


def test_api_valid_rows_then_the_corrected_file_reimports_without_duplicates(
        client: TestClient, world: TwoDistricts) -> None:
    headers = token_for("a_officer")
    batch = upload(client, "a_officer", body(BAD))
    client.post(f"/api/v1/imports/batches/{batch['id']}/confirm", headers=headers, json={"valid_rows": True})
    after = client.get(f"/api/v1/imports/batches/{batch['id']}", headers=headers).json()
    assert (after["status"], after["created"], entities()) == ("committed", 2, 2)
    rejected = client.get(f"/api/v1/imports/batches/{batch['id']}/rejected.csv", headers=headers)
    assert rejected.status_code == 200
    back = pl.read_csv(io.BytesIO(rejected.content), infer_schema=False)
    assert back.get_column("established_on").to_list() == ["2020-02-30", "2020-05-06"]
    fixed = upload(client, "a_officer", body(GOOD))
    assert (fixed["summary"]["new"], fixed["summary"]["updates"]) == (2, 2)
    client.post(f"/api/v1/imports/batches/{fixed['id']}/confirm", headers=headers, json={})
    final = client.get(f"/api/v1/imports/batches/{fixed['id']}", headers=headers).json()
    assert (final["status"], final["created"], entities()) == ("committed", 2, 4)


def test_the_problem_report_highlights_rows_and_lists_every_problem(client: TestClient, world: TwoDistricts) -> None:
    batch = upload(client, "a_officer", body(BAD))
    got = client.get(f"/api/v1/imports/batches/{batch['id']}/report.xlsx", headers=token_for("a_officer"))
    assert got.status_code == 200 and got.content[:2] == b"PK"
    sheets = pl.read_excel(io.BytesIO(got.content), sheet_id=0, engine="calamine", infer_schema_length=0)
    assert set(sheets) == {"汇总", "问题数据", "问题清单"}
    assert sheets["问题数据"].get_column("行号").cast(pl.Int64).to_list() == [3, 4]
    assert sheets["问题清单"].height == 2


def test_import_rights_and_batch_scope(client: TestClient, world: TwoDistricts) -> None:
    refused = client.post("/api/v1/imports/entities", headers=token_for("city_leader"),
                          files={"file": ("e.csv", io.BytesIO(body(GOOD)), "text/csv")})
    assert refused.status_code == 403
    officers = client.post("/api/v1/imports/officers", headers=token_for("a_officer"),
                           files={"file": ("o.csv", io.BytesIO(b"name\n"), "text/csv")})
    assert officers.status_code == 403
    batch = upload(client, "a_officer", body(GOOD))
    assert client.get(f"/api/v1/imports/batches/{batch['id']}", headers=token_for("b_officer")).status_code == 404
    assert client.get(f"/api/v1/imports/batches/{batch['id']}", headers=token_for("a_admin")).status_code == 200
    wrong = client.post("/api/v1/imports/entities", headers=token_for("a_officer"),
                        files={"file": ("e.pdf", io.BytesIO(b"%PDF"), "application/pdf")})
    assert wrong.status_code == 422 and wrong.json()["error"]["details"][0]["field"] == "file"


def test_rows_outside_the_importers_scope_are_reported_not_written(client: TestClient, world: TwoDistricts) -> None:
    """An officer of 西湖区 cannot create an entity for 滨江区 by import."""
    batch = upload(client, "a_officer", body([row(1), row(9, region="330108")]))
    codes = {(p["row"], p["code"]) for p in batch["summary"]["problems"]}
    assert (3, "scope") in codes


def test_stale_data_gets_a_timeliness_warning(client: TestClient, world: TwoDistricts) -> None:
    batch = upload(client, "a_officer", body(GOOD), source_system="market_registration",
                   as_of="2026-01-05T09:00:00")
    stale = [p for p in batch["summary"]["problems"] if p["code"] == "stale"]
    assert stale and stale[0]["row"] == 0 and stale[0]["severity"] == "warning"
    fresh = upload(client, "a_officer", body(GOOD), source_system="credit_platform", as_of=today_iso())
    assert not [p for p in fresh["summary"]["problems"] if p["code"] == "stale"]


def test_xlsx_upload_and_chinese_headers(client: TestClient, world: TwoDistricts, tmp_path: Path) -> None:
    frame = pl.read_csv(io.BytesIO(body(GOOD)), infer_schema=False).rename(
        {"uscc": "统一社会信用代码", "name": "名称", "kind": "主体类型"})
    path = tmp_path / "e.xlsx"
    frame.write_excel(path)
    batch = upload(client, "a_officer", path.read_bytes(), name="主体.xlsx")
    assert batch["summary"]["error_rows"] == 0 and batch["summary"]["total"] == 4


def test_the_template_has_keys_descriptions_and_dropdowns(client: TestClient, world: TwoDistricts) -> None:
    got = client.get("/api/v1/imports/templates/entities.xlsx", headers=token_for("a_officer"))
    assert got.status_code == 200
    sheets = pl.read_excel(io.BytesIO(got.content), sheet_id=0, engine="calamine", infer_schema_length=0)
    assert {"数据", "说明"} <= set(sheets)
    assert sheets["数据"].columns[:3] == ["uscc", "id_number", "name"]
    assert "名称" in sheets["说明"].get_column("中文名称").to_list()
    import zipfile

    xml = zipfile.ZipFile(io.BytesIO(got.content)).read("xl/worksheets/sheet1.xml").decode()
    assert "<dataValidation" in xml


def test_pages_upload_preview_and_confirm_valid_rows(client: TestClient, world: TwoDistricts) -> None:
    csrf = sign_in(client, "a_officer")
    home = client.get("/imports")
    assert home.status_code == 200 and "数据导入" in home.text
    missing = client.post("/imports", data={"kind": "entities", "csrf_token": csrf})
    assert missing.status_code == 422 and "field-error" in missing.text
    sent = client.post("/imports", data={"kind": "entities", "csrf_token": csrf},
                       files={"file": ("e.csv", io.BytesIO(body(BAD)), "text/csv")}, follow_redirects=False)
    assert sent.status_code == 303
    page = client.get(sent.headers["location"])
    assert "问题数据" not in page.text and "established_on" in page.text and "仅导入" in page.text
    batch_id = int(sent.headers["location"].rsplit("/", 1)[1])
    done = client.post(f"/imports/{batch_id}/confirm", data={"csrf_token": csrf, "valid_rows": "1"},
                       follow_redirects=False)
    assert done.status_code == 303
    assert "已导入" in client.get(f"/imports/{batch_id}").text and entities() == 2
    assert client.get(f"/imports/{batch_id}/progress").status_code == 204


def run_cli(*args: str) -> tuple[int, str]:
    from jianguan.cli import app

    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout


def test_cli_dry_run_json_then_import(world: TwoDistricts, tmp_path: Path) -> None:
    bad, good = tmp_path / "bad.csv", tmp_path / "good.csv"
    bad.write_bytes(body(BAD))
    good.write_bytes(body(GOOD))
    code, out = run_cli("import", "entities", str(bad), "--dry-run", "--json", "--user", "a_officer")
    summary = json.loads(out)
    assert code == 1 and summary["status"] == "previewed" and summary["error_rows"] == 2 and entities() == 0
    assert {(p["row"], p["code"]) for p in summary["problems"]} == {(3, "date"), (4, "industry")}
    code, out = run_cli("import", "entities", str(bad), "--json", "--user", "a_officer")
    assert code == 1 and json.loads(out)["status"] == "rejected" and entities() == 0
    code, out = run_cli("import", "entities", str(good), "--json", "--user", "a_officer")
    assert code == 0 and json.loads(out)["created"] == 4 and entities() == 4
    code, out = run_cli("import", "entities", str(good), "--json", "--user", "a_officer")
    assert code == 0 and json.loads(out)["created"] == 0 and entities() == 4
    out_file = tmp_path / "t.xlsx"
    code, _ = run_cli("import", "template", "entities", str(out_file))
    assert code == 0 and out_file.read_bytes()[:2] == b"PK"


def test_the_progress_names_the_index_rebuild_of_a_large_load(client: TestClient, world: TwoDistricts) -> None:
    from jianguan.db import session_scope
    from jianguan.imports.models import ImportBatch
    from jianguan.imports.service import _Tracker

    csrf = sign_in(client, "a_officer")
    sent = client.post("/imports", data={"kind": "entities", "csrf_token": csrf},
                       files={"file": ("e.csv", io.BytesIO(body(BAD)), "text/csv")}, follow_redirects=False)
    batch_id = int(sent.headers["location"].rsplit("/", 1)[1])
    with session_scope() as db:
        tracker = _Tracker(db.get(ImportBatch, batch_id), "confirm")
    tracker("write", 50_000, 50_000)
    shown = client.get(f"/imports/{batch_id}/progress")
    assert shown.status_code == 200 and "写入" in shown.text and "50,000 / 50,000" in shown.text
    tracker("index", 0, None)
    shown = client.get(f"/imports/{batch_id}/progress")
    tracker.finish()
    assert shown.status_code == 200 and "正在重建检索索引" in shown.text and "<progress aria-label" in shown.text
