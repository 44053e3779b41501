"""The synthetic history's past inspections and their findings, drawn from the hidden ground truth.

Its own module because the inspection loop is a concept of its own and the history would otherwise
outgrow a module: which entities were visited when and by which agency (more often the riskier
sectors, credit classes C/D and the abnormal list), whether problems were found (propensity, yearly
drift and deterrence), the 回头看 follow-ups, the findings drawn from the catalog's check points, and
how each rectification went. Public through ``jianguan.risk.history`` (``inspections``, ``generate``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from jianguan.core.workdays import WorkCalendar
from jianguan.risk.history_base import (
    CENTER,
    DETERRENCE,
    FALLBACK_ITEM,
    HOUR_US,
    I64,
    NEVER,
    SECTORS,
    SEED,
    YEARS,
    _dates,
    _day,
    _Days,
    _instant,
    _instants,
    _latent,
    _sigmoid,
    _table,
)

FALLBACK_FINDINGS = {
    "general": ("未按规定建立并落实自查制度，相关记录不完整", "从业人员培训记录缺失"),
    "serious": ("未按规定落实主体责任，存在较大安全隐患", "关键设施设备未按规定维护，存在重大隐患"),
}


def _visits(
    latent: pl.DataFrame, today: dt.date, days: _Days, rng: np.random.Generator, agencies: Collection[str] | None
) -> pl.DataFrame:
    """Each inspection's entity (row index), day, agency and item, and whether problems were found."""
    n, today_n = latent.height, _day(today)
    sector = latent["sector"].to_numpy()
    credit = latent["credit_class"].to_numpy()
    boost = 1 + 0.5 * np.isin(credit, ["C", "D"]) + 0.5 * latent["abnormal"].to_numpy()
    rate = np.array([SECTORS[s].rate for s in sector]) * boost
    established = latent["established"].to_numpy()
    parts: list[tuple[I64, I64, I64]] = []
    for k in range(YEARS):
        lo, hi = today_n - (YEARS - k) * 365, min(today_n - (YEARS - k - 1) * 365, today_n - 7)
        e = np.repeat(np.arange(n), np.minimum(rng.poisson(rate), 4))
        start = np.clip(np.maximum(lo, established[e] + 30), lo, hi)
        day, ok = days.pick(rng, start, np.full(len(e), hi))
        parts.append((e[ok], day[ok], np.full(int(ok.sum()), k)))
    e, day, year = (np.concatenate(p) for p in zip(*parts, strict=True))
    _, keep = np.unique(e * 100_000 + day, return_index=True)
    e, day, year = e[keep], day[keep], year[keep]  # sorted by entity, then day
    seq = np.arange(len(e)) - np.searchsorted(e, e, side="left")
    drift = np.stack([latent[f"drift_{k}"].to_numpy() for k in range(YEARS)], axis=1)
    logit = latent["logit"].to_numpy()[e] + drift[e, year]
    failed, prev, u = np.zeros(len(e), bool), np.zeros(n, bool), rng.random(len(e))
    for j in range(int(seq.max()) + 1 if len(seq) else 0):
        at = np.flatnonzero(seq == j)
        failed[at] = u[at] < _sigmoid(logit[at] - DETERRENCE * prev[e[at]])
        prev[e[at]] = failed[at]
    # 回头看: some failures are followed up 40–90 days later (their outcome: after a failure, so deterred).
    back = np.flatnonzero(failed & (rng.random(len(e)) < 0.3))
    f_day = days.next_working(day[back] + rng.integers(40, 91, len(back)))
    back, f_day = back[f_day < today_n - 7], f_day[f_day < today_n - 7]
    f_failed = rng.random(len(back)) < _sigmoid(logit[back] - DETERRENCE)
    kind = np.concatenate([np.full(len(e), "routine_random"), np.full(len(back), "follow_up")])
    e_all = np.concatenate([e, e[back]])
    frame = pl.DataFrame(
        {
            "row": e_all,
            "day": np.concatenate([day, f_day]),
            "logit": np.concatenate([logit, logit[back]]),
            "failed": np.concatenate([failed, f_failed]),
            "kind": kind,
            "parent": np.concatenate([np.full(len(e), -1), back]),
        }
    )
    return _checks(frame.with_row_index("key"), latent, rng, agencies)


def _checks(
    frame: pl.DataFrame, latent: pl.DataFrame, rng: np.random.Generator, agencies: Collection[str] | None
) -> pl.DataFrame:
    """The inspecting agency (the county's department) and item; a follow-up repeats its original's."""
    sector = latent["sector"].to_numpy()[frame["row"].to_numpy()]
    dept = np.full(frame.height, "SJ", dtype=object)
    item = np.full(frame.height, FALLBACK_ITEM, dtype=object)
    for name in np.unique(sector):
        at = np.flatnonzero(sector == name)
        checks = SECTORS[str(name)].checks
        shares = np.array([c[2] for c in checks])
        pick = rng.choice(len(checks), size=len(at), p=shares / shares.sum())
        dept[at] = np.array([c[0] for c in checks], dtype=object)[pick]
        item[at] = np.array([c[1] for c in checks], dtype=object)[pick]
    parent = frame["parent"].to_numpy()
    again = parent >= 0
    dept[again], item[again] = dept[parent[again]], item[parent[again]]
    region = latent["region_code"].to_numpy()[frame["row"].to_numpy()]
    code = np.char.add(np.char.add(region.astype(str), "-"), dept.astype(str))
    if agencies is not None:
        known = np.isin(code, np.array(sorted(agencies), dtype=str))
        sj = {s: next((c[1] for c in spec.checks if c[0] == "SJ"), FALLBACK_ITEM) for s, spec in SECTORS.items()}
        item[~known] = np.array([sj[str(s)] for s in sector[~known]], dtype=object)
        code[~known] = np.char.add(region[~known].astype(str), "-SJ")
    out = frame.with_columns(
        pl.Series("agency_code", code.astype(str)),
        pl.Series("item", item.astype(str)),
        pl.Series("entity_id", latent["entity_id"].to_numpy()[frame["row"].to_numpy()]),
        pl.Series("region_code", region.astype(str)),
    )
    return out.filter(pl.col("agency_code").is_in(list(agencies))) if agencies is not None else out


def _pools(points: pl.DataFrame | None) -> dict[tuple[str, str], pl.DataFrame]:
    """Check points by (main item, severity): a finding is a point not met."""
    if points is None or points.height == 0:
        return {}
    keyed = points.with_columns((pl.col("point_code").str.slice(0, 11) + "000").alias("item"))
    return {
        (str(item), str(sev)): part.select("point_code", "text", "basis")
        for (item, sev), part in keyed.sort("point_code").group_by(["item", "severity"], maintain_order=True)
    }


def _finding_texts(
    items: npt.NDArray[Any],
    severity: npt.NDArray[Any],
    pools: Mapping[tuple[str, str], pl.DataFrame],
    rng: np.random.Generator,
) -> pl.DataFrame:
    n = len(items)
    code, text, basis = (np.full(n, "", dtype=object) for _ in range(3))
    sev = severity.copy()
    for item in np.unique(items):
        for s in ("general", "serious"):
            at = np.flatnonzero((items == item) & (severity == s))
            if not len(at):
                continue
            other = "serious" if s == "general" else "general"
            pool, used = (
                (pools[(str(item), s)], s)
                if (str(item), s) in pools
                else ((pools[(str(item), other)], other) if (str(item), other) in pools else (None, s))
            )
            if pool is None:
                text[at] = rng.choice(np.array(FALLBACK_FINDINGS[s], dtype=object), len(at))
                continue
            pick = rng.integers(0, pool.height, len(at))
            code[at] = pool["point_code"].to_numpy()[pick]
            text[at] = pool["text"].to_numpy()[pick]
            basis[at] = pool["basis"].to_numpy()[pick]
            sev[at] = used
    return pl.DataFrame(
        {
            "point_code": code.astype(str),
            "text": text.astype(str),
            "basis": basis.astype(str),
            "severity": sev.astype(str),
        }
    )


def inspections(
    entities: pl.DataFrame,
    *,
    today: dt.date,
    seed: int = SEED,
    points: pl.DataFrame | None = None,
    calendar: WorkCalendar | None = None,
    agencies: Collection[str] | None = None,
    taken: Mapping[str, int] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Three years of inspections (closed, or rectifying while findings are open) and their findings.

    ``points``: the catalog's check points (point_code, text, severity, basis) findings are drawn from;
    ``agencies``: the agency codes that exist (a missing department's inspections go to the county's
    market bureau ``<county>-SJ``; entities without one are left out); ``taken``: the last number used
    per code prefix ``<agency>-JC<year>``, so codes stay unique. Inspections carry ``agency_code``,
    findings ``inspection_code`` and ``agency_code``, for the writer to resolve."""
    latent = _latent(entities, seed)
    days = _Days.around(today, calendar)
    rng = np.random.default_rng([seed, 2])
    visits = _visits(latent, today, days, rng, agencies)
    today_n, m = _day(today), visits.height
    day = visits["day"].to_numpy()
    notice = days.working_before(day, 5 + rng.integers(0, 4, m))
    started = _instant(day, rng.uniform(9.0, 15.5, m))
    ended = started + (rng.uniform(1.0, 3.0, m) * HOUR_US).astype(np.int64)
    feedback = days.add_working(day, rng.integers(1, 6, m))
    findings = _findings(visits, today, days, rng, points)
    done = findings.group_by("key").agg(pl.col("accepted_on").max().alias("done"))
    last = visits.join(done, on="key", how="left")["done"].fill_null(-NEVER).to_numpy()
    failed = visits["failed"].to_numpy()
    closed_day = np.where(
        ~failed,
        feedback,
        np.where(last >= NEVER, NEVER, days.next_working(np.minimum(last, today_n) + 1 + rng.integers(0, 3, m))),
    )
    closed = closed_day < today_n
    closed_at = _instant(closed_day, rng.uniform(14.0, 17.0, m))
    since = np.where(closed, closed_at, _instant(feedback, np.full(m, 16.0)))
    rows = _table(
        **{
            "key": visits["key"],
            "entity_id": visits["entity_id"],
            "agency_code": visits["agency_code"],
            "region_code": visits["region_code"],
            "kind": visits["kind"],
            "method": "on_site",
            "item_codes": visits.select(pl.concat_str(pl.lit('["'), "item", pl.lit('"]'))).to_series(),
            "scheduled_on": _dates(day),
            "notice_required": True,
            "notice_skip_reason": "",
            "notice_sent_on": _dates(notice),
            "visit_started_at": _instants(started),
            "visit_ended_at": _instants(ended),
            "signed_by": "",
            "refusal_reason": "",
            "result": np.where(failed, "problems", "no_problem"),
            "feedback_sent_on": _dates(feedback),
            "closed_at": _instants(closed_at),
            "workflow": "inspection",
            "state": np.select([closed, last < NEVER], ["closed", "reviewing"], "rectifying"),  # reviewing: 销号 due
            "state_since": _instants(since),
            "due_date": pl.Series([None] * m, dtype=pl.Date),
            "due_unconfirmed": False,
            "escalation_level": 0,
            "created_at": _instants(_instant(notice, np.full(m, 9.5))),
            "updated_at": _instants(since),
            "version": 1,
        }
    ).with_columns(pl.when(pl.col("state") == "closed").then(pl.col("closed_at")).alias("closed_at"))
    rows = _numbered(rows, taken)
    codes = rows.select("key", pl.col("code").alias("inspection_code"))
    return rows.drop("key"), findings.join(codes, on="key").drop("key", "accepted_on")


def _numbered(rows: pl.DataFrame, taken: Mapping[str, int] | None) -> pl.DataFrame:
    """``<agency>-JC<year>-NNNNNN`` in visit order, after the numbers already taken (as visits.py numbers)."""
    prefix = pl.col("agency_code") + "-JC" + pl.col("scheduled_on").dt.year().cast(pl.Utf8)
    used = prefix.replace_strict(dict(taken or {"": 0}), default=0, return_dtype=pl.Int64)
    ordered = rows.with_columns(prefix.alias("_prefix"), used.alias("_used")).sort("_prefix", "scheduled_on", "key")
    return (
        ordered.with_columns(
            (
                pl.col("_prefix")
                + "-"
                + (pl.int_range(1, pl.len() + 1).over("_prefix") + pl.col("_used")).cast(pl.Utf8).str.zfill(6)
            ).alias("code")
        )
        .drop("_prefix", "_used")
        .sort("key")
    )


def _findings(
    visits: pl.DataFrame, today: dt.date, days: _Days, rng: np.random.Generator, points: pl.DataFrame | None
) -> pl.DataFrame:
    """1–3 findings per failed inspection; rectification late, rejected or stuck more often the worse the entity."""
    failed = visits.filter(pl.col("failed"))
    prop = _sigmoid(failed["logit"].to_numpy())
    at = np.repeat(np.arange(failed.height), 1 + rng.binomial(2, 0.15 + 0.35 * prop))
    n, today_n = len(at), _day(today)
    p, z, day = prop[at], failed["logit"].to_numpy()[at] - CENTER, failed["day"].to_numpy()[at]
    severity = np.where(rng.random(n) < 0.12 + 0.35 * p, "serious", "general")
    texts = _finding_texts(failed["item"].to_numpy()[at], severity, _pools(points), rng)
    rectify_by = days.next_working(day + np.where(texts["severity"].to_numpy() == "serious", 15, 30))
    late = rng.random(n) < _sigmoid(-2.0 + 1.0 * z)
    stuck = (rng.random(n) < 0.02 + 0.1 * p) & (day > today_n - 500)  # never rectified: 督办 material
    submit = np.where(
        stuck,
        NEVER,
        day + np.ceil(rng.uniform(0.3, 0.95, n) * (rectify_by - day)).astype(np.int64) + late * rng.integers(3, 61, n),
    )
    rejected = (rng.random(n) < 0.04 + 0.2 * p) * (1 + (rng.random(n) < 0.25))
    r1 = submit + rng.integers(1, 4, n)  # rejected, resubmitted, rejected again, resubmitted
    s2 = r1 + rng.integers(7, 21, n)
    r2 = s2 + rng.integers(1, 4, n)
    s3 = r2 + rng.integers(7, 21, n)
    accepted = np.select([rejected == 0, rejected == 1], [submit, s2], s3) + rng.integers(1, 6, n)
    events = [
        (accepted, np.full(n, True), "accepted"),
        (s3, rejected >= 2, "evidence_submitted"),
        (r2, rejected >= 2, "rectifying"),
        (s2, rejected >= 1, "evidence_submitted"),
        (r1, rejected >= 1, "rectifying"),
        (submit, np.full(n, True), "evidence_submitted"),
        (day + rng.integers(5, 21, n), np.full(n, True), "rectifying"),
    ]  # the plan approved
    happened = [valid & (t < today_n) for t, valid, _ in events]
    state = np.select(happened, [s for _, _, s in events], "open")
    since = _instant(np.select(happened, [t for t, _, _ in events], day), np.full(n, 10.5))
    created = _instant(day, np.full(n, 15.0))
    since = np.where(state == "open", created, since)
    rejections = (rejected >= 1) * (r1 < today_n) + (rejected >= 2) * (r2 < today_n)
    return _table(
        **{
            "key": failed["key"].to_numpy()[at],
            "entity_id": failed["entity_id"].to_numpy()[at],
            "agency_code": failed["agency_code"].to_numpy()[at],
            "region_code": failed["region_code"].to_numpy()[at],
            "point_code": texts["point_code"],
            "text": texts["text"],
            "severity": texts["severity"],
            "basis": texts["basis"],
            "rectify_by": _dates(rectify_by),
            "rectification": "{}",
            "rejections": rejections.astype(np.int64),
            "case_ref": "",
            "workflow": "finding",
            "state": state,
            "state_since": _instants(since),
            "due_date": _dates(rectify_by),
            "due_unconfirmed": False,
            "escalation_level": 0,
            "created_at": _instants(created),
            "updated_at": _instants(since),
            "version": 1,
            "accepted_on": np.where(accepted < today_n, accepted, NEVER),
        }
    ).with_columns(
        pl.col("key").cast(pl.UInt32),
        pl.when(pl.col("state").is_in(["open", "rectifying"])).then(pl.col("due_date")).alias("due_date"),
        pl.when(pl.col("state") == "open")
        .then(pl.lit("{}"))
        .otherwise(
            pl.concat_str(
                pl.lit(
                    '{"responsible": "法定代表人", "measures": "按检查意见逐项整改，完善相关管理制度", "timetable": "'
                ),
                pl.col("rectify_by").dt.strftime("%Y-%m-%d"),
                pl.lit('前完成"}'),
            )
        )
        .alias("rectification"),
    )
