"""The registry reads the real reference package: value domains and GB/T 2260 regions."""

from __future__ import annotations

from sqlalchemy.orm import Session

from jianguan.entities import codes, service
from jianguan.entities.uscc import make_uscc
from jianguan.reference import service as reference


def test_coded_values_and_division_warnings_come_from_the_loaded_reference_tables(db: Session) -> None:
    assert codes._reference() is reference
    reference.load_value_domains(db)
    reference.load_regions(db)
    assert codes.resolve(db, "entity_kind", "个体工商户") == "individual_business"
    assert codes.resolve(db, "risk_level", "高风险（红）") == "red"
    assert codes.label(db, "credit_class", "A") == "A级（守信）"
    assert codes.region_name(db, "330106") == "西湖区"
    unknown = service.create_entity(db, data={"uscc": make_uscc("9", "1", "999999", "MA2H7777"), "name": "甲",
                                              "kind": "企业", "region_code": "330106"}, actor=None)
    assert unknown.uscc_warnings == ["uscc.division"]
    known = service.create_entity(db, data={"uscc": make_uscc("9", "1", "330106", "MA2H7778"), "name": "乙",
                                            "kind": "企业", "region_code": "330106"}, actor=None)
    assert known.uscc_warnings == []
