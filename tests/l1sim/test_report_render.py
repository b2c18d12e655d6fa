"""The report renders from a summary alone: every plot, readable tables, no external resources."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest

from l1sim._format import format_rate
from l1sim._html import render_html
from l1sim._plots import render_plots
from l1sim._report import write_report
from l1sim._summary import read_summary, write_summary

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ALL_PLOTS = {
    "rate_vs_threshold.png",
    "rate_vs_pileup.png",
    "score_distributions.png",
    "efficiency_vs_rate.png",
    "latency.png",
    "occupancy.png",
}


def test_every_plot_is_drawn_as_png(example_summary: dict[str, Any]) -> None:
    plots = render_plots(example_summary)
    assert {plot.filename for plot in plots} == ALL_PLOTS
    for plot in plots:
        assert plot.png.startswith(PNG_MAGIC)
        assert len(plot.png) > 5000  # a drawn figure, not an empty canvas


def test_plots_without_data_are_left_out(example_summary: dict[str, Any]) -> None:
    for key in ("rate_vs_pileup", "score_distributions", "efficiency_vs_rate", "timing"):
        del example_summary[key]
    names = {plot.filename for plot in render_plots(example_summary)}
    assert names == {"rate_vs_threshold.png", "occupancy.png"}


def test_report_inlines_every_plot_and_has_no_external_reference(
    example_summary: dict[str, Any], tmp_path: Path
) -> None:
    report = write_report(example_summary, tmp_path)
    text = report.read_text(encoding="utf-8")
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert len(images) == len(ALL_PLOTS)
    for encoded in images:
        assert base64.b64decode(encoded).startswith(PNG_MAGIC)
    for png in ALL_PLOTS:
        assert (tmp_path / png).read_bytes().startswith(PNG_MAGIC)
    # nothing fetched from elsewhere: no URLs, no imports, no scripts, no linked files
    without_images = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", text)
    assert not re.search(
        r"(?i)(https?:|//[a-z]|@import|url\(|<script|<link|<iframe|src=\"(?!\"))", without_images
    )


def test_report_escapes_names_and_shows_the_numbers(example_summary: dict[str, Any]) -> None:
    text = render_html(example_summary, [])
    assert "<script>" not in text
    assert "L1_AD_&lt;script&gt;" in text
    assert "13.5 ± 3.9 kHz" in text  # L1_SingleMu22 rate and its uncertainty
    assert "15.7 ± 4.2 kHz" in text  # total rate
    assert "below the 750 kHz limit" in text
    assert "masked" in text
    assert "24.5 GeV" in text  # threshold for the 10 kHz target
    assert "1,600 ± 30 kHz" in text  # extrapolation to mu = 200: 2e3·200 + 30·200²
    assert "within 12.5 µs" in text


def test_report_flags_rate_over_limit(example_summary: dict[str, Any]) -> None:
    example_summary["rates"]["l1_accept"]["rate_hz"] = 900e3
    assert "above 750 kHz" in render_html(example_summary, [])


@pytest.mark.parametrize(
    ("rate", "error", "text"),
    [
        (13500.0, 3900.0, "13.5 ± 3.9 kHz"),
        (None, None, "n/a"),
        (1.0e6, None, "1,000 kHz"),
        (12.0, 0.0, "0.0120 ± 0 kHz"),
    ],
)
def test_format_rate(rate: float | None, error: float | None, text: str) -> None:
    assert format_rate(rate, error) == text


def test_summary_round_trip_and_nan(example_summary: dict[str, Any], tmp_path: Path) -> None:
    example_summary["rates"]["deadtime_fraction"] = float("nan")
    path = tmp_path / "summary.json"
    write_summary(path, example_summary)
    again = read_summary(path)
    assert again["rates"]["deadtime_fraction"] is None
    assert again["rates"]["seeds"] == example_summary["rates"]["seeds"]
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind
