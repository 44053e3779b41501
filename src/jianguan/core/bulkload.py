"""Large imports: secondary indexes and foreign keys off while the rows go in, rebuilt once after.

PostgreSQL's advice for populating a database: one index build over the loaded table is far cheaper
than keeping the index up to date row by row, and re-adding a foreign key checks every row in one
join instead of one probe per row. Unique indexes stay (they are what upserts match on). It all
happens inside the import's transaction, so a failed import rolls the drops back too — but the
tables are locked while it runs (readers wait), which is why only imports that add many rows use it.
The definitions are read from the database itself, so they follow every migration.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import ARRAY, ColumnElement, Integer, String, any_, func, literal, select
from sqlalchemy.orm import Session

# Memory PostgreSQL may use to build one index or check one foreign key (for this transaction only).
BUILD_MEMORY = "1GB"
# db.info key: the tables this transaction holds exclusively (a writer may then reserve ids in blocks).
LOCKED = "jianguan.bulkload.locked"
UNIQUE_OFF = "jianguan.bulkload.unique_off"


@dataclass(frozen=True)
class Dropped:
    indexes: list[tuple[str, str]]  # (name, CREATE statement)
    constraints: list[tuple[str, str, str]]  # (table, name, definition): unique ones first, then foreign keys


def _dropped(db: Session, tables: Sequence[str], unique: Sequence[str] = ()) -> Dropped:
    conn = db.connection()
    names = list(tables)
    if conn.dialect.name == "postgresql":
        # Indexes not behind a constraint (primary key, unique, or one a foreign key relies on);
        # unique ones only of the ``unique`` tables.
        indexes = conn.exec_driver_sql(
            "SELECT x.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid "
            "JOIN pg_class t ON t.oid = i.indrelid WHERE t.relnamespace = current_schema()::regnamespace "
            "AND t.relname = ANY(%(t)s) AND (NOT i.indisunique OR t.relname = ANY(%(u)s)) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1",
            {"t": names, "u": list(unique)}).all()
        keys = conn.exec_driver_sql(
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
            "JOIN pg_class t ON t.oid = c.conrelid WHERE t.relnamespace = current_schema()::regnamespace "
            "AND ((c.contype = 'f' AND t.relname = ANY(%(t)s)) OR (c.contype = 'u' AND t.relname = ANY(%(u)s))) "
            "ORDER BY c.contype DESC, 1, 2", {"t": names, "u": list(unique)}).all()
        return Dropped([(n, d) for n, d in indexes], [(t, n, d) for t, n, d in keys])
    marks = ", ".join("?" for _ in names)
    indexes = conn.exec_driver_sql(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ({marks}) "
        "AND sql IS NOT NULL AND upper(sql) NOT LIKE 'CREATE UNIQUE INDEX%' ORDER BY name", tuple(names)).all()
    return Dropped([(n, d) for n, d in indexes], [])  # SQLite cannot drop a foreign key


@contextmanager
def indexes_off(db: Session, tables: Sequence[str], unique: Sequence[str] = ()) -> Iterator[Dropped]:
    """Drop the tables' non-unique indexes (and, on PostgreSQL, their foreign keys and the unique
    constraints of the ``unique`` tables — re-adding them checks the loaded rows); rebuild on exit.

    On an exception nothing is rebuilt: the caller's rollback restores them. While inside,
    ``db.info[UNIQUE_OFF]`` is (a token of this load, the tables whose unique constraints are off):
    a writer must not rely on those to find existing rows."""
    db.flush()
    conn = db.connection()
    if conn.dialect.name == "sqlite":
        # The sqlite3 driver opens a transaction only before a data change, and DDL outside one commits
        # at once: open it (and take the write lock) with a change that changes nothing.
        conn.exec_driver_sql(f"UPDATE {tables[0]} SET id = id WHERE id = -1")
    dropped = _dropped(db, tables, unique)
    for table, name, _ in reversed(dropped.constraints):
        conn.exec_driver_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in dropped.indexes:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    db.info[LOCKED] = tuple(tables)  # DROP INDEX locked them: no other writer until commit
    pg = conn.dialect.name == "postgresql"
    db.info[UNIQUE_OFF] = (uuid.uuid4().hex, set(unique) if pg else set())  # SQLite keeps its unique indexes
    try:
        yield dropped
    finally:
        db.info.pop(LOCKED, None)
        db.info.pop(UNIQUE_OFF, None)
    db.flush()
    if pg:  # sorting an index, and the join that checks a foreign key, in memory rather than on disk
        conn.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{BUILD_MEMORY}'")
        conn.exec_driver_sql(f"SET LOCAL work_mem = '{BUILD_MEMORY}'")
    for _, definition in dropped.indexes:
        conn.exec_driver_sql(definition)
    for table, name, definition in dropped.constraints:
        conn.exec_driver_sql(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for table in tables:
        conn.exec_driver_sql(f"ANALYZE {table}")


def one_of(db: Session, column: Any, values: Sequence[str] | Sequence[int]) -> ColumnElement[bool]:
    """``column IN values`` as one parameter however many values (an import slice matches 50,000
    keys at once): PostgreSQL ``= ANY(array)``, SQLite ``IN (SELECT value FROM json_each(?))``."""
    if db.get_bind().dialect.name == "postgresql":
        kind = Integer() if values and isinstance(values[0], int) else String()
        matched: ColumnElement[bool] = column == any_(literal(list(values), ARRAY(kind)))
        return matched
    table = func.json_each(literal(json.dumps(list(values), ensure_ascii=False))).table_valued("value")
    matched = column.in_(select(table.c.value))
    return matched


# --------------------------------------------------------------------------- frames into tables


def as_text(frame: pl.DataFrame, pg: bool) -> pl.DataFrame:
    """Instants as both databases read them from text (PostgreSQL: with the zone, whatever the
    server's TimeZone; SQLite: as SQLAlchemy stores them)."""
    fmt = "%Y-%m-%d %H:%M:%S%.6f+00:00" if pg else "%Y-%m-%d %H:%M:%S%.6f"
    instants = [c for c, t in frame.schema.items() if isinstance(t, pl.Datetime)]
    days = [c for c, t in frame.schema.items() if t == pl.Date]
    return frame.with_columns(pl.col(instants).dt.convert_time_zone("UTC").dt.strftime(fmt),
                              pl.col(days).dt.strftime("%Y-%m-%d"))


def load_frame(db: Session, table: Any, frame: pl.DataFrame) -> None:
    """Rows of ``frame`` (its columns = some of the table's) into ``table``: COPY or executemany."""
    if frame.height == 0:
        return
    connection = db.connection()
    pg = connection.dialect.name == "postgresql"
    frame = as_text(frame, pg)
    names = ", ".join(frame.columns)
    if pg:
        raw: Any = connection.connection.driver_connection
        data = io.BytesIO()  # bytes straight from Polars: a str would be decoded and encoded again
        frame.write_csv(data, include_header=False, null_value="")
        with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN (FORMAT csv)") as copy:
            copy.write(data.getbuffer())
        return
    marks = ", ".join("?" for _ in frame.columns)
    connection.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", frame.rows())


def select_frame(db: Session, stmt: Any, schema: dict[str, Any]) -> pl.DataFrame:
    """A SELECT of plain columns straight from the driver's cursor into Polars: a million rows
    without building a SQLAlchemy row object each."""
    connection = db.connection()
    compiled = stmt.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    params: Any = compiled.params
    if compiled.positional:
        params = tuple(compiled.params[name] for name in compiled.positiontup or ())
    raw: Any = connection.connection
    if connection.dialect.name == "postgresql":  # COPY … TO STDOUT: CSV bytes straight into Polars
        data = io.BytesIO()
        with raw.cursor() as cursor, cursor.copy(f"COPY ({compiled}) TO STDOUT (FORMAT csv)", params) as copy:
            for block in copy:
                data.write(block)
        if not data.getbuffer().nbytes:
            return pl.DataFrame(schema=schema)
        data.seek(0)
        return pl.read_csv(data, has_header=False, new_columns=list(schema), schema_overrides=schema)
    cursor = raw.cursor()
    try:
        cursor.execute(str(compiled), params)
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return pl.DataFrame(rows, schema=schema, orient="row")
