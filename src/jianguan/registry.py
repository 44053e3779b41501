"""The list of packages and what each contributes, found by file-name convention.

A package with ``models.py`` adds tables, ``api.py`` a ``router`` under /api/v1, ``pages.py`` a
``router`` of HTML pages, ``cli.py`` an ``app`` (Typer) and ``jobs.py`` a ``JOBS`` list. The app
factory, the CLI root, Alembic and the worker read this module, so a domain slots in by adding
its files — nothing here or in app.py changes.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from types import ModuleType

from jianguan.core.i18n import N_


@dataclass(frozen=True)
class Domain:
    package: str
    label: str  # message id, shown translated in the navigation
    chinese: str  # the part's Chinese name from DESIGN.md, for docs and the home page
    icon: str = ""


# Cross-cutting packages, in dependency order.
PLATFORM = ("core", "officers", "auth", "audit", "reference", "imports", "documents", "notify", "web", "synth")

# The domains of DESIGN.md §1, in navigation order.
DOMAINS: tuple[Domain, ...] = (
    Domain("entities", N_("Supervised entities"), "统一监管对象库", "🏢"),
    Domain("officers", N_("Agencies and officers"), "统一执法主体库", "🪪"),
    Domain("catalog", N_("Supervision catalog"), "统一事项目录", "📚"),
    Domain("inspections", N_("Inspections"), "统一执法检查系统", "🔍"),
    Domain("cases", N_("Penalty cases"), "统一处罚办案系统", "⚖️"),
    Domain("risk", N_("Risk warnings"), "统一风险预警处置中心", "🚨"),
    Domain("collab", N_("Complaints and collaboration"), "统一业务协同中心", "🤝"),
    Domain("datastd", N_("Data standards"), "统一数据标准", "🗂️"),
    Domain("assessment", N_("Assessment"), "考核", "📊"),
    Domain("disclosure", N_("Disclosure"), "一公开 / 申诉", "📢"),
)


def all_packages() -> list[str]:
    seen: list[str] = []
    for name in (*PLATFORM, *(d.package for d in DOMAINS)):
        if name not in seen:
            seen.append(name)
    return seen


def has_module(package: str, module: str) -> bool:
    try:
        return importlib.util.find_spec(f"jianguan.{package}.{module}") is not None
    except ModuleNotFoundError:
        return False


def modules(module: str) -> list[ModuleType]:
    """Import ``jianguan.<package>.<module>`` for every package that has one."""
    return [
        importlib.import_module(f"jianguan.{pkg}.{module}")
        for pkg in all_packages()
        if has_module(pkg, module)
    ]


def import_all_models() -> None:
    modules("models")
