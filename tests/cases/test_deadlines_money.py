"""The statutory periods of a case with 2026 dates (中秋 25 Sep, 国庆 1–7 Oct with Sat 10 Oct worked,
春节 15–23 Feb), suspensions and extensions, the limitation check, the surcharge and the simple
procedure's limits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jianguan.cases import deadlines as dl
from jianguan.cases import money
from jianguan.core.errors import Invalid
from jianguan.core.workdays import WorkCalendar

CAL = WorkCalendar()
D = dt.date


def test_filing_is_due_15_working_days_after_the_lead_and_15_more_with_approval() -> None:
    # A lead on 中秋 (Fri 25 Sep): Sep 28–30, Oct 8, 9, 10 (a Saturday worked), 12–16, 19–22 → 22 Oct.
    assert dl.filing_due(CAL, D(2026, 9, 25)).date == D(2026, 10, 22)
    assert dl.filing_due(CAL, D(2026, 9, 25), extended=True).date == D(2026, 11, 12)


def test_short_periods_in_working_days() -> None:
    assert dl.preservation_decision_due(CAL, D(2026, 9, 28)).date == D(2026, 10, 13)  # across 国庆
    assert dl.legal_review_due(CAL, D(2026, 9, 30)).date == D(2026, 10, 20)
    assert dl.hearing_request_due(CAL, D(2026, 2, 10)).date == D(2026, 2, 24)  # across 春节
    assert dl.service_due(CAL, D(2026, 9, 30)).date == D(2026, 10, 15)  # Oct 8, 9, 10 (Sat, worked), 12–15
    # A hearing on Mon 12 Oct: served by Thu 24 Sep (Oct 10, 9, 8, Sep 30, 29, 28, then 24: 25–27 are 中秋).
    assert dl.hearing_notice_latest(CAL, D(2026, 10, 12)).date == D(2026, 9, 24)


def test_the_decision_period_with_extension_and_suspensions() -> None:
    filed = D(2026, 7, 5)
    assert dl.decision_due(CAL, filed).date == D(2026, 10, 8)  # 3 Oct is 国庆: the next working day
    assert dl.decision_due(CAL, filed, extended=True).date == D(2026, 11, 2)
    hearing, testing = (D(2026, 8, 3), D(2026, 8, 7)), (D(2026, 8, 6), D(2026, 8, 12))  # overlap: 10 days in all
    assert dl.suspended_days([hearing, testing], until=D(2026, 12, 31)) == 10
    assert dl.decision_due(CAL, filed, suspensions=[hearing, testing]).date == D(2026, 10, 13)
    # A suspension still running counts up to today.
    running = dl.decision_due(CAL, filed, suspensions=[(D(2026, 9, 1), None)], today=D(2026, 9, 5))
    assert running.date == D(2026, 10, 8)  # 90 + 5 days = 8 Oct, a working day
    with pytest.raises(Invalid):
        dl.suspended_days([(D(2026, 8, 5), D(2026, 8, 1))], until=D(2026, 12, 31))


def test_the_limitation_check_explains_a_refusal() -> None:
    dl.check_limitation(act_ended_on=D(2024, 3, 1), discovered_on=D(2026, 3, 1), severe=False)  # two years: in time
    with pytest.raises(Invalid) as late:
        dl.check_limitation(act_ended_on=D(2024, 3, 1), discovered_on=D(2026, 3, 2), severe=False)
    assert late.value.field == "discovered_on" and "2026-03-02" in late.value.localized("zh_CN")
    dl.check_limitation(act_ended_on=D(2024, 3, 1), discovered_on=D(2029, 3, 1), severe=True)
    with pytest.raises(Invalid):
        dl.check_limitation(act_ended_on=D(2024, 2, 29), discovered_on=D(2029, 3, 1), severe=True)
    with pytest.raises(Invalid):
        dl.check_limitation(act_ended_on=D(2026, 3, 1), discovered_on=D(2026, 2, 1), severe=False)


def test_the_fine_is_due_15_days_after_service_and_the_surcharge_is_3_percent_a_day() -> None:
    due = dl.payment_due(CAL, D(2026, 9, 16)).date
    assert due == D(2026, 10, 8)  # 1 Oct is 国庆
    fine = Decimal("2000.00")
    assert money.late_surcharge(fine, due=due, on=due) == Decimal("0.00")
    assert money.late_surcharge(fine, due=due, on=D(2026, 10, 18)) == Decimal("600.00")  # 10 days
    assert money.late_surcharge(fine, due=due, on=D(2027, 1, 1)) == fine  # never more than the fine
    review = (D(2026, 10, 10), D(2026, 10, 14))  # 5 days pending review: not counted
    assert money.late_surcharge(fine, due=due, on=D(2026, 10, 18), suspensions=[review]) == Decimal("300.00")
    assert money.late_surcharge(Decimal("333.33"), due=due, on=D(2026, 10, 9)) == Decimal("10.00")


@given(fine=st.decimals(min_value=0, max_value=10**8, places=2, allow_nan=False, allow_infinity=False),
       late=st.integers(0, 5000), start=st.integers(0, 200), length=st.integers(0, 400))
def test_a_surcharge_never_exceeds_the_fine(fine: Decimal, late: int, start: int, length: int) -> None:
    due = D(2026, 3, 1)
    pause = (due + dt.timedelta(days=start), due + dt.timedelta(days=start + length))
    got = money.late_surcharge(fine, due=due, on=due + dt.timedelta(days=late), suspensions=[pause])
    assert Decimal(0) <= got <= fine and got == got.quantize(Decimal("0.01"))


@pytest.mark.parametrize(("party", "fine", "spot", "ok"), [
    ("person", Decimal(200), False, True), ("person", Decimal("200.01"), False, False),
    ("organisation", Decimal(3000), False, True), ("organisation", Decimal(3001), False, False),
    ("person", Decimal(100), True, True), ("person", Decimal(150), True, False),
])
def test_the_simple_procedure_only_within_its_limits(party: str, fine: Decimal, spot: bool, ok: bool) -> None:
    if ok:
        money.check_simple_procedure(party=party, fine=fine, collect_on_spot=spot)
    else:
        with pytest.raises(Invalid):
            money.check_simple_procedure(party=party, fine=fine, collect_on_spot=spot)


def test_a_warning_alone_may_be_decided_on_the_spot() -> None:
    money.check_simple_procedure(party="organisation", fine=Decimal(0), warning=True)
    with pytest.raises(Invalid):
        money.check_simple_procedure(party="organisation", fine=Decimal(0))
