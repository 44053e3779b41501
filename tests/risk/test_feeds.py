"""Data feeds into the risk centre: readings and feed files through the one import pipeline (every bad
cell on its row and field, nothing written; then the valid rows; a file sent twice adds nothing), API
batches from connected systems, the cross-source checks, and the score's indicators seeing it all."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import typer
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from jianguan.core.errors import Forbidden, Invalid
from jianguan.db import session_scope
from jianguan.imports import pipeline
from jianguan.imports.checks import ROW
from jianguan.imports.models import ImportBatch
from jianguan.risk import feeds, feeds_cli, indicators, metrics, service
from jianguan.risk.importing import instants
from jianguan.risk.models import FeedRecord, Reading
from tests.auth.conftest import token_for
from tests.inspections.conftest import World, make_world

USCC = [f"91330106TEST{i:06d}" for i in range(12)]
TODAY = dt.date(2026, 12, 7)


def csv(tmp_path: Path, name: str, rows: list[dict[str, Any]]) -> Path:
    path = tmp_path / name
    columns = dict.fromkeys(k for r in rows for k in r)
    pl.DataFrame(
        [{c: r.get(c, "") for c in columns} for r in rows], schema=dict.fromkeys(columns, pl.String), orient="row"
    ).write_csv(path)
    return path


def problems(outcome: pipeline.Outcome) -> set[tuple[int, str, str]]:
    return {(r[ROW], r["field"], r["code"]) for r in outcome.problems.filter(pl.col(ROW) > 0).iter_rows(named=True)}


def count(db: Session, model: Any, *where: Any) -> int:
    return db.scalar(select(func.count()).select_from(model).where(*where)) or 0


# --------------------------------------------------------------------------- readings


def reading(uscc: str, metric: str, at: str, value: str, unit: str = "") -> dict[str, Any]:
    return {"uscc": uscc, "metric": metric, "measured_at": at, "value": value, "unit": unit}


GOOD_READINGS = [
    reading(USCC[0], "cold_chain_temp", "2026-11-20T08:30:00+08:00", "9.5", "℃"),
    reading(USCC[0], "冷链温度", "2026-11-20 09:30", "4"),
    reading(USCC[1], "cod_mg_l", "2026-11-21T00:00:00Z", "62.5", "mg/l"),
    reading(USCC[1], "electricity_kwh", "2026-11-01", "120000", "度"),
]
AT = "2026-11-20T10:00:00+08:00"
BAD_READINGS = [
    reading("91330106NOSUCH0000", "cold_chain_temp", AT, "3"),  # row 6: unknown USCC
    reading(USCC[2], "humidity", AT, "3"),  # row 7: unknown metric
    reading(USCC[2], "cold_chain_temp", AT, "180"),  # row 8: out of range
    reading(USCC[2], "cold_chain_temp", "2031-01-01T00:00:00+08:00", "3"),  # row 9: future
    reading(USCC[2], "cold_chain_temp", "2026-02-30 10:00", "3"),  # row 10: no such day
    reading(USCC[2], "cold_chain_temp", "2026-11-20T11:00:00+08:00", "abc", "mg/L"),  # row 11: value, unit
    reading(USCC[2], "headcount", AT, "3"),  # row 12: a declared figure
    reading(USCC[0], "cold_chain_temp", "2026-11-20T00:30:00Z", "9.5"),  # row 13: = row 2
    reading("", "", "", ""),  # row 14: all missing
]


def test_a_readings_file_with_errors_writes_nothing_then_its_valid_rows(
    db: Session, world: World, tmp_path: Path
) -> None:
    path = csv(tmp_path, "readings.csv", GOOD_READINGS + BAD_READINGS)
    refused = pipeline.run(db, path, kind="readings", actor=world.author)
    assert not refused.written and refused.error_rows == 9 and refused.total == 13
    assert problems(refused) == {
        (6, "uscc", "uscc.unknown"),
        (7, "metric", "metric.unknown"),
        (8, "value", "value.range"),
        (9, "measured_at", "reading.future"),
        (10, "measured_at", "reading.time"),
        (11, "value", "decimal"),
        (11, "unit", "unit.mismatch"),
        (12, "metric", "metric.declared"),
        (13, "uscc", "duplicate.file"),
        (14, "uscc", "required"),
        (14, "metric", "required"),
        (14, "measured_at", "required"),
        (14, "value", "required"),
    }
    assert "-60" in refused.problems.filter(pl.col("code") == "value.range").item(0, "message")
    assert count(db, Reading) == 0  # all or nothing

    done = pipeline.run(db, path, kind="readings", actor=world.author, valid_rows=True, batch_label="")
    assert done.written and (done.created, done.updated) == (4, 0)
    stored = {(r.metric, r.measured_at, r.value, r.unit) for r in db.scalars(select(Reading))}
    assert ("cold_chain_temp", dt.datetime(2026, 11, 20, 0, 30, tzinfo=dt.UTC), 9.5, "℃") in stored
    assert ("cold_chain_temp", dt.datetime(2026, 11, 20, 1, 30, tzinfo=dt.UTC), 4.0, "℃") in stored  # Beijing time
    assert ("cod_mg_l", dt.datetime(2026, 11, 21, tzinfo=dt.UTC), 62.5, "mg/L") in stored
    assert ("electricity_kwh", dt.datetime(2026, 10, 31, 16, tzinfo=dt.UTC), 120000.0, "kWh") in stored


def test_a_readings_file_sent_again_adds_nothing_and_a_corrected_value_replaces(
    db: Session, world: World, tmp_path: Path
) -> None:
    path = csv(tmp_path, "readings.csv", GOOD_READINGS)
    ticks: list[str] = []
    dry = pipeline.run(
        db,
        path,
        kind="readings",
        actor=world.author,
        write=False,
        progress=lambda phase, done, total: ticks.append(phase),
    )
    assert not dry.written and (dry.new, dry.updates) == (4, 0) and count(db, Reading) == 0 and "check" in ticks
    assert pipeline.run(db, path, kind="readings", actor=world.author).created == 4
    again = pipeline.run(db, path, kind="readings", actor=world.author)
    assert again.written and (again.created, again.updated) == (0, 0) and (again.new, again.updates) == (0, 4)
    assert count(db, Reading) == 4
    same_instant = [{**GOOD_READINGS[0], "measured_at": "2026-11-20T00:30:00Z", "value": "7.5"}]
    fixed = pipeline.run(db, csv(tmp_path, "fixed.csv", same_instant), kind="readings", actor=world.author)
    assert (fixed.created, fixed.updated) == (0, 1) and count(db, Reading) == 4
    assert (
        db.scalar(
            select(Reading.value).where(
                Reading.metric == "cold_chain_temp",
                Reading.measured_at == dt.datetime(2026, 11, 20, 0, 30, tzinfo=dt.UTC),
            )
        )
        == 7.5
    )


def test_readings_of_an_entity_outside_the_data_scope_are_refused(db: Session, world: World, tmp_path: Path) -> None:
    path = csv(tmp_path, "readings.csv", GOOD_READINGS[:1])
    refused = pipeline.run(db, path, kind="readings", actor=world.outsider)  # an officer of another district
    assert not refused.written and problems(refused) == {(2, "uscc", "scope")}


def test_instants_read_every_iso_form_and_beijing_time_without_a_zone() -> None:
    values = [
        "2026-10-05T08:30:00+08:00",
        "2026-10-05 08:30",
        "2026-10-05T00:30:00Z",
        "2026/10/5 8:30:00.5",
        "2026-10-05",
        "2026-10-05T03:00:00-05:30",
        "2026-10-05 00:30:00+00",
        "2026-13-01 00:00",
        "soon",
        "2026-10-05T08:30:00+25:00",
    ]
    got = pl.DataFrame({"v": values}).select(instants(pl.col("v"))).to_series().to_list()
    utc = dt.UTC
    assert got == [
        dt.datetime(2026, 10, 5, 0, 30, tzinfo=utc),
        dt.datetime(2026, 10, 5, 0, 30, tzinfo=utc),
        dt.datetime(2026, 10, 5, 0, 30, tzinfo=utc),
        dt.datetime(2026, 10, 5, 0, 30, 0, 500000, tzinfo=utc),
        dt.datetime(2026, 10, 4, 16, tzinfo=utc),
        dt.datetime(2026, 10, 5, 8, 30, tzinfo=utc),
        dt.datetime(2026, 10, 5, 0, 30, tzinfo=utc),
        None,
        None,
        None,
    ]


# --------------------------------------------------------------------------- feeds


def feed(uscc: str, kind: str, on: str, outcome: str = "", **more: str) -> dict[str, Any]:
    return {"uscc": uscc, "kind": kind, "occurred_on": on, "outcome": outcome, **more}


GOOD_FEEDS = [
    feed(USCC[3], "sampling", "2026-11-02", "不合格", category="乳制品", product="巴氏杀菌乳", item="菌落总数",
         lab="杭州市食品药品检验研究院"),
    feed(USCC[3], "抽检", "2026-11-03", "pass", product="酸奶"),
    feed(USCC[4], "opinion", "2026-11-04", "负面", headline="西湖餐馆后厨脏乱", url="https://news.example.cn/1"),
    feed(USCC[4], "drill", "2026-10-10", "missed"),
    feed(USCC[4], "fire_system", "2026-11-05", "故障", category="喷淋系统"),
    feed(USCC[5], "equipment_inspection", "2026-06-01", "合格", category="电梯 3301-0042", due_on="2027-06-01"),
    feed(USCC[5], "hidden_danger", "2026-11-06", "未整改", item="安全出口堵塞", due_on="2026-12-20"),
    feed(USCC[5], "declared", "2026-11-10", period="2026-10", metric="declared_output", value="120.5", unit="吨"),
    feed(USCC[5], "tax_credit", "2026-04-01", category="m", period="2025"),
]  # fmt: skip
BAD_FEEDS = [
    feed(USCC[6], "gossip", "2026-11-01"),  # row 11
    feed(USCC[6], "sampling", "2026-11-01", "maybe"),  # row 12
    feed(USCC[6], "drill", "2026-11-31", "done"),  # row 13
    feed(USCC[6], "drill", "2027-01-05", "done"),  # row 14
    feed(USCC[6], "tax_credit", "2026-04-01", category="Z"),  # row 15
    feed(USCC[6], "declared", "2026-11-10", period="2026-13", metric="revenue", value="-5"),  # row 16
    feed(USCC[6], "declared", "2026-11-10", period="2026-10", metric="profit", value="5"),  # row 17
    feed(USCC[6], "declared", "2026-11-10", period="2026-10", metric="cold_chain_temp", value="5", unit="kg"),  # 18
    feed("91330106NOSUCH0000", "equipment_inspection", "2026-11-01"),  # row 19
]


def xlsx(path: Path, rows: list[dict[str, Any]]) -> Path:
    """A workbook as a person saves it: some dates as real date cells, the rest as text."""
    import xlsxwriter  # type: ignore[import-untyped]

    columns = list(dict.fromkeys(k for r in rows for k in r))
    book = xlsxwriter.Workbook(str(path))
    sheet, day = book.add_worksheet("数据"), book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, columns)
    for i, row in enumerate(rows, start=1):
        for j, column in enumerate(columns):
            value = row.get(column, "")
            if column == "occurred_on" and i % 2 and value[:4] == "2026" and value[8:] <= "28":
                sheet.write_datetime(i, j, dt.datetime.fromisoformat(value), day)
            else:
                sheet.write_string(i, j, value)
    book.close()
    return path


def test_a_feeds_workbook_with_errors_writes_nothing_then_the_corrected_one_is_written_once(
    db: Session, world: World, tmp_path: Path
) -> None:
    refused = pipeline.run(db, xlsx(tmp_path / "bad.xlsx", GOOD_FEEDS + BAD_FEEDS), kind="feeds", actor=world.admin)
    assert not refused.written and refused.error_rows == 9
    assert problems(refused) == {
        (11, "kind", "feed.kind"),
        (12, "outcome", "feed.outcome"),
        (12, "product", "required"),
        (13, "occurred_on", "date"),
        (14, "occurred_on", "date.future"),
        (15, "category", "feed.category"),
        (16, "period", "feed.period"),
        (16, "value", "value.range"),
        (17, "metric", "metric.unknown"),
        (18, "metric", "metric.reading"),
        (19, "uscc", "uscc.unknown"),
        (19, "due_on", "required"),
    }
    assert count(db, FeedRecord) == 0

    path = xlsx(tmp_path / "good.xlsx", GOOD_FEEDS)
    done = pipeline.run(db, path, kind="feeds", actor=world.admin, source="市场监管抽检系统")
    assert done.written and (done.created, done.updated) == (9, 0), done.problem_list()
    records = {r.kind: r for r in db.scalars(select(FeedRecord))}
    assert len(records) == 8
    failed = db.scalars(select(FeedRecord).where(FeedRecord.outcome == "fail")).one()
    assert failed.attrs == {"product": "巴氏杀菌乳", "item": "菌落总数", "lab": "杭州市食品药品检验研究院"}
    assert failed.occurred_on == dt.date(2026, 11, 2) and failed.source == "市场监管抽检系统"
    assert records["opinion"].outcome == "negative" and records["fire_system"].outcome == "fault"
    assert records["equipment_inspection"].due_on == dt.date(2027, 6, 1)
    assert records["hidden_danger"].outcome == "open"
    declared = records["declared"]
    assert (declared.period, declared.metric, declared.value, declared.attrs) == (
        "2026-10",
        "declared_output",
        Decimal("120.5"),
        {"unit": "t"},
    )
    assert (records["tax_credit"].category, records["tax_credit"].period) == ("M", "2025")

    again = pipeline.run(db, path, kind="feeds", actor=world.admin)
    assert (again.created, again.updated, again.updates) == (0, 0, 9) and count(db, FeedRecord) == 9
    closed = [{**GOOD_FEEDS[6], "outcome": "已整改"}, {**GOOD_FEEDS[7], "occurred_on": "2026-11-15", "value": "98"}]
    fixed = pipeline.run(db, csv(tmp_path, "fixed.csv", closed), kind="feeds", actor=world.admin)
    assert fixed.written, fixed.problem_list()
    assert (fixed.created, fixed.updated) == (0, 2) and count(db, FeedRecord) == 9
    db.expire_all()
    assert records["hidden_danger"].outcome == "closed"
    assert (declared.value, declared.occurred_on) == (Decimal("98"), dt.date(2026, 11, 15))


# --------------------------------------------------------------------------- cross-checks


def declared(
    uscc: str, metric: str, value: str, *, period: str = "2026-10", category: str = "", unit: str = ""
) -> dict[str, Any]:
    return {
        "uscc": uscc,
        "kind": "declared",
        "occurred_on": "2026-11-10",
        "period": period,
        "metric": metric,
        "value": value,
        "category": category,
        "unit": unit,
    }


def october(tmp_path: Path, world: World, db: Session) -> None:
    """Entities 0–4 produce (kWh per t 100, 120, 110, 500, 250: median 120); 5 and 6 declare no output,
    5 drawing 80 % of its usual power, 6 only 10 %; 7–11 receive a job-retention subsidy, 11 five times
    the others per head and per revenue."""
    readings = []
    for i, kwh in ((0, 10_000), (1, 12_000), (2, 11_000), (4, 25_000)):  # each month's use in two readings
        readings += [
            {
                "uscc": USCC[i],
                "metric": "electricity_kwh",
                "measured_at": f"2026-10-{day}T12:00:00+08:00",
                "value": str(kwh / 2),
            }
            for day in (10, 20)
        ]
    for month in range(4, 10):
        readings.append(
            {"uscc": USCC[5], "metric": "electricity_kwh", "measured_at": f"2026-{month:02d}-15", "value": "10000"}
        )
        readings.append(
            {"uscc": USCC[6], "metric": "electricity_kwh", "measured_at": f"2026-{month:02d}-15", "value": "10000"}
        )
    readings += [
        {"uscc": USCC[5], "metric": "electricity_kwh", "measured_at": "2026-10-15", "value": "8000"},
        {"uscc": USCC[6], "metric": "electricity_kwh", "measured_at": "2026-10-15", "value": "1000"},
        # the first instant of November (Beijing time) is not October's
        {"uscc": USCC[0], "metric": "electricity_kwh", "measured_at": "2026-11-01T00:00:00+08:00", "value": "999999"},
    ]
    done = pipeline.run(db, csv(tmp_path, "power.csv", readings), kind="readings", actor=world.admin)
    assert done.written, done.problem_list()
    figures = [declared(USCC[i], "declared_output", "100", unit="t") for i in range(5)]
    figures += [
        declared(USCC[3], "electricity_kwh", "50000"),  # declared, not metered
        declared(USCC[5], "declared_output", "0"),
        declared(USCC[6], "declared_output", "0"),
    ]
    for i, subsidy in zip(range(7, 12), ("10", "10", "10", "10", "50"), strict=True):
        figures += [
            declared(USCC[i], "subsidy", subsidy, category="稳岗补贴"),
            declared(USCC[i], "headcount", "100"),
            declared(USCC[i], "revenue", "1000"),
        ]
    done = pipeline.run(db, csv(tmp_path, "declared.csv", figures), kind="feeds", actor=world.admin)
    assert done.written, done.problem_list()


def mismatches(db: Session) -> dict[tuple[str, int], FeedRecord]:
    checks = db.scalars(select(FeedRecord).where(FeedRecord.kind == "cross_check"))
    return {(r.category, r.entity_id): r for r in checks}


def test_cross_checks_find_what_is_beyond_tolerance_and_rerunning_replaces_them(
    db: Session, world: World, tmp_path: Path
) -> None:
    october(tmp_path, world, db)
    e = [entity.id for entity in world.entities]
    out = feeds.cross_check(db, period="2026-10", actor=world.admin)
    assert out["compared"] == {
        "electricity_output": 5,
        "stopped_power": 2,
        "subsidy_headcount": 5,
        "subsidy_revenue": 5,
    }
    assert out["mismatches"] == {
        "electricity_output": 1,
        "stopped_power": 1,
        "subsidy_headcount": 1,
        "subsidy_revenue": 1,
    }
    found = mismatches(db)
    assert set(found) == {
        ("electricity_output", e[3]),
        ("stopped_power", e[5]),
        ("subsidy_headcount", e[11]),
        ("subsidy_revenue", e[11]),
    }  # 250 kWh/t is 2.1 × the median: inside the tolerance
    power = found["electricity_output", e[3]]
    assert (power.outcome, power.period, power.occurred_on, power.value) == (
        "mismatch",
        "2026-10",
        dt.date(2026, 10, 31),
        Decimal("500"),
    )
    assert power.attrs["text"] == (
        "2026-10用电50000千瓦时，申报产量100t，单位产量用电500千瓦时/t，为同行业中位数120的4.2倍"
    )
    assert (power.attrs["kwh"], power.attrs["median"], power.attrs["check"]) == (50000, 120, "用电量与申报产量比对")
    idle = found["stopped_power", e[5]].attrs["text"]
    assert idle == "2026-10申报产量为0（停产），用电8000千瓦时，为此前6个月月均用电10000千瓦时的80%"
    assert found["subsidy_headcount", e[11]].attrs["text"] == (
        "2026-10获得稳岗补贴50万元，参保职工100人，人均0.5万元，为同类补贴人均中位数0.1万元的5倍"
    )
    assert "补贴占收入5%" in found["subsidy_revenue", e[11]].attrs["text"]
    assert [r["uscc"] for r in out["rows"]] == [USCC[3], USCC[5], USCC[11], USCC[11]]

    again = feeds.cross_check(db, period="2026-10", actor=world.admin)
    assert again["replaced"] == 4 and again["written"] == 4 and len(mismatches(db)) == 4  # idempotent
    fixed = [declared(USCC[3], "electricity_kwh", "12500")]
    assert pipeline.run(db, csv(tmp_path, "fixed.csv", fixed), kind="feeds", actor=world.admin).updated == 1
    third = feeds.cross_check(db, period="2026-10", actor=world.admin)
    assert third["replaced"] == 4 and ("electricity_output", e[3]) not in mismatches(db)
    assert len(mismatches(db)) == 3


def test_the_score_counts_imported_readings_sampling_failures_and_mismatches(
    db: Session, world: World, tmp_path: Path
) -> None:
    october(tmp_path, world, db)
    feeds.cross_check(db, period="2026-10", actor=None)  # the scheduled job's way
    pipeline.run(db, csv(tmp_path, "readings.csv", GOOD_READINGS), kind="readings", actor=world.admin)
    pipeline.run(db, csv(tmp_path, "feeds.csv", GOOD_FEEDS), kind="feeds", actor=world.admin)
    rules = service.rule_set(db, on=TODAY).rules
    frame = indicators.gather(db, as_of=TODAY, rules=rules).sort("entity_id")
    by = {row["entity_id"]: row for row in frame.iter_rows(named=True)}
    e = [entity.id for entity in world.entities]
    assert by[e[0]]["sensor"] == 1  # 9.5 ℃ in the cold chain; 4 ℃ is within the limit
    assert by[e[1]]["sensor"] == 1  # COD 62.5 mg/L
    assert by[e[3]]["sampling"] == 1 and by[e[4]]["sampling"] == 0
    assert (by[e[3]]["mismatches"], by[e[5]]["mismatches"], by[e[11]]["mismatches"], by[e[4]]["mismatches"]) == (
        1,
        1,
        2,
        0,
    )


def test_a_cross_check_needs_a_period_and_a_system_administrator(db: Session, world: World) -> None:
    with pytest.raises(Invalid) as bad:
        feeds.cross_check(db, period="October", actor=world.admin)
    assert bad.value.field == "period"
    with pytest.raises(Forbidden):
        feeds.cross_check(db, period="2026-10", actor=world.author)
    quarter = feeds.cross_check(db, period="2026q3", actor=world.admin)  # subsidies only
    assert quarter["period"] == "2026Q3" and set(quarter["compared"]) == {"subsidy_headcount", "subsidy_revenue"}


# --------------------------------------------------------------------------- API batches and the CLI


@pytest.fixture
def client(fresh_db_url: str) -> Iterator[TestClient]:
    from jianguan.app import create_app

    with session_scope() as db:
        make_world(db, n_entities=12)
        service.load_rule_sets(db)
    with TestClient(create_app()) as c:
        yield c


def test_a_connected_system_sends_readings_all_or_nothing(client: TestClient) -> None:
    officer = token_for("author")
    body = [
        {"uscc": USCC[0], "metric": "cold_chain_temp", "measured_at": "2026-12-01T08:00:00+08:00", "value": 3.5},
        {"uscc": USCC[0], "metric": "cold_chain_temp", "measured_at": "2026-12-01T09:00:00+08:00", "value": 1e-05},
    ]
    bad = [*body, {"uscc": USCC[1], "metric": "cold_chain_temp", "measured_at": "yesterday", "value": 900}]
    refused = client.post("/api/v1/risk/readings?source=冷链追溯平台", json=bad, headers=officer)
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "invalid" and error["batch_id"]
    assert {(d["row"], d["index"], d["field"], d["code"]) for d in error["details"]} == {
        (3, 2, "measured_at", "reading.time"),
        (3, 2, "value", "value.range"),
    }
    with session_scope() as db:
        assert count(db, Reading) == 0
    accepted = client.post("/api/v1/risk/readings?source=冷链追溯平台", json=body, headers=officer)
    assert accepted.status_code == 201, accepted.text
    assert (accepted.json()["created"], accepted.json()["total"]) == (2, 2)
    again = client.post("/api/v1/risk/readings", json=body, headers=officer).json()
    assert again["created"] == 0
    with session_scope() as db:
        stored = sorted(db.scalars(select(Reading.value)))
        batch = db.get(ImportBatch, accepted.json()["batch_id"])
        assert stored == [1e-05, 3.5] and batch is not None
        assert (batch.kind, batch.status, batch.source_system) == ("readings", "committed", "冷链追溯平台")


def test_feed_batches_need_a_token_of_someone_who_may_import(client: TestClient) -> None:
    body = [{"uscc": USCC[3], "kind": "sampling", "occurred_on": "2026-11-02", "outcome": "fail", "product": "鲜牛奶"}]
    assert client.post("/api/v1/risk/feeds", json=body).status_code == 401
    assert client.post("/api/v1/risk/feeds", json=body, headers=token_for("leader")).status_code == 403
    too_many = client.post("/api/v1/risk/feeds", json=body * (feeds.MAX_BATCH + 1), headers=token_for("author"))
    assert too_many.status_code == 422
    done = client.post("/api/v1/risk/feeds", json=body, headers=token_for("author"))
    assert done.status_code == 201 and done.json()["created"] == 1, done.text
    outside = client.post("/api/v1/risk/feeds", json=body, headers=token_for("outsider"))
    assert outside.status_code == 422 and outside.json()["error"]["details"][0]["code"] == "scope"


def test_the_cross_check_command(fresh_db_url: str) -> None:
    app = typer.Typer()
    app.callback()(lambda: None)
    feeds_cli.register(app)
    runner = CliRunner()
    done = runner.invoke(app, ["cross-check", "--period", "2026-10", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["mismatches"] == dict.fromkeys(metrics.FIGURES, 0)
    assert runner.invoke(app, ["cross-check", "--period", "2026-13"]).exit_code == 2


def test_a_faulty_catalogue_is_refused_naming_the_file_line_and_field() -> None:
    text = resources.files("jianguan.risk").joinpath("data", "metrics.yaml").read_text("utf-8")
    assert metrics.load_catalogue(text).metric("cold_chain_temp").unit == ("℃",)
    broken = text.replace("    min: -60\n    max: 150", "    min: 150\n    max: -60")
    with pytest.raises(Invalid) as error:
        metrics.load_catalogue(broken)
    assert "metrics.yaml, line 13, metrics.0: Value error, min must be below max" in str(error.value)


def test_the_templates_of_both_kinds_carry_their_columns(db: Session, world: World, tmp_path: Path) -> None:
    from jianguan.imports.templates import write_template
    from jianguan.risk import feed_import, importing

    for kind, module in (("readings", importing), ("feeds", feed_import)):
        path = write_template(db, kind, tmp_path / f"{kind}.xlsx")
        header = pl.read_excel(path, sheet_name="数据", engine="calamine").columns
        assert header == [f.key for f in module.FIELDS]
