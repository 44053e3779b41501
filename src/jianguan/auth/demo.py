"""Demo agencies and accounts (杭州 market supervision), loaded by ``jianguan demo``. Idempotent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.auth import service
from jianguan.auth.models import User
from jianguan.officers import service as agencies
from jianguan.officers.models import Agency

DEMO_PASSWORD = "Demo-2026-jg"

AGENCIES = [
    # code, name, region, parent code, domains
    ("33-SJ", "浙江省市场监督管理局", "330000", None, ["market", "food", "special_equipment"]),
    ("3301-SJ", "杭州市市场监督管理局", "330100", "33-SJ", ["market", "food", "special_equipment"]),
    ("330106-SJ", "杭州市西湖区市场监督管理局", "330106", "3301-SJ", ["market", "food"]),
    ("330108-SJ", "杭州市滨江区市场监督管理局", "330108", "3301-SJ", ["market", "food"]),
    ("3301-HB", "杭州市生态环境局", "330100", None, ["ecology"]),
    ("3301-DC", "杭州市人民政府督查室", "330100", None, ["inspection"]),
    ("330106-DC", "杭州市西湖区人民政府督查室", "330106", "3301-DC", ["inspection"]),
]

USERS = [
    # username, name, roles, agency code, scope, what they show
    ("admin", "系统管理员", ["system_admin"], "33-SJ", "all", "全部数据"),
    ("hz_leader", "陈局长", ["leader"], "3301-SJ", "region", "杭州市及下辖区县"),
    ("xihu_admin", "西湖区管理员", ["agency_admin"], "330106-SJ", "agency", "西湖区局"),
    ("xihu_officer", "王建国", ["officer"], "330106-SJ", "agency", "西湖区局执法人员"),
    ("xihu_officer2", "李芳", ["officer"], "330106-SJ", "agency", "西湖区局执法人员"),
    ("xihu_legal", "赵律", ["legal_reviewer"], "330106-SJ", "agency", "西湖区局法制审核"),
    ("xihu_leader", "刘局长", ["leader"], "330106-SJ", "agency", "西湖区局负责人（审批检查计划）"),
    ("binjiang_officer", "周敏", ["officer"], "330108-SJ", "agency", "滨江区局执法人员"),
    ("hb_officer", "孙涛", ["officer"], "3301-HB", "agency", "生态环境局执法人员"),
    ("hz_du", "吴督查", ["officer"], "3301-DC", "region", "市政府督查室（督查事项、监管负担）"),
    ("hz_du_leader", "郑主任", ["leader"], "3301-DC", "region", "市政府督查室负责人（纳入督查清单）"),
    ("xihu_du", "冯督查", ["officer"], "330106-DC", "agency", "西湖区政府督查室"),
    ("xihu_du_leader", "何主任", ["leader"], "330106-DC", "agency", "西湖区政府督查室负责人"),
]


def load(db: Session) -> dict[str, Any]:
    created = {"agencies": 0, "users": 0}
    by_code = {a.code: a for a in db.scalars(select(Agency))}
    for code, name, region, parent, domains in AGENCIES:
        if code in by_code:
            continue
        parent_id = by_code[parent].id if parent else None
        by_code[code] = agencies.create_agency(db, code=code, name=name, region_code=region,
                                               parent_id=parent_id, domains=domains, actor=None)
        created["agencies"] += 1
    existing = set(db.scalars(select(User.username)))
    for username, name, roles, code, scope, _ in USERS:
        if username in existing:
            continue
        service.create_user(db, username=username, display_name=name, password=DEMO_PASSWORD, roles=roles,
                            agency_id=by_code[code].id, data_scope=scope, actor=None)
        created["users"] += 1
    created["account_requests"] = _load_requests(db, by_code)
    return created


REQUESTS = [
    # username, name, agency code, roles, reason, days ago submitted
    ("xihu_newcomer", "刘洋", "330106-SJ", ["officer"], "新入职执法人员，已取得执法证，申请开通执法账号。", 0),
    ("xihu_transfer", "黄磊", "330106-SJ", ["officer"], "由滨江区局调入，申请开通西湖区局执法账号。", 14),
]


def _load_requests(db: Session, by_code: dict[str, Agency]) -> int:
    """Two pending account requests for 西湖区: one new, one overdue (escalated by the scan)."""
    import datetime as dt

    from jianguan.auth.account_requests import submit_request
    from jianguan.auth.models import AccountRequest
    from jianguan.core import workflow
    from jianguan.core.workdays import WorkCalendar, today_shanghai

    existing = set(db.scalars(select(AccountRequest.username)))
    created = 0
    calendar = WorkCalendar.from_db(db)
    for username, name, code, roles, reason, days_ago in REQUESTS:
        if username in existing or username in set(db.scalars(select(User.username))):
            continue
        request, _ = submit_request(db, agency_id=by_code[code].id, username=username, display_name=name,
                                    password=DEMO_PASSWORD, requested_roles=roles, reason=reason)
        if days_ago:
            # As if filed two weeks ago: the review deadline has passed, so the scan escalates it.
            filed = today_shanghai() - dt.timedelta(days=days_ago)
            request.due_date = calendar.add_working_days(filed, 3).date
        created += 1
    db.flush()
    workflow.scan_overdue(db)
    return created


def logins() -> list[tuple[str, str, str]]:
    return [(u[0], DEMO_PASSWORD, f"{u[1]} · {u[5]}") for u in USERS]
