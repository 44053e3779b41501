"""``jianguan officers list`` and ``jianguan credentials verify`` (operator views; nothing restricted)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from jianguan.core.errors import NotFound
from jianguan.core.workdays import today_shanghai
from jianguan.db import session_scope
from jianguan.officers import credentials as creds
from jianguan.officers.models import Agency, Officer

officers_app = typer.Typer(help="Officers (执法人员).", no_args_is_help=True)
credentials_app = typer.Typer(help="Enforcement credentials (执法证).", no_args_is_help=True)


@officers_app.command("list")
def list_(
    agency: Annotated[str | None, typer.Option(help="Only this agency (code).")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Officers with their credentials and whether each is valid today (ID numbers and phones never shown)."""
    from jianguan.cli import console, print_json

    on = today_shanghai()
    with session_scope() as db:
        stmt = select(Officer).options(selectinload(Officer.credentials), selectinload(Officer.agency))
        if agency:
            stmt = stmt.join(Agency, Agency.id == Officer.agency_id).where(Agency.code == agency)
        rows: list[dict[str, Any]] = []
        for o in db.scalars(stmt.order_by(Officer.agency_id, Officer.id)):
            cards = []
            for c in o.credentials:
                valid, reason = creds.credential_validity(c, on)
                cards.append({"number": c.number, "status": c.status, "expires_on": c.expires_on.isoformat(),
                              "valid_today": valid, "reason": reason})
            rows.append({"id": o.id, "name": o.name, "agency": o.agency.name, "agency_code": o.agency.code,
                         "domains": o.domains, "active": o.is_active, "credentials": cards})
    if as_json:
        print_json(rows)
        return
    table = Table("id", "name", "agency", "domains", "credentials")
    for r in rows:
        shown = ", ".join(f"{c['number']} ({'✓' if c['valid_today'] else c['reason']})" for c in r["credentials"])
        table.add_row(str(r["id"]), r["name"], r["agency"], ",".join(r["domains"]), shown or "—")
    console.print(table)


@credentials_app.command("verify")
def verify(number: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """查证: what the public page shows for NUMBER; exits 1 when it is not valid today or unknown."""
    from jianguan.cli import console, err_console, print_json

    with session_scope() as db:
        try:
            result = creds.verify(db, number)
        except NotFound as error:
            if as_json:
                print_json({"number": number, "found": False, "valid": False,
                            "message": error.localized("zh_CN")})
            else:
                err_console.print(f"[red]✗ {error.localized('zh_CN')}[/]")
            raise typer.Exit(1) from None
    if as_json:
        print_json({"found": True, **result.as_dict()})
    else:
        mark = "[green]✓[/]" if result.valid else "[red]✗[/]"
        console.print(f"{mark} {result.number} {result.name} · {result.agency} · "
                      f"{'、'.join(result.domain_names)} · {result.reason_text} (有效期至 {result.expires_on})")
    if not result.valid:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(officers_app, name="officers")
    app.add_typer(credentials_app, name="credentials")
