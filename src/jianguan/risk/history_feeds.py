"""The synthetic history's feed records: sampling tests, public opinion, drills and training, fire
systems, special equipment, hidden dangers and the declared monthly output (with the electricity
metered against it, which ``history_readings`` writes as readings).

Its own module because the feeds are one concept — the FeedRecord columns and the feeds import's
vocabulary (docs/feeds.md) — and the history would otherwise outgrow a module. Public through
``jianguan.risk.history`` (``feeds``, ``months``, ``generate``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl

from jianguan.core.workdays import WorkCalendar
from jianguan.risk.history_base import (
    CENTER,
    FOOD,
    I64,
    SEED,
    WORK_SAFETY,
    YEARS,
    F,
    _dates,
    _day,
    _Days,
    _in,
    _instant,
    _instants,
    _latent,
    _sigmoid,
    _table,
    _z,
)

FEED_SCHEMA: dict[str, Any] = {
    "entity_id": pl.Int64,
    "kind": pl.Utf8,
    "category": pl.Utf8,
    "occurred_on": pl.Date,
    "outcome": pl.Utf8,
    "period": pl.Utf8,
    "metric": pl.Utf8,
    "value": pl.Float64,
    "due_on": pl.Date,
    "attrs": pl.Utf8,
    "source": pl.Utf8,
}
FEED_DEFAULTS: dict[str, Any] = {
    "category": "",
    "outcome": "",
    "period": "",
    "metric": "",
    "value": None,
    "due_on": None,
    "attrs": "{}",
    "source": "",
}
# (category, product, the test item a failure names), by sector, and how many samples a year
SAMPLING = {
    "food_production": (
        1.2,
        (
            ("糕点", "蛋糕", "菌落总数"),
            ("肉制品", "酱卤肉制品", "苯甲酸及其钠盐"),
            ("饮料", "果蔬汁饮料", "大肠菌群"),
            ("食用油", "菜籽油", "酸价"),
        ),
    ),
    "food_retail": (
        0.8,
        (
            ("蔬菜", "豇豆", "毒死蜱"),
            ("水果", "香蕉", "吡虫啉"),
            ("畜禽肉", "猪肉", "克伦特罗"),
            ("水产品", "鲈鱼", "恩诺沙星"),
            ("粮食加工品", "大米", "镉(以Cd计)"),
        ),
    ),
    "catering": (
        0.3,
        (
            ("餐饮食品", "自制凉菜", "大肠菌群"),
            ("餐饮食品", "复用餐饮具", "阴离子合成洗涤剂"),
            ("餐饮食品", "油炸面制品", "铝的残留量(干样品,以Al计)"),
        ),
    ),
}
HEADLINES = {
    "food_safety": (
        "网友反映某餐饮店后厨卫生状况堪忧",
        "消费者称在超市购买的熟食疑似变质",
        "市民投诉外卖食品中吃出异物",
    ),
    "safety": ("网传某企业厂区夜间冒出浓烟", "货车司机反映公司要求超时驾驶", "员工爆料车间消防通道被堵塞"),
    "environment": ("居民反映附近工厂夜间排放刺鼻气味", "河道出现不明颜色污水，疑似企业偷排"),
    "service": ("消费者反映商家预付卡退费难", "网友吐槽商家价格标示不清"),
}
HIDDEN_DANGERS = (
    "安全出口指示标志损坏",
    "灭火器压力不足未及时更换",
    "电气线路私拉乱接",
    "危险化学品储存未分区分类",
    "有限空间作业未审批",
    "车辆动态监控设备离线",
)


def _feed(entity_id: I64, kind: str, occurred: I64, **columns: Any) -> pl.DataFrame:
    frame = _table(entity_id=entity_id, kind=kind, occurred_on=_dates(occurred), **columns)
    return frame.select(
        pl.col(c).cast(t) if c in frame.columns else pl.lit(FEED_DEFAULTS[c], t).alias(c)
        for c, t in FEED_SCHEMA.items()
    )


def _attrs(**columns: Any) -> pl.Series:
    """The attributes JSON of each row, leaving out empty values (as the feeds import stores them)."""
    frame = pl.DataFrame(columns).with_columns(pl.all().cast(pl.Utf8))
    pairs = [
        pl.when(pl.col(c).fill_null("") != "").then(pl.struct(c).struct.json_encode().str.slice(1).str.head(-1))
        for c in frame.columns
    ]
    return frame.select(pl.lit("{") + pl.concat_str(pairs, separator=",", ignore_nulls=True) + pl.lit("}")).to_series()


def _yearly(
    latent: pl.DataFrame, rows: I64, rate: F, today: dt.date, days: _Days, rng: np.random.Generator
) -> tuple[I64, I64, I64]:
    """Events a year at ``rate`` (per row) on working days of the three years: (row, day, year)."""
    out: list[tuple[I64, I64, I64]] = []
    for k in range(YEARS):
        lo = _day(today) - (YEARS - k) * 365
        at = np.repeat(rows, rng.poisson(rate))
        day, ok = days.pick(rng, np.full(len(at), lo), np.full(len(at), min(lo + 365, _day(today))))
        out.append((at[ok], day[ok], np.full(int(ok.sum()), k)))
    row, day, year = (np.concatenate(p) for p in zip(*out, strict=True))
    return row, day, year


def feeds(
    entities: pl.DataFrame, *, today: dt.date, seed: int = SEED, calendar: WorkCalendar | None = None
) -> pl.DataFrame:
    """Sampling tests, public opinion, drills and training, fire systems, special equipment, hidden
    dangers and declared output — the FeedRecord columns."""
    latent = _latent(entities, seed)
    days = _Days.around(today, calendar)
    rng = np.random.default_rng([seed, 3])
    ids = latent["entity_id"].to_numpy()
    parts = [
        _sampling(latent, today, days, rng),
        _opinion(latent, today, days, rng),
        *_work_safety(latent, today, days, rng),
        _fire(latent, today, days, rng),
        _equipment(latent, today, rng),
        _dangers(latent, today, days, rng),
        _declared(latent, today, seed)[0],
    ]
    return pl.concat([p.with_columns(pl.Series("entity_id", ids[p["entity_id"].to_numpy()])) for p in parts]).sort(
        "entity_id", "kind", "occurred_on", "category"
    )


def _sampling(latent: pl.DataFrame, today: dt.date, days: _Days, rng: np.random.Generator) -> pl.DataFrame:
    frames = []
    for sector, (rate, products) in SAMPLING.items():
        rows = _in(latent, [sector])
        row, day, year = _yearly(latent, rows, np.full(len(rows), rate), today, days, rng)
        fail = rng.random(len(row)) < _sigmoid(-3.4 + 1.2 * _z(latent, row, year))
        pick = rng.integers(0, len(products), len(row))
        product = np.array(products, dtype=object)[pick]
        frames.append(
            _feed(
                row,
                "sampling",
                day,
                category=product[:, 0].astype(str),
                outcome=np.where(fail, "fail", "pass"),
                source="食品安全抽检监测系统",
                attrs=_attrs(
                    product=product[:, 1].astype(str),
                    item=np.where(fail, product[:, 2].astype(str), ""),
                    lab="杭州市食品药品检验研究院",
                ),
            )
        )
    return pl.concat(frames)


def _opinion(latent: pl.DataFrame, today: dt.date, days: _Days, rng: np.random.Generator) -> pl.DataFrame:
    rows = np.arange(latent.height)
    row, day, _ = _yearly(latent, rows, 0.012 * np.exp(_z(latent, rows)), today, days, rng)
    sector = latent["sector"].to_numpy()[row]
    category = np.select(
        [np.isin(sector, FOOD), np.isin(sector, WORK_SAFETY), sector == "polluter"],
        ["food_safety", "safety", "environment"],
        "service",
    )
    headline = np.array(
        [HEADLINES[c][i % len(HEADLINES[c])] for c, i in zip(category, rng.integers(0, 6, len(row)), strict=True)],
        dtype=str,
    )
    url = np.char.add("https://news.example.com/hz/", (np.arange(len(row)) + 10_000).astype(str))
    return _feed(
        row,
        "opinion",
        day,
        category=category,
        source="舆情监测平台",
        outcome=np.where(rng.random(len(row)) < 0.85, "negative", "neutral"),
        attrs=_attrs(headline=headline, url=url),
    )


def _work_safety(
    latent: pl.DataFrame, today: dt.date, days: _Days, rng: np.random.Generator
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Quarterly drills (a missed one makes the next more likely missed) and half-yearly training."""
    rows = _in(latent, WORK_SAFETY, enterprise=True)
    start, today_n = _day(today) - YEARS * 365, _day(today)
    chemical = np.isin(latent["sector"].to_numpy()[rows], ["chemical", "dangerous_goods"])
    missed, out = np.zeros(len(rows), bool), []
    for q in range(4 * YEARS):
        day, _ = days.pick(rng, np.full(len(rows), start + q * 91), np.full(len(rows), start + q * 91 + 91))
        z = _z(latent, rows, q // 4)
        missed = rng.random(len(rows)) < _sigmoid(np.where(missed, -1.5, -3.5) + 1.0 * z)
        category = np.where(q % 2 == 0, np.where(chemical, "chemical_leak", "road_emergency"), "fire")
        out.append((rows, day, missed, category))
    row, day, miss, category = (np.concatenate(p) for p in zip(*out, strict=True))
    keep = day < today_n
    row, day, miss, category = row[keep], day[keep], miss[keep], category[keep]
    worst = rows[np.argsort(-_z(latent, rows))[: max(1, len(rows) // 30)]] if len(rows) else rows
    for r in worst:  # the worst few missed their last three drills in a row
        miss[np.flatnonzero(row == r)[-3:]] = True
    titles = {
        "chemical_leak": "危险化学品泄漏事故应急演练",
        "road_emergency": "道路运输突发事件应急演练",
        "fire": "消防疏散演练",
    }
    drills = _feed(
        row,
        "drill",
        day,
        category=category,
        outcome=np.where(miss, "missed", "done"),
        source="安全生产信息化监管平台",
        attrs=_attrs(note=pl.Series(category, dtype=pl.Utf8).replace_strict(titles)),
    )
    half = np.repeat(np.arange(2 * YEARS), len(rows))
    t_row = np.tile(rows, 2 * YEARS)
    t_day, _ = days.pick(rng, start + half * 182, start + half * 182 + 182)
    t_missed = rng.random(len(t_row)) < _sigmoid(-3.2 + 1.0 * _z(latent, t_row, half // 2))
    keep = t_day < today_n
    training = _feed(
        t_row[keep],
        "training",
        t_day[keep],
        category="safety_training",
        outcome=np.where(t_missed[keep], "missed", "done"),
        source="安全生产信息化监管平台",
        attrs=_attrs(
            note=np.char.add("主要负责人和安全生产管理人员培训，学时", rng.choice(["16", "24", "32"], int(keep.sum()))),
        ),
    )
    return drills, training


def _fire(latent: pl.DataFrame, today: dt.date, days: _Days, rng: np.random.Generator) -> pl.DataFrame:
    """Quarterly status of the fire-protection systems of the larger and riskier premises, for a year."""
    big = latent["scale"].is_in(["medium", "large"]).to_numpy()
    rows = np.union1d(
        _in(latent, ["chemical", "dangerous_goods", "food_production", "polluter", "equipment", "bath"]),
        np.flatnonzero(big),
    ).astype(np.int64)
    quarter = np.repeat(np.arange(4), len(rows))
    row = np.tile(rows, 4)
    lo = _day(today) - 365 + quarter * 91
    day, _ = days.pick(rng, lo, np.minimum(lo + 91, _day(today)))
    fault = rng.random(len(row)) < _sigmoid(-3.0 + 1.1 * _z(latent, row))
    system = rng.choice(np.array(["alarm", "sprinkler", "hydrant"]), len(row))
    return _feed(
        row,
        "fire_system",
        day,
        category=system,
        outcome=np.where(fault, "fault", "ok"),
        source="消防设施物联网监测系统",
    )


def _equipment(latent: pl.DataFrame, today: dt.date, rng: np.random.Generator) -> pl.DataFrame:
    """Special equipment with its last statutory inspection; ``due_on`` a year later, past for some."""
    sector = latent["sector"].to_numpy()
    big = latent["scale"].is_in(["medium", "large"]).to_numpy()
    rows = np.union1d(
        _in(latent, ["equipment", "chemical", "food_production", "polluter", "bath"]),
        np.flatnonzero(big & (sector == "food_retail")),
    ).astype(np.int64)
    row = np.repeat(rows, rng.integers(1, 4, len(rows)))
    kinds = np.select(
        [sector[row] == "food_retail", sector[row] == "bath"],
        ["elevator", "boiler"],
        rng.choice(np.array(["boiler", "pressure_vessel", "lifting"]), len(row)),
    )
    overdue = rng.random(len(row)) < _sigmoid(-3.4 + 1.2 * _z(latent, row))  # a few per cent, the worse the more
    last = _day(today) - np.where(overdue, rng.integers(370, 700, len(row)), rng.integers(10, 360, len(row)))
    number = "浙A" + pl.Series(np.arange(len(row)) + 1).cast(pl.Utf8).str.zfill(5)
    return _feed(
        row,
        "equipment_inspection",
        last,
        category=kinds,
        outcome="pass",
        due_on=_dates(last + 365),
        source="特种设备安全监察系统",
        attrs=_attrs(note="使用登记证编号 " + number),
    )


def _dangers(latent: pl.DataFrame, today: dt.date, days: _Days, rng: np.random.Generator) -> pl.DataFrame:
    """隐患 reported by the entities' own checks: more, more often major and more left open, the worse they are."""
    rows = _in(
        latent,
        ["chemical", "dangerous_goods", "transport", "food_production", "polluter", "equipment", "manufacturing"],
        enterprise=True,
    )
    row, day, year = _yearly(latent, rows, 0.5 * np.exp(0.8 * _z(latent, rows)), today, days, rng)
    prop = _sigmoid(_z(latent, row, year) + CENTER)
    major = rng.random(len(row)) < 0.05 + 0.15 * prop
    due = day + np.where(major, 60, 30)
    late = rng.random(len(row)) < 0.03 + 0.25 * prop  # left open past the date: the worse, the likelier
    recent = due >= _day(today - dt.timedelta(days=90))  # older late ones were closed after 督办 by now
    still_open = np.where(due >= _day(today), rng.random(len(row)) < 0.7, late & recent)
    return _feed(
        row,
        "hidden_danger",
        day,
        category=np.where(major, "major", "general"),
        due_on=_dates(due),
        outcome=np.where(still_open, "open", "closed"),
        source="隐患排查治理系统",
        attrs=_attrs(item=rng.choice(np.array(HIDDEN_DANGERS), len(row))),
    )


DECLARING = 150  # plants that declare monthly output (and whose electricity is metered)
KWH_PER_T = 450.0  # the usual power per tonne of output, ± a quarter from plant to plant


def months(today: dt.date) -> list[dt.date]:
    """The first days of the twelve full months before today's: the months of declared figures."""
    first = today.replace(day=1)
    out = []
    for _ in range(12):
        first = (first - dt.timedelta(days=1)).replace(day=1)
        out.append(first)
    return out[::-1]


def _declared(latent: pl.DataFrame, today: dt.date, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Declared monthly output and the electricity metered: some plants declare a stoppage and go on
    producing, some declare a fraction of what they make — both more often the worse the plant. What the
    cross-check (risk/feeds.py) compares: power per tonne against the industry's, power in a stopped month
    against the months before (so a stoppage starts after three months of history)."""
    rng = np.random.default_rng([seed, 5])
    pool = _in(latent, ["polluter", "chemical"], enterprise=True)
    rows = np.sort(rng.choice(pool, min(DECLARING, len(pool)), replace=False)) if len(pool) else pool
    n, firsts, z = len(rows), months(today), _z(latent, rows)
    base, per_t = np.exp(rng.normal(6.0, 0.7, n)), rng.uniform(0.75 * KWH_PER_T, 1.25 * KWH_PER_T, n)
    made = base[:, None] * (1 + 0.08 * rng.standard_normal((n, 12)))
    halt, first, length = rng.random(n) < 0.15, rng.integers(3, 10, n), rng.integers(2, 4, n)
    stopped = halt[:, None] & (np.arange(12) >= first[:, None]) & (np.arange(12) < (first + length)[:, None])
    illegal = halt & (rng.random(n) < _sigmoid(-0.8 + 1.5 * z))  # declared stopped, producing anyway
    made = np.where(stopped, np.where(illegal[:, None], base[:, None] * rng.uniform(0.6, 1.0, (n, 12)), 0.0), made)
    under = ~halt[:, None] & (rng.random(n) < _sigmoid(-3.2 + 1.5 * z))[:, None] & (rng.random((n, 12)) < 0.3)
    share = np.where(under, rng.uniform(0.12, 0.3, (n, 12)), rng.uniform(0.97, 1.03, (n, 12)))
    declared = np.round(np.where(stopped, 0.0, made * share), 2)
    power = np.round(made * per_t[:, None] * rng.uniform(0.97, 1.03, (n, 12)))
    starts = np.array([_day(m) for m in firsts])
    ends = np.array([_day((m + dt.timedelta(days=32)).replace(day=1)) for m in firsts])
    period = np.array([m.strftime("%Y-%m") for m in firsts])
    row, col = np.repeat(rows, 12), np.tile(np.arange(12), n)
    figures = _feed(
        row,
        "declared",
        ends[col] + 9,  # declared by the 10th of the month after
        period=period[col],
        metric="declared_output",
        value=declared.ravel(),
        source="企业生产经营数据申报",
        attrs=_attrs(unit=np.full(len(row), "t")),
    )
    metered = _table(
        entity_id=row,
        metric="electricity_kwh",
        measured_at=_instants(_instant(starts[col], np.zeros(len(row)))),
        value=power.ravel(),
        unit="kWh",
    )
    return figures.filter(pl.col("occurred_on") < today), metered
