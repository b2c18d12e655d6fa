"""Offline comparison of recorded outputs with the emulator: plain numpy, no simulator.

The simulator (or a board, through a captured pattern file) gives one row of output
port words per clock cycle after reset; :func:`compare_rtl` checks them against the
emulator's decisions of the same BX (:class:`cosim._stimulus.Stimulus`) and returns
an :class:`AgreementReport` with one :class:`OutputCheck` per output:

* the **latency**: ``out_valid`` is 0 until the first BX's outputs are due and then
  repeats ``valid`` exactly ``latency`` cycles later (:func:`output_delay` rows); ``out_bx``, ``out_orbit`` and
  ``out_colliding`` label each BX's outputs with that BX. An output that arrives one
  cycle early or late is a mismatch, never a shifted match;
* per seed its decision bit (gated by ``valid``), its raw score where the top has a
  ``score_<seed>`` port, and its prescaled bit; then the final OR, the L1 accept and
  the dead flag.

Every check records the first and the total number of mismatching BX, and for the
first one the inputs of that BX, the expected and the recorded value (raw hex and as
a value of the output's type) and the differing bits. :func:`compare_values` does
the same for any (rows x elements) integer arrays, e.g. the HLS C simulation.
The report writers (text, JSON, JUnit XML, HTML) live in :mod:`cosim._report`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cosim._bench._files import PortTrace
from cosim._errors import ExitCode
from cosim._stimulus import Stimulus, extract_field, field_ints, output_delay
from emulator.fixed import FixedType
from firmware._manifest import Manifest

__all__ = [
    "AgreementReport",
    "CheckGroup",
    "Mismatch",
    "OutputCheck",
    "compare_rtl",
    "compare_values",
]

_BIT = FixedType(1, 1, signed=False)
#: mismatching rows listed per output (the total is always counted)
MAX_LISTED = 20


class CheckGroup(StrEnum):
    """Which implementation an output check compares with the emulator."""

    RTL = "rtl"
    HLS = "hls"
    PATTERNS = "patterns"


@dataclass(frozen=True)
class Mismatch:
    """One mismatching BX of one output, with everything needed to debug it.

    ``row`` is the BX row (cycle after reset at which the BX was driven); a negative
    row is an output cycle before the first BX's outputs were due (an early output).
    ``expected``/``got`` are raw bit patterns in hex, one per element; ``values``
    their meaning in the output's type. ``diff_bits`` are the differing bit positions
    (of element 0 for vector outputs).
    """

    row: int
    cycle: int
    orbit: int
    bx: int
    #: the BX's event id (any sign is a real id; -1 also when there is no event)
    event_id: int
    #: whether the BX holds an input event (``EventBatch.has_event``), whatever its id
    has_event: bool
    expected: tuple[str, ...]
    got: tuple[str, ...]
    expected_values: tuple[str, ...]
    got_values: tuple[str, ...]
    diff_bits: tuple[int, ...]
    inputs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OutputCheck:
    """The comparison of one output over every compared BX."""

    name: str
    group: CheckGroup
    #: the port (and field) or the HLS project compared
    source: str
    type: str
    compared: int
    mismatches: int
    first: Mismatch | None = None
    #: up to :data:`MAX_LISTED` mismatching rows, in order
    rows: tuple[int, ...] = ()
    note: str = ""

    @property
    def agrees(self) -> bool:
        """Whether every compared BX agrees (and at least one was compared)."""
        return self.mismatches == 0 and self.compared > 0


@dataclass
class AgreementReport:
    """Result of a co-simulation: one check per output, and what was run."""

    title: str
    checks: list[OutputCheck]
    #: firmware directory, top, simulator, menu, BX count, latency, timings ...
    meta: dict[str, Any] = field(default_factory=dict)
    #: things not compared, and why (e.g. a network seed without an HLS project)
    notes: list[str] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        """True when every output agrees on every compared BX."""
        return bool(self.checks) and all(c.agrees for c in self.checks)

    @property
    def exit_code(self) -> ExitCode:
        """0 when everything agrees, 1 on any mismatch."""
        return ExitCode.AGREE if self.agrees else ExitCode.MISMATCH

    @property
    def failed(self) -> list[OutputCheck]:
        """The checks with mismatches (or with nothing compared)."""
        return [c for c in self.checks if not c.agrees]

    def check(self, name: str) -> OutputCheck:
        """The check called ``name`` (KeyError listing the names when absent)."""
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(f"no output check {name!r}; checks: {[c.name for c in self.checks]}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (the JSON report)."""
        return {
            "title": self.title,
            "agrees": self.agrees,
            "exit_code": int(self.exit_code),
            "meta": self.meta,
            "notes": list(self.notes),
            "checks": [{**asdict(c), "agrees": c.agrees} for c in self.checks],
        }


def _hex(value: int, width: int) -> str:
    return f"{value & ((1 << width) - 1):0{max(1, (width + 3) // 4)}x}"


def _value_text(raw: int, fixed: FixedType) -> str:
    if fixed.width == 1 and not fixed.signed and fixed.frac == 0:
        return str(raw)
    if fixed.frac == 0:
        return str(raw)
    return f"{raw} ({raw * 2.0**-fixed.frac:.10g})"


@dataclass(frozen=True)
class _Context:
    """Row labels shared by every check of one run."""

    stimulus: Stimulus | None
    latency: int

    def mismatch(
        self,
        row: int,
        expected: Sequence[int],
        got: Sequence[int | None],
        fixed: FixedType,
    ) -> Mismatch:
        s = self.stimulus
        inside = s is not None and 0 <= row < len(s)
        width = fixed.width
        exp_hex = tuple(_hex(v, width) for v in expected)
        got_hex = tuple(
            "x" * max(1, (width + 3) // 4) if v is None else _hex(v, width) for v in got
        )
        diff = 0 if got[0] is None else (expected[0] ^ got[0]) & ((1 << width) - 1)
        return Mismatch(
            row=row,
            cycle=row + self.latency,
            orbit=int(s.orbit[row]) if inside and s is not None else -1,
            bx=int(s.bx[row]) if inside and s is not None else -1,
            event_id=int(s.event_id[row]) if inside and s is not None else -1,
            has_event=inside and s is not None and _has_event(s, row),
            expected=exp_hex,
            got=got_hex,
            expected_values=tuple(_value_text(v, fixed) for v in expected),
            got_values=tuple("unknown (x)" if v is None else _value_text(v, fixed) for v in got),
            diff_bits=tuple(b for b in range(width) if diff >> b & 1),
            inputs=s.input_hex(row) if inside and s is not None else {},
        )


def _has_event(s: Stimulus, row: int) -> bool:
    """Whether row ``row`` holds an input event, as ``EventBatch.has_event`` says."""
    return bool(s.has_event[row])


def compare_values(
    name: str,
    group: CheckGroup,
    source: str,
    fixed: FixedType,
    expected: NDArray[np.integer],
    got: NDArray[np.integer],
    rows: NDArray[np.int64],
    *,
    unknown: NDArray[np.bool_] | None = None,
    context: _Context | None = None,
    note: str = "",
) -> OutputCheck:
    """Compare raw integers (n,) or (n, k) element by element; ``rows`` labels each entry.

    Values are compared as bit patterns of ``fixed``'s width (a signed -1 equals an
    all-ones field); ``unknown`` rows (x/z from a four-state simulator) never agree.
    """
    exp = np.asarray(expected).astype(np.int64)
    got_arr = np.asarray(got).astype(np.int64)
    if exp.shape != got_arr.shape:
        raise ValueError(f"{name}: expected shape {exp.shape}, got {got_arr.shape}")
    if exp.ndim == 1:
        exp, got_arr = exp[:, None], got_arr[:, None]
    mask = np.int64(-1) if fixed.width >= 64 else np.int64((1 << fixed.width) - 1)
    bad = ((exp & mask) != (got_arr & mask)).any(axis=1)
    if unknown is not None:
        bad |= unknown
    where = np.flatnonzero(bad)
    first = None
    if where.size:
        i = int(where[0])
        ctx = context or _Context(None, 0)
        got_row: list[int | None] = [int(v) for v in got_arr[i]]
        if unknown is not None and unknown[i]:
            got_row = [None] * len(got_row)
        first = ctx.mismatch(
            int(rows[i]), [int(v) & int(mask) for v in exp[i]],
            [None if v is None else v & int(mask) for v in got_row], fixed,
        )  # fmt: skip
        if fixed.signed:
            first = _signed_values(first, exp[i], got_row, fixed)
    return OutputCheck(
        name=name,
        group=group,
        source=source,
        type=str(fixed),
        compared=int(exp.shape[0]),
        mismatches=int(where.size),
        first=first,
        rows=tuple(int(rows[i]) for i in where[:MAX_LISTED]),
        note=note,
    )


def _signed_values(
    m: Mismatch, exp: NDArray[np.int64], got: Sequence[int | None], fixed: FixedType
) -> Mismatch:
    """Show signed fields as signed values (the hex stays the bit pattern)."""

    def signed(v: int) -> int:
        v &= (1 << fixed.width) - 1
        return v - (1 << fixed.width) if v >> (fixed.width - 1) else v

    return Mismatch(
        **{
            **asdict(m),
            "expected_values": tuple(_value_text(signed(int(v)), fixed) for v in exp),
            "got_values": tuple(
                "unknown (x)" if v is None else _value_text(signed(v), fixed) for v in got
            ),
        }
    )


def _port_field(
    manifest: Manifest, port: str, field_name: str | None
) -> tuple[int, int, FixedType]:
    entry = manifest.port(port)
    if field_name is None:
        return 0, entry.width, FixedType(entry.width, entry.width, signed=False)
    for f in entry.fields:
        if f.name == field_name:
            return f.lsb, f.width, FixedType.parse(f.type)
    raise ValueError(f"port {port!r} has no field {field_name!r}")


def compare_rtl(
    stimulus: Stimulus,
    outputs: Mapping[str, PortTrace],
    manifest: Manifest,
    *,
    group: CheckGroup = CheckGroup.RTL,
) -> list[OutputCheck]:
    """Check recorded top-module outputs against the emulator, cycle by cycle.

    ``outputs`` holds one :class:`PortTrace` per output port with at least
    ``len(stimulus) + output_delay(manifest)`` rows: row r is the output just before
    clock edge r (the bench's convention), so BX row t is due on row
    ``t + latency + 1`` (:func:`~cosim._stimulus.output_delay`).
    """
    n = len(stimulus)
    latency = output_delay(manifest)
    ctx = _Context(stimulus, latency)
    need = n + latency
    for name, trace in outputs.items():
        if trace.words.shape[0] < need:
            raise ValueError(
                f"output {name!r}: {trace.words.shape[0]} cycles recorded, "
                f"{need} needed ({n} BX + latency {latency})"
            )
    exp = stimulus.expected
    valid = stimulus.valid
    all_rows = np.arange(n, dtype=np.int64)
    valid_rows = np.flatnonzero(valid).astype(np.int64)
    checks: list[OutputCheck] = []

    def get(
        port: str, field_name: str | None, rows: NDArray[np.int64]
    ) -> tuple[NDArray[np.int64], NDArray[np.bool_], FixedType, str]:
        lsb, width, fixed = _port_field(manifest, port, field_name)
        trace = outputs[port]
        cycles = rows + latency
        bits = extract_field(trace.words[cycles], lsb, width)
        source = port if field_name is None else f"{port}.{field_name}"
        return field_ints(bits, fixed), trace.unknown[cycles], fixed, source

    def check(name: str, port: str, field_name: str | None, expected: NDArray[Any],
              rows: NDArray[np.int64], note: str = "") -> None:  # fmt: skip
        got, unknown, fixed, source = get(port, field_name, rows)
        checks.append(
            compare_values(name, group, source, fixed, np.asarray(expected, np.int64), got,
                           rows, unknown=unknown, context=ctx, note=note)
        )  # fmt: skip

    # latency: nothing valid before the first BX is due, then valid exactly L cycles later
    pre = outputs["out_valid"]
    pre_bits = extract_field(pre.words[:latency], 0, 1).astype(np.int64)
    latency_check = compare_values(
        "latency", group, "out_valid", _BIT,
        np.concatenate([np.zeros(latency, np.int64), valid.astype(np.int64)]),
        np.concatenate([pre_bits, extract_field(pre.words[latency:need], 0, 1).astype(np.int64)]),
        np.arange(-latency, n, dtype=np.int64), unknown=pre.unknown[:need], context=ctx,
        note=f"out_valid must repeat valid exactly {manifest.latency_cycles} cycles later",
    )  # fmt: skip
    checks.append(latency_check)
    check("out_bx", "out_bx", None, stimulus.bx, all_rows,
          "BX label of the outputs (cycles since reset, modulo 3564)")  # fmt: skip
    check("out_orbit", "out_orbit", None, stimulus.orbit - stimulus.orbit[0], all_rows,
          "orbit label of the outputs (orbits since reset)")  # fmt: skip
    check("out_colliding", "out_colliding", None, stimulus.colliding, all_rows)
    for i, seed in enumerate(exp.seed_names):
        check(f"decision/{seed}", "decision", seed, exp.fired[:, i] & valid, all_rows)
        if any(p.name == f"score_{_identifier(seed)}" for p in manifest.ports):
            port = f"score_{_identifier(seed)}"
            check(f"score/{seed}", port, seed, exp.scores[valid_rows, i], valid_rows)
        check(f"prescaled/{seed}", "prescaled", seed, exp.prescaled[:, i] & valid, all_rows)
    check("final_or", "final_or", None, exp.final_or & valid, all_rows)
    check("l1a", "l1a", None, exp.l1a & valid, all_rows)
    check("dead", "dead", None, exp.dead[valid_rows], valid_rows,
          "compared on BX with a record (the emulator has no dead flag for gaps)")  # fmt: skip
    return checks


def _identifier(seed: str) -> str:
    """The port-name form of a seed name (as the firmware builds ``score_<seed>``)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", seed)
