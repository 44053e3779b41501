"""The one workflow engine for every closed loop (DESIGN.md §4).

(Engine under construction in this commit: the mixin below is the contract records rely on.)
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column


class WorkflowMixin:
    """Columns every record on a workflow carries: its state and the current step's deadline."""

    state: Mapped[str] = mapped_column(String(40), index=True)
    state_since: Mapped[dt.datetime | None]
    due_date: Mapped[dt.date | None] = mapped_column(Date, index=True)
    due_unconfirmed: Mapped[bool] = mapped_column(default=False)
    escalation_level: Mapped[int] = mapped_column(default=0)
