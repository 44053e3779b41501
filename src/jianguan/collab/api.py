"""Complaints over HTTP: staff routes under /api/v1/complaints, and the public intake in the shape of
Open311 GeoReport v2 under /api/v1/open311/v2 (docs/complaints.md has the mapping), so hotline systems
and existing Open311 clients can connect. Thin: the service decides."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from jianguan.auth import service as auth
from jianguan.collab import figures, maps, service
from jianguan.collab.models import Complaint
from jianguan.collab.schemas import ComplaintIn, StepIn
from jianguan.core import workflow
from jianguan.core.errors import DomainError, Invalid, NotFound
from jianguan.core.i18n import N_
from jianguan.deps import CurrentUser, SessionDep
from jianguan.reference import service as ref

router = APIRouter(tags=["complaints"])


# --------------------------------------------------------------------------- staff


@router.get("/complaints")
def complaint_queue(db: SessionDep, user: CurrentUser, state: str = "", category: str = "",
                    unrouted: bool = False) -> list[dict[str, Any]]:
    return [service.view(c, user) for c in service.queue(db, actor=user, state=state, category=category,
                                                         unrouted=unrouted)]


@router.post("/complaints", status_code=201)
def staff_intake(body: ComplaintIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """A hotline call (12345 转办) entered by staff; the access code is read to the caller."""
    complaint, code = service.receive(db, data=body, channel="hotline", actor=user)
    return {**service.view(complaint, user), "access_code": code}


@router.get("/complaints/figures")
def complaint_figures(db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return figures.figures(db, actor=user)


@router.get("/complaints/map")
def complaint_map(db: SessionDep, user: CurrentUser, state: str = "", category: str = "", unrouted: bool = False,
                  limit: Annotated[int, Query(ge=1, le=maps.MAX_POINTS)] = maps.MAX_POINTS) -> dict[str, Any]:
    """The queue's map: where the complaints under the same filters are (no content, no complainant)."""
    return maps.points(db, actor=user, state=state, category=category, unrouted=unrouted, limit=limit)


@router.get("/complaints/{complaint_id}")
def complaint_detail(complaint_id: int, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    complaint = service.get(db, complaint_id=complaint_id, actor=user)
    return {**service.view(complaint, user), "actions": workflow.allowed_actions(complaint, user),
            "duplicates": [{"id": c.id, "number": c.number, "why": why}
                           for c, why in service.duplicates_of(db, complaint)]}


@router.post("/complaints/{complaint_id}/actions/{action}")
def complaint_step(complaint_id: int, action: str, body: StepIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    complaint = service.act(db, complaint_id=complaint_id, action=action, comment=body.comment,
                            payload=dict(body.payload), expected_version=body.expected_version, actor=user)
    return service.view(complaint, user)


@router.post("/complaints/{complaint_id}/verify", status_code=201)
def complaint_verify(complaint_id: int, db: SessionDep, user: CurrentUser,
                     item_codes: list[str] | None = None) -> dict[str, Any]:
    """A draft complaint-triggered inspection plan naming the entity (to complete and submit)."""
    from jianguan.collab import followup

    plan = followup.verify_by_inspection(db, complaint_id=complaint_id, item_codes=item_codes, actor=user)
    return {"plan_id": plan.id, "plan_code": plan.code, "state": plan.state}


@router.post("/complaints/{complaint_id}/flag")
def complaint_flag(complaint_id: int, body: StepIn, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """Flag as malicious or repeated (``payload.flag``; empty clears it), with the reason as the comment."""
    from jianguan.collab import flags

    complaint = flags.flag(db, complaint_id=complaint_id, flag=body.payload.get("flag", ""), reason=body.comment,
                           actor=user)
    return service.view(complaint, user)


@router.post("/complaints/{complaint_id}/to-case", status_code=201)
def complaint_to_case(complaint_id: int, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """A case lead (案源) from the complaint, of the handling agency."""
    from jianguan.collab import followup

    case = followup.to_case(db, complaint_id=complaint_id, actor=user)
    return {"case_id": case.id, "case_code": case.code, "state": case.state}


@router.post("/complaints/{complaint_id}/merge")
def complaint_merge(complaint_id: int, duplicate_ids: list[int], db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    merged = service.merge(db, master_id=complaint_id, duplicate_ids=duplicate_ids, actor=user)
    return {"master_id": complaint_id, "merged": [c.number for c in merged]}


# --------------------------------------------------------------------------- Open311 GeoReport v2


def _open311_error(error: DomainError, status: int = 400) -> JSONResponse:
    """Open311 errors are a list of {code, description}."""
    problems = [error, *getattr(error, "others", [])]
    return JSONResponse([{"code": status, "description": p.localized("zh_CN") + (
        f" ({p.field})" if getattr(p, "field", None) else "")} for p in problems], status_code=status)


def _service(db: SessionDep, code: str, name: str) -> dict[str, Any]:
    return {"service_code": code, "service_name": name, "description": f"{name}类投诉举报", "metadata": True,
            "type": "realtime", "keywords": code.replace("_", ","), "group": "市场监管" if code not in (
                "environment", "work_safety", "transport", "urban") else "其他部门"}


@router.get("/open311/v2/services.json")
def open311_services(db: SessionDep) -> list[dict[str, Any]]:
    """GeoReport v2 service list: one service per complaint category."""
    return [_service(db, item.code, item.name) for item in ref.domain_items(db, "complaint_category")]


@router.get("/open311/v2/services/{service_code}.json", response_model=None)
def open311_definition(service_code: str, db: SessionDep) -> dict[str, Any] | JSONResponse:
    if ref.resolve(db, "complaint_category", service_code) != service_code:
        return _open311_error(NotFound(N_("No such service.")), 404)
    return {"service_code": service_code, "attributes": [
        {"variable": True, "code": "kind", "datatype": "singlevaluelist", "required": False, "order": 1,
         "datatype_description": "complaint 投诉 / tip 举报", "description": "投诉或举报",
         "values": [{"key": "complaint", "name": "投诉"}, {"key": "tip", "name": "举报"}]},
        {"variable": True, "code": "party_name", "datatype": "string", "required": False, "order": 2,
         "datatype_description": "", "description": "被投诉举报的单位或个人名称"}]}


@router.post("/open311/v2/requests.json", status_code=201, response_model=None)
async def open311_create(request: Request, db: SessionDep) -> list[dict[str, Any]] | JSONResponse:
    """Create a service request. ``jurisdiction_id`` is the 6-digit county code where it happened; an
    ``api_key`` (one of our API tokens) marks a connected system; without one it is a public request."""
    form = await request.form()
    text = {k: str(v).strip() for k, v in form.items()}
    key_user = auth.user_for_token(db, text["api_key"]) if text.get("api_key") else None
    if text.get("api_key") and key_user is None:
        return JSONResponse([{"code": 403, "description": "api_key 无效"}], status_code=403)
    name = f"{text.get('last_name', '')}{text.get('first_name', '')}".strip()
    try:
        try:
            data = ComplaintIn(
                kind=text.get("attribute[kind]", "complaint") or "complaint", category=text.get("service_code", ""),
                content=text.get("description", ""), party_name=text.get("attribute[party_name]", ""),
                address=text.get("address_string", ""), region_code=text.get("jurisdiction_id", ""),
                latitude=float(text["lat"]) if text.get("lat") else None,
                longitude=float(text["long"]) if text.get("long") else None, name=name,
                phone=text.get("phone", ""), anonymous=not (name and text.get("phone")),
                external_ref=text.get("device_id", "") or text.get("account_id", ""))
        except ValidationError as error:
            raise Invalid.from_validation(error.errors()) from None
        except ValueError:
            raise Invalid("lat", N_("Latitude must be between -90 and 90.")) from None
        complaint, code = service.receive(db, data=data, channel="api" if key_user else "web", actor=key_user,
                                          ip=None if key_user else (request.client.host if request.client else None))
    except DomainError as error:
        db.rollback()
        return _open311_error(error, 429 if error.http_status == 429 else 400)
    return [{"service_request_id": complaint.number, "service_notice": "已收到，请凭编号和查询码查询办理进度",
             "account_id": None, "token": None, "access_code": code}]


def _status(db: SessionDep, complaint: Complaint) -> dict[str, Any]:
    """A request as Open311 shows it: status and notes, never what the complainant wrote."""
    from jianguan.officers.models import Agency

    agency = db.get(Agency, complaint.agency_id) if complaint.agency_id else None
    closed = complaint.state in ("replied", "closed", "rejected", "merged")
    return {"service_request_id": complaint.number, "status": "closed" if closed else "open",
            "status_notes": {"received": "已收到", "accepted": "已受理", "handling": "办理中", "replied": "已答复",
                             "closed": "已办结", "rejected": "不予受理", "merged": "已并案处理"}[complaint.state],
            "service_code": complaint.category,
            "service_name": ref.label(db, "complaint_category", complaint.category),
            "agency_responsible": agency.name if agency else "", "service_notice": "",
            "requested_datetime": complaint.created_at.isoformat(),
            "updated_datetime": complaint.updated_at.isoformat(),
            "expected_datetime": complaint.due_date.isoformat() if complaint.due_date else None,
            "address": complaint.address, "lat": complaint.latitude, "long": complaint.longitude,
            "media_url": None}


@router.get("/open311/v2/requests/{number}.json", response_model=None)
def open311_request(number: str, db: SessionDep) -> list[dict[str, Any]] | JSONResponse:
    from sqlalchemy import select

    complaint = db.scalar(select(Complaint).where(Complaint.number == number.upper()))
    if complaint is None:
        return _open311_error(NotFound(N_("No such complaint.")), 404)
    return [_status(db, complaint)]


@router.get("/open311/v2/requests.json")
def open311_requests(db: SessionDep, service_request_id: Annotated[str, Query(max_length=2000)] = "",
                     ) -> list[dict[str, Any]]:
    """Several requests by id (comma-separated), as GeoReport v2 allows."""
    from sqlalchemy import select

    numbers = [n.strip().upper() for n in service_request_id.split(",") if n.strip()][:100]
    rows = db.scalars(select(Complaint).where(Complaint.number.in_(numbers))).all() if numbers else []
    return [_status(db, c) for c in rows]


from jianguan.collab import joint_api  # noqa: E402  (joint tasks, assistance, recognition: their own module)

router.include_router(joint_api.router)
