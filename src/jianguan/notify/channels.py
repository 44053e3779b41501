"""Delivery channels for the outbox: e-mail over SMTP (the standard library), and SMS through a
gateway class named by a setting — a government messaging platform plugs in the same way.

A channel is anything with ``deliver(message) -> None`` that raises when the message did not go;
the outbox drain (worker job) calls it, never a web request. A channel that is not configured is
simply absent: its messages wait in the outbox until it is.
"""

from __future__ import annotations

import datetime as dt
import importlib
import smtplib
import ssl
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Protocol, runtime_checkable

from jianguan.config import Settings, get_settings
from jianguan.core.masking import mask_phone


@dataclass(frozen=True)
class Message:
    """What a channel is given: already rendered in the recipient's language; no database access."""

    id: int
    channel: str
    address: str  # an e-mail address, or a phone number
    subject: str
    body: str
    kind: str
    user_id: int


@runtime_checkable
class Channel(Protocol):
    def deliver(self, message: Message) -> None:
        """Deliver or raise; an exception marks this message for a retry, never the others."""


@runtime_checkable
class SmsChannel(Channel, Protocol):
    """What an SMS (or government messaging) gateway implements: ``deliver`` sends ``message.body``
    to the phone ``message.address``. The class is named by ``JIANGUAN_SMS_GATEWAY=pkg.module:Class``
    and built with no arguments (it reads its own settings, e.g. from the environment)."""


class ChannelUnavailable(Exception):
    """The channel cannot deliver anything now (server unreachable, login refused): this message
    counts a failed attempt, the channel's other messages wait for the next run untouched."""


# --------------------------------------------------------------------------- e-mail


def mail_from(settings: Settings) -> str:
    return settings.smtp_from or (settings.smtp_user if "@" in settings.smtp_user else "") or "jianguan@localhost"


def compose_mail(message: Message, settings: Settings) -> EmailMessage:
    """A plain-text UTF-8 e-mail; Chinese subjects are encoded per RFC 2047 by the e-mail package."""
    mail = EmailMessage()
    sender = mail_from(settings)
    mail["From"] = sender
    mail["To"] = message.address
    mail["Subject"] = message.subject
    mail["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    mail["Message-ID"] = make_msgid(idstring=f"jg-outbox-{message.id}", domain=domain)
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to a robot
    mail.set_content(message.body, charset="utf-8")
    return mail


class EmailChannel:
    """SMTP with the standard library; one connection is reused for the messages of one drain."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        try:
            smtp: smtplib.SMTP
            if s.smtp_ssl:
                smtp = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds,
                                        context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
            if s.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password)
        except OSError as exc:  # smtplib.SMTPException is an OSError too (e.g. a refused login)
            raise ChannelUnavailable(f"SMTP {s.smtp_host}:{s.smtp_port}: {type(exc).__name__}: {exc}") from exc
        return smtp

    def deliver(self, message: Message) -> None:
        mail = compose_mail(message, self.settings)
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            self._smtp.send_message(mail)
        except smtplib.SMTPServerDisconnected:  # the server closed an idle connection: once more
            self._smtp = self._connect()
            self._smtp.send_message(mail)
        except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused):
            raise  # this message was refused; the connection is still good for the next
        except OSError:
            self.close()
            raise

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except OSError:
            smtp.close()


# --------------------------------------------------------------------------- SMS


class LogSms:
    """Writes each SMS to ``JIANGUAN_HOME/logs/sms.log`` instead of sending it (tests, intranet demos).

    Turn it on with ``JIANGUAN_SMS_GATEWAY=jianguan.notify.channels:LogSms``. The phone is masked:
    the log is a demonstration, not a second copy of personal data.
    """

    _lock = threading.Lock()

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or get_settings().home / "logs" / "sms.log"

    def deliver(self, message: Message) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        when = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        text = message.body.replace("\n", " ")
        with self._lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(f"{when}\t#{message.id}\t{mask_phone(message.address)}\t{message.kind}\t{text}\n")


def load_gateway(spec: str) -> SmsChannel:
    """Build the gateway named ``package.module:Class``; a wrong name fails loudly, at the drain."""
    module_name, sep, class_name = spec.strip().partition(":")
    if not sep or not module_name or not class_name:
        raise ValueError(f"JIANGUAN_SMS_GATEWAY={spec!r}: write it as package.module:Class")
    try:
        gateway_class = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"JIANGUAN_SMS_GATEWAY={spec!r}: {exc}") from exc
    gateway = gateway_class()
    if not isinstance(gateway, SmsChannel):
        raise ValueError(f"JIANGUAN_SMS_GATEWAY={spec!r}: {class_name} has no deliver(message) method")
    return gateway


def configured(settings: Settings | None = None) -> tuple[dict[str, Channel], dict[str, str]]:
    """The channels this deployment can deliver by now (e-mail when an SMTP host is set, SMS when a
    gateway is named), and why a named one cannot be used. The others' messages wait."""
    settings = settings or get_settings()
    found: dict[str, Channel] = {}
    problems: dict[str, str] = {}
    if settings.smtp_host:
        found["email"] = EmailChannel(settings)
    if settings.sms_gateway:
        try:
            found["sms"] = load_gateway(settings.sms_gateway)
        except Exception as exc:  # a broken gateway must not hold up e-mail
            problems["sms"] = f"{type(exc).__name__}: {exc}"[:500]
    return found, problems


def is_configured(channel: str, settings: Settings | None = None) -> bool:
    settings = settings or get_settings()
    return bool(settings.smtp_host) if channel == "email" else bool(settings.sms_gateway)
