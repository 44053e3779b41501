"""FastAPI factory: mounts every package's ``api`` and ``pages`` routers (see registry.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from jianguan import registry
from jianguan.config import Settings, get_settings
from jianguan.core.errors import Conflict, DomainError, Invalid
from jianguan.core.i18n import N_, gettext, pick_locale

STATIC_DIR = Path(__file__).resolve().parent / "web" / "static"


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error_response(request: Request, error: DomainError) -> Response:
    locale = getattr(request.state, "locale", "zh_CN")
    if _wants_json(request):
        headers = None
        if error.http_status == 429 and isinstance(error.details, dict):
            headers = {"Retry-After": str(error.details.get("retry_after", 60))}
        return JSONResponse({"error": error.to_dict(locale)}, status_code=error.http_status, headers=headers)
    from jianguan.web.render import render_error

    return render_error(request, error)


def _validation_details(exc: RequestValidationError, locale: str) -> list[dict[str, Any]]:
    details = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "form")]
        details.append({"field": ".".join(loc) or "body", "message": err.get("msg", ""), "type": err.get("type")})
    return details


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="jianguan 监管 API",
        version="0.1.0",
        docs_url=None,  # served below from local assets: no CDN on an intranet
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )

    @app.middleware("http")
    async def locale_middleware(request: Request, call_next: Any) -> Response:
        # Chinese unless the person chose otherwise (?lang=en sets the cookie).
        chosen = request.query_params.get("lang") or request.cookies.get("jianguan_lang")
        request.state.locale = pick_locale(chosen) if chosen else settings.default_locale
        response: Response = await call_next(request)
        if request.query_params.get("lang"):
            response.set_cookie("jianguan_lang", request.state.locale, max_age=365 * 86400, samesite="lax")
        return response

    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="jianguan_session",
        max_age=settings.session_max_age_seconds,
        same_site="lax",
        https_only=settings.session_cookie_secure,
    )

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        return _error_response(request, exc)

    @app.exception_handler(StaleDataError)
    async def stale(request: Request, exc: StaleDataError) -> Response:
        return _error_response(request, Conflict())

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        locale = getattr(request.state, "locale", "zh_CN")
        details = _validation_details(exc, locale)
        fields = ", ".join(d["field"] for d in details)
        if not _wants_json(request):
            error = Invalid(details[0]["field"] if details else "body", N_("Invalid input: {fields}"), fields=fields)
            return _error_response(request, error)
        message = gettext("Invalid input: {fields}", locale, fields=fields)
        body = {"error": {"code": "invalid", "message": message, "details": details}}
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        error = DomainError(str(exc.detail))
        error.http_status = exc.status_code
        error.code = {404: "not_found", 405: "method_not_allowed", 403: "forbidden"}.get(exc.status_code, "http_error")
        return _error_response(request, error)

    for module in registry.modules("api"):
        app.include_router(module.router, prefix="/api/v1")
    for module in registry.modules("pages"):
        app.include_router(module.router)
    from jianguan.auth import oidc

    app.include_router(oidc.router)

    @app.get("/api/docs", include_in_schema=False)
    def api_docs() -> Response:
        return get_swagger_ui_html(
            openapi_url="/api/openapi.json",
            title="jianguan 监管 API",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/vendor/swagger-ui/favicon-32x32.png",
        )

    STATIC_DIR.mkdir(parents=True, exist_ok=True)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.state.settings = settings
    return app
