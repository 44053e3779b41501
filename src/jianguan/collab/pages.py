"""Complaint pages: the public form and status page (no account; a phone is enough), and the staff
queue and complaint page (duplicates, merge, each step). Thin: the service decides."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from jianguan.collab import figures, flags, followup, maps, service
from jianguan.collab import workflow as wf
from jianguan.collab.schemas import ComplaintIn
from jianguan.core import workflow
from jianguan.core.errors import DomainError, Invalid
from jianguan.core.i18n import N_
from jianguan.deps import SessionDep
from jianguan.entities import codes
from jianguan.officers.models import Agency
from jianguan.reference.models import Region
from jianguan.web.deps import CsrfProtected, OptionalPageUser, PageUser
from jianguan.web.render import field_errors, locale_of, page_step, render

router = APIRouter(include_in_schema=False)
STATES = {wf.RECEIVED: N_("Received"), wf.ACCEPTED: N_("Accepted for handling"), wf.HANDLING: N_("Being handled"),
          wf.REPLIED: N_("Replied"), wf.CLOSED: N_("Closed"), wf.REJECTED: N_("Not accepted"),
          wf.MERGED: N_("Merged")}
ACTIONS = {"start": N_("Received"), "accept": N_("Accept for handling"), "reject": N_("Do not accept"),
           "transfer": N_("Transfer to another agency"), "take": N_("Take it"), "reply": N_("Reply"),
           "close": N_("Close"), "reopen": N_("Reopened by the complainant"), "merge": N_("Merged")}
OUTCOMES = {"inspection": N_("Verified by an inspection"), "case": N_("Transferred to a penalty case"),
            "mediation": N_("Mediated"), "no_violation": N_("No violation found"), "other": N_("Other")}
CHANNELS = {"web": N_("Web form"), "hotline": N_("Hotline (12345)"), "api": N_("Connected system"),
            "import": N_("Batch import")}
WHY = {"same_entity": N_("Same entity and category"), "similar_text": N_("Similar text nearby")}
MAX_PHOTO = 10 * 1024 * 1024


def _districts(db: SessionDep) -> list[tuple[str, str]]:
    """The counties the platform's agencies cover, for the form's district list."""
    regions = sorted({a.region_code for a in db.scalars(select(Agency))})
    names = {r.code: r.name for r in db.scalars(select(Region).where(Region.code.in_(regions)))}
    return [(code, names.get(code, code)) for code in regions if not code.endswith("00")]


def _form(request: Request, db: SessionDep, entered: dict[str, Any] | None = None,
          errors: dict[str, str] | None = None, status_code: int = 200) -> HTMLResponse:
    return render(request, "collab/new.html", {
        "f": entered or {}, "errors": errors or {}, "categories": codes.labels(db, "complaint_category"),
        "districts": _districts(db)}, status_code=status_code)


@router.get("/complaints/new", response_class=HTMLResponse)
def new_form(request: Request, db: SessionDep, user: OptionalPageUser) -> HTMLResponse:
    return _form(request, db)


@router.post("/complaints/new", response_class=HTMLResponse)
async def submit(request: Request, db: SessionDep, user: OptionalPageUser) -> Response:
    """Public: no account and no session needed. A refusal shows the form again with what was typed."""
    form = await request.form()
    text = {k: str(v).strip() for k, v in form.items() if not hasattr(v, "read")}
    try:
        if text.get("website"):  # a field people never see: only a robot fills it in
            raise Invalid("content", N_("This form could not be accepted. Please call 12345."))
        with db.begin_nested():
            photo = form.get("photo")
            sha = None
            if isinstance(photo, UploadFile) and photo.filename:
                sha = _store_photo(db, photo)
            try:
                data = ComplaintIn(
                    kind=text.get("kind", "complaint"), category=text.get("category", ""),
                    content=text.get("content", ""), party_name=text.get("party_name", ""),
                    address=text.get("address", ""), region_code=text.get("region_code", ""),
                    latitude=float(text["latitude"]) if text.get("latitude") else None,
                    longitude=float(text["longitude"]) if text.get("longitude") else None,
                    name=text.get("name", ""), phone=text.get("phone", ""), anonymous=bool(text.get("anonymous")))
            except ValidationError as error:
                raise Invalid.from_validation(error.errors()) from None
            except ValueError:
                raise Invalid("latitude", N_("Latitude must be between -90 and 90.")) from None
            complaint, code = service.receive(db, data=data, channel="web", photo_sha256=sha,
                                              ip=request.client.host if request.client else None)
    except DomainError as error:
        status = 429 if error.http_status == 429 else 422
        return _form(request, db, text, field_errors(error, locale_of(request)), status_code=status)
    return render(request, "collab/received.html", {"number": complaint.number, "code": code}, status_code=201)


def _store_photo(db: SessionDep, photo: UploadFile) -> str:
    """The photo goes to the evidence store by hash (as the public, no user)."""
    from jianguan.audit.evidence import check_type, get_storage, normalise_type

    head = photo.file.read(4096)
    if not head:
        raise Invalid("photo", N_("The file is empty."))
    content_type = normalise_type(photo.content_type)
    if not content_type.startswith("image/"):
        raise Invalid("photo", N_("Attach a photo (JPEG or PNG)."))
    check_type(content_type, head)
    import io

    rest = photo.file.read(MAX_PHOTO)
    if len(head) + len(rest) > MAX_PHOTO:
        raise Invalid("photo", N_("The photo is larger than 10 MB."))
    sha, _size = get_storage().put(io.BytesIO(head + rest), max_bytes=MAX_PHOTO)
    return sha


@router.get("/complaints/status", response_class=HTMLResponse)
def status_form(request: Request, user: OptionalPageUser) -> HTMLResponse:
    return render(request, "collab/status.html", {"status": None, "number": "", "code": ""})


@router.post("/complaints/status", response_class=HTMLResponse)
def status(request: Request, db: SessionDep, user: OptionalPageUser, number: Annotated[str, Form()] = "",
           code: Annotated[str, Form()] = "", rating: Annotated[str, Form()] = "",
           reopen: Annotated[str, Form()] = "") -> HTMLResponse:
    """The complainant's view by number and access code; also where they rate the reply or reopen it.
    Read-only without the code; nothing tells which of the two was wrong."""
    error = ""
    try:
        with db.begin_nested():
            if rating:
                service.rate(db, number=number, code=code, rating=int(rating) if rating.isdigit() else 0)
            if reopen:
                service.reopen(db, number=number, code=code, reason=reopen)
            complaint = service.by_code(db, number=number, code=code)
            shown = service.public_status(db, complaint)
    except DomainError as problem:
        error, shown = problem.localized(locale_of(request)), None
    return render(request, "collab/status.html", {"status": shown, "number": number, "code": code, "error": error,
                                                  "states": STATES}, status_code=200 if shown else 404)


# --------------------------------------------------------------------------- staff


@router.get("/collab", response_class=HTMLResponse)  # the navigation's landing page of the centre
@router.get("/complaints", response_class=HTMLResponse)
def complaint_queue(request: Request, db: SessionDep, user: PageUser, state: Annotated[str, Query()] = "",
                    category: Annotated[str, Query()] = "", unrouted: Annotated[str, Query()] = "") -> HTMLResponse:
    """The queue, soonest due first, with a map of the same complaints (drawn from /api/v1/complaints/map
    by the browser; without JavaScript the list alone)."""
    rows = service.queue(db, actor=user, state=state, category=category, unrouted=bool(unrouted))
    filters = urlencode({k: v for k, v in (("state", state), ("category", category), ("unrouted", unrouted and "1"))
                         if v})
    return render(request, "collab/index.html", {
        "rows": rows, "state": state, "category": category, "unrouted": unrouted, "states": STATES,
        "flags": flags.FLAGS,
        "categories": codes.labels(db, "complaint_category"), "figures": figures.figures(db, actor=user),
        "map_url": "/api/v1/complaints/map" + (f"?{filters}" if filters else ""),
        "state_colours": maps.STATE_COLOURS, "category_colours": maps.CATEGORY_COLOURS})


@router.get("/complaints/{complaint_id:int}", response_class=HTMLResponse)
def complaint_page(request: Request, complaint_id: int, db: SessionDep, user: PageUser) -> HTMLResponse:
    complaint = service.get(db, complaint_id=complaint_id, actor=user)
    agencies = list(db.scalars(select(Agency).order_by(Agency.code).limit(500)))
    return render(request, "collab/complaint.html", {
        "c": complaint, "v": service.view(complaint, user), "states": STATES, "action_labels": ACTIONS,
        "actions": workflow.allowed_actions(complaint, user), "events": workflow.history(db, complaint),
        "categories": codes.labels(db, "complaint_category"), "outcomes": OUTCOMES, "why": WHY, "channels": CHANNELS,
        "duplicates": service.duplicates_of(db, complaint), "agencies": agencies,
        "may_follow": complaint.state in followup.FOLLOW_STATES and service.may_handle(complaint, user)
        and not complaint.outcome_ref, "followed": _followed(db, complaint.outcome_ref),
        "flags": flags.FLAGS, "may_flag": service.may_handle(complaint, user)})


def _followed(db: SessionDep, ref: str) -> tuple[str, str] | None:
    """The plan or case a complaint became: (its code, its page)."""
    from jianguan.cases.models import Case
    from jianguan.inspections.models import InspectionPlan

    kind, _, code = ref.partition(":")
    model: Any = {"plan": InspectionPlan, "case": Case}.get(kind)
    found = db.scalar(select(model.id).where(model.code == code)) if model is not None else None
    if found is None:
        return None
    return code, f"/inspections/plans/{found}" if kind == "plan" else f"/cases/{found}"


@router.post("/complaints/{complaint_id:int}/verify", dependencies=[CsrfProtected])
def complaint_verify(request: Request, complaint_id: int, db: SessionDep, user: PageUser) -> Response:
    """A draft complaint-triggered plan, opened for the officer to complete and submit."""
    with page_step(request, db) as step:
        plan = followup.verify_by_inspection(db, complaint_id=complaint_id, actor=user)
        step.done(N_("Plan {code} drawn up to verify the complaint; check it and submit it."), code=plan.code)
        return RedirectResponse(f"/inspections/plans/{plan.id}", status_code=303)
    return RedirectResponse(f"/complaints/{complaint_id}", status_code=303)


@router.post("/complaints/{complaint_id:int}/flag", dependencies=[CsrfProtected])
def complaint_flag(request: Request, complaint_id: int, db: SessionDep, user: PageUser,
                   flag: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "") -> Response:
    with page_step(request, db, N_("Flag saved; the complaint is kept.")):
        flags.flag(db, complaint_id=complaint_id, flag=flag, reason=reason, actor=user)
    return RedirectResponse(f"/complaints/{complaint_id}", status_code=303)


@router.post("/complaints/{complaint_id:int}/to-case", dependencies=[CsrfProtected])
def complaint_to_case(request: Request, complaint_id: int, db: SessionDep, user: PageUser) -> Response:
    with page_step(request, db) as step:
        case = followup.to_case(db, complaint_id=complaint_id, actor=user)
        step.done(N_("Case lead {code} registered from the complaint."), code=case.code)
        return RedirectResponse(f"/cases/{case.id}", status_code=303)
    return RedirectResponse(f"/complaints/{complaint_id}", status_code=303)


@router.post("/complaints/{complaint_id:int}/decide", dependencies=[CsrfProtected])
def complaint_step(request: Request, complaint_id: int, db: SessionDep, user: PageUser,
                   action: Annotated[str, Form()], version: Annotated[int, Form()],
                   comment: Annotated[str, Form()] = "", agency_id: Annotated[str, Form()] = "",
                   outcome: Annotated[str, Form()] = "", outcome_ref: Annotated[str, Form()] = "") -> Response:
    with page_step(request, db, N_("Done: {action}."), action=ACTIONS.get(action, action)):
        service.act(db, complaint_id=complaint_id, action=action, comment=comment, expected_version=version,
                    payload={"agency_id": agency_id, "outcome": outcome, "outcome_ref": outcome_ref}, actor=user)
    return RedirectResponse(f"/complaints/{complaint_id}", status_code=303)


@router.post("/complaints/{complaint_id:int}/merge", dependencies=[CsrfProtected])
async def complaint_merge(request: Request, complaint_id: int, db: SessionDep, user: PageUser) -> Response:
    form = await request.form()
    ids = [int(str(v)) for v in form.getlist("duplicate_ids") if str(v).isdigit()]
    with page_step(request, db, N_("Merged {n} complaint(s) into this one."), n=len(ids)):
        if not ids:
            raise Invalid("duplicate_ids", N_("Tick the complaints to merge."))
        service.merge(db, master_id=complaint_id, duplicate_ids=ids, actor=user)
    return RedirectResponse(f"/complaints/{complaint_id}", status_code=303)


@router.post("/complaints/{complaint_id:int}/route", dependencies=[CsrfProtected])
def complaint_route(request: Request, complaint_id: int, db: SessionDep, user: PageUser,
                    agency_id: Annotated[int, Form()]) -> Response:
    with page_step(request, db, N_("Routed.")):
        service.assign_agency(db, complaint_id=complaint_id, agency_id=agency_id, actor=user)
    return RedirectResponse(f"/complaints/{complaint_id}", status_code=303)


from jianguan.collab import joint_pages  # noqa: E402  (the joint task board: its own module)

router.include_router(joint_pages.router)
