"""Where complaints are: the points behind the queue page's map.

Only what a map needs and the queue already shows — id, number, state, category, coordinates and the
grid square (for clustering) — for the complaints the person may see under the queue's own filters.
Never the content, the complainant, the party or the address: a point must not reveal more than the
list does. Newest first, at most ``MAX_POINTS`` (the page says when there are more)."""

from __future__ import annotations

import statistics
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jianguan.auth.models import User
from jianguan.collab import service
from jianguan.collab.models import Complaint
from jianguan.core.errors import Forbidden
from jianguan.reference.models import Region

MAX_POINTS = 5000

# Colours of the points and the legend (readable on the map's plain background, distinct in grey too).
STATE_COLOURS = {"received": "#d97706", "accepted": "#2563eb", "handling": "#7c3aed", "replied": "#0d9488",
                 "closed": "#4d7c0f", "rejected": "#6b7280", "merged": "#a8a29e"}
CATEGORY_COLOURS = {"food_safety": "#dc2626", "product_quality": "#ea580c", "price": "#ca8a04",
                    "advertising": "#db2777", "consumer_rights": "#2563eb", "special_equipment": "#0891b2",
                    "licence": "#9333ea", "environment": "#16a34a", "work_safety": "#b45309",
                    "transport": "#4f46e5", "urban": "#64748b", "other": "#78716c"}


def points(db: Session, *, actor: User, state: str = "", category: str = "", unrouted: bool = False,
           limit: int = MAX_POINTS) -> dict[str, Any]:
    """The map's data for this person and these filters: points, how many in all (with and without a
    place), and where each county's points are (for its label)."""
    if not actor.has_role(*service.STAFF):
        raise Forbidden()
    where = service.queue_filter(actor, state=state, category=category, unrouted=unrouted)
    placed = [*where, Complaint.latitude.is_not(None), Complaint.longitude.is_not(None)]
    total = db.scalar(select(func.count()).select_from(Complaint).where(*where)) or 0
    with_place = db.scalar(select(func.count()).select_from(Complaint).where(*placed)) or 0
    rows = db.execute(select(Complaint.id, Complaint.number, Complaint.state, Complaint.category,
                             Complaint.latitude, Complaint.longitude, Complaint.cell, Complaint.region_code)
                      .where(*placed).order_by(Complaint.id.desc()).limit(max(1, min(limit, MAX_POINTS)))).all()
    shown = [{"id": r.id, "number": r.number, "state": r.state, "category": r.category,
              "lat": round(float(r.latitude), 5), "lng": round(float(r.longitude), 5),
              "cell": r.cell if r.cell is not None else service.cell_of(r.latitude, r.longitude)} for r in rows]
    return {"points": shown, "total": total, "with_place": with_place, "shown": len(shown),
            "cell_degrees": service.CELL_DEGREES, "regions": _regions(db, rows)}


def _regions(db: Session, rows: Any) -> list[dict[str, Any]]:
    """A label per county: its name above its points (no boundary data is shipped)."""
    by_region: dict[str, list[tuple[float, float]]] = {}
    for r in rows:
        by_region.setdefault(r.region_code, []).append((float(r.latitude), float(r.longitude)))
    names = {code: name for code, name in db.execute(
        select(Region.code, Region.name).where(Region.code.in_(list(by_region))))} if by_region else {}
    return [{"code": code, "name": names.get(code, code), "n": len(places), "lat": round(_north(places), 5),
             "lng": round(statistics.median(p[1] for p in places), 5)} for code, places in sorted(by_region.items())]


def _north(places: list[tuple[float, float]]) -> float:
    """Just north of most of the county's points, so the name sits above them rather than under a cluster."""
    lats = sorted(p[0] for p in places)
    return lats[min(len(lats) - 1, int(len(lats) * 0.9))] + 0.004
