"""Downloadable XLSX templates: header row = field keys (what the reader expects), a 说明 sheet with
Chinese labels and descriptions, and dropdowns (data validation) from the value domains."""

from __future__ import annotations

from pathlib import Path

import xlsxwriter  # type: ignore[import-untyped]
from sqlalchemy.orm import Session

from jianguan.imports.pipeline import kind_module

MAX_ROWS = 10_000


def cached_template(db: Session, kind: str) -> Path:
    """The template file under ``JIANGUAN_HOME/imports/templates``, rebuilt when the value domains change."""
    import hashlib

    from jianguan.config import get_settings
    from jianguan.reference import service as ref

    domains = ref.ValueDomains.load(db)
    stamp = hashlib.sha256(repr(sorted((d, [(i.code, i.name) for i in items])
                                       for d, items in domains.items.items())).encode()).hexdigest()[:12]
    path = get_settings().home / "imports" / "templates" / f"{kind}-{stamp}.xlsx"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_template(db, kind, path.with_suffix(".tmp"))
        path.with_suffix(".tmp").replace(path)
    return path


def write_template(db: Session, kind: str, path: Path) -> Path:
    from jianguan.reference import service as ref

    fields = kind_module(kind).FIELDS
    domains = ref.ValueDomains.load(db)
    book = xlsxwriter.Workbook(str(path))
    head = book.add_format({"bold": True, "bg_color": "#DDDDDD"})
    required = book.add_format({"bold": True, "bg_color": "#F8C8C8"})
    sheet = book.add_worksheet("数据")
    lists = book.add_worksheet("值域")
    for c, f in enumerate(fields):
        sheet.write_string(0, c, f.key, required if f.required else head)
        sheet.write_comment(0, c, f"{f.label}{'（必填）' if f.required else ''} {f.help}".strip())
        sheet.set_column(c, c, max(12, len(f.key) + 2))
        if f.type == "domain":
            names = [i.name for i in domains.items.get(f.domain, []) if i.valid_on(domains.on)]
            if names:
                col = xlsxwriter.utility.xl_col_to_name(c)
                for r, n in enumerate(names):
                    lists.write_string(r, c, n)
                sheet.data_validation(1, c, MAX_ROWS, c, {
                    "validate": "list", "source": f"=值域!${col}$1:${col}${len(names)}",
                    "error_type": "warning"})
    sheet.freeze_panes(1, 0)
    about = book.add_worksheet("说明")
    about.write_row(0, 0, ["字段（表头）", "中文名称", "必填", "类型", "值域", "说明"], head)
    for r, f in enumerate(fields, start=1):
        about.write_row(r, 0, [f.key, f.label, "是" if f.required else "", f.type, f.domain, f.help])
    about.write_string(len(fields) + 2, 0, "第1行为字段键（请勿修改），数据从第2行开始；编码值可填代码或中文名称。")
    lists.hide()
    book.close()
    return path
