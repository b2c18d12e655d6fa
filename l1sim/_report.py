"""Render a run's report (PNG plots + ``report.html``) from its summary."""

from __future__ import annotations

from pathlib import Path

from l1sim._html import render_html
from l1sim._outdir import write_bytes_atomic
from l1sim._plots import render_plots, write_plots
from l1sim._summary import Summary

#: name of the HTML report inside an output directory
REPORT_NAME = "report.html"


def write_report(
    summary: Summary, directory: Path, *, label: str | None = None, com_tev: float | None = None
) -> Path:
    """Draw every plot the summary supports into ``directory`` and the self-contained HTML.

    ``label`` (the text after "CMS Simulation", default "Private work") and ``com_tev``
    (√s shown on the plots) override the summary's ``report`` section and what its
    inputs tell (see :func:`l1sim._plot_style.context_of`). Returns the path of
    ``report.html``.
    """
    directory = Path(directory)
    plots = render_plots(summary, label=label, com_tev=com_tev)
    write_plots(plots, directory)
    report = directory / REPORT_NAME
    write_bytes_atomic(report, render_html(summary, plots).encode("utf-8"))
    return report
