"""The double-random draw as a pure function of (pool, parameters, seed): algorithm ``jg-draw/1``.

Nothing here reads the database or the clock, so ``jianguan draw verify`` can re-run a recorded draw
from its stored pool snapshot and compare, and anyone with the snapshot and the seed can check the
result with a few lines of any language (docs/inspections.md spells the steps out):

1. Every candidate gets a key: the first 16 hex digits of SHA-256("<seed>|<USCC>") (or "<seed>|#<id>"
   for an entity without a USCC). Excluded candidates take no part; forced ones are always drawn.
2. Each stratum (risk level / credit class) gets a quota: ``n × ratio`` rounded half up, or — when the
   plan gives a total (a ratio of the whole pool or a count) — the total shared out in proportion to
   ``n × weight`` (water-filling, never more than the stratum has), whole numbers by largest remainder.
3. In each stratum the quota's smallest keys are drawn.
4. Drawn entities, in key order, get ``officers_per_domain`` officers for every domain of the plan's
   items: among the officers whose region covers the entity's, qualified for the domain, not recused
   and under the workload cap, the least loaded first, ties broken by the officer's key XOR the
   entity's key. Experts likewise, from the experts of those domains. Too few people is a shortfall,
   reported, never papered over.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

import polars as pl

ALGORITHM = "jg-draw/1"
POOL_FORMAT = "jg-draw-pool/1"
ENTITY_SCHEMA = {"entity_id": pl.Int64, "uscc": pl.Utf8, "region": pl.Utf8, "stratum": pl.Utf8,
                 "forced": pl.Utf8, "excluded": pl.Utf8}


@dataclass(frozen=True)
class Person:
    """An officer or expert as the draw sees them: who, where, what for, how busy already."""

    id: int
    region: str
    domains: tuple[str, ...]
    load: int = 0


@dataclass
class Pool:
    """Everything the draw decides from. ``entities`` has the columns of ``ENTITY_SCHEMA``:
    ``forced`` / ``excluded`` hold a reason code or ""; ``recusals`` maps entity id → officer ids."""

    entities: pl.DataFrame
    officers: list[Person] = field(default_factory=list)
    experts: list[Person] = field(default_factory=list)
    recusals: dict[int, set[int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Params:
    """The plan's rules for this draw. Ratios are percents (decimal strings) per stratum."""

    ratios: dict[str, str]
    domains: tuple[str, ...]
    target_ratio: str | None = None  # percent of the eligible pool, shared out by weight
    target_count: int | None = None
    weighted: bool = True  # False: every stratum weighs the same (targeted campaigns)
    officers_per_domain: int = 2
    workload_cap: int | None = None
    expert_count: int = 0
    expert_min_pool: int = 30
    model_number: int | None = None  # strata graded by this learned model instead of the risk score

    def to_json(self) -> dict[str, Any]:
        out = {"ratios": dict(sorted(self.ratios.items())), "domains": list(self.domains),
               "target_ratio": self.target_ratio, "target_count": self.target_count,
               "weighted": self.weighted, "officers_per_domain": self.officers_per_domain,
               "workload_cap": self.workload_cap, "expert_count": self.expert_count,
               "expert_min_pool": self.expert_min_pool}
        if self.model_number is not None:  # absent from draws by the score, so their records stay as they were
            out["model_number"] = self.model_number
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Params:
        return cls(ratios=dict(data["ratios"]), domains=tuple(data["domains"]),
                   target_ratio=data.get("target_ratio"), target_count=data.get("target_count"),
                   weighted=bool(data.get("weighted", True)),
                   officers_per_domain=int(data.get("officers_per_domain", 2)),
                   workload_cap=data.get("workload_cap"), expert_count=int(data.get("expert_count", 0)),
                   expert_min_pool=int(data.get("expert_min_pool", 30)), model_number=data.get("model_number"))


@dataclass(frozen=True)
class Stratum:
    stratum: str
    pool: int  # candidates in the stratum
    excluded: int
    forced: int
    eligible: int  # in the random part: neither excluded nor forced
    ratio: str  # percent from the rule set
    quota: int  # drawn at random from the eligible


@dataclass(frozen=True)
class Shortfall:
    """Too few people for one drawn entity: ``available`` of ``needed`` for the domain."""

    entity_id: int
    region: str
    domain: str
    role: str  # officer / expert
    needed: int
    available: int


@dataclass(frozen=True)
class Assignment:
    entity_id: int
    role: str  # officer / expert
    person_id: int
    domain: str


@dataclass
class Result:
    selected: pl.DataFrame  # entity_id, uscc, region, stratum, reason, key — in assignment order
    assignments: list[Assignment]
    strata: list[Stratum]
    shortfalls: list[Shortfall]

    @property
    def text(self) -> str:
        return result_text(self.selected, self.assignments)

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


# --------------------------------------------------------------------------- canonical texts


def _check_field(value: str) -> str:
    if "," in value or "\n" in value:
        raise ValueError(f"a pool field may not contain ',' or a newline: {value!r}")
    return value


def _lines(tag: str, frame: pl.DataFrame) -> str:
    """Rows as "tag,v1,v2,…" lines (no trailing newline), built by Polars, refusing commas in values."""
    if frame.height == 0:
        return ""
    text = frame.select(pl.all().cast(pl.Utf8).fill_null(""))
    if text.select(pl.any_horizontal(pl.all().str.contains("[,\n]")).any()).item():
        raise ValueError("a pool or result field may not contain ',' or a newline")
    joined = text.select(pl.concat_str([pl.lit(tag), *[pl.col(c) for c in text.columns]], separator=","))
    return str(joined.to_series().str.join("\n").item())


def _text(header: str, parts: Sequence[str]) -> str:
    return "\n".join([header, *(p for p in parts if p)]) + "\n"


def pool_text(pool: Pool) -> str:
    """The snapshot whose SHA-256 the draw records: one line per candidate, officer, expert, recusal,
    sorted, comma-separated (no field may contain a comma)."""
    lines = [_lines("E", pool.entities.select(list(ENTITY_SCHEMA)).sort("entity_id"))]
    for tag, people in (("O", pool.officers), ("X", pool.experts)):
        lines += [f"{tag},{p.id},{_check_field(p.region)},{';'.join(p.domains)},{p.load}"
                  for p in sorted(people, key=lambda p: p.id)]
    for entity_id in sorted(pool.recusals):
        lines += [f"R,{entity_id},{officer_id}" for officer_id in sorted(pool.recusals[entity_id])]
    return _text(POOL_FORMAT, lines)


def parse_pool(text: str) -> Pool:
    """The inverse of ``pool_text`` (used by verify)."""
    head, _, body = text.partition("\n")
    if head != POOL_FORMAT:
        raise ValueError("not a jianguan draw pool snapshot")
    lines = pl.Series("line", body.splitlines(), dtype=pl.Utf8)
    names = list(ENTITY_SCHEMA)
    frame = (lines.filter(lines.str.starts_with("E,")).str.slice(2)
             .str.split_exact(",", len(names) - 1).struct.rename_fields(names).struct.unnest()
             .with_columns(pl.col("entity_id").cast(pl.Int64)))
    officers: list[Person] = []
    experts: list[Person] = []
    recusals: dict[int, set[int]] = defaultdict(set)
    for line in lines.filter(~lines.str.starts_with("E,")).to_list():
        tag, _, rest = line.partition(",")
        parts = rest.split(",")
        if tag in ("O", "X"):
            person = Person(int(parts[0]), parts[1], tuple(d for d in parts[2].split(";") if d), int(parts[3]))
            (officers if tag == "O" else experts).append(person)
        elif tag == "R":
            recusals[int(parts[0])].add(int(parts[1]))
    return Pool(frame.select(names), officers, experts, dict(recusals))


def result_text(selected: pl.DataFrame, assignments: Sequence[Assignment] | pl.DataFrame) -> str:
    if not isinstance(assignments, pl.DataFrame):
        assignments = assignment_frame(assignments)
    return _text(ALGORITHM, [_lines("S", selected.select("entity_id", "stratum", "reason", "key")),
                             _lines("A", assignments.select("entity_id", "role", "person_id", "domain"))])


def assignment_frame(assignments: Sequence[Assignment]) -> pl.DataFrame:
    return pl.DataFrame({"entity_id": [a.entity_id for a in assignments], "role": [a.role for a in assignments],
                         "person_id": [a.person_id for a in assignments], "domain": [a.domain for a in assignments]},
                        schema={"entity_id": pl.Int64, "role": pl.Utf8, "person_id": pl.Int64, "domain": pl.Utf8})


# --------------------------------------------------------------------------- keys and quotas


def keys(seed: str, idents: Iterable[str]) -> list[str]:
    prefix = f"{seed}|".encode()
    return [hashlib.sha256(prefix + i.encode()).hexdigest()[:16] for i in idents]


def person_key(seed: str, role: str, person_id: int) -> int:
    return int(hashlib.sha256(f"{seed}|{role}|{person_id}".encode()).hexdigest()[:16], 16)


def round_half_up(value: Fraction) -> int:
    return int((Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal(1), ROUND_HALF_UP))


def quotas(sizes: dict[str, int], ratios: dict[str, Decimal], *, total: int | None, weighted: bool) -> dict[str, int]:
    """Quota per stratum (see the module docstring, step 2). ``total`` None: each stratum its ratio."""
    if total is None:
        return {s: min(n, round_half_up(Fraction(n) * Fraction(ratios[s]) / 100)) for s, n in sizes.items()}
    weight = {s: (Fraction(ratios[s]) if weighted else Fraction(1)) for s in sizes}
    total = min(total, sum(n for s, n in sizes.items() if weight[s] > 0))
    # Water-filling: strata whose share would exceed their size are capped at it; the rest share the
    # remainder in proportion to n × weight.
    capped: set[str] = set()
    while True:
        open_ = [s for s in sizes if s not in capped and weight[s] > 0 and sizes[s] > 0]
        rest = total - sum(sizes[s] for s in capped)
        mass = sum(Fraction(sizes[s]) * weight[s] for s in open_)
        k = Fraction(rest) / mass if mass else Fraction(0)
        over = [s for s in open_ if k * weight[s] >= 1]
        if not over:
            break
        capped.update(over)
    exact = {s: Fraction(sizes[s]) if s in capped else (k * weight[s] * sizes[s] if weight[s] > 0 else Fraction(0))
             for s in sizes}
    out = {s: int(v) for s, v in exact.items()}  # floor
    short = total - sum(out.values())
    by_remainder = sorted((s for s in sizes if out[s] < sizes[s] and exact[s] > out[s]),
                          key=lambda s: (-(exact[s] - out[s]), s))
    for s in by_remainder[:short]:
        out[s] += 1
    return out


# --------------------------------------------------------------------------- the draw


def _target(params: Params, eligible: int) -> int | None:
    if params.target_count is not None:
        return min(int(params.target_count), eligible)
    if params.target_ratio is not None:
        return round_half_up(Fraction(eligible) * Fraction(Decimal(params.target_ratio)) / 100)
    return None


def select(pool: Pool, params: Params, seed: str) -> tuple[pl.DataFrame, list[Stratum]]:
    """Steps 1–3: the drawn entities (forced first, then the random part) and the strata table."""
    frame = pool.entities.filter(pl.col("excluded") == "")
    ident = pl.when(pl.col("uscc") != "").then(pl.col("uscc")).otherwise(
        pl.lit("#") + pl.col("entity_id").cast(pl.Utf8))
    frame = frame.with_columns(pl.Series("key", keys(seed, frame.select(ident).to_series().to_list()),
                                         dtype=pl.Utf8))
    random_part = frame.filter(pl.col("forced") == "")
    sizes = dict(random_part.group_by("stratum").len().iter_rows())
    for stratum in sizes:
        if stratum not in params.ratios:
            raise ValueError(f"no sampling ratio for stratum {stratum!r}")
    ratios = {s: Decimal(params.ratios[s]) for s in sizes}
    quota = quotas(sizes, ratios, total=_target(params, random_part.height), weighted=params.weighted)
    quota_frame = pl.DataFrame({"stratum": list(quota), "quota": list(quota.values())},
                               schema={"stratum": pl.Utf8, "quota": pl.Int64})
    drawn = (random_part.sort("stratum", "key", "entity_id")
             .with_columns(rank=pl.int_range(pl.len()).over("stratum"))
             .join(quota_frame, on="stratum", how="left")
             .filter(pl.col("rank") < pl.col("quota"))
             .with_columns(reason=pl.lit("random")))
    forced = frame.filter(pl.col("forced") != "").with_columns(reason=pl.col("forced"))
    columns = ["entity_id", "uscc", "region", "stratum", "reason", "key"]
    selected = pl.concat([forced.select(columns), drawn.select(columns)]).sort("key", "entity_id")

    everyone = pool.entities.group_by("stratum").agg(
        pool=pl.len(), excluded=(pl.col("excluded") != "").sum(),
        forced=((pl.col("forced") != "") & (pl.col("excluded") == "")).sum())
    strata = [Stratum(s, int(n), int(x), int(f), sizes.get(s, 0), params.ratios.get(s, "0"), quota.get(s, 0))
              for s, n, x, f in everyone.sort("stratum").iter_rows()]
    return selected, strata


def covering_regions(region: str) -> tuple[str, ...]:
    """A county's officers, its city's and its province's may inspect it (GB/T 2260 codes)."""
    return tuple(dict.fromkeys((region, region[:4] + "00", region[:2] + "0000")))


class _Roster:
    """People grouped by (region, domain) with their running loads."""

    def __init__(self, people: Sequence[Person], seed: str, role: str, cap: int | None, by_region: bool) -> None:
        self.role, self.cap, self.by_region = role, cap, by_region
        self.load = {p.id: p.load for p in people}
        self.key = {p.id: person_key(seed, role, p.id) for p in people}
        self.groups: dict[tuple[str, str], list[int]] = defaultdict(list)
        for p in people:
            for d in p.domains:
                self.groups[(p.region if by_region else "", d)].append(p.id)
        self._covering: dict[tuple[str, str], list[int]] = {}

    def candidates(self, region: str, domain: str) -> list[int]:
        found = self._covering.get((region, domain))
        if found is None:
            regions = covering_regions(region) if self.by_region else ("",)
            found = [pid for r in regions for pid in self.groups.get((r, domain), ())]
            self._covering[(region, domain)] = found
        return found

    def pick(self, region: str, domain: str, entity_key: int, n: int, exclude: set[int]) -> tuple[list[int], int]:
        load, key, cap = self.load, self.key, self.cap
        ranked = [(load[pid], key[pid] ^ entity_key, pid) for pid in self.candidates(region, domain)
                  if pid not in exclude and (cap is None or load[pid] < cap)]
        ranked.sort()  # a few dozen tuples: sorting in C beats a heap in Python
        chosen = [pid for _, _, pid in ranked[:n]]
        for pid in chosen:
            load[pid] += 1
        return chosen, len(ranked)


def run(pool: Pool, params: Params, seed: str,
        selection: tuple[pl.DataFrame, list[Stratum]] | None = None) -> Result:
    """The whole draw: selection (or the one ``select`` already made), then the teams."""
    selected, strata = selection or select(pool, params, seed)
    officers = _Roster(pool.officers, seed, "officer", params.workload_cap, by_region=True)
    experts = _Roster(pool.experts, seed, "expert", None, by_region=False)
    assignments: list[Assignment] = []
    shortfalls: list[Shortfall] = []
    expert_pool = {p.id for p in pool.experts if set(p.domains) & set(params.domains)}
    want_experts = params.expert_count > 0
    if want_experts and len(expert_pool) < params.expert_min_pool:
        shortfalls.append(Shortfall(0, "", ",".join(params.domains), "expert_pool", params.expert_min_pool,
                                    len(expert_pool)))
        want_experts = False
    for entity_id, region, key in selected.select("entity_id", "region", "key").iter_rows():
        entity_key = int(key, 16)
        team: set[int] = set()
        recused = pool.recusals.get(entity_id, set())
        for domain in params.domains:
            chosen, available = officers.pick(region, domain, entity_key, params.officers_per_domain,
                                              recused | team if recused else team)
            if len(chosen) < params.officers_per_domain:
                shortfalls.append(Shortfall(entity_id, region, domain, "officer", params.officers_per_domain,
                                            available))
            team.update(chosen)
            assignments += [Assignment(entity_id, "officer", pid, domain) for pid in chosen]
        if want_experts:
            chosen_experts: set[int] = set()
            for i in range(params.expert_count):
                domain = params.domains[i % len(params.domains)]
                got, available = experts.pick("", domain, entity_key, 1, chosen_experts)
                if not got:
                    shortfalls.append(Shortfall(entity_id, region, domain, "expert", 1, available))
                chosen_experts.update(got)
                assignments += [Assignment(entity_id, "expert", pid, domain) for pid in got]
    return Result(selected, assignments, strata, shortfalls)
