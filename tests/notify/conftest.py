"""Helpers for the notification tests: people, a real SMTP server on 127.0.0.1, settings."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from jianguan.config import reset_settings
from tests.auth.conftest import client, districts

__all__ = ["client", "districts"]


def free_port() -> int:
    """A port nobody listens on (bound then released): connecting to it is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Inbox:
    """An aiosmtpd handler keeping what it accepts; it can refuse addresses or every message."""

    received: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    refuse_rcpt: set[str] = field(default_factory=set)
    refuse_data: str | None = None  # e.g. "451 4.3.0 try again later"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse_rcpt:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse_data:
            return self.refuse_data
        mail = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(mail, EmailMessage)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), mail))
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    inbox: Inbox
    port: int


@pytest.fixture
def smtp_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """A real SMTP server on loopback, and the settings pointing at it."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    use_smtp(monkeypatch, port)
    try:
        yield SmtpServer(inbox, port)
    finally:
        controller.stop()


def use_smtp(monkeypatch: pytest.MonkeyPatch, port: int, **extra: str) -> None:
    monkeypatch.setenv("JIANGUAN_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("JIANGUAN_SMTP_PORT", str(port))
    monkeypatch.setenv("JIANGUAN_SMTP_FROM", "监管平台 <jianguan@scjg.example.gov.cn>")
    monkeypatch.setenv("JIANGUAN_SMTP_TIMEOUT_SECONDS", "5")
    for name, value in extra.items():
        monkeypatch.setenv(f"JIANGUAN_{name.upper()}", value)
    reset_settings()
