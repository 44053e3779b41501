"""A table as a file a regulator can open or a system can read: XLSX with Chinese headers, or JSON lines
(UTF-8, one object per line, English field names) — the two forms of every export."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping

import polars as pl

from jianguan.core.errors import Invalid
from jianguan.core.i18n import N_

FORMATS = ("jsonl", "xlsx")


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise Invalid("format", N_("Export format must be jsonl or xlsx."))


def as_bytes(frame: pl.DataFrame, fmt: str, *, headers: Mapping[str, str], worksheet: str) -> bytes:
    check_format(fmt)
    if fmt == "jsonl":
        return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in frame.iter_rows(named=True)).encode()
    out = io.BytesIO()
    frame.rename({k: v for k, v in headers.items() if k in frame.columns}).write_excel(
        out, worksheet=worksheet, autofit=True)
    return out.getvalue()
