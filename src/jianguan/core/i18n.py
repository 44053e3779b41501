"""Translation catalog access (Babel .po files, read directly; no compile step needed).

Message ids are English; Simplified Chinese is the default locale. ``N_`` marks a string for
extraction without translating it yet (errors are translated where they are shown).
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"
LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"


def N_(message: str) -> str:
    return message


@lru_cache(maxsize=8)
def translations(locale: str) -> Translations:
    po_path = TRANSLATIONS_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return Translations()
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def gettext(message: str, locale: str = DEFAULT_LOCALE, **params: object) -> str:
    text = translations(locale).gettext(message)
    return text.format(**params) if params else text


def pick_locale(requested: str | None) -> str:
    if requested:
        for part in requested.replace("-", "_").split(","):
            tag = part.split(";")[0].strip()
            if tag in LOCALES:
                return tag
            if tag.lower().startswith("zh"):
                return "zh_CN"
            if tag.lower().startswith("en"):
                return "en"
    return DEFAULT_LOCALE
