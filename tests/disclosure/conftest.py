from __future__ import annotations

import pytest

from jianguan.inspections import visits
from tests.inspections.conftest import world  # noqa: F401 - fixture re-exported
from tests.inspections.test_visits import TODAY


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(visits, "today_shanghai", lambda: TODAY)
