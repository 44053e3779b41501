"""Notification kinds and their default channels (data/kinds.yaml), and how a person's choices
override them.

A kind takes the first entry of the file that matches it (exactly or by a ``*`` pattern), else the
file's ``defaults`` (the ``*`` entry, "all other notifications"). A person's stored choice for the
kind itself wins, then their choice for the matching entry, then the entry's default. Mandatory
kinds (督办) always reach the app, whatever was chosen.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from jianguan.core.i18n import N_

OTHER = "*"
CHANNELS = ("in_app", "email", "sms")
EXTERNAL = ("email", "sms")
KIND_RE = re.compile(r"^[A-Za-z0-9_.*-]{1,60}$")

# The label of each entry of kinds.yaml (message ids, so they are translated like any page text).
LABELS: dict[str, str] = {
    "workflow.escalation": N_("Overdue steps and their escalation (督办, 挂牌督办)"),
    "*.escalated": N_("Matters and findings put under supervision (督办)"),
    "*.overdue": N_("Deadlines passed"),
    "*.transferred": N_("Complaints and tasks transferred to you"),
    "*.assigned": N_("Work assigned to you"),
    "*.deadline_near": N_("Deadlines coming close"),
    "account_request.submitted": N_("Account requests to review"),
    "inspection_plan.filed": N_("Inspection plans filed"),
    "inspection.copied": N_("Inspections you are copied on"),
    OTHER: N_("All other notifications"),
}


@dataclass(frozen=True)
class Channels:
    """Which channels one notification goes by."""

    in_app: bool = True
    email: bool = False
    sms: bool = False

    def external(self) -> list[str]:
        return [name for name in EXTERNAL if getattr(self, name)]

    def as_dict(self) -> dict[str, bool]:
        return {name: bool(getattr(self, name)) for name in CHANNELS}


@dataclass(frozen=True)
class Kind:
    """One entry of kinds.yaml: a kind or a pattern, its label, its defaults."""

    key: str
    label: str
    mandatory: bool
    default: Channels

    def matches(self, kind: str) -> bool:
        return self.key == OTHER or fnmatch.fnmatchcase(kind, self.key)


class _ChannelsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    in_app: bool = True
    email: bool = False
    sms: bool = False


class _EntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str
    mandatory: bool = False
    in_app: bool | None = None
    email: bool | None = None
    sms: bool | None = None

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if not KIND_RE.match(value) or value == OTHER:
            raise ValueError("a kind such as 'workflow.escalation' or a pattern such as '*.transferred'")
        return value


class _FileIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    defaults: _ChannelsIn
    kinds: list[_EntryIn]


@dataclass(frozen=True)
class KindTable:
    entries: tuple[Kind, ...]  # in file order, then the ``*`` entry last

    def entry_for(self, kind: str) -> Kind:
        return next(e for e in self.entries if e.matches(kind))

    def get(self, key: str) -> Kind | None:
        return next((e for e in self.entries if e.key == key), None)


def parse(text: str, source: str = "kinds.yaml") -> KindTable:
    """Validate the file; a mistake fails with the file, the entry and the field."""
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"{source}: {exc}") from exc
    try:
        parsed = _FileIn.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in e["loc"]).replace(".[", "[") + f": {e['msg']}"
            for e in exc.errors())
        raise ValueError(f"{source}: {problems}") from exc
    base = Channels(**parsed.defaults.model_dump())
    entries: list[Kind] = []
    for entry in parsed.kinds:
        if any(e.key == entry.kind for e in entries):
            raise ValueError(f"{source}: kind {entry.kind!r} appears twice")
        given = {name: getattr(entry, name) for name in CHANNELS if getattr(entry, name) is not None}
        default = replace(base, **given)
        if entry.mandatory:
            default = replace(default, in_app=True)
        entries.append(Kind(entry.kind, LABELS.get(entry.kind, entry.kind), entry.mandatory, default))
    entries.append(Kind(OTHER, LABELS[OTHER], False, base))
    return KindTable(tuple(entries))


@lru_cache(maxsize=1)
def table() -> KindTable:
    text = resources.files("jianguan.notify").joinpath("data", "kinds.yaml").read_text(encoding="utf-8")
    return parse(text, "notify/data/kinds.yaml")


def resolve(kind: str, chosen: Mapping[str, Channels], kinds: KindTable | None = None) -> Channels:
    """The channels ``kind`` goes by for a person whose stored choices are ``chosen`` (key → channels)."""
    entry = (kinds or table()).entry_for(kind)
    channels = chosen.get(kind) or chosen.get(entry.key) or entry.default
    return replace(channels, in_app=True) if entry.mandatory else channels


def default_for(key: str, kinds: KindTable | None = None) -> Channels:
    """What a key (a kind or an entry of the file) goes by when the person has chosen nothing for it."""
    kinds = kinds or table()
    return (kinds.get(key) or kinds.entry_for(key)).default
