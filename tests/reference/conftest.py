"""Reference data loaded into the rolled-back test session (the template database has none)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from jianguan.auth.models import User
from jianguan.reference import service
from tests.auth.conftest import client, districts
from tests.factories import UserFactory, bind

__all__ = ["client", "districts"]


@pytest.fixture
def ref(db: Session) -> Session:
    service.load_all(db)
    return db


@pytest.fixture
def admin(ref: Session) -> User:
    bind(ref)
    user: User = UserFactory(roles=["system_admin"], data_scope="all")
    return user


@pytest.fixture
def officer(ref: Session) -> User:
    bind(ref)
    user: User = UserFactory(roles=["officer"])
    return user
