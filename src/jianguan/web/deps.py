"""Dependencies for page handlers: the signed-in user (or a trip to the sign-in page) and CSRF.

    @router.get("/things")
    def things(request: Request, db: SessionDep, user: PageUser) -> HTMLResponse: ...

    @router.post("/things", dependencies=[CsrfProtected])
    def add_thing(request: Request, db: SessionDep, user: PageUser, name: str = Form("")) -> Response: ...
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.params import Depends as DependsParam

from jianguan.auth.models import User
from jianguan.auth.sessions import authenticate_request, check_csrf
from jianguan.core.errors import Unauthorized
from jianguan.deps import SessionDep


def optional_page_user(request: Request, db: SessionDep) -> User | None:
    """The signed-in user or None; also lets the layout reach the request's session (unread count)."""
    request.state.db = db
    return authenticate_request(db, request)


def page_user(request: Request, db: SessionDep) -> User:
    """The signed-in user; anyone else is sent to /login?next=<this page> (see render_error)."""
    user = optional_page_user(request, db)
    if user is None:
        raise Unauthorized()
    return user


PageUser = Annotated[User, Depends(page_user)]
OptionalPageUser = Annotated[User | None, Depends(optional_page_user)]


async def csrf_protect(request: Request) -> None:
    """Refuse a form post without the session's CSRF token (hidden field or X-CSRF-Token header)."""
    submitted: str | None = None
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()  # cached by Starlette, so Form() parameters still work
        value = form.get("csrf_token")
        submitted = value if isinstance(value, str) else None
    check_csrf(request, submitted)


CsrfProtected: DependsParam = Depends(csrf_protect)
