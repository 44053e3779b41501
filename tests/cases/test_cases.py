"""Penalty cases, first steps: a lead registered (by an officer, or by transferring an inspection
finding), filed or declined by a leader within 15 working days (once extended by 15), refused at
filing when the limitation period has run."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from jianguan.cases import service, steps
from jianguan.cases.schemas import LeadIn
from jianguan.core.errors import Forbidden, IllegalTransition, Invalid
from jianguan.inspections import visits
from tests.inspections.conftest import World

TODAY = dt.date(2026, 9, 25)  # 中秋: a holiday


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(steps, "today_shanghai", lambda: TODAY)


def lead(db: Session, world: World, **extra: object) -> object:
    data = {"title": "销售超过保质期的食品", "source_type": "complaint", "party_uscc": world.entities[0].uscc,
            "discovered_on": dt.date(2026, 9, 20), "act_ended_on": dt.date(2026, 9, 18), "violation_code": "SP-124"}
    data.update(extra)
    return service.register_lead(db, data=LeadIn.model_validate(data), actor=world.author)


def test_a_lead_is_due_for_a_filing_decision_in_15_working_days(db: Session, world: World) -> None:
    case = lead(db, world)
    assert case.state == "lead" and case.code == "330106-SJ-AY2026-000001"
    assert case.party_name == world.entities[0].name and case.entity_id == world.entities[0].id
    assert case.due_date == dt.date(2026, 10, 22)  # 15 working days across 中秋 and 国庆
    with pytest.raises(Invalid) as bad:
        lead(db, world, source_type="rumour", party_uscc="", party_name="", discovered_on=dt.date(2026, 10, 1),
             violation_code="XX")
    fields = {bad.value.field, *(o.field for o in bad.value.others)}
    assert fields == {"source_type", "party_name", "discovered_on", "violation_code"}
    with pytest.raises(Forbidden):  # another district's officer registers no lead here
        service.register_lead(db, data=LeadIn(title="x案", source_type="other", party_name="某人",
                                              discovered_on=TODAY), actor=world.outsider,
                              agency_id=world.xihu.id)


def test_a_leader_files_it_and_the_decision_falls_due_in_90_days(db: Session, world: World) -> None:
    case = lead(db, world)
    with pytest.raises(Forbidden):
        service.decide(db, case_id=case.id, action="file", actor=world.author)
    service.decide(db, case_id=case.id, action="file", actor=world.leader)
    assert case.state == "filed" and case.filed_on == TODAY
    assert case.due_date == dt.date(2026, 12, 24)  # 25 Sep + 90 days, a Thursday


def test_filing_is_refused_when_the_limitation_period_has_run(db: Session, world: World) -> None:
    old = lead(db, world, act_ended_on=dt.date(2024, 9, 1), discovered_on=dt.date(2026, 9, 2))
    with pytest.raises(Invalid) as late:
        service.decide(db, case_id=old.id, action="file", actor=world.leader)
    assert late.value.field == "discovered_on" and "2024-09-01" in late.value.localized("zh_CN")
    assert old.state == "lead"
    severe = lead(db, world, act_ended_on=dt.date(2024, 9, 1), discovered_on=dt.date(2026, 9, 2), severe=True)
    service.decide(db, case_id=severe.id, action="file", actor=world.leader)  # 5 years where harm followed
    assert severe.state == "filed"


def test_the_filing_period_is_extended_once_and_a_decline_needs_a_reason(db: Session, world: World) -> None:
    case = lead(db, world)
    with pytest.raises(Invalid):
        service.decide(db, case_id=case.id, action="extend", actor=world.leader)
    service.decide(db, case_id=case.id, action="extend", comment="需调取外省进货凭证", actor=world.leader)
    assert case.filing_extended and case.due_date == dt.date(2026, 11, 12)
    with pytest.raises(Invalid) as twice:
        service.decide(db, case_id=case.id, action="extend", comment="再延", actor=world.leader)
    assert twice.value.field == "filing_extended"
    with pytest.raises(Invalid):
        service.decide(db, case_id=case.id, action="decline", actor=world.leader)
    service.decide(db, case_id=case.id, action="decline", comment="违法事实不能成立", actor=world.leader)
    assert case.state == "not_filed" and case.not_filed_reason == "违法事实不能成立" and case.due_date is None
    with pytest.raises(IllegalTransition):
        service.decide(db, case_id=case.id, action="file", actor=world.leader)


def test_a_finding_transferred_to_a_case_becomes_its_lead(db: Session, world: World,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.inspections.test_visits import TODAY as VISIT_DAY
    from tests.inspections.test_visits import begun, on_site

    monkeypatch.setattr(visits, "today_shanghai", lambda: VISIT_DAY)
    monkeypatch.setattr(steps, "today_shanghai", lambda: VISIT_DAY)
    record = begun(db, world)[0]
    a, _ = on_site(db, world, record)
    for answer in record.answers:
        first = answer is record.answers[0]
        visits.save_answer(db, inspection_id=record.id, point_code=answer.point_code, answer="no" if first else "yes",
                           value="" if first else "5", actor=a)
    visits.refuse_signature(db, inspection_id=record.id, reason="拒签", actor=a)
    visits.decide(db, inspection_id=record.id, action="finish_visit", actor=a)
    finding = record.findings[0]
    visits.decide_finding(db, finding_id=finding.id, action="transfer_to_case", comment="涉嫌无证经营，移送立案",
                          actor=a)
    assert finding.state == "transferred" and finding.case_ref.startswith("330106-SJ-AY2026-")
    case = service.list_cases(db, actor=world.leader)[0][0]
    assert (case.code, case.source_type, case.source_ref) == (finding.case_ref, "inspection_finding",
                                                              f"finding:{finding.id}")
    assert case.entity_id == record.entity_id and "移送立案" in case.facts
