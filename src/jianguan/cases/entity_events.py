"""What the entity's timeline shows of penalty cases: the lead, the filing and the decision."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.auth.models import User
from jianguan.auth.scope import visible
from jianguan.cases.models import Case
from jianguan.core.i18n import N_
from jianguan.entities.timeline import PER_DOMAIN, Event


def events(db: Session, *, entity_id: int, actor: User) -> list[Event]:
    out = []
    for case in db.scalars(select(Case).where(Case.entity_id == entity_id, visible(Case, actor))
                           .order_by(Case.id.desc()).limit(PER_DOMAIN)):
        link, detail = f"/cases/{case.id}", f"{case.code} · {case.title}"
        out.append(Event(case.lead_on, "case", N_("Case lead registered"), detail, link))
        if case.filed_on is not None:
            out.append(Event(case.filed_on, "case", N_("Case filed (立案)"), detail, link))
        if case.decided_on is not None:
            out.append(Event(case.decided_on, "case", N_("Penalty decided"), detail, link))
    return out
