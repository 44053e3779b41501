"""Masking of restricted values for display (脱敏). Who may see the clear value is decided elsewhere."""

from __future__ import annotations


def mask_id_number(value: str | None) -> str | None:
    """110101199003078515 → 110101********8515 (division and last four kept, birth date hidden)."""
    if not value:
        return value
    if len(value) <= 10:
        return value[:2] + "*" * max(0, len(value) - 4) + value[-2:]
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str | None) -> str | None:
    """13800138000 → 138****8000."""
    if not value:
        return value
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str | None) -> str | None:
    """张三丰 → 张**; for persons named in published records."""
    if not value:
        return value
    return value[0] + "*" * (len(value) - 1)
