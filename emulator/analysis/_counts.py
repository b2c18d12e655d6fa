"""Sparse integer histograms that merge exactly: the state of a streaming analysis.

:class:`ValueCounts` holds, for each distinct value seen (ascending), one or more
integer counts — e.g. how many counted BX had each raw score of a seed, or how many
BX (and how many accepted BX) had each pile-up value. Two of them merge by adding
counts, exactly, in any order; so a replay cut into chunks, or spread over Dask
workers, gives the same histogram as one pass over everything.

From the histogram alone, every order statistic is exact: the number of values at
or above a threshold (the rate-versus-threshold scans), the k-th largest value (the
threshold for a target rate), and numpy's quantiles, computed with numpy's own index
and interpolation formulas (:meth:`ValueCounts.quantile_inverted_cdf`,
:meth:`ValueCounts.quantile_linear`), which the tests check against ``np.quantile``.

Memory is one entry per distinct value: bounded by the score type for the cut
seeds (at most 2^16 values), by the number of counted BX for wide network scores.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from emulator.analysis._kernels import merge_sorted_counts

__all__ = ["ValueCounts"]

#: integer samples spanning at most this many values (plus 4 per sample) use one bincount
_DENSE_RANGE = 1 << 17


@dataclass(frozen=True)
class ValueCounts:
    """Distinct ``values`` (ascending, int64 or float64) and their ``counts`` (n, k) int64."""

    values: NDArray[Any]
    counts: NDArray[np.int64]

    @classmethod
    def empty(cls, dtype: Any = np.int64, columns: int = 1) -> ValueCounts:
        """No value seen yet."""
        return cls(np.zeros(0, dtype), np.zeros((0, columns), np.int64))

    @classmethod
    def of(cls, values: ArrayLike, *weights: ArrayLike, dtype: Any = np.int64) -> ValueCounts:
        """Histogram of ``values``: column 0 counts them, column j > 0 sums ``weights[j-1]``.

        Weights are integers or booleans (e.g. "accepted"), so every count is exact.
        """
        data = np.asarray(values, dtype).ravel()
        if data.size and data.dtype.kind == "i":
            low, high = int(data.min()), int(data.max())
            if high - low <= _DENSE_RANGE + 4 * data.size:  # small integers: one bincount
                offset = data - low
                dense = [np.bincount(offset, minlength=high - low + 1)] + [
                    np.bincount(offset, np.asarray(w).astype(np.int64), high - low + 1)
                    for w in weights
                ]
                seen = dense[0] > 0
                values_seen = np.flatnonzero(seen).astype(np.int64) + low
                stacked = np.stack([column[seen] for column in dense], axis=1)
                return cls(values_seen, np.rint(stacked).astype(np.int64))
        distinct, inverse = np.unique(data, return_inverse=True)
        columns = [np.bincount(inverse, minlength=distinct.size)]
        for weight in weights:
            w = np.asarray(weight).astype(np.int64).ravel()
            summed = np.zeros(distinct.size, np.int64)
            np.add.at(summed, inverse, w)
            columns.append(summed)
        return cls(distinct, np.stack(columns, axis=1).astype(np.int64))

    @classmethod
    def merge(cls, parts: Iterable[ValueCounts]) -> ValueCounts:
        """The sum of several histograms (exact; the order of ``parts`` does not matter)."""
        given = list(parts)
        if not given:
            return cls.empty()
        parts = [p for p in given if p.values.size] or given[:1]
        dtype = np.result_type(*(p.values for p in parts))
        while len(parts) > 1:  # pairwise, as a balanced tree: O(N log k)
            paired = [
                cls(*merge_sorted_counts(a.values.astype(dtype, copy=False), a.counts,
                                         b.values.astype(dtype, copy=False), b.counts))
                for a, b in zip(parts[::2], parts[1::2], strict=False)
            ]  # fmt: skip
            parts = paired + parts[len(paired) * 2 :]
        return parts[0]

    def __len__(self) -> int:
        return int(self.values.shape[0])

    def total(self, column: int = 0) -> int:
        """Sum of one count column (column 0: how many values were seen)."""
        return int(self.counts[:, column].sum())

    def where(self, keep: NDArray[np.bool_]) -> ValueCounts:
        """The entries whose value is kept by the mask ``keep`` (one entry per distinct value)."""
        return ValueCounts(self.values[keep], self.counts[keep])

    def at_least(self, thresholds: ArrayLike) -> NDArray[np.int64]:
        """How many values are >= each threshold (column 0)."""
        points = np.asarray(thresholds, self.values.dtype)
        cumulative = np.concatenate(([0], np.cumsum(self.counts[:, 0])))
        index = np.searchsorted(self.values, points, side="left")
        result: NDArray[np.int64] = cumulative[-1] - cumulative[index]
        return result

    def ranked(self, ranks: ArrayLike) -> NDArray[Any]:
        """The values at 0-based ``ranks`` of the ascending sorted sample (as np.sort would)."""
        cumulative = np.cumsum(self.counts[:, 0])
        index = np.searchsorted(cumulative, np.asarray(ranks, np.int64), side="right")
        result: NDArray[Any] = self.values[index]
        return result

    def quantile_inverted_cdf(self, q: ArrayLike) -> NDArray[Any]:
        """``np.quantile(sample, q, method="inverted_cdf")`` of the sample, exactly.

        numpy's index: i = n·q - 1, then floor(i) where i is whole, else floor(i) + 1,
        clipped at 0 (``numpy.lib._function_base_impl._inverted_cdf``).
        """
        n = self.total()
        index = n * np.asarray(q, np.float64) - 1
        previous = np.floor(index)
        chosen = np.where(index - previous == 0, previous, previous + 1).astype(np.intp)
        chosen[chosen < 0] = 0
        return self.ranked(chosen)

    def quantile_linear(self, q: float) -> float:
        """``float(np.quantile(sample, q))`` (the default, linear method), exactly.

        numpy's virtual index (n - 1)·q, its neighbours (both the last value at or
        beyond the end), and its ``_lerp``: a + (b - a)·t, or b - (b - a)·(1 - t)
        when t >= 0.5.
        """
        n = self.total()
        virtual = (n - 1) * float(q)
        previous = math.floor(virtual)
        if virtual >= n - 1:
            low = high = n - 1
        elif virtual < 0:
            low = high = 0
        else:
            low, high = previous, previous + 1
        a, b = self.ranked([low, high])
        t = virtual - previous
        difference = b - a
        if t >= 0.5:
            return float(b - difference * (1 - t))
        return float(a + difference * t)

    def exact_sum(self, column: int = 0) -> Fraction:
        """Σ value x count, as an exact fraction (the values are finite floats or integers)."""
        return sum(
            (
                Fraction(value) * int(count)
                for value, count in zip(
                    self.values.tolist(), self.counts[:, column].tolist(), strict=True
                )
            ),
            Fraction(0),
        )
