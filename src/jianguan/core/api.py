"""Platform-level JSON routes (health) and what every route shares (the download header)."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Response
from sqlalchemy import text

from jianguan import __version__
from jianguan.config import get_settings
from jianguan.deps import SessionDep

router = APIRouter(tags=["platform"])


def attachment(name: str) -> str:
    """Content-Disposition for a download with a Chinese file name (RFC 6266: ASCII fallback + UTF-8)."""
    ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\?' else "_" for c in name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


@router.get("/health")
def health(db: SessionDep, response: Response) -> dict[str, Any]:
    """App and database status, for load balancers and operators."""
    started = time.perf_counter()
    try:
        db.execute(text("SELECT 1"))
        database: dict[str, Any] = {"status": "ok", "backend": db.get_bind().dialect.name}
    except Exception as exc:  # report, don't raise: this endpoint is for diagnosing outages
        database = {"status": "error", "error": type(exc).__name__}
        response.status_code = 503
    database["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return {"status": "ok" if database["status"] == "ok" else "degraded", "version": __version__,
            "env": get_settings().env, "database": database}
