"""The demo's risk history: three years of inspections and findings, the feeds, a month of sensor readings
and a handful of incidents over the synthetic registry (risk/history.py), written in bulk once, then the
registry scored so that its risk levels come from the score.

Runs after collab's demo (``DEMO_ORDER``): the hidden ground truth is drawn conditioned on the year of
complaints, so complaints carry the same signal as the rest. The ground truth itself is never written
— only what it caused — so the learned model is trained and evaluated on the tables alone.
One audit entry marks the load; deterministic for a given registry and day.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.audit.models import AuditEntry
from jianguan.catalog.models import CheckPoint
from jianguan.collab.models import Complaint
from jianguan.core import workflow
from jianguan.core.bulkload import load_frame, one_of, select_frame
from jianguan.core.workdays import today_shanghai
from jianguan.entities.models import Entity, EntityTag
from jianguan.inspections.models import Finding, Inspection
from jianguan.officers.models import Agency
from jianguan.risk import demo_warnings, feeds, history, scoring, service
from jianguan.risk.models import FeedRecord, Incident, Reading

DEMO_ORDER = 1  # after collab's year of complaints (the ground truth is conditioned on them)
MARK = "risk.demo_history"  # the audit action of the load: present = loaded
COUNTS = ("inspections", "findings", "feeds", "readings", "incidents", "mismatches", "escalated")


def load(db: Session, *, today: dt.date | None = None) -> dict[str, Any]:
    """Write the history (once) and score the registry."""
    if db.scalar(select(AuditEntry.id).where(AuditEntry.action == MARK).limit(1)) is not None:
        return dict.fromkeys(COUNTS, 0)
    today = today or today_shanghai()
    entities = registry(db, today=today)
    if entities.height == 0:
        return dict.fromkeys(COUNTS, 0)
    agencies = {code: id_ for code, id_ in db.execute(select(Agency.code, Agency.id))}
    made = history.generate(
        entities,
        today=today,
        seed=history.SEED,
        points=_points(db),
        calendar=workflow.calendar(db),
        agencies=agencies,
        taken=_taken(db),
    )
    written = _write(db, made, agencies, today)
    listing = "\n".join(made.inspections["code"].to_list())
    audit.record(
        db,
        actor=None,
        action=MARK,
        object_type="risk_history",
        payload={"inspection_codes": listing, "counts": written, "today": today.isoformat()},
        detail={
            **written,
            "today": today.isoformat(),
            "seed": history.SEED,
            "codes_sha256": hashlib.sha256(listing.encode()).hexdigest(),
        },
    )
    # What the worker would have done by now: the monthly cross-checks, 督办 on late rectification.
    mismatches = sum(sum(feeds.cross_check(db, period=p, actor=None)["mismatches"].values()) for p in _checked(today))
    escalated = workflow.scan_overdue(db, today=today)
    db.expire_all()
    summary = service.score(db, as_of=today, actor=None)
    month = demo_warnings.load(db, today=today)
    month["warnings_escalated"] = len(workflow.scan_overdue(db, today=today))  # untaken ones, as the worker would
    return {**written, "mismatches": mismatches, "escalated": len(escalated), "levels": summary["levels"],
            **month}


def _checked(today: dt.date) -> list[str]:
    """The months of the history the cross-check job has run for: each on the 16th of the month after."""
    return [m.strftime("%Y-%m") for m in history.months(today) if (m + dt.timedelta(days=32)).replace(day=16) <= today]


def registry(db: Session, *, today: dt.date) -> pl.DataFrame:
    """The active entities as the history needs them, with their valid complaints of the last year."""
    frame = select_frame(
        db,
        select(
            Entity.id,
            Entity.region_code,
            Entity.industry_code,
            Entity.scale,
            Entity.credit_class,
            Entity.kind,
            Entity.established_on,
        )
        .where(Entity.status == "active")
        .order_by(Entity.id),
        {
            "entity_id": pl.Int64,
            "region_code": pl.Utf8,
            "industry_code": pl.Utf8,
            "scale": pl.Utf8,
            "credit_class": pl.Utf8,
            "kind": pl.Utf8,
            "established_on": pl.Utf8,
        },
    )
    tagged = select_frame(
        db,
        select(EntityTag.entity_id, func.count())
        .where(EntityTag.tag == "abnormal_list", (EntityTag.until.is_(None)) | (EntityTag.until > today))
        .group_by(EntityTag.entity_id),
        {"entity_id": pl.Int64, "tags": pl.Int64},
    )
    complaints = select_frame(
        db,
        select(Complaint.entity_id, func.count())
        .where(
            Complaint.entity_id.is_not(None),
            Complaint.received_on > today - dt.timedelta(days=365),
            Complaint.received_on <= today,
            Complaint.flagged == "",
            Complaint.master_id.is_(None),
        )
        .group_by(Complaint.entity_id),
        {"entity_id": pl.Int64, "complaints": pl.Int64},
    )
    return (
        frame.join(tagged, on="entity_id", how="left")
        .join(complaints, on="entity_id", how="left")
        .with_columns(
            pl.col("tags").is_not_null().alias("abnormal"),
            pl.col("complaints").fill_null(0),
            pl.col("established_on").str.slice(0, 10).str.to_date(strict=False),
        )  # SQLite: text
        .drop("tags")
    )


def _points(db: Session) -> pl.DataFrame:
    """The catalog's check points (latest version of each code) with the basis a finding copies."""
    points = select_frame(
        db,
        select(
            CheckPoint.id,
            CheckPoint.code,
            CheckPoint.text,
            CheckPoint.severity,
            CheckPoint.law_title,
            CheckPoint.article_no,
        ),
        {
            "id": pl.Int64,
            "point_code": pl.Utf8,
            "text": pl.Utf8,
            "severity": pl.Utf8,
            "law_title": pl.Utf8,
            "article_no": pl.Utf8,
        },
    )
    return (
        points.sort("id", descending=True)
        .unique("point_code", keep="first")
        .sort("point_code")
        .select(
            "point_code",
            "text",
            "severity",
            pl.when(pl.col("law_title").fill_null("") != "")
            .then(pl.concat_str(pl.lit("《"), "law_title", pl.lit("》"), pl.col("article_no").fill_null("")))
            .otherwise(pl.lit(""))
            .alias("basis"),
        )
    )


def _taken(db: Session) -> dict[str, int]:
    """The last number used per inspection code prefix ``<agency>-JC<year>`` (visits.py's numbering)."""
    codes = select_frame(db, select(Inspection.code).where(Inspection.code.like("%-JC%-%")), {"code": pl.Utf8})
    parts = codes.select(
        pl.col("code").str.extract(r"^(.+-JC\d{4})-(\d+)$", 1).alias("prefix"),
        pl.col("code").str.extract(r"^(.+-JC\d{4})-(\d+)$", 2).cast(pl.Int64, strict=False).alias("n"),
    ).drop_nulls()
    return dict(parts.group_by("prefix").agg(pl.col("n").max()).iter_rows())


def _write(db: Session, made: history.History, agencies: dict[str, int], today: dt.date) -> dict[str, int]:
    agency_id = pl.col("agency_code").replace_strict(agencies, return_dtype=pl.Int64).alias("agency_id")
    load_frame(db, Inspection.__table__, made.inspections.with_columns(agency_id).drop("agency_code"))
    codes = made.inspections["code"].to_list()
    ids = select_frame(
        db,
        select(Inspection.code, Inspection.id).where(one_of(db, Inspection.code, codes)),
        {"inspection_code": pl.Utf8, "inspection_id": pl.Int64},
    )
    load_frame(
        db,
        Finding.__table__,
        made.findings.join(ids, on="inspection_code").with_columns(agency_id).drop("agency_code", "inspection_code"),
    )
    load_frame(db, FeedRecord.__table__, made.feeds)
    load_frame(db, Reading.__table__, made.readings)
    rules = service.rule_set(db, on=today).rules
    incidents = made.incidents.with_columns(
        pl.Series(
            "red_until",
            [
                scoring.red_until(rules, kind=k, severity=s, occurred_on=d)
                for k, s, d in made.incidents.select("kind", "severity", "occurred_on").iter_rows()
            ],
            dtype=pl.Date,
        )
    )
    load_frame(db, Incident.__table__, incidents)
    return {
        "inspections": made.inspections.height,
        "findings": made.findings.height,
        "feeds": made.feeds.height,
        "readings": made.readings.height,
        "incidents": incidents.height,
    }
