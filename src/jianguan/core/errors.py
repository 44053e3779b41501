"""The one family of domain errors. Services raise them; api/pages/cli map them in one place.

``message`` is an English message id (translated where shown) with ``{params}``.
"""

from __future__ import annotations

from typing import Any

from jianguan.core.i18n import N_, gettext


class DomainError(Exception):
    code = "error"
    http_status = 400
    default_message = N_("The request could not be completed.")

    def __init__(self, message: str | None = None, *, details: Any = None, **params: Any) -> None:
        self.message = message or self.default_message
        self.params = params
        self.details = details
        super().__init__(self.message.format(**params) if params else self.message)

    def localized(self, locale: str) -> str:
        return gettext(self.message, locale, **self.params)

    def to_dict(self, locale: str) -> dict[str, Any]:
        return {"code": self.code, "message": self.localized(locale), "details": self.details}


class NotFound(DomainError):
    code = "not_found"
    http_status = 404
    default_message = N_("Not found.")


class Unauthorized(DomainError):
    code = "unauthorized"
    http_status = 401
    default_message = N_("Please sign in.")


class Forbidden(DomainError):
    code = "forbidden"
    http_status = 403
    default_message = N_("You do not have permission to do this.")


class Conflict(DomainError):
    code = "conflict"
    http_status = 409
    default_message = N_("This record was changed by someone else. Reload it and try again.")


class TooManyRequests(DomainError):
    code = "too_many_requests"
    http_status = 429
    default_message = N_("Too many attempts. Try again later.")


class Invalid(DomainError):
    """Bad input for one named field (or several, in ``details``)."""

    code = "invalid"
    http_status = 422

    def __init__(self, field: str, message: str, **params: Any) -> None:
        super().__init__(message, details=[{"field": field, "message": message}], **params)
        self.field = field
        self.others: list[Invalid] = []  # further fields refused at the same time (``Invalid.all``)

    @classmethod
    def all(cls, problems: list[Invalid]) -> Invalid:
        """One error for several fields (e.g. every weight group that does not sum to 100)."""
        first = problems[0]
        first.others = problems[1:]
        return first

    @classmethod
    def from_validation(cls, errors: list[Any], *, default_field: str = "form") -> Invalid:
        """A form's pydantic errors, each naming its field (``pydantic.ValidationError.errors()``)."""
        problems = []
        for e in errors:
            where = ".".join(str(p) for p in e["loc"] if not isinstance(p, int)) or default_field
            problems.append(cls(where, N_("{where}: {problem}"), where=where, problem=e["msg"]))
        return cls.all(problems)

    def to_dict(self, locale: str) -> dict[str, Any]:
        text = self.localized(locale)
        details = [{"field": e.field, "message": e.localized(locale)} for e in (self, *self.others)]
        return {"code": self.code, "message": text, "details": details}


class IllegalTransition(DomainError):
    code = "illegal_transition"
    http_status = 409
    default_message = N_("Action '{action}' is not allowed in state '{state}'.")

    def __init__(self, *, action: str, state: str, allowed: list[str]) -> None:
        super().__init__(None, details={"allowed_actions": allowed}, action=action, state=state)
        self.allowed = allowed


def check_version(record: Any, expected: int | None) -> None:
    """Refuse an edit made on a stale copy (optimistic locking)."""
    if expected is not None and record.version != expected:
        raise Conflict(details={"expected_version": expected, "current_version": record.version})
