"""What the entity's timeline shows of inspections: visits made (and scheduled ones), newest first."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from jianguan.auth.models import User
from jianguan.auth.scope import visible
from jianguan.core.i18n import N_
from jianguan.core.workdays import local_date
from jianguan.entities.timeline import PER_DOMAIN, Event
from jianguan.inspections import workflow as wf
from jianguan.inspections.models import Inspection
from jianguan.officers.models import Agency

RESULTS = {"problems": N_("Inspected: problems found"), "no_problem": N_("Inspected: no problem")}


def events(db: Session, *, entity_id: int, actor: User) -> list[Event]:
    rows = db.execute(
        select(Inspection.id, Inspection.code, Inspection.visit_started_at, Inspection.scheduled_on, Inspection.result,
               Agency.name)
        .join(Agency, Agency.id == Inspection.agency_id)
        .where(Inspection.entity_id == entity_id, Inspection.state != wf.CANCELLED, visible(Inspection, actor),
               or_(Inspection.visit_started_at.is_not(None), Inspection.scheduled_on.is_not(None)))
        .order_by(Inspection.id.desc()).limit(PER_DOMAIN))
    out = []
    for id_, code, visited, scheduled, result, agency in rows:
        link, detail = f"/inspections/visits/{id_}", f"{agency} · {code}"
        if visited is not None:
            out.append(Event(local_date(visited), "inspection", RESULTS.get(result or "", N_("Inspected")), detail,
                             link))
        elif scheduled is not None:
            out.append(Event(scheduled, "inspection", N_("Inspection scheduled"), detail, link))
    return out
