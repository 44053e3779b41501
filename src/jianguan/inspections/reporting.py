"""National reporting records of inspection behaviour (检查行为数据, domain-rules §6): one record per
inspection that reached the site, as JSON lines or XLSX, built in Polars.

Fields: plan (code, and whether double-random), catalog item codes (14 digits) and implementation-list
codes, agency (code, name), entity (name, USCC — or the ID number, masked, for a natural person),
division code, inspection kind / method / result, start and end time (Asia/Shanghai), officers with
their credential numbers, findings count. Scoped and audited like every export.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.auth.models import User
from jianguan.auth.scope import visible
from jianguan.catalog.models import ItemVersion, SupervisionItem
from jianguan.core import exporting
from jianguan.core.errors import Invalid
from jianguan.core.i18n import N_
from jianguan.core.masking import mask_id_number
from jianguan.entities.models import Entity
from jianguan.inspections.models import Finding, Inspection, InspectionOfficer, InspectionPlan
from jianguan.officers.models import Agency, Officer

COLUMNS = {  # field → Chinese header (the XLSX)
    "inspection_code": "检查编号", "plan_code": "计划编号", "double_random": "是否双随机",
    "item_codes": "监管事项编码", "implementation_codes": "实施清单编码", "agency_code": "检查机关编码",
    "agency_name": "检查机关", "entity_name": "检查对象名称", "uscc": "统一社会信用代码", "id_number": "身份证件号码",
    "division_code": "行政区划代码", "kind": "检查类型", "method": "检查方式", "result": "检查结果",
    "started_at": "检查开始时间", "ended_at": "检查结束时间", "officers": "执法人员及执法证号",
    "findings": "发现问题数",
}
DOUBLE_RANDOM = frozenset({"routine_random", "unannounced"})


def records(db: Session, *, actor: User | None, since: dt.date, until: dt.date) -> pl.DataFrame:
    """Inspections visited between ``since`` and ``until`` (inclusive, Shanghai days) in the actor's scope."""
    if until < since:
        raise Invalid("until", N_("The end date must not be before the start date."))
    start = dt.datetime.combine(since, dt.time(), tzinfo=dt.timezone(dt.timedelta(hours=8)))
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), tzinfo=dt.timezone(dt.timedelta(hours=8)))
    stmt = (select(Inspection, InspectionPlan.code, Agency.code, Agency.name, Entity.name, Entity.uscc,
                   Entity.id_number, Entity.region_code)
            .join(Entity, Entity.id == Inspection.entity_id).join(Agency, Agency.id == Inspection.agency_id)
            .outerjoin(InspectionPlan, InspectionPlan.id == Inspection.plan_id)
            .where(Inspection.visit_started_at >= start, Inspection.visit_started_at < end)
            .order_by(Inspection.visit_started_at, Inspection.id))
    if actor is not None:
        stmt = stmt.where(visible(Inspection, actor))
    rows = db.execute(stmt).all()
    ids = [r[0].id for r in rows]
    team: dict[int, list[str]] = {}
    findings: dict[int, int] = {}
    if ids:
        for inspection_id, name, number in db.execute(
                select(InspectionOfficer.inspection_id, Officer.name, InspectionOfficer.credential_number)
                .join(Officer, Officer.id == InspectionOfficer.officer_id)
                .where(InspectionOfficer.inspection_id.in_(ids)).order_by(InspectionOfficer.id)):
            team.setdefault(inspection_id, []).append(f"{name}（{number}）" if number else name)
        for (inspection_id,) in db.execute(select(Finding.inspection_id).where(Finding.inspection_id.in_(ids))):
            findings[inspection_id] = findings.get(inspection_id, 0) + 1
    codes = _implementation_codes(db)
    shanghai = dt.timezone(dt.timedelta(hours=8))

    def when(value: dt.datetime | None) -> str:
        return value.astimezone(shanghai).strftime("%Y-%m-%d %H:%M:%S") if value is not None else ""

    out = [{
        "inspection_code": i.code, "plan_code": plan_code or "", "double_random": i.kind in DOUBLE_RANDOM,
        "item_codes": ";".join(i.item_codes), "implementation_codes": ";".join(codes.get(c, "") for c in i.item_codes),
        "agency_code": agency_code, "agency_name": agency_name, "entity_name": entity_name, "uscc": uscc or "",
        "id_number": mask_id_number(id_number) if id_number and not uscc else "", "division_code": region,
        "kind": i.kind, "method": i.method, "result": i.result or "", "started_at": when(i.visit_started_at),
        "ended_at": when(i.visit_ended_at), "officers": "；".join(team.get(i.id, [])),
        "findings": findings.get(i.id, 0),
    } for i, plan_code, agency_code, agency_name, entity_name, uscc, id_number, region in rows]
    return pl.DataFrame(out, schema={k: (pl.Boolean if k == "double_random" else pl.Int64 if k == "findings"
                                         else pl.Utf8) for k in COLUMNS})


def _implementation_codes(db: Session) -> dict[str, str]:
    """Item code → the implementation-list code of its version in force."""
    return dict(db.execute(select(SupervisionItem.code, ItemVersion.implementation_code).join(
        ItemVersion, (ItemVersion.item_id == SupervisionItem.id)
        & (ItemVersion.number == SupervisionItem.current_number))).all())


def export(db: Session, *, actor: User | None, since: dt.date, until: dt.date, fmt: str = "jsonl") -> bytes:
    """The records as JSON lines (UTF-8, one object per line) or XLSX with Chinese headers; audited."""
    exporting.check_format(fmt)
    frame = records(db, actor=actor, since=since, until=until)
    audit.record_export(db, actor=actor, what="inspection_records", row_count=frame.height, fmt=fmt,
                        filters={"since": since.isoformat(), "until": until.isoformat()})
    return exporting.as_bytes(frame, fmt, headers=COLUMNS, worksheet="检查行为")
