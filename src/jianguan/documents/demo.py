"""Demo: every agency gets its 机关代字 and a drawn seal marked 演示专用, every officer a signature image,
so the demo's documents look like the real thing (safe to repeat)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.documents import art, signing
from jianguan.documents.models import DocumentProfile, OfficerSignature
from jianguan.documents.service import default_abbreviation, put_file
from jianguan.officers.models import Agency, Officer


def load(db: Session) -> dict[str, Any]:
    signing.ensure_ca()
    profiled = set(db.scalars(select(DocumentProfile.agency_id)))
    agencies = [a for a in db.scalars(select(Agency).order_by(Agency.id)) if a.id not in profiled]
    for agency in agencies:
        db.add(DocumentProfile(agency_id=agency.id, abbreviation=default_abbreviation(agency.name),
                               seal_sha256=put_file(art.seal(agency.name))))
    signed = set(db.scalars(select(OfficerSignature.officer_id)))
    officers = [o for o in db.scalars(select(Officer).order_by(Officer.id).limit(500)) if o.id not in signed]
    for officer in officers:
        db.add(OfficerSignature(officer_id=officer.id, sha256=put_file(art.signature(officer.name))))
    db.flush()
    return {"seals": len(agencies), "signatures": len(officers)}

