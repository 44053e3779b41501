"""Unified Social Credit Code (统一社会信用代码, GB 32100-2015) validation, exactly domain-rules §1.1.

Errors reject a code (length, character set, position-18 check); warnings keep it but flag it for
data quality (GB 11714 position-17 digit, unknown category pair, unknown division), because codes
issued during the 2015–2017 transition carry such defects. Pure: the division lookup is passed in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jianguan.core.i18n import N_

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUES = {c: i for i, c in enumerate(CHARSET)}
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

# Registration authority (position 1) → valid organisation categories (position 2).
CATEGORY_PAIRS: dict[str, str] = {
    "1": "1239", "2": "19", "3": "123459", "4": "19", "5": "1239", "6": "129", "7": "129",
    "8": "19", "9": "123", "A": "19", "N": "1239", "Y": "1",
}

MESSAGES: dict[str, str] = {
    "uscc.length": N_("The unified social credit code must have 18 characters."),
    "uscc.charset": N_("The unified social credit code contains characters outside the allowed set "
                       "(digits and capital letters except I, O, Z, S, V)."),
    "uscc.check": N_("The check character (position 18) of the unified social credit code is wrong."),
    "uscc.org_check": N_("The organisation code check digit (position 17, GB 11714) is wrong."),
    "uscc.category": N_("The registration authority and category (positions 1–2) are not a known pair."),
    "uscc.division": N_("The administrative division (positions 3–8) is not in GB/T 2260."),
}
ERRORS = ("uscc.length", "uscc.charset", "uscc.check")
WARNINGS = ("uscc.org_check", "uscc.category", "uscc.division")


@dataclass
class UsccResult:
    code: str
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors

    def messages(self, locale: str = "zh_CN") -> dict[str, str]:
        from jianguan.core.i18n import gettext

        return {c: gettext(MESSAGES[c], locale) for c in (*self.errors, *self.warnings)}

    def as_dict(self, locale: str = "zh_CN") -> dict[str, Any]:
        msgs = self.messages(locale)
        return {
            "code": self.code, "valid": self.valid,
            "errors": [{"code": c, "message": msgs[c]} for c in self.errors],
            "warnings": [{"code": c, "message": msgs[c]} for c in self.warnings],
        }


def compute_check_char(first17: str) -> str:
    """Position 18 for the first 17 characters (all in ``CHARSET``)."""
    total = sum(VALUES[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def _org_value(c: str) -> int:
    return int(c) if c.isdigit() else ord(c) - ord("A") + 10


def compute_org_check(body8: str) -> str:
    """GB 11714 check character for the 8-character organisation code body."""
    total = sum(_org_value(c) * w for c, w in zip(body8, ORG_WEIGHTS, strict=True))
    c = 11 - total % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def make_uscc(dept: str, category: str, division: str, org8: str) -> str:
    """A code with both check characters right (for generators and tests)."""
    first17 = dept + category + division + org8 + compute_org_check(org8)
    return first17 + compute_check_char(first17)


def validate(code: str, *, is_region: Callable[[str], bool] | None = None) -> UsccResult:
    """Check one code. Normalises surrounding spaces only: lower case is a charset error."""
    code = (code or "").strip()
    result = UsccResult(code=code)
    if len(code) != 18:
        result.errors.append("uscc.length")
    if any(c not in VALUES for c in code):
        result.errors.append("uscc.charset")
    if result.errors:
        return result
    if compute_check_char(code[:17]) != code[17]:
        result.errors.append("uscc.check")
        return result
    if compute_org_check(code[8:16]) != code[16]:
        result.warnings.append("uscc.org_check")
    if code[1] not in CATEGORY_PAIRS.get(code[0], ""):
        result.warnings.append("uscc.category")
    division = code[2:8]
    if is_region is not None and (not division.isdigit() or not is_region(division)):
        result.warnings.append("uscc.division")
    return result


def is_valid(code: str) -> bool:
    return validate(code).valid
