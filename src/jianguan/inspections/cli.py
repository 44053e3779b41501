"""``jianguan plan …``, ``jianguan draw run|verify|show`` and ``jianguan expert …`` — thin: parse, call
the service, print a table or JSON. Refusals exit 2; ``draw verify`` exits 1 when the draw differs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from jianguan.core.errors import DomainError
from jianguan.db import session_scope

plan_app = typer.Typer(help="Inspection plans (检查计划).", no_args_is_help=True)
rules_app = typer.Typer(help="Sampling rules (抽查分层比例).", no_args_is_help=True)
draw_app = typer.Typer(help="Double-random draws (双随机抽取).", no_args_is_help=True)
expert_app = typer.Typer(help="The expert pool (专家库).", no_args_is_help=True)
inspection_app = typer.Typer(help="Inspections (检查任务).", no_args_is_help=True)
matter_app = typer.Typer(help="督查 matters: supervision of policy implementation.", no_args_is_help=True)
plan_app.add_typer(rules_app, name="rules")
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _fail(error: DomainError) -> None:
    from jianguan.cli import fail

    fail(error)


@rules_app.command("load")
def rules_load(file: Annotated[Path | None, typer.Argument(help="YAML file (default: the shipped rules).")] = None,
               as_json: JsonOpt = False) -> None:
    """Load sampling rule sets not loaded yet (by code and number); also run by ``jianguan init``."""
    from jianguan.cli import print_json
    from jianguan.inspections import rules

    try:
        with session_scope() as db:
            added = rules.load(db, path=file)
    except DomainError as error:
        _fail(error)
    if as_json:
        print_json({"added": added})
    else:
        typer.echo(f"added {added}")


@rules_app.command("list")
def rules_list(as_json: JsonOpt = False) -> None:
    """Rule sets with their ratios per risk level and factors per credit class."""
    from jianguan.cli import console, print_json
    from jianguan.inspections import rules

    with session_scope() as db:
        out: list[dict[str, Any]] = [
            {"code": r.code, "number": r.number, "name": r.name, "effective_from": r.effective_from,
             "effective_to": r.effective_to, "rules": r.rules} for r in rules.list_rule_sets(db)]
    if as_json:
        print_json(out)
        return
    table = Table("code", "#", "name", "from", "risk % (red/yellow/blue/none)", "credit × (A/B/C/D)")
    for r in out:
        if "risk_ratio" not in r["rules"]:  # the frequency rules: visits a year, not ratios
            visits = r["rules"]["risk_visits_per_year"]
            table.add_row(r["code"], str(r["number"]), r["name"], str(r["effective_from"]),
                          "/".join(visits[k] for k in ("red", "yellow", "blue", "none")) + " ×/年", "")
            continue
        risk, credit = r["rules"]["risk_ratio"], r["rules"]["credit_factor"]
        table.add_row(r["code"], str(r["number"]), r["name"], str(r["effective_from"]),
                      "/".join(risk[k] for k in ("red", "yellow", "blue", "none")),
                      "/".join(credit[k] for k in ("A", "B", "C", "D")))
    console.print(table)


@plan_app.command("list")
def plan_list(state: Annotated[str, typer.Option(help="Only plans in this state.")] = "",
              year: Annotated[int | None, typer.Option(help="Only plans of this year.")] = None,
              as_json: JsonOpt = False) -> None:
    """Inspection plans, newest first."""
    from sqlalchemy import select

    from jianguan.cli import console, print_json
    from jianguan.inspections.models import InspectionPlan
    from jianguan.inspections.schemas import plan_dict

    with session_scope() as db:
        stmt = select(InspectionPlan).order_by(InspectionPlan.id.desc())
        if state:
            stmt = stmt.where(InspectionPlan.state == state)
        if year:
            stmt = stmt.where(InspectionPlan.year == year)
        out = [plan_dict(p) for p in db.scalars(stmt)]
    if as_json:
        print_json(out)
        return
    table = Table("id", "code", "title", "kind", "state", "period")
    for p in out:
        table.add_row(str(p["id"]), p["code"], p["title"], p["kind"], p["state"], f"{p['starts_on']} – {p['ends_on']}")
    console.print(table)


def _draw_out(db: Any, draw: Any, with_entities: bool) -> dict[str, Any]:
    from jianguan.inspections import draws
    from jianguan.inspections.schemas import draw_dict

    out = draw_dict(draw)
    if with_entities:
        rows, _ = draws.results(db, draw, limit=draw.selected_count or 1)
        out["entities"] = [
            {"uscc": r.uscc, "name": r.name, "region_code": r.region_code, "stratum": r.stratum, "reason": r.reason,
             "officers": [{"id": i, "name": n, "domain": d} for i, n, d in r.officers],
             "experts": [{"id": i, "name": n, "domain": d} for i, n, d in r.experts]} for r in rows]
    return out


def _print_draw(out: dict[str, Any]) -> None:
    from jianguan.cli import console

    console.print(f"[bold]抽取 #{out['id']}[/] plan {out['plan_id']} · 第 {out['number']} 次 · seed “{out['seed']}” "
                  f"({out['seed_source']}) · {out['algorithm']}")
    console.print(f"  候选 pool {out['pool_size']:,} · 抽中 drawn {out['selected_count']:,}")
    console.print(f"  pool SHA-256   {out['pool_hash']}\n  result SHA-256 {out['result_hash']}")
    table = Table("stratum", "pool", "excluded", "forced", "eligible", "ratio %", "drawn")
    for s in out["summary"].get("strata", []):
        table.add_row(s["stratum"], f"{s['pool']:,}", f"{s['excluded']:,}", f"{s['forced']:,}", f"{s['eligible']:,}",
                      s["ratio"], f"{s['quota']:,}")
    console.print(table)
    if out["summary"].get("exclusions"):
        console.print("  排除 excluded: " + ", ".join(f"{k} {v:,}" for k, v in out["summary"]["exclusions"].items()))
    if out["summary"].get("forced"):
        console.print("  必检 forced: " + ", ".join(f"{k} {v:,}" for k, v in out["summary"]["forced"].items()))


@plan_app.command("due")
def plan_due(region: Annotated[str, typer.Option(help="GB/T 2260 code: a county, city or province.")],
             domain: Annotated[str, typer.Option(help="Enforcement domain.")] = "market",
             as_json: JsonOpt = False) -> None:
    """Coverage by differentiated frequency: per county, entities done, due and overdue."""
    from jianguan.cli import console, print_json
    from jianguan.inspections import frequency

    try:
        with session_scope() as db:
            rows = frequency.coverage(db, region_code=region, domain=domain)
    except DomainError as error:
        _fail(error)
    out: list[dict[str, Any]] = [{"region_code": r.region_code, "entities": r.entities, "done": r.done, "due": r.due,
            "overdue": r.overdue, "exempt": r.exempt, "rate": r.rate, "visits_needed": str(r.visits_needed)}
           for r in rows]
    if as_json:
        print_json(out)
        return
    table = Table("region", "entities", "done", "due", "overdue", "notice-only", "coverage %")
    for r in out:
        table.add_row(r["region_code"], f"{r['entities']:,}", f"{r['done']:,}", f"{r['due']:,}", f"{r['overdue']:,}",
                      f"{r['exempt']:,}", str(r["rate"]))
    console.print(table)


@draw_app.command("run")
def draw_run(plan_id: int,
             seed: Annotated[str | None, typer.Option(help="Seed read out at a public drawing; else generated.")]
             = None,
             date: Annotated[str | None, typer.Option("--date", help="Inspection date (YYYY-MM-DD): credentials "
                                                      "and leave are checked on it.")] = None,
             entities: Annotated[bool, typer.Option("--entities", help="Include every drawn entity (JSON).")] = False,
             as_json: JsonOpt = False) -> None:
    """Draw entities and officers for an approved plan; prints the seed, the hashes and the strata."""
    from jianguan.cli import console, print_json
    from jianguan.inspections import draws

    day = dt.date.fromisoformat(date) if date else None
    try:
        with session_scope() as db:
            if as_json:
                draw = draws.run_draw(db, plan_id=plan_id, seed=seed, on=day, actor=None, actor_name="cli")
            else:
                with console.status("抽取中 drawing…"):
                    draw = draws.run_draw(db, plan_id=plan_id, seed=seed, on=day, actor=None, actor_name="cli")
            out = _draw_out(db, draw, entities)
    except DomainError as error:
        _fail(error)
    if as_json:
        print_json(out)
    else:
        _print_draw(out)


@draw_app.command("show")
def draw_show(draw_id: int, entities: Annotated[bool, typer.Option("--entities", help="Include every drawn entity.")]
              = False, as_json: JsonOpt = False) -> None:
    """A recorded draw: seed, hashes, strata, exclusions (and with --entities, who was drawn)."""
    from jianguan.cli import print_json
    from jianguan.inspections import draws

    try:
        with session_scope() as db:
            out = _draw_out(db, draws.get_draw(db, draw_id=draw_id, actor=None), entities)
    except DomainError as error:
        _fail(error)
    if as_json:
        print_json(out)
    else:
        _print_draw(out)


@draw_app.command("verify")
def draw_verify(draw_id: int, as_json: JsonOpt = False) -> None:
    """Re-run a draw from its stored pool snapshot: identical or not (exit 1 when not)."""
    from dataclasses import asdict

    from jianguan.cli import console, print_json
    from jianguan.inspections import draws

    try:
        with session_scope() as db:
            outcome = draws.verify(db, draw_id=draw_id, actor=None)
    except DomainError as error:
        _fail(error)
    if as_json:
        print_json(asdict(outcome))
    else:
        mark = "[green]✓ identical 一致[/]" if outcome.identical else "[red]✗ differs 不一致[/]"
        console.print(f"抽取 #{draw_id}: {mark}")
        console.print(f"  snapshot intact 快照完好: {outcome.snapshot_intact}\n  re-run matches 重算一致: "
                      f"{outcome.rerun_matches}\n  stored rows match 存储结果一致: {outcome.rows_match}")
    if not outcome.identical:
        raise typer.Exit(1)


@expert_app.command("add")
def expert_add(name: str, domain: Annotated[list[str], typer.Option("--domain", help="Enforcement domain (repeat).")],
               organisation: Annotated[str, typer.Option(help="Employer.")] = "",
               title: Annotated[str, typer.Option(help="Professional title (职称).")] = "",
               as_json: JsonOpt = False) -> None:
    """Add an expert to the shared pool."""
    from jianguan.cli import print_json
    from jianguan.inspections import experts

    try:
        with session_scope() as db:
            expert = experts.add_expert(db, name=name, domains=domain, organisation=organisation, title=title,
                                        actor=None)
            out = experts.expert_dict(expert)
    except DomainError as error:
        _fail(error)
    if as_json:
        print_json(out)
    else:
        typer.echo(f"expert #{out['id']} {out['name']}")


@expert_app.command("list")
def expert_list(domain: Annotated[str, typer.Option(help="Only experts of this domain.")] = "",
                as_json: JsonOpt = False) -> None:
    """The expert pool."""
    from jianguan.cli import console, print_json
    from jianguan.inspections import experts

    with session_scope() as db:
        out = [experts.expert_dict(e) for e in experts.list_experts(db, domain=domain)]
    if as_json:
        print_json(out)
        return
    table = Table("id", "name", "organisation", "title", "domains")
    for e in out:
        table.add_row(str(e["id"]), e["name"], e["organisation"], e["title"], ", ".join(e["domains"]))
    console.print(table)


@inspection_app.command("export")
def inspection_export(
    since: Annotated[str, typer.Option(help="First day (YYYY-MM-DD), by the visit's start.")],
    until: Annotated[str, typer.Option(help="Last day (YYYY-MM-DD).")],
    out: Annotated[Path, typer.Option("--out", help="File to write: .jsonl or .xlsx.")],
) -> None:
    """Inspection records in the national reporting layout (检查行为数据): JSON lines or XLSX."""
    from jianguan.inspections import reporting

    fmt = "xlsx" if out.suffix.lower() == ".xlsx" else "jsonl"
    try:
        with session_scope() as db:
            data = reporting.export(db, actor=None, since=dt.date.fromisoformat(since),
                                    until=dt.date.fromisoformat(until), fmt=fmt)
    except DomainError as error:
        _fail(error)
    out.write_bytes(data)
    typer.echo(str(out))


def operator() -> Any:
    from jianguan.cli import operator as cli_operator

    return cli_operator()


@matter_app.command("list")
def matter_list(year: Annotated[int | None, typer.Option(help="Due in this year.")] = None,
                state: Annotated[str, typer.Option(help="Only in this state.")] = "",
                as_json: JsonOpt = False) -> None:
    """督查 matters in decision-tree order (central → county), with their state and deadline."""
    from jianguan.cli import console, print_json
    from jianguan.inspections import matters
    from jianguan.inspections.schemas import matter_dict

    with session_scope() as db:
        rows, _ = matters.list_matters(db, actor=operator(), state=state, year=year, limit=10_000)
        out = [{**matter_dict(m), "depth": depth} for m, depth in matters.tree(rows)]
    if as_json:
        print_json(out)
        return
    table = Table("id", "编号 code", "事项 title", "状态 state", "时限 due")
    for m in out:
        table.add_row(str(m["id"]), m["code"], "  " * m["depth"] + m["title"], m["state"], str(m["due_on"]))
    console.print(table)


@matter_app.command("show")
def matter_show(matter_id: Annotated[int, typer.Argument(help="Matter id.")], as_json: JsonOpt = False) -> None:
    """One matter with its problems, responsibilities and tasks (三单)."""
    from jianguan.cli import console, print_json
    from jianguan.inspections import matters
    from jianguan.inspections.schemas import matter_dict

    try:
        with session_scope() as db:
            out = matter_dict(matters.get_matter(db, matter_id=matter_id, actor=None), full=True)
    except DomainError as error:
        _fail(error)
    if as_json:
        print_json(out)
        return
    console.print(f"[bold]{out['code']}[/] {out['title']} · {out['state']} · due {out['due_on']}")
    for p in out["problems"]:
        console.print(f"  问题 {p['text']}")
        for r in p["responsibilities"]:
            console.print(f"    责任 {r['person']} ({r['role']})")
        for t in p["tasks"]:
            console.print(f"    整改 {t['measures']} · {t['state']} · {t['due_on']}")


@matter_app.command("figures")
def matter_figures(year: Annotated[int, typer.Option(help="The year.")], as_json: JsonOpt = False) -> None:
    """The implementation rate of decisions and the acceptance rate of rectification (targets ≥ 95 %)."""
    from jianguan.cli import print_json
    from jianguan.inspections import matters

    with session_scope() as db:
        out = matters.figures(db, actor=operator(), year=year)
    if as_json:
        print_json(out)
        return
    for key, label in (("implementation", "决策部署落实率"), ("acceptance", "整改验收率")):
        r = out[key]
        typer.echo(f"{label}: {r['percent'] if r['percent'] is not None else '—'}% ({r['done']}/{r['due']}), "
                   f"target ≥ {r['target']}%")


@inspection_app.command("burden")
def inspection_burden(year: Annotated[int, typer.Option(help="The year.")],
                      region: Annotated[str, typer.Option(help="A region code (and below).")] = "",
                      top: Annotated[int, typer.Option(help="How many objects to list.")] = 20,
                      as_json: JsonOpt = False) -> None:
    """The burden index: the figures against their targets and the most burdened objects."""
    from jianguan.cli import console, print_json
    from jianguan.inspections import burden

    with session_scope() as db:
        found = burden.burden(db, actor=operator(), year=year, region=region)
        overlaps = burden.overlaps(db, actor=operator(), on=dt.date.today(), region=region)
    if as_json:
        print_json({"figures": found.figures, "working_hours": found.working_hours,
                    "objects": found.per_object.head(top).to_dicts(),
                    "overlaps": [o.__dict__ for o in overlaps]})
        return
    f = found.figures
    console.print(f"非现场检查占比 off-site {f['off_site_share']}% (≥ 40) · 合并检查率 merged "
                  f"{f['merged_visit_rate']}% · 超过 15% 的对象 {f['objects_over_hosting_target']} · "
                  f"重叠检查 overlaps {len(overlaps)}")
    table = Table("对象 object", "检查 visits", "部门 depts", "非现场 off-site", "材料 docs", "小时 hours",
                  "占比 share")
    for r in found.per_object.head(top).to_dicts():
        table.add_row(r["name"] or str(r["entity_id"]), str(r["visits"]), str(r["departments"]),
                      str(r["off_site"]), str(r["documents"]), f"{r['hours']:.1f}", f"{r['hosting_share']}%")
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(plan_app, name="plan")
    app.add_typer(matter_app, name="matter")
    app.add_typer(draw_app, name="draw")
    app.add_typer(expert_app, name="expert")
    app.add_typer(inspection_app, name="inspection")
