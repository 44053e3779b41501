"""Delivery for real: e-mail to an SMTP server on 127.0.0.1 (aiosmtpd), SMS through the log
gateway, the worker job; and a request that sends a notification never waits for the network."""

from __future__ import annotations

import datetime as dt
import smtplib
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.config import get_settings, reset_settings
from jianguan.db import session_scope
from jianguan.notify import outbox, preferences, service
from jianguan.notify.channels import EmailChannel, LogSms, Message, compose_mail, load_gateway
from jianguan.notify.kinds import Channels
from jianguan.notify.models import OutboxMessage
from tests.auth.conftest import TwoDistricts, make_two_districts
from tests.notify.conftest import SmtpServer, free_port, use_smtp

ESCALATION: dict[str, Any] = {
    "kind": "workflow.escalation", "title": "{level_label}: {subject}",
    "body": "{workflow_label} was due on {due_date} and is overdue. Please deal with it.",
    "params": {"level_label": "Supervised (督办)", "subject": "西湖区某餐饮店 整改",
               "workflow_label": "Account request", "due_date": "2026-12-04"},
    "link": "/account-requests/12",
}


@pytest.fixture
def people(db: Session) -> TwoDistricts:
    world = make_two_districts(db)
    world.a_officer.email = "wang.jg@xh.example.gov.cn"
    world.b_officer.email = "li.na@bj.example.gov.cn"
    db.flush()
    return world


def test_an_escalation_reaches_a_real_smtp_server_in_chinese(
    db: Session, people: TwoDistricts, smtp_server: SmtpServer
) -> None:
    service.send(db, user_ids=[people.a_officer.id], **ESCALATION)
    result = outbox.drain(db)
    assert result.sent == 1, result
    [(sender, recipients, mail)] = smtp_server.inbox.received
    assert sender == "jianguan@scjg.example.gov.cn" and recipients == ["wang.jg@xh.example.gov.cn"]
    assert mail["Subject"] == "【互联网+监管平台】督办：西湖区某餐饮店 整改"
    assert "=?utf-8?" in mail.as_string().lower().split("subject:", 1)[1].split("\n", 1)[0]  # RFC 2047
    assert mail["From"].addresses[0].display_name == "监管平台"
    assert mail["Auto-Submitted"] == "auto-generated"
    text = mail.get_content()
    assert text.startswith("账号申请已于 2026-12-04 到期") or "2026-12-04" in text.splitlines()[0]
    assert "http://127.0.0.1:8000/account-requests/12" in text and "请勿回复" in text
    row = db.scalars(select(OutboxMessage)).one()
    assert row.status == "sent" and row.attempts == 1


def test_one_connection_serves_the_whole_batch_and_a_refused_recipient_stops_nothing(
    db: Session, people: TwoDistricts, smtp_server: SmtpServer
) -> None:
    smtp_server.inbox.refuse_rcpt.add("wang.jg@xh.example.gov.cn")
    people.city_leader.email = "chen.sz@hz.example.gov.cn"
    db.flush()
    service.send(db, user_ids=[people.a_officer.id, people.b_officer.id, people.city_leader.id], **ESCALATION)
    connects = []
    original = smtplib.SMTP.connect

    def counting(self: smtplib.SMTP, *args: Any, **kwargs: Any) -> Any:
        connects.append(args)
        return original(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(smtplib.SMTP, "connect", counting)
        result = outbox.drain(db)
    assert (result.sent, result.retrying) == (2, 1)
    assert sorted(r for _s, rs, _m in smtp_server.inbox.received for r in rs) == [
        "chen.sz@hz.example.gov.cn", "li.na@bj.example.gov.cn"]
    assert len(connects) == 1
    refused = db.scalars(select(OutboxMessage).where(OutboxMessage.status == "failed")).one()
    assert "550" in refused.last_error and "no such mailbox" in refused.last_error


def test_a_server_that_keeps_refusing_leads_to_retries_then_a_dead_letter(
    db: Session, people: TwoDistricts, smtp_server: SmtpServer
) -> None:
    smtp_server.inbox.refuse_data = "451 4.3.0 mail system busy, try again later"
    service.send(db, user_ids=[people.a_officer.id], **ESCALATION)
    clock = [dt.datetime.now(dt.UTC)]
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        result = outbox.drain(db, now=lambda: clock[0])
        row = db.scalars(select(OutboxMessage)).one()
        assert row.attempts == attempt and "451" in row.last_error
        if attempt < outbox.MAX_ATTEMPTS:
            assert result.retrying == 1 and row.status == "failed"
            assert row.next_attempt_at - clock[0] == outbox.backoff(attempt)
            clock[0] = row.next_attempt_at
        else:
            assert result.dead == 1 and row.status == "dead"
    smtp_server.inbox.refuse_data = None
    assert outbox.retry(db, actor=people.admin, all_dead=True) == 1
    assert outbox.drain(db).sent == 1 and len(smtp_server.inbox.received) == 1


def test_a_closed_smtp_port_is_reported_unavailable_and_nothing_is_lost(
    db: Session, people: TwoDistricts, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_smtp(monkeypatch, free_port())
    service.send(db, user_ids=[people.a_officer.id, people.b_officer.id], **ESCALATION)
    result = outbox.drain(db)
    assert "email" in result.unavailable and "ConnectionRefusedError" in result.unavailable["email"]
    statuses = sorted((r.status, r.attempts) for r in db.scalars(select(OutboxMessage)))
    assert statuses == [("failed", 1), ("pending", 0)]


def test_compose_mail_with_a_plain_sender_and_the_smtp_user_as_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JIANGUAN_SMTP_USER", "notify@scjg.example.gov.cn")
    reset_settings()
    message = Message(id=9, channel="email", address="a@b.cn", subject="督办：测试", body="正文", kind="k", user_id=1)
    mail = compose_mail(message, get_settings())
    assert mail["From"] == "notify@scjg.example.gov.cn" and mail["Message-ID"].endswith("@scjg.example.gov.cn>")


def test_smtp_ssl_and_starttls_together_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JIANGUAN_SMTP_SSL", "true")
    monkeypatch.setenv("JIANGUAN_SMTP_STARTTLS", "true")
    reset_settings()
    with pytest.raises(ValueError, match="not both"):
        get_settings()


def test_email_channel_logs_in_when_a_user_is_set(smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """aiosmtpd offers no AUTH on plain text, so a configured login is refused: the channel is
    unavailable (a settings problem), not one message's failure."""
    from jianguan.notify.channels import ChannelUnavailable

    monkeypatch.setenv("JIANGUAN_SMTP_USER", "notify")
    monkeypatch.setenv("JIANGUAN_SMTP_PASSWORD", "secret")
    reset_settings()
    channel = EmailChannel()
    with pytest.raises(ChannelUnavailable, match=r"SMTP 127\.0\.0\.1"):
        channel.deliver(Message(id=1, channel="email", address="a@b.cn", subject="s", body="b", kind="k", user_id=1))


# --------------------------------------------------------------------------- SMS


def test_sms_through_the_log_gateway(db: Session, people: TwoDistricts, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JIANGUAN_SMS_GATEWAY", "jianguan.notify.channels:LogSms")
    reset_settings()
    preferences.save(db, user=people.a_officer, actor=people.a_officer,
                     choices={"workflow.escalation": Channels(in_app=True, email=False, sms=True)})
    service.send(db, user_ids=[people.a_officer.id], **ESCALATION)
    assert outbox.drain(db).sent == 1
    log = (get_settings().home / "logs" / "sms.log").read_text(encoding="utf-8").splitlines()[-1]
    assert "138****8000" in log and "13800138000" not in log
    assert "督办：西湖区某餐饮店 整改：账号申请" in log


def test_a_gateway_is_named_by_its_dotted_path() -> None:
    assert isinstance(load_gateway("jianguan.notify.channels:LogSms"), LogSms)
    for bad in ("jianguan.notify.channels", "jianguan.notify.channels:Nope", "json:JSONDecodeError"):
        with pytest.raises((ValueError, TypeError)):
            load_gateway(bad)


# --------------------------------------------------------------------------- the worker and the request


def test_the_worker_job_drains_the_outbox(
    fresh_db_url: str, smtp_server: SmtpServer
) -> None:
    from jianguan.core.jobs import get_job, run

    with session_scope() as db:
        world = make_two_districts(db)
        world.a_officer.email = "wang.jg@xh.example.gov.cn"
        db.flush()
        service.send(db, user_ids=[world.a_officer.id], **ESCALATION)
    job = get_job("notify.outbox")
    assert job.schedule == "* * * * *"
    result = run(job)
    assert result.status == "ok", result.message
    assert result.result["sent"] == 1 and len(smtp_server.inbox.received) == 1
    with session_scope() as db:
        assert db.scalars(select(OutboxMessage.status)).all() == ["sent"]


def test_a_request_that_notifies_does_not_touch_the_network(
    fresh_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The public account-request form tells the agency's admins; one of them wants it by e-mail.
    The SMTP server is a closed port: the request neither connects nor waits, the mail is queued."""
    from jianguan.app import create_app

    use_smtp(monkeypatch, free_port())
    with session_scope() as db:
        world = make_two_districts(db)
        world.a_admin.email = "zhang.wei@xh.example.gov.cn"
        preferences.save(db, user=world.a_admin, actor=world.a_admin,
                         choices={"account_request.submitted": Channels(in_app=True, email=True)})
    attempts: list[Any] = []

    def connect(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise AssertionError("a request connected to the SMTP server")

    monkeypatch.setattr(smtplib.SMTP, "connect", connect)
    body = {"username": "li.na", "display_name": "李娜", "password": "Xihu-2026-lina", "requested_roles": ["officer"],
            "reason": "法制科新进人员", "phone": "13712345678", "agency_id": world.district_a.id}
    with TestClient(create_app()) as client:
        started = time.perf_counter()
        response = client.post("/api/v1/account-requests", json=body)
        elapsed = time.perf_counter() - started
    assert response.status_code == 201, response.text
    assert attempts == [] and elapsed < 5
    with session_scope() as db:
        row = db.scalars(select(OutboxMessage)).one()
        assert (row.channel, row.address, row.status) == ("email", "zhang.wei@xh.example.gov.cn", "pending")
        assert "李娜" in row.subject
