"""``jianguan worker`` and ``jianguan jobs list|run`` (thin wrappers over core/jobs.py and core/worker.py),
and ``jianguan notify outbox|drain|retry`` for the notification outbox (notify/outbox.py)."""

from __future__ import annotations

import logging
from typing import Annotated, Any

import typer

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

jobs_app = typer.Typer(help="Scheduled jobs: list them, run one now.", no_args_is_help=True)


def worker(
    once: Annotated[bool, typer.Option("--once", help="Run every job once, then exit.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Run scheduled jobs (overdue scan, …) on their schedules, Asia/Shanghai time. One per deployment."""
    from jianguan.core import worker as core_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not once:
        core_worker.run_forever()
        return
    results = core_worker.run_once()
    _print_results([r.as_dict() for r in results], as_json)
    if any(r.status == "failed" for r in results):
        raise typer.Exit(1)


@jobs_app.command("list")
def list_jobs(as_json: JsonOpt = False) -> None:
    """Every job with its schedule and next run."""
    from jianguan.cli import console, print_json
    from jianguan.core.jobs import all_jobs
    from jianguan.core.worker import next_run

    jobs = list(all_jobs().values())
    if as_json:
        print_json([{"name": j.name, "cron": j.schedule, "next_run": next_run(j),
                     "description": j.description} for j in jobs])
        return
    from rich.table import Table

    table = Table("name", "cron", "next run (Asia/Shanghai)", "description")
    for j in jobs:
        nxt = next_run(j)
        table.add_row(j.name, j.schedule, nxt.strftime("%Y-%m-%d %H:%M") if nxt else "-", j.description)
    console.print(table)


@jobs_app.command("run")
def run_job(name: Annotated[str, typer.Argument(help="Job name, see `jianguan jobs list`.")],
            as_json: JsonOpt = False) -> None:
    """Run one job now (under its lock: skipped if a worker is running it)."""
    from jianguan.cli import err_console
    from jianguan.core.jobs import get_job, run

    try:
        job = get_job(name)
    except LookupError as exc:
        err_console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    result = run(job)
    _print_results([result.as_dict()], as_json)
    if result.status == "failed":
        raise typer.Exit(1)


def _print_results(rows: list[dict[str, object]], as_json: bool) -> None:
    from jianguan.cli import console, print_json

    if as_json:
        print_json(rows)
        return
    colour = {"ok": "green", "skipped": "yellow", "failed": "red"}
    for r in rows:
        status = str(r["status"])
        console.print(f"[{colour.get(status, 'white')}]{status:8}[/] {r['name']}  {r['message']}")


# --------------------------------------------------------------------------- the outbox

notify_app = typer.Typer(help="Notifications sent by e-mail and SMS: the outbox, delivery, dead letters.",
                         no_args_is_help=True)


@notify_app.command("outbox")
def outbox_list(
    status: Annotated[str | None, typer.Option("--status", help="pending, failed, sent or dead: list those.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Counts by channel and status; with --status, the messages themselves (newest first)."""
    from jianguan.cli import console, err_console, print_json
    from jianguan.db import session_scope
    from jianguan.notify import channels, outbox
    from jianguan.notify.models import OutboxStatus

    if status is not None and status not in OutboxStatus.ALL:
        err_console.print(f"[red]--status: one of {', '.join(OutboxStatus.ALL)}[/]")
        raise typer.Exit(2)
    with session_scope() as db:
        counts = outbox.counts(db, actor=None)
        rows = outbox.list_messages(db, actor=None, status=status, limit=limit)[0] if status else []
        items = [_row(m) for m in rows]
    configured = {c: channels.is_configured(c) for c in ("email", "sms")}
    if as_json:
        print_json({"counts": counts, "totals": outbox.totals(counts), "configured": configured, "items": items})
        return
    from rich.table import Table

    table = Table("channel", "configured", *OutboxStatus.ALL)
    for channel in sorted(set(counts) | set(configured)):
        row = counts.get(channel, dict.fromkeys(OutboxStatus.ALL, 0))
        table.add_row(channel, "yes" if configured.get(channel) else "[yellow]no: messages wait[/]",
                      *(str(row[s]) for s in OutboxStatus.ALL))
    console.print(table)
    if status:
        listing = Table("id", "channel", "to", "tries", "next attempt / sent (UTC)", "last error")
        for item in items:
            when = str(item["sent_at"] or item["next_attempt_at"])[:16].replace("T", " ")
            listing.add_row(str(item["id"]), item["channel"], item["to"], str(item["attempts"]), when,
                            item["last_error"][:120])
        console.print(listing)


def _row(message: Any) -> dict[str, Any]:
    from jianguan.notify.outbox import mask_address, shown_error

    return {"id": message.id, "channel": message.channel, "to": mask_address(message.channel, message.address),
            "user_id": message.user_id, "kind": message.kind, "subject": message.subject, "status": message.status,
            "attempts": message.attempts, "next_attempt_at": message.next_attempt_at.isoformat(),
            "sent_at": message.sent_at.isoformat() if message.sent_at else None,
            "last_error": shown_error(message),
            "created_at": message.created_at.isoformat()}


@notify_app.command("drain")
def drain(as_json: JsonOpt = False) -> None:
    """Deliver the due messages now (what the worker's notify.outbox job does every minute)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from jianguan.cli import console, err_console, print_json
    from jianguan.core.jobs import job_lock
    from jianguan.db import session_scope
    from jianguan.notify import channels, outbox

    with job_lock("notify.outbox") as got:
        if not got:
            err_console.print("[yellow]The worker is delivering the outbox right now; try again in a minute.[/]")
            raise typer.Exit(1)
        usable, problems = channels.configured()
        with session_scope() as db:
            total = min(outbox.due_count(db, [c for c in usable if c not in problems]), outbox.RUN_LIMIT)
            columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
            with Progress(*columns, console=err_console, disable=as_json) as bar:
                task = bar.add_task("delivering", total=total)
                result = outbox.drain(db, channels=usable, after_batch=db.commit,
                                      on_message=lambda _m: bar.advance(task))
            result.unavailable = {**problems, **result.unavailable}
    if as_json:
        print_json(result.as_dict())
        return
    console.print(f"sent {result.sent}, retrying {result.retrying}, dead {result.dead}")
    for channel, why in result.unavailable.items():
        console.print(f"[red]{channel} unavailable:[/] {why}")
    for channel, n in result.waiting.items():
        console.print(f"[yellow]{n} {channel} message(s) wait: the channel is not configured or unavailable[/]")


@notify_app.command("retry")
def retry(
    message_id: Annotated[int | None, typer.Argument(help="The message to send again.")] = None,
    dead: Annotated[bool, typer.Option("--dead", help="Send every dead letter again.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Requeue a failed or dead message (or all dead ones) with a fresh set of attempts."""
    from jianguan.cli import console, err_console, fail, operator, print_json
    from jianguan.core.errors import DomainError
    from jianguan.db import session_scope
    from jianguan.notify import outbox

    if (message_id is None) == (not dead):
        err_console.print("[red]Give a message id or --dead (not both).[/]")
        raise typer.Exit(2)
    try:
        with session_scope() as db:
            n = outbox.retry(db, actor=operator(), message_id=message_id, all_dead=dead)
    except DomainError as error:
        fail(error)
    if as_json:
        print_json({"requeued": n})
    else:
        console.print(f"requeued {n} message(s); the worker delivers them within a minute (or `jianguan notify drain`)")


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
    app.add_typer(jobs_app, name="jobs")
    app.add_typer(notify_app, name="notify")
