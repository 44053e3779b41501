"""``jianguan import entities|officers FILE`` and ``jianguan import template KIND OUT.xlsx``."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from sqlalchemy import select

from jianguan.core.errors import DomainError

imports = typer.Typer(help="Import files (entities, officers): check, report, write.", no_args_is_help=True)


def _actor(db: Any, username: str | None) -> Any:
    from jianguan.auth.models import Role, User

    q = select(User).where(User.username == username) if username else select(User).order_by(User.id)
    users = [u for u in db.scalars(q) if username or u.has_role(Role.system_admin)]
    if not users:
        from jianguan.cli import err_console

        err_console.print("[red]✗ no such user (use --user)[/]")
        raise typer.Exit(2)
    return users[0]


def run_import(kind: str, file: Path, source: str, as_of: str | None, dry_run: bool, valid_rows: bool,
               as_json: bool, report_out: Path | None, user: str | None) -> None:
    from jianguan.cli import err_console
    from jianguan.db import session_scope
    from jianguan.imports import service

    if not file.is_file():
        err_console.print(f"[red]✗ file: no such file {file}[/]")
        raise typer.Exit(2)
    try:
        when = dt.datetime.fromisoformat(as_of) if as_of else None
    except ValueError:
        err_console.print(f"[red]✗ --as-of: not an ISO date and time: {as_of}[/]")
        raise typer.Exit(2) from None
    if when is not None and when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))  # as written in China
    labels = {"check": "检查", "write": "写入", "index": "重建索引"}
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, disable=as_json, console=err_console) as bar:
        tasks: dict[str, TaskID] = {}

        def tick(phase: str, done: int, total: int | None) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(labels.get(phase, phase), total=total)
            bar.update(tasks[phase], total=total, completed=done)

        try:
            with session_scope() as db:
                actor = _actor(db, user)
                batch, outcome = service.import_file(db, kind=kind, path=file, actor=actor, source=source,
                                                     as_of=when, valid_rows=valid_rows, dry_run=dry_run,
                                                     progress=tick)
                if report_out is not None and batch.report_path:
                    shutil.copyfile(batch.report_path, report_out)
                summary = {"batch_id": batch.id, "status": batch.status, **outcome.as_dict(limit=1000)}
                if batch.rejected_path:
                    summary["rejected_file"] = batch.rejected_path
                summary["report_file"] = batch.report_path
        except DomainError as error:
            err_console.print(f"[red]✗ {error.localized('zh_CN')}[/] ({error.code}; {error.details or ''})")
            raise typer.Exit(2) from error
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=2, default=str))
    else:
        typer.echo(f"批次 {summary['batch_id']}：{summary['status']}；共 {outcome.total} 行，错误行 "
                   f"{outcome.error_rows}，仅警告 {outcome.warning_rows}；新增 {outcome.created}，更新 "
                   f"{outcome.updated}")
        for p in outcome.problem_list(20):
            typer.echo(f"  第{p['row']}行 {p['field']} [{p['severity']}] {p['code']}：{p['message']}")
        if outcome.problems.height > 20:
            typer.echo(f"  …… 共 {outcome.problems.height} 条问题，见报告 {summary['report_file']}")
    if outcome.error_rows and not valid_rows:
        raise typer.Exit(1)


def _command(kind: str) -> Any:
    def command(
        file: Path,
        source: Annotated[str, typer.Option("--source", help="Source system (来源系统).")] = "",
        as_of: Annotated[str | None, typer.Option("--as-of", help="The source's as-of time (ISO).")] = None,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Check only; write nothing.")] = False,
        valid_rows: Annotated[bool, typer.Option("--valid-rows", help="Write the valid rows only.")] = False,
        as_json: Annotated[bool, typer.Option("--json")] = False,
        report_out: Annotated[Path | None, typer.Option("--report", help="Copy the XLSX report here.")] = None,
        user: Annotated[str | None, typer.Option("--user", help="Importing user (default: first admin).")] = None,
    ) -> None:
        run_import(kind, file, source, as_of, dry_run, valid_rows, as_json, report_out, user)

    command.__doc__ = f"Import {kind} from a CSV (UTF-8/GB18030) or XLSX file."
    return command


imports.command("entities")(_command("entities"))
imports.command("officers")(_command("officers"))
imports.command("catalog")(_command("catalog"))
imports.command("discretion")(_command("discretion"))
imports.command("complaints")(_command("complaints"))
imports.command("readings")(_command("readings"))
imports.command("feeds")(_command("feeds"))


@imports.command("template")
def template(kind: str, out: Path) -> None:
    """Write the XLSX template for KIND (entities, officers or catalog)."""
    from jianguan.db import session_scope
    from jianguan.imports.templates import write_template

    with session_scope() as db:
        write_template(db, kind, out)
    typer.echo(str(out))


def register(app: typer.Typer) -> None:
    app.add_typer(imports, name="import")
