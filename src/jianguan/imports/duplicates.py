"""Keys that appear twice in an import file: within a slice and against the slices before it.

Rows are told apart by a 64-bit hash, which is cheap; only rows whose hash matches are compared by
the keys themselves, so the answer is exact.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import polars as pl

from jianguan.imports.checks import ROW, Problems
from jianguan.imports.identifiers import stripped


class Seen:
    """The keys met so far in a file, for ``find``. Each key is kept once; its hash and where
    it is kept are packed into one 64-bit number (the hash's top ``64 - POSITION_BITS`` bits, then
    the position), held in sorted numpy levels — a log-structured merge, so a slice is probed and
    added in O(k log n) with no Python object per key, and merging two levels is one sort of two
    sorted runs. Rows are told apart by hash, which is cheap; only rows whose hash matches are
    compared by the keys themselves, so the answer is exact even when two keys share a hash.
    ``hash``: the hash function (tests pass a weak one to force collisions)."""

    POSITION_BITS = 28  # up to 268 million keys in one file

    def __init__(self, hash: Callable[[pl.Series], pl.Series] | None = None) -> None:
        self._hash = hash or (lambda keys: keys.hash(seed=_SEED))
        self.levels: list[npt.NDArray[np.uint64]] = []  # sorted (hash prefix << POSITION_BITS) | position
        self.chunks: list[pl.Series] = []  # the slices' keys, in the order the positions count them
        self.size = 0  # keys in the chunks

    def __len__(self) -> int:
        """How many distinct keys are kept."""
        return sum(len(level) for level in self.levels)

    def later(self, keys: pl.Series) -> pl.Series:
        """True for each key a row before it had (above it in ``keys``, or in an earlier call);
        remembers the keys."""
        n = keys.len()
        later = np.zeros(n, dtype=bool)
        if n == 0:
            return pl.Series(later)
        hashes = self._hash(keys).to_numpy()
        order = np.argsort(hashes)  # one sort serves the slice, the probes and the new level
        ordered = hashes[order]
        same = ordered[1:] == ordered[:-1]
        if same.any():  # rows sharing a hash in this call: the keys decide
            shared = np.zeros(n, dtype=bool)
            shared[1:] |= same
            shared[:-1] |= same
            rows = np.sort(order[shared])
            later[rows] = (~keys.gather(rows).is_first_distinct()).to_numpy()
        first = ~later[order]
        rows, prefixes = order[first], ordered[first] >> np.uint64(self.POSITION_BITS)
        known = self._known(keys, rows, prefixes)
        later[rows[known]] = True
        self._remember(keys, prefixes[~known], rows[~known])
        return pl.Series(later)

    def _known(self, keys: pl.Series, rows: npt.NDArray[np.intp],
               prefixes: npt.NDArray[np.uint64]) -> npt.NDArray[np.bool_]:
        """Which of ``keys[rows]`` (distinct; ``prefixes``, their hash prefixes, sorted) are kept already."""
        known = np.zeros(len(rows), dtype=bool)
        if not self.levels or len(rows) == 0:
            return known
        shift, mask = np.uint64(self.POSITION_BITS), np.uint64((1 << self.POSITION_BITS) - 1)
        low, high = prefixes << shift, (prefixes << shift) | mask
        pairs_at: list[npt.NDArray[np.intp]] = []
        pairs_pos: list[npt.NDArray[np.uint64]] = []
        for level in self.levels:
            lo = np.searchsorted(level, low, side="left")
            hit = np.flatnonzero(level[np.minimum(lo, len(level) - 1)] >> shift == prefixes)
            if len(hit) == 0:
                continue
            count = np.searchsorted(level, high[hit], side="right") - lo[hit]  # > 1: prefixes collide
            starts = np.repeat(lo[hit] - np.cumsum(count) + count, count)
            pairs_at.append(np.repeat(hit, count))
            pairs_pos.append(level[starts + np.arange(count.sum())] & mask)
        if not pairs_at:
            return known
        at = np.concatenate(pairs_at)
        stored = pl.concat(self.chunks, rechunk=False).gather(np.concatenate(pairs_pos).astype(np.int64))
        same = (keys.gather(rows[at]) == stored).to_numpy()
        known[at[same]] = True
        return known

    def _remember(self, keys: pl.Series, prefixes: npt.NDArray[np.uint64], at: npt.NDArray[np.intp]) -> None:
        """Keep the new keys ``keys[at]``, given their hash ``prefixes`` (sorted). The whole slice is
        kept, in row order: taking the new keys out of it, or gathering them in hash order, costs
        more than the memory of the few that are not new."""
        if len(at) == 0:
            return
        if self.size + keys.len() > 1 << self.POSITION_BITS:
            raise ValueError(f"more than {1 << self.POSITION_BITS} keys")
        self.levels.append((prefixes << np.uint64(self.POSITION_BITS)) | (at + self.size).astype(np.uint64))
        self.chunks.append(keys)
        self.size += keys.len()
        while len(self.levels) > 1 and len(self.levels[-1]) >= len(self.levels[-2]):
            newer, older = self.levels.pop(), self.levels.pop()
            merged = np.concatenate([older, newer])
            merged.sort(kind="stable")  # two sorted runs: a linear merge
            self.levels.append(merged)


_SEED = 20260401


def find(df: pl.DataFrame, key: str, seen: Seen, problems: Problems, *, value: pl.Expr | None = None,
               code: str = "duplicate.file") -> None:
    """Later occurrences of a key inside the file: within the slice, and against the keys of earlier
    slices in ``seen`` (keys trimmed and upper-cased; ``value``: the key made of several columns,
    reported on column ``key``)."""
    made = stripped(key) if value is None else value.fill_null("")
    keys = df.select(pl.col(ROW), made.str.to_uppercase().alias("k")).filter(pl.col("k") != "")
    later = seen.later(keys.get_column("k"))
    problems.add(keys.with_columns(later.alias("later")), pl.col("later"), key, code)
