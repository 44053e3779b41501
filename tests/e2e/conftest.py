"""Browser tests: the real app under uvicorn on a free loopback port, driven by Debian's Chromium.

One browser for the whole session (fast); one server and one fresh database per test (isolated).
Screenshots go to test-output/screenshots/ (git-ignored), named by page, width and database.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import BACKEND

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
PASSWORD = "Xihu-2026-pass"
HEIGHTS = {375: 812, 1440: 900, 1920: 1080}


@dataclass
class LiveServer:
    url: str

    def __call__(self, path: str) -> str:
        return self.url + path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (scripts/ensure-browser.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def live_server(fresh_db_url: str) -> Iterator[LiveServer]:
    """A district bureau with an officer and a colleague, then the app serving that database."""
    import uvicorn

    from jianguan.app import create_app
    from jianguan.auth import service
    from jianguan.db import session_scope
    from jianguan.officers import service as agencies

    with session_scope() as db:
        agency = agencies.create_agency(db, code="330106-SJ", name="杭州市西湖区市场监督管理局",
                                        region_code="330106", actor=None)
        for username, name in (("wangjg", "王建国"), ("lifang", "李芳")):
            service.create_user(db, username=username, display_name=name, password=PASSWORD,
                                roles=["officer"], agency_id=agency.id, actor=None)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="uvicorn-e2e", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the app did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def new_page(browser: object) -> Iterator[object]:
    """``new_page(width)``: a fresh browser context (no cookies) at a viewport width."""
    contexts = []

    def make(width: int = 1440) -> object:
        context = browser.new_context(  # type: ignore[attr-defined]
            viewport={"width": width, "height": HEIGHTS.get(width, 900)}, locale="zh-CN"
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def screenshot(page: object, name: str, *, full_page: bool = True) -> Path:
    width = page.viewport_size["width"]  # type: ignore[attr-defined]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}-{width}-{BACKEND}.png"
    page.screenshot(path=str(path), full_page=full_page)  # type: ignore[attr-defined]
    return path


def sign_in(page: object, server: LiveServer, username: str = "wangjg", password: str = PASSWORD) -> None:
    page.goto(server("/login"))  # type: ignore[attr-defined]
    page.fill("#f-username", username)  # type: ignore[attr-defined]
    page.fill("#f-password", password)  # type: ignore[attr-defined]
    page.click("form[action='/login'] button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(server("/"))  # type: ignore[attr-defined]
