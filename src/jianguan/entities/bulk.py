"""Bulk upsert for imports: many rows in one call, never duplicating, one audit entry per batch.

The import pipeline validates rows first (entities.uscc, reference value domains); this writes
them. Existing entities are fetched once per batch by USCC / ID-number hash, value-domain and
region lookups are read once (``codes.CACHE``), and per-row audit entries are replaced by one
``entity.import`` entry naming the counts, so a batch of thousands of rows stays fast.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.auth.models import User
from jianguan.auth.scope import can_see
from jianguan.core.crypto import lookup_hash
from jianguan.core.errors import Forbidden, Invalid
from jianguan.core.i18n import N_
from jianguan.entities import codes, service, uscc
from jianguan.entities.models import Entity, EntityTag

CHUNK = 1000


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    entity_ids: list[int] = field(default_factory=list)  # in row order


@contextmanager
def bulk_mode(db: Session) -> Iterator[None]:
    """Cache lookups and silence per-row audit entries for the duration of a batch."""
    db.info[codes.CACHE] = {}
    db.info[service.BULK] = True
    try:
        yield
    finally:
        db.info.pop(codes.CACHE, None)
        db.info.pop(service.BULK, None)


def _key(row: Mapping[str, Any]) -> tuple[str, str]:
    code = str(row.get("uscc") or "").strip().upper()
    if code:
        return "uscc", code
    number = str(row.get("id_number") or "").strip()
    if number:
        return "id", lookup_hash(number) or ""
    raise Invalid("uscc", N_("A unified social credit code is required (or an ID number for a "
                             "natural person)."))


def _existing(db: Session, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Entity]:
    found: dict[tuple[str, str], Entity] = {}
    usccs = sorted({k for kind, k in keys if kind == "uscc"})
    hashes = sorted({k for kind, k in keys if kind == "id"})
    for i in range(0, len(usccs), CHUNK):
        for e in db.scalars(select(Entity).where(Entity.uscc.in_(usccs[i:i + CHUNK]))):
            found["uscc", e.uscc or ""] = e
    for i in range(0, len(hashes), CHUNK):
        for e in db.scalars(select(Entity).where(Entity.id_number_hash.in_(hashes[i:i + CHUNK]))):
            found["id", e.id_number_hash or ""] = e
    return found


def upsert_many(
    db: Session, *, rows: Sequence[Mapping[str, Any]], actor: User | None, batch: str = "",
    row_offset: int = 0,
) -> UpsertResult:
    """Create or update every row (entity-field keys as in the import template); all or nothing is
    the caller's transaction. ``Invalid`` names the failing row (``row_offset`` + index + 1)."""
    service.require_writer(actor)
    result = UpsertResult()
    with bulk_mode(db):
        keys = [_key(r) for r in rows]
        existing = _existing(db, keys)
        for index, (row, key) in enumerate(zip(rows, keys, strict=True)):
            try:
                entity = existing.get(key)
                if entity is None:
                    entity = service.create_entity(db, data=row, actor=actor)
                    existing[key] = entity
                    result.created += 1
                else:
                    if actor is not None and not can_see(entity, actor):
                        raise Forbidden(N_("This entity is outside your data scope."))
                    version = entity.version
                    data = service.default_agency(db, actor, row) if "agency_code" in row else row
                    service.update_entity(db, entity_id=entity.id, data=data, version=None, actor=actor)
                    db.flush()
                    if entity.version == version:
                        result.unchanged += 1
                    else:
                        result.updated += 1
            except Invalid as error:
                error.details = [{**d, "row": row_offset + index + 1} for d in (error.details or [])]
                raise
            result.entity_ids.append(entity.id)
        db.flush()
    detail = {"batch": batch, "rows": len(rows), "created": result.created, "updated": result.updated,
              "unchanged": result.unchanged}
    audit.record(db, actor=actor, action="entity.import", object_type="entity", object_id=batch or None,
                 payload={**detail, "ids": result.entity_ids}, detail=detail)
    return result


# --------------------------------------------------------------------------- columnar writer (imports)
# ``write_frame`` writes one checked slice of an import (≤ 50,000 rows of strings) with set-based SQL:
# the slice goes into a temporary staging table (PostgreSQL: COPY; SQLite: executemany), and a few
# INSERT … SELECT / UPDATE … FROM statements do what ``upsert_many`` does row by row — same rules:
# empty cells never overwrite, only really changed rows get a new version, credit/risk changes write
# history, a licence puts the entity under supervision from today, one audit entry per slice.

STAGE = "import_stage_entities"
COPIED = ("uscc", "name", "kind", "status", "agency_id", "region_code", "address", "longitude", "latitude",
          "industry_code", "scale", "registered_capital", "established_on", "closed_on", "legal_rep_name",
          "legal_rep_id_number", "legal_rep_id_number_hash", "id_number", "id_number_hash", "contact_phone",
          "contact_phone_hash", "credit_class", "risk_level", "uscc_warnings", "source_system", "as_of")
# Compared to decide whether an existing row changed (restricted values by their hashes).
COMPARED = ("name", "kind", "status", "agency_id", "region_code", "address", "longitude", "latitude",
            "industry_code", "scale", "registered_capital", "established_on", "closed_on", "legal_rep_name",
            "legal_rep_id_number_hash", "contact_phone_hash", "credit_class", "risk_level")
SECRET = {"legal_rep_id_number": "legal_rep_id_number_hash", "contact_phone": "contact_phone_hash",
          "id_number": "id_number_hash"}
DECIMALS = {"registered_capital": (18, 4), "longitude": (10, 6), "latitude": (10, 6)}
TEXT_DEFAULTS = {"address": "", "legal_rep_name": "", "status": "active", "source_system": ""}


def _stage_table() -> Any:
    from sqlalchemy import Column, Date, Integer, MetaData, String, Table, Text

    from jianguan.entities.models import Entity as Model

    columns: list[Any] = [Column("src_row", Integer), Column("entity_id", Integer), Column("is_new", Integer),
               Column("licensed", Integer), Column("licence_type", String(40)), Column("licence_number", String(60)),
               Column("licence_valid_until", Date)]
    for name in COPIED:
        source = Model.__table__.c[name]
        kind: Any = Text() if name in SECRET or name == "uscc_warnings" else source.type
        columns.append(Column(name, kind))
    return Table(STAGE, MetaData(), *columns, prefixes=["TEMPORARY"])


def _load(db: Session, table: Any, frame: pl.DataFrame) -> None:
    """Rows of ``frame`` (its columns = some of the table's) into ``table``: COPY or executemany."""
    if frame.height == 0:
        return
    connection = db.connection()
    names = ", ".join(frame.columns)
    if connection.dialect.name == "postgresql":
        raw: Any = connection.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN (FORMAT csv)") as copy:
            copy.write(frame.write_csv(include_header=False, null_value=""))
        return
    marks = ", ".join("?" for _ in frame.columns)
    connection.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", frame.rows())


def _prepare(db: Session, frame: pl.DataFrame, *, actor: User | None, source: str, as_of: Any,
             regions: frozenset[str]) -> pl.DataFrame:
    """The slice as staging rows: trimmed, empty → NULL, codes upper-cased, restricted values
    encrypted with their lookup hashes, decimals quantized (as text: never a float)."""
    import datetime as dt
    import json

    from jianguan.core.crypto import encrypt_many, keyring, lookup_hash_many
    from jianguan.imports.identifiers import uscc_flags
    from jianguan.officers.models import Agency

    ring = keyring()
    text = [c for c in frame.columns if frame.schema[c] == pl.String]
    df = frame.with_columns(pl.col(text).str.strip_chars().replace("", None))
    for name in ("uscc", "id_number", "legal_rep_id_number"):
        if name in df.columns:
            df = df.with_columns(pl.col(name).str.to_uppercase())
    codes_ = {c for c in (df.get_column("agency_code").drop_nulls().unique().to_list()
                          if "agency_code" in df.columns else [])}
    agencies = {code: id_ for code, id_ in db.execute(select(Agency.code, Agency.id).where(
        Agency.code.in_(codes_)))} if codes_ else {}
    out: dict[str, Any] = {"src_row": df.get_column("__row").cast(pl.Int64) if "__row" in df.columns
                           else pl.int_range(df.height, eager=True, dtype=pl.Int64)}
    for name in COPIED:
        if name in SECRET.values() or name in ("agency_id", "uscc_warnings", "as_of", "source_system"):
            continue
        out[name] = df.get_column(name) if name in df.columns else pl.Series(name, [None] * df.height, pl.String)
    for name, (precision, scale) in DECIMALS.items():
        out[name] = out[name].cast(pl.Decimal(precision, scale)).cast(pl.String)
    for name, hashed in SECRET.items():
        values = out[name].to_list()
        out[name] = pl.Series(name, encrypt_many(values, ring), pl.String)
        out[hashed] = pl.Series(hashed, lookup_hash_many(values, ring), pl.String)
    agency_codes = df.get_column("agency_code") if "agency_code" in df.columns else None
    out["agency_id"] = pl.Series("agency_id", [agencies.get(c) for c in agency_codes.to_list()], pl.Int64) \
        if agency_codes is not None else pl.Series("agency_id", [None] * df.height, pl.Int64)
    flags = uscc_flags(out["uscc"], regions)
    quoted = [pl.when(pl.col(w)).then(pl.lit(json.dumps(w))).otherwise(None) for w in uscc.WARNINGS]
    out["uscc_warnings"] = flags.select(
        (pl.lit("[") + pl.concat_list(quoted).list.drop_nulls().list.join(", ") + pl.lit("]")).alias("w")
    ).get_column("w")
    out["source_system"] = pl.Series("source_system", [source[:60]] * df.height, pl.String)
    stamp = as_of.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if as_of is not None else None
    out["as_of"] = pl.Series("as_of", [stamp] * df.height, pl.String)
    out["key"] = pl.Series("key", [u if u is not None else f"id:{h}" for u, h in zip(
        out["uscc"].to_list(), out["id_number_hash"].to_list(), strict=True)], pl.String)
    for name in ("tags", "licence_type", "licence_number", "licence_valid_until"):
        out[name] = df.get_column(name) if name in df.columns else pl.Series(name, [None] * df.height, pl.String)
    return pl.DataFrame(out)


def out_of_scope(db: Session, frame: pl.DataFrame, actor: User) -> pl.Series:
    """Per row: True when it would create or change an entity the actor may not see. Existing
    entities are judged by their stored scope; new ones by the agency and region they would get."""
    from jianguan.auth.models import DataScope
    from jianguan.auth.scope import actor_region, region_prefix, visible
    from jianguan.officers.models import Agency

    n = frame.height
    if actor.data_scope == DataScope.all.value or n == 0:
        return pl.Series("out", [False] * n)
    usccs = frame.get_column("uscc").str.strip_chars().str.to_uppercase() if "uscc" in frame.columns \
        else pl.Series([None] * n, dtype=pl.String)
    keys = [u for u in usccs.drop_nulls().unique().to_list() if u]
    existing: set[str] = set()
    seen: set[str] = set()
    for i in range(0, len(keys), CHUNK):
        chunk = keys[i:i + CHUNK]
        existing.update(u for u in db.scalars(select(Entity.uscc).where(Entity.uscc.in_(chunk))) if u)
        seen.update(u for u in db.scalars(select(Entity.uscc).where(Entity.uscc.in_(chunk),
                                                                   visible(Entity, actor))) if u)
    codes_ = frame.get_column("agency_code").str.strip_chars() if "agency_code" in frame.columns \
        else pl.Series([None] * n, dtype=pl.String)
    agencies = {code: (id_, region) for code, id_, region in db.execute(
        select(Agency.code, Agency.id, Agency.region_code).where(
            Agency.code.in_([c for c in codes_.drop_nulls().unique().to_list() if c])))}
    regions = frame.get_column("region_code").str.strip_chars() if "region_code" in frame.columns \
        else pl.Series([None] * n, dtype=pl.String)
    region = actor_region(actor)
    prefix = region_prefix(region) if region else None
    result = []
    for u, code, reg in zip(usccs.to_list(), codes_.to_list(), regions.to_list(), strict=True):
        if u and u in existing:
            result.append(u not in seen)
            continue
        own_region = actor.agency.region_code if actor.agency is not None else None
        agency_id, agency_region = agencies.get(code or "", (actor.agency_id, own_region))
        # The responsible agency must cover the entity's region, and the actor must see the result.
        covered = agency_region is not None and str(reg or "").startswith(region_prefix(agency_region))
        if actor.data_scope == DataScope.region.value:
            inside = covered and prefix is not None and str(reg or "").startswith(prefix)
        else:
            inside = covered and actor.agency_id is not None and agency_id == actor.agency_id
        result.append(not inside)
    return pl.Series("out", result)


def _ensure_stage(db: Session) -> Any:
    from sqlalchemy.schema import CreateTable

    table = _stage_table()
    connection = db.connection()
    connection.execute(CreateTable(table, if_not_exists=True))
    connection.exec_driver_sql(f"DELETE FROM {STAGE}")
    return table


def write_frame(db: Session, frame: pl.DataFrame, *, actor: User | None, batch: str = "", source: str = "",
                as_of: Any = None) -> UpsertResult:
    """Upsert one checked slice by USCC (or a natural person's ID-number hash), set-based."""
    import re

    from sqlalchemy import bindparam, text

    from jianguan.core.workdays import today_shanghai
    from jianguan.db import UTCDateTime, utcnow
    from jianguan.reference import service as ref

    service.require_writer(actor)
    result = UpsertResult()
    if frame.height == 0:
        return result
    regions = db.info.setdefault("jianguan.regions", None) or ref.region_codes(db)
    db.info["jianguan.regions"] = regions
    rows = _prepare(db, frame, actor=actor, source=source, as_of=as_of, regions=regions)
    db.flush()
    stage = _ensure_stage(db)
    licensed = pl.col("licence_type").is_not_null() & pl.col("licence_number").is_not_null()
    last = pl.col("src_row") == pl.col("src_row").max().over("licence_type", "licence_number")  # one per licence
    staged = rows.select("src_row", *COPIED, (licensed & last).cast(pl.Int8).alias("licensed"), "licence_type",
                         "licence_number", "licence_valid_until")
    _load(db, stage, staged)
    conn = db.connection()
    pg = conn.dialect.name == "postgresql"
    if pg:  # a fresh temporary table has no statistics; without them the joins below go quadratic
        conn.exec_driver_sql(f"ANALYZE {STAGE}")
        # The slice is small and every join below has an index on the big side: probing beats hashing
        # the whole registry once per slice. LOCAL: only for this import's transaction.
        conn.exec_driver_sql("SET LOCAL enable_hashjoin = off")
        conn.exec_driver_sql("SET LOCAL enable_mergejoin = off")
    differs = "IS DISTINCT FROM" if pg else "IS NOT"
    now, today = utcnow(), today_shanghai()
    params = {"now": now, "today": today, "actor": actor.id if actor else None, "source": source[:60]}

    def run(sql: str) -> Any:
        statement = text(sql)
        if ":now" in sql:
            statement = statement.bindparams(bindparam("now", type_=UTCDateTime()))
        return conn.execute(statement, {k: v for k, v in params.items() if re.search(rf":{k}\b", sql)})

    run(f"UPDATE {STAGE} SET entity_id = COALESCE("
        f"(SELECT e.id FROM entities e WHERE e.uscc = {STAGE}.uscc), "
        f"(SELECT e.id FROM entities e WHERE {STAGE}.uscc IS NULL AND e.id_number_hash = {STAGE}.id_number_hash))")
    run(f"UPDATE {STAGE} SET is_new = CASE WHEN entity_id IS NULL THEN 1 ELSE 0 END")
    if actor is not None:
        from jianguan.auth.scope import visible

        hidden = db.scalar(select(func.count()).select_from(Entity).where(
            Entity.id.in_(text(f"SELECT entity_id FROM {STAGE} WHERE entity_id IS NOT NULL")),
            ~visible(Entity, actor)))
        if hidden:
            raise Forbidden(N_("This entity is outside your data scope."))
    # Credit and risk of existing entities: close the open history row, open one, when the value changes.
    for column, table in (("credit_class", "entity_credit_history"), ("risk_level", "entity_risk_history")):
        changed = (f"SELECT s.entity_id FROM {STAGE} s JOIN entities e ON e.id = s.entity_id "
                   f"WHERE s.{column} IS NOT NULL AND s.{column} {differs} e.{column}")
        run(f"UPDATE {table} SET valid_to = :today WHERE valid_to IS NULL AND entity_id IN ({changed})")
        run(f"INSERT INTO {table} (entity_id, value, valid_from, valid_to, source, reason, actor_id, created_at) "
            f"SELECT s.entity_id, s.{column}, :today, NULL, :source, '', :actor, :now FROM {STAGE} s "
            f"JOIN entities e ON e.id = s.entity_id WHERE s.{column} IS NOT NULL AND s.{column} {differs} e.{column}")
    def assign(c: str) -> str:
        if c in SECRET:  # a fresh ciphertext only when the value (its hash) changed
            h = SECRET[c]
            return (f"{c} = CASE WHEN s.{h} IS NOT NULL AND s.{h} {differs} entities.{h} THEN s.{c} "
                    f"ELSE entities.{c} END")
        return f"{c} = COALESCE(s.{c}, entities.{c})"

    sets = ", ".join(assign(c) for c in COPIED if c not in ("uscc", "id_number_hash", "uscc_warnings"))
    change = " OR ".join(f"(s.{c} IS NOT NULL AND s.{c} {differs} entities.{c})" for c in COMPARED)
    updated = run(f"UPDATE entities SET {sets}, updated_at = :now, version = entities.version + 1 "
                  f"FROM {STAGE} s WHERE entities.id = s.entity_id AND ({change})")
    result.updated = max(updated.rowcount or 0, 0)
    new_cols = [c for c in COPIED]
    values = ", ".join(
        f"COALESCE(s.{c}, '{TEXT_DEFAULTS[c]}')" if c in TEXT_DEFAULTS else
        (f"COALESCE(s.{c}, :actor_agency)" if c == "agency_id" else
         (f"CAST(s.{c} AS JSON)" if c == "uscc_warnings" and pg else f"s.{c}")) for c in new_cols)
    params["actor_agency"] = actor.agency_id if actor is not None else None
    inserted = run(f"INSERT INTO entities ({', '.join(new_cols)}, under_supervision_since, created_at, updated_at, "
                   f"version) SELECT {values}, CASE WHEN s.licensed = 1 THEN :today END, :now, :now, 1 "
                   f"FROM {STAGE} s WHERE s.is_new = 1 ORDER BY s.src_row")
    result.created = max(inserted.rowcount or 0, 0)
    result.unchanged = frame.height - result.created - result.updated
    run(f"UPDATE {STAGE} SET entity_id = COALESCE("
        f"(SELECT e.id FROM entities e WHERE e.uscc = {STAGE}.uscc), "
        f"(SELECT e.id FROM entities e WHERE {STAGE}.uscc IS NULL AND e.id_number_hash = {STAGE}.id_number_hash)) "
        f"WHERE is_new = 1")
    for column, table in (("credit_class", "entity_credit_history"), ("risk_level", "entity_risk_history")):
        run(f"INSERT INTO {table} (entity_id, value, valid_from, valid_to, source, reason, actor_id, created_at) "
            f"SELECT entity_id, {column}, :today, NULL, :source, '', :actor, :now FROM {STAGE} "
            f"WHERE is_new = 1 AND {column} IS NOT NULL")
    ids = pl.DataFrame(conn.execute(text(f"SELECT src_row, entity_id FROM {STAGE}")).all(),
                       schema={"src_row": pl.Int64, "entity_id": pl.Int64}, orient="row")
    linked = rows.join(ids, on="src_row", how="left")
    _tags(db, linked, today, now, source)
    _licences(run, differs)
    span = (ids.get_column("entity_id").min(), ids.get_column("entity_id").max()) if ids.height else (None, None)
    detail = {"batch": batch, "rows": frame.height, "created": result.created, "updated": result.updated,
              "unchanged": result.unchanged, "first_id": span[0], "last_id": span[1]}
    audit.record(db, actor=actor, action="entity.import", object_type="entity", object_id=batch or None,
                 payload=detail, detail=detail)
    return result


def _tags(db: Session, linked: pl.DataFrame, today: Any, now: Any, source: str) -> None:
    """Tags not already open on the entity are added (from today)."""
    pairs = linked.select("entity_id", pl.col("tags").str.split(";").alias("tag")).explode("tag").filter(
        pl.col("tag").is_not_null() & (pl.col("tag") != "")).unique()
    if pairs.height == 0:
        return
    ids = pairs.get_column("entity_id").unique().to_list()
    open_: list[tuple[int, str]] = []
    for i in range(0, len(ids), CHUNK):
        open_.extend((e, t) for e, t in db.execute(select(EntityTag.entity_id, EntityTag.tag).where(
            EntityTag.entity_id.in_(ids[i:i + CHUNK]), EntityTag.until.is_(None))))
    already = pl.DataFrame(open_, schema={"entity_id": pl.Int64, "tag": pl.String}, orient="row")
    fresh = pairs.join(already, on=["entity_id", "tag"], how="anti")
    _load(db, EntityTag.__table__, fresh.with_columns(
        pl.lit(today.isoformat()).alias("since"), pl.lit(source[:60]).alias("source"),
        pl.lit(_stamp(now)).alias("created_at")))


def _licences(run: Any, differs: str) -> None:
    """Licences upserted by (type, number); an entity holding one is under supervision from today."""
    clash = run(f"SELECT s.src_row FROM {STAGE} s JOIN entity_licences l ON l.licence_type = s.licence_type "
                f"AND l.number = s.licence_number WHERE s.licensed = 1 AND l.entity_id <> s.entity_id").first()
    if clash is not None:
        error = Invalid("licence_number", N_("This licence number belongs to another entity."))
        error.details = [{**d, "row": clash[0]} for d in error.details]
        raise error
    run(f"UPDATE entity_licences SET valid_until = s.licence_valid_until, updated_at = :now, "
        f"version = entity_licences.version + 1 FROM {STAGE} s WHERE s.licensed = 1 "
        f"AND entity_licences.licence_type = s.licence_type AND entity_licences.number = s.licence_number "
        f"AND s.licence_valid_until IS NOT NULL AND s.licence_valid_until {differs} entity_licences.valid_until")
    run(f"INSERT INTO entity_licences (entity_id, licence_type, number, valid_until, issuer, status, source_system, "
        f"created_at, updated_at, version) SELECT s.entity_id, s.licence_type, s.licence_number, "
        f"s.licence_valid_until, '', 'valid', :source, :now, :now, 1 FROM {STAGE} s WHERE s.licensed = 1 "
        f"AND NOT EXISTS (SELECT 1 FROM entity_licences l WHERE l.licence_type = s.licence_type "
        f"AND l.number = s.licence_number)")
    run(f"UPDATE entities SET under_supervision_since = :today WHERE id IN (SELECT entity_id FROM {STAGE} "
        f"WHERE licensed = 1 AND is_new = 0) AND (under_supervision_since IS NULL OR under_supervision_since > :today)")


def _stamp(moment: Any) -> str:
    """A UTC instant as both databases read it from text."""
    import datetime as dt

    return str(moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f"))
