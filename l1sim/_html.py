"""One self-contained ``report.html``: tables and plots, no external resources.

Images are inlined as base64 ``data:`` URIs and the style sheet is embedded, so the
file can be mailed, attached to a merge request or opened offline. All text from
the summary is HTML-escaped.
"""

# ruff: noqa: RUF001  (Greek letters and the multiplication sign are meant in the report)

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence
from typing import Any

from emulator.analysis import CL_68, rate_scale_hz, upper_limit_fraction
from l1sim._format import format_rate, significant
from l1sim._plots import Plot
from l1sim._summary import LATENCY_BUDGET_US, MAX_L1_RATE_HZ, Summary

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em auto;
       max-width: 1250px; color: #1d1d1f; line-height: 1.45; padding: 0 1em; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; }
h2 { font-size: 1.3em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.8em; }
.meta { color: #555; font-size: 0.9em; }
table { border-collapse: collapse; margin: 0.6em 0 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #d0d0d0; padding: 0.3em 0.7em; }
th { background: #f2f4f7; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr:nth-child(even) td { background: #fafbfc; }
.ok { color: #137333; font-weight: 600; }
.warning { border-left: 4px solid #b3261e; background: #fdf3f2; padding: 0.5em 1em; }
ul.notes { color: #7a4b00; }
.bad { color: #b3261e; font-weight: 600; }
figure { margin: 1em 0 2em 0; }
figure img { max-width: 100%; border: 1px solid #e3e3e3; }
figcaption { color: #555; font-size: 0.9em; }
.cards { display: flex; flex-wrap: wrap; gap: 1em; margin: 1em 0; }
.card { border: 1px solid #d0d0d0; border-radius: 6px; padding: 0.6em 1em; min-width: 12em; }
.card .value { font-size: 1.4em; font-weight: 600; }
.card .label { color: #555; font-size: 0.85em; }
nav a { margin-right: 1em; }
.wide { overflow-x: auto; max-width: 100%; }
tbody th { font-weight: 600; white-space: nowrap; }
"""


def _e(value: Any) -> str:
    """HTML-escaped text of ``value`` (empty for ``None``)."""
    return "" if value is None else html.escape(str(value))


def _number(value: Any, digits: int = 4) -> str:
    """Compact text for a number (``n/a`` for missing)."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def _table(headers: Sequence[str] | None, rows: Iterable[Sequence[Any]], numeric: set[int]) -> str:
    """An HTML table (scrolls sideways when wide); ``numeric`` columns are right-aligned.

    Without ``headers`` the first column is a header column (a key/value table).
    """
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{cell}</td>'
            if index in numeric
            else (f"<th>{cell}</th>" if headers is None and index == 0 else f"<td>{cell}</td>")
            for index, cell in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    head = (
        ""
        if headers is None
        else "<thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in headers) + "</tr></thead>"
    )
    return f'<div class="wide"><table>{head}<tbody>{"".join(body)}</tbody></table></div>'


def _verdict(ok: bool, good: str, bad: str) -> str:
    """A green or red phrase."""
    return f'<span class="ok">{_e(good)}</span>' if ok else f'<span class="bad">{_e(bad)}</span>'


def _cards(summary: Summary) -> str:
    """Headline numbers: L1 accept rate, deadtime, extrapolated rate and total latency."""
    rates = summary.get("rates", {})
    accept = rates.get("l1_accept") or rates.get("total") or {}
    limit = float(rates.get("limit_hz") or MAX_L1_RATE_HZ)
    cards = []
    unbiased = rates.get("minimum_bias", True)
    if accept.get("rate_hz") is not None and not unbiased:
        cards.append(
            (
                format_rate(accept["rate_hz"], accept.get("error_hz")),
                "L1 accept rate — "
                + _verdict(
                    False, "", "not a minimum-bias sample: the 750 kHz check does not apply"
                ),
            )
        )
    elif accept.get("rate_hz") is not None:
        ok = accept["rate_hz"] <= limit
        cards.append(
            (
                format_rate(accept["rate_hz"], accept.get("error_hz")),
                "L1 accept rate — "
                + _verdict(
                    ok, f"below the {limit / 1e3:g} kHz limit", f"above {limit / 1e3:g} kHz"
                ),
            )
        )
    if rates.get("deadtime_fraction") is not None:
        cards.append(
            (
                f"{100 * rates['deadtime_fraction']:.3g} %",
                "deadtime from trigger rules"
                + ("" if unbiased else " — " + _verdict(False, "", "meaningless here")),
            )
        )
    series = (summary.get("rate_vs_pileup") or {}).get("series") or {}
    for name, points in list(series.items())[:1]:
        fit = points.get("fit") or {}
        if fit.get("rate_at_target_hz") is not None:
            caveats = [
                text
                for flag, text in (
                    (fit.get("far_beyond"), "far beyond the fitted range"),
                    (fit.get("bad"), "bad fit"),
                )
                if flag
            ]
            label = f"{_e(name)} extrapolated to μ = {_number(fit.get('target_mu'))}"
            if caveats:
                label += " — " + _verdict(False, "", ", ".join(caveats))
            cards.append(
                (format_rate(fit["rate_at_target_hz"], fit.get("error_at_target_hz")), label)
            )
    timing = summary.get("timing") or {}
    if timing.get("total_latency_us") is not None:
        budget = float(timing.get("budget_us") or LATENCY_BUDGET_US)
        ok = timing["total_latency_us"] <= budget
        cards.append(
            (
                f"{timing['total_latency_us']:.3g} µs",
                "menu latency — " + _verdict(ok, f"within {budget:g} µs", f"over {budget:g} µs"),
            )
        )
    items = "".join(
        f'<div class="card"><div class="value">{_e(value)}</div>'
        f'<div class="label">{label}</div></div>'
        for value, label in cards
    )
    return f'<div class="cards">{items}</div>' if items else ""


def _run_table(summary: Summary) -> str:
    """What was replayed: inputs, menu, pile-up, filling scheme and normalisation."""
    inputs = summary.get("inputs") or {}
    norm = summary.get("normalisation") or {}
    performance = summary.get("performance") or {}
    speed = performance.get("replay_bx_per_s")
    rows = [
        ("background input", ", ".join(map(str, inputs.get("background") or [])) or "n/a"),
        ("signal inputs", ", ".join(map(str, inputs.get("signals") or [])) or "none"),
        ("menu", inputs.get("menu")),
        ("pile-up", inputs.get("pileup")),
        (
            "minimum bias",
            None
            if inputs.get("minimum_bias") is None
            else ("yes" if inputs["minimum_bias"] else "no")
            + (f" ({inputs['minimum_bias_reason']})" if inputs.get("minimum_bias_reason") else ""),
        ),
        ("filling scheme", inputs.get("scheme")),
        ("bunch crossings replayed", _number(norm.get("n_bx"))),
        (
            "input events not replayed",
            f"{_number(inputs['events_not_replayed'])} of "
            f"{_number(inputs['events_not_replayed'] + (inputs.get('events_replayed') or 0))}: "
            f"--max-bx {_number(inputs.get('max_bx'))} stopped the replay before them"
            if inputs.get("events_not_replayed")
            else None,
        ),
        (
            "bunch crossings in every rate",
            f"{_number(norm.get('n_colliding_bx'))} (colliding BX holding an input event)"
            + (
                f"; {_number(norm['n_colliding_slots'] - norm['n_colliding_bx'])} empty "
                "colliding slots completing the last orbit are not counted"
                if (norm.get("n_colliding_slots") or 0) > (norm.get("n_colliding_bx") or 0)
                else ""
            ),
        ),
        ("orbits", _number(norm.get("n_orbits"))),
        (
            "rate normalisation",
            (
                f"{_number(norm.get('revolution_hz'), 6)} Hz × {_number(norm.get('colliding_bunches'))}"
                " colliding bunches"
            ),
        ),
        (
            "replay time",
            None
            if speed is None
            else f"{performance['replay_s']:.1f} s ({significant(speed / 1e3, 3)} kBX/s; "
            "reading, pile-up overlay and emulation in one process)",
        ),
    ]
    return _table(None, [(_e(k), _e(v)) for k, v in rows if v is not None], set())


def _dropped_table(summary: Summary) -> str:
    """Objects the hardware's fixed slots left out, per collection (counted BX)."""
    section = summary.get("dropped_objects") or {}
    dropped = section.get("collections") or {}
    if not dropped:
        return ""
    slots = section.get("slots") or {}
    rows = [
        (_e(name), _e(_number(slots.get(name))), _e(_number(count)))
        for name, count in dropped.items()
    ]
    total = sum(int(count or 0) for count in dropped.values())
    note = (
        "<p>Every object reached the trigger: no BX had more objects than its slots.</p>"
        if total == 0
        else "<p>The hardware sees a fixed number of objects per collection, the highest "
        "pT first; the emulator truncates exactly as the firmware does. These objects "
        "were left out (summed over the BX counted in the rates).</p>"
    )
    return (
        "<h3>Objects beyond the hardware slots</h3>"
        + note
        + _table(["collection", "slots", "objects left out"], rows, {1, 2})
    )


def _bias_note(summary: Summary) -> str:
    """A warning above the rates when the input is not minimum bias (empty otherwise)."""
    rates = summary.get("rates") or {}
    if rates.get("minimum_bias", True):
        return ""
    note = rates.get("note") or "the input is not a minimum-bias sample"
    return f"<p class='warning'><strong>Not minimum bias.</strong> {_e(note)}.</p>"


def _rate_or_limit(summary: Summary, rate_hz: Any, error_hz: Any = None) -> str:
    """A rate with its uncertainty, or for a rate of 0 (no counted BX accepted) its 68 %
    upper limit (:func:`emulator.analysis.upper_limit_fraction`) instead of "0 ± 0".
    """
    normalisation = summary.get("normalisation") or {}
    n_bx, bunches = normalisation.get("n_colliding_bx"), normalisation.get("colliding_bunches")
    if rate_hz == 0 and n_bx and bunches:
        limit = upper_limit_fraction(int(n_bx), CL_68) * rate_scale_hz(int(bunches))
        return f"< {format_rate(limit)} (68 % CL)"
    return format_rate(rate_hz, error_hz)


def _rates_table(summary: Summary) -> str:
    """Per-seed threshold, prescale, rate and pure rate (zero counts as 68 % upper limits),
    then the OR and the L1 accept.
    """
    rates = summary.get("rates", {})
    rows = []
    for seed in rates.get("seeds", []):
        legs = seed.get("thresholds") or (
            [] if seed.get("threshold") is None else [seed["threshold"]]
        )
        threshold_text = (
            f"{', '.join(_number(leg) for leg in legs)} {seed.get('unit') or ''}" if legs else ""
        )
        rows.append(
            (
                _e(seed["name"]) + (" <em>(masked)</em>" if seed.get("masked") else ""),
                _e(seed.get("kind")),
                _e(threshold_text),
                _e(_number(seed.get("prescale"))),
                _e(_number(seed.get("count"))),
                _e(_rate_or_limit(summary, seed.get("unprescaled_rate_hz"))),
                _e(_rate_or_limit(summary, seed.get("rate_hz"), seed.get("error_hz"))),
                _e(_rate_or_limit(summary, seed.get("pure_rate_hz"), seed.get("pure_error_hz"))),
            )
        )
    for label, key in (("total (OR of seeds)", "total"), ("L1 accept (after rules)", "l1_accept")):
        entry = rates.get(key)
        if entry:
            rows.append(
                (
                    f"<strong>{_e(label)}</strong>",
                    "",
                    "",
                    "",
                    _e(_number(entry.get("count"))),
                    "",
                    f"<strong>{_e(format_rate(entry.get('rate_hz'), entry.get('error_hz')))}</strong>",
                    "",
                )
            )
    headers = [
        "seed",
        "kind",
        "threshold",
        "prescale",
        "accepted BX",
        "rate before prescale",
        "rate",
        "pure rate",
    ]
    return _table(headers, rows, {3, 4, 5, 6, 7})


def _target_table(summary: Summary) -> str:
    """Thresholds that give a requested rate."""
    entries = summary.get("thresholds_for_target") or []
    if not entries:
        return ""
    rows = [
        (
            _e(entry.get("seed")),
            _e(format_rate(entry.get("target_rate_hz"))),
            _e(f"{_number(entry.get('threshold'))} {entry.get('unit') or ''}")
            if entry.get("found", True)
            else _verdict(False, "", "none"),
            _e(format_rate(entry.get("rate_hz")) if entry.get("found", True) else "—"),
            _e(entry.get("note") or ""),
        )
        for entry in entries
    ]
    return "<h3>Thresholds for a target rate</h3>" + _table(
        ["seed", "target rate", "threshold", "rate at that threshold", "note"], rows, {1, 2, 3}
    )


def _overlap_table(summary: Summary) -> str:
    """Rate of each pair of seeds firing together (diagonal: the seed's own rate)."""
    overlap = summary.get("overlap") or {}
    seeds = overlap.get("seeds") or []
    matrix = overlap.get("rate_hz") or []
    if not seeds or len(seeds) > 25:
        return ""
    rows = [
        [f"<strong>{_e(name)}</strong>"] + [_e(significant((v or 0.0) / 1e3, 3)) for v in row]
        for name, row in zip(seeds, matrix, strict=False)
    ]
    return "<h3>Overlaps [kHz]</h3>" + _table(["", *seeds], rows, set(range(1, len(seeds) + 1)))


def _pileup_table(summary: Summary) -> str:
    """The chosen fit per series (model, parameters, χ²/ndf), its extrapolation and notes."""
    section = summary.get("rate_vs_pileup") or {}
    is_mu = bool(section.get("is_mu", True))
    symbol = "μ" if is_mu else "n"
    rows = []
    for name, points in (section.get("series") or {}).items():
        fit = points.get("fit")
        if not fit:
            continue
        chi2, ndf, probability = fit.get("chi2"), fit.get("ndf"), fit.get("chi2_probability")
        quality = "n/a" if chi2 is None or not ndf else f"{chi2:.4g} / {ndf}"
        if probability is not None and ndf:
            quality += f" (p = {probability:.2g})"
        others = "; ".join(
            f"{other['model']}: {other['chi2']:.4g} / {other['ndf']}"
            for other in fit.get("alternatives") or []
            if other.get("ndf")
        )
        model = str(fit.get("model") or "a·μ + b·μ²")
        rows.append(
            (
                _e(name),
                _e(model if is_mu else model.replace("μ", "n")),
                *(_e(_parameter(fit.get(key), fit.get(f"{key}_err"))) for key in ("a", "b", "c")),
                _verdict(not fit.get("bad"), quality, quality + " — bad fit"),
                _e(others or "—"),
                _e(_number(fit.get("target_mu")) if fit.get("target_mu") is not None else "—"),
                _e(
                    format_rate(fit.get("rate_at_target_hz"), fit.get("error_at_target_hz"))
                    if fit.get("rate_at_target_hz") is not None
                    else "none"
                ),
            )
        )
    notes = section.get("notes") or []
    text = "".join(f"<li>{_e(note)}</li>" for note in notes)
    if not rows:
        return f"<ul class='notes'>{text}</ul>" if text else ""
    headers = [
        "rate",
        "model (chosen)",
        f"a [kHz / {symbol}]",
        f"b [kHz / {symbol}²]",
        "c [kHz]",
        "χ² / ndf",
        "other model χ² / ndf",
        f"target {symbol}",
        "extrapolated rate",
    ]
    table = _table(headers, rows, {2, 3, 4, 5, 7, 8})
    return table + (f"<ul class='notes'>{text}</ul>" if text else "")


def _parameter(value: float | None, error: float | None) -> str:
    """A fit parameter in kHz with its uncertainty (``—`` when the model has none)."""
    if value is None:
        return "—"
    text = significant(value / 1e3, 4)
    return text if not error else f"{text} ± {significant(error / 1e3, 2)}"


def _signals_table(summary: Summary) -> str:
    """Efficiency of each seed (before prescale) and of the final OR on each signal sample."""
    signals = summary.get("signals") or []
    if not signals:
        return ""
    seeds = [seed["name"] for seed in summary.get("rates", {}).get("seeds", [])]
    for entry in signals:
        seeds += [name for name in entry.get("efficiency") or {} if name not in seeds]
    rows = [
        [_e(seed)] + [_e(_percent((entry.get("efficiency") or {}).get(seed))) for entry in signals]
        for seed in seeds
    ]
    rows.append(
        ["<strong>final OR (after prescales)</strong>"]
        + [f"<strong>{_e(_percent(entry.get('l1_efficiency')))}</strong>" for entry in signals]
    )
    headers = [
        "seed (efficiency before prescale)",
        *(f"{entry.get('name')} ({_number(entry.get('n_events'))} events)" for entry in signals),
    ]
    return "<h2 id='signals'>Signal efficiencies</h2>" + _table(
        headers, rows, set(range(1, len(headers)))
    )


def _percent(value: float | None) -> str:
    """A fraction as a percentage with 3 significant digits."""
    return "n/a" if value is None else f"{100 * value:.3g} %"


def _timing_table(summary: Summary) -> str:
    """Latency and initiation interval per algorithm."""
    timing = summary.get("timing") or {}
    algorithms = timing.get("algorithms") or []
    if not algorithms:
        return ""
    rows = [
        (
            _e(entry.get("name")),
            _e(_number(entry.get("latency_cycles"))),
            _e(_number(entry.get("clock_mhz"))),
            _e(_number(entry.get("latency_us"))),
            _e(_number(entry.get("initiation_interval"))),
            _verdict(bool(entry.get("accepts_every_bx", True)), "yes", "no"),
        )
        for entry in algorithms
    ]
    upstream_us = timing.get("upstream_latency_us")
    if upstream_us:
        bx = _number(timing.get("upstream_latency_bx"))
        rows.append(
            ("upstream (links, correlator)", _e(f"{bx} BX"), "", _e(_number(upstream_us)), "", "")
        )
    if timing.get("total_latency_us") is not None:
        budget = float(timing.get("budget_us") or LATENCY_BUDGET_US)
        total = float(timing["total_latency_us"])
        rows.append(
            (
                "<strong>total (upstream + slowest seed)</strong>",
                _e(f"{_number(timing.get('total_latency_bx'))} BX"),
                "",
                f"<strong>{_e(_number(total))}</strong>",
                "",
                _verdict(total <= budget, f"within {budget:g} µs", f"over {budget:g} µs"),
            )
        )
    headers = [
        "algorithm",
        "latency [cycles]",
        "clock [MHz]",
        "latency [µs]",
        "II [cycles]",
        "new event every 25 ns",
    ]
    return _table(headers, rows, {1, 2, 3, 4})


def _counts(counts: Any) -> str:
    """LUT / FF / DSP of one resources entry (``-`` where unknown)."""
    if not isinstance(counts, dict):
        return "-"
    return " / ".join(
        _number(counts[key]) if isinstance(counts.get(key), int | float) else "-"
        for key in ("lut", "ff", "dsp")
    )


def _firmware_table(summary: Summary) -> str:
    """The firmware the run took its timing from (``l1sim run --firmware DIR``)."""
    firmware = summary.get("firmware")
    if not isinstance(firmware, dict):
        return ""
    rows = [
        (
            _e(entry.get("name")),
            _e(entry.get("kind")),
            _e(_number(entry.get("latency_cycles"))),
            _e(_number(entry.get("latency_ns"))),
            _e(_number(entry.get("ii"))),
            _e(_counts(entry.get("yosys"))),
            _e(_counts(entry.get("da4ml"))),
        )
        for entry in firmware.get("algorithms") or []
        if isinstance(entry, dict)
    ]
    rows.append(
        (
            "<strong>top module</strong>",
            _e(firmware.get("top_module")),
            _e(_number(firmware.get("latency_cycles"))),
            _e(_number(firmware.get("latency_ns"))),
            _e(_number(firmware.get("ii"))),
            _e(_counts((firmware.get("total") or {}).get("yosys"))),
            "",
        )
    )
    intro = (
        f"<p>Seed timing taken from the firmware in <code>{_e(firmware.get('directory'))}"
        f"</code> (clock {_e(_number(firmware.get('clock_mhz')))} MHz, content hash "
        f"<code>{_e(str(firmware.get('content_hash') or '')[:12])}</code>); resources from "
        "open synthesis (yosys synth_xilinx) beside da4ml's estimate.</p>"
    )
    headers = [
        "algorithm",
        "kind",
        "latency [cycles]",
        "latency [ns]",
        "II",
        "yosys LUT / FF / DSP",
        "da4ml LUT / FF / DSP",
    ]
    return "<h2 id='firmware'>Firmware</h2>" + intro + _table(headers, rows, {2, 3, 4})


def render_html(summary: Summary, plots: Sequence[Plot]) -> str:
    """The whole report as one HTML string with the plots inlined."""
    title = "l1sim trigger report"
    meta = " · ".join(
        _e(part)
        for part in (
            f"l1sim {summary.get('l1sim_version', '')}".strip(),
            summary.get("created"),
            summary.get("command"),
        )
        if part
    )
    figures = "".join(
        f'<figure id="{_e(plot.filename.removesuffix(".png"))}"><h3>{_e(plot.title)}</h3>'
        f'<img alt="{_e(plot.title)}" src="data:image/png;base64,'
        f'{base64.b64encode(plot.png).decode("ascii")}">'
        f"<figcaption>{_e(plot.caption)}</figcaption></figure>"
        for plot in plots
    )
    nav = "".join(
        f'<a href="#{target}">{label}</a>'
        for target, label in (
            ("run", "Run"),
            ("rates", "Rates"),
            ("pileup", "Pile-up"),
            ("signals", "Signals"),
            ("timing", "Timing"),
            *((("firmware", "Firmware"),) if isinstance(summary.get("firmware"), dict) else ()),
            ("plots", "Plots"),
        )
    )
    sections = [
        f"<h1>{title}</h1><p class='meta'>{meta}</p><nav>{nav}</nav>",
        _cards(summary),
        "<h2 id='run'>Run</h2>",
        _run_table(summary),
        _dropped_table(summary),
        "<h2 id='rates'>Rates</h2>",
        _bias_note(summary),
        _rates_table(summary),
        _target_table(summary),
        _overlap_table(summary),
        "<h2 id='pileup'>Rate versus pile-up</h2>",
        _pileup_table(summary) or "<p>No pile-up information in the input.</p>",
        _signals_table(summary),
        "<h2 id='timing'>Timing</h2>",
        _timing_table(summary) or "<p>No timing information.</p>",
        _firmware_table(summary),
        "<h2 id='plots'>Plots</h2>",
        figures or "<p>No plots.</p>",
    ]
    body = "\n".join(part for part in sections if part)
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{title}</title><style>{_STYLE}</style></head>\n<body>\n{body}\n</body></html>\n"
    )
