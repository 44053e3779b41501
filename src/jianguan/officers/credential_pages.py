"""亮证 (an officer shows their credential on a phone) and 查证 (anyone checks a number, no sign-in).

查证 shows only what is printed on the card — name, agency, domains, dates — and whether it is
valid today (Asia/Shanghai); lookups are rate-limited per IP in the database.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

import segno
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from jianguan.config import get_settings
from jianguan.core.errors import NotFound
from jianguan.core.workdays import today_shanghai
from jianguan.deps import SessionDep
from jianguan.officers import credentials, roster
from jianguan.web.deps import OptionalPageUser, PageUser
from jianguan.web.render import locale_of, render

router = APIRouter(include_in_schema=False)


def verify_url(number: str) -> str:
    return f"{get_settings().base_url.rstrip('/')}/verify/{quote(number, safe='')}"


def qr_svg(data: str) -> Markup:
    """The QR code as inline SVG (scales crisply on any screen; no image files)."""
    qr = segno.make(data, error="m", micro=False)
    svg = qr.svg_inline(scale=1, border=2, dark="#0b2f6b", light="#ffffff", omitsize=True, title="QR")
    return Markup(svg)


@router.get("/officers/me/credential")
def my_credential(db: SessionDep, user: PageUser) -> Response:
    """The signed-in officer's current credential (the shortcut a phone keeps on its home screen)."""
    officer = roster.officer_for_user(db, user)
    if officer is None or not officer.credentials:
        raise NotFound(credentials.NO_OWN_CREDENTIAL)
    on = today_shanghai()
    best = max(officer.credentials, key=lambda c: (credentials.credential_validity(c, on)[0], c.expires_on))
    return RedirectResponse(f"/officers/credential/{quote(best.number, safe='')}", status_code=303)


@router.get("/officers/credential/{number}", response_class=HTMLResponse)
def show_credential(request: Request, number: str, db: SessionDep, user: PageUser) -> HTMLResponse:
    """亮证: big, clear, for a phone held up to a citizen. Only what the card itself shows."""
    credential = credentials.by_number(db, number)
    if credential is None:
        raise NotFound(credentials.NOT_FOUND)
    on = today_shanghai()
    valid, reason = credentials.credential_validity(credential, on)
    url = verify_url(credential.number)
    return render(request, "officers/credential_show.html", {
        "credential": credential, "officer": credential.officer, "valid": valid, "reason": reason,
        "reason_text": credentials.REASONS[reason], "on": on, "qr": qr_svg(url), "verify_url": url,
        "domain_names": credentials.domain_names(credential.domains, locale_of(request)),
    })


@router.get("/verify", response_class=HTMLResponse)
def verify_form(
    request: Request, user: OptionalPageUser, number: Annotated[str | None, Query()] = None,
) -> Response:
    if number and number.strip():
        return RedirectResponse(f"/verify/{quote(number.strip(), safe='')}", status_code=303)
    return render(request, "officers/verify.html", {"number": "", "result": None, "missing": False})


@router.get("/verify/{number}", response_class=HTMLResponse)
def verify_page(request: Request, number: str, db: SessionDep, user: OptionalPageUser) -> HTMLResponse:
    credentials.check_verify_rate(db, ip=request.client.host if request.client else "")
    try:
        result = credentials.verify(db, number, locale=locale_of(request))
    except NotFound:
        # Rendered, not raised, so the lookup stays counted (the request's session commits).
        return render(request, "officers/verify.html", {"number": number, "result": None, "missing": True},
                      status_code=404)
    return render(request, "officers/verify.html", {"number": result.number, "result": result, "missing": False})
