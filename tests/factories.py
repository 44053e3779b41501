"""factory_boy factories for quick, valid rows. Bind them to the test's session with ``bind(db)``.

Factories skip the services on purpose (no audit entries, no password hashing per row), so use
them to set up the world a test looks at, and the services for the behaviour under test.
"""

from __future__ import annotations

import factory
from factory.alchemy import SQLAlchemyModelFactory
from sqlalchemy.orm import Session

from jianguan.auth.models import User
from jianguan.auth.passwords import hash_password
from jianguan.officers.models import Agency

PASSWORD = "Factory-pass-2026"
_PASSWORD_HASH = hash_password(PASSWORD)  # once: Argon2 is slow on purpose


class AgencyFactory(SQLAlchemyModelFactory):  # type: ignore[misc]
    class Meta:
        model = Agency
        sqlalchemy_session_persistence = "flush"

    code = factory.Sequence(lambda n: f"AG{n:05d}")
    name = factory.Sequence(lambda n: f"测试市场监督管理局{n}")
    region_code = "330106"
    domains = factory.LazyFunction(lambda: ["market"])
    parent = None
    path = "/"

    @factory.post_generation  # type: ignore[misc]
    def _path(obj: Agency, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            session = AgencyFactory._meta.sqlalchemy_session
            obj.path = f"{obj.parent.path if obj.parent else '/'}{obj.id}/"
            session.flush()


class UserFactory(SQLAlchemyModelFactory):  # type: ignore[misc]
    class Meta:
        model = User
        sqlalchemy_session_persistence = "flush"

    username = factory.Sequence(lambda n: f"user{n:05d}")
    display_name = factory.Faker("name", locale="zh_CN")
    password_hash = _PASSWORD_HASH
    roles = factory.LazyFunction(lambda: ["officer"])
    agency = factory.SubFactory(AgencyFactory)
    region_code = factory.LazyAttribute(lambda o: o.agency.region_code if o.agency else None)
    data_scope = "agency"


def bind(db: Session) -> None:
    for f in (AgencyFactory, UserFactory):
        f._meta.sqlalchemy_session = db
