"""Money inside the simulator is int64 cents (exact, vectorised); tables get 2-place Decimals."""

from __future__ import annotations

from decimal import Decimal

import numpy as np


def to_decimal(cents: np.ndarray | list[int]) -> list[Decimal]:
    """Cents -> Decimals with exactly 2 places (Decimal(1234).scaleb(-2) == Decimal('12.34'))."""
    return [Decimal(int(c)).scaleb(-2) for c in np.asarray(cents, dtype=np.int64)]


def round_cents(x: np.ndarray) -> np.ndarray:
    """Half-up rounding of float cents to int64."""
    return np.floor(np.asarray(x, dtype=float) + 0.5).astype(np.int64)


def allocate(total_cents: np.ndarray, weights: np.ndarray, group_start: np.ndarray) -> np.ndarray:
    """Split each group's total over its rows in proportion to `weights`, the remainder on the last row.

    `group_start[i]` is the index of the first row of row i's group; rows of a group are contiguous;
    `total_cents` is per row (the group's total repeated)."""
    n = len(weights)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    w = np.asarray(weights, dtype=float)
    group_sum = np.add.reduceat(w, np.unique(group_start))
    starts = np.unique(group_start)
    group_of_row = np.searchsorted(starts, group_start)
    share = np.where(group_sum[group_of_row] > 0, w / np.where(group_sum == 0, 1, group_sum)[group_of_row], 0)
    parts = np.floor(total_cents * share).astype(np.int64)
    last = np.r_[group_start[1:] != group_start[:-1], True]
    allocated = np.add.reduceat(parts, starts)
    remainder = total_cents[last] - allocated
    parts[last] += remainder
    return parts
