"""The inspections world (districts, people, officers, entities) for document tests, on the loop's
fixed 'today'."""

import pytest

from jianguan.inspections import visits
from tests.inspections.conftest import world
from tests.inspections.test_visits import TODAY

__all__ = ["world"]


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(visits, "today_shanghai", lambda: TODAY)
