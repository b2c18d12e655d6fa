"""Writers of an :class:`~cosim.compare.AgreementReport`: text, JSON, JUnit XML and HTML.

* text: what ``l1sim cosim`` prints; one line per output, then per failing output its
  first mismatching BX (inputs, expected, got, differing bits);
* JSON: :meth:`AgreementReport.to_dict`, for scripts;
* JUnit XML: one ``testcase`` per output (``classname`` = rtl / hls / patterns), a
  ``failure`` element with the first mismatch, for CI systems;
* HTML: one self-contained page (inline CSS, no script, no external file) with a
  summary, a table of every output and a card per failing output.

:func:`write_reports` writes all four into a directory, each through a temporary
file renamed into place.
"""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from cosim.compare import AgreementReport, Mismatch, OutputCheck
from streams import atomic_output

__all__ = [
    "REPORT_FILES",
    "html_report",
    "json_report",
    "junit_report",
    "text_report",
    "write_reports",
]

#: File names written by :func:`write_reports`.
REPORT_FILES = {
    "text": "cosim.txt",
    "json": "cosim.json",
    "junit": "cosim-junit.xml",
    "html": "cosim.html",
}


def _where(m: Mismatch) -> str:
    if m.row < 0:
        return f"cycle {m.cycle} after reset, {-m.row} cycle(s) before the first BX was due"
    label = f"BX row {m.row} (orbit {m.orbit}, BX {m.bx}"
    label += f", event {m.event_id})" if m.has_event else ", no event)"
    return f"{label}, output cycle {m.cycle}"


def _mismatch_lines(check: OutputCheck) -> list[str]:
    m = check.first
    if m is None:
        return [f"  {check.name}: nothing compared"] if check.compared == 0 else []
    lines = [
        (
            f"  {check.name} ({check.source}, {check.type}): {check.mismatches} of "
            f"{check.compared} BX differ; first at {_where(m)}"
        ),
        f"    expected  0x{' 0x'.join(m.expected)} = {', '.join(m.expected_values)}",
        f"    got       0x{' 0x'.join(m.got)} = {', '.join(m.got_values)}",
        f"    differing bits {list(m.diff_bits)}",
    ]
    if m.inputs:
        raw = {k: v for k, v in m.inputs.items() if not k.endswith(" values")}
        inputs = ", ".join(f"{k}=0x{v}" if k.startswith("in_") else f"{k}={v}"
                           for k, v in raw.items())  # fmt: skip
        lines.append(f"    inputs    {inputs}")
        lines += [f"      {k}: {v}" for k, v in m.inputs.items() if k.endswith(" values")]
    if len(check.rows) > 1:
        more = "" if check.mismatches <= len(check.rows) else ", ..."
        lines.append(f"    mismatching rows {', '.join(map(str, check.rows))}{more}")
    return lines


def text_report(report: AgreementReport) -> str:
    """The plain-text report (what the command line prints)."""
    verdict = "AGREE" if report.agrees else "MISMATCH"
    lines = [f"{report.title}: {verdict}"]
    lines += [f"  {k}: {v}" for k, v in report.meta.items()]
    width = max((len(c.name) for c in report.checks), default=10)
    lines.append("")
    for c in report.checks:
        status = "ok  " if c.agrees else "FAIL"
        first = "" if c.first is None else f", first at row {c.first.row}"
        lines.append(
            f"{status} {c.group:<8} {c.name:<{width}}  {c.mismatches:>8} / {c.compared:<8}"
            f" mismatching{first}"
        )
    failed = report.failed
    if failed:
        lines += ["", "mismatches:"]
        for c in failed:
            lines += _mismatch_lines(c)
    if report.notes:
        lines += ["", "notes:"] + [f"  {n}" for n in report.notes]
    return "\n".join(lines) + "\n"


def json_report(report: AgreementReport) -> str:
    """The JSON report (indented, key order kept)."""
    return json.dumps(report.to_dict(), indent=2, default=str) + "\n"


def junit_report(report: AgreementReport) -> str:
    """JUnit XML: one testsuite, one testcase per output."""
    suite = ET.Element(
        "testsuite",
        name=report.title,
        tests=str(len(report.checks)),
        failures=str(len(report.failed)),
        errors="0",
        skipped="0",
    )
    properties = ET.SubElement(suite, "properties")
    for k, v in report.meta.items():
        ET.SubElement(properties, "property", name=str(k), value=str(v))
    for c in report.checks:
        case = ET.SubElement(suite, "testcase", classname=f"cosim.{c.group}", name=c.name)
        if not c.agrees:
            message = (
                "nothing compared"
                if c.first is None
                else f"{c.mismatches} of {c.compared} BX differ; first at {_where(c.first)}"
            )
            failure = ET.SubElement(case, "failure", message=message, type="mismatch")
            failure.text = "\n".join(_mismatch_lines(c))
    if report.notes:
        ET.SubElement(suite, "system-out").text = "\n".join(report.notes)
    ET.indent(suite)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suite, "unicode") + "\n"


_CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
.verdict { display: inline-block; padding: 0.2em 0.8em; border-radius: 4px; color: #fff;
  font-weight: bold; }
.ok { background: #2e7d32; } .bad { background: #c62828; }
table { border-collapse: collapse; margin: 1em 0; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left;
  vertical-align: top; }
th { background: #f4f4f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.fail td { background: #fdecea; }
code, .mono { font-family: ui-monospace, monospace; font-size: 0.92em; }
.card { border: 1px solid #e0b4b4; border-left: 5px solid #c62828; border-radius: 4px;
  padding: 0.6em 1em; margin: 1em 0; }
.card h3 { margin: 0 0 0.4em 0; font-size: 1.1em; }
.meta td:first-child { color: #666; width: 12em; }
.bits { color: #c62828; }
"""


def _e(text: object) -> str:
    return html.escape(str(text))


def _card(c: OutputCheck) -> str:
    m = c.first
    if m is None:
        return f'<div class="card"><h3>{_e(c.name)}</h3><p>nothing compared</p></div>'
    rows = [
        ("where", _e(_where(m))),
        ("expected", f"<code>0x{_e(' 0x'.join(m.expected))}</code> = {_e(', '.join(m.expected_values))}"),
        ("got", f"<code>0x{_e(' 0x'.join(m.got))}</code> = {_e(', '.join(m.got_values))}"),
        ("differing bits", f'<span class="bits mono">{_e(list(m.diff_bits))}</span>'),
        ("mismatching BX", f"{c.mismatches} of {c.compared}"),
    ]  # fmt: skip
    if len(c.rows) > 1:
        rows.append(("first rows", _e(", ".join(map(str, c.rows)))))
    table = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    inputs = "".join(
        f"<tr><td class='mono'>{_e(k)}</td><td class='mono'>{_e(v)}</td></tr>"
        for k, v in m.inputs.items()
    )
    inputs_html = (
        f"<details><summary>inputs of that BX</summary><table>{inputs}</table></details>"
        if inputs
        else ""
    )
    return (
        f'<div class="card"><h3>{_e(c.name)} <small class="mono">{_e(c.source)}, '
        f"{_e(c.type)}</small></h3><table>{table}</table>{inputs_html}</div>"
    )


def html_report(report: AgreementReport) -> str:
    """A self-contained HTML page of the report."""
    verdict = (
        '<span class="verdict ok">all outputs agree</span>'
        if report.agrees
        else f'<span class="verdict bad">{len(report.failed)} output(s) disagree</span>'
    )
    meta = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in report.meta.items())
    body = []
    for c in report.checks:
        first = "" if c.first is None else _e(_where(c.first))
        body.append(
            f'<tr class="{"" if c.agrees else "fail"}"><td>{"✔" if c.agrees else "✘"}</td>'
            f"<td>{_e(c.group)}</td><td>{_e(c.name)}</td><td class='mono'>{_e(c.source)}</td>"
            f"<td class='num'>{c.compared}</td><td class='num'>{c.mismatches}</td>"
            f"<td>{first}</td></tr>"
        )
    cards = "".join(_card(c) for c in report.failed)
    notes = "".join(f"<li>{_e(n)}</li>" for n in report.notes)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{_e(report.title)}</title><style>{_CSS}</style></head>
<body>
<h1>{_e(report.title)}</h1>
<p>{verdict}</p>
<table class="meta">{meta}</table>
{"<h2>Mismatches</h2>" + cards if cards else ""}
<h2>Outputs</h2>
<table><tr><th></th><th>group</th><th>output</th><th>source</th><th>BX compared</th>
<th>mismatching</th><th>first mismatch</th></tr>
{"".join(body)}
</table>
{"<h2>Notes</h2><ul>" + notes + "</ul>" if notes else ""}
</body></html>
"""


def write_reports(report: AgreementReport, directory: Path) -> dict[str, Path]:
    """Write text, JSON, JUnit XML and HTML into ``directory``; returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    writers = {
        "text": text_report,
        "json": json_report,
        "junit": junit_report,
        "html": html_report,
    }
    written = {}
    for kind, render in writers.items():
        path = directory / REPORT_FILES[kind]
        with atomic_output(path) as tmp:
            tmp.write_text(render(report), encoding="utf-8")
        written[kind] = path
    return written
