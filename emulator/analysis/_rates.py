"""Rates from per-BX decisions, with binomial uncertainties.

Rate = (accepted colliding BX / colliding BX) x f_rev x n_colliding, with
f_rev = 11245.6 Hz. The statistical uncertainty treats the accepted count as
binomial: ``rate_err_hz`` is the standard error sqrt(p(1-p)/N) scaled to Hz, and
``rate_interval_hz`` the Wilson score interval at 68.27 % (which stays sensible
for zero or all accepted, where the standard error vanishes).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from streams.timeline import DEFAULT_N_COLLIDING, REVOLUTION_HZ

__all__ = [
    "ONE_SIGMA",
    "overlap_from_counts",
    "overlap_matrix",
    "rate",
    "rate_scale_hz",
    "seed_rates",
    "seed_rates_from_counts",
    "wilson_interval",
]

#: Two-sided coverage of +-1 sigma, used for the Wilson intervals.
ONE_SIGMA = 0.682689492137086


def rate_scale_hz(n_colliding: int = DEFAULT_N_COLLIDING) -> float:
    """Hz for an accept fraction of 1: f_rev x number of colliding bunches."""
    return REVOLUTION_HZ * n_colliding


def wilson_interval(
    k: ArrayLike, n: ArrayLike, z: float = 1.0
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Wilson score interval for a binomial fraction k/n (z = 1: 68.27 %); NaN where n = 0."""
    k = np.asarray(k, np.float64)
    n = np.asarray(n, np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denominator = 1.0 + z * z / n
        centre = (p + z * z / (2 * n)) / denominator
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def rate(
    n_accepted: int, n_colliding_bx: int, n_colliding: int = DEFAULT_N_COLLIDING
) -> dict[str, Any]:
    """Rate of ``n_accepted`` accepts among ``n_colliding_bx`` colliding BX, in Hz.

    Returns ``rate_hz``, ``rate_err_hz`` (binomial standard error),
    ``rate_interval_hz`` (Wilson 68.27 %), ``fraction``, ``n_accepted``, ``n_bx``.
    """
    if n_colliding_bx < 0 or not 0 <= n_accepted <= max(n_colliding_bx, 0):
        raise ValueError(f"need 0 <= accepted ({n_accepted}) <= colliding BX ({n_colliding_bx})")
    scale = rate_scale_hz(n_colliding)
    if n_colliding_bx == 0:
        nan = float("nan")
        return {
            "rate_hz": nan, "rate_err_hz": nan, "rate_interval_hz": [nan, nan],
            "fraction": nan, "n_accepted": 0, "n_bx": 0,
        }  # fmt: skip
    p = n_accepted / n_colliding_bx
    low, high = wilson_interval(n_accepted, n_colliding_bx)
    return {
        "rate_hz": p * scale,
        "rate_err_hz": math.sqrt(p * (1 - p) / n_colliding_bx) * scale,
        "rate_interval_hz": [float(low) * scale, float(high) * scale],
        "fraction": p,
        "n_accepted": int(n_accepted),
        "n_bx": int(n_colliding_bx),
    }


def overlap_matrix(
    passed: NDArray[np.bool_], colliding: NDArray[np.bool_], n_colliding: int = DEFAULT_N_COLLIDING
) -> NDArray[np.float64]:
    """Rate [Hz] at which seeds i and j both pass, (n_seeds, n_seeds); the diagonal is each rate."""
    selected = np.asarray(passed, np.bool_)[np.asarray(colliding, np.bool_)]
    as_int = selected.astype(np.int64)
    return overlap_from_counts(as_int.T @ as_int, selected.shape[0], n_colliding)


def overlap_from_counts(
    both: NDArray[np.int64], n_bx: int, n_colliding: int = DEFAULT_N_COLLIDING
) -> NDArray[np.float64]:
    """:func:`overlap_matrix` from the pair counts ``both[i, j]`` among ``n_bx`` counted BX."""
    if n_bx == 0:
        return np.full(both.shape, np.nan)
    result: NDArray[np.float64] = both.astype(np.float64) / n_bx * rate_scale_hz(n_colliding)
    return result


def seed_rates(
    seed_names: tuple[str, ...],
    fired: NDArray[np.bool_],
    prescaled: NDArray[np.bool_],
    masked: NDArray[np.bool_],
    colliding: NDArray[np.bool_],
    n_colliding: int = DEFAULT_N_COLLIDING,
) -> dict[str, Any]:
    """Per-seed rates on colliding BX: before/after prescale, pure, and the total OR.

    * ``unprescaled``: the seed's condition is true (score >= threshold);
    * ``prescaled``: after its prescale counter;
    * ``pure``: it passes after prescale and no other unmasked seed does;
    * ``total``: the OR of all unmasked prescaled seeds (the final OR, before
      the trigger rules).
    """
    colliding = np.asarray(colliding, np.bool_)
    prescaled_c = np.asarray(prescaled, np.bool_)[colliding]
    passed_c = prescaled_c & ~np.asarray(masked, np.bool_)
    n_passing = passed_c.sum(axis=1)
    return seed_rates_from_counts(
        seed_names,
        np.asarray(fired, np.bool_)[colliding].sum(axis=0),
        prescaled_c.sum(axis=0),
        (passed_c & (n_passing == 1)[:, np.newaxis]).sum(axis=0),
        int((n_passing > 0).sum()),
        masked,
        int(colliding.sum()),
        n_colliding,
    )


def seed_rates_from_counts(
    seed_names: tuple[str, ...],
    fired: NDArray[np.int64],
    prescaled: NDArray[np.int64],
    pure: NDArray[np.int64],
    n_total: int,
    masked: NDArray[np.bool_],
    n_bx: int,
    n_colliding: int = DEFAULT_N_COLLIDING,
) -> dict[str, Any]:
    """:func:`seed_rates` from per-seed counts over ``n_bx`` counted BX."""
    per_seed: dict[str, Any] = {}
    for i, name in enumerate(seed_names):
        per_seed[name] = {
            "unprescaled": rate(int(fired[i]), n_bx, n_colliding),
            "prescaled": rate(int(prescaled[i]), n_bx, n_colliding),
            "pure": rate(int(pure[i]), n_bx, n_colliding),
            "masked": bool(masked[i]),
        }
    return {"seeds": per_seed, "total": rate(n_total, n_bx, n_colliding)}
