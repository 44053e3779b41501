"""Intranets have no internet: no page may load anything from another host (no CDN)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", re.IGNORECASE)


def test_api_docs_and_login_load_only_local_assets(engine: Engine) -> None:
    from jianguan.app import create_app

    with TestClient(create_app()) as client:
        for path in ("/api/docs", "/login"):
            response = client.get(path)
            assert response.status_code == 200, path
            assert not EXTERNAL.search(response.text), f"{path} loads from another host"
        docs = client.get("/api/docs").text
        assets = re.findall(r"""(?:src|href)=["'](/static/[^"']+)["']""", docs)
        assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
        for asset in assets:
            assert client.get(asset).status_code == 200, asset
