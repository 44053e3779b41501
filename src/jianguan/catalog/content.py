"""The catalog shipped as data in the package (``catalog/data``): items (YAML), check points (CSV),
checklist templates, the indicator system with its yearly weights and the negative list. Loaded by
``jianguan catalog load`` (also by ``demo``): every file is validated first and a problem names the
file, the entry and the field; nothing is written unless all of it is sound. Safe to re-run —
what exists is kept (changes to an item in force go through approval, not through a reload).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.auth.models import User
from jianguan.catalog import checklists, indicators, service
from jianguan.catalog.models import Indicator, IndicatorWeight, NegativeListEntry
from jianguan.catalog.schemas import ItemIn, TemplateIn
from jianguan.core.errors import Invalid
from jianguan.core.i18n import N_
from jianguan.reference import laws

POINT_COLUMNS = ("code", "item_code", "text", "law", "article", "indicator", "severity", "answer_type", "unit", "min",
                 "max", "choices", "photo_required", "evidence_required", "guidance", "score")


def _folder() -> Path:
    return Path(str(resources.files("jianguan.catalog").joinpath("data")))


@contextmanager
def _where(file: str, entry: str) -> Iterator[None]:
    """Re-raise a validation problem naming the file and the entry."""
    try:
        yield
    except ValidationError as error:
        first = error.errors()[0]
        place = ".".join(str(p) for p in first["loc"])
        raise Invalid(place or "file", N_("{file}, {entry}: {where}: {problem}"), file=file, entry=entry,
                      where=place, problem=first["msg"]) from None
    except Invalid as error:
        raise Invalid(error.field, N_("{file}, {entry}: {where}: {problem}"), file=file, entry=entry,
                      where=error.field, problem=error.localized("zh_CN")) from None


def _yaml(folder: Path, name: str) -> Any:
    try:
        return yaml.safe_load((folder / name).read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise Invalid("file", N_("{file} is not valid YAML: {problem}"), file=name, problem=str(error)[:200]) from None


def read_points(folder: Path) -> dict[str, list[dict[str, Any]]]:
    """check_points.csv → {item code: [point dicts in file order]}."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    with (folder / "check_points.csv").open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in POINT_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise Invalid("file", N_("check_points.csv lacks the column(s) {columns}."), columns=", ".join(missing))
        for row in reader:
            out[row["item_code"].strip()].append({
                "code": row["code"].strip(), "text": row["text"], "law": row["law"].strip(),
                "article": row["article"].strip(), "indicator": row["indicator"].strip(),
                "severity": row["severity"].strip() or "general", "answer_type": row["answer_type"].strip() or "yes_no",
                "unit": row["unit"].strip(), "min": row["min"].strip() or None, "max": row["max"].strip() or None,
                "choices": [c for c in row["choices"].split("|") if c.strip()],
                "photo_required": row["photo_required"].strip().lower() == "true",
                "evidence_required": row["evidence_required"].strip().lower() == "true",
                "guidance": row["guidance"], "score": int(row["score"] or 0)})
    return out


def load(db: Session, *, actor: User | None = None, folder: Path | None = None) -> dict[str, int]:
    """Load the catalog content; → counts of what was added (and kept)."""
    folder = folder or _folder()
    counts = {"indicators": 0, "weights": 0, "items": 0, "items_kept": 0, "check_points": 0, "templates": 0,
              "negative_list": 0}
    counts.update(_indicators(db, _yaml(folder, "indicators.yaml"), actor))
    counts["negative_list"] = _negative(db, _yaml(folder, "negative_list.yaml"))
    points = read_points(folder)
    items = _yaml(folder, "items.yaml") or []
    unknown = sorted(set(points) - {str(i.get("code")) for i in items})
    if unknown:
        raise Invalid("item_code", N_("check_points.csv names item(s) not in items.yaml: {codes}."),
                      codes=", ".join(unknown[:5]))
    for n, raw in enumerate(items):
        code = str(raw.get("code", ""))
        with _where("items.yaml", f"#{n + 1} {code}"):
            data = ItemIn.model_validate({**raw, "check_points": points.get(code, [])})
            if service.item_by_code(db, data.code) is not None:
                counts["items_kept"] += 1
                continue
            service.propose_item(db, data=data, reason="目录随系统发布", actor=actor, load=True)
            counts["items"] += 1
            counts["check_points"] += len(data.check_points)
    for n, raw in enumerate(_yaml(folder, "templates.yaml") or []):
        with _where("templates.yaml", f"#{n + 1} {raw.get('code', '')}"):
            template = TemplateIn.model_validate(raw)
            if checklists.template_by_code(db, template.code) is None:
                checklists.save_template(db, data=template, actor=actor, publish=True)
                counts["templates"] += 1
    return counts


def _indicators(db: Session, spec: dict[str, Any], actor: User | None) -> dict[str, int]:
    if not isinstance(spec, dict) or "domains" not in spec:
        raise Invalid("file", N_("indicators.yaml needs a year and a list of domains."))
    year = int(spec.get("year", 0))
    existing = {i.code: i for i in db.scalars(select(Indicator))}
    weights: dict[str, Decimal] = {}
    added = 0

    def walk(nodes: list[dict[str, Any]], parent: Indicator | None, level: int) -> None:
        nonlocal added
        for position, node in enumerate(nodes or []):
            code = str(node.get("code", "")).strip()
            if not code or not node.get("name"):
                raise Invalid("indicators.yaml", N_("indicators.yaml: every indicator needs a code and a name."))
            row = existing.get(code)
            if row is None:
                row = Indicator(code=code, parent_id=parent.id if parent else None, level=level, position=position,
                                name=str(node["name"]), definition=str(node.get("definition", "")),
                                data_source=str(node.get("data_source", "")),
                                scoring_method=str(node.get("scoring_method", "")))
                db.add(row)
                db.flush()
                existing[code] = row
                added += 1
            if node.get("weight") is not None:
                weights[code] = Decimal(str(node["weight"]))
            walk(node.get("indicators") or node.get("children") or [], row, level + 1)

    walk(spec["domains"], None, 0)
    set_weights = 0
    if year and weights and db.scalar(select(IndicatorWeight.id).where(IndicatorWeight.year == year).limit(1)) is None:
        indicators.set_weights(db, year=year, weights=weights, actor=actor, check_role=False)
        set_weights = len(weights)
    return {"indicators": added, "weights": set_weights}


def _negative(db: Session, entries: list[dict[str, Any]]) -> int:
    added = 0
    for n, raw in enumerate(entries or []):
        code = str(raw.get("code", "")).strip()
        if not code or not raw.get("matter"):
            raise Invalid("negative_list.yaml", N_("negative_list.yaml #{n}: give a code and the matter."), n=n + 1)
        if db.scalar(select(NegativeListEntry.id).where(NegativeListEntry.code == code)) is not None:
            continue
        entry = NegativeListEntry(code=code, matter=str(raw["matter"]), reason=str(raw.get("reason", "")),
                                  keywords=[str(k) for k in raw.get("keywords") or [] if str(k).strip()],
                                  item_codes=[str(c) for c in raw.get("item_codes") or [] if str(c).strip()])
        if raw.get("law"):
            with _where("negative_list.yaml", code):
                article = laws.cite(str(raw["law"]), str(raw.get("article", "")))
            entry.law_slug, entry.law_title = article.law.slug, article.law.title
            entry.article_no, entry.article_text = article.article_no, article.text
        db.add(entry)
        added += 1
    db.flush()
    return added
