"""A hotline batch (12345 转办) through the import pipeline: every bad cell reported on its row and nothing
written; the corrected batch received like any complaint; the same batch again adds nothing."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.collab.models import Complaint
from jianguan.imports import pipeline
from jianguan.imports.checks import ROW
from tests.inspections.conftest import World

ROWS = [
    {"热线工单号": "12345-001", "类别": "食品安全", "诉求内容": "在该店买的酸奶已经过期三天，店员拒绝退换。",
     "被投诉举报对象": "西湖餐馆 002", "区县代码": "330106", "诉求人姓名": "陈女士", "诉求人电话": "13800138000"},
    {"热线工单号": "12345-002", "类别": "价格收费", "诉求内容": "停车场收费未明码标价，多收费用二十元。",
     "区县代码": "330106", "匿名": "是"},
]


def test_a_hotline_batch(db: Session, world: World, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    pl.DataFrame([*ROWS, {"热线工单号": "12345-003", "类别": "外星人", "诉求内容": "短", "区县代码": "999999",
                          "诉求人姓名": "王", "诉求人电话": "12"}]).write_csv(bad)
    refused = pipeline.run(db, bad, kind="complaints", actor=world.author)
    assert not refused.written and refused.error_rows == 1
    fields = set(refused.problems.filter(pl.col(ROW) == 4).get_column("field").to_list())
    assert {"category", "content"} <= fields
    assert db.scalar(select(Complaint.id)) is None  # nothing written
    good = tmp_path / "good.csv"
    pl.DataFrame(ROWS).write_csv(good)
    done = pipeline.run(db, good, kind="complaints", actor=world.author, batch_label="H1")
    assert done.written and done.created == 2
    received = {c.external_ref: c for c in db.scalars(select(Complaint))}
    assert received["12345-001"].entity_id == world.entities[2].id and received["12345-001"].channel == "import"
    assert received["12345-002"].anonymous and received["12345-002"].agency_id == world.xihu.id
    again = pipeline.run(db, good, kind="complaints", actor=world.author, batch_label="H2")
    assert again.created == 0 and len(list(db.scalars(select(Complaint)))) == 2
