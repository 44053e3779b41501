"""The credit feedback pages: open proposals with their reasons (accept / reject), the compliant-enterprise
list and the joint-punishment list with their exports. Thin: ``risk.credit`` decides and scopes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from jianguan.core.errors import Invalid
from jianguan.core.i18n import N_
from jianguan.core.workdays import today_shanghai
from jianguan.deps import SessionDep
from jianguan.entities import codes
from jianguan.risk import credit, credit_lists, credit_rules
from jianguan.risk.credit_models import ACCEPTED, PROPOSED, REJECTED
from jianguan.web.deps import CsrfProtected, PageUser
from jianguan.web.render import page_step, render

router = APIRouter(include_in_schema=False)
STATES = {PROPOSED: N_("Open proposals"), ACCEPTED: N_("Accepted proposals"), REJECTED: N_("Rejected proposals")}
DECIDED = {ACCEPTED: N_("Credit proposal accepted"), REJECTED: N_("Credit proposal rejected")}
SHOWN = 500  # rows on a list page; the export has them all


def _version(value: object) -> int | None:
    text = str(value or "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise Invalid("version", N_("Reload the page and try again."))
    return int(text)


@router.get("/risk/credit", response_class=HTMLResponse)
def proposals(request: Request, db: SessionDep, user: PageUser, state: str = PROPOSED) -> HTMLResponse:
    """Proposals waiting for a decision (or those decided), each with its events and points."""
    state = state if state in STATES else PROPOSED
    rows, total = credit.proposals(db, actor=user, state=state)
    rules = credit_rules.in_force(today_shanghai())
    return render(
        request,
        "risk/credit_proposals.html",
        {
            "rows": rows,
            "total": total,
            "state": state,
            "states": STATES,
            "decided": DECIDED,
            "rules": rules,
            "credit_labels": codes.labels(db, "credit_class"),
            "may_run": user.has_role(*credit.RUNNERS),
        },
    )


@router.post("/risk/credit/evaluate", dependencies=[CsrfProtected])
async def evaluate(request: Request, db: SessionDep, user: PageUser) -> Response:
    with page_step(request, db) as step:
        done = credit.evaluate(db, actor=user)
        step.done(
            N_(
                "Credit feedback evaluated: {n} open proposals ({new} new, {replaced} replaced, {withdrawn} withdrawn)."
            ),
            n=done["proposals"],
            new=done["new"],
            replaced=done["replaced"],
            withdrawn=done["withdrawn"],
        )
    return RedirectResponse("/risk/credit", status_code=303)


@router.post("/risk/credit/{proposal_id:int}/decide", dependencies=[CsrfProtected])
async def decide(request: Request, proposal_id: int, db: SessionDep, user: PageUser) -> Response:
    form = await request.form()
    accept = form.get("decision") == "accept"
    done = N_("Proposal accepted; the entity's credit class history shows it.") if accept else N_("Proposal rejected.")
    with page_step(request, db, done):
        credit.decide(
            db,
            proposal_id=proposal_id,
            accept=accept,
            note=str(form.get("note") or ""),
            version=_version(form.get("version")),
            actor=user,
        )
    return RedirectResponse(f"/risk/credit#p-{proposal_id}", status_code=303)


@router.get("/risk/credit/compliant", response_class=HTMLResponse)
def compliant(request: Request, db: SessionDep, user: PageUser) -> HTMLResponse:
    as_of = today_shanghai()
    frame = credit.compliant(db, as_of=as_of, actor=user)
    return render(
        request,
        "risk/credit_compliant.html",
        {
            "rows": credit_lists.rows(frame.head(SHOWN)),
            "total": frame.height,
            "as_of": as_of,
            "rule": credit_rules.in_force(as_of).compliant,
            "credit_labels": codes.labels(db, "credit_class"),
        },
    )


@router.get("/risk/credit/punishment", response_class=HTMLResponse)
def punishment(request: Request, db: SessionDep, user: PageUser) -> HTMLResponse:
    as_of = today_shanghai()
    frame = credit.joint_punishment(db, as_of=as_of, actor=user)
    return render(
        request,
        "risk/credit_punishment.html",
        {
            "rows": credit_lists.rows(frame.head(SHOWN)),
            "total": frame.height,
            "as_of": as_of,
            "rule": credit_rules.in_force(as_of).joint_punishment,
            "credit_labels": codes.labels(db, "credit_class"),
            "status_labels": codes.labels(db, "entity_status"),
        },
    )


@router.get("/risk/credit/{which}/export")
def export(which: str, db: SessionDep, user: PageUser, fmt: Annotated[str, Query(alias="format")] = "xlsx") -> Response:
    """The whole list as a file (Chinese headers); scoped and audited by the service."""
    as_of = today_shanghai()
    body = credit.export(db, which=which, as_of=as_of, actor=user, fmt=fmt)
    return Response(
        body,
        media_type=credit_lists.MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{which}-{as_of.isoformat()}.{fmt}"'},
    )
