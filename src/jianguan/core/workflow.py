"""The one workflow engine for every closed loop (DESIGN.md §4).

A loop is declared as data — states, transitions (action, from, to, roles, guard), deadlines with
their escalation ladder — and registered here. ``act`` moves a record: it refuses an illegal
action with the allowed ones listed (409), checks roles and the guard, sets the new state and its
deadline (working-day calendar), and writes a ``WorkflowEvent`` and an audit entry in the caller's
transaction. ``scan_overdue`` (run by the worker) raises the escalation level of overdue records.
See docs/workflow.md.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Date, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.exc import StaleDataError

from jianguan.core.errors import Conflict, Forbidden, IllegalTransition, Invalid, check_version
from jianguan.core.i18n import N_
from jianguan.db import utcnow

if TYPE_CHECKING:
    from jianguan.auth.models import User
    from jianguan.core.models import WorkflowEvent
    from jianguan.core.overdue import Escalated
    from jianguan.core.workdays import DueDate, WorkCalendar

log = logging.getLogger(__name__)

# Pseudo-roles for transitions taken without a signed-in user (``actor=None``): a member of the
# public whom the service has already identified (e.g. by a request token), or a scheduled job.
PUBLIC = "public"
SYSTEM = "system"


class WorkflowMixin:
    """Columns every record on a workflow carries: its loop, state and the current step's deadline."""

    workflow: Mapped[str] = mapped_column(String(60), default="", index=True)
    state: Mapped[str] = mapped_column(String(40), index=True)
    state_since: Mapped[dt.datetime | None]
    due_date: Mapped[dt.date | None] = mapped_column(Date, index=True)
    due_unconfirmed: Mapped[bool] = mapped_column(default=False)
    escalation_level: Mapped[int] = mapped_column(default=0)


# --------------------------------------------------------------------------- declaration


@dataclass(frozen=True)
class Context:
    """What a guard or an effect sees: the record, who acts, and what they said."""

    db: Session
    record: Any
    actor: User | None
    action: str
    from_state: str | None
    to_state: str
    comment: str
    payload: dict[str, Any]


Guard = Callable[[Context], None]
Effect = Callable[[Context], None]
Permit = Callable[[Any, "User | None"], bool]


@dataclass(frozen=True)
class T:
    """One transition. ``guard`` raises (Invalid/Conflict/Forbidden) to refuse; returns None to allow.

    ``permit`` is a cheap per-record check beyond roles (e.g. "admin of *this* agency"); unlike the
    guard it is also used to compute the actions offered to a user. ``effect`` runs after the state
    changed, in the same transaction (e.g. approval creates the account).
    """

    action: str
    from_: str | Iterable[str]
    to: str
    roles: Iterable[str] = frozenset()
    guard: Guard | None = None
    permit: Permit | None = None
    effect: Effect | None = None

    def __post_init__(self) -> None:
        sources = (self.from_,) if isinstance(self.from_, str) else tuple(self.from_)
        object.__setattr__(self, "from_", frozenset(sources))
        object.__setattr__(self, "roles", frozenset(self.roles))

    @property
    def sources(self) -> frozenset[str]:
        assert isinstance(self.from_, frozenset)
        return self.from_

    @property
    def role_set(self) -> frozenset[str]:
        assert isinstance(self.roles, frozenset)
        return self.roles


LEVEL_LABELS = {
    "notify": N_("Overdue reminder"),
    "督办": N_("Supervised (督办)"),
    "挂牌督办": N_("Listed for supervision (挂牌督办)"),
}
# The ladder named by STYLE.md: overdue → remind; 3 working days late → 督办; 10 → 挂牌督办.
DEFAULT_AFTER = {"notify": 0, "督办": 3, "挂牌督办": 10}


@dataclass(frozen=True)
class Escalation:
    """Reached when today is later than the due date plus ``after_working_days`` working days."""

    level: int
    name: str
    after_working_days: int = 0
    label: str = ""  # message id shown to people; defaults from LEVEL_LABELS

    @property
    def display(self) -> str:
        return self.label or LEVEL_LABELS.get(self.name, self.name)


def _ladder(items: Sequence[Escalation | str]) -> tuple[Escalation, ...]:
    ladder: list[Escalation] = []
    for i, item in enumerate(items, start=1):
        if isinstance(item, str):
            item = Escalation(i, item, DEFAULT_AFTER.get(item, 0))
        ladder.append(item)
    ladder.sort(key=lambda e: e.level)
    levels = [e.level for e in ladder]
    if len(set(levels)) != len(levels) or any(lv < 1 for lv in levels):
        raise ValueError(f"escalation levels must be distinct and ≥ 1: {levels}")
    afters = [e.after_working_days for e in ladder]
    if afters != sorted(afters):
        raise ValueError(f"escalation thresholds must not decrease with the level: {afters}")
    return tuple(ladder)


DEFAULT_ESCALATION: tuple[Escalation, ...] = (
    Escalation(1, "notify", 0),
    Escalation(2, "督办", 3),
    Escalation(3, "挂牌督办", 10),
)


LAW_WORKING_DAY_PERIODS = frozenset({2, 3, 5, 7})


DueRule = Callable[[Any, "WorkCalendar"], "DueDate | None"]


@dataclass(frozen=True)
class Deadline:
    """The step in ``state`` falls due N working days (or N calendar days, Art. 85) after entering it,
    or on a date the record itself carries (``on``: e.g. a rectification deadline set per finding, or
    the last day a notice can still precede the visit by 5 working days)."""

    state: str
    working_days: int | None = None
    days: int | None = None
    escalate: Sequence[Escalation | str] = DEFAULT_ESCALATION
    on: DueRule | None = None

    def __post_init__(self) -> None:
        if sum(x is not None for x in (self.working_days, self.days, self.on)) != 1:
            raise ValueError(f"deadline for {self.state!r}: give exactly one of working_days, days or on")
        if (self.working_days or 0) < 0 or (self.days or 0) < 0:
            raise ValueError(f"deadline for {self.state!r} must not be negative")
        if self.days in LAW_WORKING_DAY_PERIODS:
            raise ValueError(f"deadline for {self.state!r}: the law's {self.days}-day periods are working "
                             "days (行政处罚法 Art. 85); write working_days=")
        object.__setattr__(self, "escalate", _ladder(self.escalate))

    @property
    def ladder(self) -> tuple[Escalation, ...]:
        return tuple(self.escalate)  # type: ignore[arg-type]

    def due(self, calendar: WorkCalendar, start: dt.date, record: Any = None) -> DueDate | None:
        if self.on is not None:
            return self.on(record, calendar)
        if self.working_days is not None:
            return calendar.add_working_days(start, self.working_days)
        assert self.days is not None
        return calendar.add_calendar_days(start, self.days)


Recipients = Callable[[Session, Any, Escalation], Iterable[int]]
# Recipients of many records at once, by id (record id → user ids): a few queries for thousands.
ManyRecipients = Callable[[Session, Sequence[int], Escalation], dict[int, set[int]]]


@dataclass
class Workflow:
    """A closed loop as data. ``model`` is the mapped class whose rows run on it (for the scan)."""

    name: str
    states: Sequence[str]
    transitions: Sequence[T] = ()
    deadlines: Sequence[Deadline] = ()
    initial: str = ""
    model: type[Any] | None = None
    label: str = ""  # message id, e.g. N_("Account request")
    recipients: Recipients | None = None  # who is told when a record escalates
    recipients_many: ManyRecipients | None = None  # the same for many records (large scans)
    subject: Callable[[Any], str] | None = None  # short text naming a record in notifications
    link: Callable[[Any], str] | None = None  # where a notification points
    _deadlines: dict[str, Deadline] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.states = tuple(self.states)
        self.initial = self.initial or self.states[0]
        known = set(self.states)
        problems = [self.initial] if self.initial not in known else []
        for t in self.transitions:
            problems += [s for s in (*t.sources, t.to) if s not in known]
        for d in self.deadlines:
            if d.state not in known:
                problems.append(d.state)
            self._deadlines[d.state] = d
        if problems:
            raise ValueError(f"workflow {self.name!r}: unknown states {sorted(set(problems))}")
        pairs = [(t.action, s) for t in self.transitions for s in t.sources]
        if len(pairs) != len(set(pairs)):
            raise ValueError(f"workflow {self.name!r}: an action is declared twice from one state")

    def transition(self, action: str, state: str | None) -> T | None:
        for t in self.transitions:
            if t.action == action and state in t.sources:
                return t
        return None

    def deadline(self, state: str) -> Deadline | None:
        return self._deadlines.get(state)

    @property
    def actions(self) -> list[str]:
        return list(dict.fromkeys(t.action for t in self.transitions))


_REGISTRY: dict[str, Workflow] = {}


def register(workflow: Workflow) -> Workflow:
    """Add a workflow to the registry (idempotent for the same object; names are unique)."""
    existing = _REGISTRY.get(workflow.name)
    if existing is not None and existing is not workflow:
        raise ValueError(f"workflow {workflow.name!r} is already registered")
    _REGISTRY[workflow.name] = workflow
    return workflow


def load_all() -> dict[str, Workflow]:
    """Import every package's ``workflow.py`` so its declarations register themselves."""
    from jianguan import registry

    registry.modules("workflow")
    return dict(_REGISTRY)


def get(name: str) -> Workflow:
    if name not in _REGISTRY:
        load_all()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise LookupError(f"no workflow named {name!r}") from None


def workflow_of(record: Any) -> Workflow:
    """The workflow a record runs on: the one it was started on, else the one declared for its class."""
    name = getattr(record, "workflow", "") or ""
    if name:
        return get(name)
    load_all()
    matches = [w for w in _REGISTRY.values() if w.model is not None and isinstance(record, w.model)]
    if len(matches) != 1:
        raise LookupError(f"cannot tell which workflow {type(record).__name__} runs on")
    return matches[0]


# --------------------------------------------------------------------------- acting


def record_type(record: Any) -> str:
    return str(record.__table__.name)


def _roles_ok(t: T, actor: User | None) -> bool:
    if actor is None:
        return bool(t.role_set & {PUBLIC, SYSTEM})
    people = t.role_set - {SYSTEM}  # a SYSTEM-only step is the jobs' alone, not even a system admin's
    if not people:
        return False
    return PUBLIC in people or actor.is_system_admin or actor.has_role(*people)


def _may(t: T, record: Any, actor: User | None) -> bool:
    return _roles_ok(t, actor) and (t.permit is None or t.permit(record, actor))


def same_agency(record: Any, actor: User | None) -> bool:
    """A ``permit``: the record's own agency (or a system administrator, or the system itself)."""
    return actor is None or actor.is_system_admin or actor.agency_id == record.agency_id


def reason_required(ctx: Context) -> None:
    """A ``guard``: the decision gives its reason in the comment."""
    if not ctx.comment:
        raise Invalid("comment", N_("Give the reason for this decision in the comment."))


def allowed_actions(record: Any, actor: User | None) -> list[str]:
    """Actions this actor may take on the record now (guards are checked only when acting)."""
    wf = workflow_of(record)
    return [t.action for t in wf.transitions if record.state in t.sources and _may(t, record, actor)]


def calendar(db: Session) -> WorkCalendar:
    """The working-day calendar (package data plus the override table)."""
    from jianguan.core.workdays import WorkCalendar

    return WorkCalendar.from_db(db)


def _local_date(at: dt.datetime) -> dt.date:
    from jianguan.core.workdays import local_date

    return local_date(at)


def _enter(db: Session, wf: Workflow, record: Any, state: str, at: dt.datetime) -> None:
    """Put the record in ``state`` with that state's deadline (none if the state has no rule)."""
    deadline = wf.deadline(state)
    due = deadline.due(calendar(db), _local_date(at), record) if deadline is not None else None  # reads first
    record.state = state
    record.state_since = at
    record.escalation_level = 0
    record.due_date = due.date if due is not None else None
    record.due_unconfirmed = bool(due.unconfirmed) if due is not None else False


def refresh_due(db: Session, record: Any) -> None:
    """Recompute the current state's deadline after something it is computed from changed (e.g. a
    suspension of a case's decision period ended), keeping the state, its start and escalation."""
    wf = workflow_of(record)
    deadline = wf.deadline(record.state)
    start = _local_date(record.state_since) if record.state_since is not None else local_today()
    due = deadline.due(calendar(db), start, record) if deadline is not None else None
    record.due_date = due.date if due is not None else None
    record.due_unconfirmed = bool(due.unconfirmed) if due is not None else False


@contextmanager
def _stale_is_conflict() -> Iterator[None]:
    """Any flush here (explicit, or a query's autoflush) that finds the row moved on is a 409."""
    try:
        yield
    except StaleDataError as exc:  # someone else changed this record since it was read
        raise Conflict() from exc


def write_event(
    db: Session,
    wf: Workflow,
    record: Any,
    *,
    action: str,
    from_state: str | None,
    actor: User | None,
    actor_name: str,
    comment: str,
    payload: dict[str, Any],
    at: dt.datetime,
) -> WorkflowEvent:
    from jianguan.audit import service as audit
    from jianguan.core.models import WorkflowEvent

    event = WorkflowEvent(
        workflow=wf.name,
        record_type=record_type(record),
        record_id=record.id,
        action=action,
        from_state=from_state,
        to_state=record.state,
        actor_id=actor.id if actor is not None else None,
        actor_name=actor.username if actor is not None else actor_name,
        at=at,
        comment=comment,
        payload_hash=audit.digest(audit.canonical(payload)),
        due_date=record.due_date,
    )
    db.add(event)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action=f"{wf.name}.{action}",
        object_type=record_type(record),
        object_id=record.id,
        payload={"from": from_state, "to": record.state, "comment": comment, "payload": payload},
        detail={"from": from_state, "to": record.state, "due_date": record.due_date, "event_id": event.id,
                "by": actor.username if actor is not None else actor_name},
    )
    return event


def start(
    db: Session,
    record: Any,
    *,
    workflow: Workflow | str,
    actor: User | None,
    comment: str = "",
    payload: dict[str, Any] | None = None,
    action: str = "start",
) -> WorkflowEvent:
    """Put a new record in the workflow's initial state, with its deadline, event and audit entry."""
    wf = get(workflow) if isinstance(workflow, str) else workflow
    if wf.model is not None and not isinstance(record, wf.model):
        raise TypeError(f"workflow {wf.name!r} runs on {wf.model.__name__}, not {type(record).__name__}")
    if getattr(record, "state", None):
        raise IllegalTransition(action=action, state=record.state, allowed=[])
    now = utcnow()
    record.workflow = wf.name
    _enter(db, wf, record, wf.initial, now)
    if record not in db:
        db.add(record)
    db.flush()
    return write_event(db, wf, record, action=action, from_state=None, actor=actor,
                actor_name=PUBLIC if actor is None else "", comment=comment.strip(),
                payload=payload or {}, at=now)


def act(
    db: Session,
    record: Any,
    *,
    action: str,
    actor: User | None,
    comment: str = "",
    payload: dict[str, Any] | None = None,
    system: bool = False,
    expected_version: int | None = None,
) -> WorkflowEvent:
    """Take ``action`` on ``record``: check, move, set the new deadline, log — no commit.

    ``actor=None`` is a member of the public already identified by the service, or a job when
    ``system`` is true; only transitions whose roles include PUBLIC or SYSTEM accept it.
    ``expected_version``: the version the person's form showed; a record changed since is a 409.
    """
    check_version(record, expected_version)
    wf = workflow_of(record)
    t = wf.transition(action, record.state)
    if t is None:
        raise IllegalTransition(action=action, state=record.state, allowed=allowed_actions(record, actor))
    if actor is None and (SYSTEM if system else PUBLIC) not in t.role_set:
        raise Forbidden()
    if not _may(t, record, actor):
        raise Forbidden()
    comment = comment.strip()
    payload = dict(payload or {})
    ctx = Context(db=db, record=record, actor=actor, action=action, from_state=record.state,
                  to_state=t.to, comment=comment, payload=payload)
    now = utcnow()
    from_state = record.state
    with _stale_is_conflict():
        if t.guard is not None:
            t.guard(ctx)
        _enter(db, wf, record, t.to, now)
        db.flush()
        if t.effect is not None:
            t.effect(ctx)
            db.flush()
    return write_event(db, wf, record, action=action, from_state=from_state, actor=actor,
                actor_name=SYSTEM if system else PUBLIC, comment=comment, payload=payload, at=now)


def history(db: Session, record: Any) -> list[WorkflowEvent]:
    """Every event of this record, oldest first."""
    from jianguan.core.models import WorkflowEvent

    rows = db.scalars(
        select(WorkflowEvent)
        .where(WorkflowEvent.record_type == record_type(record), WorkflowEvent.record_id == record.id)
        .order_by(WorkflowEvent.at, WorkflowEvent.id)
    ).all()
    return list(rows)


def local_today() -> dt.date:
    """Today in Asia/Shanghai: a deadline is a date there."""
    from jianguan.core.workdays import today_shanghai

    return today_shanghai()


def scan_overdue(db: Session, *, today: dt.date | None = None) -> list[Escalated]:
    """Escalate overdue records of every registered workflow (see core/overdue.py)."""
    from jianguan.core import overdue

    return overdue.scan_overdue(db, today=today)

