"""Vectorised makers of valid identifiers (USCC, GB 11643 ID numbers) for generated data.

The rules are domain-rules §1.1/§1.2; the validators that check them live in entities/uscc.py and
the import checks. These build many at once with numpy so a 5-million-row file takes seconds.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], dtype=np.int64)
ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ORG_SPACE = 31**8
_ORG_STEP = 1_000_000_007  # coprime with 31**8, so index → body is a bijection (unique codes)

# GB 11714 values: digits as themselves, letters A=10 … Z=35 (alphabet position, not charset index).
_GB11714_VALUE = {c: (int(c) if c.isdigit() else ord(c) - ord("A") + 10) for c in USCC_CHARSET}


_GB11714_LOOKUP = np.array([_GB11714_VALUE[c] for c in USCC_CHARSET], dtype=np.int64)
_INDEX_OF = {c: i for i, c in enumerate(USCC_CHARSET)}


def _codepoints(values: npt.NDArray[np.str_], width: int) -> npt.NDArray[np.int64]:
    """An (n, width) array of the characters' code points, without a Python loop per row."""
    fixed = np.asarray(values).astype(f"<U{width}")
    return np.frombuffer(fixed.tobytes(), dtype=np.uint32).reshape(len(fixed), width).astype(np.int64)


def _join(codepoints: npt.NDArray[np.int64]) -> list[str]:
    width = codepoints.shape[1]
    return np.frombuffer(codepoints.astype(np.uint32).tobytes(), dtype=f"<U{width}").tolist()  # type: ignore[no-any-return]


def uscc_codes(
    *, dept: str, categories: npt.NDArray[np.str_], divisions: npt.NDArray[np.str_], first_index: int, offset: int
) -> list[str]:
    """Valid, unique USCCs: row i gets organisation body number ``(first_index + i) * step + offset``."""
    n = len(categories)
    numbers = (np.arange(first_index, first_index + n, dtype=np.int64) * _ORG_STEP + offset) % _ORG_SPACE
    body_idx = np.empty((n, 8), dtype=np.int64)
    for pos in range(7, -1, -1):
        body_idx[:, pos] = numbers % 31
        numbers //= 31
    org_check = 11 - (_GB11714_LOOKUP[body_idx] @ ORG_WEIGHTS) % 11
    org_idx = np.where(org_check == 10, _INDEX_OF["X"], np.where(org_check == 11, 0, org_check))
    category_idx = np.vectorize(_INDEX_OF.__getitem__, otypes=[np.int64])(np.asarray(categories))
    division_idx = _codepoints(divisions, 6) - ord("0")  # digits: index equals value
    values = np.column_stack([np.full(n, _INDEX_OF[dept]), category_idx, division_idx, body_idx, org_idx])
    check = (31 - (values @ USCC_WEIGHTS) % 31) % 31
    charset = np.array([ord(c) for c in USCC_CHARSET], dtype=np.int64)
    return _join(charset[np.column_stack([values, check])])


def id_numbers(
    rng: np.random.Generator, *, divisions: npt.NDArray[np.str_], born_from: int = 1955, born_to: int = 2002
) -> list[str]:
    """Valid resident ID numbers (GB 11643): real birth dates, ISO 7064 MOD 11-2 check."""
    n = len(divisions)
    start = np.datetime64(f"{born_from}-01-01")
    days = (np.datetime64(f"{born_to}-12-31") - start).astype(np.int64)
    births = np.char.replace((start + rng.integers(0, days, n)).astype("datetime64[D]").astype("<U10"), "-", "")
    seq = np.char.zfill(rng.integers(1, 999, n).astype("<U3"), 3)
    body = _codepoints(np.char.add(np.char.add(np.asarray(divisions).astype("<U6"), births), seq), 17)
    check = (12 - ((body - ord("0")) @ ID_WEIGHTS) % 11) % 11
    check_cp = np.where(check == 10, ord("X"), check + ord("0"))
    return _join(np.column_stack([body, check_cp]))


def phones(rng: np.random.Generator, n: int) -> list[str]:
    prefixes = np.array(["130", "133", "135", "136", "137", "138", "139", "150", "152", "158", "177", "186", "189"])
    tails = np.char.zfill(rng.integers(0, 100_000_000, n).astype(str), 8)
    return np.char.add(rng.choice(prefixes, n), tails).tolist()  # type: ignore[no-any-return]
