"""Stimulus packing: hardware slots → port words → back, BX laid on cycles, pattern files.

The reference for what an input word must hold is the emulator's own
:func:`emulator.seeds.hardware_slots` (its quantization and truncation); the words
are unpacked with the manifest's field layout and must give those integers back.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import emulator
import streams
from cosim._bench._files import PortTrace
from cosim._errors import CosimError
from cosim._stimulus import (
    Stimulus,
    expected_outputs,
    expected_patterns,
    extract_field,
    field_ints,
    make_stimulus,
    output_delay,
    pack_fields,
    stimulus_patterns,
    traces_from_patterns,
)
from cosim.compare import compare_rtl
from emulator.fixed import FixedType
from emulator.plan import Field, build_plan
from emulator.seeds import hardware_slots
from firmware._manifest import FieldEntry, Manifest, PortEntry
from streams import patterns
from streams.timeline import BX_PER_ORBIT, FillingScheme, place

sys.path.insert(0, str(Path(__file__).parent))
from _small_design import small_manifest, small_menu


@pytest.fixture(scope="module")
def manifest() -> Manifest:
    return small_manifest()


def _batches(n_bx: int, seed: int = 3, **kwargs: object) -> list[streams.EventBatch]:
    source = streams.open(f"synthetic:background?n={n_bx}&seed={seed}")
    return list(place(source, max_bx=n_bx, **kwargs))  # type: ignore[arg-type]


def test_pack_and_extract_across_word_boundaries() -> None:
    fields = (
        FieldEntry("a", 0, 60, "ap_uint<60>"),
        FieldEntry("b", 60, 11, "ap_int<11>"),  # straddles words 0 and 1
        FieldEntry("c", 95, 40, "ap_uint<40>"),  # straddles words 1 and 2
    )
    port = PortEntry("in_x", "input", 135, fields)
    rng = np.random.default_rng(0)
    a = rng.integers(0, 1 << 60, 50)
    b = rng.integers(-1024, 1024, 50)
    c = rng.integers(0, 1 << 40, 50)
    words = pack_fields(port, {"a": a, "b": b, "c": c}, 50)
    assert words.shape == (50, 3)
    assert np.array_equal(extract_field(words, 0, 60).astype(np.int64), a)
    signed = field_ints(extract_field(words, 60, 11), FixedType.parse("ap_int<11>"))
    assert np.array_equal(signed, b)
    assert np.array_equal(extract_field(words, 95, 40), c.astype(np.uint64))
    total = [int(w0) | int(w1) << 64 | int(w2) << 128 for w0, w1, w2 in words]
    assert total[7] == int(a[7]) | (int(b[7]) & 0x7FF) << 60 | int(c[7]) << 95


def test_pack_refuses_values_that_do_not_fit() -> None:
    port = PortEntry("in_x", "input", 8, (FieldEntry("pt[0]", 0, 8, "ap_uint<8>"),))
    with pytest.raises(CosimError, match=r"'in_x' field 'pt\[0\]': value 256 at row 1"):
        pack_fields(port, {"pt[0]": np.array([3, 256])}, 2)
    with pytest.raises(CosimError, match="no value for field"):
        pack_fields(port, {}, 2)


def test_words_hold_the_emulators_hardware_slots(manifest: Manifest) -> None:
    batches = _batches(5000)
    plan = build_plan(small_menu())
    stimulus = make_stimulus(batches, plan, manifest)
    assert len(stimulus) == 5000
    assert stimulus.valid.all()
    slots = hardware_slots(streams.concat_batches(batches), plan)
    checked = 0
    for port in stimulus.ports:
        for f in port.fields:
            name, slot = f.name.rstrip("]").split("[")
            which = Field[name.upper()]
            if port.name == "in_met":
                want = slots.raw("met", 0, which)
            else:
                want = slots.collections[port.name[3:]].field(which)[:, int(slot)]
            got = field_ints(
                extract_field(stimulus.words[port.name], f.lsb, f.width), FixedType.parse(f.type)
            )
            assert np.array_equal(got, want), (port.name, f.name)
            checked += int(np.count_nonzero(want))
    assert checked > 1000
    # the truncation to the firmware's slots is the emulator's
    assert stimulus.dropped == slots.dropped()
    assert stimulus.dropped["jet"] > 0


def test_placed_stream_starts_at_its_orbit_and_gaps_become_invalid(manifest: Manifest) -> None:
    plan = build_plan(small_menu())
    batches = _batches(2 * BX_PER_ORBIT, first_orbit=7)
    whole = streams.concat_batches(batches)
    keep = np.ones(len(whole), np.bool_)
    keep[100:110] = False  # a gap of 10 BX
    gapped = whole.slice(0, 100), whole.slice(110, len(whole))
    stimulus = make_stimulus(gapped, plan, manifest)
    assert len(stimulus) == len(whole)
    assert np.array_equal(stimulus.valid, keep)
    assert np.array_equal(stimulus.bx, np.arange(len(whole)) % BX_PER_ORBIT)
    assert stimulus.orbit[0] == 7
    assert not stimulus.expected.fired[100:110].any()
    assert not any(w[100:110].any() for w in stimulus.words.values())
    # event identity is the stream's has_event, also for the colliding BX left empty
    assert np.array_equal(stimulus.has_event[keep], whole.has_event[keep])
    assert not stimulus.has_event[100:110].any()
    assert not whole.has_event.all()
    # the expected outputs are emulator.run's on the same records, row for row
    decisions = list(emulator.run(list(gapped), plan))
    l1a = np.concatenate([d.l1a for d in decisions])
    scores = np.concatenate([d.scores for d in decisions])
    assert np.array_equal(stimulus.expected.l1a[keep], l1a)
    assert np.array_equal(stimulus.expected.scores[keep], scores)


def test_unplaced_records_are_consecutive_and_max_bx_cuts(manifest: Manifest) -> None:
    plan = build_plan(small_menu())
    source = streams.open("synthetic:background?n=3000&seed=4")
    stimulus = make_stimulus(source, plan, manifest, max_bx=2500)
    assert len(stimulus) == 2500
    assert stimulus.valid.all()
    assert np.array_equal(stimulus.bx, np.arange(2500))


def test_firmware_of_another_menu_is_a_setup_error(manifest: Manifest) -> None:
    plan = build_plan(small_menu())
    ports = list(manifest.ports)
    at = next(i for i, p in enumerate(ports) if p.name == "in_jet")
    bad_fields = tuple(
        replace(f, type="ap_ufixed<14,11>") if f.name == "pt[2]" else f for f in ports[at].fields
    )
    ports[at] = replace(ports[at], fields=bad_fields)
    with pytest.raises(CosimError, match=r"'in_jet' field 'pt\[2\]' is ap_ufixed<14,11>"):
        make_stimulus(_batches(10), plan, replace(manifest, ports=tuple(ports)))
    at = next(i for i, p in enumerate(ports) if p.name == "decision")
    ports = list(manifest.ports)
    ports[at] = replace(ports[at], fields=tuple(reversed(ports[at].fields)))
    with pytest.raises(CosimError, match="firmware built from another menu"):
        make_stimulus(_batches(10), plan, replace(manifest, ports=tuple(ports)))
    with pytest.raises(CosimError, match="no bunch crossings"):
        make_stimulus([], plan, manifest)


@pytest.fixture(scope="module")
def stimulus(manifest: Manifest) -> Stimulus:
    scheme = FillingScheme.default()
    source = streams.open("synthetic:background?n=3000&seed=8")
    return make_stimulus(place(source, scheme, max_bx=3000), build_plan(small_menu()), manifest)


@pytest.mark.parametrize("fmt", ["empv2", "apx"])
def test_pattern_files_round_trip(
    stimulus: Stimulus, manifest: Manifest, tmp_path: Path, fmt: str
) -> None:
    delay = output_delay(manifest)
    n_cycles = len(stimulus) + delay
    sent = stimulus_patterns(stimulus, manifest)
    expected = expected_patterns(stimulus, manifest)
    assert sent.n_frames == expected.n_frames == n_cycles
    patterns.write(sent, tmp_path / "in.txt", fmt, allow_loss=fmt == "apx")
    patterns.write(expected, tmp_path / "out.txt", fmt, allow_loss=fmt == "apx")
    back_in = patterns.read(tmp_path / "in.txt")
    assert np.array_equal(back_in.data, sent.data)
    # the stimulus frames carry the words of every port and the strobes
    jet_links = (manifest.port("in_jet").width + 63) // 64
    assert np.array_equal(
        back_in.data[: len(stimulus), 3 : 3 + jet_links], stimulus.words["in_jet"]
    )
    assert np.array_equal(back_in.data[: len(stimulus), -1] & np.uint64(1), stimulus.valid)
    captured = patterns.read(tmp_path / "out.txt")
    traces = traces_from_patterns(captured, manifest, "out.txt", n_cycles)
    assert all(c.agrees for c in compare_rtl(stimulus, traces, manifest))
    # a flipped L1A on one frame is found at its BX
    row = int(np.flatnonzero(stimulus.valid)[200])
    l1a_link = [p.name for p in manifest.ports if p.direction == "output"].index("l1a")
    captured.data[row + delay, l1a_link] ^= np.uint64(1)
    checks = compare_rtl(
        stimulus, traces_from_patterns(captured, manifest, "x", n_cycles), manifest
    )
    failed = [c for c in checks if not c.agrees]
    assert [c.name for c in failed] == ["l1a"]
    assert failed[0].first is not None
    assert failed[0].first.row == row


def test_captured_file_with_wrong_shape_is_a_setup_error(
    stimulus: Stimulus, manifest: Manifest
) -> None:
    expected = expected_patterns(stimulus, manifest)
    n_cycles = expected.n_frames
    short = patterns.PatternFile.empty(n_cycles - 1, list(range(expected.n_links)))
    with pytest.raises(CosimError, match="frames"):
        traces_from_patterns(short, manifest, "short.txt", n_cycles)
    narrow = patterns.PatternFile.empty(n_cycles, [0, 1])
    with pytest.raises(CosimError, match="links"):
        traces_from_patterns(narrow, manifest, "narrow.txt", n_cycles)


def test_expected_outputs_layout(stimulus: Stimulus, manifest: Manifest) -> None:
    words = expected_outputs(stimulus, manifest)
    delay = output_delay(manifest)
    assert delay == manifest.latency_cycles + 1
    valid = words["out_valid"][:, 0]
    assert not valid[:delay].any()
    assert np.array_equal(valid[delay:].astype(bool), stimulus.valid)
    trace = PortTrace("decision", 3, words["decision"], np.zeros(len(valid), np.bool_))
    bits = (trace.values()[delay:, None] >> np.arange(3, dtype=np.uint64)) & np.uint64(1)
    assert np.array_equal(bits.astype(bool), stimulus.expected.fired & stimulus.valid[:, None])
