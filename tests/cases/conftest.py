"""The inspections world (districts, people, entities) serves the case tests too."""

from tests.inspections.conftest import world

__all__ = ["world"]
