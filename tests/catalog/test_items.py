"""Catalog items: approval on the workflow engine, versions, legal bases, the negative list."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from jianguan.catalog import service
from jianguan.catalog import workflow as wf
from jianguan.catalog.models import NegativeListEntry
from jianguan.catalog.schemas import ItemChanges, PointIn
from jianguan.core import workflow
from jianguan.core.errors import Conflict, Forbidden, IllegalTransition, Invalid
from tests.catalog.conftest import People, item_data


def approve(db: Session, people: People, version_id: int) -> None:
    service.decide(db, version_id=version_id, action="submit", actor=people.proposer)
    service.decide(db, version_id=version_id, action="pass_review", comment="依据充分", actor=people.reviewer)
    version = service.get_version(db, version_id=version_id)
    action = "approve_exit" if version.change == "exit" else "approve"
    service.decide(db, version_id=version_id, action=action, comment="同意", actor=people.approver)


def test_an_admitted_item_comes_into_force_after_review_and_approval(db: Session, people: People) -> None:
    version = service.propose_item(db, data=item_data(), reason="新增餐饮检查事项", actor=people.proposer)
    assert (version.state, version.item.status, version.item.current_number) == (wf.DRAFT, "draft", None)
    service.decide(db, version_id=version.id, action="submit", actor=people.proposer)
    assert version.state == wf.UNDER_REVIEW and version.due_date is not None  # 5 working days to review
    service.decide(db, version_id=version.id, action="pass_review", comment="依据充分", actor=people.reviewer)
    service.decide(db, version_id=version.id, action="approve", comment="同意纳入", actor=people.approver)
    assert (version.state, version.item.status, version.item.current_number) == (wf.IN_FORCE, "in_force", 1)
    assert version.effective_from == dt.date(2026, 12, 1)
    steps = [(e.action, e.to_state) for e in workflow.history(db, version)]
    assert steps == [("start", wf.DRAFT), ("submit", wf.UNDER_REVIEW), ("pass_review", wf.AWAITING_APPROVAL),
                     ("approve", wf.IN_FORCE)]


def test_the_proposer_neither_reviews_nor_approves_their_own_change(db: Session, people: People) -> None:
    people.proposer.roles = [*people.proposer.roles, "legal_reviewer", "leader"]
    version = service.propose_item(db, data=item_data(), reason="新增", actor=people.proposer)
    service.decide(db, version_id=version.id, action="submit", actor=people.proposer)
    with pytest.raises(Forbidden):
        service.decide(db, version_id=version.id, action="pass_review", comment="自审", actor=people.proposer)
    service.decide(db, version_id=version.id, action="pass_review", comment="依据充分", actor=people.reviewer)
    with pytest.raises(Forbidden):
        service.decide(db, version_id=version.id, action="approve", comment="自批", actor=people.proposer)
    assert version.state == wf.AWAITING_APPROVAL


def test_illegal_moves_are_refused_with_the_allowed_actions(db: Session, people: People) -> None:
    version = service.propose_item(db, data=item_data(), reason="新增", actor=people.proposer)
    with pytest.raises(IllegalTransition) as refused:
        service.decide(db, version_id=version.id, action="approve", comment="越级", actor=people.approver)
    assert refused.value.allowed == []  # a leader can do nothing with a draft
    service.decide(db, version_id=version.id, action="submit", actor=people.proposer)
    with pytest.raises(Forbidden):  # an officer is not a reviewer
        service.decide(db, version_id=version.id, action="pass_review", comment="好", actor=people.colleague)
    with pytest.raises(Invalid) as no_reason:
        service.decide(db, version_id=version.id, action="return", actor=people.reviewer)
    assert no_reason.value.field == "comment"
    service.decide(db, version_id=version.id, action="return", comment="补充依据", actor=people.reviewer)
    assert version.state == wf.DRAFT
    service.decide(db, version_id=version.id, action="submit", actor=people.proposer)
    service.decide(db, version_id=version.id, action="reject", comment="不属于本部门职责", actor=people.reviewer)
    assert version.state == wf.REJECTED and version.item.status == "draft"
    with pytest.raises(IllegalTransition):
        service.decide(db, version_id=version.id, action="submit", actor=people.proposer)


def test_an_edit_in_force_is_a_new_version_and_old_text_stays(db: Session, people: People) -> None:
    first = service.propose_item(db, data=item_data(), reason="新增", actor=people.proposer)
    approve(db, people, first.id)
    old_point = first.check_points[1]
    points = [PointIn.model_validate({"code": p.code, "text": p.text, "law": p.law_slug, "article": p.article_no,
                                      "answer_type": p.answer_type, "unit": p.unit, "max": p.max_value})
              for p in first.check_points]
    points[1] = points[1].model_copy(update={"text": "冷藏设施温度是否不高于5℃", "max": Decimal(5)})
    second = service.revise_item(db, item_id=first.item_id, reason="按新规程收紧冷藏温度",
                                 changes=ItemChanges(check_points=points, effective_from=dt.date(2027, 1, 1)),
                                 actor=people.proposer)
    assert second.number == 2 and second.state == wf.DRAFT
    assert first.state == wf.IN_FORCE and first.item.current_number == 1  # still the text in force
    with pytest.raises(Conflict):  # one change at a time
        service.revise_item(db, item_id=first.item_id, reason="again", changes=ItemChanges(name="另一个名称"),
                            actor=people.colleague)
    approve(db, people, second.id)
    assert (first.state, first.effective_to) == (wf.SUPERSEDED, dt.date(2026, 12, 31))
    assert second.state == wf.IN_FORCE and second.item.current_number == 2
    db.refresh(old_point)
    # what an old inspection shows:
    assert old_point.text == "冷藏设施温度是否不高于8℃" and old_point.version_id == first.id
    changes = {c.name: c for c in service.diff(first, second)}
    assert set(changes) == {f"check_point:{old_point.code}"}
    assert ("-", "8") in changes[f"check_point:{old_point.code}"].diff
    assert ("+", "5") in changes[f"check_point:{old_point.code}"].diff


def test_a_draft_saved_meanwhile_by_someone_else_is_a_conflict(db: Session, people: People) -> None:
    version = service.propose_item(db, data=item_data(), reason="新增", actor=people.proposer)
    seen = version.version
    service.update_draft(db, version_id=version.id, changes=ItemChanges(description="补充说明"),
                         expected_version=seen, actor=people.colleague)
    with pytest.raises(Conflict):
        service.update_draft(db, version_id=version.id, changes=ItemChanges(name="改名"), expected_version=seen,
                             actor=people.proposer)
    assert version.name == "对餐饮服务提供者食品安全的监督检查"


def test_exit_retires_the_item_and_is_approved_with_its_own_action(db: Session, people: People) -> None:
    first = service.propose_item(db, data=item_data(), reason="新增", actor=people.proposer)
    approve(db, people, first.id)
    with pytest.raises(Invalid):
        service.propose_exit(db, item_id=first.item_id, reason=" ", actor=people.proposer)
    leaving = service.propose_exit(db, item_id=first.item_id, reason="法律修改，检查事项取消", actor=people.proposer)
    service.decide(db, version_id=leaving.id, action="submit", actor=people.proposer)
    service.decide(db, version_id=leaving.id, action="pass_review", comment="同意", actor=people.reviewer)
    assert set(workflow.allowed_actions(leaving, people.approver)) == {"reject", "return", "approve_exit"}
    with pytest.raises(Forbidden):  # "approve" would keep the item in force: not offered for an exit
        service.decide(db, version_id=leaving.id, action="approve", comment="同意", actor=people.approver)
    service.decide(db, version_id=leaving.id, action="approve_exit", comment="同意退出", actor=people.approver)
    assert leaving.state == wf.RETIRED and leaving.item.status == "retired"
    assert first.state == wf.SUPERSEDED
    with pytest.raises(Conflict):
        service.revise_item(db, item_id=first.item_id, reason="改", changes=ItemChanges(name="新名称"),
                            actor=people.proposer)


def test_a_repealed_law_cannot_be_the_basis_after_its_repeal(db: Session, people: People) -> None:
    air = [{"law": "air-pollution-law", "article": "第一百一十八条"}]
    with pytest.raises(Invalid) as refused:
        service.propose_item(db, data=item_data(legal_basis=air, check_points=[]), reason="油烟",
                             actor=people.proposer)
    assert "2026-08-15" in refused.value.localized("zh_CN") and "生态环境法典" in refused.value.localized("zh_CN")
    before = service.propose_item(db, data=item_data(legal_basis=air, check_points=[],
                                                     effective_from=dt.date(2026, 5, 1)),
                                  reason="废止前的事项", actor=people.proposer)
    assert before.legal_bases[0].law_title == "中华人民共和国大气污染防治法"
    with pytest.raises(Invalid) as missing:
        service.propose_item(db, data=item_data("33000001902000",
                                                legal_basis=[{"law": "food-safety-law", "article": "第九百条"}]),
                             reason="x", actor=people.proposer)
    assert missing.value.field == "legal_basis[0]"


def test_the_article_text_is_quoted_from_the_law_library(db: Session, people: People) -> None:
    version = service.propose_item(db, data=item_data(), reason="新增", actor=people.proposer)
    basis = version.legal_bases[0]
    assert (basis.law_title, basis.article_no) == ("中华人民共和国食品安全法", "第一百一十条")
    assert basis.article_text.startswith("县级以上人民政府食品安全监督管理部门履行食品安全监督管理职责")
    assert version.check_points[0].article_text.startswith("国家对食品生产经营实行许可制度")


def test_the_negative_list_stops_a_forbidden_check_from_review(db: Session, people: People) -> None:
    db.add(NegativeListEntry(code="NL-T1", matter="检查企业内部薪酬分配", reason="不属于法定监管职责",
                             keywords=["薪酬分配"], item_codes=["330000019"]))
    db.flush()
    text = [{"code": "33000002801000-01", "text": "是否公开员工薪酬分配方案"}]
    version = service.propose_item(db, data=item_data("33000002801000", check_points=text), reason="x",
                                   actor=people.proposer)
    with pytest.raises(Invalid) as refused:
        service.decide(db, version_id=version.id, action="submit", actor=people.proposer)
    assert "NL-T1" in refused.value.localized("zh_CN")
    by_code = service.negative_matches(db, item_codes=["33000001901000"])
    assert [m.entry.code for m in by_code] == ["NL-T1"]
    assert service.negative_matches(db, item_codes=["33000002901000"]) == []


def test_a_sub_item_continues_its_main_item_code(db: Session, people: People) -> None:
    service.propose_item(db, data=item_data(), reason="主项", actor=people.proposer)
    with pytest.raises(Invalid) as wrong:
        service.propose_item(db, data=item_data("33000001902001", parent="33000001901000"), reason="子项",
                             actor=people.proposer)
    assert wrong.value.field == "code"
    child = service.propose_item(db, data=item_data("33000001901001", parent="33000001901000"), reason="子项",
                                 actor=people.proposer)
    assert child.item.parent is not None and child.item.parent.code == "33000001901000"


def test_a_late_legal_review_is_escalated_to_the_reviewers_not_the_proposer(db: Session, people: People) -> None:
    from sqlalchemy import select

    from jianguan.notify.models import Notification

    version = service.propose_item(db, data=item_data(), reason="新增", actor=people.proposer)
    service.decide(db, version_id=version.id, action="submit", actor=people.proposer)
    assert version.due_date is not None
    late = workflow.scan_overdue(db, today=version.due_date + dt.timedelta(days=1))
    assert [(e.record_id, e.level) for e in late if e.workflow == wf.ITEM_VERSION.name] == [(version.id, 1)]
    told = set(db.scalars(select(Notification.user_id).where(Notification.kind == "workflow.escalation")))
    assert people.reviewer.id in told and people.proposer.id not in told and people.approver.id not in told
