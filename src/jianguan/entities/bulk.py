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
from jianguan.core.bulkload import LOCKED, UNIQUE_OFF, one_of
from jianguan.core.bulkload import load_frame as _load
from jianguan.core.crypto import lookup_hash
from jianguan.core.errors import Forbidden, Invalid
from jianguan.core.i18n import N_
from jianguan.entities import codes, service, uscc
from jianguan.entities.models import Entity, EntityLicence, EntityTag


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
    if usccs:
        for e in db.scalars(select(Entity).where(one_of(db, Entity.uscc, usccs))):
            found["uscc", e.uscc or ""] = e
    if hashes:
        for e in db.scalars(select(Entity).where(one_of(db, Entity.id_number_hash, hashes))):
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
# ``write_frame`` writes one checked slice of an import (≤ 50,000 rows of strings) set-based, with the
# rules of ``upsert_many``: empty cells never overwrite, only really changed rows get a new version,
# credit/risk changes write history, a licence puts the entity under supervision from today, one audit
# entry per slice. The slice is matched to existing entities in one query; new entities go straight
# into their tables (PostgreSQL: COPY; SQLite: executemany) under ids taken beforehand, existing ones
# through a temporary staging table and a few UPDATE … FROM statements.

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
HISTORIES = (("credit_class", "entity_credit_history"), ("risk_level", "entity_risk_history"))


def _stage_table() -> Any:
    from sqlalchemy import Column, Integer, MetaData, Table, Text

    columns: list[Any] = [Column("src_row", Integer), Column("entity_id", Integer)]
    for name in COPIED:
        source = Entity.__table__.c[name]
        kind: Any = Text() if name in SECRET or name == "uscc_warnings" else source.type
        columns.append(Column(name, kind))
    return Table(STAGE, MetaData(), *columns, prefixes=["TEMPORARY"])


def prepare(frame: pl.DataFrame, *, regions: frozenset[str], source: str, as_of: Any) -> pl.DataFrame:
    """The slice as rows to write: trimmed, empty → NULL, codes upper-cased, restricted values
    encrypted with their lookup hashes, decimals quantized (as text: never a float).

    No database access: the import pipeline runs it in a thread one slice ahead of the writer (the
    encryption is the costly part, and the writer mostly waits for the database)."""
    import datetime as dt
    import json

    from jianguan.core.crypto import encrypt_column, keyring, lookup_hash_column
    from jianguan.imports.identifiers import uscc_flags

    ring = keyring()
    text = [c for c in frame.columns if frame.schema[c] == pl.String]
    df = frame.with_columns(pl.col(text).str.strip_chars().replace("", None))
    for name in ("uscc", "id_number", "legal_rep_id_number"):
        if name in df.columns:
            df = df.with_columns(pl.col(name).str.to_uppercase())

    def column(name: str) -> pl.Series:
        return df.get_column(name) if name in df.columns else pl.Series(name, [None] * df.height, pl.String)

    out: dict[str, Any] = {"src_row": df.get_column("__row").cast(pl.Int64) if "__row" in df.columns
                           else pl.int_range(df.height, eager=True, dtype=pl.Int64)}
    for name in COPIED:
        if name not in SECRET.values() and name not in ("agency_id", "uscc_warnings", "as_of", "source_system"):
            out[name] = column(name)
    for name, (precision, scale) in DECIMALS.items():
        out[name] = out[name].cast(pl.Decimal(precision, scale)).cast(pl.String)
    for name, hashed in SECRET.items():
        values = out[name]
        out[name] = encrypt_column(values, ring)
        out[hashed] = lookup_hash_column(values, ring).alias(hashed)
    out["agency_code"] = column("agency_code")
    flags = uscc_flags(out["uscc"], regions)
    quoted = [pl.when(pl.col(w)).then(pl.lit(json.dumps(w))).otherwise(None) for w in uscc.WARNINGS]
    out["uscc_warnings"] = flags.select(
        (pl.lit("[") + pl.concat_list(quoted).list.drop_nulls().list.join(", ") + pl.lit("]")).alias("w")
    ).get_column("w")
    out["source_system"] = pl.Series("source_system", [source[:60]] * df.height, pl.String)
    stamp = as_of.astimezone(dt.UTC) if as_of is not None else None
    out["as_of"] = pl.Series("as_of", [stamp] * df.height, pl.Datetime("us", "UTC"))
    for name in ("tags", "licence_type", "licence_number", "licence_valid_until"):
        out[name] = column(name)
    rows = pl.DataFrame(out)
    return rows.with_columns(pl.coalesce(pl.col("uscc"), pl.lit("id:") + pl.col("id_number_hash")).alias("key"))


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
    if keys:
        existing.update(u for u in db.scalars(select(Entity.uscc).where(one_of(db, Entity.uscc, keys))) if u)
        seen.update(u for u in db.scalars(select(Entity.uscc).where(one_of(db, Entity.uscc, keys),
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


def _ensure(db: Session, table: Any) -> None:
    """An empty temporary staging table (created once per connection)."""
    from sqlalchemy.schema import CreateTable

    connection = db.connection()
    connection.execute(CreateTable(table, if_not_exists=True))
    connection.exec_driver_sql(f"DELETE FROM {table.name}")


def _matched(db: Session, rows: pl.DataFrame) -> pl.DataFrame:
    """``rows`` with ``agency_id`` (from its code, else NULL) and ``entity_id`` (NULL: a new entity)."""
    from jianguan.officers.models import Agency

    codes_ = [c for c in rows.get_column("agency_code").drop_nulls().unique().to_list() if c]
    agencies = dict(db.execute(select(Agency.code, Agency.id).where(Agency.code.in_(codes_))).all()) \
        if codes_ else {}
    usccs = rows.get_column("uscc").drop_nulls().to_list()
    hashes = rows.filter(pl.col("uscc").is_null()).get_column("id_number_hash").drop_nulls().to_list()
    found: list[tuple[str, int]] = []
    table = _lookup_table(db, "entities")
    if usccs:
        found.extend((u or "", e) for u, e in db.execute(select(table.c.uscc, table.c.id).where(
            one_of(db, table.c.uscc, usccs))))
    if hashes:
        found.extend((f"id:{h}", e) for h, e in db.execute(select(table.c.id_number_hash, table.c.id).where(
            one_of(db, table.c.id_number_hash, hashes))))
    known = pl.DataFrame(found, schema={"key": pl.String, "entity_id": pl.Int64}, orient="row")
    return rows.with_columns(
        pl.col("agency_code").replace_strict(agencies, default=None, return_dtype=pl.Int64).alias("agency_id"),
    ).join(known, on="key", how="left")


# While a large load has a table's unique constraints off, rows are matched against a snapshot of
# its keys taken before the load wrote anything: (columns copied, columns indexed).
SNAPSHOTS = {"entities": (("id", "uscc", "id_number_hash"), ("uscc", "id_number_hash")),
             "entity_licences": (("id", "licence_type", "number", "entity_id", "valid_until"),
                                 ("licence_type, number",))}


def _lookup_table(db: Session, name: str) -> Any:
    """Where existing rows of ``name`` are found: the table — or its snapshot, while a large load has
    the table's unique constraints off (so no index on its keys). Rows of the load itself need no
    lookup: a file names each USCC and each licence once (checked); natural persons are added to
    the snapshot as they are written."""
    from sqlalchemy import Column, MetaData, Table

    off = db.info.get(UNIQUE_OFF)
    source: Any = Entity.__table__ if name == "entities" else EntityLicence.__table__
    if off is None or name not in off[1]:
        return source
    columns, indexed = SNAPSHOTS[name]
    snapshot = f"import_known_{name}"
    table = Table(snapshot, MetaData(), *(Column(c, source.c[c].type) for c in columns), prefixes=["TEMPORARY"])
    if db.info.get(snapshot) != off[0]:  # the first slice of this load: nothing of it written yet
        conn = db.connection()
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {snapshot}")
        conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {snapshot} AS SELECT {', '.join(columns)} FROM {name}")
        for column in indexed:
            conn.exec_driver_sql(f"CREATE INDEX ON {snapshot} ({column})")
        conn.exec_driver_sql(f"ANALYZE {snapshot}")
        db.info[snapshot] = off[0]
    return table


def _take_ids(db: Session, n: int) -> pl.Series:
    """``n`` fresh entity ids, taken before the rows are written so every related row can carry them."""
    connection = db.connection()
    if n == 0:
        return pl.Series("entity_id", [], pl.Int64)
    if connection.dialect.name == "postgresql" and "entities" in db.info.get(LOCKED, ()):
        # No other transaction can insert an entity now: reserve the whole block in one call.
        last = connection.exec_driver_sql("SELECT setval(pg_get_serial_sequence('entities', 'id'), "
                                          "nextval(pg_get_serial_sequence('entities', 'id')) + %(n)s - 1)",
                                          {"n": n}).scalar_one()
        return pl.int_range(last - n + 1, last + 1, eager=True, dtype=pl.Int64).alias("entity_id")
    if connection.dialect.name == "postgresql":
        ids = connection.exec_driver_sql(
            "SELECT nextval(pg_get_serial_sequence('entities', 'id')) FROM generate_series(1, %(n)s)", {"n": n})
        return pl.Series("entity_id", [i for (i,) in ids], pl.Int64)
    # SQLite hands out max(id) + 1: take the write lock first so no other writer can take the same ids.
    connection.exec_driver_sql("UPDATE entities SET id = id WHERE id = -1")
    top = connection.exec_driver_sql("SELECT COALESCE(MAX(id), 0) FROM entities").scalar() or 0
    return pl.int_range(top + 1, top + 1 + n, eager=True, dtype=pl.Int64).alias("entity_id")


def write_frame(db: Session, frame: pl.DataFrame, *, actor: User | None, batch: str = "", source: str = "",
                as_of: Any = None, prepared: pl.DataFrame | None = None) -> UpsertResult:
    """Upsert one checked slice by USCC (or a natural person's ID-number hash), set-based.
    ``prepared``: ``prepare(frame, …)`` already done (by the pipeline, one slice ahead)."""
    from jianguan.core.workdays import today_shanghai
    from jianguan.db import utcnow

    service.require_writer(actor)
    result = UpsertResult()
    if frame.height == 0:
        return result
    rows = prepared if prepared is not None else prepare(frame, regions=region_codes(db), source=source, as_of=as_of)
    db.flush()
    now, today = utcnow(), today_shanghai()
    rows = _matched(db, rows)
    old = rows.filter(pl.col("entity_id").is_not_null())
    # Keys are unique per file (checked); for direct callers a key twice in a slice: the last row wins.
    # In USCC order: the unique index takes the slice's keys in one sweep instead of at random.
    new = rows.filter(pl.col("entity_id").is_null()).unique("key", keep="last").sort("key")
    new = new.with_columns(_take_ids(db, new.height)).with_columns(
        pl.col("agency_id").fill_null(pl.lit(actor.agency_id if actor is not None else None, pl.Int64)))
    if old.height:
        result.updated = _update_existing(db, old, actor=actor, now=now, today=today, source=source)
    _insert_new(db, new, actor=actor, now=now, today=today, source=source)
    known = _lookup_table(db, "entities")
    if known.name != "entities":
        _load(db, known, new.filter(pl.col("uscc").is_null()).select(
            pl.col("entity_id").alias("id"), "uscc", "id_number_hash"))
    result.created = new.height
    result.unchanged = frame.height - result.created - result.updated
    linked = pl.concat([old, new.select(old.columns)])
    _tags(db, linked, known=old.get_column("entity_id"), today=today, now=now, source=source)
    _licences(db, linked, known=old.get_column("entity_id"), now=now, today=today, source=source)
    ids = linked.get_column("entity_id")
    detail = {"batch": batch, "rows": frame.height, "created": result.created, "updated": result.updated,
              "unchanged": result.unchanged, "first_id": ids.min(), "last_id": ids.max()}
    audit.record(db, actor=actor, action="entity.import", object_type="entity", object_id=batch or None,
                 payload=detail, detail=detail)
    return result


def region_codes(db: Session) -> frozenset[str]:
    """GB/T 2260 codes, read once per session (USCC warnings of every slice need them)."""
    from jianguan.reference import service as ref

    regions: frozenset[str] | None = db.info.get("jianguan.regions")
    if regions is None:
        regions = db.info["jianguan.regions"] = ref.region_codes(db)
    return regions


def _insert_new(db: Session, new: pl.DataFrame, *, actor: User | None, now: Any, today: Any, source: str) -> None:
    """New entities and their first credit/risk history rows, written directly."""
    if new.height == 0:
        return
    licensed = pl.col("licence_type").is_not_null() & pl.col("licence_number").is_not_null()
    entities = new.select(
        pl.col("entity_id").alias("id"),
        *(pl.col(c).fill_null(TEXT_DEFAULTS[c]) if c in TEXT_DEFAULTS else pl.col(c) for c in COPIED),
        pl.when(licensed).then(pl.lit(today)).otherwise(None).alias("under_supervision_since"),
        pl.lit(now).alias("created_at"), pl.lit(now).alias("updated_at"), pl.lit(1).alias("version"))
    _load(db, Entity.__table__, entities)
    for column, table in HISTORIES:
        _load(db, _table(table), new.filter(pl.col(column).is_not_null()).select(
            "entity_id", pl.col(column).alias("value"), pl.lit(today).alias("valid_from"),
            pl.lit(source[:60]).alias("source"), pl.lit("").alias("reason"),
            pl.lit(actor.id if actor else None, pl.Int64).alias("actor_id"), pl.lit(now).alias("created_at")))


def _table(name: str) -> Any:
    from jianguan.db import Base

    return Base.metadata.tables[name]


def _update_existing(db: Session, old: pl.DataFrame, *, actor: User | None, now: Any, today: Any,
                     source: str) -> int:
    """Existing entities through the staging table; → how many really changed."""
    import re

    from sqlalchemy import bindparam, text

    from jianguan.db import UTCDateTime

    stage = _stage_table()
    _ensure(db, stage)
    _load(db, stage, old.select("src_row", "entity_id", *COPIED))
    conn = db.connection()
    pg = conn.dialect.name == "postgresql"
    _probing(db, STAGE, True)
    differs = "IS DISTINCT FROM" if pg else "IS NOT"
    params = {"now": now, "today": today, "actor": actor.id if actor else None, "source": source[:60]}

    def run(sql: str) -> Any:
        statement = text(sql)
        if ":now" in sql:
            statement = statement.bindparams(bindparam("now", type_=UTCDateTime()))
        return conn.execute(statement, {k: v for k, v in params.items() if re.search(rf":{k}\b", sql)})

    if actor is not None:
        from jianguan.auth.scope import visible

        hidden = db.scalar(select(func.count()).select_from(Entity).where(
            Entity.id.in_(text(f"SELECT entity_id FROM {STAGE}")), ~visible(Entity, actor)))
        if hidden:
            raise Forbidden(N_("This entity is outside your data scope."))
    # Credit and risk: close the open history row and open one when the value changes.
    for column, table in HISTORIES:
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
    _probing(db, STAGE, False)
    return max(updated.rowcount or 0, 0)


def _probing(db: Session, stage: str, on: bool) -> None:
    """PostgreSQL: joins of a staging table (a slice) with a registry table probe the registry's
    index instead of hashing the whole table once per slice — the planner would not know better: a
    fresh temporary table has no statistics, and rows this transaction added are not in the registry's.
    LOCAL to the transaction, and set back after the slice (a foreign key re-added at the end wants
    its hash join)."""
    conn = db.connection()
    if conn.dialect.name != "postgresql":
        return
    if on:
        conn.exec_driver_sql(f"ANALYZE {stage}")
    for setting in ("enable_hashjoin", "enable_mergejoin"):
        conn.exec_driver_sql(f"SET LOCAL {setting} = {'off' if on else 'on'}")


def _tags(db: Session, linked: pl.DataFrame, *, known: pl.Series, today: Any, now: Any, source: str) -> None:
    """Tags not already open on the entity are added (from today); ``known``: ids that existed before."""
    pairs = linked.select("entity_id", pl.col("tags").str.split(";").alias("tag")).explode("tag").filter(
        pl.col("tag").is_not_null() & (pl.col("tag") != "")).unique()
    if pairs.height == 0:
        return
    ids = pairs.filter(pl.col("entity_id").is_in(known.implode())).get_column("entity_id").unique().to_list()
    open_ = [(e, t) for e, t in db.execute(select(EntityTag.entity_id, EntityTag.tag).where(
        one_of(db, EntityTag.entity_id, ids), EntityTag.until.is_(None)))] if ids else []
    already = pl.DataFrame(open_, schema={"entity_id": pl.Int64, "tag": pl.String}, orient="row")
    fresh = pairs.join(already, on=["entity_id", "tag"], how="anti")
    _load(db, EntityTag.__table__, fresh.with_columns(
        pl.lit(today).alias("since"), pl.lit(source[:60]).alias("source"), pl.lit(now).alias("created_at")))


def _licences(db: Session, linked: pl.DataFrame, *, known: pl.Series, now: Any, today: Any, source: str) -> None:
    """Licences upserted by (type, number); an entity holding one is under supervision from today
    (new entities got that date when they were inserted). The slice's licences are matched in one
    query; new ones are written directly. No two rows of a file share a licence (a check)."""
    from sqlalchemy import bindparam, update

    from jianguan.db import UTCDateTime

    held = linked.filter(pl.col("licence_type").is_not_null() & pl.col("licence_number").is_not_null()).select(
        "src_row", "entity_id", "licence_type", pl.col("licence_number").alias("number"),
        pl.col("licence_valid_until").alias("valid_until"))
    if held.height == 0:
        return
    table: Any = EntityLicence.__table__
    lookup = _lookup_table(db, "entity_licences")
    types = held.get_column("licence_type").unique().to_list()
    numbers = held.get_column("number").unique().to_list()
    stored = pl.DataFrame(
        list(db.execute(select(lookup.c.id, lookup.c.licence_type, lookup.c.number, lookup.c.entity_id,
                               lookup.c.valid_until).where(one_of(db, lookup.c.licence_type, types),
                                                           one_of(db, lookup.c.number, numbers)))),
        schema={"id": pl.Int64, "licence_type": pl.String, "number": pl.String, "held_by": pl.Int64,
                "stored_until": pl.Date}, orient="row")
    matched = held.join(stored, on=["licence_type", "number"], how="left")
    clash = matched.filter(pl.col("held_by").is_not_null() & (pl.col("held_by") != pl.col("entity_id")))
    if clash.height:
        error = Invalid("licence_number", N_("This licence number belongs to another entity."))
        error.details = [{**d, "row": clash.get_column("src_row").min()} for d in error.details]
        raise error
    until = pl.col("valid_until").str.to_date(strict=False)
    renewed = matched.filter(pl.col("id").is_not_null() & until.is_not_null()
                             & (until != pl.col("stored_until")).fill_null(True))
    if renewed.height:
        db.connection().execute(
            update(table).where(table.c.id == bindparam("b_id")).values(
                valid_until=bindparam("b_until"), updated_at=bindparam("b_now", type_=UTCDateTime()),
                version=table.c.version + 1),
            [{"b_id": i, "b_until": u, "b_now": now} for i, u in renewed.select("id", until.alias("u")).rows()])
    _load(db, table, matched.filter(pl.col("id").is_null()).select(
        "entity_id", "licence_type", "number", "valid_until", pl.lit("").alias("issuer"),
        pl.lit("valid").alias("status"), pl.lit(source[:60]).alias("source_system"),
        pl.lit(now).alias("created_at"), pl.lit(now).alias("updated_at"), pl.lit(1).alias("version")))
    supervised = held.filter(pl.col("entity_id").is_in(known.implode())).get_column("entity_id").unique().to_list()
    if supervised:
        entities: Any = Entity.__table__
        since = entities.c.under_supervision_since
        db.connection().execute(update(entities).where(one_of(db, entities.c.id, supervised),
                                                       since.is_(None) | (since > today))
                                .values(under_supervision_since=today))
