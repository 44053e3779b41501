#!/usr/bin/env python3
"""Take a screenshot of a running jianguan page with Debian's Chromium (never a downloaded browser).

    python scripts/screenshot.py http://127.0.0.1:8000/ out.png --width 375 --login demo:password
    python scripts/screenshot.py http://127.0.0.1:8000/login login.png --width 1440 --lang en

--login signs in through /login on the same host first; --full-page captures the whole page.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from playwright.sync_api import Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def sign_in(page: Page, url: str, credentials: str) -> None:
    username, _, password = credentials.partition(":")
    parts = urlsplit(url)
    page.goto(urlunsplit((parts.scheme, parts.netloc, "/login", "", "")))
    page.fill("#f-username", username)
    page.fill("#f-password", password)
    with page.expect_navigation():
        page.click("form[action='/login'] button[type=submit]")
    if page.url.rstrip("/").endswith("/login") or "/login?" in page.url:
        sys.exit(f"sign-in as {username!r} failed")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("url")
    parser.add_argument("out", type=Path)
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=0, help="viewport height (default: by width)")
    parser.add_argument("--login", metavar="USER:PASS")
    parser.add_argument("--lang", choices=["zh_CN", "en"])
    parser.add_argument("--full-page", action="store_true")
    args = parser.parse_args()

    height = args.height or (812 if args.width < 768 else 1080 if args.width >= 1800 else 900)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": args.width, "height": height},
                                          device_scale_factor=1, locale="zh-CN")
            page = context.new_page()
            if args.lang:
                parts = urlsplit(args.url)
                page.goto(urlunsplit((parts.scheme, parts.netloc, "/login", f"lang={args.lang}", "")))
            if args.login:
                sign_in(page, args.url, args.login)
            page.goto(args.url)
            page.wait_for_load_state("networkidle")
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out), full_page=args.full_page)
            overflow = page.evaluate("document.documentElement.scrollWidth") - args.width
            note = f" (horizontal overflow: {overflow}px)" if overflow > 0 else ""
            print(f"{args.out}: {args.width}×{height}{note}")
        finally:
            browser.close()


if __name__ == "__main__":
    main()
