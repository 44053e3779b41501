"""Malicious or repeated complaints (恶意投诉、重复投诉) are flagged, never discarded: the complaint and
its counts stay (the risk centre reads them), the flag says how to weigh it, with the reason and who
set it in the audit log. ``repeated`` is also set by intake (the same phone too often)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.auth.models import User
from jianguan.collab import service
from jianguan.collab.models import Complaint
from jianguan.core.errors import Forbidden, Invalid
from jianguan.core.i18n import N_

FLAGS = {"malicious": N_("Malicious"), "repeated": N_("Repeated")}


def flag(db: Session, *, complaint_id: int, flag: str, reason: str, actor: User) -> Complaint:
    """Set (or, with ``flag=""``, clear) the flag; only the handling agency, always with the reason."""
    complaint = service.get(db, complaint_id=complaint_id, actor=actor, audit_read=False)
    if not service.may_handle(complaint, actor):
        raise Forbidden(N_("Only the handling agency flags a complaint."))
    if flag and flag not in FLAGS:
        raise Invalid("flag", N_("Unknown code(s) {codes} for {name}."), codes=flag, name="flag")
    if len(reason.strip()) < 4:
        raise Invalid("reason", N_("Give the reason (at least 4 characters)."))
    before, complaint.flagged = complaint.flagged, flag
    db.flush()
    audit.record(db, actor=actor, action="complaint.flag", object_type="complaint", object_id=complaint.id,
                 payload={"flag": flag, "reason": reason.strip()},
                 detail={"number": complaint.number, "from": before, "to": flag})
    return complaint
