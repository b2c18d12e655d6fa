"""Open-tool resource estimates: yosys synth_xilinx counts and da4ml's own estimate.

The designs are small and written here so the expected counts can be reasoned
about: a two-stage pipelined adder (the design of the runner tests) holds 173
flip-flops and a 71-bit carry chain; a top with two instances of a multiplier
module shows that a module's totals include its submodules.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from firmware._errors import FirmwareError
from firmware._resources import (
    CACHE_ENV,
    CATEGORIES,
    RESOURCES_FORMAT,
    Da4mlEstimate,
    SynthesisUnit,
    _parse_stat,
    da4ml_estimate,
    default_cache_dir,
    read_stat_report,
    resources_document,
    synthesise_units,
    yosys_resources,
)

sys.path.insert(0, str(Path(__file__).parent))
from _adder import ADDER

pytestmark = pytest.mark.sim

needs_yosys = pytest.mark.skipif(shutil.which("yosys") is None, reason="yosys not installed")

HIERARCHY = """\
module scale (input wire clk, input wire [15:0] x, output reg [31:0] y);
    always @(posedge clk) y <= x * 16'd12345;
endmodule
module pair (
    input wire clk, input wire [15:0] p, input wire [15:0] q, output reg [32:0] s
);
    wire [31:0] yp, yq;
    scale u0 (.clk(clk), .x(p), .y(yp));
    scale u1 (.clk(clk), .x(q), .y(yq));
    always @(posedge clk) s <= yp + yq;
endmodule
"""


SCALE = HIERARCHY.split("module pair", maxsplit=1)[0]
#: ``pair`` with ``scale`` as a black box: the top's unit of a split synthesis
PAIR_ALONE = (
    "(* blackbox *)\nmodule scale (input wire clk, input wire [15:0] x, output wire [31:0] y);\n"
    "endmodule\nmodule pair" + HIERARCHY.split("module pair")[1]
)


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


@needs_yosys
@pytest.mark.slow  # synth_xilinx takes a few CPU seconds even here
def test_adder_counts_are_plausible(tmp_path: Path) -> None:
    report = yosys_resources([write(tmp_path, "adder2.v", ADDER)], "adder2")
    total = report.total
    # 70 + 16 input registers, a 71-bit sum, an 8-bit counter and an 8-bit register.
    assert total["ff"] == 70 + 16 + 71 + 8 + 8
    assert total["lut"] > 0
    assert total["carry"] >= 16 // 4  # at least the 16 bits where b_q adds in
    assert total["dsp"] == 0
    assert report.version.startswith("Yosys")
    assert set(total) == set(CATEGORIES)


@needs_yosys
@pytest.mark.slow  # synth_xilinx takes a few CPU seconds even here
def test_module_totals_include_submodule_instances(tmp_path: Path) -> None:
    report = yosys_resources([write(tmp_path, "pair.v", HIERARCHY)], "pair")
    scale, pair = report.modules["scale"], report.modules["pair"]
    assert scale.total["dsp"] == 1
    assert pair.instances == {"scale": 2}
    assert pair.own["dsp"] == 0
    assert report.total == {k: pair.own[k] + 2 * scale.total[k] for k in CATEGORIES}
    assert report.total["dsp"] == 2


@needs_yosys
@pytest.mark.slow  # synth_xilinx takes a few CPU seconds even here
def test_document_merges_yosys_and_da4ml(tmp_path: Path) -> None:
    da4ml_trace = pytest.importorskip("da4ml.trace")
    ops = pytest.importorskip("da4ml.trace.ops")
    x = ops.quantize(da4ml_trace.FixedVariableArrayInput((4,)), 1, 8, 0)
    comb = da4ml_trace.comb_trace(x, x @ np.array([[3, 1], [2, -5], [7, 1], [1, 1]]))
    pipeline = da4ml_trace.to_pipeline(comb, 1.0, verbose=False)
    combinational, pipelined = da4ml_estimate(comb), da4ml_estimate(pipeline)
    assert combinational.lut == comb.cost > 0
    assert combinational == Da4mlEstimate(comb.cost, 0, pipelined=False)
    assert pipelined.pipelined
    assert pipelined.ff == pipeline.reg_bits > 0

    report = yosys_resources([write(tmp_path, "pair.v", HIERARCHY)], "pair")
    document = resources_document(
        report, {"scaled": pipelined, "extra": combinational}, algorithms={"scaled": "scale"}
    )
    assert document["format"] == RESOURCES_FORMAT
    assert document["yosys"]["total"] == report.total
    assert document["algorithms"]["scaled"] == {
        "module": "scale",
        "yosys": report.modules["scale"].total,
        "da4ml": {"lut": round(pipeline.cost), "ff": pipeline.reg_bits, "pipelined": True},
    }
    assert document["algorithms"]["extra"] == {
        "da4ml": {"lut": round(comb.cost), "ff": 0, "pipelined": False}
    }
    json.dumps(document)  # the document is plain JSON

    with pytest.raises(FirmwareError, match="algorithm 'scaled': module 'nope'"):
        resources_document(report, algorithms={"scaled": "nope"})


def test_missing_yosys_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(FirmwareError, match=r"yosys not found.*apt-get install yosys"):
        yosys_resources([write(tmp_path, "adder2.v", ADDER)], "adder2")


@needs_yosys
@pytest.mark.slow  # synth_xilinx takes a few CPU seconds even here
def test_synthesis_error_names_the_top(tmp_path: Path) -> None:
    broken = write(tmp_path, "adder2.v", ADDER.replace("endmodule", ""))
    with pytest.raises(FirmwareError, match="yosys synth_xilinx of 'adder2' failed"):
        yosys_resources([broken], "adder2")


#: A ``stat -json`` report as yosys 0.23 writes it after ``synth_xilinx -top``: the
#: design hierarchy printed as plain text inside the JSON (not valid JSON).
STAT_0_23 = """\
{
   "creator": "Yosys 0.23 (git sha1 7ce5011c24b)",
   "invocation": "stat -json ",
   "modules": {
      "$paramod$03f8\\\\delay_line": {
         "num_cells":         1,
         "num_cells_by_type": {
            "SRLC32E": 1
         }
      },
      "\\\\top": {
         "num_cells":         4,
         "num_cells_by_type": {
            "FDRE": 2,
            "LUT2": 1,
            "$paramod$03f8\\\\delay_line": 2
         }
      }
   },
       top            1
         $paramod$03f8\\delay_line      2
      "design": {
         "num_cells":         4,
         "num_cells_by_type": {
            "FDRE": 2
         }
      }
}
"""


def test_stat_report_of_yosys_0_23_is_read() -> None:
    """The hierarchy text yosys 0.23 puts into its JSON report does not stop the count."""
    with pytest.raises(json.JSONDecodeError):
        json.loads(STAT_0_23)
    report = read_stat_report(STAT_0_23)
    assert report["creator"].startswith("Yosys 0.23")
    resources = _parse_stat(report, "top", "xc7", report["creator"])
    assert resources.modules["top"].instances == {"$paramod$03f8\\delay_line": 2}
    assert resources.total["srl"] == 2
    assert resources.total["ff"] == 2
    assert resources.total["lut"] == 1


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "unreadable report"),
        ("yosys crashed\n", "unreadable report"),
        ('{"modules": {"\\\\top": {"num_cells": 1}}}', "without integer cell counts"),
        ('{"modules": {"\\\\top": {"num_cells_by_type": {"LUT2": "x"}}}}', "integer cell"),
        ('{"modules": []}', "no 'modules' object"),
        ("[1, 2]", "not a JSON object"),
    ],
)
def test_bad_stat_report_is_a_firmware_error(text: str, match: str) -> None:
    with pytest.raises(FirmwareError, match=match):
        _parse_stat(read_stat_report(text), "top", "xc7", "Yosys")


def _units(directory: Path) -> list[SynthesisUnit]:
    return [
        SynthesisUnit("scale", (write(directory, "scale.v", SCALE),), submodule=True),
        SynthesisUnit("pair", (write(directory, "pair_alone.v", PAIR_ALONE),)),
    ]


@needs_yosys
@pytest.mark.slow  # three synth_xilinx runs
def test_split_synthesis_counts_as_one_run(tmp_path: Path) -> None:
    whole = yosys_resources([write(tmp_path, "pair.v", HIERARCHY)], "pair")
    split = synthesise_units(_units(tmp_path), "pair", workers=2)
    assert split.cached == ()
    assert split.resources.total == whole.total
    assert split.resources.modules["pair"].instances == {"scale": 2}
    assert split.resources.modules["scale"].total == whole.modules["scale"].total
    assert split.commands == {
        "pair": "synth_xilinx -family xc7 -top pair -noiopad",
        "scale": "synth_xilinx -family xc7 -top scale -noiopad -noclkbuf",
    }
    document = resources_document(split.resources, runs=split.commands)
    assert document["yosys"]["runs"] == split.commands
    assert "black boxes" in document["yosys"]["flow"]


@needs_yosys
@pytest.mark.slow  # synth_xilinx runs
def test_split_synthesis_is_cached_by_content(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = synthesise_units(_units(tmp_path), "pair", cache_dir=cache)
    assert first.cached == ()
    assert len(list(cache.glob("*.json"))) == 2
    again = synthesise_units(_units(tmp_path), "pair", cache_dir=cache)
    assert again.cached == ("pair", "scale")
    assert again.resources == first.resources
    # a changed source is synthesised again; the other unit still comes from the cache
    units = _units(tmp_path)
    write(tmp_path, "scale.v", SCALE.replace("16'd12345", "16'd999"))
    changed = synthesise_units(units, "pair", cache_dir=cache)
    assert changed.cached == ("pair",)
    # a corrupt entry is ignored and rewritten
    for entry in cache.glob("*.json"):
        entry.write_text("{", encoding="utf-8")
    assert synthesise_units(_units(tmp_path), "pair", cache_dir=cache).cached == ()


def test_split_synthesis_needs_the_top_unit(tmp_path: Path) -> None:
    with pytest.raises(FirmwareError, match="no synthesis unit has the top module 'pair'"):
        synthesise_units(_units(tmp_path)[:1], "pair")


def test_cache_directory_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(CACHE_ENV, raising=False)
    assert default_cache_dir() == Path.home() / ".cache" / "l1sim" / "yosys"
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    assert default_cache_dir() == tmp_path
    for off in ("off", "OFF", ""):
        monkeypatch.setenv(CACHE_ENV, off)
        assert default_cache_dir() is None
