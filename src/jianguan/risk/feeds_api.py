"""Batches from connected systems under /api/v1/risk (mounted by ``risk/api.py``): sensor readings and
feed records as JSON lists, checked and written exactly as an import file is (docs/feeds.md).

Bearer API tokens only — a machine interface — of a user who may import the kind. A refused batch
answers 422 naming each bad row and field; the refusal itself is kept as a rejected import batch
(with its problem report), as a refused file would be.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from jianguan.core.errors import Forbidden
from jianguan.core.i18n import N_, gettext
from jianguan.deps import CurrentUser, LocaleDep, SessionDep
from jianguan.imports import service as imports
from jianguan.risk import feeds

router = APIRouter(tags=["risk"])
Cell = str | float | None  # what a file's cell would hold; the import checks judge it


class ReadingIn(BaseModel):
    """One reading, the columns of the ``readings`` import (docs/feeds.md)."""

    model_config = ConfigDict(extra="ignore")
    uscc: str
    metric: str
    measured_at: str = Field(description="ISO 8601; Beijing time when no zone is given")
    value: Cell
    unit: str = ""


class FeedIn(BaseModel):
    """One feed record, the columns of the ``feeds`` import (docs/feeds.md)."""

    model_config = ConfigDict(extra="ignore")
    uscc: str
    kind: str
    occurred_on: str
    outcome: str = ""
    category: str = ""
    product: str = ""
    item: str = ""
    lab: str = ""
    headline: str = ""
    url: str = ""
    due_on: str = ""
    period: str = ""
    metric: str = ""
    value: Cell = None
    unit: str = ""
    note: str = ""


Source = Annotated[str, Query(max_length=60, description="The sending system (来源系统)")]


def _batch(
    request: Request, db: SessionDep, user: CurrentUser, locale: str, kind: str, rows: list[dict[str, Any]], source: str
) -> JSONResponse:
    if getattr(request.state, "auth_kind", "") != "token":
        raise Forbidden(N_("Send batches with an API token (Authorization: Bearer …)."))
    if not imports.may_import(user, kind):
        raise Forbidden(N_("You may not import {kind}."), kind=kind)
    batch, outcome = feeds.ingest(db, kind=kind, rows=rows, actor=user, source=source)
    if not outcome.written:
        message = gettext(
            N_("The batch has errors: nothing was written ({rows} rows with errors)."), locale, rows=outcome.error_rows
        )
        return JSONResponse(
            {
                "error": {
                    "code": "invalid",
                    "message": message,
                    "details": feeds.problems_of(outcome),
                    "batch_id": batch.id,
                }
            },
            status_code=422,
        )
    return JSONResponse(
        {
            "batch_id": batch.id,
            "total": outcome.total,
            "created": outcome.created,
            "updated": outcome.updated,
            "warnings": feeds.problems_of(outcome, errors_only=False),
        },
        status_code=201,
    )


@router.post("/readings", status_code=201)
def readings(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    locale: LocaleDep,
    body: Annotated[list[ReadingIn], Body(min_length=1, max_length=feeds.MAX_BATCH)],
    source: Source = "",
) -> JSONResponse:
    """Up to 10,000 readings, all or nothing: 201 with the counts, or 422 naming each bad row and field."""
    return _batch(request, db, user, locale, "readings", [r.model_dump() for r in body], source)


@router.post("/feeds", status_code=201)
def feed_records(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    locale: LocaleDep,
    body: Annotated[list[FeedIn], Body(min_length=1, max_length=feeds.MAX_BATCH)],
    source: Source = "",
) -> JSONResponse:
    """Up to 10,000 feed records (sampling, opinion, work safety, declared figures, tax credit), all or
    nothing: 201 with the counts, or 422 naming each bad row and field."""
    return _batch(request, db, user, locale, "feeds", [r.model_dump() for r in body], source)
