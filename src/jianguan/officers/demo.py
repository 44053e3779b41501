"""Demo officers and credentials for the demo agencies (auth/demo.py): one expired and one suspended
credential, a leave period and a conflict, so 亮证/查证 and the draw rules have something to show.
Idempotent (officers are found by ID number)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.auth.models import User
from jianguan.officers import credentials, roster
from jianguan.officers.models import Agency, Credential

# username (linked account or None), name, agency code, id number, phone, gender, domains,
# credential number, issued, expires, status
OFFICERS = [
    ("xihu_officer", "王建国", "330106-SJ", "330106198503127713", "13857100001", "male", ["market", "food"],
     "33010620210001", "2021-03-01", "2027-02-28", "valid"),
    ("xihu_officer2", "李芳", "330106-SJ", "330106199107082423", "13857100002", "female", ["market", "food"],
     "33010620200002", "2020-06-15", "2026-06-14", "valid"),  # expired in June 2026
    (None, "陈志强", "330106-SJ", "330106198812305536", "13857100003", "male", ["market"],
     "33010620220003", "2022-09-01", "2028-08-31", "suspended"),
    ("binjiang_officer", "周敏", "330108-SJ", "330108199203154426", "13857100004", "female", ["market", "food"],
     "33010820230001", "2023-01-10", "2029-01-09", "valid"),
    (None, "吴磊", "330108-SJ", "330108198607217919", "13857100005", "male", ["market", "special_equipment"],
     "33010820190002", "2019-05-20", "2025-05-19", "revoked"),
    ("hb_officer", "孙涛", "3301-HB", "330102198909096616", "13857100006", "male", ["ecology"],
     "33010020240001", "2024-04-01", "2030-03-31", "valid"),
]


def load(db: Session) -> dict[str, Any]:
    from jianguan.auth import demo as auth_demo

    auth_demo.load(db)  # the agencies and accounts these officers belong to (runs after us otherwise)
    by_code = {a.code: a for a in db.scalars(select(Agency))}
    users = {u.username: u for u in db.scalars(select(User))}
    created = {"officers": 0, "credentials": 0}
    for username, name, code, id_number, phone, gender, domains, number, issued, expires, status in OFFICERS:
        if code not in by_code:
            continue
        officer = roster.find_by_id_number(db, id_number)
        if officer is None:
            user = users.get(username) if username else None
            officer = roster.create_officer(db, agency_id=by_code[code].id, name=name, id_number=id_number,
                                            phone=phone, gender=gender, domains=domains,
                                            qualifications=["行政执法资格"], user_id=user.id if user else None,
                                            actor=None)
            created["officers"] += 1
        if db.scalar(select(Credential.id).where(Credential.number == number)) is None:
            credential = credentials.issue_credential(
                db, officer_id=officer.id, number=number, domains=domains, issued_on=dt.date.fromisoformat(issued),
                expires_on=dt.date.fromisoformat(expires), issuer=by_code[code].name, actor=None)
            if status == "suspended":
                credentials.suspend_credential(db, credential_id=credential.id, version=None, actor=None,
                                               reason="涉嫌违规执法，调查期间暂扣执法证")
            elif status == "revoked":
                credentials.revoke_credential(db, credential_id=credential.id, version=None, actor=None,
                                              reason="调离执法岗位，收回执法证")
            created["credentials"] += 1
            if name == "王建国":
                roster.add_leave(db, officer_id=officer.id, starts_on=dt.date(2026, 12, 21),
                                 ends_on=dt.date(2026, 12, 25), reason="年休假", actor=None)
                roster.add_conflict(db, officer_id=officer.id, relation="relative", entity_uscc=None,
                                    entity_name="杭州西湖明远餐饮有限公司", note="配偶为该公司股东", actor=None)
    return created

