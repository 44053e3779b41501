"""Two districts with entities in each, for scope and masking tests."""

from __future__ import annotations

from typing import Any

from jianguan.entities.uscc import make_uscc
from tests.auth.conftest import client, districts  # noqa: F401 - fixtures re-exported

XIHU_USCC = make_uscc("9", "1", "330106", "MA2H0001")
BINJIANG_USCC = make_uscc("9", "1", "330108", "MA2H0002")


def entity_data(uscc: str, name: str, region: str, **extra: Any) -> dict[str, Any]:
    return {"uscc": uscc, "name": name, "kind": "enterprise", "region_code": region,
            "industry_code": "6210", "legal_rep_name": "王芳", "legal_rep_id_number": "110101199003078515",
            "contact_phone": "13800138000", **extra}
