"""In-process latency of /api/v1/health and a signed-in page, against a bare ASGI baseline.

Run: `python3 -m uv run python bench/http_latency.py [--n 500]`. Uses a throwaway SQLite database
under a temp JIANGUAN_HOME (set JIANGUAN_DATABASE_URL to measure PostgreSQL instead). Prints p50/p95
in milliseconds and the ratio of each route's p50 to the baseline's (framework + our middleware cost).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable


def measure(call: Callable[[], object], n: int) -> list[float]:
    for _ in range(min(50, n)):  # warm-up
        call()
    times = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def summary(name: str, times: list[float], baseline_p50: float | None) -> str:
    p50 = statistics.median(times)
    p95 = statistics.quantiles(times, n=20)[18]
    ratio = f"{p50 / baseline_p50:6.1f}×" if baseline_p50 else "     —"
    return f"{name:<34} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms   vs baseline {ratio}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=500)
    args = parser.parse_args()
    os.environ.setdefault("JIANGUAN_HOME", tempfile.mkdtemp(prefix="jg-bench-"))
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from jianguan import migrate
    from jianguan.app import create_app
    from jianguan.auth import demo
    from jianguan.db import session_scope

    migrate.upgrade()
    with session_scope() as db:
        demo.load(db)

    bare = FastAPI()

    @bare.get("/ping")
    def ping() -> dict[str, str]:
        return {"status": "ok"}

    with TestClient(bare) as base_client, TestClient(create_app()) as client:
        baseline = measure(lambda: base_client.get("/ping"), args.n)
        health = measure(lambda: client.get("/api/v1/health"), args.n)
        login = client.post("/login", data={"username": "xihu_officer", "password": demo.DEMO_PASSWORD,
                                              "csrf_token": _csrf(client)}, follow_redirects=False)
        if login.status_code != 303:
            sys.exit(f"login failed: {login.status_code}")
        home = measure(lambda: client.get("/"), args.n)
    b50 = statistics.median(baseline)
    database = os.environ.get("JIANGUAN_DATABASE_URL") or "sqlite"
    print(f"python {sys.version.split()[0]}, n={args.n}, database={database}")
    print(summary("baseline: bare FastAPI /ping", baseline, None))
    print(summary("/api/v1/health (SELECT 1)", health, b50))
    print(summary("/ signed-in home page render", home, b50))


def _csrf(client: object) -> str:
    import re

    page = client.get("/login")  # type: ignore[attr-defined]
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    return found.group(1) if found else ""


if __name__ == "__main__":
    main()
