"""The XLSX problem report (the rows with problems, problem cells highlighted, a messages column, a
list of every problem, a summary sheet) and the rejected-rows file to correct and re-import."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import xlsxwriter  # type: ignore[import-untyped]

from jianguan.imports.checks import ROW

if TYPE_CHECKING:
    from jianguan.imports.pipeline import Outcome

DIMENSION_LABELS = {"completeness": "完整性", "accuracy": "准确性", "consistency": "一致性",
                    "timeliness": "及时性"}
SEVERITY_LABELS = {"error": "错误", "warning": "警告"}
XLSX_ROWS = 1_000_000  # a worksheet holds 1,048,576 rows


def write_report(path: Path, outcome: Outcome, summary: dict[str, Any]) -> Path:
    """Problem cells coloured (red error, yellow warning); every problem also listed on its own sheet."""
    path.parent.mkdir(parents=True, exist_ok=True)
    problems = outcome.problems.head(XLSX_ROWS)
    by_row: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for p in problems.iter_rows(named=True):
        by_row[p[ROW]].append(p)
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    head = book.add_format({"bold": True, "bg_color": "#DDDDDD"})
    red = book.add_format({"bg_color": "#F8C8C8"})
    yellow = book.add_format({"bg_color": "#FFF2B3"})
    _summary_sheet(book, head, summary, by_row.get(0, []))
    sheet = book.add_worksheet("问题数据")
    columns = outcome.columns
    sheet.write_row(0, 0, ["行号", *columns, "问题说明"], head)
    sheet.freeze_panes(1, 1)
    rows = outcome.problem_rows.sort(ROW).head(XLSX_ROWS) if outcome.problem_rows.height else None
    out = 1
    for r in rows.iter_rows(named=True) if rows is not None else ():
        found = by_row.get(r[ROW])
        if not found:
            continue
        fmt = {p["field"]: red if p["severity"] == "error" else yellow for p in found}
        if any(f["severity"] == "error" for f in found):
            fmt.setdefault("__row", red)
        sheet.write_number(out, 0, r[ROW], fmt.get("__row"))
        for c, key in enumerate(columns, start=1):
            sheet.write_string(out, c, r.get(key) or "", fmt.get(key))
        sheet.write_string(out, len(columns) + 1, "；".join(
            f"{p['field']}：{p['message']}（{SEVERITY_LABELS.get(p['severity'], p['severity'])}，{p['code']}）"
            for p in found))
        out += 1
    sheet.set_column(len(columns) + 1, len(columns) + 1, 80)
    listing = book.add_worksheet("问题清单")
    listing.write_row(0, 0, ["行号", "字段", "问题代码", "严重程度", "说明"], head)
    for i, p in enumerate(problems.iter_rows(named=True), start=1):
        listing.write_row(i, 0, [p[ROW], p["field"], p["code"], SEVERITY_LABELS.get(p["severity"], p["severity"]),
                                 p["message"]])
    listing.set_column(4, 4, 80)
    book.close()
    return path


def _summary_sheet(book: Any, head: Any, summary: dict[str, Any], batch_level: list[dict[str, Any]]) -> None:
    sheet = book.add_worksheet("汇总")
    lines: list[tuple[str, Any]] = [
        ("总行数", summary["total"]), ("错误行数（不能导入）", summary["error_rows"]),
        ("仅有警告的行数", summary["warning_rows"]), ("可导入行数", summary["valid_rows"]),
        ("其中新增", summary["new"]), ("其中更新（库中已有）", summary["updates"]),
        ("已写入", "是" if summary["written"] else "否"), ("新增写入", summary["created"]),
        ("更新写入", summary["updated"]), ("文件 SHA-256", summary["sha256"])]
    lines += [(f"{DIMENSION_LABELS[k]}通过率", f"{v:.2%}") for k, v in summary["rates"].items()]
    for p in batch_level:
        lines.append((f"批次：{p['field']}", p["message"]))
    if summary["problem_count"] > XLSX_ROWS:
        lines.append(("说明", f"问题共 {summary['problem_count']} 条，报告仅列前 {XLSX_ROWS} 条"))
    for i, (label, value) in enumerate(lines):
        sheet.write(i, 0, label, head)
        sheet.write(i, 1, value)
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, 1, 70)


def write_rejected(path: Path, outcome: Outcome) -> Path:
    """The rows with errors, same columns as the import file (UTF-8 with BOM so Excel reads Chinese)."""
    bad = outcome.problems.filter((pl.col("severity") == "error") & (pl.col(ROW) > 0)).get_column(ROW).unique()
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = outcome.problem_rows.filter(pl.col(ROW).is_in(bad.implode())).sort(ROW) \
        if outcome.problem_rows.height else pl.DataFrame({c: [] for c in outcome.columns}, schema=dict.fromkeys(
            outcome.columns, pl.String))
    rows.select([c for c in outcome.columns if c in rows.columns]).write_csv(path, include_bom=True)
    return path
