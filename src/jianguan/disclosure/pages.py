"""一公开 pages: the publication records of an agency — due, overdue, published, withheld — with the
content exactly as the public portal will show it. Thin: the service decides."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from jianguan.config import get_settings
from jianguan.core import workflow
from jianguan.core.i18n import N_
from jianguan.deps import SessionDep
from jianguan.disclosure import service
from jianguan.disclosure import workflow as wf
from jianguan.web.deps import CsrfProtected, PageUser
from jianguan.web.render import page_step, render

router = APIRouter(include_in_schema=False)
STATES = {wf.PENDING: N_("To publish"), wf.PUBLISHED: N_("Published"), wf.WITHHELD: N_("Withheld")}
ACTIONS = {"publish": N_("Publish"), "withhold": N_("Withhold")}


@router.get("/disclosure", response_class=HTMLResponse)
def publications(request: Request, db: SessionDep, user: PageUser,
                 state: Annotated[str, Query()] = wf.PENDING) -> HTMLResponse:
    rows, total = service.list_publications(db, actor=user, state=state, limit=200)
    return render(request, "disclosure/index.html", {
        "rows": rows, "total": total, "state": state, "states": STATES, "action_labels": ACTIONS,
        "actions": {r.id: workflow.allowed_actions(r, user) for r in rows},
        "days": get_settings().publication_working_days})


@router.post("/disclosure/{publication_id:int}/decide", dependencies=[CsrfProtected])
def decide(request: Request, publication_id: int, db: SessionDep, user: PageUser, action: Annotated[str, Form()],
           version: Annotated[int, Form()], comment: Annotated[str, Form()] = "") -> Response:
    with page_step(request, db, N_("Done: {action}."), action=ACTIONS.get(action, action)):
        service.decide(db, publication_id=publication_id, action=action, comment=comment, expected_version=version,
                       actor=user)
    return RedirectResponse("/disclosure", status_code=303)
