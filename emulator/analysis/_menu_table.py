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
continued fraction, inverted by bisection) so that the package needs no SciPy; the
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
from emulator.analysis._replay import collision_mask, masked_seeds
from emulator.replay import DecisionBatch
from streams.timeline import DEFAULT_N_COLLIDING

__all__ = [
    "CL_68",
    "CL_95",
    "anomaly_gain",
    "beta_quantile",
    "clopper_pearson",
    "cumulative_counts",
    "efficiency_interval",
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
_BISECTIONS = 200


# ------------------------------------------------------------------ binomial intervals


def _beta_fraction(x: float, a: float, b: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz method)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, _CF_ITERATIONS + 1):
        m2 = 2 * m
        for numerator in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + numerator / c
            c = c if abs(c) > _TINY else _TINY
            h *= d * c
        if abs(d * c - 1.0) < _CF_EPSILON:
            return h
    return h  # converged to the precision reachable (large a, b only)


def regularized_beta(x: float, a: float, b: float) -> float:
    """I_x(a, b), the regularised incomplete beta function (the Beta(a, b) CDF at x)."""
    if not (a > 0 and b > 0):
        raise ValueError(f"need a > 0 and b > 0, got a={a}, b={b}")
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_fraction(x, a, b) / a
    return 1.0 - front * _beta_fraction(1.0 - x, b, a) / b


def beta_quantile(p: float, a: float, b: float) -> float:
    """The x with I_x(a, b) = p, by bisection (I is increasing in x): robust everywhere."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"need 0 <= p <= 1, got {p}")
    if p == 0.0:
        return 0.0
    if p == 1.0:
        return 1.0
    low, high = 0.0, 1.0
    for _ in range(_BISECTIONS):
        middle = 0.5 * (low + high)
        if middle in (low, high):
            break
        if regularized_beta(middle, a, b) < p:
            low = middle
        else:
            high = middle
    return 0.5 * (low + high)


def clopper_pearson(k: int, n: int, cl: float = CL_68) -> tuple[float, float]:
    """The central Clopper–Pearson interval of a binomial fraction k/n at level ``cl``."""
    _check_counts(k, n)
    alpha = 1.0 - cl
    low = 0.0 if k == 0 else beta_quantile(alpha / 2, k, n - k + 1)
    high = 1.0 if k == n else beta_quantile(1 - alpha / 2, k + 1, n - k)
    return low, high


def upper_limit_fraction(n: int, cl: float = CL_68) -> float:
    """One-sided upper limit on the fraction when none of ``n`` passed: 1 − (1 − cl)^(1/n)."""
    if n <= 0:
        return math.nan
    return -math.expm1(math.log1p(-cl) / n)


def _check_counts(k: int, n: int) -> None:
    if n < 0 or not 0 <= k <= max(n, 0):
        raise ValueError(f"need 0 <= k ({k}) <= n ({n})")


def efficiency_interval(
    k: int, n: int, *, cl: float = CL_68, method: str = "clopper-pearson"
) -> dict[str, Any]:
    """Efficiency k/n and its interval: ``{efficiency, low, high, k, n, cl, method}``.

    ``method``: ``clopper-pearson`` (exact coverage, from the beta quantile) or
    ``wilson`` (score interval, :func:`emulator.analysis.wilson_interval`). NaN for n = 0.
    """
    _check_counts(k, n)
    if method not in METHODS:
        raise ValueError(f"method {method!r}: one of {list(METHODS)}")
    if n == 0:
        low = high = efficiency = math.nan
    elif method == "wilson":
        z = NormalDist().inv_cdf(0.5 + cl / 2)
        lo, hi = wilson_interval(k, n, z)
        efficiency, low, high = k / n, float(lo), float(hi)
    else:
        efficiency = k / n
        low, high = clopper_pearson(k, n, cl)
    return {
        "efficiency": efficiency,
        "low": low,
        "high": high,
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
