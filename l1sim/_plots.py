"""PNG plots of a run, drawn from ``summary.json`` alone.

Each function takes one section of the summary and returns a matplotlib
:class:`~matplotlib.figure.Figure` (or ``None`` when the section has nothing to
draw). Figures are created without pyplot, so nothing depends on a display or on
global backend state. Rates are on log scales in kHz, with the Phase-2 limits
(750 kHz accept rate, 12.5 µs latency) drawn where they apply.
"""

# ruff: noqa: RUF001, RUF002  (Greek letters and the multiplication sign are meant in labels)

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from l1sim._format import format_rate
from l1sim._outdir import write_bytes_atomic
from l1sim._summary import BX_PER_ORBIT, LATENCY_BUDGET_US, MAX_L1_RATE_HZ, Summary

_LIMIT_STYLE: dict[str, Any] = {"color": "crimson", "linestyle": "--", "linewidth": 1.2}
_THRESHOLD_STYLE: dict[str, Any] = {"color": "dimgray", "linestyle": ":", "linewidth": 1.2}
_PANEL_SIZE = (4.6, 3.4)


@dataclass(frozen=True)
class Plot:
    """A rendered plot: file name in the output directory, title and caption for the report."""

    filename: str
    title: str
    caption: str
    png: bytes


def _grid(n_panels: int, title: str, max_columns: int = 3) -> tuple[Figure, list[Axes]]:
    """A titled figure with ``n_panels`` axes in rows of at most ``max_columns``."""
    columns = min(max_columns, max(1, n_panels))
    rows = math.ceil(n_panels / columns)
    width, height = _PANEL_SIZE[0] * columns, _PANEL_SIZE[1] * rows
    figure = Figure(figsize=(width, height))
    # fixed margins in inches: a layout engine costs seconds on a 3 x 3 grid of log axes
    figure.subplots_adjust(
        left=0.75 / width,
        right=1 - 0.15 / width,
        bottom=0.6 / height,
        top=1 - 0.8 / height,
        wspace=0.32,
        hspace=0.42 * 3.4 / _PANEL_SIZE[1],
    )
    axes = [figure.add_subplot(rows, columns, index + 1) for index in range(rows * columns)]
    for spare in axes[n_panels:]:
        spare.set_visible(False)
    figure.suptitle(title, y=1 - 0.15 / height, fontsize=13)
    return figure, axes[:n_panels]


def _khz(values: Sequence[float | None]) -> np.ndarray:
    """Rates in Hz (``None`` allowed) as a float array in kHz with NaN for missing."""
    return np.array([np.nan if v is None else v for v in values], dtype=float) / 1e3


def _label(variable: str | None, unit: str | None) -> str:
    """Axis label ``variable [unit]`` (unit omitted when empty)."""
    name = variable or "threshold"
    return f"{name} [{unit}]" if unit else name


def _positive(values: np.ndarray) -> np.ndarray:
    """Values with non-positive entries masked as NaN (they cannot sit on a log axis)."""
    return np.where(values > 0, values, np.nan)


def rate_vs_threshold(section: dict[str, Any]) -> Figure | None:
    """Rate of each seed versus its threshold, with the current threshold and the 750 kHz line."""
    if not section:
        return None
    figure, axes = _grid(len(section), "Rate versus threshold (background, prescale 1)")
    for ax, (seed, scan) in zip(axes, section.items(), strict=True):
        thresholds = np.asarray(scan["thresholds"], dtype=float)
        rate = _positive(_khz(scan["rate_hz"]))
        if scan.get("low_hz") and scan.get("high_hz"):
            low, high = _positive(_khz(scan["low_hz"])), _khz(scan["high_hz"])
        else:
            error = _khz(scan.get("error_hz") or [0.0] * len(rate))
            low, high = _positive(rate - error), rate + error
        ax.step(thresholds, rate, where="post", color="tab:blue", label="rate")
        ax.fill_between(
            thresholds,
            low,
            high,
            step="post",
            color="tab:blue",
            alpha=0.25,
            label="68 % stat. interval",
        )
        ax.axhline(MAX_L1_RATE_HZ / 1e3, **_LIMIT_STYLE, label="750 kHz L1 limit")
        current = scan.get("threshold")
        if current is not None:
            ax.axvline(current, **_THRESHOLD_STYLE, label=f"menu threshold {current:g}")
        ax.set_yscale("log")
        ax.set_title(seed, fontsize=10)
        ax.set_xlabel(_label(scan.get("variable"), scan.get("unit")))
        ax.set_ylabel("rate [kHz]")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper right")
    return figure


def fit_label(fit: dict[str, Any], is_mu: bool = True) -> str:
    """The fit's model and χ²/ndf as a legend or caption text (μ → n for vertices)."""
    model = str(fit.get("model") or "a·μ + b·μ²")
    if not is_mu:
        model = model.replace("μ", "n")
    chi2, ndf = fit.get("chi2"), fit.get("ndf")
    quality = "" if chi2 is None or not ndf else f", χ²/ndf = {chi2:.3g}/{ndf}"
    return f"fit {model}{quality}" + (" (bad fit)" if fit.get("bad") else "")


def rate_vs_pileup(section: dict[str, Any]) -> Figure | None:
    """Rate in bins of pile-up with the chosen fit, its 1σ band and the extrapolation.

    The fit curve and band come from the summary (``fit.curve``, computed by
    :func:`emulator.analysis.fit_curve`); nothing is evaluated here.
    """
    series = (section or {}).get("series") or {}
    if not series:
        return None
    is_mu = bool(section.get("is_mu", True))
    figure = Figure(figsize=(7.5, 5.0), layout="constrained")
    ax = figure.add_subplot()
    colors = [f"C{index}" for index in range(10)]
    mu_max = 0.0
    for index, (name, points) in enumerate(series.items()):
        color = colors[index % len(colors)]
        mu = np.asarray(points["mu"], dtype=float)
        rate = _khz(points["rate_hz"])
        error = _khz(points.get("error_hz") or [0.0] * len(mu))
        ax.errorbar(mu, _positive(rate), yerr=error, fmt="o", ms=4, color=color, label=name)
        mu_max = max(mu_max, float(np.nanmax(mu)) if mu.size else 0.0)
        fit = points.get("fit") or {}
        curve = fit.get("curve")
        if curve:
            grid = np.asarray(curve["mu"], dtype=float)
            mu_max = max(mu_max, float(grid.max()))
            ax.plot(
                grid,
                _positive(_khz(curve["rate_hz"])),
                color=color,
                linewidth=1.2,
                linestyle="--" if fit.get("bad") else "-",
                label=fit_label(fit, is_mu),
            )
            ax.fill_between(
                grid,
                _positive(_khz(curve["low_hz"])),
                _khz(curve["high_hz"]),
                color=color,
                alpha=0.2,
            )
        at_target = fit.get("rate_at_target_hz")
        target = fit.get("target_mu")
        if at_target is not None and target is not None:
            ax.errorbar(
                [target],
                [at_target / 1e3],
                yerr=[(fit.get("error_at_target_hz") or 0.0) / 1e3],
                fmt="*",
                ms=11,
                color=color,
                label=f"{name}: {format_rate(at_target)} at μ = {target:g}"
                + (" (far beyond the fitted range)" if fit.get("far_beyond") else ""),
            )
    ax.axhline(MAX_L1_RATE_HZ / 1e3, **_LIMIT_STYLE, label="750 kHz L1 limit")
    ax.set_yscale("log")
    collisions_hz = section.get("collision_rate_hz")
    if collisions_hz:
        ax.axhline(
            collisions_hz / 1e3,
            color="black",
            linestyle="-.",
            linewidth=1.0,
            label="every colliding BX (the most a rate can be)",
        )
        bottom, top = ax.get_ylim()
        ax.set_ylim(bottom, min(top, collisions_hz / 1e3 * 3))
    ax.set_xlim(0, mu_max * 1.05 if mu_max > 0 else None)
    ax.set_xlabel(section.get("variable") or "pile-up μ (mean number of interactions per BX)")
    ax.set_ylabel("rate [kHz]")
    ax.set_title(
        "Rate versus pile-up (band: 1σ of the fit)"
        if is_mu
        else "Rate versus reconstructed vertices"
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return figure


def score_distributions(section: dict[str, Any]) -> Figure | None:
    """Normalised score (or leading-object pT) distributions, background against each signal."""
    if not section:
        return None
    figure, axes = _grid(len(section), "Score distributions: background versus signals")
    for ax, (seed, histogram) in zip(axes, section.items(), strict=True):
        edges = np.asarray(histogram["bin_edges"], dtype=float)
        samples = {"background": histogram["background"], **(histogram.get("signals") or {})}
        for index, (name, counts) in enumerate(samples.items()):
            values = np.asarray(counts, dtype=float)
            total = values.sum()
            if total <= 0:
                continue
            style = {"color": "black", "linewidth": 1.6} if index == 0 else {"color": f"C{index}"}
            ax.stairs(_positive(values / total), edges, label=name, **style)
        threshold = histogram.get("threshold")
        if threshold is not None:
            ax.axvline(threshold, **_THRESHOLD_STYLE, label=f"threshold {threshold:g}")
        ax.set_yscale("log")
        ax.set_title(seed, fontsize=10)
        ax.set_xlabel(_label(histogram.get("variable"), histogram.get("unit")))
        ax.set_ylabel("fraction of events per bin")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper right")
    return figure


def efficiency_vs_rate(section: dict[str, Any]) -> Figure | None:
    """Signal efficiency against background rate for each seed (a ROC curve in trigger units)."""
    if not section:
        return None
    figure, axes = _grid(len(section), "Signal efficiency versus background rate")
    for ax, (seed, curves) in zip(axes, section.items(), strict=True):
        rate = _positive(_khz(curves["rate_hz"]))
        point = curves.get("menu_threshold") or {}
        for index, (name, efficiency) in enumerate((curves.get("signals") or {}).items()):
            ax.plot(rate, np.asarray(efficiency, dtype=float), color=f"C{index + 1}", label=name)
            at_menu = (point.get("efficiency") or {}).get(name)
            if at_menu is not None and point.get("rate_hz"):
                ax.plot(
                    [point["rate_hz"] / 1e3],
                    [at_menu],
                    "o",
                    color=f"C{index + 1}",
                    ms=6,
                    markeredgecolor="black",
                )
        if point.get("rate_hz"):
            ax.plot(
                [], [], "o", color="white", markeredgecolor="black", label="at the menu threshold"
            )
        ax.axvline(MAX_L1_RATE_HZ / 1e3, **_LIMIT_STYLE, label="750 kHz L1 limit")
        ax.set_xscale("log")
        ax.set_ylim(0, 1.02)
        ax.set_title(seed, fontsize=10)
        ax.set_xlabel("background rate [kHz]")
        ax.set_ylabel("signal efficiency")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
    return figure


def latency(section: dict[str, Any]) -> Figure | None:
    """Latency of each algorithm and of the whole chain against the 12.5 µs budget."""
    algorithms = (section or {}).get("algorithms") or []
    if not algorithms:
        return None
    names = [entry["name"] for entry in algorithms]
    values = [float(entry["latency_us"]) for entry in algorithms]
    slow = [not entry.get("accepts_every_bx", True) for entry in algorithms]
    upstream = section.get("upstream_latency_us")
    if upstream:
        names.append("upstream (links, correlator)")
        values.append(float(upstream))
        slow.append(False)
    total = section.get("total_latency_us")
    if total is not None:
        names.append("total (upstream + slowest seed)")
        values.append(float(total))
        slow.append(False)
    budget = float(section.get("budget_us") or LATENCY_BUDGET_US)
    figure = Figure(figsize=(8.0, 1.2 + 0.35 * len(names)), layout="constrained")
    ax = figure.add_subplot()
    positions = np.arange(len(names))
    colors = [
        "crimson" if is_slow else ("tab:blue" if index < len(algorithms) else "tab:gray")
        for index, is_slow in enumerate(slow)
    ]
    ax.barh(positions, values, color=colors)
    for position, value in zip(positions, values, strict=True):
        ax.text(value, float(position), f" {value:.3g} µs", va="center", fontsize=8)
    ax.axvline(budget, **_LIMIT_STYLE, label=f"{budget:g} µs Phase-2 L1 budget")
    ax.set_yticks(positions, names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, max(budget, *values) * 1.18)
    ax.set_xlabel("latency [µs]")
    title = "Latency per algorithm"
    if any(slow):
        title += " (red: cannot accept a new event every 25 ns)"
    ax.set_title(title)
    ax.legend(fontsize=8, loc="lower right")
    if upstream or total is not None:
        ax.axhline(len(algorithms) - 0.5, color="black", linewidth=0.6)
    ax.grid(alpha=0.3, axis="x")
    return figure


def occupancy(section: dict[str, Any]) -> Figure | None:
    """Per-BX view of one orbit: colliding slots, events and L1 accepts summed over orbits."""
    if not section or not section.get("accepts"):
        return None
    bx = np.arange(BX_PER_ORBIT)
    n_orbits = max(1, int(section.get("n_orbits") or 1))
    accepts = np.asarray(section["accepts"], dtype=float)
    colliding = np.asarray(section.get("colliding") or np.zeros(BX_PER_ORBIT), dtype=float)
    figure = Figure(figsize=(11.0, 4.8), layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[1, 2])
    top.fill_between(bx, colliding > 0, step="mid", color="tab:green", alpha=0.6)
    top.set_yticks([0, 1], ["empty", "colliding"])
    top.set_title(f"Per-BX occupancy over an orbit ({n_orbits} orbit(s) replayed)")
    bottom.step(bx, accepts / n_orbits, where="mid", color="tab:blue", linewidth=0.7)
    bottom.set_ylabel("L1 accepts per orbit")
    bottom.set_xlabel("bunch crossing in orbit (BX)")
    bottom.set_xlim(0, BX_PER_ORBIT - 1)
    bottom.grid(alpha=0.3)
    return figure


def figure_to_png(figure: Figure) -> bytes:
    """Render ``figure`` to PNG bytes (Agg, 110 dpi)."""
    buffer = io.BytesIO()
    FigureCanvasAgg(figure)
    figure.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


#: (file name, title, caption, summary key, drawing function), in report order
_PLOTS: tuple[tuple[str, str, str, str, Callable[[Any], Figure | None]], ...] = (
    (
        "rate_vs_threshold.png",
        "Rate versus threshold",
        (
            "Background rate of each seed with its cut moved, computed in one pass from "
            "cumulative histograms; band: 68 % Wilson interval. Up to nine seeds are drawn, "
            "the NN seeds first; `l1sim rates DIR --seed S --target-rate HZ` scans any seed."
        ),
        "rate_vs_threshold",
        rate_vs_threshold,
    ),
    (
        "rate_vs_pileup.png",
        "Rate versus pile-up",
        (
            "Final-OR rate in bins of pile-up, fitted with a·μ + b·μ² or c + a·μ + b·μ² "
            "(whichever has the larger χ² probability; dashed when the fit is bad) and "
            "extrapolated to the target μ. Inputs that only give reconstructed vertices are "
            "binned in vertices and not extrapolated."
        ),
        "rate_vs_pileup",
        rate_vs_pileup,
    ),
    (
        "score_distributions.png",
        "Score distributions",
        (
            "Scores of each seed on background (colliding BX) and on each signal sample, "
            "normalised; the last bin holds the overflow."
        ),
        "score_distributions",
        score_distributions,
    ),
    (
        "efficiency_vs_rate.png",
        "Efficiency versus rate",
        "Signal efficiency against background rate as the threshold is scanned.",
        "efficiency_vs_rate",
        efficiency_vs_rate,
    ),
    (
        "latency.png",
        "Latency per algorithm",
        "Latency of each algorithm (clock cycles at its clock) against the 12.5 µs budget.",
        "timing",
        latency,
    ),
    (
        "occupancy.png",
        "Per-BX occupancy",
        "Colliding slots of the filling scheme and L1 accepts per bunch slot.",
        "occupancy",
        occupancy,
    ),
)


def render_plots(summary: Summary) -> list[Plot]:
    """Draw every plot the summary has data for, in report order."""
    plots = []
    for filename, title, caption, key, draw in _PLOTS:
        figure = draw(summary.get(key) or {})
        if figure is not None:
            plots.append(Plot(filename, title, caption, figure_to_png(figure)))
    return plots


def write_plots(plots: Sequence[Plot], directory: Path) -> None:
    """Write each plot's PNG into ``directory``."""
    for plot in plots:
        write_bytes_atomic(Path(directory) / plot.filename, plot.png)
