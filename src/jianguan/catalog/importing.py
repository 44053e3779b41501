"""Catalog import kind (监管事项目录): one row per check point, the item's columns repeated on each of
its rows (an item without points has one row with the point columns empty). The same sheet is what
``jianguan catalog export --xlsx`` writes, so export → edit in Excel → import round-trips.

An imported item does not come into force by itself: a new one becomes an admission draft, a changed
one an adjustment draft (an unchanged one writes nothing), each to be submitted and approved like any
other change. Catalogs are hundreds of rows: the writer goes item by item through the service.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.auth.models import User
from jianguan.catalog import checklists, service
from jianguan.catalog.models import SupervisionItem
from jianguan.catalog.schemas import ItemChanges, ItemIn, version_dict
from jianguan.core.i18n import N_
from jianguan.imports.checks import ERROR, MESSAGES, Context, Field, Problems, blank
from jianguan.reference import laws

KIND = "catalog"
KEY = "point_code"
ITEM_FIELDS: tuple[Field, ...] = (
    Field("item_code", "事项编码", required=True, help="14 位数字"),
    Field("parent_code", "主项编码", help="子项填写其主项的编码"),
    Field("item_name", "事项名称", required=True),
    Field("domain", "执法领域", "domain", True, "enforcement_domain"),
    Field("department", "责任部门"),
    Field("implementation_code", "实施清单编码"),
    Field("national_code", "国家目录编码"),
    Field("power_code", "权力清单编码"),
    Field("object_kinds", "监管对象类型", "domains", True, "entity_kind", help="多个用 ; 分隔"),
    Field("methods", "检查方式", "domains", True, "inspection_method", help="多个用 ; 分隔"),
    Field("key_item", "重点事项", help="是 / 否"),
    Field("sampling_ratio", "抽查比例（%）", "decimal"),
    Field("frequency_per_year", "每年检查次数"),
    Field("recognition_days", "结果互认有效期（天）", help="空：不互认"),
    Field("description", "事项说明"),
    Field("legal_basis", "法律依据", required=True, help="法规代号|条号，多条用 ; 分隔，如 food-safety-law|第三十五条"),
)
POINT_FIELDS: tuple[Field, ...] = (
    Field("point_code", "要点编码"),
    Field("point_text", "检查要点"),
    Field("point_law", "要点依据法规", help="法规代号，如 food-safety-law"),
    Field("point_article", "要点依据条号", help="如 第三十五条"),
    Field("indicator", "对应指标", help="末级指标编码，如 D1.1"),
    Field("severity", "严重程度", "domain", False, "check_severity"),
    Field("answer_type", "答案类型", "domain", False, "answer_type"),
    Field("unit", "单位"),
    Field("min", "下限", "decimal"),
    Field("max", "上限", "decimal"),
    Field("choices", "选项", help="多个用 | 分隔"),
    Field("photo_required", "须拍照", help="是 / 否"),
    Field("evidence_required", "须留证", help="是 / 否"),
    Field("guidance", "检查方法"),
    Field("score", "扣分"),
)
FIELDS = ITEM_FIELDS + POINT_FIELDS
ITEM_KEYS = tuple(f.key for f in ITEM_FIELDS)
YES, NO = ("是", "true", "1", "y", "yes"), ("否", "false", "0", "n", "no", "")
MESSAGES.update({
    "catalog.code": N_("A catalog code is 14 digits."),
    "catalog.basis": N_(
        "Write each legal basis as law|article from the law library, e.g. food-safety-law|第三十五条."),
    "catalog.flag": N_("Write 是 or 否."),
    "catalog.integer": N_("Write a whole number."),
    "catalog.inconsistent": N_("The rows of one item disagree on this column."),
    "catalog.point": N_("A check point needs its text."),
})


def _known_articles() -> pl.Series:
    return pl.Series([f"{slug}|{no}" for slug, no in laws.articles()], dtype=pl.String)


def check(df: pl.DataFrame, problems: Problems, ctx: Context) -> None:
    """Codes, citations, flags and numbers; the rows of one item must agree on the item's columns."""
    s = {c: pl.col(c).fill_null("").str.strip_chars() for c in df.columns}
    known = _known_articles().implode()
    problems.add(df, ~s["item_code"].str.contains(r"^\d{14}$") & (s["item_code"] != ""), "item_code", "catalog.code")
    problems.add(df, ~s["parent_code"].str.contains(r"^(\d{14})?$"), "parent_code", "catalog.code")
    bases = s["legal_basis"].str.replace_all("；", ";").str.split(";").list.eval(
        pl.element().str.strip_chars().str.replace_all(r"\s*\|\s*", "|")).list.eval(
        pl.element().filter(pl.element() != ""))
    bad_basis = bases.list.eval(~pl.element().is_in(known)).list.any()
    problems.add(df, (s["legal_basis"] != "") & bad_basis, "legal_basis", "catalog.basis")
    cited = s["point_law"] + "|" + s["point_article"]
    problems.add(df, ((s["point_law"] != "") | (s["point_article"] != "")) & ~cited.is_in(known), "point_article",
                 "catalog.basis")
    for flag in ("key_item", "photo_required", "evidence_required"):
        problems.add(df, ~s[flag].str.to_lowercase().is_in([*YES, *NO]), flag, "catalog.flag")
    for number in ("frequency_per_year", "recognition_days", "score"):
        problems.add(df, ~s[number].str.contains(r"^\d*$"), number, "catalog.integer")
    problems.add(df, ~blank("point_code") & blank("point_text"), "point_text", "catalog.point")
    for key in ITEM_KEYS[1:]:
        problems.add(df, s[key].n_unique().over(s["item_code"]) > 1, key, "catalog.inconsistent", ERROR)


def existing_keys(db: Session, keys: Sequence[str]) -> set[str]:
    """Check points already in force (their rows are updates, or unchanged)."""
    return set(checklists.points_in_force(db, list(keys))) if keys else set()


def _flag(value: Any) -> bool:
    return str(value or "").strip().lower() in YES


def _item(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """ItemIn fields from an item's rows (its columns agree: checked)."""
    first = rows[0]
    bases = [b.strip() for b in str(first["legal_basis"] or "").replace("；", ";").split(";") if b.strip()]
    points = [{"code": r["point_code"], "text": r["point_text"], "law": r.get("point_law") or "",
               "article": r.get("point_article") or "", "indicator": r.get("indicator") or "",
               "severity": r.get("severity") or "general", "answer_type": r.get("answer_type") or "yes_no",
               "unit": r.get("unit") or "", "min": r.get("min") or None, "max": r.get("max") or None,
               "choices": [c for c in str(r.get("choices") or "").split("|") if c.strip()],
               "photo_required": _flag(r.get("photo_required")), "evidence_required": _flag(r.get("evidence_required")),
               "guidance": r.get("guidance") or "", "score": int(r.get("score") or 0)}
              for r in rows if r.get("point_code")]
    return {"code": first["item_code"], "parent": first.get("parent_code") or None, "name": first["item_name"],
            "domain": first["domain"], "department": first.get("department") or "",
            "implementation_code": first.get("implementation_code") or "",
            "national_code": first.get("national_code") or "", "power_code": first.get("power_code") or "",
            "object_kinds": [k for k in str(first["object_kinds"] or "").split(";") if k],
            "methods": [m for m in str(first["methods"] or "").split(";") if m],
            "key_item": _flag(first.get("key_item")),
            "sampling_ratio": first.get("sampling_ratio") or None,
            "frequency_per_year": int(first["frequency_per_year"]) if first.get("frequency_per_year") else None,
            "recognition_days": int(first["recognition_days"]) if first.get("recognition_days") else None,
            "description": first.get("description") or "",
            "legal_basis": [{"law": b.split("|", 1)[0].strip(), "article": b.split("|", 1)[1].strip()} for b in bases],
            "check_points": points}


def _comparable(data: dict[str, Any]) -> dict[str, Any]:
    """What an export row set says about an item, normalised (so a round trip compares equal)."""
    out = dict(data)
    out.pop("effective_from", None)
    for key in ("sampling_ratio",):
        out[key] = None if out.get(key) in (None, "") else Decimal(str(out[key])).normalize()
    out["check_points"] = [{**p, "min": None if p["min"] in (None, "") else Decimal(str(p["min"])).normalize(),
                            "max": None if p["max"] in (None, "") else Decimal(str(p["max"])).normalize()}
                           for p in out["check_points"]]
    return out


def write(db: Session, frame: pl.DataFrame, *, actor: User | None, batch: str, source: str = "",
          as_of: dt.datetime | None = None) -> tuple[int, int]:
    """Drafts for new and changed items (in file order: main items before their sub-items)."""
    rows = [{k: (v.strip() if isinstance(v, str) else v) for k, v in r.items()} for r in frame.iter_rows(named=True)]
    by_item: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_item.setdefault(row["item_code"], []).append(row)
    created = updated = 0
    reason = f"批量导入（批次 {batch}）" if batch else "批量导入"
    for code, item_rows in by_item.items():
        data = _item(item_rows)
        existing = service.item_by_code(db, code)
        if existing is None:
            service.propose_item(db, data=ItemIn.model_validate(data), reason=reason, actor=actor)
            created += 1
            continue
        current = service.current_version(db, existing) or service.latest_version(db, existing)
        if _comparable(export_item(current)) == _comparable(ItemIn.model_validate(data).model_dump()):
            continue
        changes = ItemIn.model_validate(data).model_dump(exclude={"code", "parent", "domain", "effective_from"})
        service.revise_item(db, item_id=existing.id, reason=reason, changes=ItemChanges.model_validate(
            {**changes, "agencies": None}), actor=actor)
        updated += 1
    return created, updated


def export_item(version: Any) -> dict[str, Any]:
    """An item version as ItemIn fields (what its export rows say)."""
    v = version_dict(version)
    return ItemIn.model_validate({
        "code": v["code"], "parent": version.item.parent.code if version.item.parent else None, "name": v["name"],
        "domain": v["domain"], "department": v["department"], "implementation_code": v["implementation_code"],
        "national_code": v["national_code"], "power_code": v["power_code"], "object_kinds": v["object_kinds"],
        "methods": v["methods"], "key_item": v["key_item"], "sampling_ratio": v["sampling_ratio"],
        "frequency_per_year": v["frequency_per_year"], "recognition_days": v["recognition_days"],
        "description": v["description"],
        "legal_basis": [{"law": b["law"], "article": b["article"]} for b in v["legal_basis"]],
        "check_points": [{"code": p["code"], "text": p["text"], "law": (p["legal_basis"] or {}).get("law", ""),
                          "article": (p["legal_basis"] or {}).get("article", ""), "indicator": p["indicator"],
                          "severity": p["severity"], "answer_type": p["answer_type"], "unit": p["unit"],
                          "min": p["min"], "max": p["max"], "choices": p["choices"],
                          "photo_required": p["photo_required"], "evidence_required": p["evidence_required"],
                          "guidance": p["guidance"], "score": p["score"]} for p in v["check_points"]],
    }).model_dump()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return str(value)


def export_rows(db: Session) -> list[dict[str, str]]:
    """Every item (its version in force, else its latest) as rows of the import sheet."""
    rows = []
    for item in db.scalars(select(SupervisionItem).order_by(SupervisionItem.code)):
        version = service.current_version(db, item) or service.latest_version(db, item)
        data = export_item(version)
        head = {"item_code": data["code"], "parent_code": data["parent"] or "", "item_name": data["name"],
                "domain": data["domain"], "department": data["department"],
                "implementation_code": data["implementation_code"], "national_code": data["national_code"],
                "power_code": data["power_code"], "object_kinds": ";".join(data["object_kinds"]),
                "methods": ";".join(data["methods"]), "key_item": _cell(data["key_item"]),
                "sampling_ratio": _cell(data["sampling_ratio"]),
                "frequency_per_year": _cell(data["frequency_per_year"]),
                "recognition_days": _cell(data.get("recognition_days")),
                "description": data["description"],
                "legal_basis": ";".join(f"{b['law']}|{b['article']}" for b in data["legal_basis"])}
        empty = {f.key: "" for f in POINT_FIELDS}
        for p in data["check_points"] or [None]:
            point = empty if p is None else {
                "point_code": p["code"], "point_text": p["text"], "point_law": p["law"], "point_article": p["article"],
                "indicator": p["indicator"], "severity": p["severity"], "answer_type": p["answer_type"],
                "unit": p["unit"], "min": _cell(p["min"]), "max": _cell(p["max"]), "choices": "|".join(p["choices"]),
                "photo_required": _cell(p["photo_required"]), "evidence_required": _cell(p["evidence_required"]),
                "guidance": p["guidance"], "score": _cell(p["score"])}
            rows.append({**head, **point})
    return rows


def export_xlsx(db: Session) -> bytes:
    """The catalog as one sheet with the import's Chinese headers (so it imports back unchanged)."""
    import xlsxwriter  # type: ignore[import-untyped]

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False})
    sheet = book.add_worksheet("监管事项目录")
    head = book.add_format({"bold": True, "bg_color": "#e8eef7", "text_wrap": True, "valign": "top"})
    text = book.add_format({"num_format": "@"})
    for col, f in enumerate(FIELDS):
        sheet.write_string(0, col, f.label, head)
        sheet.set_column(col, col, 28 if f.key in ("item_name", "point_text", "description", "guidance") else 14,
                         text)
    for n, row in enumerate(export_rows(db), start=1):
        for col, f in enumerate(FIELDS):
            sheet.write_string(n, col, row[f.key])
    sheet.freeze_panes(1, 3)
    book.close()
    return out.getvalue()
