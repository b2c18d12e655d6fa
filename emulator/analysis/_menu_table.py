"""Menu rate tables as the CMS menu tools print them, binomial efficiency intervals, and
the unique efficiency of an anomaly-detection seed.

Every rate here is :func:`emulator.analysis.seed_rates` on the BX of
:func:`emulator.analysis.collision_mask` with its normalisation (accepted counted BX /
counted BX × f_rev × colliding bunches) — one definition for the whole package; this
module adds what the menu tools show beside it:

* :func:`menu_rate_table`: per seed the rate before and after prescale, the pure rate
  (passes after prescale and no other unmasked seed does) and the cumulative rate in
  a chosen order (the OR of the seeds up to that row, after prescales, masked seeds
  left out; the last row is the menu's total), each with its binomial standard error
  and, for a zero count, the one-sided upper limit at ``cl`` (68 % or 95 %) instead of
  "0 ± 0"; :func:`format_rate_table` prints it.
* :func:`efficiency_interval`: Clopper–Pearson (exact, from the beta quantile) or
  Wilson intervals for k of n.
* :func:`anomaly_gain`: the AXOL1TL/CICADA numbers of an anomaly-detection seed: its
  signal efficiency, the signal events it accepts that no other seed of the menu
  accepts (the unique, or "pure", signal efficiency) at its background rate, and the
  gain relative to the rest of the menu (unique / rest efficiency).

The table is computed from counts (:func:`rate_table_from_counts`), so a streaming
analysis can fill it: the per-seed counts of one pass, the order
(:func:`table_order`), then :func:`cumulative_counts` summed over the chunks of a
second pass (the cumulative column needs each BX's decisions in the chosen order).

The beta quantile is computed here (regularised incomplete beta function by its
continued fraction, inverted by safeguarded Newton steps, vectorised over arrays) so
that the package needs no SciPy; the
tests compare it with SciPy and with tabulated values.
"""

# ruff: noqa: RUF002, RUF003  (mathematical signs and Greek letters are meant)

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from emulator.analysis._rates import ONE_SIGMA, rate, rate_scale_hz, seed_rates, wilson_interval
from emulator.analysis._stream import collision_mask, masked_seeds
from emulator.replay import DecisionBatch
from streams.timeline import DEFAULT_N_COLLIDING

__all__ = [
    "CL_68",
    "CL_95",
    "anomaly_gain",
    "beta_quantile",
    "beta_quantiles",
    "clopper_pearson",
    "clopper_pearson_intervals",
    "cumulative_counts",
    "efficiency_interval",
    "efficiency_intervals",
    "format_rate_table",
    "menu_rate_table",
    "rate_table",
    "rate_table_from_counts",
    "regularized_beta",
    "table_order",
    "upper_limit_fraction",
]

#: confidence levels of the tables: ±1σ (68.27 %) and 95 %
CL_68 = ONE_SIGMA
CL_95 = 0.95
#: efficiency interval methods
METHODS = ("clopper-pearson", "wilson")
#: orders of the cumulative column besides an explicit list of seed names
ORDERS = ("menu", "rate")

_CF_ITERATIONS = 400
_CF_EPSILON = 1e-15
_TINY = 1e-300
_NEWTON_STEPS = 200
#: relative size of the last Newton step that ends the iteration: the step after it (the
#: one applied) is far below double precision, convergence being quadratic
_QUANTILE_TOLERANCE = 1e-11

Floats = NDArray[np.float64]


# ------------------------------------------------------------------ binomial intervals
#
# Everything is vectorised over arrays of (x or p, a, b): an efficiency curve asks for
# hundreds of intervals at once. The scalar functions are these on one element.


def _log_beta(a: Floats, b: Floats) -> Floats:
    """log B(a, b), element by element (math.lgamma: numpy has no log-gamma)."""
    values = [
        math.lgamma(x) + math.lgamma(y) - math.lgamma(x + y)
        for x, y in zip(a.ravel().tolist(), b.ravel().tolist(), strict=True)
    ]
    return np.array(values, np.float64).reshape(a.shape)


def _nonzero(values: Floats) -> Floats:
    result: Floats = np.where(np.abs(values) > _TINY, values, _TINY)
    return result


def _beta_fraction(x: Floats, a: Floats, b: Floats) -> Floats:
    """Continued fraction of the incomplete beta function (modified Lentz method), each
    element iterated until its own convergence.
    """
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = np.ones_like(x)
    d = 1.0 / _nonzero(1.0 - qab * x / qap)
    h = d.copy()
    active = np.ones(x.shape, np.bool_)
    for m in range(1, _CF_ITERATIONS + 1):
        m2 = 2 * m
        change = np.ones_like(x)
        for numerator in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 / _nonzero(1.0 + numerator * d)
            c = _nonzero(1.0 + numerator / c)
            change = d * c
            h = np.where(active, h * change, h)
        active &= np.abs(change - 1.0) >= _CF_EPSILON
        if not active.any():
            break
    return h  # converged to the precision reachable (large a, b only)


def _regularized_beta(x: Floats, a: Floats, b: Floats, log_beta: Floats) -> Floats:
    """I_x(a, b) for arrays (``log_beta`` = log B(a, b))."""
    inside = (x > 0.0) & (x < 1.0)
    safe = np.where(inside, x, 0.5)
    front = np.exp(a * np.log(safe) + b * np.log1p(-safe) - log_beta)
    swap = safe >= (a + 1.0) / (a + b + 2.0)
    fraction = _beta_fraction(
        np.where(swap, 1.0 - safe, safe), np.where(swap, b, a), np.where(swap, a, b)
    )
    value = np.where(swap, 1.0 - front * fraction / b, front * fraction / a)
    result: Floats = np.where(inside, value, np.where(x <= 0.0, 0.0, 1.0))
    return result


def _check_shape(a: Floats, b: Floats) -> None:
    if not (np.all(a > 0) and np.all(b > 0)):
        raise ValueError(f"need a > 0 and b > 0, got a={a.tolist()}, b={b.tolist()}")


def regularized_beta(x: float, a: float, b: float) -> float:
    """I_x(a, b), the regularised incomplete beta function (the Beta(a, b) CDF at x)."""
    xs, as_, bs = (np.array([v], np.float64) for v in (x, a, b))
    _check_shape(as_, bs)
    return float(_regularized_beta(xs, as_, bs, _log_beta(as_, bs))[0])


def beta_quantiles(p: ArrayLike, a: ArrayLike, b: ArrayLike) -> Floats:
    """The x with I_x(a, b) = p, element by element.

    Newton steps on the beta CDF (its derivative is the beta density) inside a bracket
    that every evaluation narrows; a step leaving the bracket is replaced by bisection,
    so each element converges whatever its start (the distribution's mean).
    """
    p_, a_, b_ = np.broadcast_arrays(*(np.asarray(v, np.float64) for v in (p, a, b)))
    if not np.all((p_ >= 0.0) & (p_ <= 1.0)):
        raise ValueError(f"need 0 <= p <= 1, got {p_.tolist()}")
    _check_shape(a_, b_)
    log_beta = _log_beta(a_, b_)
    low, high = np.zeros_like(p_), np.ones_like(p_)
    x = a_ / (a_ + b_)
    active = (p_ > 0.0) & (p_ < 1.0)
    for _ in range(_NEWTON_STEPS):
        error = _regularized_beta(x, a_, b_, log_beta) - p_
        low = np.where(error < 0, x, low)
        high = np.where(error >= 0, x, high)
        density = np.exp((a_ - 1) * np.log(x) + (b_ - 1) * np.log1p(-x) - log_beta)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            step = x - error / density
        bisect = ~np.isfinite(step) | (step <= low) | (step >= high)
        following = np.where(bisect, 0.5 * (low + high), step)
        done = (np.abs(following - x) <= _QUANTILE_TOLERANCE * x) | (
            high - low <= _QUANTILE_TOLERANCE * high
        )
        x = np.where(active, following, x)
        active &= ~done
        if not active.any():
            break
    result: Floats = np.where(p_ <= 0.0, 0.0, np.where(p_ >= 1.0, 1.0, x))
    return result


def beta_quantile(p: float, a: float, b: float) -> float:
    """The x with I_x(a, b) = p (see :func:`beta_quantiles`)."""
    return float(beta_quantiles([p], [a], [b])[0])


def clopper_pearson_intervals(
    k: ArrayLike, n: ArrayLike, cl: float = CL_68
) -> tuple[Floats, Floats]:
    """The central Clopper–Pearson intervals of binomial fractions k/n at level ``cl``
    (NaN where n = 0).
    """
    k_, n_ = np.broadcast_arrays(np.asarray(k, np.int64), np.asarray(n, np.int64))
    if np.any((n_ < 0) | (k_ < 0) | (k_ > np.maximum(n_, 0))):
        raise ValueError(f"need 0 <= k ({k_.tolist()}) <= n ({n_.tolist()})")
    alpha = 1.0 - cl
    kf, nf = k_.astype(np.float64), n_.astype(np.float64)
    low_needed = (k_ > 0) & (n_ > 0)
    high_needed = (k_ < n_) & (n_ > 0)
    low = np.zeros(k_.shape, np.float64)
    high = np.ones(k_.shape, np.float64)
    if low_needed.any():
        low[low_needed] = beta_quantiles(alpha / 2, kf[low_needed], (nf - kf + 1)[low_needed])
    if high_needed.any():
        high[high_needed] = beta_quantiles(
            1 - alpha / 2, (kf + 1)[high_needed], (nf - kf)[high_needed]
        )
    empty = n_ == 0
    low[empty] = high[empty] = np.nan
    return low, high


def clopper_pearson(k: int, n: int, cl: float = CL_68) -> tuple[float, float]:
    """The central Clopper–Pearson interval of a binomial fraction k/n at level ``cl``."""
    _check_counts(k, n)
    low, high = clopper_pearson_intervals([k], [n], cl)
    return float(low[0]), float(high[0])


def upper_limit_fraction(n: int, cl: float = CL_68) -> float:
    """One-sided upper limit on the fraction when none of ``n`` passed: 1 − (1 − cl)^(1/n)."""
    if n <= 0:
        return math.nan
    return -math.expm1(math.log1p(-cl) / n)


def _check_counts(k: int, n: int) -> None:
    if n < 0 or not 0 <= k <= max(n, 0):
        raise ValueError(f"need 0 <= k ({k}) <= n ({n})")


def efficiency_intervals(
    k: ArrayLike, n: ArrayLike, *, cl: float = CL_68, method: str = "clopper-pearson"
) -> tuple[Floats, Floats, Floats]:
    """Efficiencies k/n and their intervals as arrays ``(efficiency, low, high)``.

    ``method``: ``clopper-pearson`` (exact coverage, from the beta quantile) or
    ``wilson`` (score interval, :func:`emulator.analysis.wilson_interval`). NaN for n = 0.
    The one interval of the package: :func:`efficiency_interval` and the
    efficiency-versus-rate curves use it.
    """
    if method not in METHODS:
        raise ValueError(f"method {method!r}: one of {list(METHODS)}")
    k_, n_ = np.broadcast_arrays(np.asarray(k, np.int64), np.asarray(n, np.int64))
    if np.any((n_ < 0) | (k_ < 0) | (k_ > np.maximum(n_, 0))):
        raise ValueError(f"need 0 <= k ({k_.tolist()}) <= n ({n_.tolist()})")
    with np.errstate(invalid="ignore", divide="ignore"):
        efficiency: Floats = np.where(n_ > 0, k_ / np.maximum(n_, 1), np.nan)
    if method == "wilson":
        z = NormalDist().inv_cdf(0.5 + cl / 2)
        low, high = wilson_interval(k_, n_, z)
        return efficiency, np.asarray(low, np.float64), np.asarray(high, np.float64)
    low, high = clopper_pearson_intervals(k_, n_, cl)
    return efficiency, low, high


def efficiency_interval(
    k: int, n: int, *, cl: float = CL_68, method: str = "clopper-pearson"
) -> dict[str, Any]:
    """Efficiency k/n and its interval: ``{efficiency, low, high, k, n, cl, method}``
    (see :func:`efficiency_intervals`). NaN for n = 0.
    """
    _check_counts(k, n)
    efficiency, low, high = efficiency_intervals([k], [n], cl=cl, method=method)
    return {
        "efficiency": float(efficiency[0]),
        "low": float(low[0]),
        "high": float(high[0]),
        "k": int(k),
        "n": int(n),
        "cl": cl,
        "method": method,
    }


# ------------------------------------------------------------------ rate tables


def _with_limit(entry: dict[str, Any], n_bx: int, cl: float, scale: float) -> dict[str, Any]:
    """A rate dict of :func:`rate`, plus ``upper_limit_hz`` when nothing was accepted."""
    zero = entry["n_accepted"] == 0 and n_bx > 0
    return {**entry, "upper_limit_hz": upper_limit_fraction(n_bx, cl) * scale if zero else None}


def table_order(
    order: str | Sequence[str], names: tuple[str, ...], after_prescale: ArrayLike
) -> list[int]:
    """Seed indices in the cumulative order: ``menu``, ``rate`` (highest count after
    prescale first, ties in menu order) or a list of names (first, the rest in menu order).
    """
    counts = np.asarray(after_prescale, np.int64)
    if isinstance(order, str):
        if order == "menu":
            return list(range(len(names)))
        if order == "rate":
            return sorted(range(len(names)), key=lambda i: (-int(counts[i]), i))
        raise ValueError(f"order {order!r}: one of {list(ORDERS)} or a list of seed names")
    unknown = [name for name in order if name not in names]
    if unknown:
        raise ValueError(f"order: unknown seed {unknown[0]!r}; seeds: {list(names)}")
    listed = [names.index(name) for name in dict.fromkeys(order)]
    return listed + [i for i in range(len(names)) if i not in listed]


def cumulative_counts(
    prescaled: NDArray[np.bool_],
    masked: NDArray[np.bool_],
    counted: NDArray[np.bool_],
    order: Sequence[int],
) -> NDArray[np.int64]:
    """Per position of ``order``: counted BX on which any unmasked seed up to it passes
    after prescale. Counts of consecutive chunks add up (a streaming second pass).
    """
    passed = np.asarray(prescaled, np.bool_)[np.asarray(counted, np.bool_)]
    passed = passed[:, list(order)] & ~np.asarray(masked, np.bool_)[list(order)]
    result: NDArray[np.int64] = np.logical_or.accumulate(passed, axis=1).sum(axis=0)
    return result.astype(np.int64)


def rate_table_from_counts(
    seed_names: tuple[str, ...],
    *,
    fired: ArrayLike,
    prescaled: ArrayLike,
    pure: ArrayLike,
    cumulative: ArrayLike,
    total: int,
    masked: ArrayLike,
    prescales: Sequence[float],
    n_bx: int,
    order: Sequence[int],
    order_label: str | list[str] = "menu",
    n_colliding: int = DEFAULT_N_COLLIDING,
    cl: float = CL_68,
) -> dict[str, Any]:
    """The table from counts over ``n_bx`` counted BX (per seed in menu order, except
    ``cumulative``: per position of ``order``), each turned into a rate by :func:`rate`.
    """
    scale = rate_scale_hz(n_colliding)
    masked_a = np.asarray(masked, np.bool_)
    columns = {
        "unprescaled": np.asarray(fired, np.int64),
        "prescaled": np.asarray(prescaled, np.int64),
        "pure": np.asarray(pure, np.int64),
    }
    union = np.asarray(cumulative, np.int64)

    def entry(k: int) -> dict[str, Any]:
        return _with_limit(rate(int(k), n_bx, n_colliding), n_bx, cl, scale)

    rows = [
        {
            "position": position,
            "index": i,
            "name": seed_names[i],
            "prescale": float(prescales[i]),
            "masked": bool(masked_a[i]),
            **{key: entry(values[i]) for key, values in columns.items()},
            "cumulative": entry(union[position - 1]),
        }
        for position, i in enumerate(order, start=1)
    ]
    return {
        "order": order_label,
        "cl": cl,
        "n_bx": n_bx,
        "rows": rows,
        "total": entry(total),
        "uncertainty": "binomial standard error; zero counts: one-sided upper limit at cl",
    }


def rate_table(
    seed_names: tuple[str, ...],
    fired: NDArray[np.bool_],
    prescaled: NDArray[np.bool_],
    masked: NDArray[np.bool_],
    colliding: NDArray[np.bool_],
    prescales: Sequence[float],
    *,
    order: str | Sequence[str] = "menu",
    n_colliding: int = DEFAULT_N_COLLIDING,
    cl: float = CL_68,
) -> dict[str, Any]:
    """The menu rate table from per-BX decisions (see :func:`menu_rate_table`).

    The per-seed counts are those of :func:`emulator.analysis.seed_rates` (one
    definition of before/after prescale, pure and total).
    """
    base = seed_rates(seed_names, fired, prescaled, masked, colliding, n_colliding)

    def counts(key: str) -> NDArray[np.int64]:
        return np.array([base["seeds"][n][key]["n_accepted"] for n in seed_names], np.int64)

    after = counts("prescaled")
    indices = table_order(order, seed_names, after)
    return rate_table_from_counts(
        seed_names,
        fired=counts("unprescaled"),
        prescaled=after,
        pure=counts("pure"),
        cumulative=cumulative_counts(prescaled, masked, colliding, indices),
        total=int(base["total"]["n_accepted"]),
        masked=masked,
        prescales=prescales,
        n_bx=int(base["total"]["n_bx"]),
        order=indices,
        order_label=order if isinstance(order, str) else list(order),
        n_colliding=n_colliding,
        cl=cl,
    )


def menu_rate_table(
    decisions: DecisionBatch,
    *,
    order: str | Sequence[str] = "menu",
    n_colliding: int = DEFAULT_N_COLLIDING,
    cl: float = CL_68,
) -> dict[str, Any]:
    """The menu tools' rate table of a replay, over the BX of :func:`collision_mask`.

    ``rows`` (in ``order``: ``menu``, ``rate`` — highest rate after prescale first —
    or a list of seed names, the others following in menu order): ``position``,
    ``index`` (menu order), ``name``, ``prescale``, ``masked`` and the rate dicts
    ``unprescaled``, ``prescaled``, ``pure``, ``cumulative`` of :func:`rate`, each
    with ``upper_limit_hz`` (the one-sided limit at ``cl`` when the count is 0, else
    None). ``total`` is the OR of the unmasked seeds after prescale.
    """
    metas = {meta["name"]: meta for meta in decisions.metadata.get("seeds", [])}
    prescales = [float(metas.get(name, {}).get("prescale", 1.0)) for name in decisions.seed_names]
    return rate_table(
        decisions.seed_names,
        decisions.fired,
        decisions.prescaled,
        masked_seeds(decisions),
        collision_mask(decisions),
        prescales,
        order=order,
        n_colliding=n_colliding,
        cl=cl,
    )


def _fixed(value: float, decimals: int) -> str:
    """``value`` rounded to ``decimals`` decimals (negative: tens, hundreds...), no exponent."""
    return f"{round(value, decimals):.{max(0, decimals)}f}"


def _decimals(value: float, digits: int) -> int:
    """Decimals that show ``digits`` significant digits of ``value``."""
    if value == 0 or not math.isfinite(value):
        return 0
    return digits - 1 - math.floor(math.log10(abs(value)))


def _khz(entry: dict[str, Any], cl: float) -> str:
    """A rate in kHz as ``value ± error`` (error to 2 significant digits, the value to
    the same decimal place) or, for a zero count, ``< limit (cl)``.
    """
    if entry.get("upper_limit_hz") is not None:
        limit = entry["upper_limit_hz"] / 1e3
        return f"< {_fixed(limit, _decimals(limit, 2))} ({100 * cl:.0f}% CL)"
    value = entry["rate_hz"]
    if value is None or not math.isfinite(value):
        return "n/a"
    value, error = value / 1e3, entry["rate_err_hz"] / 1e3
    decimals = _decimals(error, 2) if error > 0 else _decimals(value, 4)
    return f"{_fixed(value, decimals)} ± {_fixed(error, decimals)}"


def format_rate_table(table: dict[str, Any]) -> str:
    """The table as text: one row per seed, rates in kHz, then the total."""
    cl = table["cl"]
    width = max([len("seed"), *(len(row["name"]) for row in table["rows"])])
    headers = ("before PS [kHz]", "after PS [kHz]", "pure [kHz]", "cumulative [kHz]")
    cells = [
        (
            f"{row['position']:>4}  {row['name']:<{width}}  {row['prescale']:>9g}",
            [_khz(row[k], cl) for k in ("unprescaled", "prescaled", "pure", "cumulative")],
            "  (masked)" if row["masked"] else "",
        )
        for row in table["rows"]
    ]
    widths = [max([len(h), *(len(c[1][j]) for c in cells)]) for j, h in enumerate(headers)]
    head = f"{'#':>4}  {'seed':<{width}}  {'prescale':>9}  " + "  ".join(
        h.rjust(w) for h, w in zip(headers, widths, strict=True)
    )
    lines = [head]
    for prefix, values, mask in cells:
        lines.append(
            f"{prefix}  "
            + "  ".join(v.rjust(w) for v, w in zip(values, widths, strict=True))
            + mask
        )
    order = table["order"] if isinstance(table["order"], str) else "as listed"
    lines.append(
        f"total (OR of unmasked seeds after prescale): {_khz(table['total'], cl)} kHz over "
        f"{table['n_bx']} counted BX; cumulative in {order} order; uncertainties: binomial "
        f"standard error, zero counts as {100 * cl:.0f}% CL upper limits"
    )
    return "\n".join(lines)


# ------------------------------------------------------------------ anomaly detection


def anomaly_gain(
    signal: DecisionBatch,
    background: DecisionBatch,
    seed: str,
    *,
    n_colliding: int = DEFAULT_N_COLLIDING,
    cl: float = CL_68,
    method: str = "clopper-pearson",
) -> dict[str, Any]:
    """What an anomaly-detection seed adds to the rest of the menu, as in the AXOL1TL papers.

    On the signal's counted events (:func:`collision_mask`), with every seed's decision
    after its prescale and the rest of the menu = the other unmasked seeds:
    ``efficiency`` (the seed), ``rest_efficiency``, ``total_efficiency`` (seed OR rest)
    and ``unique_efficiency`` (the seed and none of the rest: the pure signal
    efficiency), each from :func:`efficiency_interval`; ``gain`` = unique / rest
    efficiency (the relative increase of the menu's signal efficiency), with an
    interval from the Clopper–Pearson interval of unique / (unique + rest) given their
    sum (None when the rest accepts nothing). On the background: ``rate`` (the
    seed after prescale), ``pure_rate`` (the seed and none of the rest), ``rest_rate``
    and ``total_rate``, each a :func:`rate` dict.
    """

    def split(decisions: DecisionBatch) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
        if seed not in decisions.seed_names:
            raise ValueError(f"unknown seed {seed!r}; seeds: {list(decisions.seed_names)}")
        column = decisions.seed_names.index(seed)
        counted = collision_mask(decisions)
        prescaled = np.asarray(decisions.prescaled, np.bool_)[counted]
        others = ~masked_seeds(decisions)
        others[column] = False
        rest: NDArray[np.bool_] = np.asarray(prescaled[:, others].any(axis=1), np.bool_)
        return prescaled[:, column], rest

    ad, rest = split(signal)
    n = int(ad.shape[0])
    k_unique, k_rest = int((ad & ~rest).sum()), int(rest.sum())

    def interval(k: int) -> dict[str, Any]:
        return efficiency_interval(k, n, cl=cl, method=method)

    gain: dict[str, Any] = {"value": None, "low": None, "high": None}
    if k_rest > 0:
        q_low, q_high = clopper_pearson(k_unique, k_unique + k_rest, cl)
        gain = {
            "value": k_unique / k_rest,
            "low": q_low / (1 - q_low),
            "high": q_high / (1 - q_high) if q_high < 1 else math.inf,
        }
    bkg_ad, bkg_rest = split(background)
    n_bx = int(bkg_ad.shape[0])
    return {
        "seed": seed,
        "n_events": n,
        "efficiency": interval(int(ad.sum())),
        "rest_efficiency": interval(k_rest),
        "total_efficiency": interval(int((ad | rest).sum())),
        "unique_efficiency": interval(k_unique),
        "gain": gain,
        "rate": rate(int(bkg_ad.sum()), n_bx, n_colliding),
        "pure_rate": rate(int((bkg_ad & ~bkg_rest).sum()), n_bx, n_colliding),
        "rest_rate": rate(int(bkg_rest.sum()), n_bx, n_colliding),
        "total_rate": rate(int((bkg_ad | bkg_rest).sum()), n_bx, n_colliding),
    }
