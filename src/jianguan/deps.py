"""FastAPI dependencies shared by every api.py and pages.py: the DB session and the actor."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from jianguan.auth.models import User
from jianguan.core.errors import Conflict, Unauthorized
from jianguan.db import session_factory


def get_db(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the handler returns, rolled back on error."""
    override = getattr(request.app.state, "session_override", None)
    session = override() if override is not None else session_factory()()
    try:
        yield session
        try:
            session.commit()
        except StaleDataError as exc:
            raise Conflict() from exc
    except BaseException:
        session.rollback()
        raise
    finally:
        if override is None:
            session.close()


SessionDep = Annotated[Session, Depends(get_db, scope="function")]


def _user_from_request(request: Request, db: SessionDep) -> User | None:
    from jianguan.auth import sessions

    return sessions.authenticate_request(db, request)


def optional_user(request: Request, db: SessionDep) -> User | None:
    return _user_from_request(request, db)


def current_user(request: Request, db: SessionDep) -> User:
    user = _user_from_request(request, db)
    if user is None:
        raise Unauthorized()
    return user


OptionalUser = Annotated[User | None, Depends(optional_user)]
CurrentUser = Annotated[User, Depends(current_user)]


def get_locale(request: Request) -> str:
    return str(getattr(request.state, "locale", "zh_CN"))


LocaleDep = Annotated[str, Depends(get_locale)]
