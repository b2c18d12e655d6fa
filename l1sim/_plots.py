"""PNG plots of a run, drawn from ``summary.json`` alone, in the field's style.

Each function takes one section of the summary and a :class:`PlotContext` (label,
sample, pile-up, √s: :mod:`l1sim._plot_style`) and returns matplotlib
:class:`~matplotlib.figure.Figure` objects (none when the section has nothing to
draw). The per-seed plots hold every seed of the menu, 16 panels a page. Figures are
created without pyplot, so nothing depends on a display or on global backend state;
they are drawn in mplhep's CMS style with the CMS label. Rates are on log scales in
kHz with 68 % bands, a zero count shown as its 68 % upper limit, with the Phase-2
limits (750 kHz accept rate, 12.5 µs latency) drawn where they apply.
"""

# ruff: noqa: RUF001  (Greek letters and the multiplication sign are meant in labels)

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

from l1sim._format import format_rate, significant
from l1sim._outdir import write_bytes_atomic
from l1sim._plot_style import (
    PlotContext,
    cms_label,
    context_of,
    page_filename,
    pages,
    styled,
)
from l1sim._summary import BX_PER_ORBIT, LATENCY_BUDGET_US, MAX_L1_RATE_HZ, Summary

_LIMIT_STYLE: dict[str, Any] = {"color": "crimson", "linestyle": "--", "linewidth": 1.2}
_THRESHOLD_STYLE: dict[str, Any] = {"color": "dimgray", "linestyle": ":", "linewidth": 1.2}
_PANEL_SIZE = (4.6, 3.6)
_GRID_FONT = 10.0
_SINGLE_FONT = 13.0
#: the one-sided level of the upper limits drawn for zero counts (the bands' 68 %)
_LIMIT_CL = "68 %"

Draw = Callable[[Any, PlotContext], list[Figure]]


@dataclass(frozen=True)
class Plot:
    """A rendered plot: file name in the output directory, title and caption for the report."""

    filename: str
    title: str
    caption: str
    png: bytes


def _grid(n_panels: int, title: str, max_columns: int = 4) -> tuple[Figure, list[Axes]]:
    """A titled figure with ``n_panels`` axes in rows of at most ``max_columns`` (room at
    the top for the title and one legend for all panels).
    """
    columns = min(max_columns, max(1, n_panels))
    rows = math.ceil(n_panels / columns)
    width, height = _PANEL_SIZE[0] * columns, _PANEL_SIZE[1] * rows + 1.0
    figure = Figure(figsize=(width, height))
    # fixed margins in inches: a layout engine costs seconds on a 4 x 4 grid of log axes
    figure.subplots_adjust(
        left=0.85 / width,
        right=1 - 0.2 / width,
        bottom=0.6 / height,
        top=1 - 1.55 / height,
        wspace=0.36,
        hspace=0.62,
    )
    axes = [figure.add_subplot(rows, columns, index + 1) for index in range(rows * columns)]
    for spare in axes[n_panels:]:
        spare.set_visible(False)
    figure.suptitle(title, y=1 - 0.15 / height, fontsize=_GRID_FONT * 1.4)
    return figure, axes[:n_panels]


def _shared_legend(figure: Figure, axes: Sequence[Axes]) -> None:
    """One legend for the whole grid, below its title: every label drawn on any panel once."""
    handles: dict[str, Any] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    if handles:
        height = figure.get_figheight()
        figure.legend(
            list(handles.values()),
            list(handles),
            loc="upper center",
            bbox_to_anchor=(0.5, 1 - 0.55 / height),
            ncol=min(len(handles), 6),
            fontsize=_GRID_FONT * 0.95,
            frameon=False,
        )


def _single(title: str, context: PlotContext, size: tuple[float, float]) -> tuple[Figure, Axes]:
    """A one-panel figure with the CMS label (pile-up and √s at the right) and ``title``."""
    figure = Figure(figsize=size, layout="constrained")
    ax = figure.add_subplot()
    figure.suptitle(title, fontsize=_SINGLE_FONT * 1.05)
    cms_label(ax, context, context.right_label, _SINGLE_FONT)
    return figure, ax


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


def _paged(
    section: dict[str, Any], what: str, context: PlotContext
) -> list[tuple[Figure, list[tuple[Axes, str, Any]]]]:
    """One grid figure per page of the section's seeds, with each panel's seed and data;
    each panel carries the CMS label and its seed's name above it.
    """
    items = list(section.items())
    chunks = pages(items)
    result = []
    for number, chunk in enumerate(chunks, start=1):
        figure, axes = _grid(len(chunk), context.title(what, number, len(chunks)))
        panels = []
        for ax, (seed, data) in zip(axes, chunk, strict=True):
            cms_label(ax, context, "", _GRID_FONT * 0.9)
            ax.set_title(seed, fontsize=_GRID_FONT * 1.05, pad=_GRID_FONT * 1.7)
            panels.append((ax, seed, data))
        result.append((figure, panels))
    return result


def _finish_pages(pages_: list[tuple[Figure, list[tuple[Axes, str, Any]]]]) -> list[Figure]:
    """The figures of :func:`_paged`, each with its shared legend."""
    for figure, panels in pages_:
        _shared_legend(figure, [ax for ax, _, _ in panels])
    return [figure for figure, _ in pages_]


def _menu_threshold(ax: Axes, value: float | None) -> None:
    """The menu's threshold as a dotted line with its value written beside it."""
    if value is None:
        return
    ax.axvline(value, **_THRESHOLD_STYLE, label="menu threshold")
    ax.annotate(
        f" {value:g}",
        (value, 1.0),
        xycoords=("data", "axes fraction"),
        va="top",
        fontsize=_GRID_FONT * 0.75,
        color="dimgray",
    )


def rate_vs_threshold(section: dict[str, Any], context: PlotContext) -> list[Figure]:
    """Rate of each seed versus its threshold (68 % band; zero counts as their 68 % upper
    limit), with the current threshold and the 750 kHz line; every seed, 16 a page.
    """
    if not section:
        return []
    drawn = _paged(section, "Rate versus threshold (prescale 1)", context)
    for _, panels in drawn:
        for ax, _seed, scan in panels:
            _rate_panel(ax, scan)
    return _finish_pages(drawn)


def _rate_panel(ax: Axes, scan: dict[str, Any]) -> None:
    """One seed's rate-versus-threshold panel."""
    thresholds = np.asarray(scan["thresholds"], dtype=float)
    rate = _khz(scan["rate_hz"])
    if scan.get("low_hz") and scan.get("high_hz"):
        low, high = _positive(_khz(scan["low_hz"])), _khz(scan["high_hz"])
    else:
        error = _khz(scan.get("error_hz") or [0.0] * len(rate))
        low, high = _positive(rate - error), rate + error
    zero = rate == 0
    ax.step(thresholds, _positive(rate), where="post", color="tab:blue", label="rate")
    ax.fill_between(
        thresholds, low, high, step="post", color="tab:blue", alpha=0.25, label="68 % interval"
    )
    if zero.any() and thresholds.size == 1:  # one point: the limit as a line across
        ax.axhline(
            float(high[0]),
            color="tab:blue",
            linestyle="--",
            label=f"no BX passes: {_LIMIT_CL} upper limit",
        )
    elif zero.any():
        ax.step(
            thresholds,
            np.where(zero, high, np.nan),
            where="post",
            color="tab:blue",
            linestyle="--",
            label=f"no BX passes: {_LIMIT_CL} upper limit",
        )
    ax.axhline(MAX_L1_RATE_HZ / 1e3, **_LIMIT_STYLE, label="750 kHz L1 limit")
    _menu_threshold(ax, scan.get("threshold"))
    if thresholds.size <= 1 or not np.any(rate > 0):
        ax.text(
            0.5,
            0.35,
            "no counted BX passes\nany threshold scanned",
            transform=ax.transAxes,
            ha="center",
            fontsize=_GRID_FONT * 0.85,
            color="dimgray",
        )
    ax.set_yscale("log")
    ax.set_xlabel(_label(scan.get("variable"), scan.get("unit")))
    ax.set_ylabel("rate [kHz]")
    ax.grid(alpha=0.3)


def _value_error(value: float, error: float) -> str:
    """``value ± error`` with the error to 2 significant digits and the value to the same
    decimal place (4 significant digits without an error).
    """
    if not error or not math.isfinite(error):
        return significant(value, 4)
    decimals = 1 - math.floor(math.log10(abs(error)))
    shown = max(0, decimals)
    return f"{round(value, decimals):.{shown}f} ± {round(error, decimals):.{shown}f}"


def _fit_text(fit: dict[str, Any], is_mu: bool) -> str:
    """The fit's coefficients with their units: a [kHz per μ], b [kHz per μ²], c [kHz]."""
    symbol = "μ" if is_mu else "n"
    lines = []
    for key, unit in (("c", "kHz"), ("a", f"kHz / {symbol}"), ("b", f"kHz / {symbol}²")):
        value = fit.get(key)
        if value is None or (key == "c" and not fit.get("c_err") and value == 0):
            continue
        lines.append(
            f"{key} = {_value_error(value / 1e3, (fit.get(f'{key}_err') or 0) / 1e3)} {unit}"
        )
    return "\n".join(lines)


def fit_label(fit: dict[str, Any], is_mu: bool = True) -> str:
    """The fit's model and χ²/ndf as a legend or caption text (μ → n for vertices)."""
    model = str(fit.get("model") or "a·μ + b·μ²")
    if not is_mu:
        model = model.replace("μ", "n")
    chi2, ndf = fit.get("chi2"), fit.get("ndf")
    quality = "" if chi2 is None or not ndf else f", χ²/ndf = {chi2:.3g}/{ndf}"
    return f"fit {model}{quality}" + (" (bad fit)" if fit.get("bad") else "")


def rate_vs_pileup(section: dict[str, Any], context: PlotContext) -> list[Figure]:
    """Rate in bins of pile-up with the chosen fit, its 68 % band, the extrapolation and
    the fit coefficients with their units.

    The fit curve and band come from the summary (``fit.curve``, computed by
    :func:`emulator.analysis.fit_curve`); nothing is evaluated here.
    """
    series = (section or {}).get("series") or {}
    if not series:
        return []
    is_mu = bool(section.get("is_mu", True))
    what = "Rate versus pile-up" if is_mu else "Rate versus reconstructed vertices"
    figure, ax = _single(context.title(what), context, (9.0, 6.4))
    colors = [f"C{index}" for index in range(10)]
    mu_max = 0.0
    coefficients = []
    for index, (name, points) in enumerate(series.items()):
        color = colors[index % len(colors)]
        mu = np.asarray(points["mu"], dtype=float)
        rate = _khz(points["rate_hz"])
        error = _khz(points.get("error_hz") or [0.0] * len(mu))
        ax.errorbar(mu, _positive(rate), yerr=error, fmt="o", ms=4, color=color, label=name)
        mu_max = max(mu_max, float(np.nanmax(mu)) if mu.size else 0.0)
        fit = points.get("fit") or {}
        curve = fit.get("curve")
        if fit:
            coefficients.append(f"{name}: {fit_label(fit, is_mu)}\n{_fit_text(fit, is_mu)}")
        if curve:
            grid = np.asarray(curve["mu"], dtype=float)
            mu_max = max(mu_max, float(grid.max()))
            ax.plot(
                grid,
                _positive(_khz(curve["rate_hz"])),
                color=color,
                linewidth=1.4,
                linestyle="--" if fit.get("bad") else "-",
                label=fit_label(fit, is_mu),
            )
            ax.fill_between(
                grid,
                _positive(_khz(curve["low_hz"])),
                _khz(curve["high_hz"]),
                color=color,
                alpha=0.2,
                label="68 % band of the fit",
            )
        at_target = fit.get("rate_at_target_hz")
        target = fit.get("target_mu")
        if at_target is not None and target is not None:
            ax.errorbar(
                [target],
                [at_target / 1e3],
                yerr=[(fit.get("error_at_target_hz") or 0.0) / 1e3],
                fmt="*",
                ms=12,
                color=color,
                label=f"{format_rate(at_target)} at μ = {target:g}"
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
    ax.grid(alpha=0.3)
    ax.legend(loc="center right", fontsize=_SINGLE_FONT * 0.7)
    if coefficients:
        ax.text(
            0.03,
            0.97,
            "\n".join(coefficients),
            transform=ax.transAxes,
            va="top",
            fontsize=_SINGLE_FONT * 0.72,
            bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "0.7"},
        )
    return [figure]


def score_distributions(section: dict[str, Any], context: PlotContext) -> list[Figure]:
    """Normalised score (or leading-object pT) distributions, background against each
    signal, the overflow bin marked; every seed, 16 a page.
    """
    if not section:
        return []
    drawn = _paged(section, "Score distributions", context)
    for _, panels in drawn:
        for ax, _seed, histogram in panels:
            edges = np.asarray(histogram["bin_edges"], dtype=float)
            samples = {"background": histogram["background"], **(histogram.get("signals") or {})}
            for index, (name, counts) in enumerate(samples.items()):
                values = np.asarray(counts, dtype=float)
                total = values.sum()
                if total <= 0:
                    continue
                style = (
                    {"color": "black", "linewidth": 1.6} if index == 0 else {"color": f"C{index}"}
                )
                ax.stairs(_positive(values / total), edges, label=name, **style)
            if edges.size >= 2:
                ax.axvspan(
                    edges[-2],
                    edges[-1],
                    facecolor="none",
                    edgecolor="0.55",
                    hatch="///",
                    linewidth=0.0,
                    label="overflow bin (everything above its lower edge)",
                )
                ax.annotate(
                    "overflow",
                    (edges[-1], 0.5),
                    xycoords=("data", "axes fraction"),
                    rotation=90,
                    ha="right",
                    va="center",
                    fontsize=_GRID_FONT * 0.75,
                    color="0.35",
                )
            _menu_threshold(ax, histogram.get("threshold"))
            ax.set_yscale("log")
            ax.set_xlabel(_label(histogram.get("variable"), histogram.get("unit")))
            ax.set_ylabel("fraction per bin")
            ax.grid(alpha=0.3)
    return _finish_pages(drawn)


def efficiency_vs_rate(section: dict[str, Any], context: PlotContext) -> list[Figure]:
    """Signal efficiency (with its binomial interval) against background rate for each
    seed (a ROC curve in trigger units); every seed, 16 a page.
    """
    if not section:
        return []
    drawn = _paged(section, "Signal efficiency versus background rate", context)
    for _, panels in drawn:
        for ax, _seed, curves in panels:
            _efficiency_panel(ax, curves)
    return _finish_pages(drawn)


def _efficiency_panel(ax: Axes, curves: dict[str, Any]) -> None:
    """One seed's efficiency-versus-rate panel."""
    rate = _positive(_khz(curves["rate_hz"]))
    point = curves.get("menu_threshold") or {}
    lows, highs = curves.get("low") or {}, curves.get("high") or {}
    cl = curves.get("cl")
    band = "interval" if cl is None else f"{100 * cl:.0f} % interval"
    method = str(curves.get("method") or "").replace("clopper-pearson", "Clopper–Pearson")
    for index, (name, efficiency) in enumerate((curves.get("signals") or {}).items()):
        color = f"C{index + 1}"
        ax.plot(rate, np.asarray(efficiency, dtype=float), color=color, label=name)
        if name in lows and name in highs:
            ax.fill_between(
                rate,
                np.asarray(lows[name], dtype=float),
                np.asarray(highs[name], dtype=float),
                color=color,
                alpha=0.25,
                linewidth=0,
                label=f"{method} {band}".strip() if index == 0 else None,
            )
        at_menu = (point.get("efficiency") or {}).get(name)
        if at_menu is not None and point.get("rate_hz"):
            ax.plot(
                [point["rate_hz"] / 1e3],
                [at_menu],
                "o",
                color=color,
                ms=6,
                markeredgecolor="black",
            )
    if point.get("rate_hz"):
        ax.plot([], [], "o", color="white", markeredgecolor="black", label="at the menu threshold")
    ax.axvline(MAX_L1_RATE_HZ / 1e3, **_LIMIT_STYLE, label="750 kHz L1 limit")
    ax.set_xscale("log")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("background rate [kHz]")
    ax.set_ylabel("signal efficiency")
    ax.grid(alpha=0.3)


def latency(section: dict[str, Any], context: PlotContext) -> list[Figure]:
    """Latency of each algorithm and of the whole chain against the 12.5 µs budget."""
    algorithms = (section or {}).get("algorithms") or []
    if not algorithms:
        return []
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
    title = "Latency per algorithm"
    if any(slow):
        title += " (red: cannot accept a new event every 25 ns)"
    figure, ax = _single(context.title(title), context, (10.0, min(2.2 + 0.3 * len(names), 120.0)))
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
    ax.tick_params(axis="y", which="minor", left=False, right=False)
    ax.set_ylim(len(names) - 0.5, -0.5)  # first algorithm on top, no margin above it
    ax.set_xlim(0, max(budget, *values) * 1.18)
    ax.set_xlabel("latency [µs]")
    ax.legend(loc="lower right")
    if upstream or total is not None:
        ax.axhline(len(algorithms) - 0.5, color="black", linewidth=0.6)
    ax.grid(alpha=0.3, axis="x")
    return [figure]


def occupancy(section: dict[str, Any], context: PlotContext) -> list[Figure]:
    """Per-BX view of one orbit: colliding slots, events and L1 accepts summed over orbits."""
    if not section or not section.get("accepts"):
        return []
    bx = np.arange(BX_PER_ORBIT)
    n_orbits = max(1, int(section.get("n_orbits") or 1))
    accepts = np.asarray(section["accepts"], dtype=float)
    colliding = np.asarray(section.get("colliding") or np.zeros(BX_PER_ORBIT), dtype=float)
    figure = Figure(figsize=(12.0, 5.6), layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[1, 2])
    figure.suptitle(
        context.title(f"Per-BX occupancy over an orbit ({n_orbits} orbit(s) replayed)"),
        fontsize=_SINGLE_FONT * 1.05,
    )
    cms_label(top, context, context.right_label, _SINGLE_FONT)
    top.fill_between(bx, colliding > 0, step="mid", color="tab:green", alpha=0.6)
    top.set_yticks([0, 1], ["empty", "colliding"])
    top.tick_params(axis="y", which="minor", left=False, right=False)
    bottom.step(bx, accepts / n_orbits, where="mid", color="tab:blue", linewidth=0.7)
    bottom.set_ylabel("L1 accepts per orbit")
    bottom.set_xlabel("bunch crossing in orbit (BX)")
    bottom.set_xlim(0, BX_PER_ORBIT - 1)
    bottom.grid(alpha=0.3)
    return [figure]


def figure_to_png(figure: Figure) -> bytes:
    """Render ``figure`` to PNG bytes (Agg, 110 dpi)."""
    buffer = io.BytesIO()
    FigureCanvasAgg(figure)
    figure.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


#: (file name, title, caption, summary key, drawing function), in report order
_PLOTS: tuple[tuple[str, str, str, str, Draw], ...] = (
    (
        "rate_vs_threshold.png",
        "Rate versus threshold",
        (
            "Background rate of each seed with its cut moved (prescale 1), computed in one "
            "pass from cumulative histograms; band: 68 % Wilson interval; where no counted BX "
            "passes, the dashed line is the 68 % upper limit. Every seed of the menu, NN "
            "seeds first, 16 to a page; `l1sim rates DIR --table` lists them all with "
            "uncertainties."
        ),
        "rate_vs_threshold",
        rate_vs_threshold,
    ),
    (
        "rate_vs_pileup.png",
        "Rate versus pile-up",
        (
            "Final-OR rate in bins of pile-up, fitted with a·μ + b·μ² or c + a·μ + b·μ² "
            "(whichever has the larger χ² probability; dashed when the fit is bad; band: 68 % "
            "of the fit; coefficients in kHz per μ and kHz per μ²) and extrapolated to the "
            "target μ. Inputs that only give reconstructed vertices are binned in vertices "
            "and not extrapolated."
        ),
        "rate_vs_pileup",
        rate_vs_pileup,
    ),
    (
        "score_distributions.png",
        "Score distributions",
        (
            "Scores of each seed on background (colliding BX) and on each signal sample, "
            "normalised; the hatched last bin holds the overflow."
        ),
        "score_distributions",
        score_distributions,
    ),
    (
        "efficiency_vs_rate.png",
        "Efficiency versus rate",
        (
            "Signal efficiency against background rate as the threshold is scanned; band: "
            "the binomial (Clopper–Pearson) interval of each point's efficiency."
        ),
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


def render_plots(
    summary: Summary, *, label: str | None = None, com_tev: float | None = None
) -> list[Plot]:
    """Draw every plot the summary has data for, in report order (pages in order).

    ``label`` is the text after "CMS Simulation" (default "Private work"); ``com_tev``
    the √s shown (default: from the summary's ``report`` section or the inputs).
    """
    context = context_of(summary, label=label, com_tev=com_tev)
    plots = []
    with styled():
        for filename, title, caption, key, draw in _PLOTS:
            figures = draw(summary.get(key) or {}, context)
            for page, figure in enumerate(figures, start=1):
                name = page_filename(filename, page)
                heading = title if len(figures) == 1 else f"{title} ({page} of {len(figures)})"
                plots.append(Plot(name, heading, caption, figure_to_png(figure)))
    return plots


def write_plots(plots: Sequence[Plot], directory: Path) -> None:
    """Write each plot's PNG into ``directory``."""
    for plot in plots:
        write_bytes_atomic(Path(directory) / plot.filename, plot.png)
