"""``jianguan complaint …`` and ``jianguan joint …`` — complaints, joint tasks, assistance requests and
recognised results from the command line (the operator's view). Thin."""

from __future__ import annotations

from typing import Annotated, Any

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
    """Complaints by state, response times in working days, and how many were transferred (wrong routing)."""
    from jianguan.cli import operator, print_json
    from jianguan.collab import figures
    from jianguan.db import session_scope

    with session_scope() as db:
        out = figures.figures(db, actor=operator())
    if as_json:
        print_json(out)
        return
    typer.echo(f"共 {out['total']} 件；转办 {out['transferred']} 件（{out['transfer_rate_pct']}%）")
    typer.echo(f"按时受理 {out['accepted_in_time_pct']}%（中位 {out['accept']['median']} 个工作日，"
               f"90% 在 {out['accept']['p90']} 个工作日内）；按时答复 {out['replied_in_time_pct']}%；"
               f"当前逾期 {out['overdue_now']} 件")
    for state, n in sorted(out["by_state"].items()):
        typer.echo(f"  {state}: {n}")


def _import_command() -> None:
    """``jianguan complaint import FILE``: the same command as ``jianguan import complaints FILE``."""
    from jianguan.imports.cli import _command

    complaint_app.command("import", help="A hotline batch (12345 转办) through the import pipeline.")(
        _command("complaints"))


_import_command()


joint_app = typer.Typer(help="Joint tasks (联合检查), cross-region assistance (跨区域协查), recognised results.",
                        no_args_is_help=True)


@joint_app.command("list")
def list_joint(state: Annotated[str, typer.Option(help="Only in this state (proposed, scheduled, closed).")] = "",
               as_json: JsonOpt = False) -> None:
    """Joint tasks, the latest date first."""
    from jianguan.cli import console, operator, print_json
    from jianguan.collab import joint
    from jianguan.db import session_scope

    with session_scope() as db:
        rows: list[dict[str, Any]] = [
            {"code": t.code, "entity_id": t.entity_id, "scheduled_on": t.scheduled_on.isoformat(),
                 "agencies": t.agency_ids, "agreed": t.agreed_agency_ids, "state": t.state}
                for t in joint.board(db, actor=operator(), state=state, limit=10_000)]
    if as_json:
        print_json(rows)
        return
    from rich.table import Table

    table = Table("编号 code", "对象 entity", "日期 date", "部门 agencies", "状态 state")
    for r in rows:
        table.add_row(r["code"], str(r["entity_id"]), r["scheduled_on"], f"{len(r['agreed'])}/{len(r['agencies'])}",
                      r["state"])
    console.print(table)


@joint_app.command("proposals")
def joint_proposals(region: Annotated[str, typer.Option(help="Only this region (code).")] = "",
                    as_json: JsonOpt = False) -> None:
    """Visits to merge: departments due at one entity within a month for overlapping items."""
    from jianguan.cli import operator, print_json
    from jianguan.core.workdays import today_shanghai
    from jianguan.db import session_scope
    from jianguan.inspections import burden

    with session_scope() as db:
        rows = [{"entity": o.entity_name, "agencies": o.agencies, "items": o.overlapping_items,
                 "merge": o.proposal["merge"], "date": o.proposal["date"], "possible": o.proposal["possible"]}
                for o in burden.overlaps(db, actor=operator(), on=today_shanghai(), region=region)]
    if as_json:
        print_json(rows)
        return
    for r in rows:
        typer.echo(f"{r['entity']}: {'、'.join(r['agencies'])} → {', '.join(r['merge']) or '—'} ({r['date'] or '—'})")
    typer.echo(f"共 {len(rows)} 处可合并")


@joint_app.command("assist")
def list_assist(direction: Annotated[str, typer.Option(help="incoming, outgoing, or both.")] = "",
                state: Annotated[str, typer.Option(help="Only in this state (requested … closed).")] = "",
                as_json: JsonOpt = False) -> None:
    """Cross-region assistance requests, the newest first."""
    from jianguan.cli import console, operator, print_json
    from jianguan.collab import assist
    from jianguan.db import session_scope

    with session_scope() as db:
        rows: list[dict[str, Any]] = [
            {"code": r.code, "kind": r.kind, "from": r.requested_by_agency_id, "to": r.agency_id,
                 "subject": r.subject, "state": r.state, "due_date": r.due_date.isoformat() if r.due_date else None}
                for r in assist.listing(db, actor=operator(), direction=direction, state=state, limit=10_000)]
    if as_json:
        print_json(rows)
        return
    from rich.table import Table

    table = Table("编号 code", "事项 subject", "状态 state", "期限 due")
    for r in rows:
        table.add_row(r["code"], r["subject"], r["state"], r["due_date"] or "—")
    console.print(table)


@joint_app.command("recognised")
def recognised(uscc: Annotated[str, typer.Argument(help="The entity's USCC.")], as_json: JsonOpt = False) -> None:
    """The items other departments' inspections of this entity still cover (结果互认), until when."""
    from sqlalchemy import select

    from jianguan.cli import print_json
    from jianguan.collab import recognition
    from jianguan.core.workdays import today_shanghai
    from jianguan.db import session_scope
    from jianguan.entities.models import Entity

    with session_scope() as db:
        entity = db.scalar(select(Entity).where(Entity.uscc == uscc.strip().upper()))
        if entity is None:
            typer.echo(f"{uscc}: 登记库中没有该代码", err=True)
            raise typer.Exit(1)
        rows = [{**r, "visited_on": r["visited_on"].isoformat(), "valid_until": r["valid_until"].isoformat()}
                for r in recognition.of_entity(db, entity_id=entity.id, on=today_shanghai())]
    if as_json:
        print_json(rows)
        return
    for r in rows:
        typer.echo(f"{r['item_code']}: {r['inspection_code']}（{r['visited_on']}）有效至 {r['valid_until']}")
    if not rows:
        typer.echo("无可互认的检查结果")


def register(app: typer.Typer) -> None:
    app.add_typer(complaint_app, name="complaint")
    app.add_typer(complaint_app, name="complaints", help="The same as `jianguan complaint`.")
    app.add_typer(joint_app, name="joint")
