"""统一事项目录 pages: the catalog tree with search and filters, an item with its versions and the
difference between two, the approval queue, the negative list and the indicator weights editor.
Checklists (the officer's phone form, the designer) are in checklist_pages.py."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from jianguan.catalog import checklist_pages, indicators, service
from jianguan.catalog import workflow as wf
from jianguan.catalog.schemas import ItemChanges, ItemIn
from jianguan.core import workflow
from jianguan.core.errors import DomainError, Forbidden, Invalid
from jianguan.core.i18n import N_
from jianguan.deps import SessionDep
from jianguan.entities import codes
from jianguan.web.deps import CsrfProtected, PageUser
from jianguan.web.render import field_errors, flash, locale_of, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
STATES = {wf.DRAFT: N_("Draft"), wf.UNDER_REVIEW: N_("Under legal review"),
          wf.AWAITING_APPROVAL: N_("Awaiting approval"), wf.IN_FORCE: N_("In force"),
          wf.SUPERSEDED: N_("Superseded"), wf.RETIRED: N_("Retired"), wf.REJECTED: N_("Rejected")}
ITEM_STATUS = {"draft": N_("Not yet in force"), "in_force": N_("In force"), "retired": N_("Retired")}
ACTIONS = {"submit": N_("Submit for legal review"), "pass_review": N_("Pass the legal review"),
           "return": N_("Return for changes"), "reject": N_("Reject"), "approve": N_("Approve"),
           "approve_exit": N_("Approve the exit"), "start": N_("Drafted"),
           "load": N_("Published with the shipped catalog"), "supersede": N_("Superseded by a newer version")}
FIELDS = {"name": N_("Name"), "implementation_code": N_("Implementation-list code"),
          "national_code": N_("National catalog code"), "power_code": N_("Power-list code"),
          "agency_codes": N_("Responsible agencies"), "object_kinds": N_("Objects"), "methods": N_("Methods"),
          "key_item": N_("Key item"), "sampling_ratio": N_("Sampling ratio (%)"),
          "frequency_per_year": N_("Inspections a year"),
          "recognition_days": N_("Results recognised for (days)"), "description": N_("Description"),
          "legal_basis": N_("Legal basis")}


def labels(db: Session) -> dict[str, dict[str, str]]:
    return {d: codes.labels(db, d) for d in ("enforcement_domain", "entity_kind", "inspection_method",
                                             "item_change", "check_severity", "answer_type")}


@router.get("/catalog", response_class=HTMLResponse)
def catalog_home(request: Request, db: SessionDep, user: PageUser, q: Annotated[str, Query()] = "",
                 domain: Annotated[str, Query()] = "", status: Annotated[str, Query()] = "",
                 key: Annotated[str, Query()] = "", page: Annotated[int, Query(ge=1)] = 1) -> HTMLResponse:
    key_item = {"1": True, "0": False}.get(key)
    filtered = bool(q or domain or status or key)
    if filtered:
        rows, total = service.list_items(db, q=q, domain=domain, status=status, key_item=key_item,
                                         offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    else:  # the tree: main items in order, each followed by its sub-items
        rows, total = service.list_items(db, offset=0, limit=10_000)
        children: dict[int, list[Any]] = {}
        for r in rows:
            if r.item.parent_id is not None:
                children.setdefault(r.item.parent_id, []).append(r)
        tops = [r for r in rows if r.item.parent_id is None]
        total = len(tops)
        tops = tops[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
        rows = [x for r in tops for x in (r, *children.get(r.item.id, []))]
    waiting = len(service.approval_queue(db, actor=user))
    return render(request, "catalog/index.html", {
        "rows": rows, "total": total, "page": page, "pages": max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE),
        "f": {"q": q, "domain": domain, "status": status, "key": key}, "filtered": filtered,
        "labels": labels(db), "item_status": ITEM_STATUS, "waiting": waiting,
        "query": "&".join(f"{k}={v}" for k, v in {"q": q, "domain": domain, "status": status, "key": key}.items()
                          if v)})


@router.get("/catalog/items/{item_id:int}", response_class=HTMLResponse)
def item_page(request: Request, item_id: int, db: SessionDep, user: PageUser,
              version: Annotated[int | None, Query()] = None, a: Annotated[int | None, Query()] = None,
              b: Annotated[int | None, Query()] = None) -> HTMLResponse:
    item = service.get_item(db, item_id=item_id)
    versions = service.history(db, item)
    by_number = {v.number: v for v in versions}
    shown = by_number.get(version or item.current_number or versions[-1].number, versions[-1])
    changes = None
    if a in by_number and b in by_number:
        changes = service.diff(by_number[a], by_number[b])
    open_change = service.open_version(db, item)
    return render(request, "catalog/item.html", {
        "item": item, "versions": versions, "shown": shown, "changes": changes, "a": a, "b": b,
        "labels": labels(db), "states": STATES, "item_status": ITEM_STATUS, "action_labels": ACTIONS,
        "field_labels": FIELDS, "actions": workflow.allowed_actions(shown, user),
        "events": workflow.history(db, shown), "open_change": open_change,
        "children": service.list_items(db, parent_id=item.id, limit=1000)[0],
        "can_propose": item.status == "in_force" and open_change is None and any(
            user.has_role(r) for r in wf.PROPOSERS)})


@router.post("/catalog/versions/{version_id:int}/decide", dependencies=[CsrfProtected])
def decide(request: Request, version_id: int, db: SessionDep, user: PageUser, action: Annotated[str, Form()],
           version: Annotated[int, Form()], comment: Annotated[str, Form()] = "") -> Response:
    target = service.get_version(db, version_id=version_id)
    try:
        service.decide(db, version_id=version_id, action=action, comment=comment, expected_version=version,
                       actor=user)
    except DomainError as error:
        db.rollback()
        flash(request, error.message, "error", **error.params)
    else:
        flash(request, N_("Done: {action}."), action=ACTIONS.get(action, action))
    return RedirectResponse(f"/catalog/items/{target.item_id}?version={target.number}", status_code=303)


@router.post("/catalog/items/{item_id:int}/revise", dependencies=[CsrfProtected])
def revise(request: Request, item_id: int, db: SessionDep, user: PageUser, reason: Annotated[str, Form()] = "",
           name: Annotated[str, Form()] = "", description: Annotated[str, Form()] = "",
           change: Annotated[str, Form()] = "adjustment") -> Response:
    """Propose an adjustment (name and description; the full edit is in the API) or the exit."""
    try:
        if change == "exit":
            created = service.propose_exit(db, item_id=item_id, reason=reason, actor=user)
        else:
            current = service.current_version(db, service.get_item(db, item_id=item_id))
            edits: dict[str, Any] = {}
            if current is not None and name.strip() and name.strip() != current.name:
                edits["name"] = name.strip()
            if current is not None and description.strip() != current.description:
                edits["description"] = description.strip()
            created = service.revise_item(db, item_id=item_id, reason=reason, changes=ItemChanges(**edits),
                                          actor=user)
    except DomainError as error:
        db.rollback()
        flash(request, error.message, "error", **error.params)
        return RedirectResponse(f"/catalog/items/{item_id}", status_code=303)
    flash(request, N_("Version {number} drafted; submit it for legal review when it is ready."),
          number=created.number)
    return RedirectResponse(f"/catalog/items/{item_id}?version={created.number}", status_code=303)


@router.get("/catalog/approvals", response_class=HTMLResponse)
def approvals(request: Request, db: SessionDep, user: PageUser) -> HTMLResponse:
    queue = service.approval_queue(db, actor=user)
    return render(request, "catalog/approvals.html", {
        "queue": [(v, workflow.allowed_actions(v, user)) for v in queue], "labels": labels(db), "states": STATES,
        "action_labels": ACTIONS})


@router.get("/catalog/negative-list", response_class=HTMLResponse)
def negative_list(request: Request, db: SessionDep, user: PageUser) -> HTMLResponse:
    return render(request, "catalog/negative.html", {"entries": service.active_negative_list(db)})


@router.get("/catalog/indicators", response_class=HTMLResponse)
def indicator_page(request: Request, db: SessionDep, user: PageUser,
                   year: Annotated[int, Query(ge=2000, le=2100)] = 2026) -> HTMLResponse:
    return _indicators(request, db, user, year, {}, {})


def _indicators(request: Request, db: Session, user: Any, year: int, typed: dict[str, str],
                errors: dict[str, str], status_code: int = 200) -> HTMLResponse:
    weighted = indicators.years(db)
    years = sorted(set(weighted) | {year})
    tree = indicators.tree(db, year=year)
    earlier = [y for y in weighted if y < year]
    if not typed and earlier and not any(n.weight is not None for n in tree):
        # a new year starts from the last year's weights
        typed = {n.code: f"{n.weight.normalize():f}" for n in indicators.walk(indicators.tree(db, year=earlier[-1]))
                 if n.weight is not None}
    may_edit = user.is_system_admin or user.has_role("leader")
    return render(request, "catalog/indicators.html", {
        "tree": tree, "year": year, "years": years, "typed": typed, "errors": errors, "may_edit": may_edit},
        status_code=status_code)


@router.post("/catalog/indicators", dependencies=[CsrfProtected])
async def save_weights(request: Request, db: SessionDep, user: PageUser,
                       year: Annotated[int, Form(ge=2000, le=2100)]) -> Response:
    form = await request.form()
    typed = {str(k)[2:]: str(v).strip() for k, v in form.items() if str(k).startswith("w:")}
    errors: dict[str, str] = {}
    weights: dict[str, Decimal] = {}
    for code, text in typed.items():
        try:
            weights[code] = Decimal(text)
        except InvalidOperation:
            errors[code] = Invalid(code, N_("{value} is not a number."), value=text).localized(locale_of(request))
    try:
        if errors:
            raise Invalid(next(iter(errors)), N_("Correct the marked weights."))
        indicators.set_weights(db, year=year, weights=weights, actor=user)
    except Invalid as error:
        db.rollback()
        locale = locale_of(request)
        for problem in (error, *error.others):
            errors.setdefault(problem.field, problem.localized(locale))
        return _indicators(request, db, user, year, typed, errors, status_code=422)
    flash(request, N_("Weights for {year} saved."), year=year)
    return RedirectResponse(f"/catalog/indicators?year={year}", status_code=303)



@router.get("/catalog/joint", response_class=HTMLResponse)
def joint(request: Request, db: SessionDep, user: PageUser) -> HTMLResponse:
    """进一次门、查多项事: items of different departments that one visit could cover together."""
    return render(request, "catalog/joint.html", {"candidates": service.joint_candidates(db)[:100],
                                                  "labels": labels(db)})


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace("\r", "").split("\n") if line.strip()]


def _proposal(form: dict[str, Any]) -> ItemIn:
    """The 新增事项 form as ItemIn. Legal bases: a law and an article per row; check points: one per
    line, "text | law | article | 严重" (law, article and severity optional)."""
    bases = [{"law": law, "article": art} for law, art in zip(form["laws"], form["articles"], strict=False)
             if law.strip() or art.strip()]
    points = []
    for n, line in enumerate(_lines(form["points"]), start=1):
        parts = [p.strip() for p in line.replace("｜", "|").split("|")]
        text, law, article = [*parts, "", "", ""][:3]
        points.append({"code": f"{form['code']}-{n:02d}", "text": text, "law": law, "article": article,
                       "severity": "serious" if len(parts) > 3 and parts[3] in ("严重", "serious") else "general"})
    try:
        return ItemIn.model_validate({
            "code": form["code"], "parent": form["parent"] or None, "name": form["name"], "domain": form["domain"],
            "department": form["department"], "object_kinds": form["object_kinds"], "methods": form["methods"],
            "key_item": form["key_item"], "sampling_ratio": form["sampling_ratio"] or None,
            "frequency_per_year": form["frequency_per_year"] or None,
            "recognition_days": form["recognition_days"] or None, "description": form["description"],
            "effective_from": form["effective_from"] or None, "legal_basis": bases, "check_points": points})
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "code"
        raise Invalid(field, N_("{where}: {problem}"), where=field, problem=first["msg"]) from None


def _new_form(request: Request, db: Session, form: dict[str, Any], errors: dict[str, str],
              status_code: int = 200) -> HTMLResponse:
    from jianguan.reference import laws

    return render(request, "catalog/new.html", {"form": form, "errors": errors, "labels": labels(db),
                                                "laws": sorted(laws.laws().values(), key=lambda law: law.title)},
                  status_code=status_code)


EMPTY_FORM: dict[str, Any] = {"code": "", "parent": "", "name": "", "domain": "", "department": "",
                              "object_kinds": [], "methods": [], "key_item": False, "sampling_ratio": "",
                              "frequency_per_year": "", "recognition_days": "", "description": "", "effective_from": "",
                              "laws": ["", "", ""], "articles": ["", "", ""], "points": "", "reason": ""}


@router.get("/catalog/items/new", response_class=HTMLResponse)
def new_item(request: Request, db: SessionDep, user: PageUser) -> HTMLResponse:
    return _new_form(request, db, dict(EMPTY_FORM), {})


@router.post("/catalog/items/new", dependencies=[CsrfProtected])
def propose_new(
    request: Request, db: SessionDep, user: PageUser, code: Annotated[str, Form()] = "",
    parent: Annotated[str, Form()] = "", name: Annotated[str, Form()] = "", domain: Annotated[str, Form()] = "",
    department: Annotated[str, Form()] = "", object_kinds: Annotated[list[str] | None, Form()] = None,
    methods: Annotated[list[str] | None, Form()] = None, key_item: Annotated[str | None, Form()] = None,
    sampling_ratio: Annotated[str, Form()] = "", frequency_per_year: Annotated[str, Form()] = "",
    recognition_days: Annotated[str, Form()] = "", description: Annotated[str, Form()] = "",
    effective_from: Annotated[str, Form()] = "",
    laws: Annotated[list[str] | None, Form()] = None, articles: Annotated[list[str] | None, Form()] = None,
    points: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "",
) -> Response:
    form: dict[str, Any] = {"code": code.strip(), "parent": parent.strip(), "name": name.strip(), "domain": domain,
            "department": department.strip(), "object_kinds": object_kinds or [], "methods": methods or [],
            "key_item": key_item == "on", "sampling_ratio": sampling_ratio.strip(),
            "frequency_per_year": frequency_per_year.strip(), "recognition_days": recognition_days.strip(),
            "description": description.strip(),
            "effective_from": effective_from.strip(), "laws": laws or [], "articles": articles or [],
            "points": points, "reason": reason.strip()}
    try:
        if not any(user.has_role(r) for r in wf.PROPOSERS):
            raise Forbidden(N_("Only officers and agency administrators propose catalog items."))
        if not form["reason"]:
            raise Invalid("reason", N_("Give the reason for this change."))
        version = service.propose_item(db, data=_proposal(form), reason=form["reason"], actor=user)
    except Invalid as error:
        db.rollback()
        while len(form["laws"]) < 3:
            form["laws"].append("")
            form["articles"].append("")
        return _new_form(request, db, form, field_errors(error, locale_of(request)), status_code=422)
    flash(request, N_("Version {number} drafted; submit it for legal review when it is ready."), number=1)
    return RedirectResponse(f"/catalog/items/{version.item_id}", status_code=303)


router.include_router(checklist_pages.router)
