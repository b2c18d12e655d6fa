"""The report's plots in the field's style: CMS label, sample and pile-up in every title,
every seed reachable (pages of 16 panels), zero counts as upper limits, efficiency
intervals, the overflow bin marked and fit coefficients with their units.
"""

# ruff: noqa: RUF001  (Greek letters and mathematical signs are meant)

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from l1sim import _plots
from l1sim._html import render_html
from l1sim._plot_style import PANELS_PER_PAGE, PlotContext, context_of, page_filename, pages
from l1sim._report import write_report

CONTEXT = PlotContext(sample="synthetic background", pileup="⟨PU⟩ = 40", com_tev=14.0)


def _texts(figure: Figure) -> list[str]:
    """Every text drawn on a figure: suptitle, figure legends, axes texts and titles."""
    texts = [t.get_text() for t in figure.texts]
    if figure._suptitle is not None:
        texts.append(figure._suptitle.get_text())
    for legend in figure.legends:
        texts += [t.get_text() for t in legend.get_texts()]
    for ax in figure.axes:
        texts += [t.get_text() for t in ax.texts]
        texts += [ax.get_title(loc) for loc in ("left", "center", "right")]
        if ax.get_legend() is not None:
            texts += [t.get_text() for t in ax.get_legend().get_texts()]
    return texts


def _many_seeds(example: dict[str, Any], n: int) -> dict[str, Any]:
    """The example's rate-versus-threshold section copied for ``n`` seeds."""
    scan = example["rate_vs_threshold"]["L1_SingleMu22"]
    return {f"L1_Seed{i:03d}": copy.deepcopy(scan) for i in range(n)}


def test_every_seed_is_on_a_page(example_summary: dict[str, Any]) -> None:
    section = _many_seeds(example_summary, 2 * PANELS_PER_PAGE + 3)
    figures = _plots.rate_vs_threshold(section, CONTEXT)
    assert len(figures) == 3
    titles = [ax.get_title() for figure in figures for ax in figure.axes if ax.get_visible()]
    assert titles == list(section)  # each seed exactly once, in order
    assert "(page 2 of 3)" in figures[1]._suptitle.get_text()


def test_pages_and_file_names() -> None:
    assert pages([], 16) == [[]]
    assert [len(p) for p in pages(list(range(33)), 16)] == [16, 16, 1]
    assert page_filename("x.png", 1) == "x.png"
    assert page_filename("x.png", 4) == "x_p4.png"


@pytest.mark.parametrize(
    ("key", "draw"),
    [
        ("rate_vs_threshold", _plots.rate_vs_threshold),
        ("rate_vs_pileup", _plots.rate_vs_pileup),
        ("score_distributions", _plots.score_distributions),
        ("efficiency_vs_rate", _plots.efficiency_vs_rate),
        ("timing", _plots.latency),
        ("occupancy", _plots.occupancy),
    ],
)
def test_every_figure_has_the_cms_label_sample_and_pileup(
    example_summary: dict[str, Any], key: str, draw: _plots.Draw
) -> None:
    figures = draw(example_summary[key], CONTEXT)
    assert figures
    for figure in figures:
        title = figure._suptitle.get_text()
        assert "synthetic background" in title
        assert "⟨PU⟩ = 40" in title
        assert "√s = 14 TeV" in title
        texts = _texts(figure)
        assert "CMS" in texts
        assert any("Private work" in t for t in texts)
        assert any("Simulation" in t for t in texts)


def test_label_is_configurable(example_summary: dict[str, Any]) -> None:
    context = context_of(example_summary, label="Preliminary", com_tev=13.6)
    figure = _plots.occupancy(example_summary["occupancy"], context)[0]
    texts = _texts(figure)
    assert any("Preliminary" in t for t in texts)
    assert not any("Private work" in t for t in texts)
    assert "√s = 13.6 TeV" in figure._suptitle.get_text()


def test_context_from_the_inputs(example_summary: dict[str, Any]) -> None:
    example_summary["inputs"]["background"] = ["synthetic:background?n=10&seed=1"]
    example_summary["inputs"]["pileup"] = "Poisson μ = 60 overlaid on every colliding BX"
    context = context_of(example_summary)
    assert (context.sample, context.pileup, context.com_tev) == (
        "synthetic background",
        "⟨PU⟩ = 60",
        14.0,
    )
    example_summary["inputs"]["background"] = ["/data/nanoAOD_2015_CMS_Open_Data_ttbar.root"]
    example_summary["inputs"]["pileup"] = "as in the input (mean interactions per BX)"
    series = example_summary["rate_vs_pileup"]["series"]["L1 accept"]
    series["n_bx"] = [1, 0, 0, 0, 0, 0, 3]  # μ 20 once, μ 80 three times: mean 65
    context = context_of(example_summary)
    assert context.sample == "nanoAOD_2015_CMS_Open_Data_ttbar"
    assert context.com_tev == 13.0
    assert context.pileup == "⟨PU⟩ = 65 (in the sample)"
    example_summary["inputs"]["background"] = ["events.parquet"]
    example_summary["inputs"]["pileup"] = "none"
    del example_summary["rate_vs_pileup"]
    context = context_of(example_summary)
    assert (context.com_tev, context.pileup, context.energy) == (None, "no pile-up", "")
    example_summary["report"] = {"label": "Work in progress", "com_tev": 14}
    assert context_of(example_summary).label == "Work in progress"
    assert context_of(example_summary).com_tev == 14.0


def test_zero_counts_are_drawn_as_upper_limits(example_summary: dict[str, Any]) -> None:
    scan = example_summary["rate_vs_threshold"]["L1_SingleMu22"]
    n = len(scan["thresholds"])
    scan["rate_hz"] = [1000.0] * 10 + [0.0] * (n - 10)
    scan["low_hz"] = [900.0] * 10 + [0.0] * (n - 10)
    scan["high_hz"] = [1100.0] * 10 + [450.0] * (n - 10)
    figure = _plots.rate_vs_threshold({"L1_SingleMu22": scan}, CONTEXT)[0]
    ax = figure.axes[0]
    limits = [
        line
        for line in ax.get_lines()
        if line.get_linestyle() == "--" and line.get_color() == "tab:blue"
    ]
    assert len(limits) == 1
    y = limits[0].get_ydata()
    assert list(y[10:]) == [0.45] * (n - 10)  # the 68 % upper limit in kHz
    assert any("upper limit" in t for t in _texts(figure))


def test_efficiency_intervals_are_drawn(example_summary: dict[str, Any]) -> None:
    curves = example_summary["efficiency_vs_rate"]["L1_AD_<script>"]
    curves["low"] = {
        name: [max(0.0, e - 0.05) for e in eff] for name, eff in curves["signals"].items()
    }
    curves["high"] = {
        name: [min(1.0, e + 0.05) for e in eff] for name, eff in curves["signals"].items()
    }
    curves["cl"], curves["method"] = 0.6827, "clopper-pearson"
    figure = _plots.efficiency_vs_rate({"L1_AD_<script>": curves}, CONTEXT)[0]
    bands = [c for c in figure.axes[0].collections if isinstance(c, PolyCollection)]
    assert len(bands) == len(curves["signals"])
    assert any("Clopper–Pearson 68 % interval" in t for t in _texts(figure))
    del curves["low"], curves["high"]  # a summary without intervals still draws
    figure = _plots.efficiency_vs_rate({"L1_AD_<script>": curves}, CONTEXT)[0]
    assert not [c for c in figure.axes[0].collections if isinstance(c, PolyCollection)]


def test_overflow_bin_is_marked(example_summary: dict[str, Any]) -> None:
    histogram = example_summary["score_distributions"]["L1_AD_<script>"]
    figure = _plots.score_distributions({"L1_AD_<script>": histogram}, CONTEXT)[0]
    ax = figure.axes[0]
    edges = histogram["bin_edges"]
    hatched = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_hatch()]
    assert len(hatched) == 1
    x0 = hatched[0].get_x()
    assert x0 == pytest.approx(edges[-2])
    assert x0 + hatched[0].get_width() == pytest.approx(edges[-1])
    assert "overflow" in [t.get_text() for t in ax.texts]


def test_fit_coefficients_have_units(example_summary: dict[str, Any]) -> None:
    figure = _plots.rate_vs_pileup(example_summary["rate_vs_pileup"], CONTEXT)[0]
    text = "\n".join(_texts(figure))
    assert "a = 2.00 ± 0.10 kHz / μ" in text  # a = 2000 ± 100 Hz per μ
    assert "b = 0.0300 ± 0.0010 kHz / μ²" in text  # b = 30 ± 1 Hz per μ²
    assert "c = " not in text  # the chosen model has no constant
    section = copy.deepcopy(example_summary["rate_vs_pileup"])
    section["is_mu"] = False
    text = "\n".join(_texts(_plots.rate_vs_pileup(section, CONTEXT)[0]))
    assert "kHz / n²" in text


@pytest.mark.slow
def test_report_holds_every_page(example_summary: dict[str, Any], tmp_path: Path) -> None:
    example_summary["rate_vs_threshold"] = _many_seeds(example_summary, PANELS_PER_PAGE + 1)
    for key in ("score_distributions", "efficiency_vs_rate", "timing", "occupancy"):
        del example_summary[key]  # quicker: the pages are what is checked
    report = write_report(example_summary, tmp_path, label="Preliminary")
    text = report.read_text(encoding="utf-8")
    assert (tmp_path / "rate_vs_threshold_p2.png").is_file()
    assert 'id="rate_vs_threshold_p2"' in text
    assert "Rate versus threshold (2 of 2)" in text
    names = sorted(p.name for p in tmp_path.glob("*.png"))
    assert names == ["rate_vs_pileup.png", "rate_vs_threshold.png", "rate_vs_threshold_p2.png"]
    assert "a [kHz / μ]" in text
    assert "b [kHz / μ²]" in text


def test_zero_rates_in_the_report_are_upper_limits(example_summary: dict[str, Any]) -> None:
    seed = example_summary["rates"]["seeds"][0]
    seed.update(count=0, rate_hz=0.0, error_hz=0.0, unprescaled_rate_hz=0.0, pure_rate_hz=0.0)
    text = render_html(example_summary, [])
    # 1 - (1 - 0.6827)^(1/27600) of 11245.6 Hz x 2760: 1.29 kHz
    assert text.count("&lt; 1.29 kHz (68 % CL)") == 3
    assert "0 ± 0 kHz" not in text
