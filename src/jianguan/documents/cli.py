"""``jianguan document list|show|render|verify|template`` — thin: parse, call the service, print a
table or JSON. ``verify`` exits 1 when a PDF is not a genuine, unchanged document of ours."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from jianguan.core.errors import DomainError
from jianguan.db import session_scope

document_app = typer.Typer(help="Enforcement documents (执法文书).", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _fail(error: DomainError) -> None:
    from jianguan.cli import fail

    fail(error)


@document_app.command("list")
def list_documents(subject: Annotated[str, typer.Option(help="Only those of one record, e.g. inspection:12.")] = "",
                   kind: Annotated[str, typer.Option(help="A kind, e.g. inspection_notice.")] = "",
                   as_json: JsonOpt = False) -> None:
    """Issued documents, newest first (all agencies: this is the operator's view)."""
    from sqlalchemy import select

    from jianguan.cli import console, print_json
    from jianguan.documents.models import Document
    from jianguan.documents.schemas import document_dict

    with session_scope() as db:
        stmt = select(Document).order_by(Document.id.desc()).limit(500)
        if subject:
            subject_type, _, subject_id = subject.partition(":")
            stmt = stmt.where(Document.subject_type == subject_type, Document.subject_id == int(subject_id or 0))
        if kind:
            stmt = stmt.where(Document.kind == kind)
        rows: list[dict[str, Any]] = [document_dict(d) for d in db.scalars(stmt)]
    if as_json:
        print_json(rows)
        return
    table = Table("id", "编号 number", "种类 kind", "日期 issued", "PDF")
    for r in rows:
        table.add_row(str(r["id"]), r["number"], r["title"], r["issued_on"], (r["pdf_sha256"] or "—")[:12])
    console.print(table)


@document_app.command("render")
def render_documents(document_ids: Annotated[list[int] | None, typer.Argument(help="Document ids.")] = None,
                     pending: Annotated[bool, typer.Option("--pending", help="All not yet rendered.")] = False,
                     out: Annotated[Path | None, typer.Option(help="Write the files into this folder.")] = None,
                     as_json: JsonOpt = False) -> None:
    """Render (once), sign and keep the PDF and DOCX of documents; print their hashes."""
    from rich.progress import track

    from jianguan.cli import print_json
    from jianguan.documents import service

    done: list[dict[str, Any]] = []
    try:
        with session_scope() as db:
            ids = list(document_ids or []) + (service.pending(db) if pending else [])
            for document_id in track(ids, description="渲染文书 rendering", disable=as_json or len(ids) < 2):
                row: dict[str, Any] = {"id": document_id}
                for fmt in service.FORMATS:
                    doc, data = service.render_files(db, document_id=document_id, fmt=fmt, actor=None)
                    row[fmt] = doc.pdf_sha256 if fmt == "pdf" else doc.docx_sha256
                    row["number"] = doc.number
                    if out is not None:
                        out.mkdir(parents=True, exist_ok=True)
                        (out / service.file_name(doc, fmt)).write_bytes(data)
                done.append(row)
    except DomainError as error:
        _fail(error)
    if as_json:
        print_json(done)
    else:
        for row in done:
            typer.echo(f"{row['number']}  pdf {row['pdf'][:12]}  docx {row['docx'][:12]}")


@document_app.command("verify")
def verify(file: Annotated[Path, typer.Argument(help="A PDF received from the platform.", exists=True)],
           as_json: JsonOpt = False) -> None:
    """Check a PDF: signature intact and trusted, nothing appended, and in the register. Exit 1 if not."""
    from jianguan.cli import print_json
    from jianguan.documents import service

    with session_scope() as db:
        result = service.verify_pdf(db, file.read_bytes())
    if as_json:
        print_json(result)
    else:
        mark = "✓ genuine" if result["genuine"] else "✗ NOT confirmed"
        typer.echo(f"{mark}: {result['number'] or '(not in the register)'} signed={result['signed']} "
                   f"intact={result['intact']} whole_file={result['whole_file']} trusted={result['trusted']} "
                   f"signer={result['signer'] or '—'}")
    if not result["genuine"]:
        raise typer.Exit(1)


@document_app.command("template")
def template(kind: Annotated[str, typer.Argument(help="A kind, e.g. inspection_notice.")],
             agency: Annotated[str, typer.Option(help="Agency code: upload FILE as its own template.")] = "",
             file: Annotated[Path | None, typer.Option(help="DOCX or HTML template to upload.", exists=True)] = None,
             export: Annotated[Path | None, typer.Option(help="Write the shipped templates into this folder.")] = None,
             as_user: Annotated[str, typer.Option("--as", help="Username of the agency's leader or admin.")] = "",
             ) -> None:
    """Export the shipped templates of a kind, or upload an agency's own (checked against the sample)."""
    from sqlalchemy import select

    from jianguan.auth.models import User
    from jianguan.documents import render, service
    from jianguan.officers.models import Agency

    try:
        spec = service.kind_of(kind)
        if export is not None:
            export.mkdir(parents=True, exist_ok=True)
            for fmt in ("docx", "html"):
                (export / f"{kind}.{fmt}").write_bytes(render.default_template(kind, fmt))
            (export / "base.html").write_bytes(render.default_template("base", "html"))
            typer.echo(f"wrote {spec.title} templates to {export}")
        if agency and file is not None:
            with session_scope() as db:
                found = db.scalar(select(Agency).where(Agency.code == agency))
                actor = db.scalar(select(User).where(User.username == as_user, User.is_active))
                if found is None or actor is None:
                    raise typer.BadParameter(f"no agency {agency!r} or no active user {as_user!r} (--as)")
                fmt = "docx" if file.suffix.lower() == ".docx" else "html"
                with file.open("rb") as stream:
                    row = service.upload_template(db, agency_id=found.id, kind=kind, fmt=fmt, stream=stream,
                                                  filename=file.name, actor=actor)
                typer.echo(f"accepted {file.name} for {found.name}: {row.format} {row.sha256[:12]}")
    except DomainError as error:
        _fail(error)


def register(app: typer.Typer) -> None:
    app.add_typer(document_app, name="document")
