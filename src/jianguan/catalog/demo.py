"""The demo catalog: the content shipped with the package, plus one adjustment waiting for legal
review (proposed by the Xihu officer), so the approval queue has something to show. Idempotent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.auth.models import User
from jianguan.catalog import content, service
from jianguan.catalog.schemas import ItemChanges

PENDING_ITEM = "33000001001004"  # 餐饮具清洗消毒: the demo proposes a stricter description


def load(db: Session) -> dict[str, Any]:
    counts = content.load(db)
    officer = db.scalar(select(User).where(User.username == "xihu_officer"))
    item = service.item_by_code(db, PENDING_ITEM)
    if officer is None or item is None or item.status != "in_force" or service.open_version(db, item) is not None:
        return counts
    if service.latest_version(db, item).number > 1:
        return counts
    current = service.current_version(db, item)
    assert current is not None
    version = service.revise_item(db, item_id=item.id, reason="根据餐饮服务食品安全操作规范，明确消毒记录保存要求",
                                  changes=ItemChanges(description=f"{current.description}消毒记录应当保存不少于6个月。"),
                                  actor=officer)
    service.decide(db, version_id=version.id, action="submit", actor=officer)
    counts["pending_changes"] = 1
    return counts
