"""The field's plot style for the report: mplhep's CMS style, labels, titles and pages.

Every figure of :mod:`l1sim._plots` is drawn inside :func:`styled` (mplhep's CMS
rcParams, a font that falls back to DejaVu Sans for the Greek letters and signs the
CMS font lacks) and carries the experiment label of :func:`cms_label` ("CMS
Simulation Private work" by default; ``label`` configurable) and a title naming the
sample, the pile-up and √s (:class:`PlotContext`, read from the summary alone).
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any, TypeVar

import matplotlib.style
import mplhep  # type: ignore[import-untyped]  # mplhep ships no type information
from matplotlib.axes import Axes

from l1sim._summary import Summary

#: the experiment label's text after "CMS" (and "Simulation" for simulated samples)
DEFAULT_LABEL = "Private work"
#: panels per page of the per-seed plots (4 x 4)
PANELS_PER_PAGE = 16
#: √s [TeV] of the synthetic (ADC2021-like, Phase-2) samples
SYNTHETIC_COM_TEV = 14.0

T = TypeVar("T")


@dataclass(frozen=True)
class PlotContext:
    """What every figure says about the run: label, sample, pile-up and √s."""

    label: str = DEFAULT_LABEL
    #: "Simulation" after CMS (the samples l1sim replays are simulated or open MC)
    simulation: bool = True
    sample: str = "background"
    #: the pile-up in a few words, e.g. "⟨PU⟩ = 40"
    pileup: str = "no pile-up"
    #: centre-of-mass energy in TeV (None: not known, not shown)
    com_tev: float | None = None

    @property
    def energy(self) -> str:
        """``√s = 14 TeV`` (empty when unknown)."""
        return "" if self.com_tev is None else f"√s = {self.com_tev:g} TeV"

    def title(self, what: str, page: int = 1, pages: int = 1) -> str:
        """``what — sample, pile-up, √s`` and the page when there are several."""
        parts = [p for p in (self.sample, self.pileup, self.energy) if p]
        text = f"{what} — {', '.join(parts)}"
        return text + (f" (page {page} of {pages})" if pages > 1 else "")

    @property
    def right_label(self) -> str:
        """The text right above single-panel axes: ``⟨PU⟩ = 40 (14 TeV)``."""
        energy = "" if self.com_tev is None else f" ({self.com_tev:g} TeV)"
        return f"{self.pileup}{energy}"


def _sample_name(spec: str) -> str:
    """A short name of an input: ``synthetic background`` or the file's stem."""
    text = str(spec)
    if text.startswith("synthetic:"):
        return "synthetic " + text.removeprefix("synthetic:").split("?")[0]
    if ":" in text and not Path(text).exists():  # FORMAT:path
        text = text.split(":", 1)[1]
    return PurePath(text).stem or text


def _com_tev(backgrounds: Sequence[str]) -> float | None:
    """√s of the background when its name tells: synthetic 14 TeV, Run-2 years 13 TeV,
    Run-3 years 13.6 TeV; None otherwise.
    """
    names = " ".join(str(b) for b in backgrounds)
    if names.startswith("synthetic:"):
        return SYNTHETIC_COM_TEV
    years = [int(y) for y in re.findall(r"(?<!\d)(20[12]\d)(?!\d)", names)]
    if years and all(2015 <= y <= 2018 for y in years):
        return 13.0
    if years and all(2022 <= y <= 2026 for y in years):
        return 13.6
    return None


def _pileup(summary: Summary) -> str:
    """The pile-up in a few words, from ``inputs.pileup`` and the rate-versus-pile-up bins."""
    text = str((summary.get("inputs") or {}).get("pileup") or "none")
    match = re.search(r"μ\s*=\s*([0-9.]+)", text)
    if "levelled" in text and match:
        return f"levelled ⟨PU⟩ ≤ {match.group(1)}"
    if match:
        return f"⟨PU⟩ = {match.group(1)}"
    series = ((summary.get("rate_vs_pileup") or {}).get("series")) or {}
    for points in series.values():
        mu, n_bx = points.get("mu") or [], points.get("n_bx") or []
        total = sum(n_bx)
        if total and len(mu) == len(n_bx) and (summary["rate_vs_pileup"].get("is_mu", True)):
            mean = sum(m * n for m, n in zip(mu, n_bx, strict=True)) / total
            return f"⟨PU⟩ = {mean:.3g} (in the sample)"
    if text.startswith("as in the input"):
        return "pile-up of the sample"
    return "no pile-up" if text == "none" else text


def context_of(
    summary: Summary, *, label: str | None = None, com_tev: float | None = None
) -> PlotContext:
    """The plot context of a run: ``label`` and ``com_tev`` override the summary's
    ``report`` section (``{label, com_tev}``), then what the inputs tell.
    """
    inputs = summary.get("inputs") or {}
    report = summary.get("report") or {}
    backgrounds = [str(b) for b in inputs.get("background") or []]
    sample = _sample_name(backgrounds[0]) if backgrounds else "background"
    if len(backgrounds) > 1:
        sample += f" + {len(backgrounds) - 1} more"
    energy = com_tev if com_tev is not None else report.get("com_tev")
    if energy is None:
        energy = _com_tev(backgrounds)
    return PlotContext(
        label=label or report.get("label") or DEFAULT_LABEL,
        sample=sample,
        pileup=_pileup(summary),
        com_tev=None if energy is None else float(energy),
    )


@contextlib.contextmanager
def styled(font_size: float = 11.0) -> Iterator[None]:
    """mplhep's CMS style at ``font_size``, falling back to DejaVu Sans for missing glyphs."""
    rc: dict[str, Any] = {
        **mplhep.style.CMS,
        "font.size": font_size,
        "font.family": ["TeX Gyre Heros", "DejaVu Sans"],
        "legend.fontsize": font_size * 0.72,
        "xtick.labelsize": font_size * 0.8,
        "ytick.labelsize": font_size * 0.8,
        "axes.labelsize": font_size * 0.9,
        "xaxis.labellocation": "right",
        "yaxis.labellocation": "top",
    }
    with matplotlib.style.context(rc):
        yield


def cms_label(ax: Axes, context: PlotContext, right: str, font_size: float = 11.0) -> None:
    """mplhep's experiment label above ``ax``: CMS, Simulation and the label at the left,
    ``right`` (a seed name, or the pile-up and √s) at the right.
    """
    mplhep.cms.label(
        text=context.label,
        data=not context.simulation,
        rlabel=right,
        loc=0,
        ax=ax,
        scilocator_adjust=False,  # True draws the whole figure once per label
        fontsize=(font_size * 1.25, font_size, font_size * 0.85, font_size * 0.85),
    )


def pages(items: Sequence[T], per_page: int = PANELS_PER_PAGE) -> list[list[T]]:
    """``items`` split into pages of at most ``per_page`` (at least one page)."""
    count = max(1, math.ceil(len(items) / per_page))
    return [list(items[i * per_page : (i + 1) * per_page]) for i in range(count)]


def page_filename(filename: str, page: int) -> str:
    """``name.png`` for page 1, ``name_p2.png`` for page 2 and on."""
    if page == 1:
        return filename
    stem, dot, suffix = filename.rpartition(".")
    return f"{stem}_p{page}{dot}{suffix}"
