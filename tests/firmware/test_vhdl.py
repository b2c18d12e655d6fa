"""The VHDL output (``firmware.build(..., vhdl=True)``) in GHDL, against the Verilog top.

A small menu (a single muon, a muon pair with mass and ΔR cuts through lookup
tables and a prescale of 1.5, HT with a score output and prescale 0, a masked
event MET) is built
once with VHDL. GHDL (``--std=08``) analyses every VHDL file the manifest lists, in
its order, and elaborates the top, with no warning at all. Then the equivalence
check: the Verilog top runs in Icarus through the co-simulation bench
(``cosim.runner``, native ``vvp``), the VHDL top in GHDL through the small textio
bench below, both on the same binary stimulus file (random port words, a few
hundred BX), and every output word of every cycle after the pipeline has filled
is compared bit for bit. The slow test analyses the default menu's VHDL.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import firmware
from emulator.menu import default_menu, menu_from_dict
from firmware import FirmwareDir
from firmware._errors import FirmwareError
from firmware._manifest import FieldEntry, PortEntry
from firmware._tools import ghdl_analyse, ghdl_elaborate, ghdl_run
from firmware.hdl.vhdl import check_identifier

pytestmark = pytest.mark.sim

pytest.importorskip("da4ml")
if shutil.which("ghdl") is None:
    pytest.skip("GHDL not installed", allow_module_level=True)

MENU: dict[str, Any] = {
    "name": "vhdl-small",
    "hardware": {"slots": {"muon": 3, "jet": 4, "egamma": 2, "tau": 2}},
    "trigger_rules": "cms",
    "seeds": [
        {"name": "L1_SingleMu22", "kind": "single", "collection": "muon", "pt": 22,
         "eta_max": 2.4},
        {"name": "L1_DoubleMu_Mass", "kind": "double", "collection": "muon", "pt": [5, 3],
         "pair": {"mass_min": 10, "mass_max": 400, "dr_max": 3.0}, "prescale": 1.5},
        {"name": "L1_HTT120", "kind": "ht", "collection": "jet", "object_pt": 30,
         "eta_max": 2.4, "threshold": 120, "prescale": 0},
        {"name": "L1_ETM25", "kind": "met", "source": "event", "threshold": 25,
         "masked": True},
    ],
}  # fmt: skip
#: clock cycles of the equivalence run
N_CYCLES = 400
TOP = "l1sim_menu"
BENCH = "l1sim_vhdl_bench"


@pytest.fixture(scope="module")
def small_firmware(tmp_path_factory: pytest.TempPathFactory) -> FirmwareDir:
    """The small menu built with ``vhdl=True`` (yosys skipped: not what is tested here)."""
    out = tmp_path_factory.mktemp("vhdl") / "fw"
    menu = menu_from_dict(MENU, source="vhdl-small")
    return firmware.build(menu, out, vhdl=True, yosys_lut_limit=-1.0)


def _analyse(fw: FirmwareDir, work: Path) -> str:
    sources = [fw.file(f) for f in fw.manifest.vhdl_sources]
    return ghdl_analyse(sources, workdir=work) + ghdl_elaborate(TOP, workdir=work)


def test_manifest_lists_every_vhdl_file(small_firmware: FirmwareDir) -> None:
    listed = small_firmware.manifest.vhdl_sources
    on_disk = sorted(
        p.relative_to(small_firmware.path).as_posix()
        for p in (small_firmware.path / "rtl" / "vhdl").rglob("*.vhd")
    )
    assert sorted(listed) == on_disk
    assert listed[-1] == f"rtl/vhdl/{TOP}.vhd"
    names = {Path(f).name for f in listed}
    for template in ("bx_counter", "delay_line", "final_or", "prescale", "trigger_rules"):
        assert f"{template}.vhd" in names
    for entry in small_firmware.manifest.algorithms:
        assert f"rtl/vhdl/{entry.module.removesuffix('_wrapper')}/{entry.module}.vhd" in entry.files
    # the hashed file list covers the VHDL too
    hashed = {f.path for f in small_firmware.manifest.files}
    assert set(listed) <= hashed


def test_ghdl_analyses_and_elaborates_without_warnings(
    small_firmware: FirmwareDir, tmp_path: Path
) -> None:
    output = _analyse(small_firmware, tmp_path / "work")
    assert output.strip() == ""


@pytest.mark.slow
def test_vhdl_output_is_deterministic_and_hashed(
    small_firmware: FirmwareDir, tmp_path: Path
) -> None:
    menu = menu_from_dict(MENU, source="vhdl-small")
    again = firmware.build(menu, tmp_path / "again", vhdl=True, yosys_lut_limit=-1.0)
    first = {f.path: f.sha256 for f in small_firmware.manifest.files}
    second = {f.path: f.sha256 for f in again.manifest.files}
    assert first == second
    assert again.manifest.vhdl_sources == small_firmware.manifest.vhdl_sources
    verilog_only = firmware.build(menu, tmp_path / "verilog", yosys_lut_limit=-1.0)
    assert verilog_only.manifest.content_hash != small_firmware.manifest.content_hash
    assert verilog_only.manifest.vhdl_sources == ()
    assert not (verilog_only.path / "rtl" / "vhdl").exists()


# ----------------------------------------------------------------------------- equivalence


def _data_ports(ports: tuple[PortEntry, ...], direction: str) -> list[PortEntry]:
    return [p for p in ports if p.direction == direction and p.name not in ("clk", "rst")]


def _vhdl_bench(ports: tuple[PortEntry, ...]) -> str:
    """A VHDL-2008 bench with the Verilog bench's timing and file formats.

    As ``cosim/_bench/bench.sv.in``: reset for 4 rising edges; the last reset edge
    stages stimulus row 0; every running edge writes the outputs present before it
    as one line of lower-case hex fields (``%h``: ``ceil(width / 4)`` digits, an
    ``x`` digit where a bit is unknown) and stages the next row. The stimulus is
    the same binary file: one record per row, every input port padded to whole
    bytes, first port first, big-endian.
    """
    inputs = _data_ports(ports, "input")
    outputs = _data_ports(ports, "output")
    record_bytes = sum((p.width + 7) // 8 for p in inputs)
    pins = ["clk => clk", "rst => rst"]
    offset = 8 * record_bytes
    for p in inputs:
        offset -= 8 * ((p.width + 7) // 8)
        bits = f"({offset})" if p.width == 1 else f"({offset + p.width - 1} downto {offset})"
        pins.append(f"{p.name} => record_now{bits}")
    decls, writes = [], []
    for i, p in enumerate(outputs):
        kind = "std_logic" if p.width == 1 else f"std_logic_vector({p.width - 1} downto 0)"
        decls.append(f"    signal out_{i} : {kind};")
        pins.append(f"{p.name} => out_{i}")
        value = f"out_{i}" if p.width > 1 else f"(0 => out_{i})"
        separator = "" if i == len(outputs) - 1 else "\n                write(l, ' ');"
        writes.append(f"                write(l, hex({value}));{separator}")
    pin_text = ",\n            ".join(pins)
    return f"""library ieee;
use ieee.std_logic_1164.all;
use ieee.numeric_std.all;
use std.textio.all;

entity {BENCH} is
    generic (STIM : string; OUTPUT : string; CYCLES : positive);
end entity {BENCH};

architecture sim of {BENCH} is
    constant RESET_CYCLES : positive := 4;
    constant RECORD_BYTES : positive := {record_bytes};
    type byte_file is file of character;
    signal clk : std_logic := '0';
    signal rst : std_logic := '1';
    signal done : boolean := false;
    signal record_now : std_logic_vector(8 * RECORD_BYTES - 1 downto 0) := (others => '0');
{chr(10).join(decls)}

    -- lower-case hex digits, most significant first; x for a nibble with an unknown bit
    function hex(v : std_logic_vector) return string is
        constant DIGITS : string(1 to 16) := "0123456789abcdef";
        constant N : positive := (v'length + 3) / 4;
        variable padded : std_logic_vector(4 * N - 1 downto 0) := (others => '0');
        variable nibble : std_logic_vector(3 downto 0);
        variable result : string(1 to N);
    begin
        padded(v'length - 1 downto 0) := v;
        for i in 0 to N - 1 loop
            nibble := padded(4 * (N - i) - 1 downto 4 * (N - i - 1));
            if is_x(nibble) then
                result(i + 1) := 'x';
            else
                result(i + 1) := DIGITS(to_integer(unsigned(nibble)) + 1);
            end if;
        end loop;
        return result;
    end function;
begin
    dut : entity work.{TOP}
        port map (
            {pin_text}
        );

    clk <= not clk after 5 ns when not done;

    process (clk)
        file stim_file : byte_file open read_mode is STIM;
        file out_file : text open write_mode is OUTPUT;
        variable reset_count : natural := 0;
        variable cycle : natural := 0;
        variable l : line;

        impure function next_record return std_logic_vector is
            variable rec : std_logic_vector(8 * RECORD_BYTES - 1 downto 0);
            variable c : character;
        begin
            for b in RECORD_BYTES - 1 downto 0 loop
                assert not endfile(stim_file)
                    report "l1sim VHDL bench: stimulus file ended early" severity failure;
                read(stim_file, c);
                rec(8 * b + 7 downto 8 * b) :=
                    std_logic_vector(to_unsigned(character'pos(c), 8));
            end loop;
            return rec;
        end function;
    begin
        if rising_edge(clk) then
            if rst = '1' then
                if reset_count = RESET_CYCLES - 1 then
                    record_now <= next_record;
                    rst <= '0';
                end if;
                reset_count := reset_count + 1;
            elsif not done then
{chr(10).join(writes)}
                writeline(out_file, l);
                if cycle + 1 < CYCLES then
                    record_now <= next_record;
                else
                    done <= true;
                end if;
                cycle := cycle + 1;
            end if;
        end if;
    end process;
end architecture sim;
"""


def _stimulus(inputs: list[PortEntry], rng: np.random.Generator) -> list[list[int]]:
    """Random values per input port and row, field by field; pT fields use only their
    lowest bits (up to 256 GeV) and about half the rows of a port are all zero
    (empty slots), so that every seed both fires and does not."""
    stimulus: list[list[int]] = []
    for port in inputs:
        fields = port.fields or (FieldEntry(port.name, 0, port.width, ""),)
        rows = []
        for _ in range(N_CYCLES):
            value = 0
            if rng.random() >= (0.2 if port.width == 1 else 0.5):
                for f in fields:
                    bits = max(1, f.width - 4) if f.name.startswith("pt") else f.width
                    value |= int(rng.integers(0, 1 << bits)) << f.lsb
            rows.append(value)
        stimulus.append(rows)
    return stimulus


def test_vhdl_top_equals_verilog_top_bit_for_bit(
    small_firmware: FirmwareDir, tmp_path: Path
) -> None:
    pytest.importorskip("cocotb")
    from cosim.runner import DutSpec, get_runner
    from firmware._build import verilog_sources

    fw = small_firmware
    manifest = fw.manifest
    rtl = fw.path / "rtl"
    try:
        runner = get_runner("icarus", cache_dir=tmp_path / "cache")
    except FirmwareError as exc:  # pragma: no cover - Icarus missing
        pytest.skip(str(exc))
    spec = DutSpec.from_ports(
        TOP, verilog_sources(fw.path), manifest.ports, data_files=sorted(rtl.glob("*.mem"))
    )
    inputs = _data_ports(manifest.ports, "input")
    assert [p.name for p in inputs] == [p.name for p in spec.inputs]
    values = _stimulus(inputs, np.random.default_rng(20261201))
    stimulus = {p.name: v for p, v in zip(inputs, values, strict=True)}
    work = tmp_path / "run"
    verilog = runner.test(runner.build(spec, native=True), stimulus, work_dir=work)

    # the VHDL top, same stimulus file, in a directory holding the lookup tables
    vhdl_work = tmp_path / "vhdl"
    vhdl_work.mkdir()
    for table in rtl.glob("*.mem"):
        shutil.copyfile(table, vhdl_work / table.name)
    bench = vhdl_work / "bench.vhd"
    bench.write_text(_vhdl_bench(manifest.ports), encoding="utf-8")
    library = vhdl_work / "work"
    sources = [fw.file(f) for f in manifest.vhdl_sources]
    ghdl_analyse([*sources, bench], workdir=library)
    out = vhdl_work / "outputs.hex"
    ghdl_run(
        BENCH,
        workdir=library,
        cwd=vhdl_work,
        generics=[
            ("STIM", str(work / "stimulus.bin")),
            ("OUTPUT", str(out)),
            ("CYCLES", str(N_CYCLES)),
        ],
    )
    from cosim._bench._files import read_outputs

    vhdl = read_outputs(spec, out, N_CYCLES)

    # Rows before the latency hold the pipeline's fill: unknown (x / U) bits, which
    # Verilog arithmetic spreads over a whole word and std_logic logic does not
    # ('0' and 'U' is '0'), so those rows are compared where both sides are known.
    settled = manifest.latency_cycles + 1
    for port in spec.outputs:
        v, h = verilog.outputs[port.name], vhdl[port.name]
        assert not v.unknown[settled:].any(), f"Verilog {port.name}: unknown bits after latency"
        assert not h.unknown[settled:].any(), f"VHDL {port.name}: unknown bits after latency"
        known = ~(v.unknown | h.unknown)
        assert known[settled:].all()
        mismatch = np.flatnonzero((h.words != v.words).any(axis=1) & known)
        assert mismatch.size == 0, (
            f"port {port.name}: VHDL and Verilog differ in {mismatch.size} of {N_CYCLES} "
            f"cycles, first at cycle {mismatch[0]}: VHDL {h.ints()[mismatch[0]]:#x}, "
            f"Verilog {v.ints()[mismatch[0]]:#x}"
        )
    # the comparison means something: every seed's decision and prescaled bit toggles,
    # and the final OR, the accept and the trigger-rule veto all happen
    decision = verilog.outputs["decision"].values()[settled:]
    prescaled = verilog.outputs["prescaled"].values()[settled:]
    for bit, seed in enumerate(f.name for f in manifest.port("decision").fields):
        assert 0 < ((decision >> np.uint64(bit)) & np.uint64(1)).sum() < decision.size, seed
        passes = ((prescaled >> np.uint64(bit)) & np.uint64(1)).any()
        assert passes == (seed != "L1_HTT120"), seed  # prescale 0: disabled
    for name in ("final_or", "l1a", "dead"):
        values = verilog.outputs[name].values()[settled:]
        assert 0 < values.sum() < values.size, name


@pytest.mark.slow
def test_default_menu_vhdl_analyses_and_elaborates(tmp_path: Path) -> None:
    """The whole default menu (13 cut seeds, two networks) as VHDL in GHDL."""
    pytest.importorskip("hls4ml")

    fw = firmware.build(default_menu(), tmp_path / "fw", vhdl=True, yosys_lut_limit=-1.0)
    assert len(fw.manifest.vhdl_sources) > 40
    assert _analyse(fw, tmp_path / "work").strip() == ""


def test_names_vhdl_cannot_hold_are_a_clear_error(tmp_path: Path) -> None:
    data = dict(MENU, seeds=[dict(MENU["seeds"][0], name="L1_Mu__22")])
    menu = menu_from_dict(data, source="bad-vhdl-name")
    with pytest.raises(
        FirmwareError, match=r"seed 'L1_Mu__22': .*'\w*l1_mu__22\w*' is not a VHDL identifier"
    ):
        firmware.build(menu, tmp_path / "fw", vhdl=True, yosys_lut_limit=-1.0)
    assert not (tmp_path / "fw").exists()
    for name in ("signal", "Out", "_x", "x_", "9x"):
        with pytest.raises(FirmwareError, match="not a VHDL identifier"):
            check_identifier(name, "port")
    assert check_identifier("score_L1_HTT120", "port") == "score_L1_HTT120"
