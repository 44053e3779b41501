"""The catalog sheet round-trips: export → import writes nothing; one edited cell → one adjustment
draft differing in just that; bad rows are refused whole with the row, column and reason."""

from __future__ import annotations

import io
import json
from pathlib import Path

import polars as pl
from sqlalchemy import func, select
from typer.testing import CliRunner

from jianguan.catalog import content, service
from jianguan.catalog.models import ItemVersion
from jianguan.db import session_scope
from jianguan.reference import service as ref
from tests.catalog.conftest import make_people

runner = CliRunner()


def _versions() -> int:
    with session_scope() as db:
        return db.scalar(select(func.count()).select_from(ItemVersion)) or 0


def test_export_then_import_is_lossless_and_an_edit_becomes_one_draft(fresh_db_url: str, tmp_path: Path) -> None:
    from jianguan.cli import app

    with session_scope() as db:
        ref.load_all(db)
        make_people(db)
        content.load(db)
    sheet = tmp_path / "catalog.xlsx"
    assert runner.invoke(app, ["catalog", "export", "--xlsx", str(sheet)]).exit_code == 0
    frame = pl.read_excel(sheet, infer_schema_length=0)
    assert frame.height >= 300 and frame.columns[:3] == ["事项编码", "主项编码", "事项名称"]
    before = _versions()
    again = runner.invoke(app, ["catalog", "import", str(sheet), "--json", "--user", "zhang"])
    assert again.exit_code == 0, again.output
    summary = json.loads(again.stdout)
    assert (summary["status"], summary["created"], summary["updated"], summary["error_rows"]) == (
        "committed", 0, 0, 0)
    assert _versions() == before  # nothing changed, nothing written

    row = frame.with_row_index().filter(pl.col("要点编码") == "33000001001002-02").get_column("index")[0]
    new_text = pl.lit("是否查验并留存供货者的许可证和产品合格证明")
    edited = frame.with_columns(pl.when(pl.int_range(pl.len()) == row).then(new_text).otherwise(pl.col("检查要点"))
                                .alias("检查要点"))
    changed = tmp_path / "changed.xlsx"
    edited.write_excel(changed)
    result = runner.invoke(app, ["catalog", "import", str(changed), "--json", "--user", "zhang"])
    assert result.exit_code == 0, result.output
    assert (json.loads(result.stdout)["created"], json.loads(result.stdout)["updated"]) == (0, 1)
    with session_scope() as db:
        item = service.item_by_code(db, "33000001001002")
        assert item is not None
        draft = service.open_version(db, item)
        current = service.current_version(db, item)
        assert draft is not None and current is not None and draft.state == "draft"
        assert [c.name for c in service.diff(current, draft)] == ["check_point:33000001001002-02"]


def test_a_bad_sheet_is_refused_whole_with_the_reasons(fresh_db_url: str, tmp_path: Path) -> None:
    from jianguan.cli import app

    with session_scope() as db:
        ref.load_all(db)
        make_people(db)
    rows = [{"事项编码": "33000001950000", "事项名称": "对某事项的检查", "执法领域": "食品安全", "监管对象类型": "企业",
             "检查方式": "现场检查", "法律依据": "food-safety-law|第三十五条", "要点编码": "33000001950000-01",
             "检查要点": "是否取得许可"},
            {"事项编码": "3300000195", "事项名称": "编码太短", "执法领域": "食品安全", "监管对象类型": "企业",
             "检查方式": "现场检查", "法律依据": "air-pollution-law|第九百条", "要点编码": "", "检查要点": ""}]
    sheet = tmp_path / "bad.csv"
    buffer = io.StringIO()
    pl.DataFrame(rows).write_csv(buffer)
    sheet.write_text(buffer.getvalue(), encoding="utf-8")
    result = runner.invoke(app, ["catalog", "import", str(sheet), "--json", "--user", "zhang"])
    summary = json.loads(result.stdout)
    assert summary["status"] == "rejected" and summary["created"] == 0
    found = {(p["row"], p["field"], p["code"]) for p in summary["problems"]}
    assert {(3, "item_code", "catalog.code"), (3, "legal_basis", "catalog.basis")} <= found
    assert _versions() == 0  # all or nothing
