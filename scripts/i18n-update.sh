#!/usr/bin/env bash
# Extract every message id from src/ (Python: _ N_ gettext; Jinja2 templates, see babel.cfg) and
# merge them into the zh_CN and en catalogs. Then fill in the new empty msgstr in zh_CN; leave en
# empty (an empty msgstr shows the English id). tests/web/test_i18n.py fails while one is missing.
#   scripts/i18n-update.sh           extract, update both catalogs, list what zh_CN still lacks
#   scripts/i18n-update.sh --check   only list what zh_CN lacks (exit 1 if anything)
# Ids that vanish from the source are dropped, but their Chinese comes back if they reappear
# (kept as obsolete "#~" entries).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
[ -x "$PY" ] || PY="python3 -m uv run --frozen python"
exec $PY - "$@" <<'PYTHON'
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

KEYWORDS = {"_": None, "N_": None, "gettext": None}
TDIR = Path("src/jianguan/translations")
check_only = "--check" in sys.argv[1:]

with open("babel.cfg") as fh:
    method_map, options_map = parse_mapping_cfg(fh)
template = Catalog(project="jianguan", charset="utf-8")
for filename, lineno, message, comments, context in extract_from_dir(
    "src", method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True
):
    template.add(message, None, [(f"src/{filename}", lineno)], auto_comments=comments, context=context)


def load(po: Path, locale: str) -> Catalog:
    if not po.exists():
        return Catalog(locale=locale, project="jianguan", charset="utf-8")
    with po.open("rb") as fh:
        return read_po(fh, locale=locale)


missing: list[str] = []
for locale in ("zh_CN", "en"):
    po = TDIR / locale / "LC_MESSAGES" / "messages.po"
    old = load(po, locale)
    known = {m.id: m for m in old.obsolete.values()}
    known.update({m.id: m for m in old if m.id})
    new = Catalog(locale=locale, project="jianguan", charset="utf-8", fuzzy=False)
    new.mime_headers = old.mime_headers if po.exists() else new.mime_headers
    for msg in sorted((m for m in template if m.id), key=lambda m: str(m.id)):
        prev = known.get(msg.id)
        string = prev.string if prev is not None and not prev.fuzzy else ""
        new.add(msg.id, string, auto_comments=msg.auto_comments)
        if locale == "zh_CN" and not string:
            missing.append(str(msg.id))
    for mid, prev in known.items():  # keep translations of vanished ids as obsolete entries
        if mid not in new and prev.string:
            new.obsolete[mid] = prev
    if not check_only:
        po.parent.mkdir(parents=True, exist_ok=True)
        with po.open("wb") as fh:
            write_po(fh, new, width=0, omit_header=False, sort_output=True, include_previous=False,
                     no_location=True)

if missing:
    print(f"{len(missing)} message id(s) need a Chinese translation in {TDIR}/zh_CN/LC_MESSAGES/messages.po:")
    for mid in missing:
        print("  -", mid)
    sys.exit(1 if check_only else 0)
print(f"{len(template)} message ids; zh_CN complete.")
PYTHON
