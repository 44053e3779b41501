"""统一执法检查系统 pages: the plan list, the plan form, and the plan page with its approval, its draw
(seed entered at a public drawing or generated), the strata and the reasons for inclusions and
exclusions, the drawn entities with their officers, verification and voiding."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.catalog import service as catalog
from jianguan.core import workflow
from jianguan.core.errors import Invalid
from jianguan.core.i18n import N_
from jianguan.core.workdays import today_shanghai
from jianguan.deps import SessionDep
from jianguan.entities import codes
from jianguan.entities.models import Entity
from jianguan.inspections import draws, matter_pages, service, visit_pages, visits
from jianguan.inspections import workflow as wf
from jianguan.inspections.models import InspectionPlan
from jianguan.inspections.schemas import PlanIn
from jianguan.officers.models import Agency
from jianguan.reference import service as ref
from jianguan.web.deps import CsrfProtected, PageUser
from jianguan.web.render import field_errors, flash, form_date, locale_of, page_step, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
STATES = {wf.DRAFT: N_("Draft"), wf.AWAITING_APPROVAL: N_("Awaiting approval"), wf.APPROVED: N_("Approved"),
          wf.IN_PROGRESS: N_("In progress"), wf.CLOSED: N_("Closed"), wf.REJECTED: N_("Rejected"),
          wf.CANCELLED: N_("Cancelled")}
ACTIONS = {"start": N_("Drawn up"), "submit": N_("Submit for approval"), "approve": N_("Approve and file"),
           "return": N_("Return for changes"), "reject": N_("Reject"), "begin": N_("Begin the inspections"),
           "close": N_("Close the plan"), "cancel": N_("Cancel the plan")}
REASONS = {"random": N_("Drawn at random"), "named": N_("Named in the plan"),
           "complaint": N_("Complaint-triggered"), "abnormal_list": N_("On the abnormal operations list"),
           "serious_violation": N_("On the serious violations list"),
           "closed": N_("Deregistered, revoked or moved out"),
           "credit_exempt": N_("Credit class A: exempt from routine draws"),
           "recognised": N_("Inspected by another department; result recognised (结果互认)"),
           "recent": N_("Drawn for the same item within the last days set by the rules")}
RISK = {"red": N_("High risk (red)"), "yellow": N_("Medium risk (yellow)"), "blue": N_("Low risk (blue)"),
        "-": N_("Not graded")}
DOMAINS = ("plan_kind", "inspection_method", "entity_kind", "enterprise_scale", "entity_tag", "credit_class",
           "risk_level", "enforcement_domain")


def labels(db: Session) -> dict[str, dict[str, str]]:
    return {d: codes.labels(db, d) for d in DOMAINS}


def _page_count(total: int) -> int:
    return max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)


@router.get("/inspections", response_class=HTMLResponse)
def plans_page(request: Request, db: SessionDep, user: PageUser, q: Annotated[str, Query()] = "",
               state: Annotated[str, Query()] = "", kind: Annotated[str, Query()] = "",
               year: Annotated[str, Query()] = "", page: Annotated[int, Query(ge=1)] = 1) -> HTMLResponse:
    year_value = int(year) if year.isdigit() else None
    rows, total = service.list_plans(db, actor=user, q=q, state=state, kind=kind, year=year_value,
                                     offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    f = {"q": q, "state": state, "kind": kind, "year": year}
    return render(request, "inspections/index.html", {
        "rows": rows, "total": total, "page": page, "pages": _page_count(total), "f": f, "states": STATES,
        "labels": labels(db), "waiting": len(service.approval_queue(db, actor=user)),
        "may_draft": user.is_system_admin or user.has_role(*wf.AUTHORS),
        "query": "&".join(f"{k}={v}" for k, v in f.items() if v)})


# --------------------------------------------------------------------------- the plan form


def _choices(db: Session, user: Any) -> dict[str, Any]:
    agency = db.get(Agency, user.agency_id) if user.agency_id else None
    region = agency.region_code if agency is not None else ""
    regions = []
    if region:
        regions.append((region, ref.region_name(db, region) or region))
        regions += [(r.code, r.name) for r in ref.list_regions(db, parent=region, limit=500)]
    items = [r for r in catalog.list_items(db, status="in_force", limit=10_000)[0]
             if agency is None or not agency.domains or r.item.domain in agency.domains]
    others = [a for a in db.scalars(select(Agency).where(Agency.is_active).order_by(Agency.code))
              if agency is None or (a.id != agency.id and a.region_code == region)]
    return {"regions": regions, "items": items, "agencies": others[:200], "labels": labels(db)}


EMPTY: dict[str, Any] = {"title": "", "kind": "routine_random", "methods": ["on_site"], "item_codes": [],
                         "region_code": "", "industry_code": "", "kinds": [], "scales": [], "tags": [],
                         "credit_classes": [], "risk_levels": [], "targets": "", "size_by": "ratio", "ratio": "5",
                         "count": "", "weighted": True, "weight_source": "risk_score", "starts_on": "",
                         "ends_on": "", "officers_per_domain": "2",
                         "workload_cap": "", "expert_count": "0", "agency_ids": [], "description": ""}


def _form_of(plan: InspectionPlan) -> dict[str, Any]:
    scope = plan.scope or {}
    return {
        "title": plan.title, "kind": plan.kind, "methods": plan.methods, "item_codes": plan.item_codes,
        "region_code": scope.get("region_code", ""), "industry_code": scope.get("industry_code", ""),
        "kinds": scope.get("kinds", []), "scales": scope.get("scales", []), "tags": scope.get("tags", []),
        "credit_classes": scope.get("credit_classes", []), "risk_levels": scope.get("risk_levels", []),
        "targets": "", "size_by": "count" if plan.count else ("ratio" if plan.ratio else "rules"),
        "ratio": str(plan.ratio or ""), "count": str(plan.count or ""), "weighted": plan.weighted,
        "weight_source": plan.weight_source,
        "starts_on": plan.starts_on.isoformat(), "ends_on": plan.ends_on.isoformat(),
        "officers_per_domain": str(plan.officers_per_domain), "workload_cap": str(plan.workload_cap or ""),
        "expert_count": str(plan.expert_count), "agency_ids": [a for a in plan.agency_ids if a != plan.agency_id],
        "description": plan.description,
    }


def _plan_in(form: dict[str, Any]) -> PlanIn:
    size_by = form["size_by"]
    data = {
        "title": form["title"], "kind": form["kind"], "methods": form["methods"], "item_codes": form["item_codes"],
        "scope": {"region_code": form["region_code"] or None, "industry_code": form["industry_code"] or None,
                  "kinds": form["kinds"], "scales": form["scales"], "tags": form["tags"],
                  "credit_classes": form["credit_classes"], "risk_levels": form["risk_levels"]},
        "target_usccs": [t.strip().upper() for t in form["targets"].replace("，", "\n").replace(",", "\n").split("\n")
                         if t.strip()],
        "ratio": form["ratio"] or None if size_by == "ratio" else None,
        "count": form["count"] or None if size_by == "count" else None,
        "weighted": form["weighted"], "weight_source": form["weight_source"] or "risk_score",
        "starts_on": form["starts_on"] or None, "ends_on": form["ends_on"] or None,
        "officers_per_domain": form["officers_per_domain"] or 2, "workload_cap": form["workload_cap"] or None,
        "expert_count": form["expert_count"] or 0, "agency_ids": form["agency_ids"],
        "description": form["description"],
    }
    try:
        return PlanIn.model_validate(data)
    except ValidationError as error:
        found = Invalid.from_validation(error.errors(), default_field="title")
        for problem in (found, *found.others):  # the form names the scope's fields without the prefix
            problem.field = problem.field.removeprefix("scope.")
        raise found from None


def _form_page(request: Request, db: Session, user: Any, form: dict[str, Any], errors: dict[str, str],
               plan: InspectionPlan | None = None, status_code: int = 200) -> HTMLResponse:
    return render(request, "inspections/plan_form.html", {"form": form, "errors": errors, "plan": plan,
                                                          **_choices(db, user)}, status_code=status_code)


@router.get("/inspections/plans/new", response_class=HTMLResponse)
def new_plan(request: Request, db: SessionDep, user: PageUser) -> HTMLResponse:
    return _form_page(request, db, user, dict(EMPTY), {})


@router.get("/inspections/plans/{plan_id:int}/edit", response_class=HTMLResponse)
def edit_plan(request: Request, plan_id: int, db: SessionDep, user: PageUser) -> HTMLResponse:
    plan = service.get_plan(db, plan_id=plan_id, actor=user)
    form = _form_of(plan)
    form["targets"] = "\n".join(service.target_usccs(db, plan))
    return _form_page(request, db, user, form, {}, plan)


def _read_form(**fields: Any) -> dict[str, Any]:
    form = {k: (v or [] if isinstance(EMPTY[k], list) else v) for k, v in fields.items() if k in EMPTY}
    form["weighted"] = fields.get("weighted") == "on"
    for k in ("title", "ratio", "count", "industry_code", "workload_cap", "description"):
        form[k] = str(form.get(k) or "").strip()
    return form


@router.post("/inspections/plans/save", dependencies=[CsrfProtected])
def save_plan(
    request: Request, db: SessionDep, user: PageUser, plan_id: Annotated[int | None, Form()] = None,
    version: Annotated[int | None, Form()] = None, title: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "", methods: Annotated[list[str] | None, Form()] = None,
    item_codes: Annotated[list[str] | None, Form()] = None, region_code: Annotated[str, Form()] = "",
    industry_code: Annotated[str, Form()] = "", kinds: Annotated[list[str] | None, Form()] = None,
    scales: Annotated[list[str] | None, Form()] = None, tags: Annotated[list[str] | None, Form()] = None,
    credit_classes: Annotated[list[str] | None, Form()] = None,
    risk_levels: Annotated[list[str] | None, Form()] = None, targets: Annotated[str, Form()] = "",
    size_by: Annotated[str, Form()] = "ratio", ratio: Annotated[str, Form()] = "", count: Annotated[str, Form()] = "",
    weighted: Annotated[str | None, Form()] = None, weight_source: Annotated[str, Form()] = "risk_score",
    starts_on: Annotated[str, Form()] = "",
    ends_on: Annotated[str, Form()] = "", officers_per_domain: Annotated[str, Form()] = "2",
    workload_cap: Annotated[str, Form()] = "", expert_count: Annotated[str, Form()] = "0",
    agency_ids: Annotated[list[int] | None, Form()] = None, description: Annotated[str, Form()] = "",
) -> Response:
    form = _read_form(title=title, kind=kind, methods=methods, item_codes=item_codes, region_code=region_code,
                      industry_code=industry_code, kinds=kinds, scales=scales, tags=tags,
                      credit_classes=credit_classes, risk_levels=risk_levels, targets=targets, size_by=size_by,
                      ratio=ratio, count=count, weighted=weighted, weight_source=weight_source,
                      starts_on=starts_on, ends_on=ends_on,
                      officers_per_domain=officers_per_domain, workload_cap=workload_cap,
                      expert_count=expert_count, agency_ids=agency_ids, description=description)
    plan = service.get_plan(db, plan_id=plan_id, actor=user) if plan_id else None
    try:
        data = _plan_in(form)
        if plan is None:
            plan = service.create_plan(db, data=data, actor=user)
            flash(request, N_("Plan {code} drawn up; submit it for approval when it is ready."), code=plan.code)
        else:
            service.update_plan(db, plan_id=plan.id, data=data, expected_version=version, actor=user)
            flash(request, N_("Plan {code} saved."), code=plan.code)
    except Invalid as error:
        db.rollback()
        errors = {k.removeprefix("scope."): v for k, v in field_errors(error, locale_of(request)).items()}
        return _form_page(request, db, user, form, errors, plan, status_code=422)
    return RedirectResponse(f"/inspections/plans/{plan.id}", status_code=303)


# --------------------------------------------------------------------------- the plan page


@router.get("/inspections/plans/{plan_id:int}", response_class=HTMLResponse)
def plan_page(request: Request, plan_id: int, db: SessionDep, user: PageUser,
              page: Annotated[int, Query(ge=1)] = 1, mine: Annotated[str, Query()] = "") -> HTMLResponse:
    plan = service.get_plan(db, plan_id=plan_id, actor=user)
    all_draws = draws.draws_of(db, plan)
    current = draws.current_draw(db, plan)
    rows: list[Any] = []
    total = 0
    officer = None
    if current is not None:
        if mine:
            from jianguan.officers.roster import officer_for_user

            officer = officer_for_user(db, user)
        rows, total = draws.results(db, current, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE,
                                    officer_id=officer.id if officer is not None else (-1 if mine else None))
    items = service.plan_items(db, plan)
    progress = visits.plan_progress(db, plan.id)
    tasks = visits.list_inspections(db, actor=user, plan_id=plan.id, limit=PAGE_SIZE)[0] if progress else []
    names = dict(db.execute(select(Entity.id, Entity.name).where(Entity.id.in_([t.entity_id for t in tasks])))
                 .all()) if tasks else {}
    return render(request, "inspections/plan.html", {
        "progress": progress, "tasks": tasks, "task_names": names, "task_states": visit_pages.STATES,
        "plan": plan, "items": items, "draws": all_draws, "current": current, "rows": rows, "total": total,
        "page": page, "pages": _page_count(total), "mine": mine, "states": STATES, "action_labels": ACTIONS,
        "actions": workflow.allowed_actions(plan, user), "events": workflow.history(db, plan), "reasons": REASONS,
        "risk_labels": RISK, "labels": labels(db), "may_draw": plan.state in wf.DRAWABLE and current is None and (
            user.is_system_admin or (user.agency_id == plan.agency_id and user.has_role(*wf.RUNNERS))),
        "may_void": current is not None and plan.state == wf.APPROVED and (
            user.is_system_admin or (user.agency_id == plan.agency_id and user.has_role(*wf.APPROVERS))),
        "targets": service.target_usccs(db, plan), "draw_day": today_shanghai().isoformat(),
        "region_names": {c: codes.region_name(db, c) for c in {plan.region_code, plan.scope.get("region_code", ""),
                                                                *(r.region_code for r in rows)} if c},
        "sealed": service.sealed(plan)})


def _back(plan_id: int) -> RedirectResponse:
    return RedirectResponse(f"/inspections/plans/{plan_id}", status_code=303)


@router.post("/inspections/plans/{plan_id:int}/decide", dependencies=[CsrfProtected])
def decide(request: Request, plan_id: int, db: SessionDep, user: PageUser, action: Annotated[str, Form()],
           version: Annotated[int, Form()], comment: Annotated[str, Form()] = "") -> Response:
    with page_step(request, db, N_("Done: {action}."), action=ACTIONS.get(action, action)):
        service.decide(db, plan_id=plan_id, action=action, comment=comment, expected_version=version, actor=user)
    return _back(plan_id)


@router.post("/inspections/plans/{plan_id:int}/draw", dependencies=[CsrfProtected])
def draw(request: Request, plan_id: int, db: SessionDep, user: PageUser, seed: Annotated[str, Form()] = "",
         inspection_date: Annotated[str, Form()] = "") -> Response:
    with page_step(request, db) as step:
        made = draws.run_draw(db, plan_id=plan_id, seed=seed, on=form_date("inspection_date", inspection_date),
                              actor=user)
        step.done(N_("Drawn: {count} entities. Seed: {seed}"), count=made.selected_count, seed=made.seed)
    return _back(plan_id)


@router.post("/inspections/draws/{draw_id:int}/verify", dependencies=[CsrfProtected])
def verify(request: Request, draw_id: int, db: SessionDep, user: PageUser) -> Response:
    target = draws.get_draw(db, draw_id=draw_id, actor=user)
    outcome = draws.verify(db, draw_id=draw_id, actor=user)
    if outcome.identical:
        flash(request, N_("Verified: re-running draw {number} from its snapshot gives the identical result."),
              number=target.number)
    else:
        flash(request, N_("Draw {number} does NOT verify: snapshot intact {a}, re-run matches {b}, stored rows "
                          "match {c}."), "error", number=target.number, a=outcome.snapshot_intact,
              b=outcome.rerun_matches, c=outcome.rows_match)
    return _back(target.plan_id)


@router.post("/inspections/draws/{draw_id:int}/void", dependencies=[CsrfProtected])
def void(request: Request, draw_id: int, db: SessionDep, user: PageUser,
         reason: Annotated[str, Form()] = "") -> Response:
    target = draws.get_draw(db, draw_id=draw_id, actor=user)
    with page_step(request, db, N_("Draw {number} voided; the plan can be drawn again."), number=target.number):
        draws.void_draw(db, draw_id=draw_id, reason=reason, actor=user)
    return _back(target.plan_id)


router.include_router(visit_pages.router)
router.include_router(matter_pages.router)
