"""Issuing, rendering, voiding and checking enforcement documents; an agency's numbering, seal and
templates, and the officers' signature images.

A document is issued inside the step that produces it (the notice is issued when the notice is sent):
the number is taken and the context frozen in that transaction, so a refused step takes no number and
a number once given is never given again. The files are rendered from the frozen context the first
time they are asked for (or by ``jianguan document render``), signed, stored by hash and never
rendered again; the hashes go into the audit chain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.audit.evidence import Readable, get_storage
from jianguan.auth.models import Role, User
from jianguan.auth.scope import can_see, visible
from jianguan.core.errors import Conflict, Forbidden, Invalid, NotFound, check_version
from jianguan.core.i18n import N_
from jianguan.core.workdays import SHANGHAI
from jianguan.db import utcnow
from jianguan.documents import render, signing
from jianguan.documents.models import Document, DocumentCounter, DocumentProfile, DocumentTemplate, OfficerSignature
from jianguan.officers.models import Agency, Officer

FORMATS = ("pdf", "docx")
MEDIA = {"pdf": "application/pdf", "html": "text/html; charset=utf-8",
         "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
TEMPLATE_MAX_BYTES = 5 * 1024 * 1024
VERIFY_MAX_BYTES = 20 * 1024 * 1024  # a PDF brought to be checked
IMAGE_MAX_BYTES = 2 * 1024 * 1024
SUFFIXES = {"市场监督管理局": "市监", "生态环境分局": "环", "生态环境局": "环", "应急管理局": "应急",
            "交通运输局": "交", "卫生健康局": "卫健", "综合行政执法局": "综执"}


@dataclass(frozen=True)
class Kind:
    code: str
    title: str
    series: str
    sealed: bool


@lru_cache(maxsize=1)
def kinds() -> dict[str, Kind]:
    text = resources.files("jianguan.documents").joinpath("data", "kinds.yaml").read_text(encoding="utf-8")
    return {code: Kind(code, spec["title"], spec["series"], bool(spec.get("sealed")))
            for code, spec in yaml.safe_load(text).items()}


def kind_of(code: str) -> Kind:
    found = kinds().get(code)
    if found is None:
        raise Invalid("kind", N_("Unknown document kind {kind}."), kind=code)
    return found


def chinese_date(day: dt.date | None) -> str:
    """2026-12-07 → 2026年12月7日, as documents write dates."""
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def appeal_rights() -> dict[str, dict[str, str]]:
    """The party's routes against an agency's decision, with the periods and the articles quoted from the
    law library (复议 60 days, 诉讼 6 months): what every document open to challenge states."""
    from jianguan.reference import laws

    reconsideration = laws.cite("administrative-reconsideration-law", "第二十条")
    litigation = laws.cite("administrative-litigation-law", "第四十六条")
    return {"reconsideration": {"days": "六十日",
                                "basis": f"《{reconsideration.law.title}》{reconsideration.article_no}"},
            "litigation": {"months": "六个月", "basis": f"《{litigation.law.title}》{litigation.article_no}"}}


def default_abbreviation(agency_name: str) -> str:
    """杭州市西湖区市场监督管理局 → 西湖市监: the last place name without 区/县/市, then the short
    word for the department. Agencies set their own 机关代字 in the document settings."""
    place, rest = agency_name, ""
    for suffix, short in SUFFIXES.items():
        if agency_name.endswith(suffix):
            place, rest = agency_name[: -len(suffix)], short
            break
    parts = [p for p in re.findall(r"[^省市区县]+[省市区县]?", place) if p]
    last = parts[-1] if parts else place
    if len(last) > 2 and last[-1] in "省市区县":
        last = last[:-1]
    return (last + rest) or agency_name


def profile(db: Session, agency: Agency) -> tuple[str, str | None]:
    """(abbreviation, seal sha256) of an agency."""
    row = db.scalar(select(DocumentProfile).where(DocumentProfile.agency_id == agency.id))
    if row is None:
        return default_abbreviation(agency.name), None
    return row.abbreviation, row.seal_sha256


def _next_seq(db: Session, agency_id: int, series: str, year: int) -> int:
    """One atomic statement: concurrent issuers never get the same number."""
    dialect = db.get_bind().dialect.name
    insert = sqlite_insert if dialect == "sqlite" else pg_insert
    stmt = (insert(DocumentCounter).values(agency_id=agency_id, series=series, year=year, last=1)
            .on_conflict_do_update(index_elements=["agency_id", "series", "year"],
                                   set_={"last": DocumentCounter.last + 1})
            .returning(DocumentCounter.last))
    return int(db.execute(stmt).scalar_one())


def signature_of(db: Session, officer_ids: Sequence[int]) -> dict[int, str]:
    rows = db.execute(select(OfficerSignature.officer_id, OfficerSignature.sha256)
                      .where(OfficerSignature.officer_id.in_(list(officer_ids))))
    return {officer_id: sha for officer_id, sha in rows}


def _sha(value: Any) -> str:
    return hashlib.sha256(audit.canonical(value)).hexdigest()


def issue(db: Session, *, kind: str, agency_id: int, subject_type: str, subject_id: int, entity_id: int | None,
          region_code: str, context: Mapping[str, Any], actor: User | None, on: dt.date) -> Document:
    """Give the next number and freeze what the document says."""
    spec = kind_of(kind)
    agency = db.get(Agency, agency_id)
    if agency is None:
        raise NotFound(N_("No such agency."))
    abbreviation, seal = profile(db, agency)
    seq = _next_seq(db, agency_id, spec.series, on.year)
    number = f"{abbreviation}{spec.series}〔{on.year}〕{seq}号"
    frozen = {**context, "title": spec.title, "number": number, "agency": agency.name,
              "issued_on": on.isoformat(), "issued_on_cn": chinese_date(on),
              "seal_image": seal if spec.sealed else None}
    doc = Document(agency_id=agency_id, region_code=region_code, kind=kind, series=spec.series, year=on.year,
                   seq=seq, number=number, subject_type=subject_type, subject_id=subject_id, entity_id=entity_id,
                   issued_on=on, context=frozen, context_sha256=_sha(frozen),
                   issued_by=actor.id if actor is not None else None)
    db.add(doc)
    db.flush()
    audit.record(db, actor=actor, action="document.issue", object_type="document", object_id=doc.id,
                 payload=frozen, detail={"number": number, "kind": kind, "subject": f"{subject_type}:{subject_id}",
                                         "context_sha256": doc.context_sha256})
    return doc


# --------------------------------------------------------------------------- reading


def _may_read(doc: Document, actor: User | None) -> bool:
    if actor is None or can_see(doc, actor):
        return True
    return (doc.entity_id is not None and actor.entity_id == doc.entity_id and actor.has_role(Role.entity_user)
            and doc.voided_at is None)


def get_document(db: Session, *, document_id: int, actor: User | None) -> Document:
    doc = db.get(Document, document_id)
    if doc is None or not _may_read(doc, actor):
        raise NotFound(N_("No such document."))
    return doc


def for_subject(db: Session, *, subject_type: str, subject_id: int, actor: User | None) -> list[Document]:
    rows = db.scalars(select(Document).where(Document.subject_type == subject_type,
                                             Document.subject_id == subject_id).order_by(Document.id))
    return [d for d in rows if _may_read(d, actor)]


def list_documents(db: Session, *, actor: User, kind: str = "", year: int | None = None, query: str = "",
                   offset: int = 0, limit: int = 50) -> tuple[list[Document], int]:
    if actor.entity_id is not None and actor.has_role(Role.entity_user):
        stmt = select(Document).where(Document.entity_id == actor.entity_id, Document.voided_at.is_(None))
    else:
        stmt = select(Document).where(visible(Document, actor))
    if kind:
        stmt = stmt.where(Document.kind == kind_of(kind).code)
    if year is not None:
        stmt = stmt.where(Document.year == year)
    if query.strip():
        stmt = stmt.where(Document.number.contains(query.strip()))
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.scalars(stmt.order_by(Document.id.desc()).offset(offset).limit(limit))
    return list(rows), int(total)


# --------------------------------------------------------------------------- rendering


def read_file(sha256: str | None) -> bytes | None:
    if not sha256:
        return None
    storage = get_storage()
    if not storage.exists(sha256):
        return None
    with storage.open(sha256) as f:
        return f.read()


def put_file(data: bytes) -> str:
    sha256, _ = get_storage().put(io.BytesIO(data))
    return sha256


def template_for(db: Session, agency_id: int, kind: str, fmt: str) -> tuple[bytes, str]:
    """(template, its sha256): the agency's newest own template of the kind, else the shipped one."""
    source = "html" if fmt == "pdf" else "docx"
    row = db.scalar(select(DocumentTemplate).where(DocumentTemplate.agency_id == agency_id,
                                                   DocumentTemplate.kind == kind, DocumentTemplate.format == source,
                                                   DocumentTemplate.retired_at.is_(None))
                    .order_by(DocumentTemplate.id.desc()).limit(1))
    if row is not None and (data := read_file(row.sha256)) is not None:
        return data, row.sha256
    data = render.default_template(kind, source)
    return data, hashlib.sha256(data).hexdigest()


def _render_one(db: Session, doc: Document, fmt: str) -> tuple[bytes, str]:
    template, template_sha = template_for(db, doc.agency_id, doc.kind, fmt)
    if fmt == "docx":
        return render.render_docx(template, doc.context, read_file), template_sha
    pdf = render.render_pdf(template, doc.context, read_file)
    agency = db.get(Agency, doc.agency_id)
    assert agency is not None
    signed, signer = signing.sign(pdf, agency_code=agency.code, agency_name=agency.name,
                                  reason=f"{doc.context.get('title', '')} {doc.number}", location=agency.name)
    doc.signer = signer
    return signed, template_sha


def render_files(db: Session, *, document_id: int, fmt: str, actor: User | None) -> tuple[Document, bytes]:
    """The document's file in ``fmt``; rendered, signed and kept the first time, the same bytes after."""
    if fmt not in FORMATS:
        raise Invalid("format", N_("Format must be one of {allowed}."), allowed=", ".join(FORMATS))
    doc = get_document(db, document_id=document_id, actor=actor)
    held = doc.pdf_sha256 if fmt == "pdf" else doc.docx_sha256
    if held and (data := read_file(held)) is not None:
        return doc, data
    data, template_sha = _render_one(db, doc, fmt)
    sha256 = put_file(data)
    if fmt == "pdf":
        doc.pdf_sha256, doc.pdf_template = sha256, template_sha
    else:
        doc.docx_sha256, doc.docx_template = sha256, template_sha
    doc.rendered_at = utcnow()
    audit.record(db, actor=actor, action="document.render", object_type="document", object_id=doc.id,
                 payload={"format": fmt, "sha256": sha256, "template": template_sha},
                 detail={"number": doc.number, "format": fmt, "sha256": sha256, "template": template_sha,
                         "signer": doc.signer if fmt == "pdf" else ""})
    return doc, data


def pending(db: Session, *, limit: int = 1000) -> list[int]:
    """Documents not yet rendered to PDF (for ``jianguan document render --pending``)."""
    return list(db.scalars(select(Document.id).where(Document.pdf_sha256.is_(None), Document.voided_at.is_(None))
                           .order_by(Document.id).limit(limit)))


def file_name(doc: Document, fmt: str) -> str:
    return f"{doc.context.get('title', doc.kind)}-{doc.number}.{fmt}"


def void(db: Session, *, document_id: int, reason: str, actor: User) -> Document:
    """作废: the document stays, with its number and the reason; the number is not given again."""
    doc = get_document(db, document_id=document_id, actor=actor)
    if not actor.has_role(Role.leader, Role.agency_admin) or actor.agency_id != doc.agency_id:
        raise Forbidden(N_("Only a leader or administrator of the issuing agency may void its documents."))
    if doc.voided_at is not None:
        raise Conflict(N_("The document is already void."))
    if not reason.strip():
        raise Invalid("reason", N_("Give the reason for this decision in the comment."))
    doc.voided_at, doc.void_reason = utcnow(), reason.strip()
    audit.record(db, actor=actor, action="document.void", object_type="document", object_id=doc.id,
                 payload={"reason": doc.void_reason}, detail={"number": doc.number, "reason": doc.void_reason})
    return doc


# --------------------------------------------------------------------------- checking a PDF


def verify_pdf(db: Session, data: bytes) -> dict[str, Any]:
    """Whether a PDF is a document of ours, unchanged: its signature, and its hash in the register."""
    check = signing.check(data)
    sha256 = hashlib.sha256(data).hexdigest()
    doc = db.scalar(select(Document).where(Document.pdf_sha256 == sha256))
    return {"sha256": sha256, "signed": check.signed, "intact": check.intact, "trusted": check.trusted,
            "whole_file": check.whole_file, "signer": check.signer,
            "signed_at": check.signed_at.isoformat() if check.signed_at else None, "problem": check.problem,
            "signed_at_local": f"{check.signed_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M:%S}" if check.signed_at else "",
            "registered": doc is not None, "number": doc.number if doc else None,
            "kind": doc.context.get("title") if doc else None, "issued_on": doc.issued_on.isoformat() if doc else None,
            "void": bool(doc and doc.voided_at), "void_reason": doc.void_reason if doc else "",
            "genuine": check.ok and doc is not None and doc.voided_at is None}


# --------------------------------------------------------------------------- settings


def _own_agency(actor: User, agency_id: int) -> None:
    if not ((actor.has_role(Role.agency_admin, Role.leader) and actor.agency_id == agency_id)
            or actor.has_role(Role.system_admin)):
        raise Forbidden(N_("Only a leader or administrator of the agency may change its document settings."))


def _read_limited(stream: Readable, limit: int, field: str) -> bytes:
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise Invalid(field, N_("The file is larger than the limit of {limit}."), limit=f"{limit // 1024 // 1024} MB")
    if not data:
        raise Invalid(field, N_("The file is empty."))
    return data


def _png(stream: Readable, field: str) -> str:
    data = _read_limited(stream, IMAGE_MAX_BYTES, field)
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise Invalid(field, N_("The image must be a PNG file (a transparent background looks best)."))
    return put_file(data)


def set_profile(db: Session, *, agency_id: int, abbreviation: str, seal: Readable | None = None,
                expected_version: int | None = None, actor: User) -> DocumentProfile:
    _own_agency(actor, agency_id)
    abbreviation = abbreviation.strip()
    if not abbreviation or len(abbreviation) > 24:
        raise Invalid("abbreviation", N_("The issuing abbreviation (机关代字) is required, at most 24 characters."))
    row = db.scalar(select(DocumentProfile).where(DocumentProfile.agency_id == agency_id))
    if row is None:
        row = DocumentProfile(agency_id=agency_id, abbreviation=abbreviation)
        db.add(row)
    else:
        check_version(row, expected_version)
    row.abbreviation = abbreviation
    if seal is not None:
        row.seal_sha256 = _png(seal, "seal")
    db.flush()
    audit.record(db, actor=actor, action="document.profile", object_type="agency", object_id=agency_id,
                 payload={"abbreviation": abbreviation, "seal": row.seal_sha256},
                 detail={"abbreviation": abbreviation, "seal": row.seal_sha256})
    return row


def set_signature(db: Session, *, officer_id: int, image: Readable, actor: User) -> OfficerSignature:
    officer = db.get(Officer, officer_id)
    if officer is None:
        raise NotFound(N_("No such officer."))
    if officer.user_id != actor.id:
        _own_agency(actor, officer.agency_id)
    sha256 = _png(image, "signature")
    row = db.scalar(select(OfficerSignature).where(OfficerSignature.officer_id == officer_id))
    if row is None:
        row = OfficerSignature(officer_id=officer_id, sha256=sha256)
        db.add(row)
    row.sha256 = sha256
    db.flush()
    audit.record(db, actor=actor, action="document.signature", object_type="officer", object_id=officer_id,
                 payload={"sha256": sha256}, detail={"sha256": sha256})
    return row


def sample_context(kind: str) -> dict[str, Any]:
    """What a template is tried against before it is accepted (every field a real one has)."""
    text = resources.files("jianguan.documents").joinpath("data", "samples.yaml").read_text(encoding="utf-8")
    samples: dict[str, Any] = yaml.safe_load(text)
    case_kinds = frozenset({"case_source_form", "filing_form", "not_filed_form", "inquiry_record", "case_site_record",
                            "investigation_report", "review_form", "prior_notice", "hearing_notice",
                            "penalty_decision", "no_penalty_decision", "simple_decision", "service_receipt",
                            "closing_form"})  # cases/documents.py: these also get cases.documents.common()
    case: dict[str, Any] = samples["case_common"] if kind in case_kinds else {}
    return {**samples["common"], **case, **samples.get(kind, {}), "title": kind_of(kind).title}


def upload_template(db: Session, *, agency_id: int, kind: str, fmt: str, stream: Readable, filename: str,
                    actor: User) -> DocumentTemplate:
    """An agency's own template, accepted only when it renders the sample document."""
    _own_agency(actor, agency_id)
    kind_of(kind)
    if fmt not in ("docx", "html"):
        raise Invalid("format", N_("Format must be one of {allowed}."), allowed="docx, html")
    data = _read_limited(stream, TEMPLATE_MAX_BYTES, "template")
    sample = sample_context(kind)
    if fmt == "docx":
        render.render_docx(data, sample, lambda _sha: None)
    else:
        render.render_pdf(data, sample, lambda _sha: None)
    row = DocumentTemplate(agency_id=agency_id, kind=kind, format=fmt, sha256=put_file(data),
                           filename=filename[:255], uploaded_by=actor.id)
    db.add(row)
    db.flush()
    audit.record(db, actor=actor, action="document.template", object_type="agency", object_id=agency_id,
                 payload={"kind": kind, "format": fmt, "sha256": row.sha256},
                 detail={"kind": kind, "format": fmt, "sha256": row.sha256, "filename": row.filename})
    return row


def retire_template(db: Session, *, template_id: int, actor: User) -> DocumentTemplate:
    row = db.get(DocumentTemplate, template_id)
    if row is None:
        raise NotFound(N_("No such template."))
    _own_agency(actor, row.agency_id)
    row.retired_at = utcnow()
    audit.record(db, actor=actor, action="document.template_retire", object_type="agency", object_id=row.agency_id,
                 payload={"template": row.id}, detail={"kind": row.kind, "format": row.format})
    return row


def templates(db: Session, *, agency_id: int) -> list[DocumentTemplate]:
    return list(db.scalars(select(DocumentTemplate).where(DocumentTemplate.agency_id == agency_id,
                                                          DocumentTemplate.retired_at.is_(None))
                           .order_by(DocumentTemplate.kind, DocumentTemplate.format, DocumentTemplate.id.desc())))


@dataclass(frozen=True)
class Settings:
    agency: Agency
    abbreviation: str
    seal_sha256: str | None
    version: int | None  # None: never saved (the abbreviation shown is the default)
    templates: list[DocumentTemplate]


def settings_of(db: Session, *, agency_id: int, actor: User) -> Settings:
    agency = db.get(Agency, agency_id)
    if agency is None or not (actor.agency_id == agency.id or can_see(agency, actor)):
        raise NotFound(N_("No such agency."))
    row = db.scalar(select(DocumentProfile).where(DocumentProfile.agency_id == agency_id))
    abbreviation, seal = profile(db, agency)
    return Settings(agency, abbreviation, seal, row.version if row else None, templates(db, agency_id=agency_id))


def seal_image(db: Session, *, agency_id: int, actor: User) -> bytes | None:
    return read_file(settings_of(db, agency_id=agency_id, actor=actor).seal_sha256)


def template_file(db: Session, *, template_id: int, actor: User) -> tuple[DocumentTemplate, bytes]:
    row = db.get(DocumentTemplate, template_id)
    if row is None:
        raise NotFound(N_("No such template."))
    settings_of(db, agency_id=row.agency_id, actor=actor)  # the same visibility as the agency
    data = read_file(row.sha256)
    if data is None:
        raise NotFound(N_("No such template."))
    return row, data


def my_signature(db: Session, *, actor: User) -> tuple[Officer | None, str | None]:
    officer = db.scalar(select(Officer).where(Officer.user_id == actor.id))
    if officer is None:
        return None, None
    return officer, signature_of(db, [officer.id]).get(officer.id)
