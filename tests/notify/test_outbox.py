"""Draining the outbox: delivered, retried with backoff, dead after the last attempt; one failure
never stops the others; a channel that is not set up keeps its messages waiting."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.core.errors import Conflict, Forbidden
from jianguan.notify import outbox
from jianguan.notify.channels import ChannelUnavailable, Message
from jianguan.notify.models import OutboxMessage, OutboxStatus
from tests.auth.conftest import TwoDistricts, make_two_districts
from tests.conftest import BACKEND

T0 = dt.datetime(2026, 12, 7, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai


class Clock:
    def __init__(self, start: dt.datetime = T0) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now


class Recorder:
    """A channel that keeps what it delivers and fails for the addresses it is told to."""

    def __init__(self, fail_for: set[str] | None = None, fail: Callable[[Message], Exception | None] | None = None):
        self.delivered: list[Message] = []
        self.fail_for = fail_for or set()
        self.fail = fail

    def deliver(self, message: Message) -> None:
        if message.address in self.fail_for:
            raise RuntimeError(f"550 no such mailbox: {message.address}")
        problem = self.fail(message) if self.fail else None
        if problem is not None:
            raise problem
        self.delivered.append(message)


@pytest.fixture
def people(db: Session) -> TwoDistricts:
    return make_two_districts(db)


def queue(db: Session, user_id: int, *addresses: str, channel: str = "email", at: dt.datetime = T0) -> list[int]:
    rows = [OutboxMessage(channel=channel, user_id=user_id, kind="workflow.escalation", address=a,
                          subject=f"督办：{a}", body="请处理。", next_attempt_at=at, created_at=at) for a in addresses]
    db.add_all(rows)
    db.flush()
    return [r.id for r in rows]


def test_due_messages_are_delivered_and_marked_sent(db: Session, people: TwoDistricts) -> None:
    ids = queue(db, people.a_admin.id, "a@x.gov.cn", "b@x.gov.cn")
    channel = Recorder()
    result = outbox.drain(db, channels={"email": channel}, now=Clock())
    assert result.sent == 2 and [m.id for m in channel.delivered] == ids
    rows = [db.get(OutboxMessage, i) for i in ids]
    assert all(r is not None and r.status == "sent" and r.sent_at == T0 and r.attempts == 1 for r in rows)
    assert outbox.drain(db, channels={"email": channel}, now=Clock()).sent == 0  # nothing twice


def test_a_failing_message_does_not_stop_the_batch(db: Session, people: TwoDistricts) -> None:
    ids = queue(db, people.a_admin.id, "a@x.gov.cn", "nobody@x.gov.cn", "c@x.gov.cn")
    channel = Recorder(fail_for={"nobody@x.gov.cn"})
    result = outbox.drain(db, channels={"email": channel}, now=Clock(), batch_size=10)
    assert (result.sent, result.retrying, result.dead) == (2, 1, 0)
    failed = db.get(OutboxMessage, ids[1])
    assert failed is not None and failed.status == "failed" and failed.attempts == 1
    assert failed.next_attempt_at == T0 + dt.timedelta(minutes=1)
    assert "550 no such mailbox" in failed.last_error


def test_retries_back_off_then_the_message_is_dead_with_its_last_error(db: Session, people: TwoDistricts) -> None:
    [mid] = queue(db, people.a_admin.id, "nobody@x.gov.cn")
    channel, clock = Recorder(fail_for={"nobody@x.gov.cn"}), Clock()
    waits = []
    for _ in range(outbox.MAX_ATTEMPTS):
        outbox.drain(db, channels={"email": channel}, now=clock)
        row = db.get(OutboxMessage, mid)
        assert row is not None
        if row.status == "dead":
            break
        assert outbox.drain(db, channels={"email": channel}, now=clock).retrying == 0  # not due yet
        waits.append(row.next_attempt_at - clock.now)
        clock.now = row.next_attempt_at
    assert waits == [dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=30),
                     dt.timedelta(hours=2), dt.timedelta(hours=12)]
    assert (row.status, row.attempts) == ("dead", outbox.MAX_ATTEMPTS) and "550" in row.last_error
    clock.now += dt.timedelta(days=30)
    assert outbox.drain(db, channels={"email": channel}, now=clock).retrying == 0  # dead stays dead


def test_the_backoff_grows_and_ends() -> None:
    waits = [outbox.backoff(n) for n in range(1, outbox.MAX_ATTEMPTS)]
    assert all(w is not None for w in waits) and waits == sorted(waits)  # type: ignore[type-var]
    assert outbox.backoff(outbox.MAX_ATTEMPTS) is None
    with pytest.raises(ValueError):
        outbox.backoff(0)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(succeeds_at=st.integers(min_value=1, max_value=outbox.MAX_ATTEMPTS + 3),
       late=st.lists(st.integers(min_value=0, max_value=600), min_size=outbox.MAX_ATTEMPTS,
                     max_size=outbox.MAX_ATTEMPTS))
def test_whenever_the_worker_runs_a_message_is_tried_per_the_schedule_and_never_more(
    db: Session, people: TwoDistricts, succeeds_at: int, late: list[int]
) -> None:
    """However late each run comes, attempts follow the schedule: sent at the k-th if it then works,
    dead after the last one otherwise, never tried before its time."""
    savepoint = db.begin_nested()
    try:
        [mid] = queue(db, people.a_admin.id, "x@x.gov.cn")
        tries: list[dt.datetime] = []
        clock = Clock()

        def fail(_m: Message) -> Exception | None:
            tries.append(clock.now)
            return None if len(tries) == succeeds_at else RuntimeError("451 try again later")

        channel = Recorder(fail=fail)
        for extra in late:
            outbox.drain(db, channels={"email": channel}, now=clock)
            row = db.get(OutboxMessage, mid)
            assert row is not None
            if row.status in ("sent", "dead"):
                break
            clock.now = row.next_attempt_at + dt.timedelta(seconds=extra)
        assert row.status == ("sent" if succeeds_at <= outbox.MAX_ATTEMPTS else "dead")
        assert row.attempts == len(tries) == min(succeeds_at, outbox.MAX_ATTEMPTS)
        for n, (before, after) in enumerate(itertools.pairwise(tries), start=1):
            wait = outbox.backoff(n)
            assert wait is not None and after - before >= wait
    finally:
        savepoint.rollback()


def test_an_unavailable_channel_is_tried_once_per_run_and_the_rest_wait(db: Session, people: TwoDistricts) -> None:
    ids = queue(db, people.a_admin.id, "a@x.gov.cn", "b@x.gov.cn", "c@x.gov.cn")
    sms_ids = queue(db, people.a_admin.id, "13800138000", channel="sms")

    def down(_m: Message) -> Exception:
        return ChannelUnavailable("SMTP 127.0.0.1:1: ConnectionRefusedError")

    sms = Recorder()
    result = outbox.drain(db, channels={"email": Recorder(fail=down), "sms": sms}, now=Clock())
    assert result.unavailable == {"email": "SMTP 127.0.0.1:1: ConnectionRefusedError"}
    assert result.retrying == 1 and result.waiting == {"email": 3}  # the 1st failed, the others untouched
    assert [db.get(OutboxMessage, i).attempts for i in ids] == [1, 0, 0]  # type: ignore[union-attr]
    assert [m.id for m in sms.delivered] == sms_ids  # the other channel is not held up


def test_a_channel_that_is_not_set_up_keeps_its_messages_waiting(db: Session, people: TwoDistricts) -> None:
    ids = queue(db, people.a_admin.id, "a@x.gov.cn")
    result = outbox.drain(db, channels={}, now=Clock())
    assert result.waiting == {"email": 1} and result.sent == 0
    row = db.get(OutboxMessage, ids[0])
    assert row is not None and (row.status, row.attempts) == ("pending", 0)


def test_drain_without_smtp_settings_delivers_nothing_and_loses_nothing(
    db: Session, people: TwoDistricts, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jianguan.config import reset_settings

    monkeypatch.delenv("JIANGUAN_SMTP_HOST", raising=False)
    monkeypatch.setenv("JIANGUAN_SMS_GATEWAY", "no.such.module:Gateway")
    reset_settings()
    queue(db, people.a_admin.id, "a@x.gov.cn")
    queue(db, people.a_admin.id, "13800138000", channel="sms")
    result = outbox.drain(db, now=Clock())
    assert result.waiting == {"email": 1, "sms": 1}
    assert "no.such.module" in result.unavailable["sms"]


def test_a_run_stops_at_its_limit(db: Session, people: TwoDistricts) -> None:
    queue(db, people.a_admin.id, *[f"p{i}@x.gov.cn" for i in range(7)])
    channel = Recorder()
    commits: list[int] = []
    result = outbox.drain(db, channels={"email": channel}, now=Clock(), batch_size=3, limit=5,
                          after_batch=lambda: commits.append(len(channel.delivered)))
    assert result.sent == 5 and commits == [3, 5]


def test_an_operator_requeues_a_dead_letter_with_fresh_attempts(db: Session, people: TwoDistricts) -> None:
    [dead, sent] = queue(db, people.a_admin.id, "nobody@x.gov.cn", "ok@x.gov.cn")
    for mid, status in ((dead, OutboxStatus.dead), (sent, OutboxStatus.sent)):
        row = db.get(OutboxMessage, mid)
        assert row is not None
        row.status, row.attempts, row.last_error = status, outbox.MAX_ATTEMPTS, "550 no such mailbox"
    db.flush()
    with pytest.raises(Forbidden):
        outbox.retry(db, actor=people.a_admin, message_id=dead)
    with pytest.raises(Conflict):
        outbox.retry(db, actor=people.admin, message_id=sent)
    assert outbox.retry(db, actor=people.admin, all_dead=True) == 1
    row = db.get(OutboxMessage, dead)
    assert row is not None and (row.status, row.attempts) == ("pending", 0)
    assert row.last_error == "550 no such mailbox"  # kept until it is tried again
    assert outbox.counts(db, actor=people.admin)["email"] == {"pending": 1, "failed": 0, "sent": 1, "dead": 0}


def test_addresses_are_encrypted_at_rest_and_masked_for_operators(db: Session, people: TwoDistricts) -> None:
    from sqlalchemy import text

    [mid] = queue(db, people.a_admin.id, "13800138000", channel="sms")
    stored = db.execute(text("SELECT address FROM notification_outbox WHERE id = :i"), {"i": mid}).scalar_one()
    assert "13800138000" not in stored and stored.startswith("jg1$")
    assert outbox.mask_address("sms", "13800138000") == "138****8000"
    assert outbox.mask_address("email", "wang.jg@xh.example.gov.cn") == "w***@xh.example.gov.cn"


def test_delivered_messages_are_forgotten_after_the_retention_period(db: Session, people: TwoDistricts) -> None:
    [old, recent] = queue(db, people.a_admin.id, "a@x.gov.cn", "b@x.gov.cn")
    for mid, days in ((old, outbox.SENT_RETENTION_DAYS + 1), (recent, 1)):
        row = db.get(OutboxMessage, mid)
        assert row is not None
        row.status, row.sent_at = "sent", dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    db.flush()
    assert outbox.prune_sent(db) == {"deleted": 1}
    assert db.scalars(select(OutboxMessage.id)).all() == [recent]


@pytest.mark.skipif(BACKEND != "postgresql", reason="SKIP LOCKED is PostgreSQL's; on SQLite the job lock serialises")
def test_two_drains_at_once_never_take_the_same_message(fresh_db_url: str) -> None:
    """A second worker (or `jianguan notify drain` racing the job) skips the rows the first holds."""
    from jianguan.db import get_engine, session_scope

    with session_scope() as db:
        world = make_two_districts(db)
        ids = queue(db, world.a_admin.id, *[f"p{i}@x.gov.cn" for i in range(4)])
    engine = get_engine()
    with Session(engine) as first, Session(engine) as second:
        held = outbox._due(first, ["email"], T0, 2)
        other = outbox._due(second, ["email"], T0, 10)
        assert [r.id for r in held] == ids[:2] and [r.id for r in other] == ids[2:]
        first.rollback()
        second.rollback()
