"""``jianguan audit …`` (verify and read the chain, check evidence) and ``jianguan keys …``
(field-encryption keys: make one, see where values stand, rotate). Thin over the services."""

from __future__ import annotations

from typing import Annotated, Any

import typer

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]

audit_app = typer.Typer(help="The audit chain (审计链) and the evidence store.", no_args_is_help=True)
keys_app = typer.Typer(help="Field-encryption keys (JIANGUAN_FIELD_KEYS): new, status, rotate.",
                       no_args_is_help=True)


def _anchors(values: list[str]) -> dict[int, str]:
    anchors = {}
    for value in values:
        entry_id, _, digest = value.partition(":")
        if not entry_id.isdigit() or len(digest) != 64:
            raise typer.BadParameter("use ID:HASH, e.g. 1234:9f86d0…", param_hint="--anchor")
        anchors[int(entry_id)] = digest.lower()
    return anchors


@audit_app.command("verify")
def verify(
    as_json: JsonOpt = False,
    anchor: Annotated[list[str] | None, typer.Option(
        "--anchor", help="ID:HASH of an entry recorded earlier outside the database (repeatable).")] = None,
    batch: Annotated[int, typer.Option(min=100, help="Entries read per query.")] = 5000,
) -> None:
    """Walk the whole chain; print OK (N entries) or the first broken entry. Exit 1 when broken."""
    from jianguan.audit import service
    from jianguan.cli import console, err_console, print_json
    from jianguan.db import session_scope

    with session_scope() as db:
        result = service.verify(db, batch=batch, anchors=_anchors(anchor or []))
    if as_json:
        print_json(result.as_dict())
    elif result.ok:
        console.print(f"[green]{result}[/]")
        if result.head_id:
            console.print(f"head #{result.head_id} {result.head_hash}", style="dim")
    else:
        err_console.print(f"[red]{result}[/]")
    if not result.ok:
        raise typer.Exit(1)


@audit_app.command("log")
def log(
    object_type: Annotated[str | None, typer.Option("--object-type", help="e.g. user, inspection.")] = None,
    object_id: Annotated[str | None, typer.Option("--object-id")] = None,
    action: Annotated[str | None, typer.Option("--action", help="e.g. data.export.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Audit entries, newest first."""
    import datetime as dt
    import json
    from zoneinfo import ZoneInfo

    from rich.table import Table

    from jianguan.audit import service
    from jianguan.cli import console, print_json
    from jianguan.config import get_settings
    from jianguan.db import session_scope

    with session_scope() as db:
        rows, total = service.list_entries(db, object_type=object_type, object_id=object_id, action=action,
                                           limit=limit)
        entries = [service.entry_dict(r) for r in rows]
    if as_json:
        print_json(entries)
        return
    zone = ZoneInfo(get_settings().timezone)
    table = Table("id", f"at ({zone.key})", "actor", "action", "object", "detail",
                  title=f"audit log ({len(entries)} of {total})")
    for e in entries:
        obj = f"{e['object_type']}#{e['object_id']}" if e["object_id"] else e["object_type"]
        at = dt.datetime.fromisoformat(e["at"]).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(str(e["id"]), at, e["actor_name"], e["action"], obj,
                      json.dumps(e["detail"], ensure_ascii=False)[:120])
    console.print(table)


@audit_app.command("verify-evidence")
def verify_evidence(as_json: JsonOpt = False) -> None:
    """Re-hash every stored evidence file; list missing or changed ones. Exit 1 if any."""
    from jianguan.audit import evidence
    from jianguan.cli import console, err_console, print_json
    from jianguan.db import session_scope

    checked, bad = 0, []
    with session_scope() as db:
        for sha256, ok in evidence.verify_all_evidence(db):
            checked += 1
            if not ok:
                bad.append(sha256)
    if as_json:
        print_json({"ok": not bad, "checked": checked, "damaged": bad})
    elif bad:
        err_console.print(f"[red]{len(bad)} of {checked} evidence files damaged or missing:[/]")
        for sha256 in bad:
            err_console.print(f"  {sha256}")
    else:
        console.print(f"[green]OK ({checked} evidence files)[/]")
    if bad:
        raise typer.Exit(1)


@keys_app.command("new")
def new(
    key_id: Annotated[str | None, typer.Option("--id", help="Key id (default k<YYYYMMDD>).")] = None,
    bare: Annotated[bool, typer.Option("--bare", help="Print only the base64 key, without 'id:'.")] = False,
) -> None:
    """Print a new key entry id:base64 to put FIRST in JIANGUAN_FIELD_KEYS (keep the old ones)."""
    from jianguan.core.crypto import new_key_spec

    try:
        spec = new_key_spec(key_id)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--id") from exc
    typer.echo(spec.partition(":")[2] if bare else spec)


def _ring() -> Any:
    from jianguan.cli import err_console
    from jianguan.core.crypto import keyring

    try:
        return keyring()
    except ValueError as exc:
        err_console.print(f"[red]✗ {exc}[/]")
        raise typer.Exit(2) from exc


@keys_app.command("status")
def status(as_json: JsonOpt = False) -> None:
    """Per encrypted column: values, and how many are not yet under the primary key."""
    from rich.table import Table

    from jianguan.cli import console, print_json
    from jianguan.core.crypto import rotation_status
    from jianguan.db import get_engine

    ring = _ring()
    rows = [s.as_dict() for s in rotation_status(get_engine(), ring)]
    if as_json:
        print_json({"primary": ring.primary_id, "cipher": ring.cipher, "keys": list(ring.keys),
                    "columns": rows})
        return
    table = Table("table", "column", "values", "to rotate",
                  title=f"primary key {ring.primary_id} ({ring.cipher}); keys: {', '.join(ring.keys)}")
    for r in rows:
        table.add_row(r["table"], r["column"], str(r["total"]), str(r["pending"]))
    console.print(table)


@keys_app.command("rotate")
def rotate(
    as_json: JsonOpt = False,
    batch: Annotated[int, typer.Option("--batch", min=1, max=100_000, help="Rows per transaction.")] = 500,
) -> None:
    """Re-encrypt every value not under the first key of JIANGUAN_FIELD_KEYS. Safe to stop and re-run."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from jianguan.cli import console, err_console, print_json
    from jianguan.core.crypto import ColumnRotation, RotationError, rotate_keys, rotation_status
    from jianguan.db import get_engine

    ring = _ring()
    try:
        if as_json:
            done = rotate_keys(get_engine(), batch=batch, ring=ring)
        else:
            columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                       TimeRemainingColumn()]
            with Progress(*columns, console=console) as progress:
                tasks: dict[str, Any] = {}

                def started(s: ColumnRotation) -> None:
                    name = f"{s.table}.{s.column}"
                    tasks[name] = progress.add_task(name, total=s.pending)

                def advanced(s: ColumnRotation, n: int) -> None:
                    progress.advance(tasks[f"{s.table}.{s.column}"], n)

                done = rotate_keys(get_engine(), batch=batch, ring=ring, on_batch=advanced, on_column=started)
    except RotationError as exc:
        err_console.print(f"[red]✗ stopped at {exc}[/] (batches before it are committed; fix and re-run)")
        raise typer.Exit(1) from exc
    rows = [s.as_dict() for s in done]
    remaining = sum(s.pending for s in rotation_status(get_engine(), ring))
    if as_json:
        print_json({"primary": ring.primary_id, "cipher": ring.cipher, "remaining": remaining,
                    "columns": rows})
        return
    for r in rows:
        console.print(f"{r['table']}.{r['column']}: {r['rotated']} re-encrypted, {r['skipped']} skipped, "
                      f"{r['total']} values")
    if remaining:
        err_console.print(f"[yellow]{remaining} values were written meanwhile under another key; re-run.[/]")
        raise typer.Exit(1)
    console.print(f"[green]✓[/] every value is now under key {ring.primary_id} ({ring.cipher})")


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
    app.add_typer(keys_app, name="keys")
