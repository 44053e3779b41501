"""A penalty case from filing to the archive on 2026 dates: investigation by two officers, preservation,
the proposal against the benchmark, review by someone who did not handle the case, the prior notice and
the 5 working days to answer, no heavier penalty after the statement, the hearing (its time not counted),
collective discussion of a major case, service, late surcharge, execution, closing; the simple procedure."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.auth import service as auth
from jianguan.auth.models import User
from jianguan.cases import execution, service, steps
from jianguan.cases.models import Case
from jianguan.cases.schemas import LeadIn, ProposalIn, SimpleIn
from jianguan.core.errors import Conflict, IllegalTransition, Invalid
from jianguan.documents.models import Document
from tests.inspections.conftest import PASSWORD, World


class Clock:
    def __init__(self, day: dt.date) -> None:
        self.day = day


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock(dt.date(2026, 8, 3))
    monkeypatch.setattr(steps, "today_shanghai", lambda: c.day)
    return c


@pytest.fixture
def reviewer(db: Session, world: World) -> User:
    return auth.create_user(db, username="fazhi", display_name="法制审核员", password=PASSWORD,
                            roles=["legal_reviewer"], agency_id=world.xihu.id, actor=None)


def fields(error: Invalid) -> set[str]:
    return {error.field, *(o.field for o in error.others)}


def act(db: Session, case: Case, action: str, actor: User, comment: str = "", **payload: Any) -> Case:
    return service.decide(db, case_id=case.id, action=action, comment=comment, payload=payload, actor=actor)


def filed_case(db: Session, world: World, clock: Clock, code: str = "SP-124") -> Case:
    clock.day = dt.date(2026, 8, 3)
    case = service.register_lead(db, data=LeadIn(
        title="经营超过保质期的食品", source_type="complaint", party_uscc=world.entities[0].uscc, violation_code=code,
        discovered_on=dt.date(2026, 7, 30), act_ended_on=dt.date(2026, 7, 29)), actor=world.author)
    clock.day = dt.date(2026, 8, 4)
    return act(db, case, "file", world.leader, "证据初步确实，同意立案")


def investigated(db: Session, world: World, case: Case) -> None:
    service.assign_officers(db, case_id=case.id, officer_ids=[world.officers[0].id, world.officers[1].id],
                            actor=world.author)
    service.add_record(db, case_id=case.id, kind="inquiry", actor=world.author, content={
        "started_at": "2026年8月5日 09:00", "ended_at": "2026年8月5日 09:40", "place": "当事人经营场所",
        "respondent": {"name": "王五", "role": "店长"},
        "qa": [{"q": "货架上的过期酸奶是谁进的货？", "a": "是我7月1日进的货。"}, {"q": "", "a": ""}]})


def kinds_issued(db: Session, case: Case) -> list[str]:
    return list(db.scalars(select(Document.kind).where(Document.subject_type == "case",
                                                       Document.subject_id == case.id).order_by(Document.id)))


def test_general_procedure_from_filing_to_archive(db: Session, world: World, clock: Clock, reviewer: User) -> None:
    case = filed_case(db, world, clock)
    assert case.state == "filed" and case.due_date == dt.date(2026, 11, 2)  # 4 Aug + 90 days
    with pytest.raises(Invalid) as early:
        act(db, case, "report", world.author, "短")
    assert fields(early.value) == {"officers", "evidence", "outcome", "comment"}

    with pytest.raises(Invalid) as one:
        service.assign_officers(db, case_id=case.id, officer_ids=[world.officers[0].id], actor=world.author)
    assert one.value.field == "officer_ids"
    clock.day = dt.date(2026, 8, 5)
    investigated(db, world, case)
    assert [o.credential_number for o in case.officers] == ["XH20260000", "XH20260001"]
    assert case.evidence[0].kind == "inquiry" and case.evidence[0].content["qa"] == [
        {"q": "货架上的过期酸奶是谁进的货？", "a": "是我7月1日进的货。"}]  # the blank pair dropped
    kept = service.preserve(db, case_id=case.id, items="过期酸奶 24 盒", actor=world.author)
    assert kept.due_on == dt.date(2026, 8, 14)  # 7 working days

    # Testing from 10 to 20 August (11 days) is not counted: the decision falls due 11 days later.
    clock.day = dt.date(2026, 8, 10)
    testing = service.suspend(db, case_id=case.id, reason="testing", note="送检", actor=world.author)
    clock.day = dt.date(2026, 8, 20)
    service.resume(db, suspension_id=testing.id, actor=world.author)
    assert case.due_date == dt.date(2026, 11, 13)

    # 货值 8,000 < 10,000 → ¥50,000–100,000; a first violation → 从轻 ¥50,000–65,000.
    facts = {"goods_value": "8000", "first_violation": True}
    with pytest.raises(Invalid) as unexplained:
        service.propose(db, case_id=case.id, data=ProposalIn(facts=facts, kinds=["3", "4", "5"],
                                                             fine=Decimal(80000)), actor=world.author)
    assert unexplained.value.field == "reason"
    with pytest.raises(Invalid) as illegal:
        service.propose(db, case_id=case.id, data=ProposalIn(facts=facts, kinds=["3"], fine=Decimal(120000),
                                                             reason="情节恶劣"), actor=world.author)
    assert illegal.value.field == "amount"
    service.propose(db, case_id=case.id, data=ProposalIn(facts=facts, kinds=["3", "5"], fine=Decimal(80000),
                                                         reason="涉及学校周边，社会影响较大"), actor=world.author)
    assert case.deviation and case.suggestion["tier"] == "lighter" and case.suggestion["range"] == [
        "50000.00", "65000.00"]

    clock.day = dt.date(2026, 8, 21)
    with pytest.raises(Invalid) as undecided:
        act(db, case, "report", world.author, "当事人经营超过保质期的酸奶24盒，货值8000元。")
    assert undecided.value.field == "preservations"
    service.decide_preservation(db, preservation_id=kept.id, handling="予以没收", actor=world.author)
    act(db, case, "report", world.author, "当事人经营超过保质期的酸奶24盒，货值8000元。")
    assert case.state == "reviewing" and case.due_date == dt.date(2026, 9, 4) and not case.major

    world.officers[1].user_id = reviewer.id  # a handler of the case may not review it
    db.flush()
    with pytest.raises(Invalid) as handler:
        act(db, case, "approve", reviewer, "同意")
    assert handler.value.field == "reviewer"
    world.officers[1].user_id = None
    db.flush()
    with pytest.raises(Invalid) as silent:
        act(db, case, "approve", reviewer)
    assert silent.value.field == "comment"  # the deviation is cleared only with a reason
    with pytest.raises(IllegalTransition):
        act(db, case, "notify", world.author)
    act(db, case, "approve", reviewer, "偏离理由成立，同意")
    assert case.state == "reviewed" and case.deviation_cleared_by == reviewer.id
    assert case.due_date == dt.date(2026, 11, 13)

    clock.day = dt.date(2026, 8, 24)
    act(db, case, "notify", world.author)
    assert case.noticed_fine == Decimal(80000) and not case.hearing_right  # below ¥100,000 for a company
    clock.day = dt.date(2026, 8, 31)  # the 5th working day after the notice: the party may still answer
    act(db, case, "record_statement", world.author, "当事人称系初次违法，已全部下架，请求从轻。")
    with pytest.raises(Invalid) as waiting:
        act(db, case, "decide", world.leader)
    assert waiting.value.field == "notice_served_on"
    clock.day = dt.date(2026, 9, 1)
    with pytest.raises(Invalid) as heavier:
        act(db, case, "decide", world.leader, fine="90000", kinds=["3", "5", "8"])
    assert fields(heavier.value) == {"fine", "kinds"}
    act(db, case, "decide", world.leader, "采纳当事人部分申辩意见", fine="70000")
    assert case.state == "decided" and case.decision_fine == Decimal("70000.00")
    assert case.decision_number == "西湖市监处罚〔2026〕1号" and case.due_date == dt.date(2026, 9, 10)

    clock.day = dt.date(2026, 9, 4)
    with pytest.raises(Invalid):
        act(db, case, "serve", world.author, served_on="2026-08-31")  # before the decision
    act(db, case, "serve", world.author, served_on="2026-09-03", method="direct")
    assert case.payment_due_on == dt.date(2026, 9, 18) and case.due_date == dt.date(2026, 9, 18)

    # Paid a week late: 19–25 September, 7 days × 3 % × ¥70,000 = ¥14,700 on top.
    clock.day = dt.date(2026, 9, 25)
    assert steps.outstanding(case, clock.day) == Decimal("84700.00")
    execution.record_payment(db, case_id=case.id, amount=Decimal(70000), receipt="FS2026-0001", actor=world.author)
    with pytest.raises(Invalid) as owed:
        act(db, case, "execute", world.author)
    assert owed.value.field == "payments" and "14,700.00" in owed.value.params["amount"]
    with pytest.raises(Invalid):
        execution.record_payment(db, case_id=case.id, amount=Decimal(20000), actor=world.author)  # more than owed
    paid = execution.record_payment(db, case_id=case.id, amount=Decimal(14700), actor=world.author)
    assert paid.surcharge == Decimal(14700) and paid.amount == 0
    act(db, case, "execute", world.author)
    assert case.state == "executed" and case.executed_on == dt.date(2026, 9, 25)
    assert case.due_date == dt.date(2026, 10, 22)  # 15 working days across 中秋 and 国庆
    act(db, case, "close", world.leader)
    act(db, case, "archive", world.author)
    assert case.state == "archived"
    assert kinds_issued(db, case) == ["case_source_form", "filing_form", "inquiry_record", "investigation_report",
                                      "review_form", "prior_notice", "penalty_decision", "service_receipt",
                                      "closing_form"]
    shown = {d.label: d for d in service.deadlines_of(db, case)}
    assert shown["Decision (90 days, suspensions excluded)"].met_on == dt.date(2026, 9, 1)
    assert shown["Payment (15 days from service)"].due == dt.date(2026, 9, 18)


def test_a_major_case_with_a_hearing(db: Session, world: World, clock: Clock, reviewer: User) -> None:
    case = filed_case(db, world, clock)
    investigated(db, world, case)
    # Repeated within a year → 从重 with 吊销许可证: a hearing right, and a major case (法制审核 + 集体讨论).
    service.propose(db, case_id=case.id, data=ProposalIn(facts={"goods_value": "8000", "repeat_within_years": 1},
                                                         kinds=["3", "5", "8"], fine=Decimal(90000)),
                    actor=world.author)
    assert not case.deviation and case.suggestion["tier"] == "heavier"
    act(db, case, "report", world.author, "一年内再次经营超过保质期食品。", grounds=["complex"])
    assert case.major and case.major_grounds == ["kind:8", "complex"]
    act(db, case, "approve", reviewer, "同意")
    clock.day = dt.date(2026, 8, 10)
    act(db, case, "notify", world.author)
    assert case.hearing_right
    clock.day = dt.date(2026, 8, 17)  # 5th working day after the notice
    with pytest.raises(Invalid) as soon:
        act(db, case, "request_hearing", world.author, hearing_on="2026-08-20")
    assert soon.value.field == "hearing_on" and soon.value.params["latest"] == "2026-08-11"
    clock.day = dt.date(2026, 8, 18)
    with pytest.raises(Invalid) as late:
        act(db, case, "request_hearing", world.author, hearing_on="2026-09-01")
    assert late.value.field == "requested_on" and late.value.params["day"] == "2026-08-17"
    act(db, case, "request_hearing", world.author, requested_on="2026-08-17", hearing_on="2026-08-28")
    assert case.state == "hearing" and case.due_date == dt.date(2026, 8, 28)
    clock.day = dt.date(2026, 8, 28)
    act(db, case, "hold_hearing", world.author, "听证会当事人承认违法事实，请求不予吊销许可证。")
    assert case.state == "reviewing" and case.suspensions[0].ended_on == dt.date(2026, 8, 28)
    act(db, case, "approve", reviewer, "听证后审核同意")
    # 4 Aug + 90 days + 17–28 August (12 days) of hearing = Saturday 14 Nov → Monday 16 Nov.
    assert case.due_date == dt.date(2026, 11, 16)
    with pytest.raises(Invalid) as undiscussed:
        act(db, case, "decide", world.leader, kinds=["3", "5"])
    assert undiscussed.value.field == "discussed_on"
    act(db, case, "discuss", world.leader, "局长办公会集体讨论：采纳听证意见，不予吊销许可证，罚款九万元。")
    act(db, case, "decide", world.leader, kinds=["3", "5"])
    assert case.decision_kinds == ["3", "5"] and case.decision_fine == Decimal(90000)
    assert "hearing_notice" in kinds_issued(db, case)


def test_no_penalty_and_transfer_skip_the_notice(db: Session, world: World, clock: Clock, reviewer: User) -> None:
    case = filed_case(db, world, clock, code="SP-126-54")
    investigated(db, world, case)
    service.propose(db, case_id=case.id, data=ProposalIn(
        facts={"first_violation": True, "harm": "slight", "corrected_in_time": True}, outcome="no_penalty"),
        actor=world.author)
    assert case.suggestion["tier"] == "no_penalty" and not case.deviation
    act(db, case, "report", world.author, "首次违法，危害轻微，已当场改正。")
    act(db, case, "approve", reviewer, "同意不予处罚")
    with pytest.raises(Invalid):
        act(db, case, "notify", world.author)  # nothing to notice
    act(db, case, "decide", world.leader)
    assert case.outcome == "no_penalty" and kinds_issued(db, case)[-1] == "no_penalty_decision"
    act(db, case, "serve", world.author, served_on="2026-08-04")
    assert case.state == "served" and case.payment_due_on is None
    act(db, case, "execute", world.author)
    act(db, case, "close", world.leader)
    assert case.state == "closed"

    other = filed_case(db, world, clock)
    investigated(db, world, other)
    service.propose(db, case_id=other.id, data=ProposalIn(facts={"goods_value": "500000"}, outcome="transfer"),
                    actor=world.author)
    act(db, other, "report", world.author, "货值金额巨大，涉嫌生产、销售不符合安全标准的食品罪。")
    act(db, other, "approve", reviewer, "同意移送")
    act(db, other, "decide", world.leader)
    act(db, other, "close", world.leader)
    assert other.state == "closed" and "penalty_decision" not in kinds_issued(db, other)


def test_review_pending_stops_the_surcharge_and_outcomes_are_counted(db: Session, world: World, clock: Clock,
                                                                     reviewer: User) -> None:
    case = filed_case(db, world, clock)
    investigated(db, world, case)
    service.propose(db, case_id=case.id, data=ProposalIn(facts={"goods_value": "8000"}, kinds=["3"],
                                                         fine=Decimal(70000)), actor=world.author)
    act(db, case, "report", world.author, "经营超过保质期的食品，货值8000元。")
    act(db, case, "approve", reviewer, "同意")
    act(db, case, "notify", world.author)
    act(db, case, "waive", world.author, "当事人书面放弃陈述申辩")
    act(db, case, "decide", world.leader)  # the written waiver: no need to wait the 5 days
    act(db, case, "serve", world.author, served_on="2026-08-04")
    assert case.payment_due_on == dt.date(2026, 8, 19)
    clock.day = dt.date(2026, 8, 18)
    review = execution.add_challenge(db, case_id=case.id, kind="review", filed_on=dt.date(2026, 8, 18),
                                   body="杭州市西湖区人民政府", actor=world.author)
    clock.day = dt.date(2026, 9, 30)
    assert steps.surcharge_on(case, clock.day) == 0  # pending since before the due day
    with pytest.raises(Conflict):
        act(db, case, "apply_enforcement", world.author)
    with pytest.raises(Invalid) as why:
        execution.conclude_challenge(db, challenge_id=review.id, outcome="revoked", actor=world.author)
    assert why.value.field == "reason"
    execution.conclude_challenge(db, challenge_id=review.id, outcome="upheld", decided_on=dt.date(2026, 9, 20),
                               actor=world.author)
    assert steps.surcharge_on(case, clock.day) == Decimal(70000) * Decimal("0.03") * 10  # 21–30 Sept
    figures = execution.challenge_figures(db, actor=world.leader)
    assert figures["decided"] == 1 and figures["by_outcome"] == {"upheld": 1} and figures["met"]
    with pytest.raises(Invalid) as too_soon:
        act(db, case, "apply_enforcement", world.author)
    assert too_soon.value.params["day"] == "2027-02-05"  # 6 months from service (4 Feb 2027 is a working day)

    typical = execution.mark_typical(db, case_id=case.id, actor=world.leader)
    assert typical.typical and case.party_name not in typical.typical_summary
    assert "某" in typical.typical_summary and execution.typical_cases(db, q="保质期") == [case]
    with pytest.raises(Invalid):
        execution.mark_typical(db, case_id=case.id, summary=f"当事人{case.party_name}经营过期食品", actor=world.leader)


def test_the_simple_procedure_stays_within_its_limits(db: Session, world: World, clock: Clock) -> None:
    clock.day = dt.date(2026, 8, 5)
    officers = [world.officers[0].id, world.officers[1].id]
    base = {"title": "未按规定公示食品经营许可证", "party_uscc": world.entities[3].uscc,
            "facts": "经营场所未公示食品经营许可证", "place": "西湖餐馆003 前厅", "officer_ids": officers}
    with pytest.raises(Invalid) as too_much:
        service.simple_penalty(db, data=SimpleIn(**base, kinds=["3"], fine=Decimal(3001)), actor=world.author)
    assert too_much.value.field == "fine"
    with pytest.raises(Invalid) as collect:
        service.simple_penalty(db, data=SimpleIn(**base, kinds=["3"], fine=Decimal(200), collect_on_spot=True,
                                                 receipt="ZJ0001"), actor=world.author)
    assert collect.value.field == "collect_on_spot"
    with pytest.raises(Invalid) as heavy:
        service.simple_penalty(db, data=SimpleIn(**base, kinds=["8"]), actor=world.author)
    assert heavy.value.field == "kinds"
    warned = service.simple_penalty(db, data=SimpleIn(**base, kinds=["1"]), actor=world.author)
    assert warned.state == "executed" and warned.procedure == "simple"
    assert warned.due_date == dt.date(2026, 8, 14)  # handed in for archiving within 7 working days
    fined = service.simple_penalty(db, data=SimpleIn(**base, kinds=["3"], fine=Decimal(100), collect_on_spot=True,
                                                     receipt="ZJ0002"), actor=world.author)
    assert fined.state == "executed" and fined.payments[0].amount == Decimal(100)
    assert kinds_issued(db, fined) == ["simple_decision"]
    person = service.simple_penalty(db, data=SimpleIn(**{**base, "party_uscc": "", "party_name": "张三",
                                                         "party_kind": "person"}, kinds=["3"], fine=Decimal(200)),
                                    actor=world.author)
    assert person.state == "served" and person.payment_due_on == dt.date(2026, 8, 20)


def test_decisions_in_the_national_reporting_layout(db: Session, world: World, clock: Clock, reviewer: User) -> None:
    import json

    from jianguan.cases import reporting

    case = filed_case(db, world, clock)
    investigated(db, world, case)
    service.propose(db, case_id=case.id, data=ProposalIn(facts={"goods_value": "8000"}, kinds=["3", "5"],
                                                         fine=Decimal(70000)), actor=world.author)
    act(db, case, "report", world.author, "经营超过保质期的酸奶24盒，货值8000元。")
    act(db, case, "approve", reviewer, "同意")
    act(db, case, "notify", world.author)
    act(db, case, "waive", world.author, "当事人书面放弃")
    act(db, case, "decide", world.leader)
    rows = [json.loads(line) for line in reporting.export(db, actor=world.leader, since=dt.date(2026, 8, 1),
                                                          until=dt.date(2026, 8, 31)).decode().splitlines()]
    assert len(rows) == 1
    row = rows[0]
    assert row["decision_number"] == case.decision_number and row["uscc"] == world.entities[0].uscc
    assert row["violated"] == "《中华人民共和国食品安全法》第三十四条"
    assert row["basis"] == "《中华人民共和国食品安全法》第一百二十四条"
    assert row["penalty_kinds"] == "3;5" and row["fine"] == "70000.00" and row["legal_review"]
    assert not row["hearing"] and not row["collective_discussion"] and not row["executed"]
    assert row["officers"] == "执法员0（XH20260000）；执法员1（XH20260001）"
    august = {"since": dt.date(2026, 8, 1), "until": dt.date(2026, 8, 31)}
    assert reporting.records(db, actor=world.outsider, **august).height == 0  # another district sees none
    xlsx = reporting.export(db, actor=world.leader, fmt="xlsx", **august)
    assert xlsx[:2] == b"PK"
