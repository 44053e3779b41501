"""Synthetic complaints written in bulk — the demo's year (collab/demo_year.py) and the benchmark's
million (bench/complaints.py) share this one writer.

A generator decides only the columns that matter to it; ``frame`` completes the rows as intake would
have stored them (content and contact encrypted, the keyed phone hash, the grid square, defaults) and
``write`` loads them with COPY or one executemany (core/bulkload) — no ORM object per row."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from jianguan.collab import service
from jianguan.collab.models import Complaint
from jianguan.core.bulkload import load_frame
from jianguan.core.crypto import encrypt_column, lookup_hash_column
from jianguan.core.models import WorkflowEvent

# What intake stores when a generator says nothing (models.Complaint's defaults, and a new complaint's
# place on the loop).
DEFAULTS: dict[str, Any] = {
    "kind": "complaint", "channel": "web", "external_ref": "", "anonymous": False, "party_name": "",
    "party_uscc": "", "address": "", "routed_by": "", "transfers": 0, "rejected_reason": "", "outcome": "",
    "outcome_ref": "", "reply": "", "reopened": False, "flagged": "", "workflow": "complaint",
    "state": "received", "due_unconfirmed": False, "escalation_level": 0, "version": 1,
}
NULLABLE: dict[str, pl.DataType] = {
    "entity_id": pl.Int64(),
    "agency_id": pl.Int64(), "match_score": pl.Float64(), "handler_id": pl.Int64(), "accepted_on": pl.Date(),
    "due_date": pl.Date(), "replied_at": pl.Datetime("us", "UTC"), "rating": pl.Int64(), "master_id": pl.Int64(),
}


def cell(latitude: str = "latitude", longitude: str = "longitude") -> pl.Expr:
    """``service.cell_of`` as a column expression (null where the place is unknown)."""
    size = service.CELL_DEGREES
    return (((pl.col(latitude) + 90) / size).floor().cast(pl.Int64) * 100_000
            + ((pl.col(longitude) + 180) / size).floor().cast(pl.Int64))


def frame(columns: pl.DataFrame, *, now: dt.datetime) -> pl.DataFrame:
    """Rows for the complaints table from a generator's columns.

    Needed: number, access_hash, category, content (plain), region_code, received_on, latitude and
    longitude (may be null). Optional: complainant_name and complainant_phone (plain), created_at,
    state_since, updated_at (``now`` when absent) and any other column of the table."""
    given = set(columns.columns)
    phone = columns["complainant_phone"] if "complainant_phone" in given else pl.Series(
        "complainant_phone", [None] * columns.height, pl.String)
    name = columns["complainant_name"] if "complainant_name" in given else pl.Series(
        "complainant_name", [None] * columns.height, pl.String)
    out = columns.with_columns(
        content=encrypt_column(columns["content"]), complainant_name=encrypt_column(name),
        complainant_phone=encrypt_column(phone), phone_hash=lookup_hash_column(phone), cell=cell(),
        **{key: pl.lit(value) for key, value in DEFAULTS.items() if key not in given},
        **{key: pl.lit(None, dtype) for key, dtype in NULLABLE.items() if key not in given},
    )
    stamps = {key: pl.lit(now) for key in ("created_at", "updated_at") if key not in given}
    if "state_since" not in given:
        stamps["state_since"] = pl.col("created_at") if "created_at" in given else pl.lit(now)
    return out.with_columns(**stamps)


def write(db: Session, rows: pl.DataFrame) -> None:
    """Rows made by ``frame`` into the complaints table (ids assigned by the database)."""
    load_frame(db, Complaint.__table__, rows)


def write_events(db: Session, events: pl.DataFrame) -> None:
    """Workflow history rows (workflow, record_type, record_id, action, from_state, to_state, actor_id,
    actor_name, at, comment, due_date) for complaints written in bulk, so their pages show a history."""
    defaults = {"workflow": "complaint", "record_type": Complaint.__tablename__, "payload_hash": "",
                "comment": ""}
    load_frame(db, WorkflowEvent.__table__, events.with_columns(
        **{key: pl.lit(value) for key, value in defaults.items() if key not in events.columns}))
