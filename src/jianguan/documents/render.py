"""The one renderer: DOCX with docxtpl and PDF with WeasyPrint, from a document's frozen context.

Templates may come from an agency (uploaded), so both run in Jinja's sandbox and the PDF renderer
fetches nothing but the images we hand it (data: URLs): a template cannot read files or reach the
network. Image fields are named ``*_image`` in the context and hold a SHA-256 of the evidence store;
they become pictures here.
"""

from __future__ import annotations

import base64
import io
import threading
import zipfile
from collections.abc import Callable, Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

from jinja2 import DictLoader, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from jianguan.core.errors import Invalid
from jianguan.core.i18n import N_

ImageLoader = Callable[[str], bytes | None]
IMAGE_WIDTH_MM = {"seal_image": 40, "signature_image": 25, "party_signature_image": 35}


@lru_cache(maxsize=32)
def default_template(kind: str, fmt: str) -> bytes:
    """The shipped template of a kind (``docx`` or ``html``)."""
    return resources.files("jianguan.documents").joinpath("templates", f"{kind}.{fmt}").read_bytes()


@lru_cache(maxsize=1)
def _html_env() -> SandboxedEnvironment:
    """Templates may ``{% extends "base.html" %}``, the shipped page frame; nothing else is loadable."""
    base = default_template("base", "html").decode("utf-8")
    return SandboxedEnvironment(autoescape=True, loader=DictLoader({"base.html": base}))


def _with_images(value: Any, convert: Callable[[str, str], Any], key: str = "") -> Any:
    if isinstance(value, Mapping):
        return {k: _with_images(v, convert, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_images(v, convert, key) for v in value]
    if key.endswith("_image"):
        return convert(key, value) if value else ""
    return value


def _template_error(fmt: str, exc: Exception) -> Invalid:
    line = getattr(exc, "lineno", None)
    return Invalid("template", N_("The {format} template cannot be used: {problem}{where}."), format=fmt.upper(),
                   problem=str(exc), where=f" (line {line})" if line else "")


def render_docx(template: bytes, context: Mapping[str, Any], images: ImageLoader) -> bytes:
    from docx.shared import Mm
    from docxtpl import DocxTemplate, InlineImage

    try:
        with zipfile.ZipFile(io.BytesIO(template)) as package:
            package.getinfo("word/document.xml")
    except (zipfile.BadZipFile, KeyError) as exc:
        raise Invalid("template", N_("The file is not a DOCX document.")) from exc
    tpl = DocxTemplate(io.BytesIO(template))

    def picture(key: str, sha256: str) -> Any:
        data = images(sha256)
        if not data:
            return ""
        try:
            from docx.image.image import Image

            Image.from_blob(data)  # python-docx reads the header here; a broken image is named instead
        except Exception:
            return f"（图像 {sha256[:12]} 无法读取）"
        return InlineImage(tpl, io.BytesIO(data), width=Mm(IMAGE_WIDTH_MM.get(key, 30)))

    out = io.BytesIO()
    try:
        tpl.render(_with_images(context, picture), jinja_env=SandboxedEnvironment(), autoescape=True)
        tpl.save(out)
    except TemplateError as exc:
        raise _template_error("docx", exc) from exc
    return out.getvalue()


def render_pdf(template: bytes, context: Mapping[str, Any], images: ImageLoader) -> bytes:
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    def data_url(_key: str, sha256: str) -> str:
        data = images(sha256)
        return "data:image/png;base64," + base64.b64encode(data).decode() if data else ""

    try:
        source = template.decode("utf-8")
        html = _html_env().from_string(source).render(_with_images(context, data_url))
    except UnicodeDecodeError as exc:
        raise Invalid("template", N_("The HTML template must be UTF-8 text.")) from exc
    except TemplateError as exc:
        raise _template_error("html", exc) from exc
    with _FONTS_LOCK:  # one font configuration per process: without it every render keeps ~15 MB
        pdf: bytes = HTML(string=html, url_fetcher=URLFetcher(allowed_protocols={"data"})).write_pdf(
            font_config=_font_config())
    return pdf


_FONTS_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _font_config() -> Any:
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()
