"""``jianguan complaint list|show`` — complaints from the command line (the operator's view). Thin."""

from __future__ import annotations

from typing import Annotated

import typer

complaint_app = typer.Typer(help="Complaints and tips (投诉举报).", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@complaint_app.command("list")
def list_complaints(state: Annotated[str, typer.Option(help="Only in this state (received … closed).")] = "",
                    unrouted: Annotated[bool, typer.Option("--unrouted", help="Only those no rule routed.")] = False,
                    as_json: JsonOpt = False) -> None:
    """Complaints of every agency, the soonest due first; content masked (the operator handles none)."""
    from jianguan.cli import console, operator, print_json
    from jianguan.collab import service
    from jianguan.db import session_scope

    actor = operator()
    with session_scope() as db:
        rows = [service.view(c, actor) for c in service.queue(db, actor=actor, state=state, unrouted=unrouted,
                                                              limit=10_000)]
    if as_json:
        print_json(rows)
        return
    from rich.table import Table

    table = Table("编号 number", "类别 category", "对象 party", "状态 state", "期限 due")
    for c in rows:
        table.add_row(c["number"], c["category"], c["party_name"] or "—", c["state"], str(c["due_date"] or "—"))
    console.print(table)


@complaint_app.command("figures")
def complaint_figures(as_json: JsonOpt = False) -> None:
    """Complaints by state, and how many were transferred (wrong routing)."""
    from jianguan.cli import operator, print_json
    from jianguan.collab import service
    from jianguan.db import session_scope

    with session_scope() as db:
        out = service.figures(db, actor=operator())
    if as_json:
        print_json(out)
        return
    typer.echo(f"共 {out['total']} 件；转办 {out['transferred']} 件（{out['transfer_rate_pct']}%）")
    for state, n in sorted(out["by_state"].items()):
        typer.echo(f"  {state}: {n}")


def _import_command() -> None:
    """``jianguan complaint import FILE``: the same command as ``jianguan import complaints FILE``."""
    from jianguan.imports.cli import _command

    complaint_app.command("import", help="A hotline batch (12345 转办) through the import pipeline.")(
        _command("complaints"))


_import_command()


def register(app: typer.Typer) -> None:
    app.add_typer(complaint_app, name="complaint")
