"""read → check → report → write, the same for every import kind.

Files are read as strings (CSV in UTF-8, UTF-8 with BOM or GB18030 — what Excel in China saves —
or XLSX via calamine) and handled in slices of ``BATCH_ROWS`` so memory stays bounded. Checks run
over every slice first; then, in all-or-nothing mode, nothing is written if any row has an error,
and in valid-rows mode only rows without errors are written and the others go to a rejected file.

An import kind is a module with ``KIND``, ``KEY``, ``FIELDS`` (optionally ``TOLERATED``: columns
exports carry that the batch itself records, ignored without a warning), ``check(df, problems, ctx)``,
``existing_keys(db, keys)``, ``write(db, frame, *, actor, batch, source, as_of)`` and optionally
``out_of_scope(db, frame, actor)`` (rows the actor may not write, reported before anything is written),
``ALSO_UNIQUE`` ({field: (key expression, problem code)}: other keys no two rows may share),
``context(db)`` + ``prepare(frame, context, *, source, as_of)`` (database-free work on a slice, handed
to ``write`` as ``prepared=``), ``bulk_tables(db, new_rows)`` (tables to index once, after a large load)
and ``registry_empty(db)`` (nothing registered yet: ``existing_keys`` is skipped), ``KEY_VALUE`` (an
expression: the key when several columns make it) and ``check_registry(db, frame, problems)`` (checks
against the database, e.g. a USCC that names no registered entity).
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from jianguan.config import get_settings
from jianguan.core.errors import Invalid
from jianguan.core.i18n import N_, gettext
from jianguan.imports import checks, duplicates
from jianguan.imports.checks import ROW, Problems

# Rows checked per slice: larger slices read faster and pay the per-slice costs of the checks less
# often (200,000 vs 50,000: the 5M-row check 13 → 11 s); memory stays bounded either way.
BATCH_ROWS = 200_000
# Worker threads checking slices ahead of the ordered part (duplicates, database lookups).
CHECK_THREADS = 2
# Rows written per slice: the writer's memory and the lead of the prepare-ahead thread follow it.
WRITE_ROWS = 50_000
# Problems the pipeline itself finds (the checks module holds the per-field ones).
checks.MESSAGES.update({
    "scope": N_("This row would change an entity or officer outside your data scope."),
    "column.unknown": N_("This column is not part of the template and is ignored."),
})
checks.DIMENSION_OF.update({"scope": "consistency", "column.unknown": "completeness"})
KINDS = ("entities", "officers", "catalog", "discretion", "complaints", "readings", "feeds")

# progress(phase, done, total): phase "check", "write" or "index" (rebuilding after a large load);
# total None while unknown.
Progress = Callable[[str, int, int | None], None]


def kind_module(kind: str) -> ModuleType:
    if kind == "entities":
        from jianguan.entities import importing as entities

        return entities
    if kind == "officers":
        from jianguan.officers import importing as officers

        return officers
    if kind == "catalog":
        from jianguan.catalog import importing as catalog

        return catalog
    if kind == "discretion":
        from jianguan.cases import importing as discretion

        return discretion
    if kind == "complaints":
        from jianguan.collab import importing as complaints

        return complaints
    if kind == "readings":
        from jianguan.risk import importing as readings

        return readings
    if kind == "feeds":
        from jianguan.risk import feed_import as feeds

        return feeds
    raise Invalid("kind", N_("Unknown import kind {kind}."), kind=kind)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


SAMPLE_BYTES = 8 << 20  # the encoding is decided on the first 8 MiB


def detect_encoding(path: Path) -> str:
    """utf-8-sig, utf-8 or gb18030, decided on the file's first ``SAMPLE_BYTES``.

    Decoding the whole file in Python took as long as Polars takes to read it; a GB18030 file shows
    itself in its first lines (the Chinese header), and the reader itself refuses invalid UTF-8 later
    in the file (``read_batches`` then says so), so nothing wrong is read either way."""
    with path.open("rb") as f:
        head = f.read(SAMPLE_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=len(head) < SAMPLE_BYTES)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def count_lines(path: Path) -> int:
    """Data rows of a CSV, for the progress bar (quoted line breaks make it an estimate)."""
    lines, last = 0, b"\n"
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return max(lines + (last != b"\n") - 1, 0)


def _utf8_copy(path: Path, encoding: str, workdir: Path) -> Path:
    if encoding == "utf-8":
        return path
    target = workdir / "utf8.csv"
    with path.open("r", encoding=encoding, newline="") as src, target.open("w", encoding="utf-8",
                                                                             newline="") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    return target


def _numbered(part: pl.DataFrame, start: int) -> pl.DataFrame:
    part = part.rename({c: c.strip() for c in part.columns})
    return part.with_row_index(ROW, offset=start + 2).with_columns(pl.col(ROW).cast(pl.Int64))


def read_batches(path: Path, workdir: Path, batch_rows: int = BATCH_ROWS) -> Iterator[pl.DataFrame]:
    """Slices of the file, every column a string, with ``__row`` = the row number in the file."""
    if path.suffix.lower() in (".xlsx", ".xls"):
        try:
            df = pl.read_excel(path, engine="calamine", infer_schema_length=0)
        except Exception as error:  # calamine raises its own types for broken workbooks
            raise Invalid("file", N_("The file cannot be read as a spreadsheet: {error}"),
                          error=str(error)[:200]) from None
        df = df.select(pl.all().cast(pl.String))
        for start in range(0, max(df.height, 1), batch_rows):
            yield _numbered(df.slice(start, batch_rows), start)
        return
    utf8 = _utf8_copy(path, detect_encoding(path), workdir)
    lazy = pl.scan_csv(utf8, infer_schema=False, encoding="utf8")
    start = 0
    try:  # one streaming pass; slices are about batch_rows long
        for part in lazy.collect_batches(chunk_size=batch_rows):
            yield _numbered(part, start)
            start += part.height
    except pl.exceptions.PolarsError as error:
        if "utf-8" in str(error).lower():
            raise Invalid("file", N_("Part of the file is not UTF-8 text: save the whole file as UTF-8 (or GB18030) "
                                     "and import it again.")) from None
        raise Invalid("file", N_("The file cannot be read as CSV: {error}"), error=str(error)[:200]) from None
    if start == 0:
        yield _numbered(lazy.head(0).collect(), 0)


@dataclass
class Outcome:
    """What a run found and did; ``as_dict`` is the ``--json`` summary."""

    kind: str
    total: int = 0
    error_rows: int = 0
    warning_rows: int = 0
    new: int = 0
    updates: int = 0
    created: int = 0
    updated: int = 0
    written: bool = False
    rates: dict[str, float] = field(default_factory=dict)
    problems: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=checks.PROBLEM_SCHEMA))
    problem_rows: pl.DataFrame = field(default_factory=pl.DataFrame)  # the file's rows that have problems
    columns: list[str] = field(default_factory=list)
    sha256: str = ""

    def problem_list(self, limit: int | None = None) -> list[dict[str, Any]]:
        df = self.problems if limit is None else self.problems.head(limit)
        return [{"row": r[ROW], "field": r["field"], "code": r["code"], "severity": r["severity"],
                 "message": r["message"]} for r in df.iter_rows(named=True)]

    def as_dict(self, limit: int | None = None) -> dict[str, Any]:
        return {"kind": self.kind, "total": self.total, "error_rows": self.error_rows,
                "warning_rows": self.warning_rows, "valid_rows": self.total - self.error_rows,
                "new": self.new, "updates": self.updates, "created": self.created, "updated": self.updated,
                "written": self.written, "rates": self.rates, "sha256": self.sha256,
                "problem_count": self.problems.height, "problems": self.problem_list(limit)}


def freshness_days(source: str) -> int:
    """The agreed freshness of a source system (``JIANGUAN_IMPORT_FRESHNESS``), in days."""
    agreed = get_settings().import_freshness
    return agreed.get(source, agreed.get("default", 7))


def timeliness(source: str, as_of: dt.datetime | None, now: dt.datetime) -> dict[str, Any] | None:
    """A batch-level (row 0) warning when the data is older than its source's agreed freshness."""
    if as_of is None:
        return None
    days = freshness_days(source)
    if now - as_of <= dt.timedelta(days=days):
        return None
    msgid = checks.MESSAGES["stale"]
    message = gettext(msgid, "zh_CN").format(source=source or "-", days=days)
    return {ROW: 0, "field": "as_of", "code": "stale", "severity": checks.WARNING, "message": message}


Checked = tuple[pl.DataFrame, pl.DataFrame, Problems]  # (slice with every field, mapped rows, problems)


def _check_rows(module: ModuleType, part: pl.DataFrame, ctx: checks.Context) -> Checked:
    """The checks that need nothing but the rows — run in a worker thread, a slice or two ahead of
    the rest. Columns the file lacks are null."""
    fields: tuple[checks.Field, ...] = module.FIELDS
    missing = [f.key for f in fields if f.key not in part.columns]
    part = part.with_columns(*(pl.lit(None, pl.String).alias(k) for k in missing))
    problems = Problems()
    mapped = checks.standard_checks(part, fields, problems, ctx)
    module.check(mapped, problems, ctx)
    return part, mapped, problems


def _check_file(db: Session, module: ModuleType, part: pl.DataFrame, mapped: pl.DataFrame, problems: Problems,
                seen: dict[str, duplicates.Seen], actor: Any) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(mapped rows, problems) of a slice (``part`` with every field): its own problems plus those
    that need the database or the slices before it (duplicates), which run in order in the calling
    thread."""
    fields: tuple[checks.Field, ...] = module.FIELDS
    if hasattr(module, "check_registry"):
        module.check_registry(db, mapped, problems)
    duplicates.find(part, module.KEY, seen[module.KEY], problems, value=getattr(module, "KEY_VALUE", None))
    for column, (value, code) in getattr(module, "ALSO_UNIQUE", {}).items():
        duplicates.find(mapped, column, seen[column], problems, value=value, code=code)
    scope = getattr(module, "out_of_scope", None)
    if scope is not None and actor is not None:
        outside = scope(db, mapped, actor)
        problems.add(mapped.with_columns(outside.alias("__outside")), pl.col("__outside"), module.KEY, "scope")
    return mapped.select(ROW, *(f.key for f in fields)), problems.frame()


def _check_slice(db: Session, module: ModuleType, part: pl.DataFrame, ctx: checks.Context,
                 seen: dict[str, duplicates.Seen], actor: Any) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(mapped rows, problems) of one slice, all in the calling thread."""
    return _check_file(db, module, *_check_rows(module, part, ctx), seen, actor)


def checked_slices(db: Session, module: ModuleType, parts: Iterator[pl.DataFrame], ctx: checks.Context,
                   seen: dict[str, duplicates.Seen], actor: Any,
                   ) -> Iterator[tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]]:
    """(slice as read, mapped rows, problems) in file order. The row checks of the next slices run in
    worker threads while this thread reads the file and does the ordered part (Polars releases the
    GIL, and a single check expression keeps only one core busy): a fifth less wall time on two
    cores (docs/benchmarks.md)."""
    from collections import deque
    from concurrent.futures import Future, ThreadPoolExecutor

    pending: deque[tuple[pl.DataFrame, Future[Checked]]] = deque()
    with ThreadPoolExecutor(max_workers=CHECK_THREADS, thread_name_prefix="import-check") as pool:
        for part in parts:
            pending.append((part, pool.submit(_check_rows, module, part, ctx)))
            while len(pending) > CHECK_THREADS:
                original, future = pending.popleft()
                yield original, *_check_file(db, module, *future.result(), seen, actor)
        while pending:
            original, future = pending.popleft()
            yield original, *_check_file(db, module, *future.result(), seen, actor)


def _headed(parts: Iterator[pl.DataFrame], module: ModuleType, outcome: Outcome,
            frames: list[pl.DataFrame]) -> Iterator[pl.DataFrame]:
    """The slices with the kind's Chinese labels as headers renamed to keys; the first one's header
    checked (none of the kind's columns: refused; unknown ones: a batch-level warning)."""
    aliases = {f.label: f.key for f in module.FIELDS}  # a header may be the Chinese label
    for index, part in enumerate(parts):
        part = part.rename({c: aliases[c] for c in part.columns if c in aliases and aliases[c] not in part.columns})
        if index == 0:
            outcome.columns = [c for c in part.columns if c != ROW]
            known = {f.key for f in module.FIELDS} | set(getattr(module, "TOLERATED", ()))
            unknown = [c for c in outcome.columns if c not in known]
            if not any(f.key in outcome.columns for f in module.FIELDS):
                raise Invalid("file", N_("The header row has none of the expected columns ({expected})."),
                              expected=", ".join(f.key for f in module.FIELDS[:6]) + " …")
            if unknown:
                frames.append(_unknown_columns(unknown))
        yield part


def run(db: Session, path: Path, *, kind: str, actor: Any, source: str = "", as_of: dt.datetime | None = None,
        write: bool = True, valid_rows: bool = False, batch_label: str = "", progress: Progress | None = None,
        batch_rows: int = BATCH_ROWS, file_sha256: str = "") -> Outcome:
    """Check the whole file, then (if ``write`` and allowed by the mode) write it. Flushes only.
    ``file_sha256``: the file's hash when the caller has it already (a batch's stored upload)."""
    from jianguan.db import utcnow

    module = kind_module(kind)
    ctx = checks.Context.load(db)
    outcome = Outcome(kind=kind, sha256=file_sha256 or sha256(path))
    tick = progress or (lambda phase, done, total: None)
    total = None if path.suffix.lower() in (".xlsx", ".xls") else count_lines(path)
    tick("check", 0, total)
    frames: list[pl.DataFrame] = []
    shown: list[pl.DataFrame] = []
    seen: dict[str, duplicates.Seen] = defaultdict(duplicates.Seen)
    pieces = 0
    # A first load into an empty registry: every key is new, no need to look each one up.
    empty = getattr(module, "registry_empty", None)
    existing_keys = (lambda _db, _keys: set()) if empty is not None and empty(db) else module.existing_keys
    with tempfile.TemporaryDirectory(dir=_workroot()) as tmp:
        for part, mapped, found in checked_slices(db, module, _headed(read_batches(path, Path(tmp), batch_rows),
                                                                        module, outcome, frames), ctx, seen, actor):
            frames.append(found)
            if found.height:
                shown.append(part.filter(pl.col(ROW).is_in(found.get_column(ROW).unique().implode())))
            key = mapped.select(getattr(module, "KEY_VALUE", pl.col(module.KEY))).to_series()
            keys = [k for k in key.drop_nulls().str.strip_chars().unique().to_list() if k]
            known = existing_keys(db, keys)
            outcome.updates += len(known)
            outcome.new += len(keys) - len(known)
            outcome.total += part.height
            if write:
                for piece in mapped.iter_slices(WRITE_ROWS):
                    piece.write_parquet(Path(tmp) / f"{pieces}.parquet", compression="lz4")  # fastest both ways
                    pieces += 1
            tick("check", outcome.total, total)
        stale = timeliness(source, as_of, utcnow())
        if stale:
            frames.append(pl.DataFrame([stale], schema=checks.PROBLEM_SCHEMA))
        if frames:
            outcome.problems = pl.concat(frames).sort(ROW, "field")
        if shown:
            outcome.problem_rows = pl.concat(shown, how="diagonal")
        errors = outcome.problems.filter((pl.col("severity") == checks.ERROR) & (pl.col(ROW) > 0)).get_column(ROW)
        outcome.error_rows = errors.n_unique()
        bad = errors.unique().implode()
        outcome.warning_rows = outcome.problems.filter(
            (pl.col("severity") == checks.WARNING) & (pl.col(ROW) > 0) & ~pl.col(ROW).is_in(bad)
        ).get_column(ROW).n_unique()
        outcome.rates = checks.rates(outcome.problems, outcome.total)
        if not write or (outcome.error_rows and not valid_rows):
            return outcome
        _write(db, module, sorted(Path(tmp).glob("*.parquet"), key=lambda p: int(p.stem)), bad, outcome,
               actor=actor, source=source, as_of=as_of, batch_label=batch_label, tick=tick)
    return outcome


def _write(db: Session, module: ModuleType, files: list[Path], bad: pl.Series, outcome: Outcome, *, actor: Any,
           source: str, as_of: dt.datetime | None, batch_label: str, tick: Progress) -> None:
    """Write the checked slices in order. A kind's ``prepare`` (database-free: encryption…) runs in a
    thread one slice ahead, while this thread mostly waits for the database; a large first load
    writes with the kind's ``bulk_tables`` indexes off (core.bulkload)."""
    from concurrent.futures import ThreadPoolExecutor

    from jianguan.core.bulkload import indexes_off

    prepare = getattr(module, "prepare", None)
    context = module.context(db) if prepare is not None else None
    tables = module.bulk_tables(db, outcome.new) if hasattr(module, "bulk_tables") else ()

    def load(file: Path) -> tuple[pl.DataFrame, pl.DataFrame | None]:
        good = pl.read_parquet(file).filter(~pl.col(ROW).is_in(bad))
        ready = prepare(good, context, source=source, as_of=as_of) if prepare is not None and good.height else None
        return good, ready

    written, todo = 0, outcome.total - outcome.error_rows
    tick("write", 0, todo)
    unique = getattr(module, "BULK_UNIQUE", ())
    with ThreadPoolExecutor(max_workers=1) as pool, indexes_off(db, tables, unique) if tables else nullcontext():
        ahead = [pool.submit(load, f) for f in files[:1]]
        for index in range(len(files)):
            good, ready = ahead.pop().result()
            if index + 1 < len(files):
                ahead.append(pool.submit(load, files[index + 1]))
            if good.height == 0:
                continue
            extra = {"prepared": ready} if prepare is not None else {}
            created, updated = module.write(db, good, actor=actor, batch=batch_label, source=source, as_of=as_of,
                                            **extra)
            outcome.created += created
            outcome.updated += updated
            written += good.height
            tick("write", written, todo)
        if tables:
            tick("index", 0, None)
    outcome.written = True


def _unknown_columns(names: list[str]) -> pl.DataFrame:
    """A batch-level warning naming header columns the kind does not know (they are ignored)."""
    msgid = checks.MESSAGES["column.unknown"]
    message = gettext(msgid, "zh_CN")
    return pl.DataFrame([{ROW: 0, "field": name, "code": "column.unknown", "severity": checks.WARNING,
                          "message": message} for name in names], schema=checks.PROBLEM_SCHEMA)


def _workroot() -> Path:
    root = get_settings().home / "tmp"
    root.mkdir(parents=True, exist_ok=True)
    return root
