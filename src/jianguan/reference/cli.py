"""``jianguan reference …``: load the reference tables and look codes up from the command line."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from jianguan.db import session_scope
from jianguan.reference import service

reference = typer.Typer(help="Reference data: regions (GB/T 2260), industries (GB/T 4754), value domains.",
                        no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@reference.command("load")
def load(as_json: JsonOpt = False) -> None:
    """Load or refresh regions, industries and value domains (idempotent upsert; also run by init)."""
    from jianguan.cli import console, print_json

    with session_scope() as db:
        result = service.load_all(db)
    if as_json:
        print_json(result)
        return
    table = Table("table", "counts", "inserted", "updated", title="参考数据 reference data")
    for name, counts in result.items():
        shown = ", ".join(f"{k} {v}" for k, v in counts.items() if k not in ("inserted", "updated"))
        table.add_row(name, shown, str(counts.get("inserted", 0)), str(counts.get("updated", 0)))
    console.print(table)


@reference.command("domains")
def domains(
    domain: Annotated[str | None, typer.Argument(help="A domain code, e.g. penalty_kind.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the value domains, or the items of one (retired ones included)."""
    from jianguan.cli import console, print_json

    with session_scope() as db:
        if domain is None:
            rows: list[dict[str, Any]] = [
                {"code": d.code, "name": d.name, "items": len(service.domain_items(db, d.code))}
                for d in service.list_domains(db)]
        else:
            service.get_domain(db, domain)
            rows = [{"code": i.code, "name": i.name, "sort_order": i.sort_order, "valid_from": i.valid_from,
                     "valid_to": i.valid_to, "is_standard": i.is_standard}
                    for i in service.domain_items(db, domain, include_retired=True)]
    if as_json:
        print_json(rows)
        return
    table = Table(*(rows[0].keys() if rows else ["code"]))
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row.values()))
    console.print(table)


@reference.command("regions")
def regions(
    parent: Annotated[str | None, typer.Option(help="Children of this six-digit code.")] = None,
    q: Annotated[str | None, typer.Option("--q", help="Search by name or code prefix.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Browse or search administrative divisions."""
    from jianguan.cli import console, print_json

    with session_scope() as db:
        rows = [{"code": r.code, "name": r.name, "level": r.level, "parent_code": r.parent_code}
                for r in service.list_regions(db, parent=parent, q=q)]
    if as_json:
        print_json(rows)
        return
    table = Table("code", "name", "level", "parent")
    for r in rows:
        table.add_row(r["code"], r["name"], r["level"], r["parent_code"] or "")
    console.print(table)


@reference.command("industry")
def industry(code: str, as_json: JsonOpt = False) -> None:
    """Show an industry code with its path up to the section (e.g. 6210 → H / 62 / 621 / 6210)."""
    from jianguan.cli import console, print_json

    with session_scope() as db:
        path = [{"code": i.code, "name": i.name, "level": i.level} for i in service.industry_path(db, code)]
    if not path:
        from jianguan.cli import err_console

        err_console.print(f"[red]✗ unknown industry code {code!r}[/]")
        raise typer.Exit(1)
    if as_json:
        print_json(path)
        return
    console.print(" / ".join(f"{p['code']} {p['name']}" for p in path))


def register(app: typer.Typer) -> None:
    app.add_typer(reference, name="reference")
