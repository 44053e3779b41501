"""Discretion rules import kind (裁量基准): one row per rule — the sheet ``jianguan discretion export``
writes, so export → edit in Excel → import round-trips. Benchmarks run to hundreds of clauses (the
transport one has 327): each row is read and checked as a whole rule (articles in the law library,
known facts and penalty kinds, a readable range and tier conditions) and every problem is reported on
its row. A changed or new rule becomes a draft version, to be approved like any other; an unchanged
one writes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl
from sqlalchemy.orm import Session

from jianguan.auth.models import User
from jianguan.cases import benchmarks, discretion
from jianguan.core.errors import Invalid
from jianguan.core.i18n import N_
from jianguan.imports.checks import ERROR, MESSAGES, PROBLEM_SCHEMA, ROW, Context, Field, Problems

KIND = "discretion"
KEY = "code"
FIELDS: tuple[Field, ...] = (
    Field("code", "违法行为编码", required=True, help="如 SP-124"),
    Field("title", "违法行为", required=True),
    Field("effective_from", "施行日期", required=True, help="YYYY-MM-DD"),
    Field("effective_to", "废止日期", help="YYYY-MM-DD，空为长期有效"),
    Field("violated_law", "违反法规代号", required=True, help="法律库代号，如 food-safety-law"),
    Field("violated_article", "违反条款", required=True, help="如 第三十四条"),
    Field("penalty_law", "处罚依据法规代号", required=True),
    Field("penalty_article", "处罚依据条款", required=True),
    Field("kinds", "处罚种类", required=True, help="处罚种类代码，多个用 ; 分隔，如 3;4;5"),
    Field("heavier_kinds", "从重时增加的处罚种类", help="如 8（吊销许可证件）"),
    Field("range", "法定罚款幅度", required=True,
          help="每段一行：50000-100000 或 10x-20x goods_value，可加条件：goods_value<10000 => 50000-100000"),
    Field("no_penalty", "不予处罚情形", help="如 first_violation=true & harm in none|slight"),
    Field("mitigated", "减轻处罚情形"),
    Field("lighter", "从轻处罚情形", help="多个情形用 ; 分隔（任一成立）"),
    Field("heavier", "从重处罚情形"),
    Field("lighter_share", "从轻幅度（%）", help="默认 30"),
    Field("heavier_share", "从重幅度（%）", help="默认 30"),
)
MESSAGES.update({"discretion.rule": N_("This row is not a valid discretion rule.")})


def check(df: pl.DataFrame, problems: Problems, ctx: Context) -> None:
    """Each row as a whole rule; every problem named by its column."""
    found = []
    for row in df.iter_rows(named=True):
        try:
            spec = benchmarks.spec_of(row)
            spec["version"] = 1
            discretion.check_spec(spec)
            discretion.build([spec])
        except Invalid as error:
            for problem in (error, *error.others):
                column = problem.field if problem.field in {f.key for f in FIELDS} else _column(problem.field)
                found.append({ROW: row[ROW], "field": column, "code": "discretion.rule", "severity": ERROR,
                              "message": problem.localized("zh_CN")})
    if found:
        problems.frames.append(pl.DataFrame(found, schema=PROBLEM_SCHEMA))


def _column(field: str) -> str:
    return {"violated": "violated_article", "penalty": "penalty_article", "tiers": "lighter",
            "shares": "lighter_share"}.get(field, "code")


def existing_keys(db: Session, keys: Sequence[str]) -> set[str]:
    return {k for k in keys if k in discretion.rules() or benchmarks.next_version(db, k) > 1}


def write(db: Session, frame: pl.DataFrame, *, actor: User | None, batch: str, source: str = "",
          as_of: dt.datetime | None = None) -> tuple[int, int]:
    """Draft versions for new and changed rules."""
    created = updated = 0
    for row in frame.iter_rows(named=True):
        spec = benchmarks.spec_of({k: (v.strip() if isinstance(v, str) else v) for k, v in row.items()})
        current = benchmarks.current_spec(db, spec["code"])
        if current is not None and benchmarks.same_rule(current, spec):
            continue
        benchmarks.propose(db, spec=spec, note=f"批量导入（批次 {batch}）" if batch else "批量导入",
                           source=f"import:{batch}" if batch else "import", actor=actor)
        if current is None:
            created += 1
        else:
            updated += 1
    return created, updated


def export(db: Session) -> pl.DataFrame:
    """Every rule's newest version as one row (the import's columns)."""
    benchmarks.sync(db)
    rows = []
    for code in discretion.rules():
        spec = benchmarks.current_spec(db, code)
        if spec is not None:
            rows.append(benchmarks.row_of(spec))
    return pl.DataFrame(rows, schema={f.key: pl.String for f in FIELDS})
