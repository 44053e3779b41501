"""What the entity's timeline shows of the risk centre: incidents (the register is not restricted) and
warnings raised about the entity. Score level changes are already there as the risk history."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.auth.models import User
from jianguan.auth.scope import visible
from jianguan.core.i18n import N_
from jianguan.entities.timeline import PER_DOMAIN, Event
from jianguan.risk import service
from jianguan.risk.models import Incident, Warning


def events(db: Session, *, entity_id: int, actor: User) -> list[Event]:
    out: list[Event] = []
    for incident in db.scalars(select(Incident).where(Incident.entity_id == entity_id)
                               .order_by(Incident.occurred_on.desc()).limit(PER_DOMAIN)):
        detail = service.INCIDENT_LABELS.get(incident.kind, incident.kind)
        if incident.withdrawn_reason:
            detail += "（已撤销）"
        out.append(Event(incident.occurred_on, "incident", N_("Incident recorded"), detail,
                         f"/risk/entities/{entity_id}#incidents"))
    for warning in db.scalars(select(Warning).where(Warning.entity_id == entity_id, visible(Warning, actor))
                              .order_by(Warning.fired_on.desc()).limit(PER_DOMAIN)):
        out.append(Event(warning.fired_on, "warning", N_("Risk warning raised"), f"{warning.code} · {warning.detail}",
                         f"/risk/warnings/{warning.id}"))
    return out
