"""How fast complaints are handled, and how well they are routed: accepted in time (7 working days),
replied in time (the kind's period), the median and 90th percentile in working days, open ones
overdue now, and transfers (wrong routing). Columnar: working days are counted by joining each date
to a running count of the calendar's working days, not one date at a time."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
from sqlalchemy import String, cast, or_, select
from sqlalchemy.orm import Session

from jianguan.auth.models import User
from jianguan.auth.scope import visible
from jianguan.collab import service
from jianguan.collab import workflow as wf
from jianguan.collab.models import Complaint
from jianguan.core import workflow
from jianguan.core.bulkload import select_frame

OPEN = (wf.RECEIVED, wf.ACCEPTED, wf.HANDLING)


def _working_index(db: Session, first: dt.date, last: dt.date) -> pl.DataFrame:
    """date → how many working days from ``first`` up to and including it."""
    cal = workflow.calendar(db)
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    flags = [cal.is_working_day(d) for d in days]
    return pl.DataFrame({"day": days, "working": flags}).with_columns(n=pl.col("working").cast(pl.Int64).cum_sum())


def _date(value: object) -> dt.date | None:
    return value if isinstance(value, dt.date) else None


def _stats(values: pl.Series) -> dict[str, Any]:
    if values.len() == 0:
        return {"count": 0, "median": None, "p90": None}
    return {"count": values.len(), "median": float(values.median() or 0),  # type: ignore[arg-type]
            "p90": float(values.quantile(0.9, "nearest") or 0)}


def figures(db: Session, *, actor: User, today: dt.date | None = None) -> dict[str, Any]:
    today = today or service.today()
    rules = service.rules()
    stmt = (select(Complaint.kind, Complaint.state, Complaint.transfers, cast(Complaint.received_on, String),
                   cast(Complaint.accepted_on, String), cast(Complaint.replied_at, String),
                   cast(Complaint.due_date, String))
            .where(or_(visible(Complaint, actor), Complaint.agency_id == actor.agency_id)))
    frame = select_frame(db, stmt, {"kind": pl.Utf8, "state": pl.Utf8, "transfers": pl.Int64, "received": pl.Utf8,
                                    "accepted": pl.Utf8, "replied": pl.Utf8, "due": pl.Utf8})
    frame = frame.with_columns(pl.col("received", "accepted", "due").str.slice(0, 10).str.to_date(strict=False))
    total = frame.height
    by_state = {s: int(n) for s, n in frame.group_by("state").len().iter_rows()} if total else {}
    transfers = int(frame["transfers"].sum() or 0) if total else 0
    out: dict[str, Any] = {"total": total, "by_state": by_state, "transferred": transfers,
                           "transfer_rate_pct": f"{(transfers * 100 / total) if total else 0:.2f}",
                           "overdue_now": 0, "accept": _stats(pl.Series([], dtype=pl.Int64)),
                           "reply": _stats(pl.Series([], dtype=pl.Int64)), "accepted_in_time_pct": None,
                           "replied_in_time_pct": None}
    if not total:
        return out
    frame = frame.with_columns(replied=pl.col("replied").str.slice(0, 19).str.replace("T", " ")
                               .str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False).dt.replace_time_zone("UTC")
                               .dt.convert_time_zone("Asia/Shanghai").dt.date())
    earliest, latest = _date(frame["received"].min()), _date(frame["replied"].max())
    first = min(earliest or today, dt.date(today.year - 1, 1, 1)) - dt.timedelta(days=1)
    index = _working_index(db, first, max(today, latest or today))

    def at(column: str, name: str) -> pl.DataFrame:
        return index.select(pl.col("day").alias(column), pl.col("n").alias(name))

    frame = (frame.join(at("received", "n_received"), on="received", how="left")
             .join(at("accepted", "n_accepted"), on="accepted", how="left")
             .join(at("replied", "n_replied"), on="replied", how="left")
             .with_columns(to_accept=pl.col("n_accepted") - pl.col("n_received"),
                           to_reply=pl.col("n_replied") - pl.col("n_accepted"),
                           reply_limit=pl.col("kind").replace_strict(
                               {k: int(v) for k, v in rules["reply_working_days"].items()}, default=None,
                               return_dtype=pl.Int64)))
    accepted = frame["to_accept"].drop_nulls()
    replied = frame.filter(pl.col("to_reply").is_not_null())
    out["accept"], out["reply"] = _stats(accepted), _stats(replied["to_reply"])
    if accepted.len():
        share = (accepted <= int(rules["accept_working_days"])).mean()
        out["accepted_in_time_pct"] = round(100 * float(share or 0), 1)  # type: ignore[arg-type]
    if replied.height:
        share = (replied["to_reply"] <= replied["reply_limit"]).mean()
        out["replied_in_time_pct"] = round(100 * float(share or 0), 1)  # type: ignore[arg-type]
    out["overdue_now"] = frame.filter(pl.col("state").is_in(list(OPEN)), pl.col("due") < today).height
    return out
