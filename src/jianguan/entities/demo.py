"""Demo entities for the demo agencies (杭州 西湖区 and 滨江区), from the synthetic province generator.

A few hundred, written through the entity service so the demo shows real search results, histories
and licences. (The 20,000-entity province comes with the bulk import pipeline.) Idempotent: a second
run finds every USCC and changes nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

DEMO_COUNTIES = {"330106": ("西湖区", "330106-SJ"), "330108": ("滨江区", "330108-SJ")}
DEMO_ENTITIES = 400


def load(db: Session) -> dict[str, Any]:
    from jianguan.entities.bulk import upsert_many
    from jianguan.entities.models import Entity
    from jianguan.officers.models import Agency
    from jianguan.synth import province as synth

    agency_codes = set(db.scalars(select(Agency.code).where(Agency.code.in_([a for _, a in DEMO_COUNTIES.values()]))))
    if len(agency_codes) < len(DEMO_COUNTIES):
        return {"entities": 0}  # the demo agencies come from auth/demo.py; nothing to attach to
    if (db.scalar(select(func.count()).select_from(Entity)) or 0) >= DEMO_ENTITIES:
        return {"entities": 0}
    place = synth.Province(
        "330000", "浙江省", "浙", cities=[("330100", "杭州市")],
        counties=[synth.Place(code, name, "330100", "杭州市") for code, (name, _) in DEMO_COUNTIES.items()],
    )
    frame = synth.entities(place, n=DEMO_ENTITIES, seed=2026)
    rows = [
        {**{k: v for k, v in row.items() if v != ""}, "agency_code": DEMO_COUNTIES[row["region_code"]][1]}
        for row in frame.to_dicts()
    ]
    result = upsert_many(db, rows=rows, actor=None, batch="demo")
    return {"entities": result.created}
