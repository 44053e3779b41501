"""Two districts (committed for real) and the app client, for import tests through the API and pages."""

from __future__ import annotations

from tests.auth.conftest import client, districts  # noqa: F401 - fixtures re-exported
