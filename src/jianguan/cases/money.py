"""Money of a penalty case, in Decimal yuan to the fen (never a float): the late-payment surcharge
(行政处罚法第七十二条) and the limits of the simple procedure (第五十一条) and of collection on the spot
(第六十八条)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from jianguan.cases.deadlines import suspended_days
from jianguan.cases.discretion import yuan
from jianguan.core.errors import Invalid
from jianguan.core.i18n import N_

SURCHARGE_RATE = Decimal("0.03")  # of the fine, per day late
SIMPLE_LIMIT = {"person": Decimal(200), "organisation": Decimal(3000)}
ON_THE_SPOT_LIMIT = Decimal(100)


def days_late(*, due: dt.date, on: dt.date, suspensions: Iterable[tuple[dt.date, dt.date | None]] = ()) -> int:
    """Days after the payment date up to ``on``, less the days review or litigation was pending."""
    if on <= due:
        return 0
    after_due = [(max(start, due + dt.timedelta(days=1)), end) for start, end in suspensions
                 if end is None or end > due]
    return max(0, (on - due).days - suspended_days(after_due, until=on))


def late_surcharge(fine: Decimal, *, due: dt.date, on: dt.date,
                   suspensions: Iterable[tuple[dt.date, dt.date | None]] = ()) -> Decimal:
    """加处罚款: 3 % of the fine for each day late, never more than the fine itself."""
    if fine < 0:
        raise Invalid("fine", N_("A fine cannot be negative."))
    late = days_late(due=due, on=on, suspensions=suspensions)
    return min(yuan(fine * SURCHARGE_RATE * late), yuan(fine))


def check_simple_procedure(*, party: str, fine: Decimal, warning: bool = False, collect_on_spot: bool = False,
                           ) -> None:
    """当场处罚 only within the law's limits; anything else takes the general procedure."""
    if party not in SIMPLE_LIMIT:
        raise Invalid("party", N_("The party is a person or an organisation."))
    if fine < 0:
        raise Invalid("fine", N_("A fine cannot be negative."))
    if fine == 0 and not warning:
        raise Invalid("fine", N_("The simple procedure decides a warning or a fine."))
    limit = SIMPLE_LIMIT[party]
    if fine > limit:
        raise Invalid("fine", N_("On the spot a fine may be at most ¥{limit} for this party (行政处罚法第五十一条); "
                                 "use the general procedure."), limit=f"{limit:,.0f}")
    if collect_on_spot and fine > ON_THE_SPOT_LIMIT:
        raise Invalid("collect_on_spot", N_("Only fines of at most ¥{limit} may be collected on the spot "
                                            "(行政处罚法第六十八条)."), limit=f"{ON_THE_SPOT_LIMIT:,.0f}")
