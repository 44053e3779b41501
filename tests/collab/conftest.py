"""The inspections world (districts, people, entities) serves the complaint tests too."""

from collections.abc import Iterator

import pytest

from jianguan.collab import service
from tests.inspections.conftest import world

__all__ = ["world"]


@pytest.fixture(autouse=True)
def _fresh_name_cache() -> Iterator[None]:
    """Each test's registry is new: forget the county names another test cached."""
    service._names.clear()
    yield
    service._names.clear()
