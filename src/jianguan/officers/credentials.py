"""执法证: issue, renew, suspend, reinstate, revoke (each with history and audit), validity on a date,
and the public 查证 lookup with its per-IP rate limit.

Expiry is derived from the dates, never stored as a status: a credential is valid on a day when its
status is ``valid`` and the day lies within [issued_on, expires_on]. Revocation is final.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.auth.models import User
from jianguan.core.errors import IllegalTransition, Invalid, NotFound, TooManyRequests, check_version
from jianguan.core.i18n import N_, gettext
from jianguan.db import utcnow
from jianguan.officers.models import Credential, CredentialEvent, CredentialStatus, CredentialVerifyHit
from jianguan.officers.roster import clean_domains, get_officer, require_manage
from jianguan.officers.service import DOMAIN_LABELS

NUMBER_RE = re.compile(r"^[A-Za-z0-9-]{4,32}$")
# Why a credential is not valid on a day; the message ids are what 查证 shows (过期 / 暂扣 / 吊销).
REASONS = {
    "ok": N_("Credential valid"),
    "expired": N_("Credential expired"),
    "not_yet_valid": N_("Credential not yet valid"),
    "suspended": N_("Credential suspended"),
    "revoked": N_("Credential revoked"),
}
STATUS_LABELS = {
    CredentialStatus.valid.value: N_("Credential valid"),
    CredentialStatus.suspended.value: N_("Credential suspended"),
    CredentialStatus.revoked.value: N_("Credential revoked"),
}
EVENT_LABELS = {
    "issue": N_("Credential issued"),
    "renew": N_("Credential renewed"),
    "suspend": N_("Credential suspended"),
    "reinstate": N_("Credential reinstated"),
    "revoke": N_("Credential revoked"),
}
# action -> (states it may start from, resulting state)
TRANSITIONS = {
    "suspend": ((CredentialStatus.valid.value,), CredentialStatus.suspended.value),
    "reinstate": ((CredentialStatus.suspended.value,), CredentialStatus.valid.value),
    "revoke": ((CredentialStatus.valid.value, CredentialStatus.suspended.value), CredentialStatus.revoked.value),
    "renew": ((CredentialStatus.valid.value, CredentialStatus.suspended.value), ""),
}
NOT_FOUND = N_("No credential with this number was found.")
NO_OWN_CREDENTIAL = N_("No credential is registered for your account.")
VERIFY_LIMIT = 30  # lookups per IP per window
VERIFY_WINDOW = dt.timedelta(minutes=1)


def normalise_number(number: str) -> str:
    return number.strip().upper()


def credential_validity(credential: Credential, on: dt.date) -> tuple[bool, str]:
    """(valid?, reason code of ``REASONS``) on the day ``on``; revoked and suspended win over dates."""
    if credential.status == CredentialStatus.revoked.value:
        return False, "revoked"
    if credential.status == CredentialStatus.suspended.value:
        return False, "suspended"
    if on > credential.expires_on:
        return False, "expired"
    if on < credential.issued_on:
        return False, "not_yet_valid"
    return True, "ok"


def _event(db: Session, credential: Credential, *, kind: str, actor: User | None, reason: str,
           from_status: str | None, from_expires_on: dt.date | None) -> CredentialEvent:
    event = CredentialEvent(
        credential_id=credential.id, at=utcnow(), actor_id=actor.id if actor else None,
        actor_name=actor.username if actor else "system", kind=kind, from_status=from_status,
        to_status=credential.status, from_expires_on=from_expires_on, to_expires_on=credential.expires_on,
        reason=reason,
    )
    db.add(event)
    db.flush()
    audit.record(db, actor=actor, action=f"credential.{kind}", object_type="credential", object_id=credential.id,
                 payload={"number": credential.number, "reason": reason},
                 detail={"number": credential.number, "from_status": from_status, "to_status": credential.status,
                         "from_expires_on": from_expires_on, "to_expires_on": credential.expires_on})
    return event


def _check_dates(issued_on: dt.date, expires_on: dt.date) -> None:
    if expires_on < issued_on:
        raise Invalid("expires_on", N_("The expiry date cannot be before the issue date."))


def issue_credential(
    db: Session, *, officer_id: int, number: str, domains: Sequence[str], issued_on: dt.date,
    expires_on: dt.date, issuer: str = "", status: str = CredentialStatus.valid.value, reason: str = "",
    actor: User | None,
) -> Credential:
    """A new credential for an officer (``status`` other than valid only when importing history)."""
    officer = get_officer(db, officer_id=officer_id, actor=actor)
    require_manage(actor, officer.agency_id)
    number = normalise_number(number)
    if not NUMBER_RE.match(number):
        raise Invalid("number", N_("A credential number is 4–32 letters, digits or '-'."))
    if db.scalar(select(Credential.id).where(Credential.number == number)) is not None:
        raise Invalid("number", N_("This credential number is already registered."))
    if status not in STATUS_LABELS:
        raise Invalid("status", N_("Unknown credential status."))
    _check_dates(issued_on, expires_on)
    codes = clean_domains(db, domains)
    if not codes:
        raise Invalid("domains", N_("Choose at least one enforcement domain."))
    credential = Credential(number=number, officer_id=officer.id, agency_id=officer.agency_id,
                            region_code=officer.region_code, domains=codes, issued_on=issued_on,
                            expires_on=expires_on, status=status, issuer=issuer.strip())
    db.add(credential)
    db.flush()
    _event(db, credential, kind="issue", actor=actor, reason=reason.strip(), from_status=None,
           from_expires_on=None)
    return credential


def get_credential(db: Session, *, credential_id: int, actor: User | None) -> Credential:
    credential = db.get(Credential, credential_id)
    if credential is None:
        raise NotFound()
    get_officer(db, officer_id=credential.officer_id, actor=actor)  # scope check through the officer
    return credential


def by_number(db: Session, number: str) -> Credential | None:
    """Unscoped lookup by number (亮证 / 查证 show only what is printed on the card)."""
    return db.scalar(select(Credential).where(Credential.number == normalise_number(number)))


def _change(db: Session, *, credential_id: int, action: str, version: int | None, reason: str,
            actor: User | None) -> Credential:
    credential = get_credential(db, credential_id=credential_id, actor=actor)
    require_manage(actor, credential.agency_id)
    check_version(credential, version)
    starts, target = TRANSITIONS[action]
    if credential.status not in starts:
        allowed = [a for a, (s, _) in TRANSITIONS.items() if credential.status in s]
        raise IllegalTransition(action=action, state=credential.status, allowed=allowed)
    if not reason.strip():
        raise Invalid("reason", N_("Give a reason."))
    before = credential.status
    credential.status = target
    db.flush()
    _event(db, credential, kind=action, actor=actor, reason=reason.strip(), from_status=before,
           from_expires_on=credential.expires_on)
    return credential


def suspend_credential(db: Session, *, credential_id: int, version: int | None, reason: str,
                       actor: User | None) -> Credential:
    """暂扣: not valid until reinstated."""
    return _change(db, credential_id=credential_id, action="suspend", version=version, reason=reason, actor=actor)


def reinstate_credential(db: Session, *, credential_id: int, version: int | None, reason: str,
                         actor: User | None) -> Credential:
    """End a suspension (发还)."""
    return _change(db, credential_id=credential_id, action="reinstate", version=version, reason=reason,
                   actor=actor)


def revoke_credential(db: Session, *, credential_id: int, version: int | None, reason: str,
                      actor: User | None) -> Credential:
    """吊销 / 注销: final."""
    return _change(db, credential_id=credential_id, action="revoke", version=version, reason=reason, actor=actor)


def renew_credential(
    db: Session, *, credential_id: int, version: int | None, expires_on: dt.date, reason: str = "",
    domains: Sequence[str] | None = None, actor: User | None,
) -> Credential:
    """换证/延期: a new expiry date (and optionally domains); a revoked credential cannot be renewed."""
    credential = get_credential(db, credential_id=credential_id, actor=actor)
    require_manage(actor, credential.agency_id)
    check_version(credential, version)
    if credential.status not in TRANSITIONS["renew"][0]:
        raise IllegalTransition(action="renew", state=credential.status, allowed=[])
    _check_dates(credential.issued_on, expires_on)
    if expires_on <= credential.expires_on:
        raise Invalid("expires_on", N_("A renewal must move the expiry date later."))
    before = credential.expires_on
    credential.expires_on = expires_on
    if domains is not None:
        codes = clean_domains(db, domains)
        if not codes:
            raise Invalid("domains", N_("Choose at least one enforcement domain."))
        credential.domains = codes
    db.flush()
    _event(db, credential, kind="renew", actor=actor, reason=reason.strip(), from_status=credential.status,
           from_expires_on=before)
    return credential


# --------------------------------------------------------------------------- 查证 (public)


@dataclass(frozen=True)
class Verification:
    """What anyone may see about a credential: what is printed on it, and whether it is valid today."""

    number: str
    name: str
    agency: str
    domains: list[str]
    domain_names: list[str]  # Simplified Chinese (or the requested locale)
    issued_on: dt.date
    expires_on: dt.date
    valid: bool
    reason: str  # a REASONS code
    reason_text: str
    checked_on: dt.date

    def as_dict(self) -> dict[str, Any]:
        return {"number": self.number, "name": self.name, "agency": self.agency, "domains": self.domains,
                "domain_names": self.domain_names, "issued_on": self.issued_on.isoformat(),
                "expires_on": self.expires_on.isoformat(), "valid": self.valid, "reason": self.reason,
                "reason_text": self.reason_text, "checked_on": self.checked_on.isoformat()}


def domain_names(domains: Sequence[str], locale: str = "zh_CN") -> list[str]:
    return [gettext(DOMAIN_LABELS[d], locale) if d in DOMAIN_LABELS else d for d in domains]


def verify(db: Session, number: str, *, on: dt.date | None = None, locale: str = "zh_CN") -> Verification:
    """The public check of one number; ``NotFound`` ("no such credential") for an unknown one."""
    from jianguan.core.workdays import today_shanghai

    on = on or today_shanghai()
    credential = by_number(db, number) if NUMBER_RE.match(normalise_number(number)) else None
    if credential is None:
        raise NotFound(NOT_FOUND)
    valid, reason = credential_validity(credential, on)
    return Verification(
        number=credential.number, name=credential.officer.name, agency=credential.officer.agency.name,
        domains=list(credential.domains), domain_names=domain_names(credential.domains, locale),
        issued_on=credential.issued_on, expires_on=credential.expires_on, valid=valid, reason=reason,
        reason_text=gettext(REASONS[reason], locale), checked_on=on,
    )


def check_verify_rate(db: Session, *, ip: str, limit: int = VERIFY_LIMIT, window: dt.timedelta = VERIFY_WINDOW,
                      now: dt.datetime | None = None) -> None:
    """Count this lookup for ``ip`` (in the database, so all web processes share the count) and refuse
    with 429 once the IP has made ``limit`` lookups within ``window``. Old hits are pruned here."""
    now = now or utcnow()
    since = now - window
    ip = (ip or "unknown")[:64]
    db.execute(delete(CredentialVerifyHit).where(CredentialVerifyHit.at < now - 10 * window))
    count = db.scalar(select(func.count()).select_from(CredentialVerifyHit)
                      .where(CredentialVerifyHit.ip == ip, CredentialVerifyHit.at >= since)) or 0
    if count >= limit:
        raise TooManyRequests(N_("Too many lookups from your network. Please wait a minute and try again."),
                              details={"retry_after": int(window.total_seconds())})
    db.add(CredentialVerifyHit(ip=ip, at=now))
    db.flush()


def events_of(db: Session, credential_id: int) -> list[CredentialEvent]:
    return list(db.scalars(select(CredentialEvent).where(CredentialEvent.credential_id == credential_id)
                           .order_by(CredentialEvent.id)))
