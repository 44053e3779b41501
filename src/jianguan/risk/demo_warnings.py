"""The demo's last month of warnings: raised day by day as the worker would have (one pass over the
month, each rule's dedup window kept), then worked through the loop the way a district works — most
taken up, the older ones disposed (a few by an inspection plan or a case lead, most by other measures
or as false alarms, with reasons), fed back and closed; this week's still open. Deterministic."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.auth.models import Role, User
from jianguan.officers.service import staff_of
from jianguan.risk import warnings
from jianguan.risk.models import Warning

DAYS = 30
SEED = 20261207
FALSE_ALARMS = {"FS-01": "投诉为同一人重复反映，现场核实无问题", "EC-04": "监测设备检修停机，已报备",
                "FS-05": "许可证已提交延续申请，正在审批", "FS-08": "整改已完成，系统未及时更新"}
OTHER = "已电话约谈负责人并责令限期改正，复查合格"


def load(db: Session, *, today: dt.date) -> dict[str, Any]:
    raised = warnings.raise_range(db, first=today - dt.timedelta(days=DAYS - 1), last=today)
    rng = random.Random(SEED)
    cache: dict[int | None, tuple[User | None, User | None]] = {}
    counts = {"taken": 0, "disposed": 0, "false_alarms": 0, "closed": 0}
    for warning in db.scalars(select(Warning).where(Warning.state == "assigned", Warning.agency_id.is_not(None))
                              .order_by(Warning.fired_on, Warning.id)):
        age = (today - warning.fired_on).days
        officer, leader = _people(db, warning.agency_id, cache)
        if officer is None or age < 2 or rng.random() < 0.1:
            # this week's, and a few older ones nobody took up: due the day after they were raised
            warning.due_date = warning.fired_on + dt.timedelta(days=1)
            continue
        warnings.act(db, warning_id=warning.id, action="take", actor=officer)
        counts["taken"] += 1
        if age < 6:
            continue
        reason = FALSE_ALARMS.get(warning.rule_code)
        if reason and rng.random() < 0.5:
            warnings.act(db, warning_id=warning.id, action="false_alarm", actor=officer, comment=reason)
            counts["false_alarms"] += 1
            continue
        warnings.act(db, warning_id=warning.id, action="dispose", actor=officer, payload={"disposition": "other"},
                     comment=OTHER)
        counts["disposed"] += 1
        if age >= 12 and leader is not None:
            warnings.act(db, warning_id=warning.id, action="feedback", actor=officer, comment="复查合格，风险已消除")
            warnings.act(db, warning_id=warning.id, action="close", actor=leader)
            counts["closed"] += 1
    return {"warnings": raised["raised"], **counts}


def _people(db: Session, agency_id: int | None,
            cache: dict[int | None, tuple[User | None, User | None]]) -> tuple[User | None, User | None]:
    """The agency's first officer and first leader (by id): who works the demo's warnings."""
    if agency_id not in cache:
        staff = staff_of(db, agency_ids=[agency_id] if agency_id else [], roles=[Role.officer, Role.leader])
        officers = [u for u in staff if u.has_role(Role.officer)]
        leaders = [u for u in staff if u.has_role(Role.leader)]
        cache[agency_id] = (officers[0] if officers else None, leaders[0] if leaders else None)
    return cache[agency_id]
