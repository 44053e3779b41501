"""The entity page's timeline: the registry's own events, and what other domains add about the entity
— each package may have an ``entity_events.py`` with ``events(db, *, entity_id, actor) -> list[Event]``
(inspections, cases, complaints, joint visits…), each limited to what the person may see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from jianguan import registry

if TYPE_CHECKING:
    from jianguan.auth.models import User

PER_DOMAIN = 50  # the newest events each domain adds


@dataclass
class Event:
    day: dt.date
    kind: str  # registration / supervision / licence / credit / risk / tag / inspection / case / complaint …
    text: str  # a message id
    detail: str = ""
    link: str = ""


def from_domains(db: Session, *, entity_id: int, actor: User) -> list[Event]:
    out: list[Event] = []
    for module in registry.modules("entity_events"):
        out += module.events(db, entity_id=entity_id, actor=actor)[:PER_DOMAIN]
    return out
