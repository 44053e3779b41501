"""``jianguan users …``: accounts from the command line (first admin, service accounts)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import select

from jianguan.auth import service
from jianguan.auth.models import Role, User
from jianguan.core.errors import DomainError
from jianguan.db import session_scope
from jianguan.officers.models import Agency

users = typer.Typer(help="Accounts: create, list, issue API tokens.", no_args_is_help=True)


@users.command("create")
def create(
    username: str,
    name: Annotated[str, typer.Option("--name", help="Display name (e.g. 张伟).")],
    role: Annotated[list[Role], typer.Option("--role", help="Repeat for several roles.")],
    agency: Annotated[str | None, typer.Option(help="Agency code.")] = None,
    scope: Annotated[str, typer.Option(help="Data scope: agency, region or all.")] = "agency",
    region: Annotated[str | None, typer.Option(help="Region code (defaults to the agency's).")] = None,
    password: Annotated[str | None, typer.Option(help="Prompted for when omitted.")] = None,
    entity: Annotated[str | None, typer.Option(help="USCC of the entity an entity_user speaks for (企业端).")]
    = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create an account (run as the system itself; audited as 'system')."""
    from jianguan.cli import console, print_json

    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with session_scope() as db:
            agency_id = None
            if agency:
                found = db.scalar(select(Agency.id).where(Agency.code == agency))
                if found is None:
                    raise typer.BadParameter(f"no agency with code {agency!r}", param_hint="--agency")
                agency_id = found
            entity_id = None
            if entity:
                from jianguan.entities.models import Entity

                entity_id = db.scalar(select(Entity.id).where(Entity.uscc == entity.strip().upper()))
                if entity_id is None:
                    raise typer.BadParameter(f"no entity with USCC {entity!r}", param_hint="--entity")
            user = service.create_user(db, username=username, display_name=name, password=password,
                                       roles=[r.value for r in role], agency_id=agency_id, region_code=region,
                                       data_scope=scope, actor=None, entity_id=entity_id)
            result: dict[str, Any] = {"id": user.id, "username": user.username, "roles": user.roles,
                                      "data_scope": user.data_scope}
    except DomainError as error:
        from jianguan.cli import fail

        fail(error)
        return
    if as_json:
        print_json(result)
    else:
        roles = ", ".join(result["roles"])
        console.print(f"[green]✓[/] created {result['username']} (id {result['id']}, roles {roles})")


@users.command("list")
def list_(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """All accounts (operator view: no restricted fields)."""
    from jianguan.cli import console, print_json

    with session_scope() as db:
        rows = [
            {"id": u.id, "username": u.username, "name": u.display_name, "roles": u.roles,
             "agency": u.agency.name if u.agency else None, "scope": u.data_scope, "active": u.is_active}
            for u in db.scalars(select(User).order_by(User.id))
        ]
    if as_json:
        print_json(rows)
        return
    table = Table("id", "username", "name", "roles", "agency", "scope", "active")
    for r in rows:
        roles = r["roles"]
        assert isinstance(roles, list)
        table.add_row(str(r["id"]), str(r["username"]), str(r["name"]), ",".join(roles),
                      str(r["agency"] or ""), str(r["scope"]), "✓" if r["active"] else "✗")
    console.print(table)


@users.command("token")
def token(
    username: str,
    name: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
    days: Annotated[int, typer.Option(help="Valid for this many days.")] = 365,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Issue a bearer API token for an account (printed once)."""
    from jianguan.cli import print_json

    with session_scope() as db:
        user = db.scalar(select(User).where(User.username == username))
        if user is None:
            raise typer.BadParameter(f"no account {username!r}", param_hint="USERNAME")
        value, row = service.create_api_token(db, user=user, name=name, expires_days=days, actor=user)
        result = {"token": value, "id": row.id, "expires_at": row.expires_at}
    if as_json:
        print_json(result)
    else:
        typer.echo(value)


def register(app: typer.Typer) -> None:
    app.add_typer(users, name="users")
