"""``jianguan discretion list|suggest`` — the discretion benchmark engine from the command line. Thin."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer

from jianguan.core.errors import DomainError

discretion_app = typer.Typer(help="Discretion benchmarks (裁量基准).", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@discretion_app.command("list")
def list_rules(as_json: JsonOpt = False) -> None:
    """The shipped rules (newest version of each)."""
    from jianguan.cases import discretion
    from jianguan.cli import print_json

    out = [{"code": code, "version": versions[0].version, "title": versions[0].title,
            "effective_from": versions[0].effective_from.isoformat()} for code, versions in discretion.rules().items()]
    if as_json:
        print_json(out)
        return
    for rule in out:
        typer.echo(f"{rule['code']}  v{rule['version']}  {rule['title']}")


@discretion_app.command("suggest")
def suggest(rule: Annotated[str, typer.Option("--rule", help="Rule code, e.g. SP-124.")],
            facts: Annotated[Path, typer.Option("--facts", help="JSON object of case facts.", exists=True)],
            on: Annotated[str, typer.Option(help="Date of the act (YYYY-MM-DD); default today.")] = "",
            as_json: JsonOpt = False) -> None:
    """Tier, range (yuan, two decimals), penalty kinds, legal basis and reasons for the case's facts."""
    from jianguan.cases import discretion
    from jianguan.cli import fail, print_json
    from jianguan.core.errors import Invalid
    from jianguan.core.i18n import N_

    try:
        try:
            raw = json.loads(facts.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise Invalid("facts", N_("The facts file is not valid JSON: {problem}."), problem=str(exc)) from None
        if not isinstance(raw, dict):
            raise Invalid("facts", N_("The facts file must hold one JSON object of facts."))
        day = dt.date.fromisoformat(on) if on else dt.date.today()
        result = discretion.suggest(rule, raw, on=day).as_dict()
    except DomainError as error:
        fail(error)
    if as_json:
        print_json(result)
        return
    span = "—" if result["range"] is None else f"{result['range'][0]} – {result['range'][1]} 元"
    typer.echo(f"{result['tier_name']}：{span}（法定 {result['legal_range'][0]} – {result['legal_range'][1]} 元）")
    typer.echo("理由：" + "；".join(result["reasons"]))
    typer.echo(result["basis"])


@discretion_app.command("consistency")
def consistency(as_json: JsonOpt = False) -> None:
    """同案不同罚 and 畸轻畸重 over every decided case: groups flagged, and the rate outside the benchmark."""
    from jianguan.cases import analytics
    from jianguan.cli import console, operator, print_json
    from jianguan.db import session_scope

    with session_scope() as db:
        out = analytics.consistency(db, actor=operator())
    if as_json:
        print_json(out)
        return
    console.print(f"已决案件 {out['decided']} 件；偏离裁量基准且无采纳理由 {out['outside']} 件（{out['outside_pct']}%，"
                  f"目标 ≤{out['target_pct']}%）")
    for flag in out["flags"]:
        console.print(f"  同案不同罚：{flag['rule']} {flag['tier']} {flag['name']} {flag['n']} 件，"
                      f"中位 {flag['median']} 元，幅度位置 {flag['position']}（该基准 {flag['rule_position']}）")


@discretion_app.command("export")
def export_rules(out: Annotated[Path, typer.Option("--out", help="File to write: .xlsx or .csv.")]) -> None:
    """Every rule's newest version as one row (Chinese headers): edit and load with `jianguan import discretion`."""
    from jianguan.cases import importing
    from jianguan.db import session_scope

    with session_scope() as db:
        frame = importing.export(db).rename({f.key: f.label for f in importing.FIELDS})
    if out.suffix.lower() == ".csv":
        frame.write_csv(out)
    else:
        frame.write_excel(out, worksheet="裁量基准", autofit=True)
    typer.echo(f"{frame.height} → {out}")


@discretion_app.command("versions")
def rule_versions(code: Annotated[str, typer.Argument(help="Rule code, e.g. SP-124.")],
                  as_json: JsonOpt = False) -> None:
    """The versions of one rule (shipped, approved, drafts, rejected), newest first."""
    from jianguan.cases import benchmarks
    from jianguan.cli import print_json
    from jianguan.db import session_scope

    with session_scope() as db:
        out = [{k: v for k, v in version.items() if k not in ("yaml",)} for version in benchmarks.versions_of(db, code)]
    if as_json:
        print_json(out)
        return
    for v in out:
        typer.echo(f"v{v['version']}  {v['status']}  {v['spec'].get('effective_from')}  {v['spec'].get('title')}")


case_app = typer.Typer(help="Penalty cases (行政处罚案件).", no_args_is_help=True)


@case_app.command("list")
def list_cases(state: Annotated[str, typer.Option(help="Only in this state (lead, filed … archived).")] = "",
               as_json: JsonOpt = False) -> None:
    """Cases of every agency (the operator's view), the soonest due first."""
    from jianguan.cases import service
    from jianguan.cases.schemas import case_dict
    from jianguan.cli import console, operator, print_json
    from jianguan.db import session_scope

    with session_scope() as db:
        rows = [case_dict(c) for c in service.list_cases(db, actor=operator(), state=state, limit=10_000)[0]]
    if as_json:
        print_json(rows)
        return
    from rich.table import Table

    table = Table("编号 code", "案由 title", "当事人 party", "状态 state", "期限 due")
    for c in rows:
        table.add_row(c["code"], c["title"], c["party_name"], c["state"], str(c["due_date"] or "—"))
    console.print(table)


@case_app.command("show")
def show_case(code: Annotated[str, typer.Argument(help="Case code, e.g. 330106-SJ-AY2026-000001.")],
              as_json: JsonOpt = False) -> None:
    """One case with every statutory deadline (met, or days left) and its documents."""
    from sqlalchemy import select

    from jianguan.cases import service
    from jianguan.cases.models import Case
    from jianguan.cases.schemas import detail_dict
    from jianguan.cli import console, fail, operator, print_json
    from jianguan.core.errors import NotFound
    from jianguan.core.i18n import N_, gettext
    from jianguan.db import session_scope
    from jianguan.documents import service as documents

    with session_scope() as db:
        case = db.scalar(select(Case).where(Case.code == code))
        if case is None:
            fail(NotFound(N_("No such case.")))
        assert case is not None
        actor = operator()
        out = {**detail_dict(case),
               "deadlines": [{"label": gettext(d.label), "due": d.due, "unconfirmed": d.unconfirmed,
                              "met_on": d.met_on, "days_left": d.days_left} for d in service.deadlines_of(db, case)],
               "documents": [{"number": d.number, "title": d.context.get("title"), "issued_on": d.issued_on}
                             for d in documents.for_subject(db, subject_type="case", subject_id=case.id, actor=actor)]}
    if as_json:
        print_json(out)
        return
    console.print(f"[bold]{out['code']}[/bold] {out['title']} · {out['party_name']} · {out['state']}")
    for d in out["deadlines"]:
        status = f"已于 {d['met_on']} 完成" if d["met_on"] else f"剩 {d['days_left']} 天"
        console.print(f"  {d['label']}：{d['due']}{' (未确认)' if d['unconfirmed'] else ''} {status}")
    for doc in out["documents"]:
        console.print(f"  {doc['title']} {doc['number']} {doc['issued_on']}")


@case_app.command("export")
def export_records(
    since: Annotated[str, typer.Option(help="First day (YYYY-MM-DD), by the decision date.")],
    until: Annotated[str, typer.Option(help="Last day (YYYY-MM-DD).")],
    out: Annotated[Path, typer.Option("--out", help="File to write: .jsonl or .xlsx.")],
) -> None:
    """Penalty decisions in the national reporting layout (行政处罚行为数据): JSON lines or XLSX."""
    from jianguan.cases import reporting
    from jianguan.cli import fail
    from jianguan.db import session_scope

    fmt = "xlsx" if out.suffix.lower() == ".xlsx" else "jsonl"
    try:
        with session_scope() as db:
            data = reporting.export(db, actor=None, since=dt.date.fromisoformat(since),
                                    until=dt.date.fromisoformat(until), fmt=fmt)
    except DomainError as error:
        fail(error)
    out.write_bytes(data)
    typer.echo(str(out))


def register(app: typer.Typer) -> None:
    app.add_typer(discretion_app, name="discretion")
    app.add_typer(case_app, name="case")
