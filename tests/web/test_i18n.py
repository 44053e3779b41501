"""The catalog guards every engineer's strings: each message id in src/ has Chinese, with the same
{placeholders}. When this fails, run scripts/i18n-update.sh and fill in the listed msgstr."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from jianguan.core.i18n import TRANSLATIONS_DIR, gettext

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "N_": None, "gettext": None}


@pytest.fixture(scope="module")
def source_ids() -> dict[str, str]:
    """Every message id in src/ (Python and templates), with where it was first found."""
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT / "src"), method_map, options_map, keywords=KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault(msgid, f"src/{filename}:{lineno}")
    return found


def catalog(locale: str) -> Catalog:
    with (TRANSLATIONS_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=locale)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_extraction_finds_the_platform_strings(source_ids: dict[str, str]) -> None:
    assert "Wrong username or password." in source_ids  # auth/service.py
    assert "Sign in" in source_ids  # a template


def test_every_message_id_has_a_chinese_translation(source_ids: dict[str, str]) -> None:
    zh = catalog("zh_CN")
    missing = []
    for msgid, where in sorted(source_ids.items()):
        entry = zh.get(msgid)
        if entry is None or not entry.string or entry.fuzzy:
            missing.append(f"  {msgid!r}  ({where})")
    assert not missing, (
        f"{len(missing)} message id(s) lack a zh_CN translation — run scripts/i18n-update.sh and fill in "
        "src/jianguan/translations/zh_CN/LC_MESSAGES/messages.po:\n" + "\n".join(missing)
    )


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_translations_keep_the_placeholders_of_their_id(locale: str) -> None:
    wrong = []
    for entry in catalog(locale):
        if not entry.id or not entry.string:
            continue
        msgid = entry.id if isinstance(entry.id, str) else entry.id[0]
        text = entry.string if isinstance(entry.string, str) else entry.string[0]
        try:
            if placeholders(msgid) != placeholders(text):
                wrong.append(f"  {msgid!r} → {text!r}")
        except ValueError as exc:  # an unbalanced brace
            wrong.append(f"  {msgid!r} → {text!r}: {exc}")
    heading = f"{locale}: translations whose {{placeholders}} differ from the id:\n"
    assert not wrong, heading + "\n".join(wrong)


def test_english_catalog_is_the_identity() -> None:
    assert gettext("Wrong username or password.", "en") == "Wrong username or password."
    assert gettext("Wrong username or password.", "zh_CN") == "用户名或密码错误。"


def test_every_catalog_id_is_still_used(source_ids: dict[str, str]) -> None:
    """Stale entries are harmless but hide mistakes: the update script drops them."""
    stale = [m.id for m in catalog("zh_CN") if m.id and m.id not in source_ids]
    assert not stale, "run scripts/i18n-update.sh; stale ids: " + ", ".join(map(repr, stale))
