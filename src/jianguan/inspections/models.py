"""Inspection plans, the sampling rules they draw by, the expert pool, draws with their results, and
the six-step loop's records: inspections, their teams, answers, evidence and findings.

A draw is evidence: its seed, algorithm, parameters, the SHA-256 of the candidate pool snapshot (the
snapshot itself is kept in the evidence store) and of the result are written once and never edited;
a draw found wrong is voided with a reason and a new one taken, both visible.

An inspection is created for each drawn entity when its plan begins (or directly, for a complaint-
triggered visit), with the draw's team. Answers are keyed by (inspection, point code), so a save
retried after a lost connection overwrites and never duplicates.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jianguan.core.crypto import EncryptedString
from jianguan.core.workflow import WorkflowMixin
from jianguan.db import Base, IdMixin, Record, UTCDateTime, utcnow


class SamplingRuleSet(Record, Base):
    """Sampling ratios per stratum, forced inclusions and exclusions — versioned data (rules.yaml).

    ``rules`` holds: risk_ratio {red, yellow, blue, none: percent}, credit_factor {A…D, none},
    force_include_tags, exempt_credit_classes + exempt_plan_kinds, exclude_statuses, recent_days,
    recuse_previous, officers_per_domain, workload_cap, expert_min_pool.
    """

    __tablename__ = "sampling_rule_sets"
    __table_args__ = (UniqueConstraint("code", "number"),)

    code: Mapped[str] = mapped_column(String(40))
    number: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    basis: Mapped[str] = mapped_column(Text, default="")  # where the numbers come from
    effective_from: Mapped[dt.date] = mapped_column(Date)
    effective_to: Mapped[dt.date | None] = mapped_column(Date)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class InspectionPlan(WorkflowMixin, Record, Base):
    """检查计划: items, object scope (filters on the registry), how many, when, who; approved on the
    workflow engine and filed (备案) with the agency above."""

    __tablename__ = "inspection_plans"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(32))  # plan_kind
    methods: Mapped[list[str]] = mapped_column(JSON, default=list)  # inspection_method
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)  # owner (scope)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    agency_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # agencies whose officers take part
    item_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    scope: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # region/industry/kinds/scales/tags…
    target_entity_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # named entities (定向, 投诉)
    ratio: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))  # percent of the eligible pool
    count: Mapped[int | None]
    weighted: Mapped[bool] = mapped_column(default=True)  # by risk and credit (the rule set's ratios)
    weight_source: Mapped[str] = mapped_column(String(16), default="risk_score")  # or "model" (risk/learning.py)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    officers_per_domain: Mapped[int] = mapped_column(default=2)
    workload_cap: Mapped[int | None]
    expert_count: Mapped[int] = mapped_column(default=0)
    restricted: Mapped[bool] = mapped_column(default=False)  # 四不两直: hidden until visits begin
    rule_set_id: Mapped[int] = mapped_column(ForeignKey("sampling_rule_sets.id"))
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    filed_with_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))  # 备案
    filed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    agency: Mapped[Any] = relationship("Agency", foreign_keys=[agency_id])
    filed_with: Mapped[Any] = relationship("Agency", foreign_keys=[filed_with_agency_id])
    rule_set: Mapped[SamplingRuleSet] = relationship()

    def __repr__(self) -> str:
        return f"<InspectionPlan {self.code} {self.state}>"


class Expert(Record, Base):
    """A third-party expert (专家库) who may be drawn with the officers for technical items."""

    __tablename__ = "experts"

    name: Mapped[str] = mapped_column(String(100))
    organisation: Mapped[str] = mapped_column(String(200), default="")
    title: Mapped[str] = mapped_column(String(100), default="")  # 职称
    domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    specialities: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str | None] = mapped_column(EncryptedString())  # restricted
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)  # whose pool
    region_code: Mapped[str] = mapped_column(String(6), index=True, default="")
    is_active: Mapped[bool] = mapped_column(default=True)


class Draw(IdMixin, Base):
    """One double-random draw of a plan (双随机抽取). Append-only but for voiding."""

    __tablename__ = "draws"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    plan_id: Mapped[int] = mapped_column(ForeignKey("inspection_plans.id"), index=True)
    number: Mapped[int]
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)  # scope, from the plan
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    seed: Mapped[str] = mapped_column(String(200))
    seed_source: Mapped[str] = mapped_column(String(16))  # public (read out at a drawing) / generated
    algorithm: Mapped[str] = mapped_column(String(20))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    inspection_date: Mapped[dt.date] = mapped_column(Date)  # credentials and leave checked on this day
    rule_set_id: Mapped[int] = mapped_column(ForeignKey("sampling_rule_sets.id"))
    pool_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of the canonical snapshot text
    pool_file: Mapped[str] = mapped_column(String(64))  # evidence-store key of the gzipped snapshot
    pool_size: Mapped[int]
    result_hash: Mapped[str] = mapped_column(String(64))
    selected_count: Mapped[int]
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # strata, exclusions, people
    drawn_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    drawn_by_name: Mapped[str] = mapped_column(String(64), default="")
    drawn_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    voided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    voided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    void_reason: Mapped[str] = mapped_column(Text, default="")

    plan: Mapped[InspectionPlan] = relationship()


class DrawEntity(IdMixin, Base):
    """An entity the draw selected, why (``random`` or the forced-inclusion reason) and its key.

    Draw rows are write-once evidence, written in bulk with their draw from the pool snapshot (whose
    hash guards them): the ids of entities, officers and experts carry no foreign keys, which would
    cost a check per row (300,000 of them for a province draw); entities and officers are never
    deleted, only closed or deactivated."""

    __tablename__ = "draw_entities"
    __table_args__ = (Index("ix_draw_entities_draw_position", "draw_id", "position"),)

    draw_id: Mapped[int] = mapped_column(ForeignKey("draws.id", ondelete="CASCADE"))
    position: Mapped[int]
    entity_id: Mapped[int] = mapped_column(index=True)
    stratum: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(16))


class DrawAssignment(IdMixin, Base):
    """An officer or expert the draw assigned to a drawn entity for one domain."""

    __tablename__ = "draw_assignments"
    __table_args__ = (Index("ix_draw_assignments_draw_entity", "draw_id", "entity_id"),)

    draw_id: Mapped[int] = mapped_column(ForeignKey("draws.id", ondelete="CASCADE"))
    entity_id: Mapped[int] = mapped_column(index=True)  # the previous team (回避)
    role: Mapped[str] = mapped_column(String(10))  # officer / expert
    officer_id: Mapped[int | None]  # workloads are summed over all open draws at once: no index needed
    expert_id: Mapped[int | None]  # few experts: no index worth its upkeep
    domain: Mapped[str] = mapped_column(String(32))


# --------------------------------------------------------------------------- the inspection loop


class Inspection(WorkflowMixin, Record, Base):
    """检查任务: one visit (or remote check) of one entity under a plan."""

    __tablename__ = "inspections"
    __table_args__ = (Index("ix_inspections_plan_entity", "plan_id", "entity_id"),)

    code: Mapped[str] = mapped_column(String(48), unique=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_plans.id"))
    joint_task_id: Mapped[int | None] = mapped_column(ForeignKey("joint_tasks.id"), index=True)  # 联合检查
    draw_id: Mapped[int | None] = mapped_column(ForeignKey("draws.id"))
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)  # scope: the inspecting agency
    region_code: Mapped[str] = mapped_column(String(6), index=True)  # the entity's county
    kind: Mapped[str] = mapped_column(String(32))  # plan_kind
    method: Mapped[str] = mapped_column(String(32), default="on_site")  # inspection_method
    item_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    checklist_id: Mapped[int | None] = mapped_column(ForeignKey("checklists.id"))
    scheduled_on: Mapped[dt.date | None] = mapped_column(Date)
    notice_required: Mapped[bool] = mapped_column(default=True)
    notice_skip_reason: Mapped[str] = mapped_column(Text, default="")
    notice_sent_on: Mapped[dt.date | None] = mapped_column(Date)
    visit_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    visit_ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(10, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(10, 6))
    signed_by: Mapped[str] = mapped_column(String(100), default="")  # the entity's representative
    signature_sha256: Mapped[str | None] = mapped_column(String(64))
    refusal_reason: Mapped[str] = mapped_column(Text, default="")  # when the representative would not sign
    result: Mapped[str | None] = mapped_column(String(16))  # no_problem / problems
    feedback_sent_on: Mapped[dt.date | None] = mapped_column(Date)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    officers: Mapped[list[InspectionOfficer]] = relationship(
        back_populates="inspection", order_by="InspectionOfficer.id", cascade="all, delete-orphan")
    answers: Mapped[list[Answer]] = relationship(
        back_populates="inspection", order_by="Answer.position", cascade="all, delete-orphan")
    findings: Mapped[list[Finding]] = relationship(
        back_populates="inspection", order_by="Finding.id", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Inspection {self.code} {self.state}>"


class InspectionOfficer(IdMixin, Base):
    """An officer (or expert) of the team; ``shown_at``: when they showed their credential on site."""

    __tablename__ = "inspection_officers"
    __table_args__ = (UniqueConstraint("inspection_id", "officer_id"),)

    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"))
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"), index=True)
    expert_id: Mapped[int | None] = mapped_column(ForeignKey("experts.id"))
    domain: Mapped[str] = mapped_column(String(32), default="")
    credential_number: Mapped[str] = mapped_column(String(32), default="")
    shown_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    inspection: Mapped[Inspection] = relationship(back_populates="officers")


class Answer(IdMixin, Base):
    """The answer to one check point: 符合 / 不符合 / 不适用 (with a reason), a number or text."""

    __tablename__ = "inspection_answers"
    __table_args__ = (UniqueConstraint("inspection_id", "point_code"),)

    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"))
    point_code: Mapped[str] = mapped_column(String(24))
    position: Mapped[int] = mapped_column(default=0)
    check_point_id: Mapped[int | None] = mapped_column(ForeignKey("check_points.id"))
    text: Mapped[str] = mapped_column(Text, default="")  # the point as asked (copied)
    mandatory: Mapped[bool] = mapped_column(default=False)
    answer: Mapped[str | None] = mapped_column(String(8))  # yes / no / na; None = not yet answered
    value: Mapped[str] = mapped_column(String(200), default="")  # a number, a choice or text
    note: Mapped[str] = mapped_column(Text, default="")  # what was seen; the reason for 不适用
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    inspection: Mapped[Inspection] = relationship(back_populates="answers")


class InspectionEvidence(IdMixin, Base):
    """A photo, video, document, interview record or signature attached to an inspection (by hash)."""

    __tablename__ = "inspection_evidence"

    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"), index=True)
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("findings.id"))
    point_code: Mapped[str] = mapped_column(String(24), default="")
    kind: Mapped[str] = mapped_column(String(16))  # photo / video / document / interview / signature / report
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255), default="")
    content_type: Mapped[str] = mapped_column(String(100), default="")
    taken_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(10, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(10, 6))
    note: Mapped[str] = mapped_column(Text, default="")
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Finding(WorkflowMixin, Record, Base):
    """问题: a check point not met, with its severity, legal basis and rectification deadline."""

    __tablename__ = "findings"

    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"), index=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    point_code: Mapped[str] = mapped_column(String(24), default="")
    text: Mapped[str] = mapped_column(Text)  # the problem as stated to the entity
    severity: Mapped[str] = mapped_column(String(16), default="general")  # check_severity
    basis: Mapped[str] = mapped_column(Text, default="")  # 《law》article, copied
    rectify_by: Mapped[dt.date] = mapped_column(Date)
    # The entity's rectification plan: {"responsible": …, "measures": …, "timetable": …}
    rectification: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    rejections: Mapped[int] = mapped_column(default=0)
    case_ref: Mapped[str] = mapped_column(String(60), default="")  # set when transferred to a penalty case

    inspection: Mapped[Inspection] = relationship(back_populates="findings")


# --------------------------------------------------------------------------- 督查: policy implementation


class SupervisionMatter(WorkflowMixin, Record, Base):
    """督查事项: a decision or key task whose implementation is supervised, kept on the agency's list
    (纳入 / 调整 / 退出). A matter handed down from the level above is linked by ``parent_id`` and shows the
    parent's wording — never retyped; ``title`` is then only the local addition. ``previous_id`` links a
    second 督查 (二次督查) to the round it follows up."""

    __tablename__ = "supervision_matters"

    code: Mapped[str] = mapped_column(String(48), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("supervision_matters.id"), index=True)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("supervision_matters.id"))
    round: Mapped[int] = mapped_column(default=1)
    level: Mapped[str] = mapped_column(String(16))  # central / provincial / city / county
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)  # the supervising office
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    source_ref: Mapped[str] = mapped_column(String(200), default="")  # e.g. 国发〔2026〕3号, 省政府常务会议纪要
    category: Mapped[str] = mapped_column(String(60), default="")
    unit_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # government units supervised (entities)
    due_on: Mapped[dt.date] = mapped_column(Date)  # by when the decision is to be implemented
    completed_on: Mapped[dt.date | None] = mapped_column(Date)
    exit_reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    parent: Mapped[SupervisionMatter | None] = relationship(remote_side="SupervisionMatter.id",
                                                            foreign_keys=[parent_id])
    problems: Mapped[list[MatterProblem]] = relationship(back_populates="matter", order_by="MatterProblem.id",
                                                         cascade="all, delete-orphan")


class MatterProblem(IdMixin, Base):
    """问题清单: a problem found in implementing the matter, at one government unit."""

    __tablename__ = "matter_problems"

    matter_id: Mapped[int] = mapped_column(ForeignKey("supervision_matters.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    found_on: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(60), default="")  # 实地督查 / 暗访 / 12345 / 数据比对 …
    origin_problem_id: Mapped[int | None] = mapped_column(ForeignKey("matter_problems.id"))  # from the round before
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    matter: Mapped[SupervisionMatter] = relationship(back_populates="problems")
    responsibilities: Mapped[list[MatterResponsibility]] = relationship(
        back_populates="problem", order_by="MatterResponsibility.id", cascade="all, delete-orphan")
    tasks: Mapped[list[MatterTask]] = relationship(back_populates="problem", order_by="MatterTask.id",
                                                   cascade="all, delete-orphan")


class MatterResponsibility(IdMixin, Base):
    """责任清单: who answers for a problem — the unit (牵头 or 配合) and the responsible person."""

    __tablename__ = "matter_responsibilities"

    problem_id: Mapped[int] = mapped_column(ForeignKey("matter_problems.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), index=True)
    role: Mapped[str] = mapped_column(String(16), default="lead")  # lead 牵头 / support 配合
    person: Mapped[str] = mapped_column(String(100))
    position: Mapped[str] = mapped_column(String(100), default="")

    problem: Mapped[MatterProblem] = relationship(back_populates="responsibilities")


class MatterTask(WorkflowMixin, Record, Base):
    """整改清单: one rectification task of a problem — owner, measures, deadline and evidence; 销号 when
    the supervising office accepts it."""

    __tablename__ = "matter_tasks"

    problem_id: Mapped[int] = mapped_column(ForeignKey("matter_problems.id", ondelete="CASCADE"), index=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("supervision_matters.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)  # the supervising office
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), index=True)  # the owner unit
    owner: Mapped[str] = mapped_column(String(100))  # the person in charge at the unit
    measures: Mapped[str] = mapped_column(Text)
    due_on: Mapped[dt.date] = mapped_column(Date)
    accepted_on: Mapped[dt.date | None] = mapped_column(Date)
    rejections: Mapped[int] = mapped_column(default=0)

    problem: Mapped[MatterProblem] = relationship(back_populates="tasks")


class MatterEvidence(IdMixin, Base):
    """Evidence that a task is done (or a 督查 finding), kept in the evidence store by SHA-256."""

    __tablename__ = "matter_evidence"

    task_id: Mapped[int] = mapped_column(ForeignKey("matter_tasks.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255), default="")
    content_type: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Accountability(IdMixin, Base):
    """问责: a measure taken against a responsible unit or person, linked to the matter and problem."""

    __tablename__ = "accountabilities"

    matter_id: Mapped[int] = mapped_column(ForeignKey("supervision_matters.id"), index=True)
    problem_id: Mapped[int | None] = mapped_column(ForeignKey("matter_problems.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), index=True)
    person: Mapped[str] = mapped_column(String(100), default="")
    position: Mapped[str] = mapped_column(String(100), default="")
    measure: Mapped[str] = mapped_column(String(32))  # accountability_measure value domain
    reason: Mapped[str] = mapped_column(Text)
    decided_on: Mapped[dt.date] = mapped_column(Date)
    decided_by: Mapped[str] = mapped_column(String(200), default="")  # the deciding organ
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MatterVisit(IdMixin, Base):
    """A 督查 visit or request to a base-level unit: what the burden index counts for government units."""

    __tablename__ = "matter_visits"

    matter_id: Mapped[int] = mapped_column(ForeignKey("supervision_matters.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    visited_on: Mapped[dt.date] = mapped_column(Date, index=True)
    on_site: Mapped[bool] = mapped_column(default=True)  # False: off-site (材料、视频、数据)
    hours: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=Decimal(0))
    documents_demanded: Mapped[int] = mapped_column(default=0)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
