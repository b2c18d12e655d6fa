"""The offline comparison and its reports, without a simulator.

"Recorded" outputs are made from the expected ones (:func:`expected_outputs`) and
then corrupted on purpose: one bit on one BX, a whole-cycle shift (early and late),
a score off by one LSB, an unknown (x) value. Each must be reported exactly where it
was made, with the right values and differing bits; the untouched outputs agree.
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import streams
from cosim._bench._files import PortTrace
from cosim._report import html_report, junit_report, text_report, write_reports
from cosim._stimulus import Stimulus, expected_outputs, make_stimulus, output_delay
from cosim.compare import AgreementReport, CheckGroup, compare_rtl, compare_values
from emulator.fixed import FixedType
from emulator.plan import build_plan
from firmware._manifest import Manifest
from streams.timeline import place

sys.path.insert(0, str(Path(__file__).parent))
from _small_design import small_manifest, small_menu


@pytest.fixture(scope="module")
def manifest() -> Manifest:
    return small_manifest()


@pytest.fixture(scope="module")
def stimulus(manifest: Manifest) -> Stimulus:
    source = streams.open("synthetic:background?n=6000&seed=11")
    return make_stimulus(place(source, max_bx=4000), build_plan(small_menu()), manifest)


def _traces(words: dict[str, np.ndarray], manifest: Manifest) -> dict[str, PortTrace]:
    widths = {p.name: p.width for p in manifest.ports}
    return {
        name: PortTrace(name, widths[name], w.copy(), np.zeros(w.shape[0], np.bool_))
        for name, w in words.items()
    }


def _report(
    stimulus: Stimulus, traces: dict[str, PortTrace], manifest: Manifest
) -> AgreementReport:
    return AgreementReport("test", compare_rtl(stimulus, traces, manifest), {"bx": len(stimulus)})


def test_expected_outputs_agree_everywhere(stimulus: Stimulus, manifest: Manifest) -> None:
    traces = _traces(expected_outputs(stimulus, manifest), manifest)
    report = _report(stimulus, traces, manifest)
    assert report.agrees, text_report(report)
    names = [c.name for c in report.checks]
    for seed in small_menu().seed_names:
        assert {f"decision/{seed}", f"prescaled/{seed}"} <= set(names)
    assert {"score/L1_HTT250", "score/L1_ETM25", "latency", "l1a", "final_or"} <= set(names)
    assert "score/L1_SingleMu22" not in names  # no score port for it
    assert all(c.compared > 0 for c in report.checks)
    # the stimulus exercises the outputs: every seed fires somewhere, some accept is vetoed
    exp = stimulus.expected
    assert exp.fired.any(axis=0).all()
    assert (exp.final_or & ~exp.l1a).any()


def test_one_bit_on_one_bx(stimulus: Stimulus, manifest: Manifest) -> None:
    words = expected_outputs(stimulus, manifest)
    delay = output_delay(manifest)
    row = int(np.flatnonzero(stimulus.expected.fired[:, 1])[0])
    words["decision"][row + delay, 0] ^= np.uint64(1 << 1)  # L1_HTT250 is field 1
    report = _report(stimulus, _traces(words, manifest), manifest)
    assert [c.name for c in report.failed] == ["decision/L1_HTT250"]
    check = report.check("decision/L1_HTT250")
    assert check.mismatches == 1
    first = check.first
    assert first is not None
    assert (first.row, first.cycle) == (row, row + delay)
    assert (first.expected, first.got, first.diff_bits) == (("1",), ("0",), (0,))
    assert (first.orbit, first.bx) == (int(stimulus.orbit[row]), int(stimulus.bx[row]))
    assert first.event_id == int(stimulus.event_id[row]) >= 0
    ports = {"in_muon", "in_jet", "in_met"}
    assert set(first.inputs) == {"valid", "colliding"} | ports | {f"{p} values" for p in ports}
    # the decoded jets are the emulator's slots: the first jet's raw pT, as a value too
    pt0 = int(stimulus.words["in_jet"][row, 0]) & 0x3FFF
    assert first.inputs["in_jet values"].startswith(f"#0 pt={pt0} ({pt0 * 0.25:g}) eta=")
    assert report.exit_code == 1


@pytest.mark.parametrize("shift", [1, -1])
def test_a_cycle_early_or_late_is_a_failure(
    stimulus: Stimulus, manifest: Manifest, shift: int
) -> None:
    words = expected_outputs(stimulus, manifest)
    moved = {}
    for name, w in words.items():
        m = np.zeros_like(w)
        if shift > 0:
            m[shift:] = w[:-shift]
        else:
            m[:shift] = w[-shift:]
        moved[name] = m
    report = _report(stimulus, _traces(moved, manifest), manifest)
    latency = report.check("latency")
    assert not latency.agrees
    assert latency.first is not None
    # late: BX 0's outputs are missing when due; early: they arrive one cycle before
    assert latency.first.row == (0 if shift == 1 else -1)
    assert not report.check("out_bx").agrees
    assert not report.check("decision/L1_SingleMu22").agrees


def test_score_off_by_one_lsb_shows_values(stimulus: Stimulus, manifest: Manifest) -> None:
    words = expected_outputs(stimulus, manifest)
    delay = output_delay(manifest)
    rows = np.flatnonzero(stimulus.valid)
    row = int(rows[10])
    words["score_L1_ETM25"][row + delay, 0] += np.uint64(1)
    report = _report(stimulus, _traces(words, manifest), manifest)
    assert [c.name for c in report.failed] == ["score/L1_ETM25"]
    first = report.check("score/L1_ETM25").first
    assert first is not None
    assert first.row == row
    raw = int(stimulus.expected.scores[row, 2])
    assert first.expected == (f"{raw:04x}",)
    assert first.got == (f"{raw + 1:04x}",)
    assert first.expected_values == (f"{raw} ({raw * 0.25:.10g})",)
    assert first.diff_bits == tuple(b for b in range(16) if (raw ^ (raw + 1)) >> b & 1)


def test_unknown_values_never_agree(stimulus: Stimulus, manifest: Manifest) -> None:
    traces = _traces(expected_outputs(stimulus, manifest), manifest)
    delay = output_delay(manifest)
    traces["l1a"].unknown[50 + delay] = True
    report = _report(stimulus, traces, manifest)
    first = report.check("l1a").first
    assert first is not None
    assert first.row == 50
    assert first.got_values == ("unknown (x)",)


def test_too_few_cycles_is_an_error(stimulus: Stimulus, manifest: Manifest) -> None:
    words = {k: w[:-1] for k, w in expected_outputs(stimulus, manifest).items()}
    with pytest.raises(ValueError, match="needed"):
        compare_rtl(stimulus, _traces(words, manifest), manifest)


def test_compare_values_vectors_and_signed() -> None:
    fixed = FixedType.parse("ap_fixed<8,3>")
    expected = np.array([[1, -2], [3, -4], [5, 6]])
    got = expected.copy()
    got[1, 1] = -5
    check = compare_values("hls/x", CheckGroup.HLS, "hls/x", fixed, expected, got,
                           np.array([7, 9, 11]))  # fmt: skip
    assert (check.compared, check.mismatches, check.rows) == (3, 1, (9,))
    assert check.first is not None
    assert check.first.expected == ("03", "fc")
    assert check.first.got == ("03", "fb")
    assert check.first.got_values[1] == f"-5 ({-5 / 32:.10g})"
    # a -1 and an all-ones field are the same bit pattern
    same = compare_values("s", CheckGroup.RTL, "s", fixed, np.array([-1]), np.array([255]),
                          np.array([0]))  # fmt: skip
    assert same.agrees


def test_writers(stimulus: Stimulus, manifest: Manifest, tmp_path: Path) -> None:
    words = expected_outputs(stimulus, manifest)
    delay = output_delay(manifest)
    words["l1a"][delay + 100, 0] ^= np.uint64(1)
    report = _report(stimulus, _traces(words, manifest), manifest)
    report.notes.append("a <note> & more")
    text = text_report(report)
    assert "test: MISMATCH" in text
    assert "FAIL rtl      l1a" in text
    assert "first at BX row 100" in text
    paths = write_reports(report, tmp_path)
    data = json.loads(paths["json"].read_text())
    assert data["agrees"] is False
    assert data["exit_code"] == 1
    failed = [c for c in data["checks"] if not c["agrees"]]
    assert [c["name"] for c in failed] == ["l1a"]
    assert failed[0]["first"]["row"] == 100
    suite = ET.fromstring(junit_report(report).split("\n", 1)[1])
    assert suite.get("tests") == str(len(report.checks))
    assert suite.get("failures") == "1"
    cases = suite.findall("testcase")
    assert len(cases) == len(report.checks)
    failing = [c for c in cases if c.find("failure") is not None]
    assert [c.get("name") for c in failing] == ["l1a"]
    page = html_report(report)
    assert page.startswith("<!DOCTYPE html>")
    assert "1 output(s) disagree" in page
    assert "a &lt;note&gt; &amp; more" in page
    assert "<script" not in page
    assert "http" not in page
    assert paths["text"].read_text() == text
    assert paths["html"].read_text() == page


def test_icarus_copies_drop_only_conditional_attributes(tmp_path: Path) -> None:
    from cosim._bench import DutSpec, Port
    from cosim._check import icarus_compatible

    lut = tmp_path / "lookup_table.v"
    body = "  reg [7:0] rom [0:15];\n"
    lut.write_text('module lookup_table;\n  (* rom_style = (8 <= 999) ? "distributed" : "block" *)\n'
                   + body + "endmodule\n")  # fmt: skip
    plain = tmp_path / "top.v"
    plain.write_text('module top;\n  (* keep = "true" *) wire a;\nendmodule\n')
    spec = DutSpec("top", (plain, lut), (Port("x", 1),), (Port("y", 1),))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    fixed = icarus_compatible(spec, scratch)
    assert fixed.sources[0] == plain  # no conditional attribute: used as it is
    assert fixed.sources[1] == scratch / "lookup_table.v"
    assert fixed.sources[1].read_text() == "module lookup_table;\n  \n" + body + "endmodule\n"
    assert "rom_style" in lut.read_text()  # the firmware's file is never touched


def test_a_bx_is_labelled_by_has_event_not_by_the_id_sign(
    stimulus: Stimulus, manifest: Manifest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A negative event id is a real id (``EventBatch.has_event``): the report shows it,
    and a record without an event says so whatever its id."""
    delay = output_delay(manifest)
    with_event, without = (int(r) for r in np.flatnonzero(stimulus.valid)[:2])
    flags = stimulus.valid.copy()
    flags[without] = False
    monkeypatch.setattr(stimulus, "event_id", np.where(stimulus.valid, -7, -1))
    monkeypatch.setattr(stimulus, "has_event", flags, raising=False)
    for row, label in ((with_event, ", event -7), output cycle"), (without, ", no event)")):
        words = expected_outputs(stimulus, manifest)
        words["l1a"][row + delay, 0] ^= np.uint64(1)
        report = _report(stimulus, _traces(words, manifest), manifest)
        first = report.check("l1a").first
        assert first is not None
        assert (first.row, first.event_id, first.has_event) == (row, -7, row == with_event)
        assert f"BX row {row} (orbit {first.orbit}, BX {first.bx}{label}" in text_report(report)
        checks = json.loads(json.dumps(report.to_dict()))["checks"]
        assert [c["first"]["has_event"] for c in checks if c["name"] == "l1a"] == [
            row == with_event
        ]
