"""``jianguan worker`` and ``jianguan jobs list|run``: thin wrappers over core/jobs.py and core/worker.py."""

from __future__ import annotations

import logging
from typing import Annotated

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


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
    app.add_typer(jobs_app, name="jobs")
