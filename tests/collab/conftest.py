"""The inspections world (districts, people, entities) serves the complaint tests too."""

from tests.inspections.conftest import world

__all__ = ["world"]
