"""``jianguan demo generate``: write a synthetic province to files (or, later, load it)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


def generate(
    entities: Annotated[int, typer.Option("--entities", min=1, help="How many supervised entities.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Same seed, same rows.")] = 2026,
    bad_rate: Annotated[float, typer.Option("--bad-rate", min=0.0, max=1.0,
                                            help="Share of entity rows broken on purpose.")] = 0.0,
    province: Annotated[str, typer.Option(help="GB/T 2260 province code.")] = "330000",
    out: Annotated[Path | None, typer.Option(help="Entity file to write (.csv or .xlsx); officers and "
                                                  "agencies go beside it.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Generate a deterministic synthetic province: agencies, officers with credentials, entities."""
    import polars as pl  # here, not at import: the CLI starts fast and starts no threads it does not need

    from jianguan.cli import console, print_json
    from jianguan.synth import province as synth

    started = time.perf_counter()
    try:
        place = synth.load_province(province)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--province") from error
    agencies = synth.agencies(place)
    officers = synth.officers(place, seed=seed)
    if out is None:
        raise typer.BadParameter("loading into the database needs the import pipeline; give --out FILE",
                                 param_hint="--out")
    out.parent.mkdir(parents=True, exist_ok=True)
    stem = out.with_suffix("")
    written = {"entities": str(out), "officers": f"{stem}-officers{out.suffix}", "agencies": f"{stem}-agencies.csv"}
    xlsx = out.suffix.lower() == ".xlsx"
    if xlsx and entities > 1_000_000:
        raise typer.BadParameter("an XLSX sheet holds at most 1,048,575 rows; write .csv", param_hint="--out")
    bad_rows = 0
    # In chunks, so a 5-million-row file needs the memory of one chunk.
    with _progress(as_json) as progress, open(out, "wb") as fh:
        task = progress.add_task("entities", total=entities)
        frames = []
        for first in range(0, entities, CHUNK):
            frame = synth.entities(place, n=min(CHUNK, entities - first), seed=seed, bad_rate=bad_rate,
                                   first_index=first)
            if "_problem" in frame.columns:
                bad_rows += int((frame["_problem"] != "").sum())
                frame = frame.drop("_problem")
            if xlsx:
                frames.append(frame)
            else:
                frame.write_csv(fh, include_header=first == 0)
            progress.advance(task, frame.height)
    if xlsx:
        pl.concat(frames).write_excel(out)
        officers.write_excel(written["officers"])
    else:
        officers.write_csv(written["officers"])
    agencies.write_csv(written["agencies"])
    result = {
        "province": place.name, "seed": seed, "entities": entities, "officers": officers.height,
        "agencies": agencies.height, "bad_rows": bad_rows, "files": written,
        "seconds": round(time.perf_counter() - started, 2),
    }
    if as_json:
        print_json(result)
    else:
        console.print(f"[green]✓[/] {place.name}: {result['entities']:,} entities ({result['bad_rows']:,} broken on "
                      f"purpose), {result['officers']:,} officers, {result['agencies']:,} agencies → {out}")


CHUNK = 200_000


def _progress(quiet: bool) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    disable=quiet, transient=True)


def register(app: typer.Typer) -> None:
    from jianguan.cli import demo_app

    demo_app.command("generate")(generate)
