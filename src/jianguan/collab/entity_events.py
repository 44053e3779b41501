"""What the entity's timeline shows of the collaboration centre: complaints about it (number, category
and state only — never what was written) and joint visits."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.auth.models import User
from jianguan.collab import joint, service
from jianguan.collab.models import Complaint, JointTask
from jianguan.core.i18n import N_
from jianguan.entities import codes
from jianguan.entities.timeline import PER_DOMAIN, Event


def events(db: Session, *, entity_id: int, actor: User) -> list[Event]:
    out: list[Event] = []
    if actor.has_role(*service.STAFF):
        categories = codes.labels(db, "complaint_category")
        for id_, number, category, received in db.execute(
                select(Complaint.id, Complaint.number, Complaint.category, Complaint.received_on)
                .where(Complaint.entity_id == entity_id, *service.queue_filter(actor))
                .order_by(Complaint.id.desc()).limit(PER_DOMAIN)):
            out.append(Event(received, "complaint", N_("Complaint received"),
                             f"{number} · {categories.get(category, category)}", f"/complaints/{id_}"))
    for task in db.scalars(select(JointTask).where(JointTask.entity_id == entity_id, JointTask.state != "cancelled")
                           .order_by(JointTask.id.desc()).limit(PER_DOMAIN)):
        if joint.may_see(task, actor):
            out.append(Event(task.scheduled_on, "joint", N_("Joint visit"), task.code, f"/collab/joint/{task.id}"))
    return out
