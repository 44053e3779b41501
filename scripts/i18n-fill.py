"""Fill zh_CN translations from a 'English id<TAB>中文' list on stdin (keeps the catalog's layout).

Usage: python scripts/i18n-fill.py < pairs.tsv
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parents[1] / "src/jianguan/translations/zh_CN/LC_MESSAGES/messages.po"


def main() -> None:
    pairs = dict(line.rstrip("\n").split("\t", 1) for line in sys.stdin if "\t" in line)
    with PO.open("rb") as fh:
        catalog = read_po(fh, locale="zh_CN")
    filled = 0
    for msgid, text in pairs.items():
        message = catalog.get(msgid)
        if message is None:
            print(f"not in catalog (run scripts/i18n-update.sh first): {msgid}", file=sys.stderr)
            continue
        message.string = text
        message.flags.discard("fuzzy")
        filled += 1
    with PO.open("wb") as fh:
        write_po(fh, catalog, width=0)
    print(f"filled {filled}")


if __name__ == "__main__":
    main()
