"""The law library shipped with the package (reference/data/laws, see SOURCE.md): titles, dates and
the text of every article, so a legal basis is cited by law and article number and its wording is
quoted, never retyped. Read once per process; a few MB."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from jianguan.core.errors import Invalid
from jianguan.core.i18n import N_


@dataclass(frozen=True)
class Law:
    slug: str
    title: str
    version: str
    published_on: dt.date | None
    in_force_from: dt.date | None
    repealed_from: dt.date | None
    replaced_by: str

    def in_force_on(self, day: dt.date) -> bool:
        started = self.in_force_from is None or self.in_force_from <= day
        return started and (self.repealed_from is None or day < self.repealed_from)


@dataclass(frozen=True)
class Article:
    law: Law
    article_no: str  # as written, e.g. 第三十三条
    index: int
    text: str


def _date(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _rows(name: str) -> list[dict[str, str]]:
    with resources.files("jianguan.reference.data").joinpath("laws", name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


@lru_cache(maxsize=1)
def laws() -> dict[str, Law]:
    return {r["slug"]: Law(r["slug"], r["title"], r["version"], _date(r["published_on"]), _date(r["in_force_from"]),
                           _date(r["repealed_from"]), r["replaced_by"]) for r in _rows("laws.csv")}


@lru_cache(maxsize=1)
def articles() -> dict[tuple[str, str], Article]:
    known = laws()
    return {(r["law_slug"], r["article_no"]): Article(known[r["law_slug"]], r["article_no"], int(r["article_index"]),
                                                      r["text"]) for r in _rows("articles.csv")}


def cite(slug: str, article_no: str, *, on: dt.date | None = None, field: str = "legal_basis") -> Article:
    """The article, or a clear error: unknown law, unknown article, or a law not in force on ``on``
    (e.g. 大气污染防治法 after 2026-08-15: cite the 生态环境法典)."""
    law = laws().get(slug)
    if law is None:
        raise Invalid(field, N_("Unknown law {law}: cite one of the law library's laws."), law=slug)
    found = articles().get((slug, article_no.strip()))
    if found is None:
        raise Invalid(field, N_("{title} has no article {article}."), title=law.title, article=article_no)
    if on is not None and not law.in_force_on(on):
        if law.repealed_from is not None and on >= law.repealed_from:
            successor = laws().get(law.replaced_by)
            raise Invalid(field, N_("{title} is repealed from {date}; cite {successor} instead."), title=law.title,
                          date=law.repealed_from.isoformat(), successor=successor.title if successor else "-")
        raise Invalid(field, N_("{title} is not yet in force on {date}."), title=law.title, date=on.isoformat())
    return found


def search(query: str, *, slug: str = "", limit: int = 20) -> list[Article]:
    """Articles whose text contains ``query`` (for the legal-basis picker)."""
    q = query.strip()
    out = [a for a in articles().values() if (not slug or a.law.slug == slug) and (not q or q in a.text)]
    return sorted(out, key=lambda a: (a.law.slug, a.index))[:limit]
