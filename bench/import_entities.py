"""Import validation speed (issue 4 §6): our checks against pandera (pandas and polars) and the
bare CSV read, side by side on the same generated file.

    python3 -m uv run --group bench python bench/import_entities.py --rows 1000000 5000000

For each size it generates (once; cached in --cache, default $TMPDIR/jianguan-bench) an entity file
with ``jianguan demo generate --bad-rate``, then runs each variant in its own process (so peak memory
is its own) and reports seconds, rows/s, peak RSS and ratios:

  ours            the pipeline's validation stage as it runs in an import: pipeline.read_batches (one
                  streaming scan, slices of BATCH_ROWS rows) and pipeline.checked_slices (the row
                  checks, standard_checks + check, in worker threads a slice or two ahead; then, in
                  file order, the duplicates)
  ours-1thread    the same checks one slice at a time in one thread (pipeline._check_slice)
  pandera-pandas  the same checks as a pandera schema, pandas backend, over pandas read_csv chunks
  pandera-polars  the same checks as a pandera schema, polars backend, over the same slices as ours
  read_csv        bare polars.read_csv of the whole file, all columns as strings: the floor

Before any ratio is printed it asserts that both pandera variants found exactly the same set of
(row, field, code) problems as ours. Nothing is written to a database; the reference data comes
from the package (what ``jianguan init`` loads), or with --from-db from a SQLite database that
``jianguan init`` creates in a temporary JIANGUAN_HOME.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

VARIANTS = ("ours", "ours-1thread", "pandera-pandas", "pandera-polars", "read_csv")
HERE = Path(__file__).resolve().parent


# --------------------------------------------------------------------------- the variants (child process)


def context(today: dt.date, from_db: bool) -> Any:
    from jianguan.imports.checks import Context

    if not from_db:
        return Context.from_package(today=today)
    home = Path(tempfile.mkdtemp(prefix="jianguan-bench-home-"))
    env = {**os.environ, "JIANGUAN_HOME": str(home)}
    env.pop("JIANGUAN_DATABASE_URL", None)
    subprocess.run([str(Path(sys.executable).parent / "jianguan"), "init", "--json"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    os.environ.update(JIANGUAN_HOME=str(home))
    os.environ.pop("JIANGUAN_DATABASE_URL", None)
    from jianguan.db import session_scope

    with session_scope() as db:
        return Context.load(db, today=today)


def numbered_slices(path: Path, workdir: Path) -> Any:
    """Slices as the pipeline reads them (``__row`` = row in the file, labels renamed to keys)."""
    from jianguan.entities import importing as module
    from jianguan.imports import pipeline

    aliases = {f.label: f.key for f in module.FIELDS}
    for part in pipeline.read_batches(path, workdir, pipeline.BATCH_ROWS):
        yield part.rename({c: aliases[c] for c in part.columns if c in aliases and aliases[c] not in part.columns})


def run_ours(path: Path, ctx: Any, threads: bool) -> tuple[int, set[tuple[int, str, str]]]:
    import polars as pl

    from jianguan.entities import importing as module
    from jianguan.imports import checks, duplicates, pipeline

    seen: dict[str, duplicates.Seen] = defaultdict(duplicates.Seen)
    frames = []
    rows = 0
    with tempfile.TemporaryDirectory() as tmp:
        parts = numbered_slices(path, Path(tmp))
        if threads:  # as the pipeline runs them: row checks in worker threads, a slice or two ahead
            checked = ((mapped, found) for _, mapped, found in
                       pipeline.checked_slices(None, module, parts, ctx, seen, None))  # type: ignore[arg-type]
        else:  # one slice at a time in this thread
            checked = (pipeline._check_slice(None, module, part, ctx, seen, None)  # type: ignore[arg-type]
                       for part in parts)
        for mapped, found in checked:
            frames.append(found.select(checks.ROW, "field", "code"))
            rows += mapped.height
    problems = pl.concat(frames)
    return rows, set(problems.iter_rows())


def run_pandera_pandas(path: Path, ctx: Any) -> tuple[int, set[tuple[int, str, str]]]:
    import pandas as pd
    import pandera_checks

    from jianguan.entities import importing as module
    from jianguan.imports import pipeline

    schema = pandera_checks.pandas_schema(ctx)
    found: set[tuple[int, str, str]] = set()
    rows = 0
    for chunk in pd.read_csv(path, dtype=str, keep_default_na=False, chunksize=pipeline.BATCH_ROWS):
        chunk.index = range(rows + 2, rows + 2 + len(chunk))
        for f in module.FIELDS:
            if f.key not in chunk.columns:
                chunk[f.key] = ""
        found |= pandera_checks.pandas_problems(schema, chunk)
        rows += len(chunk)
    return rows, found


def run_pandera_polars(path: Path, ctx: Any) -> tuple[int, set[tuple[int, str, str]]]:
    import pandera_checks
    import polars as pl

    from jianguan.entities import importing as module

    schema = pandera_checks.polars_schema(ctx)
    found: set[tuple[int, str, str]] = set()
    rows = 0
    with tempfile.TemporaryDirectory() as tmp:
        for part in numbered_slices(path, Path(tmp)):
            missing = [f.key for f in module.FIELDS if f.key not in part.columns]
            part = part.with_columns(pl.lit(None, pl.String).alias(k) for k in missing)
            found |= pandera_checks.polars_problems(schema, part)
            rows += part.height
    return rows, found


def run_read_csv(path: Path) -> tuple[int, set[tuple[int, str, str]]]:
    import polars as pl

    return pl.read_csv(path, infer_schema=False).height, set()


def child(variant: str, path: Path, out: Path, today: dt.date, from_db: bool) -> None:
    sys.path.insert(0, str(HERE))
    ctx = context(today, from_db) if variant != "read_csv" else None
    started = time.perf_counter()
    if variant in ("ours", "ours-1thread"):
        rows, found = run_ours(path, ctx, threads=variant == "ours")
    elif variant == "pandera-pandas":
        rows, found = run_pandera_pandas(path, ctx)
    elif variant == "pandera-polars":
        rows, found = run_pandera_polars(path, ctx)
    else:
        rows, found = run_read_csv(path)
    seconds = time.perf_counter() - started
    out.write_text(json.dumps(sorted(found), ensure_ascii=False))
    print(json.dumps({"variant": variant, "rows": rows, "seconds": seconds, "problems": len(found)}))


# --------------------------------------------------------------------------- the run (parent process)


def ensure_file(cache: Path, rows: int, seed: int, bad_rate: float) -> Path:
    path = cache / f"entities-{rows}-s{seed}-b{bad_rate}.csv"
    if not path.exists():
        tmp = path.with_name(path.stem + ".partial.csv")
        subprocess.run([str(Path(sys.executable).parent / "jianguan"), "demo", "generate", "--entities", str(rows),
                        "--seed", str(seed), "--bad-rate", str(bad_rate), "--out", str(tmp), "--json"],
                       check=True, stdout=subprocess.DEVNULL)
        tmp.rename(path)
    return path


def measure(variant: str, path: Path, work: Path, today: dt.date, from_db: bool) -> dict[str, Any]:
    """One run in a child process: its own timing of the stage, and its peak RSS from the kernel."""
    out = work / f"{variant}.json"
    proc = subprocess.Popen([sys.executable, __file__, "--child", variant, "--file", str(path), "--out", str(out),
                             "--today", today.isoformat(), *(["--from-db"] if from_db else [])],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    text = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{variant} failed ({proc.returncode})")
    result: dict[str, Any] = json.loads(text.strip().splitlines()[-1])
    result["peak_rss_mb"] = usage.ru_maxrss / 1024
    result["found"] = {tuple(p) for p in json.loads(out.read_text())}
    return result


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
               if line.startswith("MemTotal"))
    import polars as pl

    return (f"{os.cpu_count()} cores ({cpu}), {mem / 2**20:.0f} GiB, Python {platform.python_version()}, "
            f"polars {pl.__version__}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--bad-rate", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each fast variant (median quoted)")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "jianguan-bench")
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.date(2026, 11, 23))
    parser.add_argument("--from-db", action="store_true", help="reference data from a `jianguan init` SQLite")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.file, args.out, args.today, args.from_db)
        return
    args.cache.mkdir(parents=True, exist_ok=True)
    print(machine(), flush=True)
    report = []
    for rows in args.rows:
        path = ensure_file(args.cache, rows, args.seed, args.bad_rate)
        print(f"\n{rows:,} rows, bad rate {args.bad_rate}: {path} ({path.stat().st_size / 2**20:.0f} MiB)", flush=True)
        results: dict[str, dict[str, Any]] = {}
        with tempfile.TemporaryDirectory() as tmp:
            for variant in args.variants:
                runs = [measure(variant, path, Path(tmp), args.today, args.from_db)
                        for _ in range(1 if variant == "pandera-pandas" else args.repeat)]
                best = runs[0]
                best["seconds"] = statistics.median(r["seconds"] for r in runs)
                best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
                results[variant] = best
                print(f"  {variant:15s} {best['seconds']:8.2f} s  {rows / best['seconds']:>12,.0f} rows/s  "
                      f"peak RSS {best['peak_rss_mb']:6.0f} MB  problems {best['problems']:,}", flush=True)
        reference = results.get("ours") or results.get("ours-1thread")
        for variant in ("ours-1thread", "pandera-pandas", "pandera-polars"):
            if reference is not None and variant in results and results[variant] is not reference:
                missing = reference["found"] - results[variant]["found"]
                extra = results[variant]["found"] - reference["found"]
                assert not missing and not extra, (
                    f"{variant} disagrees with ours: {len(missing)} missing e.g. {sorted(missing)[:5]}, "
                    f"{len(extra)} extra e.g. {sorted(extra)[:5]}")
        if reference is not None:
            print("  all variants found the same (row, field, code) problems" if len(results) > 1 else "")
        ratios = {}
        for ours in ("ours", "ours-1thread"):
            if ours not in results:
                continue
            t = results[ours]["seconds"]
            for other, label in (("pandera-pandas", "(b)/ours"), ("pandera-polars", "(c)/ours")):
                if other in results:
                    ratios[f"{ours}: {label}"] = results[other]["seconds"] / t
            if "read_csv" in results:
                ratios[f"{ours}: ours/(d)"] = t / results["read_csv"]["seconds"]
        for name, value in ratios.items():
            print(f"  {name:28s} {value:6.2f}×")
        report.append({"rows": rows, "ratios": ratios, "results": {
            v: {k: r[k] for k in ("seconds", "peak_rss_mb", "problems")} for v, r in results.items()}})
    if args.json:
        print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
