"""``jianguan catalog load|items|negative|joint`` and ``jianguan checklist for`` — thin: parse, call
the service, print a table or JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from jianguan.core.errors import DomainError
from jianguan.core.i18n import N_
from jianguan.db import session_scope

catalog_app = typer.Typer(help="Supervision catalog (统一事项目录).", no_args_is_help=True)
checklist_app = typer.Typer(help="Checklists (检查表单).", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@catalog_app.command("load")
def load(as_json: JsonOpt = False) -> None:
    """Load the catalog shipped with the package (items, check points, templates, indicators, negative
    list). Checks every file first; safe to re-run (what exists is kept)."""
    from jianguan.catalog import content
    from jianguan.cli import console, print_json

    try:
        with session_scope() as db:
            counts = content.load(db)
    except DomainError as error:
        from jianguan.cli import fail

        fail(error)
    if as_json:
        print_json(counts)
        return
    table = Table("内容 what", "新增 added", title="监管事项目录 catalog")
    labels = {"items": "监管事项", "check_points": "检查要点", "templates": "检查表模板", "indicators": "指标",
              "weights": "指标权重", "negative_list": "负面清单"}
    for key, label in labels.items():
        table.add_row(label, str(counts[key]))
    if counts["items_kept"]:
        table.add_row("已有事项（保留）", str(counts["items_kept"]))
    console.print(table)


@catalog_app.command("export")
def export(xlsx: Annotated[Path, typer.Option("--xlsx", help="Write the catalog to this XLSX file.")]) -> None:
    """The catalog as one sheet (one row per check point), in the layout ``catalog import`` reads."""
    from jianguan.catalog import importing

    with session_scope() as db:
        xlsx.write_bytes(importing.export_xlsx(db))
    typer.echo(str(xlsx))


@catalog_app.command("import")
def import_(file: Path,
            dry_run: Annotated[bool, typer.Option("--dry-run", help="Check only; write nothing.")] = False,
            as_json: JsonOpt = False,
            report: Annotated[Path | None, typer.Option("--report", help="Copy the XLSX report here.")] = None,
            user: Annotated[str | None, typer.Option("--user", help="Importing user (default: first admin).")]
            = None) -> None:
    """Import a catalog sheet through the import pipeline (all or nothing, with a problem report):
    new items become admission drafts, changed ones adjustment drafts, to be approved as usual."""
    from jianguan.imports.cli import run_import

    run_import("catalog", file, "", None, dry_run, False, as_json, report, user)


@catalog_app.command("items")
def items(q: Annotated[str, typer.Option(help="Name or code contains.")] = "",
          domain: Annotated[str, typer.Option(help="Enforcement domain code.")] = "",
          as_json: JsonOpt = False) -> None:
    """Items of the catalog with the version in force."""
    from jianguan.catalog import service
    from jianguan.cli import console, print_json

    with session_scope() as db:
        rows, _total = service.list_items(db, q=q, domain=domain, limit=10_000)
        out: list[dict[str, Any]] = [
            {"code": r.item.code, "name": r.version.name, "domain": r.item.domain, "status": r.item.status,
             "version": r.version.number, "key_item": r.version.key_item,
             "parent": r.item.parent.code if r.item.parent else None} for r in rows]
    if as_json:
        print_json(out)
        return
    table = Table("code", "name", "domain", "status", "v")
    for r in out:
        table.add_row(r["code"], ("　" if r["parent"] else "") + r["name"], r["domain"], r["status"], str(r["version"]))
    console.print(table)


@checklist_app.command("for")
def checklist_for(entity: Annotated[str, typer.Option("--entity", help="USCC of the entity.")],
                  item: Annotated[list[str] | None, typer.Option("--item", help="Catalog item code (repeatable).")]
                  = None,
                  as_json: JsonOpt = False) -> None:
    """The checklist the service would give an officer for ENTITY: the template, the points and why
    each is there. Exits 2 when the entity or item is unknown."""
    from jianguan.catalog import checklists
    from jianguan.cli import console, print_json
    from jianguan.core.errors import Invalid
    from jianguan.entities import service as entities

    try:
        with session_scope() as db:
            found = entities.find(db, uscc_code=entity)
            if found is None:
                raise Invalid("entity", N_("No entity with USCC {uscc}."), uscc=entity)
            plan = checklists.plan(db, entity=found, item_codes=item or [])
            out: dict[str, Any] = {
                "entity": {"uscc": found.uscc, "name": found.name, "industry_code": found.industry_code,
                           "scale": found.scale, "risk_level": found.risk_level},
                "items": plan.item_codes,
                "template": None if plan.template is None else {
                    "code": plan.template.template.code, "name": plan.template.name,
                    "version": plan.template.number},
                "reasons": plan.reasons,
                "points": [{"code": p.point.code, "text": p.point.text, "section": p.section,
                            "mandatory": p.mandatory, "reason": p.reason, "item": p.point.version.item.code,
                            "item_version": p.point.version.number,
                            "legal_basis": f"{p.point.law_title}{p.point.article_no}" if p.point.law_slug else ""}
                           for p in plan.points],
                "also_matching": [v.name for v, _ in plan.candidates],
            }
    except DomainError as error:
        from jianguan.cli import fail

        fail(error)
    if as_json:
        print_json(out)
        return
    console.print(f"[bold]{out['entity']['name']}[/] {out['entity']['uscc']}")
    for reason in out["reasons"]:
        console.print(f"  · {reason}")
    table = Table("#", "要点 point", "必查", "依据 basis", "原因 why")
    for n, p in enumerate(out["points"], 1):
        table.add_row(str(n), p["text"], "✓" if p["mandatory"] else "", p["legal_basis"], p["reason"])
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(catalog_app, name="catalog")
    app.add_typer(checklist_app, name="checklist")
