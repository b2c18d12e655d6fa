"""The generated top module: lint-clean, compiles, deterministic, and right BX for BX.

A small menu of three seeds is traced with da4ml (an HT datapath pipelined over
several stages, holding two seeds and a score, and a combinational MET datapath),
put into a top module and simulated in Icarus Verilog. The references are the real
ones: da4ml's interpreter for each seed's decision and score, ``emulator.rules``
for the prescale counters and trigger rules; the top must reproduce them after
exactly ``design.latency`` clock cycles.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from emulator.fixed import FixedType
from emulator.rules import CMS_RULES, PrescaleState, TriggerRuleState
from firmware._design import (
    SEQUENTIAL_STAGES,
    DatapathInput,
    DatapathOutput,
    DatapathSpec,
    OutputRole,
    Port,
    SeedSpec,
    TopDesign,
    build_top,
    object_port,
)
from firmware._errors import FirmwareError
from firmware._tools import (
    find_iverilog,
    find_verilator,
    iverilog_compile,
    run_vvp,
    verilator_lint,
)
from firmware.hdl import WAIVERS, render_top, template_file, write_verilog

da4ml_trace = pytest.importorskip("da4ml.trace")
da4ml_ops = pytest.importorskip("da4ml.trace.ops")
da4ml_codegen = pytest.importorskip("da4ml.codegen")
from firmware.hdl._da4ml import datapath_spec

PT = FixedType.parse("ap_ufixed<14,12>")
ETA = FixedType.parse("ap_int<12>")
PHI = FixedType.parse("ap_int<11>")
QUALITY = FixedType.parse("ap_uint<4>")
SUM = FixedType.parse("ap_ufixed<16,14>")
BIT = FixedType(1, 1, signed=False)
N_JETS = 3
N_BX = 3000


def _have(finder: Callable[[], object]) -> bool:
    try:
        finder()
    except FirmwareError:
        return False
    return True


needs_icarus = pytest.mark.skipif(not _have(find_iverilog), reason="Icarus Verilog not installed")
needs_verilator = pytest.mark.skipif(not _have(find_verilator), reason="Verilator not installed")


def _ports() -> list[Port]:
    element = [("pt", PT), ("eta", ETA), ("phi", PHI), ("quality", QUALITY)]
    return [
        object_port("in_jet", N_JETS, element, "jets sorted by pT"),
        object_port("in_met", 1, [("pt", PT), ("phi", PHI)], "event MET"),
    ]


class Menu:
    """The traced datapaths, their RTL directories and the top design."""

    def __init__(self, root: Path) -> None:
        trace, ops, codegen = da4ml_trace, da4ml_ops, da4ml_codegen
        # HT of the jets with eta >= -100 counts: two thresholds and the score
        x = trace.FixedVariableArrayInput(2 * N_JETS)
        pt = ops.quantize(x[:N_JETS], 0, 12, 2)
        eta = ops.quantize(x[N_JETS:], 1, 11, 0)
        ht = pt[0] * (eta[0] >= -100) + pt[1] * (eta[1] >= -100) + pt[2] * (eta[2] >= -100)
        ht = ops.quantize(ht, 0, 14, 2, "SAT")
        self.ht = trace.comb_trace(x, np.array([ht >= 250.0, ht >= 400.0, ht]))
        pipe = trace.to_pipeline(self.ht, 1.0, verbose=False)
        codegen.VerilogModel(pipe, "dp_ht", root / "dp_ht", latency_cutoff=1.0).write()
        self.ht_latency = len(pipe.solutions)
        fields = [("in_jet", f"pt[{i}]", PT) for i in range(N_JETS)]
        fields += [("in_jet", f"eta[{i}]", ETA) for i in range(N_JETS)]
        ht_spec = datapath_spec(
            "dp_ht",
            pipe,
            self.ht_latency,
            fields,
            [
                ("HT250", OutputRole.DECISION, BIT),
                ("HT400", OutputRole.DECISION, BIT),
                ("HT250", OutputRole.SCORE, SUM),
            ],
        )
        # MET >= 120 GeV, combinational
        y = trace.FixedVariableArrayInput(1)
        met = ops.quantize(y, 0, 12, 2)
        self.met = trace.comb_trace(y, np.array([met[0] >= 120.0]))
        codegen.VerilogModel(self.met, "dp_met", root / "dp_met").write()
        met_spec = datapath_spec(
            "dp_met", self.met, 0, [("in_met", "pt[0]", PT)], [("ETM120", OutputRole.DECISION, BIT)]
        )
        self.specs: list[DatapathSpec] = [ht_spec, met_spec]
        self.seeds = [
            SeedSpec("HT250", 150),
            SeedSpec("HT400", 250, masked=True),
            SeedSpec("ETM120", 100),
        ]
        self.design = build_top("menu_top", _ports(), self.specs, self.seeds, CMS_RULES)
        self.rtl = write_verilog(self.design, root / "rtl")
        static = sorted((root / "dp_ht" / "src" / "static").glob("*.v"))
        ours = [p for d in ("dp_ht", "dp_met") for p in sorted((root / d / "src").glob("*.v"))]
        self.files = [*self.rtl, *ours, *static]


@pytest.fixture(scope="module")
def menu(tmp_path_factory: pytest.TempPathFactory) -> Menu:
    return Menu(tmp_path_factory.mktemp("top"))


def test_latency_is_slowest_datapath_plus_three(menu: Menu) -> None:
    assert menu.ht_latency >= 2  # the test needs a really pipelined datapath
    assert menu.design.latency == menu.ht_latency + SEQUENTIAL_STAGES
    assert menu.design.ii == 1
    assert menu.design.seeds == ("HT250", "HT400", "ETM120")
    decision = menu.design.port("decision")
    assert [(f.name, f.lsb) for f in decision.fields] == [("HT250", 0), ("HT400", 1), ("ETM120", 2)]
    assert menu.design.port("score_HT250").width == SUM.width
    jet = menu.design.port("in_jet")
    assert jet.width == N_JETS * 41
    assert (jet.field("eta[1]").lsb, jet.field("eta[1]").width) == (41 + 14, 12)


@pytest.mark.sim
@needs_verilator
def test_top_lints_clean(menu: Menu, tmp_path: Path) -> None:
    waivers = tmp_path / WAIVERS
    waivers.write_text(template_file(WAIVERS).read_text(encoding="utf-8"))
    verilator_lint(menu.files, top="menu_top", waivers=[waivers])


@pytest.mark.sim
@needs_icarus
def test_top_compiles_with_icarus(menu: Menu, tmp_path: Path) -> None:
    assert iverilog_compile(menu.files, tmp_path / "top.vvp", top="menu_top").is_file()


def test_generation_is_deterministic(menu: Menu, tmp_path: Path) -> None:
    again = build_top("menu_top", _ports(), menu.specs, menu.seeds, CMS_RULES)
    assert again == menu.design
    files = write_verilog(again, tmp_path / "rtl")
    assert [p.name for p in files] == [p.name for p in menu.rtl]
    for ours, theirs in zip(files, menu.rtl, strict=True):
        assert ours.read_bytes() == theirs.read_bytes()
    assert render_top(again) == render_top(menu.design)


def test_design_errors_name_the_seed(menu: Menu) -> None:
    seeds = [*menu.seeds, SeedSpec("Orphan")]
    with pytest.raises(FirmwareError, match="'Orphan'"):
        build_top("menu_top", _ports(), menu.specs, seeds, CMS_RULES)
    with pytest.raises(FirmwareError, match="unknown seeds \\['ETM120'\\]"):
        build_top("menu_top", _ports(), menu.specs, menu.seeds[:2], CMS_RULES)
    with pytest.raises(FirmwareError, match="in_\\*"):
        build_top("menu_top", [object_port("jets", 1, [("pt", PT)])], [], menu.seeds, CMS_RULES)


# ------------------------------------------------------------------ simulation


def _stimulus(rng: np.random.Generator) -> dict[str, NDArray[np.int64]]:
    """Raw hardware integers per BX: jets (pT, η, φ, quality), MET, strobes."""
    n = N_BX
    return {
        "pt": rng.integers(0, 4 * 200, (n, N_JETS)),
        "eta": rng.integers(-400, 400, (n, N_JETS)),
        "phi": rng.integers(-720, 720, (n, N_JETS)),
        "quality": rng.integers(0, 16, (n, N_JETS)),
        "met": rng.integers(0, 4 * 240, n),
        "met_phi": rng.integers(-720, 720, n),
        "valid": (rng.random(n) < 0.9).astype(np.int64),
        "colliding": (rng.random(n) < 0.7).astype(np.int64),
    }


def _pack(design: TopDesign, port: str, values: dict[str, NDArray[np.int64]]) -> list[int]:
    """Python ints of one input port per BX from per-field raw arrays."""
    layout = design.port(port)
    words = [0] * N_BX
    for name, raw in values.items():
        f = layout.field(name)
        mask = (1 << f.width) - 1
        for t, v in enumerate(raw.tolist()):
            words[t] |= (int(v) & mask) << f.lsb
    return words


OUTPUTS = ("out_valid", "out_colliding", "out_bx", "out_orbit", "decision", "prescaled")
OUTPUTS += ("final_or", "l1a", "dead", "score_HT250")


def _run_top(menu: Menu, tmp_path: Path, s: dict[str, NDArray[np.int64]]) -> dict[str, list[int]]:
    design = menu.design
    jet_fields: dict[str, NDArray[np.int64]] = {}
    for name in ("pt", "eta", "phi", "quality"):
        for i in range(N_JETS):
            jet_fields[f"{name}[{i}]"] = s[name][:, i]
    jet = _pack(design, "in_jet", jet_fields)
    met = _pack(design, "in_met", {"pt[0]": s["met"], "phi[0]": s["met_phi"]})
    w_jet, w_met = design.port("in_jet").width, design.port("in_met").width
    width = w_jet + w_met + 2
    # latency cycles of invalid BX at the end flush the pipeline
    words = [
        j | (m << w_jet) | (int(v) << (w_jet + w_met)) | (int(c) << (w_jet + w_met + 1))
        for j, m, v, c in zip(jet, met, s["valid"], s["colliding"], strict=True)
    ] + [0] * design.latency
    (tmp_path / "stim.hex").write_text("".join(f"{w:x}\n" for w in words))
    outs = ", ".join(OUTPUTS)
    fmt = " ".join(["%h"] * len(OUTPUTS))
    pins = ", ".join(f".{p.name}({p.name})" for p in design.ports)
    decls = "\n".join(
        f"    wire [{p.width - 1}:0] {p.name};" for p in design.ports if p.direction == "output"
    )
    bench = tmp_path / "bench.v"
    bench.write_text(
        f"""`timescale 1 ns / 1 ps
module bench;
    reg clk = 1'b0;
    reg rst = 1'b1;
    reg [{width - 1}:0] stim [0:{len(words) - 1}];
    reg [{width - 1}:0] word = {width}'d0;
    wire [{w_jet - 1}:0] in_jet = word[{w_jet - 1}:0];
    wire [{w_met - 1}:0] in_met = word[{w_jet + w_met - 1}:{w_jet}];
    wire valid = word[{w_jet + w_met}];
    wire colliding = word[{w_jet + w_met + 1}];
{decls}
    integer t, fd;
    menu_top dut ({pins});
    initial begin
        $readmemh("stim.hex", stim);
        fd = $fopen("out.txt", "w");
        #1 clk = 1'b1; #1 clk = 1'b0; #1 clk = 1'b1; #1 clk = 1'b0;
        rst = 1'b0;
        for (t = 0; t < {len(words)}; t = t + 1) begin
            word = stim[t];
            #1 clk = 1'b1;
            #1 $fwrite(fd, "{fmt}\\n", {outs});
            clk = 1'b0;
        end
        $fclose(fd);
        $finish;
    end
endmodule
"""
    )
    program = iverilog_compile([*menu.files, bench], tmp_path / "bench.vvp", top="bench")
    run_vvp(program, cwd=tmp_path)
    rows = [line.split() for line in (tmp_path / "out.txt").read_text().splitlines()]
    # the BX driven before edge t is on the outputs after edge t + latency
    rows = rows[design.latency :]
    assert len(rows) == N_BX
    return {name: [int(r[i], 16) for r in rows] for i, name in enumerate(OUTPUTS)}


def _bits(values: list[int], n: int) -> NDArray[np.bool_]:
    return ((np.array(values, np.int64)[:, None] >> np.arange(n)) & 1).astype(np.bool_)


@pytest.mark.sim
@pytest.mark.slow
@needs_icarus
def test_top_matches_da4ml_and_emulator_bx_by_bx(menu: Menu, tmp_path: Path) -> None:
    s = _stimulus(np.random.default_rng(240))
    hw: dict[str, Any] = _run_top(menu, tmp_path, s)
    valid = s["valid"].astype(np.bool_)

    # the references: da4ml's interpreter on the same raw integers ...
    x = np.concatenate([s["pt"] * PT.lsb, s["eta"].astype(np.float64)], axis=1)
    ht_out = menu.ht.predict(x)
    met_out = menu.met.predict((s["met"] * PT.lsb)[:, None])
    fired = np.stack([ht_out[:, 0], ht_out[:, 1], met_out[:, 0]], axis=1) > 0
    score = np.round(ht_out[:, 2] / SUM.lsb).astype(np.int64)
    # ... and emulator.rules on the BX records (valid BX), numbered with their gaps
    prescaled = PrescaleState([s.prescale_x100 / 100 for s in menu.seeds]).apply(fired[valid])
    unmasked = np.array([not s.masked for s in menu.seeds])
    final_or = (prescaled & unmasked).any(axis=1)
    l1a, dead = TriggerRuleState(CMS_RULES).apply(np.flatnonzero(valid).astype(np.int64), final_or)

    n = len(menu.seeds)
    np.testing.assert_array_equal(hw["out_valid"], s["valid"])
    np.testing.assert_array_equal(hw["out_colliding"], s["colliding"])
    np.testing.assert_array_equal(hw["out_bx"], np.arange(N_BX) % 3564)
    np.testing.assert_array_equal(hw["out_orbit"], np.arange(N_BX) // 3564)
    np.testing.assert_array_equal(_bits(hw["decision"], n)[valid], fired[valid])
    assert not _bits(hw["decision"], n)[~valid].any()
    np.testing.assert_array_equal(np.array(hw["score_HT250"]), score)
    np.testing.assert_array_equal(_bits(hw["prescaled"], n)[valid], prescaled)
    np.testing.assert_array_equal(np.array(hw["final_or"], bool)[valid], final_or)
    np.testing.assert_array_equal(np.array(hw["l1a"], bool)[valid], l1a)
    np.testing.assert_array_equal(np.array(hw["dead"], bool)[valid], dead)
    assert not np.array(hw["l1a"], bool)[~valid].any()
    # the stimulus exercises everything: prescales remove BX, rules veto, seeds differ
    assert (fired[valid] & ~prescaled)[:, :2].any(axis=0).all()
    assert (fired[valid] != fired[valid][:, :1]).any(axis=0)[1:].all()
    assert (final_or & dead).any()
    assert l1a.any()


STUB = """`timescale 1 ns / 1 ps

// stub_wrapper: stands in for a da4ml module with narrow slots (lint only)
module stub_wrapper (
    input wire clk,
    input wire [15:0] model_inp,
    output reg [11:0] model_out
);
    always @(posedge clk) model_out <= model_inp[11:0] ^ {8'd0, model_inp[15:12]};
endmodule
"""


@pytest.mark.sim
@needs_verilator
def test_narrow_and_shifted_slots_lint_clean(tmp_path: Path) -> None:
    """Fields wider than a slot, negative shifts and extended outputs give width-exact HDL."""
    signed_sum = FixedType.parse("ap_fixed<16,14>")
    spec = DatapathSpec(
        name="dp_stub",
        module="stub_wrapper",
        latency=1,
        inp_slot_width=8,
        n_inp=2,
        inputs=(
            DatapathInput(0, "in_jet", "pt[0]", shift=-2),  # drops the 2 fraction bits
            DatapathInput(1, "in_jet", "eta[0]", shift=1),  # 12 bits into 7: truncated
        ),
        out_slot_width=6,
        n_out=2,
        outputs=(
            DatapathOutput(0, "A", OutputRole.DECISION, shift=3),
            DatapathOutput(1, "A", OutputRole.SCORE, shift=-2, type=signed_sum),
        ),
    )
    design = build_top("stub_top", _ports(), [spec], [SeedSpec("A")], CMS_RULES)
    text = render_top(design)
    assert "assign u_dp_stub_inp[7:0] = in_jet[9:2];" in text
    assert "assign u_dp_stub_inp[15:8] = {in_jet[20:14], 1'b0};" in text
    assert "assign dp_stub_score_1 = {{8{u_dp_stub_out[11]}}, u_dp_stub_out[11:6], 2'b0};" in text
    files = write_verilog(design, tmp_path)
    stub = tmp_path / "stub_wrapper.v"
    stub.write_text(STUB)
    waivers = tmp_path / WAIVERS
    waivers.write_text(template_file(WAIVERS).read_text(encoding="utf-8"))
    verilator_lint([*files, stub], top="stub_top", waivers=[waivers])
