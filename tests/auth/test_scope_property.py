"""Property: the SQL scope filter and the per-object check agree with the rule written out by hand."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.auth.models import User
from jianguan.auth.scope import can_see, visible
from tests.factories import AgencyFactory, UserFactory, bind

# A small province: 浙江 (33) with two cities and their districts, and one district of 江苏 (32).
REGIONS = ["330000", "330100", "330106", "330108", "330200", "330203", "320102"]


def expected(viewer: User, target: User) -> bool:
    """The rule in words: all; or same region prefix (province 2 / city 4 / county 6); or same agency."""
    if viewer.data_scope == "all":
        return True
    if viewer.data_scope == "region":
        code = viewer.region_code or ""
        prefix = code[:2] if code.endswith("0000") else code[:4] if code.endswith("00") else code
        return (target.region_code or "").startswith(prefix) or (
            target.agency is not None and target.agency.region_code.startswith(prefix)
        )
    return viewer.agency_id is not None and viewer.agency_id == target.agency_id


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    agency_regions=st.lists(st.sampled_from(REGIONS), min_size=1, max_size=5),
    people=st.lists(st.tuples(st.integers(0, 4), st.sampled_from(["agency", "region", "all"])),
                    min_size=1, max_size=8),
    viewer_pick=st.integers(0, 7),
)
def test_visible_matches_the_rule(db: Session, agency_regions: list[str], people: list[tuple[int, str]],
                                  viewer_pick: int) -> None:
    nested = db.begin_nested()
    try:
        bind(db)
        agencies = [AgencyFactory(region_code=r) for r in agency_regions]
        users = [UserFactory(agency=agencies[i % len(agencies)], data_scope=scope) for i, scope in people]
        viewer = users[viewer_pick % len(users)]
        mine = set(db.scalars(select(User.id).where(User.id.in_([u.id for u in users]), visible(User, viewer))))
        for target in users:
            rule = expected(viewer, target)
            assert (target.id in mine) == rule, (viewer.data_scope, viewer.region_code, target.region_code)
            assert can_see(target, viewer) == rule
    finally:
        nested.rollback()
