"""Credit feedback: each event's points on hand-made cases, the class mapping at its boundaries, the
decision into the credit history, the two derived lists (just inside / just outside each condition),
their exports, scoping, and the pages, API and CLI."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from jianguan.audit.models import AuditEntry
from jianguan.cases.models import Case
from jianguan.core.errors import Conflict, Forbidden, IllegalTransition, Invalid, NotFound
from jianguan.core.models import WorkflowEvent
from jianguan.db import session_scope
from jianguan.entities.models import CreditHistory, Entity, EntityTag
from jianguan.inspections.models import Finding, Inspection
from jianguan.risk import credit, credit_lists, credit_rules
from jianguan.risk.credit_cli import credit_app
from jianguan.risk.credit_models import CreditProposal
from jianguan.risk.models import FeedRecord
from tests.auth.conftest import token_for
from tests.inspections.conftest import World, make_world
from tests.officers.test_pages import sign_in
from tests.risk.conftest import AS_OF, at, finding, inspection

DAY = dt.timedelta(days=1)
FIRST = dt.date(2025, 12, 8)  # the first day of the 12 months up to AS_OF (2026-12-07)
THREE_YEARS = dt.date(2023, 12, 8)  # the first day of the 3 years up to AS_OF
RULES = credit_rules.in_force(AS_OF)
_n = itertools.count(1)


# --------------------------------------------------------------------------- helpers


def visit(
    db: Session,
    entity: Entity,
    on: dt.date,
    *,
    signed: bool = True,
    refusal: str = "",
    result: str = "no_problem",
    state: str = "closed",
) -> Inspection:
    row = inspection(db, entity, on=on, result=result, state=state)
    row.visit_started_at, row.visit_ended_at = at(on), at(on)
    row.signature_sha256 = "ab" * 32 if signed else None
    row.refusal_reason = refusal
    db.flush()
    return row


def reject(db: Session, row: Finding, on: dt.date) -> None:
    db.add(
        WorkflowEvent(
            workflow="finding",
            record_type="findings",
            record_id=row.id,
            action="reject",
            from_state="evidence_submitted",
            to_state="rectifying",
            at=at(on),
        )
    )
    db.flush()


def penalty(db: Session, entity: Entity, on: dt.date, *, severe: bool = False, outcome: str = "penalty") -> Case:
    n = next(_n)
    row = Case(
        code=f"CR-{n}",
        agency_id=entity.agency_id,
        region_code=entity.region_code,
        entity_id=entity.id,
        party_name=entity.name,
        title="销售过期食品",
        source_type="inspection",
        discovered_on=on - 30 * DAY,
        lead_on=on - 30 * DAY,
        outcome=outcome,
        decided_on=on,
        severe=severe,
        workflow="case",
        state="closed",
        decision_number=f"西市监处罚〔2026〕{n}号",
    )
    db.add(row)
    db.flush()
    return row


def enterprise(
    db: Session,
    world: World,
    *,
    credit_class: str | None = "A",
    kind: str = "enterprise",
    tax: str | None = "A",
    tax_on: dt.date = dt.date(2026, 4, 1),
) -> Entity:
    n = next(_n)
    row = Entity(
        uscc=f"91330106CRED{n:06d}",
        name=f"西湖合规企业{n:03d}",
        kind=kind,
        status="active",
        region_code="330106",
        agency_id=world.xihu.id,
        industry_code="6210",
        credit_class=credit_class,
    )
    db.add(row)
    db.flush()
    if tax is not None:
        db.add(FeedRecord(entity_id=row.id, kind="tax_credit", category=tax, occurred_on=tax_on, source="税务"))
        db.flush()
    return row


def counted(db: Session, entity: Entity, as_of: dt.date = AS_OF) -> dict[str, Any]:
    frame = credit.counts(db, as_of=as_of, rules=RULES, where=[Entity.id == entity.id])
    return frame.row(0, named=True)


def mapped(current: str | None, **events: int) -> tuple[int, str | None]:
    """(points, proposed class) for hand-given counts: the mapping alone, no database."""
    row = {"entity_id": 1, "current": current, **dict.fromkeys(credit_rules.EVENTS, 0), **events}
    schema = {"entity_id": pl.Int64, "current": pl.Utf8, **dict.fromkeys(credit_rules.EVENTS, pl.Int64)}
    out = credit.propose(pl.DataFrame([row], schema=schema, orient="row"), RULES).row(0, named=True)
    return out["points"], out["proposed"]


# --------------------------------------------------------------------------- the rules, event by event


def test_the_shipped_rules_load_with_their_legal_basis() -> None:
    assert RULES.version == "CF-1" and RULES.window_months == 12
    assert "《优化营商环境条例》第五十三条" in RULES.basis_text()
    assert {e: RULES.events[e].points for e in credit_rules.EVENTS} == {
        "cooperation": 2,
        "rectified_in_time": 1,
        "finding_general": -2,
        "finding_serious": -5,
        "refusal": -5,
        "rectification_rejected": -2,
        "rectification_late": -2,
        "penalty": -5,
        "penalty_severe": -10,
    }


def test_a_faulty_rules_file_names_the_line_and_the_field(tmp_path: Path) -> None:
    text = (Path(credit_rules.__file__).parent / "data" / "credit_rules.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "credit_rules.yaml"
    bad.write_text(text.replace("      worse: 1", "      worse: 1\n      to: D"), encoding="utf-8")
    with pytest.raises(Invalid) as caught:
        credit_rules.load(bad)
    assert caught.value.field == "proposals.2.to" and "line 11 (CF-1)" in str(caught.value)
    bad.write_text(text.replace("    cooperation:\n", "    cooperatoin:\n"), encoding="utf-8")
    with pytest.raises(Invalid) as caught:
        credit_rules.load(bad)
    assert caught.value.field == "events"
    bad.write_text(text.replace("window_months: 12", "window_months: many"), encoding="utf-8")
    with pytest.raises(Invalid) as caught:
        credit_rules.load(bad)
    assert caught.value.field == "window_months"


def test_a_signed_inspection_without_problems_is_cooperation(db: Session, world: World) -> None:
    shop = world.entities[0]
    visit(db, shop, FIRST)  # the first day of the window counts
    visit(db, shop, AS_OF)
    visit(db, shop, FIRST - DAY)  # a day before the window
    visit(db, shop, AS_OF + DAY)  # after the day evaluated
    visit(db, shop, AS_OF - 9 * DAY, signed=False)  # not signed
    visit(db, shop, AS_OF - 8 * DAY, state="feedback")  # not closed yet
    visit(db, shop, AS_OF - 7 * DAY, result="problems")
    got = counted(db, shop)
    assert got["cooperation"] == 2 and got["refusal"] == 0


def test_a_refusal_to_sign_deducts_and_is_no_cooperation(db: Session, world: World) -> None:
    shop = world.entities[1]
    visit(db, shop, AS_OF - 30 * DAY, signed=False, refusal="负责人拒绝签字")
    visit(db, shop, AS_OF - 20 * DAY, refusal="阻碍检查人员进入冷库", result="problems")
    got = counted(db, shop)
    assert (got["refusal"], got["cooperation"]) == (2, 0)


def test_findings_count_by_severity_within_the_window(db: Session, world: World) -> None:
    shop = world.entities[2]
    finding(db, shop, on=FIRST, state="open", rectify_by=AS_OF + 30 * DAY)
    finding(db, shop, on=AS_OF - 5 * DAY, severity="serious", state="open", rectify_by=AS_OF + 10 * DAY)
    finding(db, shop, on=FIRST - DAY, state="transferred")  # outside (and transferred: never late)
    got = counted(db, shop)
    assert (got["finding_general"], got["finding_serious"], got["rectification_late"]) == (1, 1, 0)


def test_rectification_in_time_late_and_rejected(db: Session, world: World) -> None:
    shop = world.entities[3]
    due = dt.date(2026, 6, 16)
    in_time = finding(db, shop, on=dt.date(2026, 6, 1), rectify_by=due, state_since=at(due))  # accepted on its day
    late = finding(db, shop, on=dt.date(2026, 6, 1), rectify_by=due, state_since=at(due + DAY))  # accepted a day late
    finding(db, shop, on=dt.date(2026, 10, 1), rectify_by=AS_OF - DAY, state="rectifying")  # still open after its day
    finding(db, shop, on=dt.date(2026, 11, 1), rectify_by=AS_OF, state="rectifying")  # its day is today: not late yet
    finding(db, shop, on=dt.date(2026, 10, 1), rectify_by=AS_OF - DAY, state="transferred")  # a case instead
    reject(db, late, dt.date(2026, 6, 12))
    reject(db, late, dt.date(2026, 6, 15))
    reject(db, in_time, FIRST - DAY)  # before the window
    got = counted(db, shop)
    assert got["rectified_in_time"] == 1
    assert got["rectification_late"] == 2
    assert got["rectification_rejected"] == 2
    assert got["finding_general"] == 5


def test_replayed_on_an_earlier_day_a_later_acceptance_is_not_known_yet(db: Session, world: World) -> None:
    shop = world.entities[4]
    finding(db, shop, on=AS_OF - 20 * DAY, rectify_by=AS_OF - 10 * DAY, state_since=at(AS_OF - 12 * DAY))
    finding(db, shop, on=AS_OF - 20 * DAY, rectify_by=AS_OF - 10 * DAY, state_since=at(AS_OF - 5 * DAY))
    before = counted(db, shop, AS_OF - 13 * DAY)  # neither accepted nor due yet
    assert (before["rectified_in_time"], before["rectification_late"]) == (0, 0)
    between = counted(db, shop, AS_OF - 7 * DAY)  # the first accepted in time; the second overdue, not accepted
    assert (between["rectified_in_time"], between["rectification_late"]) == (1, 1)
    after = counted(db, shop, AS_OF)  # the second accepted, but late
    assert (after["rectified_in_time"], after["rectification_late"]) == (1, 1)


def test_penalty_decisions_and_severe_ones(db: Session, world: World) -> None:
    shop = world.entities[5]
    penalty(db, shop, FIRST)
    penalty(db, shop, AS_OF - DAY, severe=True)
    penalty(db, shop, FIRST - DAY)  # outside
    penalty(db, shop, AS_OF - DAY, outcome="no_penalty")
    got = counted(db, shop)
    assert (got["penalty"], got["penalty_severe"]) == (1, 1)


def test_points_add_up_each_event_times_its_points() -> None:
    counts = {
        "cooperation": 3,
        "rectified_in_time": 2,
        "finding_general": 1,
        "finding_serious": 1,
        "refusal": 1,
        "rectification_rejected": 2,
        "rectification_late": 1,
        "penalty": 1,
        "penalty_severe": 0,
    }
    points, _ = mapped("B", **counts)
    assert points == 6 + 2 - 2 - 5 - 5 - 4 - 2 - 5


# --------------------------------------------------------------------------- the class mapping


@pytest.mark.parametrize(
    ("current", "events", "expected"),
    [
        ("B", {"cooperation": 3}, (6, "A")),  # +6, no violation → one class better
        ("B", {"cooperation": 2, "rectified_in_time": 1}, (5, None)),  # +5: not enough
        ("B", {"cooperation": 4, "finding_general": 1}, (6, None)),  # +6 but a violation
        ("B", {"cooperation": 5, "refusal": 1}, (5, None)),
        ("A", {"cooperation": 5}, (10, "A")),  # already the best class: no change
        ("B", {"finding_general": 4, "rectification_late": 0, "refusal": 0, "rectification_rejected": 0}, (-8, None)),
        ("B", {"finding_serious": 2}, (-10, "C")),  # −10 → one class worse
        ("B", {"finding_serious": 1, "finding_general": 2}, (-9, None)),
        ("B", {"finding_serious": 3, "finding_general": 2}, (-19, "C")),
        ("B", {"finding_serious": 4}, (-20, "D")),  # −20 → D at once
        ("A", {"penalty_severe": 1}, (-10, "D")),  # a severe penalty → D whatever the points
        ("A", {"penalty_severe": 1, "cooperation": 10}, (10, "D")),
        ("D", {"finding_serious": 2}, (-10, "D")),  # the worst class cannot fall further
        (None, {"finding_serious": 2}, (-10, None)),  # one class worse needs a class
        (None, {"finding_serious": 4}, (-20, "D")),
    ],
)
def test_the_class_mapping_at_its_boundaries(
    current: str | None, events: dict[str, int], expected: tuple[int, str | None]
) -> None:
    assert mapped(current, **events) == expected


# --------------------------------------------------------------------------- evaluation and decision


def bad_record(db: Session, shop: Entity) -> None:
    for day in (AS_OF - 60 * DAY, AS_OF - 30 * DAY):
        finding(db, shop, on=day, severity="serious", state="open", rectify_by=AS_OF + 30 * DAY)


def test_evaluation_writes_one_open_proposal_per_entity_and_a_rerun_replaces_it(db: Session, world: World) -> None:
    shop, good = world.entities[4], world.entities[5]  # both class B
    bad_record(db, shop)
    for day in (AS_OF - 90 * DAY, AS_OF - 60 * DAY, AS_OF - 30 * DAY):
        visit(db, good, day)
    summary = credit.evaluate(db, as_of=AS_OF, actor=world.leader)
    assert summary["evaluated"] == 12 and summary["new"] == 2 and summary["changes"] == {"B→A": 1, "B→C": 1}
    rows, total = credit.proposals(db, actor=world.leader)
    assert total == 2 and rows[0]["entity_id"] == shop.id and rows[0]["proposed_class"] == "C"
    assert rows[0]["events"] == [{"event": "finding_serious", "label": "检查发现严重问题", "count": 2, "points": -10}]
    assert "近12个月扣分达到10分：降低一级" in rows[0]["reason_text"] and rows[0]["may_decide"]
    again = credit.evaluate(db, as_of=AS_OF, actor=world.leader)
    assert (again["new"], again["replaced"], again["unchanged"]) == (0, 0, 2)
    first_version = rows[0]["version"]
    finding(db, shop, on=AS_OF - 10 * DAY, severity="serious", state="open", rectify_by=AS_OF + 30 * DAY)
    visit(db, good, AS_OF - 5 * DAY, result="problems")
    finding(db, good, on=AS_OF - 5 * DAY, state="open", rectify_by=AS_OF + 30 * DAY)
    third = credit.evaluate(db, as_of=AS_OF, actor=world.leader)
    assert (third["new"], third["replaced"], third["withdrawn"]) == (0, 1, 1)
    open_rows = db.scalars(select(CreditProposal).where(CreditProposal.state == "proposed")).all()
    assert [(p.entity_id, p.points, p.proposed_class) for p in open_rows] == [(shop.id, -15, "C")]
    assert open_rows[0].version == first_version + 1


def test_accepting_writes_the_credit_history_with_the_reasons(db: Session, world: World) -> None:
    shop = world.entities[4]
    bad_record(db, shop)
    credit.evaluate(db, as_of=AS_OF, actor=world.leader)
    (row,), _ = credit.proposals(db, actor=world.leader)
    done = credit.decide(
        db, proposal_id=row["id"], accept=True, note="经复核属实", version=row["version"], actor=world.leader
    )
    assert done.state == "accepted" and done.decided_by == world.leader.id and shop.credit_class == "C"
    history = db.scalars(select(CreditHistory).where(CreditHistory.entity_id == shop.id)).one()
    assert history.value == "C" and history.source == "credit_feedback"
    assert "检查发现严重问题2次 -10分" in history.reason and "CF-1" in history.reason and "经复核属实" in history.reason
    audit = db.scalars(select(AuditEntry).where(AuditEntry.action == "credit.accept")).one()
    assert audit.object_id == str(row["id"])
    with pytest.raises(IllegalTransition):
        credit.decide(db, proposal_id=row["id"], accept=False, note="再议", version=done.version, actor=world.leader)


def test_rejecting_needs_a_reason_and_leaves_the_class(db: Session, world: World) -> None:
    shop = world.entities[4]
    bad_record(db, shop)
    credit.evaluate(db, as_of=AS_OF, actor=world.leader)
    (row,), _ = credit.proposals(db, actor=world.leader)
    with pytest.raises(Invalid) as caught:
        credit.decide(db, proposal_id=row["id"], accept=False, note="  ", version=row["version"], actor=world.leader)
    assert caught.value.field == "note"
    done = credit.decide(
        db, proposal_id=row["id"], accept=False, note="问题已当场整改", version=row["version"], actor=world.leader
    )
    assert done.state == "rejected" and done.decision_note == "问题已当场整改" and shop.credit_class == "B"
    assert db.scalars(select(CreditHistory).where(CreditHistory.entity_id == shop.id)).first() is None


def test_a_stale_form_or_a_changed_class_is_a_conflict(db: Session, world: World) -> None:
    shop = world.entities[4]
    bad_record(db, shop)
    credit.evaluate(db, as_of=AS_OF, actor=world.leader)
    (row,), _ = credit.proposals(db, actor=world.leader)
    with pytest.raises(Conflict):
        credit.decide(db, proposal_id=row["id"], accept=True, version=row["version"] - 1, actor=world.leader)
    shop.credit_class = "A"
    db.flush()
    with pytest.raises(Conflict):
        credit.decide(db, proposal_id=row["id"], accept=True, version=row["version"], actor=world.leader)


def test_only_a_leader_of_the_entitys_agency_decides(db: Session, world: World) -> None:
    shop = world.entities[4]
    bad_record(db, shop)
    with pytest.raises(Forbidden):
        credit.evaluate(db, as_of=AS_OF, actor=world.author)
    credit.evaluate(db, as_of=AS_OF, actor=world.leader)
    (row,), _ = credit.proposals(db, actor=world.leader)
    for who in (world.author, world.city_leader):  # an officer; a leader of the city bureau (sees, not decides)
        with pytest.raises(Forbidden):
            credit.decide(db, proposal_id=row["id"], accept=True, version=row["version"], actor=who)
    with pytest.raises(NotFound):
        credit.decide(db, proposal_id=row["id"], accept=True, version=row["version"], actor=world.outsider)
    assert credit.proposals(db, actor=world.outsider) == ([], 0)
    assert credit.proposals(db, actor=world.city_leader)[0][0]["may_decide"] is False


# --------------------------------------------------------------------------- the two lists


def test_the_compliant_list_just_inside_and_just_outside_each_condition(db: Session, world: World) -> None:
    listed = {"plain": enterprise(db, world), "class B": enterprise(db, world, credit_class="B", tax="B")}
    left_out = {
        "class C": enterprise(db, world, credit_class="C"),
        "tax M": enterprise(db, world, tax="M"),
        "no tax credit": enterprise(db, world, tax=None),
        "individual": enterprise(db, world, kind="individual_business"),
    }
    old = listed["old finding"] = enterprise(db, world)
    finding(db, old, on=THREE_YEARS - DAY, state="accepted")
    recent = left_out["recent finding"] = enterprise(db, world)
    finding(db, recent, on=THREE_YEARS, state="accepted")
    penalised = left_out["recent penalty"] = enterprise(db, world)
    penalty(db, penalised, THREE_YEARS)
    long_ago = listed["old penalty"] = enterprise(db, world)
    penalty(db, long_ago, THREE_YEARS - DAY)
    better = listed["tax now B"] = enterprise(db, world, tax="D", tax_on=dt.date(2025, 4, 1))
    db.add(FeedRecord(entity_id=better.id, kind="tax_credit", category="B", occurred_on=dt.date(2026, 4, 1)))
    worse = left_out["tax now D"] = enterprise(db, world)
    db.add(FeedRecord(entity_id=worse.id, kind="tax_credit", category="D", occurred_on=dt.date(2026, 5, 1)))
    future = listed["a later rating is not known yet"] = enterprise(db, world)
    db.add(FeedRecord(entity_id=future.id, kind="tax_credit", category="D", occurred_on=AS_OF + DAY))
    abnormal = left_out["abnormal list"] = enterprise(db, world)
    db.add(EntityTag(entity_id=abnormal.id, tag="abnormal_list", since=AS_OF - 100 * DAY, source="test"))
    cleared = listed["abnormal list ended"] = enterprise(db, world)
    db.add(EntityTag(entity_id=cleared.id, tag="abnormal_list", since=AS_OF - 100 * DAY, until=AS_OF, source="test"))
    db.flush()
    frame = credit.compliant(db, as_of=AS_OF, actor=world.leader)
    got = set(frame["entity_id"].to_list())
    assert {k for k, e in listed.items() if e.id not in got} == set()
    assert {k for k, e in left_out.items() if e.id in got} == set()
    assert not got & {e.id for e in world.entities}  # the world's shops have no tax credit imported
    row = frame.filter(pl.col("entity_id") == better.id).row(0, named=True)
    assert (row["tax_credit"], row["tax_credit_on"]) == ("B", dt.date(2026, 4, 1))
    assert credit.compliant(db, as_of=AS_OF, actor=world.outsider).height == 0


def test_the_joint_punishment_list_names_every_reason(db: Session, world: World) -> None:
    d_class = enterprise(db, world, credit_class="D")
    tagged = enterprise(db, world, credit_class="C")
    db.add(EntityTag(entity_id=tagged.id, tag="serious_violation", since=dt.date(2026, 5, 1), source="test"))
    ended = enterprise(db, world, credit_class="C")
    db.add(
        EntityTag(entity_id=ended.id, tag="serious_violation", since=dt.date(2025, 5, 1), until=AS_OF, source="test")
    )
    severe = enterprise(db, world, credit_class="B")
    case = penalty(db, severe, THREE_YEARS, severe=True)
    too_old = enterprise(db, world, credit_class="B")
    penalty(db, too_old, THREE_YEARS - DAY, severe=True)
    ordinary = enterprise(db, world, credit_class="C")
    penalty(db, ordinary, AS_OF - DAY)
    both = enterprise(db, world, credit_class="D")
    db.add(EntityTag(entity_id=both.id, tag="serious_violation", since=None, source="test"))
    db.flush()
    frame = credit.joint_punishment(db, as_of=AS_OF, actor=world.leader)
    reasons = dict(zip(frame["entity_id"].to_list(), frame["reasons"].to_list(), strict=True))
    assert set(reasons) == {d_class.id, tagged.id, severe.id, both.id}
    assert reasons[d_class.id] == "信用等级为D级（严重失信）"
    assert reasons[tagged.id] == "列入严重违法失信名单（2026-05-01起）"
    assert reasons[severe.id] == f"近3年受到严重行政处罚：{case.decision_number}（2023-12-08）"
    assert reasons[both.id] == "信用等级为D级（严重失信）；列入严重违法失信名单"
    assert credit.joint_punishment(db, as_of=AS_OF, actor=world.outsider).height == 0


def test_exports_carry_chinese_headers_and_are_audited(db: Session, world: World) -> None:
    enterprise(db, world)
    enterprise(db, world, credit_class="D")
    body = credit.export(db, which="compliant", as_of=AS_OF, actor=world.leader, fmt="csv").decode()
    assert body.startswith(
        "\ufeff统一社会信用代码,企业名称,行政区划代码,行业代码,信用等级,纳税信用级别,纳税信用评价日期\n"
    )
    assert ",A,A,2026-04-01" in body
    sheet = credit.export(db, which="punishment", as_of=AS_OF, actor=world.leader, fmt="xlsx")
    read = pl.read_excel(io.BytesIO(sheet), sheet_name="联合惩戒名单")
    assert read.columns == list(credit_lists.PUNISHMENT_HEADERS.values())
    assert read.row(0, named=True)["登记状态"] == "存续" and read.height == 1
    exports = db.scalars(select(AuditEntry).where(AuditEntry.action == "data.export")).all()
    assert [e.object_type for e in exports] == ["credit.compliant", "credit.punishment"]
    with pytest.raises(Invalid):
        credit.export(db, which="compliant", as_of=AS_OF, actor=world.leader, fmt="pdf")


# --------------------------------------------------------------------------- pages, API, CLI


@pytest.fixture
def client(fresh_db_url: str) -> Iterator[TestClient]:
    from jianguan.app import create_app

    today = dt.date.today()
    with session_scope() as db:
        world = make_world(db, n_entities=6)
        shop = world.entities[4]  # class B
        for day in (today - 60 * DAY, today - 30 * DAY):
            finding(db, shop, on=day, severity="serious", state="open", rectify_by=today + 30 * DAY)
        db.add(FeedRecord(entity_id=world.entities[0].id, kind="tax_credit", category="A", occurred_on=today - DAY))
        db.add(EntityTag(entity_id=world.entities[5].id, tag="serious_violation", since=today - DAY, source="test"))
    with TestClient(create_app()) as c:
        yield c


def test_the_pages_show_decide_and_export(client: TestClient) -> None:
    csrf = sign_in(client, "leader")
    assert client.post("/risk/credit/evaluate", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    page = client.get("/risk/credit")
    assert page.status_code == 200 and "西湖餐馆004" in page.text and "检查发现严重问题" in page.text
    with session_scope() as db:
        proposal = db.scalars(select(CreditProposal)).one()
        pid, version = proposal.id, proposal.version
    stale = client.post(
        f"/risk/credit/{pid}/decide",
        data={"csrf_token": csrf, "decision": "accept", "version": str(version + 1)},
        follow_redirects=False,
    )
    assert stale.status_code == 303
    done = client.post(
        f"/risk/credit/{pid}/decide",
        data={"csrf_token": csrf, "decision": "accept", "version": str(version)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    with session_scope() as db:
        assert db.get(CreditProposal, pid).state == "accepted"  # type: ignore[union-attr]
    assert "西湖餐馆004" in client.get("/risk/credit?state=accepted").text
    compliant = client.get("/risk/credit/compliant")
    assert compliant.status_code == 200 and "西湖餐馆000" in compliant.text and "export?format=xlsx" in compliant.text
    punished = client.get("/risk/credit/punishment")
    assert "西湖餐馆005" in punished.text and "列入严重违法失信名单" in punished.text
    csv = client.get("/risk/credit/punishment/export?format=csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "列入原因" in csv.content.decode("utf-8-sig")
    assert client.get("/risk/credit/compliant/export?format=xlsx").content[:2] == b"PK"


def test_other_districts_see_no_proposals_and_no_list_rows(client: TestClient) -> None:
    with session_scope() as db:
        assert credit.evaluate(db, actor=None)["new"] == 1
    sign_in(client, "outsider")
    assert "西湖餐馆004" not in client.get("/risk/credit").text
    assert "西湖餐馆000" not in client.get("/risk/credit/compliant").text
    assert "西湖餐馆005" not in client.get("/risk/credit/punishment").text
    assert "西湖餐馆" not in client.get("/risk/credit/punishment/export?format=csv").content.decode("utf-8-sig")


def test_the_api_evaluates_decides_and_refuses_a_stale_version(client: TestClient) -> None:
    headers = token_for("leader")
    summary = client.post("/api/v1/risk/credit/evaluate", headers=headers, json={}).json()
    assert summary["new"] == 1
    items = client.get("/api/v1/risk/credit/proposals", headers=headers).json()["items"]
    pid, version = items[0]["id"], items[0]["version"]
    stale = client.post(
        f"/api/v1/risk/credit/proposals/{pid}/decide",
        headers=headers,
        json={"decision": "reject", "version": version + 1, "note": "x"},
    )
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "conflict"
    empty = client.post(
        f"/api/v1/risk/credit/proposals/{pid}/decide",
        headers=headers,
        json={"decision": "reject", "version": version, "note": ""},
    )
    assert empty.status_code == 422 and empty.json()["error"]["details"][0]["field"] == "note"
    done = client.post(
        f"/api/v1/risk/credit/proposals/{pid}/decide",
        headers=headers,
        json={"decision": "reject", "version": version, "note": "已整改"},
    )
    assert done.status_code == 200 and done.json()["state"] == "rejected"
    listed = client.get("/api/v1/risk/credit/punishment", headers=headers).json()
    assert [r["name"] for r in listed] == ["西湖餐馆005"]
    assert client.get("/api/v1/risk/credit/punishment", headers=token_for("outsider")).json() == []


def test_the_cli_prints_json_and_writes_the_lists(client: TestClient, tmp_path: Path) -> None:
    runner = CliRunner()
    evaluated = runner.invoke(credit_app, ["evaluate", "--json"])
    assert evaluated.exit_code == 0, evaluated.output
    assert json.loads(evaluated.output)["changes"] == {"B→C": 1}
    listed = runner.invoke(credit_app, ["proposals", "--json"])
    assert [r["proposed_class"] for r in json.loads(listed.output)] == ["C"]
    compliant = runner.invoke(credit_app, ["compliant", "--json"])
    assert [r["name"] for r in json.loads(compliant.output)] == ["西湖餐馆000"]
    out = tmp_path / "punishment.xlsx"
    written = runner.invoke(credit_app, ["punishment", "--out", str(out)])
    assert written.exit_code == 0 and out.read_bytes()[:2] == b"PK"
    refused = runner.invoke(credit_app, ["compliant", "--out", str(tmp_path / "list.pdf")])
    assert refused.exit_code == 2
    assert runner.invoke(credit_app, ["evaluate", "--as-of", "07/12/2026"]).exit_code == 2
