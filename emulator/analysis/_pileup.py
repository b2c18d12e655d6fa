"""Rate versus pile-up and the fit rate(μ) = a·μ + b·μ² used by CMS's menu tools.

Colliding BX are binned in true interactions μ (or reconstructed vertices);
each bin's rate carries a binomial uncertainty — half the Wilson 68.27 %
interval, so that bins with no accept still constrain the fit. The fit is a
weighted linear least squares (weights 1/sigma²) with no constant term; its
covariance is (Aᵀ W A)⁻¹, and an extrapolated rate at μ* has the variance
J C Jᵀ with J = (μ*, μ*²).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from emulator.analysis._rates import rate_scale_hz, wilson_interval
from streams.timeline import DEFAULT_N_COLLIDING

__all__ = ["extrapolate_rate", "fit_rate_vs_pileup", "rate_vs_pileup"]


def rate_vs_pileup(
    accepted: ArrayLike,
    colliding: ArrayLike,
    pileup: ArrayLike,
    bins: ArrayLike | int = 10,
    *,
    n_colliding: int = DEFAULT_N_COLLIDING,
) -> dict[str, Any]:
    """Rates in bins of pile-up (NaN / negative pile-up values are left out).

    Returns lists per bin: ``bin_low``, ``bin_high``, ``mu_mean`` (mean pile-up of
    the BX in the bin), ``n_bx``, ``n_accepted``, ``rate_hz``, ``rate_err_hz``
    (half Wilson width); empty bins are dropped.
    """
    all_accepted = np.asarray(accepted, np.bool_)
    all_pileup = np.asarray(pileup, np.float64)
    keep = np.asarray(colliding, np.bool_) & np.isfinite(all_pileup) & (all_pileup >= 0)
    kept_accepted, values = all_accepted[keep], all_pileup[keep]
    if values.size == 0:
        raise ValueError("no colliding BX with a known pile-up value")
    edges = np.histogram_bin_edges(values, bins=bins)
    index = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, edges.size - 2)
    n_bins = edges.size - 1
    n_bx = np.bincount(index, minlength=n_bins)
    n_acc = np.bincount(index, weights=kept_accepted, minlength=n_bins).astype(np.int64)
    mu_sum = np.bincount(index, weights=values, minlength=n_bins)
    filled = n_bx > 0
    scale = rate_scale_hz(n_colliding)
    low, high = wilson_interval(n_acc[filled], n_bx[filled])
    return {
        "bin_low": edges[:-1][filled].tolist(),
        "bin_high": edges[1:][filled].tolist(),
        "mu_mean": (mu_sum[filled] / n_bx[filled]).tolist(),
        "n_bx": n_bx[filled].tolist(),
        "n_accepted": n_acc[filled].tolist(),
        "rate_hz": (n_acc[filled] / n_bx[filled] * scale).tolist(),
        "rate_err_hz": ((high - low) / 2 * scale).tolist(),
    }


def fit_rate_vs_pileup(
    mu: ArrayLike, rate_hz: ArrayLike, rate_err_hz: ArrayLike, *, constant: bool = False
) -> dict[str, Any]:
    """Weighted least-squares fit of rate = a·μ + b·μ² (CMS menu tools' model).

    With ``constant`` the model is c + a·μ + b·μ², for samples whose hard
    scatter gives a rate even without pile-up. Returns ``a``, ``b``, ``c``
    (0 without ``constant``), their ``*_err``, ``covariance`` (list, parameters
    in the order a, b[, c]), ``chi2``, ``ndf``, ``constant``. Points with a
    non-positive or non-finite error are ignored.
    """
    mu_all = np.asarray(mu, np.float64)
    y_all = np.asarray(rate_hz, np.float64)
    sigma_all = np.asarray(rate_err_hz, np.float64)
    good = np.isfinite(mu_all) & np.isfinite(y_all) & np.isfinite(sigma_all) & (sigma_all > 0)
    x, y, sigma = mu_all[good], y_all[good], sigma_all[good]
    columns = [x, x * x] + ([np.ones_like(x)] if constant else [])
    if x.size < len(columns):
        raise ValueError(
            f"the pile-up fit needs at least {len(columns)} bins with a rate and an uncertainty"
        )
    design = np.stack(columns, axis=1)
    weights = 1.0 / sigma**2
    normal = design.T @ (design * weights[:, None])
    covariance = np.linalg.inv(normal)
    parameters = covariance @ (design.T @ (weights * y))
    residual = y - design @ parameters
    errors = np.sqrt(np.diag(covariance))
    return {
        "a": float(parameters[0]),
        "b": float(parameters[1]),
        "c": float(parameters[2]) if constant else 0.0,
        "a_err": float(errors[0]),
        "b_err": float(errors[1]),
        "c_err": float(errors[2]) if constant else 0.0,
        "covariance": covariance.tolist(),
        "chi2": float(np.sum(weights * residual**2)),
        "ndf": int(x.size - len(columns)),
        "constant": constant,
    }


def extrapolate_rate(fit: dict[str, Any], mu_target: float) -> dict[str, float]:
    """Rate [Hz] of the fit at ``mu_target`` with its uncertainty from the fit covariance."""
    covariance = np.asarray(fit["covariance"], np.float64)
    jacobian = np.array([mu_target, mu_target**2, 1.0][: covariance.shape[0]])
    value = fit["a"] * mu_target + fit["b"] * mu_target**2 + fit.get("c", 0.0)
    return {
        "mu": float(mu_target),
        "rate_hz": float(value),
        "rate_err_hz": float(np.sqrt(jacobian @ covariance @ jacobian)),
    }
