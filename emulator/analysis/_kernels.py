"""numba kernel of the streaming analysis: the exact sum of two sparse histograms.

:meth:`ValueCounts.merge <emulator.analysis._counts.ValueCounts.merge>` adds
histograms whose values are already sorted and distinct, so one linear merge pass
does what a sort of their concatenation did (a Dask client merges every task's
network scores, one entry per counted BX: the sort was most of its CPU time).
"""

from __future__ import annotations

from typing import Any

import numba as nb
import numpy as np
from numpy.typing import NDArray


@nb.njit(cache=True)
def merge_sorted_counts(
    values_a: NDArray[Any],
    counts_a: NDArray[np.int64],
    values_b: NDArray[Any],
    counts_b: NDArray[np.int64],
) -> tuple[NDArray[Any], NDArray[np.int64]]:
    """Union of two ascending distinct ``values`` arrays, with the ``counts`` rows of a
    value present in both added (values compare with ``==``, as ``np.unique`` does)."""
    n_a, n_b = values_a.shape[0], values_b.shape[0]
    columns = counts_a.shape[1]
    values = np.empty(n_a + n_b, values_a.dtype)
    counts = np.empty((n_a + n_b, columns), np.int64)
    i = j = m = 0
    while i < n_a or j < n_b:
        if j == n_b or (i < n_a and values_a[i] < values_b[j]):
            values[m] = values_a[i]
            for c in range(columns):
                counts[m, c] = counts_a[i, c]
            i += 1
        elif i == n_a or values_b[j] < values_a[i]:
            values[m] = values_b[j]
            for c in range(columns):
                counts[m, c] = counts_b[j, c]
            j += 1
        else:
            values[m] = values_a[i]
            for c in range(columns):
                counts[m, c] = counts_a[i, c] + counts_b[j, c]
            i += 1
            j += 1
        m += 1
    return values[:m], counts[:m]
