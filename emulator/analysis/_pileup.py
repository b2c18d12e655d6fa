"""Rate versus pile-up: binned rates, the fit models of the menu tools, honest extrapolation.

Counted BX are binned in a pile-up variable — the mean number of interactions μ of
the bunch (the Poisson mean an overlay drew from, or NanoAOD's ``Pileup_nTrueInt``),
else the reconstructed vertices. Binning in μ, not in the drawn number of
interactions, is what makes the fit a rate *at* μ: rate(μ) is the average over the
Poisson spread of the BX at that μ. Each bin's rate carries a binomial uncertainty
— half the Wilson 68.27 % interval, so that bins with no accept still constrain the
fit.

Models (:class:`PileupModel`), fitted by weighted linear least squares (weights
1/σ²), covariance (Aᵀ W A)⁻¹:

* ``a·μ + b·μ²`` — CMS's menu tools: every accept comes from the interactions;
* ``c + a·μ + b·μ²`` — when every BX also holds a hard-scatter event (a stream of
  events overlaid with pile-up, or events that carry their own pile-up), which
  fires at some rate even at μ → 0.

:func:`fit_pileup_models` fits both and keeps the one with the larger χ² probability
(the simpler one on a tie). :func:`extrapolate_rate` evaluates the fit with its
uncertainty J C Jᵀ and says what to distrust: a negative value (never reported as a
rate), a target far beyond the fitted range, a bad fit.
"""

# ruff: noqa: RUF002  (Greek letters are meant in the physics text)

from __future__ import annotations

import contextlib
import math
from enum import StrEnum
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from emulator.analysis._counts import ValueCounts
from emulator.analysis._rates import rate_scale_hz, wilson_interval
from streams.timeline import DEFAULT_N_COLLIDING

__all__ = [
    "BAD_FIT_PROBABILITY",
    "FAR_BEYOND_FACTOR",
    "PileupModel",
    "chi2_probability",
    "extrapolate_rate",
    "fit_curve",
    "fit_pileup_models",
    "fit_rate_vs_pileup",
    "rate_vs_pileup",
    "rate_vs_pileup_counts",
]

#: a fit whose χ² probability is below this is called bad
BAD_FIT_PROBABILITY = 0.01
#: a target above this factor times the highest fitted μ is "far beyond the fitted range"
FAR_BEYOND_FACTOR = 1.25
#: a target within this factor of the fitted range is not worth a note
NEAR_FACTOR = 1.05


class PileupModel(StrEnum):
    """Fit models of rate versus μ (the value is how reports write them)."""

    QUADRATIC = "a·μ + b·μ²"
    QUADRATIC_CONSTANT = "c + a·μ + b·μ²"


def rate_vs_pileup(
    accepted: ArrayLike,
    colliding: ArrayLike,
    pileup: ArrayLike,
    bins: ArrayLike | int = 10,
    *,
    n_colliding: int = DEFAULT_N_COLLIDING,
) -> dict[str, Any]:
    """Rates in bins of pile-up (NaN / negative pile-up values are left out).

    ``colliding`` selects the BX that count (:func:`collision_mask`). Returns lists
    per bin: ``bin_low``, ``bin_high``, ``mu_mean`` (mean pile-up of the BX in the
    bin, exactly rounded), ``n_bx``, ``n_accepted``, ``rate_hz``, ``rate_err_hz``
    (half Wilson width); empty bins are dropped.
    """
    all_pileup = np.asarray(pileup, np.float64)
    keep = np.asarray(colliding, np.bool_) & np.isfinite(all_pileup) & (all_pileup >= 0)
    counts = ValueCounts.of(
        all_pileup[keep], np.asarray(accepted, np.bool_)[keep], dtype=np.float64
    )
    return rate_vs_pileup_counts(counts, bins, n_colliding=n_colliding)


def rate_vs_pileup_counts(
    counts: ValueCounts, bins: ArrayLike | int = 10, *, n_colliding: int = DEFAULT_N_COLLIDING
) -> dict[str, Any]:
    """:func:`rate_vs_pileup` from a histogram of pile-up values (columns: BX, accepted).

    ``bins`` is a number of equal bins between the lowest and highest value, or the
    edges; the mean of a bin is the exact mean of its values, rounded once, so it
    does not depend on the order in which BX were counted.
    """
    values = counts.values
    if values.size == 0:
        raise ValueError("no colliding BX with a known pile-up value")
    edges = np.histogram_bin_edges(values, bins=bins)
    index = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, edges.size - 2)
    n_bins = edges.size - 1
    n_bx = np.zeros(n_bins, np.int64)
    n_acc = np.zeros(n_bins, np.int64)
    np.add.at(n_bx, index, counts.counts[:, 0])
    np.add.at(n_acc, index, counts.counts[:, 1])
    filled = np.flatnonzero(n_bx > 0)
    means = [float(counts.where(index == b).exact_sum() / int(n_bx[b])) for b in filled.tolist()]
    scale = rate_scale_hz(n_colliding)
    low, high = wilson_interval(n_acc[filled], n_bx[filled])
    return {
        "bin_low": edges[:-1][filled].tolist(),
        "bin_high": edges[1:][filled].tolist(),
        "mu_mean": means,
        "n_bx": n_bx[filled].tolist(),
        "n_accepted": n_acc[filled].tolist(),
        "rate_hz": (n_acc[filled] / n_bx[filled] * scale).tolist(),
        "rate_err_hz": ((high - low) / 2 * scale).tolist(),
    }


def chi2_probability(chi2: float, ndf: int) -> float:
    """P(χ² ≥ ``chi2``) for ``ndf`` degrees of freedom (NaN for ndf < 1).

    The closed forms of the regularised upper incomplete gamma function at integer
    and half-integer order: e^(-x) Σ_{i<m} x^i / i! for ndf = 2m, and
    erfc(√x) + e^(-x) Σ_{i<m} x^(i+½) / Γ(i + 3/2) for ndf = 2m + 1, with x = χ²/2.
    """
    if ndf < 1 or not math.isfinite(chi2):
        return float("nan")
    x = max(chi2, 0.0) / 2.0
    if ndf % 2 == 0:
        term, total = 1.0, 1.0
        for i in range(1, ndf // 2):
            term *= x / i
            total += term
        return min(1.0, math.exp(-x) * total)
    total = math.erfc(math.sqrt(x))
    term = math.sqrt(x) / math.gamma(1.5)
    for i in range(ndf // 2):
        total += math.exp(-x) * term
        term *= x / (i + 1.5)
    return min(1.0, total)


def fit_rate_vs_pileup(
    mu: ArrayLike, rate_hz: ArrayLike, rate_err_hz: ArrayLike, *, constant: bool = False
) -> dict[str, Any]:
    """Weighted least-squares fit of rate = a·μ + b·μ² (CMS menu tools' model).

    With ``constant`` the model is c + a·μ + b·μ², for samples whose hard
    scatter gives a rate even without pile-up. Returns ``model``, ``a``, ``b``,
    ``c`` (0 without ``constant``), their ``*_err``, ``covariance`` (list,
    parameters in the order a, b[, c]), ``chi2``, ``ndf``, ``chi2_probability``,
    ``constant`` and ``mu_range`` (lowest and highest fitted μ). Points with a
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
    errors = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
    chi2 = float(np.sum(weights * residual**2))
    ndf = int(x.size - len(columns))
    return {
        "model": str(PileupModel.QUADRATIC_CONSTANT if constant else PileupModel.QUADRATIC),
        "a": float(parameters[0]),
        "b": float(parameters[1]),
        "c": float(parameters[2]) if constant else 0.0,
        "a_err": float(errors[0]),
        "b_err": float(errors[1]),
        "c_err": float(errors[2]) if constant else 0.0,
        "covariance": covariance.tolist(),
        "chi2": chi2,
        "ndf": ndf,
        "chi2_probability": chi2_probability(chi2, ndf),
        "constant": constant,
        "mu_range": [float(x.min()), float(x.max())],
    }


def fit_pileup_models(
    mu: ArrayLike, rate_hz: ArrayLike, rate_err_hz: ArrayLike, *, constant: bool = True
) -> dict[str, Any]:
    """Fit every model (``constant``: the one with a constant term too) and pick one.

    The chosen fit has the larger χ² probability; a model with no degree of freedom
    left is chosen only when no model has one. Returns the chosen fit's keys plus
    ``alternatives`` (the other fits), ``bad`` (χ² probability below
    :data:`BAD_FIT_PROBABILITY`, or unknown) and ``notes`` (sentences for a reader).
    Raises ``ValueError`` when not even the simplest model can be fitted.
    """
    fits = [fit_rate_vs_pileup(mu, rate_hz, rate_err_hz)]
    if constant:
        with contextlib.suppress(ValueError, np.linalg.LinAlgError):
            fits.append(fit_rate_vs_pileup(mu, rate_hz, rate_err_hz, constant=True))

    def quality(fit: dict[str, Any]) -> tuple[int, float]:
        probability = fit["chi2_probability"]
        return (int(fit["ndf"] >= 1), -1.0 if math.isnan(probability) else probability)

    chosen = max(fits, key=quality)  # max keeps the first (simpler) model on a tie
    probability = chosen["chi2_probability"]
    notes = []
    if chosen["ndf"] < 1:
        notes.append("the fit has no degree of freedom left: its quality is unknown")
    elif probability < BAD_FIT_PROBABILITY:
        notes.append(
            f"bad fit: χ²/ndf = {chosen['chi2']:.3g}/{chosen['ndf']} (probability "
            f"{probability:.2g}); the model does not describe the measured rates"
        )
    return {
        **chosen,
        "alternatives": [fit for fit in fits if fit is not chosen],
        "bad": bool(chosen["ndf"] < 1 or probability < BAD_FIT_PROBABILITY),
        "notes": notes,
    }


def _design_row(mu: np.ndarray, n_parameters: int) -> np.ndarray:
    """Rows (μ, μ²[, 1]): the fit's derivative with respect to (a, b[, c])."""
    columns = [mu, mu**2, np.ones_like(mu)][:n_parameters]
    return np.stack(columns, axis=-1)


def fit_curve(fit: dict[str, Any], mu: ArrayLike) -> dict[str, list[float]]:
    """The fit [Hz] and its 1σ band (from the parameter covariance) at each ``mu``."""
    points = np.asarray(mu, np.float64)
    covariance = np.asarray(fit["covariance"], np.float64)
    jacobian = _design_row(points, covariance.shape[0])
    value = fit["a"] * points + fit["b"] * points**2 + fit.get("c", 0.0)
    sigma = np.sqrt(np.clip(np.einsum("ni,ij,nj->n", jacobian, covariance, jacobian), 0.0, None))
    return {
        "mu": points.tolist(),
        "rate_hz": value.tolist(),
        "low_hz": (value - sigma).tolist(),
        "high_hz": (value + sigma).tolist(),
    }


def extrapolate_rate(fit: dict[str, Any], mu_target: float) -> dict[str, Any]:
    """Rate [Hz] of the fit at ``mu_target``, its uncertainty, and what to distrust.

    Returns ``mu``, ``rate_hz`` and ``rate_err_hz`` — both ``None`` when the fit is
    negative there (a rate never is) —, ``negative``, ``far_beyond`` (target above
    :data:`FAR_BEYOND_FACTOR` x the highest fitted μ, or below the lowest / that
    factor), ``bad_fit`` and ``notes`` (sentences for a reader; a target outside the
    fitted range by more than :data:`NEAR_FACTOR` is noted too).
    """
    covariance = np.asarray(fit["covariance"], np.float64)
    jacobian = _design_row(np.array([float(mu_target)]), covariance.shape[0])[0]
    value = fit["a"] * mu_target + fit["b"] * mu_target**2 + fit.get("c", 0.0)
    error = float(np.sqrt(max(float(jacobian @ covariance @ jacobian), 0.0)))
    notes = list(fit.get("notes", []))
    low, high = fit.get("mu_range") or [float("nan"), float("nan")]
    far = bool(mu_target > FAR_BEYOND_FACTOR * high or mu_target * FAR_BEYOND_FACTOR < low)
    if far:
        notes.append(
            f"μ = {mu_target:g} is far beyond the fitted range (μ = {low:.3g} to {high:.3g}): "
            "the extrapolation assumes the model holds there"
        )
    elif not low / NEAR_FACTOR <= mu_target <= NEAR_FACTOR * high:
        notes.append(f"μ = {mu_target:g} is outside the fitted range (μ = {low:.3g} to {high:.3g})")
    negative = bool(value < 0)
    if negative:
        notes.append(
            f"the fit is negative at μ = {mu_target:g} ({value / 1e3:.4g} kHz): no rate is "
            "extrapolated"
        )
    return {
        "mu": float(mu_target),
        "rate_hz": None if negative else float(value),
        "rate_err_hz": None if negative else error,
        "negative": negative,
        "far_beyond": far,
        "bad_fit": bool(fit.get("bad", False)),
        "notes": notes,
    }
