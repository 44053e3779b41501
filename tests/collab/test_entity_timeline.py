"""The entity page's timeline gathers what other domains know of the entity — inspections, cases,
complaints (number and category, never the text), joint visits — each only for those who may see it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from jianguan.collab import service
from jianguan.entities import timeline
from tests.collab.test_complaints import complaint
from tests.inspections.conftest import World
from tests.inspections.test_burden import at, visit


def test_the_timeline_gathers_inspections_complaints_and_joint_visits(db: Session, world: World) -> None:
    shop = world.entities[7]
    visit(db, world, shop, world.xihu.id, start=at(11, 20), hours=2)
    made, _ = service.receive(db, data=complaint(), channel="web")
    assert made.entity_id == shop.id
    mine = timeline.from_domains(db, entity_id=shop.id, actor=world.author)
    kinds = {e.kind for e in mine}
    assert {"inspection", "complaint"} <= kinds
    shown = next(e for e in mine if e.kind == "complaint")
    assert shown.detail.startswith(made.number) and "酸奶" not in shown.detail
    assert shown.link == f"/complaints/{made.id}"
    assert next(e for e in mine if e.kind == "inspection").day == dt.date(2026, 11, 20)
    theirs = timeline.from_domains(db, entity_id=shop.id, actor=world.outsider)
    assert theirs == []  # another district's officer sees neither
