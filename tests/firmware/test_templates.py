"""The Verilog templates: shipped as package data, lint-clean, and bit-exact with the emulator.

The prescale and trigger-rule templates run in Icarus Verilog on more than 10 000 BX
of random fire patterns (bursts, quiet stretches, gaps without a BX record) and
every output bit of every BX is compared with ``emulator.rules``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from emulator.rules import CMS_RULES, PrescaleState, TriggerRule, TriggerRuleState
from firmware._errors import FirmwareError
from firmware._tools import (
    find_iverilog,
    find_verilator,
    iverilog_compile,
    run_vvp,
    verilator_lint,
)
from firmware.hdl import TEMPLATE_MODULES, WAIVERS, template_file, template_text

N_BX = 12_000


def _have(finder: Callable[[], object]) -> bool:
    try:
        finder()
    except FirmwareError:
        return False
    return True


needs_icarus = pytest.mark.skipif(not _have(find_iverilog), reason="Icarus Verilog not installed")
needs_verilator = pytest.mark.skipif(not _have(find_verilator), reason="Verilator not installed")


def _local(tmp_path: Path, name: str) -> Path:
    """A copy of a packaged file in tmp_path (the tools want real paths)."""
    path = tmp_path / name
    path.write_text(template_file(name).read_text(encoding="utf-8"))
    return path


def test_templates_ship_as_package_data() -> None:
    for module in TEMPLATE_MODULES.values():
        text = template_text(module)
        assert re.search(rf"^module {module} ", text, re.MULTILINE)
        # one comment saying what the template implements, before the module
        assert f"// {module}: " in text.split("module ")[0]
    assert "lint_off" in template_file(WAIVERS).read_text(encoding="utf-8")


def test_missing_template_is_a_clear_error() -> None:
    with pytest.raises(FirmwareError, match="no_such_template"):
        template_text("no_such_template")


# every template with parameter sets that cover its generate branches and corners
LINT_CASES = [
    ("delay_line", {}),
    ("delay_line", {"WIDTH": "9", "DEPTH": "5", "RESET": "1"}),
    ("prescale", {"FACTOR_X100": "0"}),
    ("prescale", {"FACTOR_X100": "100"}),
    ("prescale", {"FACTOR_X100": "12345"}),
    ("final_or", {"N": "3", "MASK": "3'b010"}),
    ("trigger_rules", {}),
    ("trigger_rules", {"N_RULES": "1", "MAX_ACCEPTS": "32'd1", "WINDOWS": "32'd1"}),
    ("bx_counter", {"START_BX": "3558", "START_ORBIT": "32'hffffffff"}),
]


@pytest.mark.sim
@needs_verilator
@pytest.mark.parametrize(("module", "params"), LINT_CASES)
def test_template_lints_clean(tmp_path: Path, module: str, params: dict[str, str]) -> None:
    verilator_lint(
        [_local(tmp_path, f"{module}.v")],
        top=module,
        waivers=[_local(tmp_path, WAIVERS)],
        extra=[f"-G{k}={v}" for k, v in params.items()],
    )


@pytest.mark.sim
@needs_icarus
@pytest.mark.parametrize("module", sorted(TEMPLATE_MODULES.values()))
def test_template_compiles_with_icarus(tmp_path: Path, module: str) -> None:
    source = _local(tmp_path, f"{module}.v")
    assert iverilog_compile([source], tmp_path / f"{module}.vvp", top=module).is_file()


# ------------------------------------------------------------------ simulation benches


def _bench(tmp_path: Path, n_bx: int, width: int, body: str, outputs: str) -> Path:
    """A bench that applies ``stim.hex`` (one word per BX) and writes ``out.txt``.

    Two reset cycles, then per BX: drive the word, one rising edge, write the
    registered outputs (``outputs``: a $fwrite argument list).
    """
    text = f"""`timescale 1 ns / 1 ps
module bench;
    reg clk = 1'b0;
    reg rst = 1'b1;
    reg [{width - 1}:0] stim [0:{n_bx - 1}];
    reg [{width - 1}:0] word = {width}'d0;
    integer t, fd;
{body}
    initial begin
        $readmemh("stim.hex", stim);
        fd = $fopen("out.txt", "w");
        #1 clk = 1'b1; #1 clk = 1'b0; #1 clk = 1'b1; #1 clk = 1'b0;
        rst = 1'b0;
        for (t = 0; t < {n_bx}; t = t + 1) begin
            word = stim[t];
            #1 clk = 1'b1;
            #1 $fwrite(fd, {outputs});
            clk = 1'b0;
        end
        $fclose(fd);
        $finish;
    end
endmodule
"""
    path = tmp_path / "bench.v"
    path.write_text(text)
    return path


def _simulate(
    tmp_path: Path, modules: list[str], bench: Path, stim: NDArray[np.int64]
) -> list[str]:
    """Compile the templates ``modules`` with ``bench``, run it; the words it wrote."""
    (tmp_path / "stim.hex").write_text("".join(f"{int(v):x}\n" for v in stim))
    sources = [_local(tmp_path, f"{m}.v") for m in modules]
    program = iverilog_compile([*sources, bench], tmp_path / "bench.vvp", top="bench")
    run_vvp(program, cwd=tmp_path)
    return (tmp_path / "out.txt").read_text().split()


def _bits(words: list[str], n: int) -> NDArray[np.bool_]:
    """(n_bx, n) bits of hex words, bit 0 first."""
    values = np.array([int(w, 16) for w in words], np.int64)
    return ((values[:, None] >> np.arange(n)) & 1).astype(np.bool_)


def _patterns(rng: np.random.Generator, n_bx: int, n: int) -> NDArray[np.bool_]:
    """Random fire patterns in stretches of 10-800 BX with rates from 0 to 100 %."""
    out = np.zeros((n_bx, n), np.bool_)
    for column in range(n):
        start = 0
        while start < n_bx:
            stop = min(n_bx, start + int(rng.integers(10, 800)))
            rate = rng.choice([0.0, 0.02, 0.2, 0.5, 0.9, 1.0])
            out[start:stop, column] = rng.random(stop - start) < rate
            start = stop
    return out


def _valid(rng: np.random.Generator, n_bx: int) -> NDArray[np.bool_]:
    """BX records with random single gaps and a few long ones (no record there)."""
    valid = rng.random(n_bx) < 0.9
    for start in rng.integers(0, n_bx - 300, 6):
        valid[start : start + rng.integers(30, 300)] = False
    return valid


PRESCALES = (0.0, 1.0, 1.01, 1.5, 1.99, 2.33, 10.0, 123.45)


@pytest.mark.sim
@needs_icarus
def test_prescale_template_matches_emulator(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    n = len(PRESCALES)
    fire = _patterns(rng, N_BX, n)
    valid = _valid(rng, N_BX)
    body = "\n".join(
        f"    prescale #(.FACTOR_X100({round(p * 100)})) u{i} (.clk(clk), .rst(rst), "
        f".valid(word[{n}]), .fire(word[{i}]), .fired(fired[{i}]), .passed(passed[{i}]));"
        for i, p in enumerate(PRESCALES)
    )
    body = f"    wire [{n - 1}:0] fired, passed;\n" + body
    bench = _bench(tmp_path, N_BX, n + 1, body, '"%h %h\\n", fired, passed')
    stim = (fire.astype(np.int64) << np.arange(n)).sum(axis=1) | (valid.astype(np.int64) << n)
    words = _simulate(tmp_path, ["prescale"], bench, stim)
    fired_hw, passed_hw = _bits(words[0::2], n), _bits(words[1::2], n)

    # the emulator sees only the BX records, in two chunks
    state = PrescaleState(list(PRESCALES))
    records = fire[valid]
    half = records.shape[0] // 2
    passed_emu = np.concatenate([state.apply(records[:half]), state.apply(records[half:])])
    np.testing.assert_array_equal(fired_hw[valid], records)
    np.testing.assert_array_equal(passed_hw[valid], passed_emu)
    assert not fired_hw[~valid].any()
    assert not passed_hw[~valid].any()
    # the test can fail: every enabled prescale passes some BX and vetoes others
    assert passed_emu[:, 1:].any(axis=0).all()
    assert (records[:, 2:] & ~passed_emu[:, 2:]).any(axis=0).all()


RULE_SETS: tuple[tuple[TriggerRule, ...], ...] = (
    CMS_RULES,
    (TriggerRule(1, 1),),
    (TriggerRule(2, 3), TriggerRule(1, 2)),
    (TriggerRule(5, 7),),
    (TriggerRule(3, 50), TriggerRule(1, 4), TriggerRule(2, 9)),
)


def _rule_vector(values: list[int]) -> str:
    return "{" + ", ".join(f"32'd{v}" for v in reversed(values)) + "}"


@pytest.mark.sim
@needs_icarus
def test_trigger_rules_template_matches_emulator(tmp_path: Path) -> None:
    rng = np.random.default_rng(25)
    n = len(RULE_SETS)
    valid = _valid(rng, N_BX)
    candidate = _patterns(rng, N_BX, n) & valid[:, None]
    lines = [f"    wire [{n - 1}:0] accept, dead;"]
    for i, rules in enumerate(RULE_SETS):
        lines.append(
            f"    trigger_rules #(.N_RULES({len(rules)}), "
            f".MAX_ACCEPTS({_rule_vector([r.max_accepts for r in rules])}), "
            f".WINDOWS({_rule_vector([r.window_bx for r in rules])})) u{i} (.clk(clk), "
            f".rst(rst), .candidate(word[{i}]), .accept(accept[{i}]), .dead(dead[{i}]));"
        )
    bench = _bench(tmp_path, N_BX, n, "\n".join(lines), '"%h %h\\n", accept, dead')
    stim = (candidate.astype(np.int64) << np.arange(n)).sum(axis=1)
    words = _simulate(tmp_path, ["trigger_rules"], bench, stim)
    accept_hw, dead_hw = _bits(words[0::2], n), _bits(words[1::2], n)

    global_bx = np.flatnonzero(valid).astype(np.int64) + 1_000_000  # records only, with gaps
    half = global_bx.size // 2
    for i, rules in enumerate(RULE_SETS):
        state = TriggerRuleState(rules)
        parts = [
            state.apply(global_bx[s], candidate[valid, i][s])
            for s in (slice(0, half), slice(half, None))
        ]
        accept_emu = np.concatenate([p[0] for p in parts])
        dead_emu = np.concatenate([p[1] for p in parts])
        np.testing.assert_array_equal(accept_hw[valid, i], accept_emu, err_msg=str(rules))
        np.testing.assert_array_equal(dead_hw[valid, i], dead_emu, err_msg=str(rules))
        assert not accept_hw[~valid, i].any()
        if rules != (TriggerRule(1, 1),):
            # the rules veto some candidates, so a wrong window would show
            assert (candidate[valid, i] & dead_emu).any(), str(rules)


@pytest.mark.sim
@needs_icarus
def test_bx_counter_and_delay_line(tmp_path: Path) -> None:
    n_bx = 3 * 3564 + 50
    body = """    wire [11:0] bx;
    wire [31:0] orbit;
    wire [7:0] late;
    bx_counter #(.START_BX(3560), .START_ORBIT(32'hffffffff)) u_counter (
        .clk(clk), .rst(rst), .bx(bx), .orbit(orbit));
    delay_line #(.WIDTH(8), .DEPTH(4)) u_delay (.clk(clk), .rst(rst), .d(word), .q(late));"""
    bench = _bench(tmp_path, n_bx, 8, body, '"%h %h %h\\n", bx, orbit, late')
    stim = np.arange(n_bx, dtype=np.int64) % 256
    words = _simulate(tmp_path, ["bx_counter", "delay_line"], bench, stim)
    bx = np.array([int(w, 16) for w in words[0::3]])
    orbit = np.array([int(w, 16) for w in words[1::3]])
    late = words[2::3]
    # reset holds (3560, -1); the first BX edge after reset is count 3561
    count = np.arange(n_bx) + 3561 - 3564
    np.testing.assert_array_equal(bx, count % 3564)
    np.testing.assert_array_equal(orbit, (count // 3564) % (1 << 32))
    # DEPTH = 4: the word driven before edge t is out after edge t + 3
    np.testing.assert_array_equal([int(w, 16) for w in late[3:]], stim[:-3])
