"""The test bench that runs inside the simulator: it drives and records, nothing else.

Python stays out of the per-cycle loop. :func:`render_bench` turns a top's port
list (:class:`DutSpec`) into a small Verilog bench (template ``bench.sv.in``)
that reads one binary record of packed input words per clock (``$fread``, or on
Verilator the DPI-C functions of ``files_dpi.cpp``),
drives the DUT with it, and writes the DUT's outputs as one hex line per clock with
``$fwrite``. Reset is sequenced by the bench itself. What is left for a driver is
to toggle the clock until ``done`` rises:

* ``l1sim_clocked`` wraps the bench with a free-running HDL clock (Icarus, or
  Verilator with ``--timing``): cocotb (module :mod:`cosim._bench.cocotb_bench`)
  only waits for ``done``;
* ``l1sim_bench`` has a ``clk`` input: the cocotb clock or the plain C++ main of
  ``native_main.cpp`` (the native Verilator ceiling) toggles it.

The stimulus and output files are written and read with numpy in
:mod:`cosim._bench._files`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from string import Template
from typing import Protocol

__all__ = [
    "BENCH_MODULE",
    "CLOCKED_MODULE",
    "COCOTB_MODULE",
    "DutSpec",
    "Port",
    "dpi_source",
    "native_main_source",
    "render_bench",
]

#: The bench module (``clk`` input, ``done`` output).
BENCH_MODULE = "l1sim_bench"
#: The bench with its own free-running clock (``done`` output only).
CLOCKED_MODULE = "l1sim_clocked"
#: The cocotb test module run inside the simulator.
COCOTB_MODULE = "cosim._bench.cocotb_bench"

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*\Z")
#: Names the bench declares itself; a DUT port may use them (they are connected by
#: name), but they are never a bench-side wire name.
_BENCH_NAMES = frozenset({"l1sim_bench", "l1sim_clocked"})


@dataclass(frozen=True)
class Port:
    """A packed data port of the top: ``name`` is ``width`` bits wide."""

    name: str
    width: int


class PortLike(Protocol):
    """Any port record with a name, a direction (``input``/``output``) and a width."""

    @property
    def name(self) -> str: ...

    @property
    def direction(self) -> str: ...

    @property
    def width(self) -> int: ...


@dataclass(frozen=True)
class DutSpec:
    """What the bench needs to know about any Verilog top.

    ``sources`` are the Verilog files (order kept); ``data_files`` are files the
    design reads at run time by relative name (``$readmemh`` tables): they are
    hashed into the build key and copied next to the simulation. ``reset`` is
    ``None`` for a top without a reset; ``reset_active_low`` flips its polarity.
    The bench holds reset for ``reset_cycles`` clock edges.
    """

    top: str
    sources: tuple[Path, ...]
    inputs: tuple[Port, ...]
    outputs: tuple[Port, ...]
    clock: str = "clk"
    reset: str | None = "rst"
    reset_active_low: bool = False
    reset_cycles: int = 4
    data_files: tuple[Path, ...] = field(default=())

    def __post_init__(self) -> None:
        where = f"top {self.top!r}"
        if not _IDENT.match(self.top) or self.top in _BENCH_NAMES:
            raise ValueError(f"{where}: not a usable Verilog module name")
        if not self.sources:
            raise ValueError(f"{where}: no Verilog source files")
        if not self.outputs:
            raise ValueError(f"{where}: needs at least one output port to record")
        if not self.inputs:
            raise ValueError(f"{where}: needs at least one input port to drive")
        if self.reset_cycles < 1:
            raise ValueError(f"{where}: reset_cycles must be at least 1, got {self.reset_cycles}")
        names = [self.clock] + ([self.reset] if self.reset else [])
        names += [p.name for p in self.inputs + self.outputs]
        for port in self.inputs + self.outputs:
            if port.width < 1:
                raise ValueError(f"{where}: port {port.name!r} has width {port.width}")
        for name in names:
            if not _IDENT.match(name):
                raise ValueError(f"{where}: port name {name!r} is not a Verilog identifier")
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"{where}: port names used twice: {', '.join(duplicates)}")

    @classmethod
    def from_ports(
        cls,
        top: str,
        sources: Iterable[Path],
        ports: Iterable[PortLike],
        *,
        clock: str = "clk",
        reset: str | None = "rst",
        reset_active_low: bool = False,
        data_files: Iterable[Path] = (),
    ) -> DutSpec:
        """A spec from a port list (e.g. a firmware manifest's): every port but the
        clock and the reset is a data port, in the list's order."""
        inputs: list[Port] = []
        outputs: list[Port] = []
        for port in ports:
            if port.name in (clock, reset):
                continue
            direction = str(port.direction).lower()
            if direction in ("input", "in"):
                inputs.append(Port(port.name, int(port.width)))
            elif direction in ("output", "out"):
                outputs.append(Port(port.name, int(port.width)))
            else:
                raise ValueError(f"top {top!r}: port {port.name!r} has direction {direction!r}")
        return cls(
            top=top,
            sources=tuple(sources),
            inputs=tuple(inputs),
            outputs=tuple(outputs),
            clock=clock,
            reset=reset,
            reset_active_low=reset_active_low,
            data_files=tuple(data_files),
        )

    @property
    def record_bytes(self) -> int:
        """Bytes of one stimulus record: every input padded to whole bytes."""
        return sum((p.width + 7) // 8 for p in self.inputs)


def _template(name: str) -> str:
    return files("cosim._bench").joinpath(name).read_text(encoding="utf-8")


def native_main_source() -> str:
    """The plain Verilator C++ main that toggles ``l1sim_bench.clk`` until ``done``."""
    return _template("native_main.cpp")


def dpi_source() -> str:
    """The DPI-C file access of the bench for Verilator builds (``files_dpi.cpp``).

    Verilator's ``$fread`` reads one byte per locked ``fgetc()`` and its ``$fwrite``
    parses the format string every clock; with ``L1SIM_DPI_FILES`` defined the bench
    reads and writes the same files through these functions instead.
    """
    return _template("files_dpi.cpp")


def render_bench(spec: DutSpec) -> str:
    """The bench Verilog for ``spec`` (deterministic: same spec, same text)."""
    connections = [f"        .{spec.clock}(clk)"]
    if spec.reset is not None:
        connections.append(f"        .{spec.reset}({'~rst' if spec.reset_active_low else 'rst'})")
    # Inputs are sliced from the record: the first port sits in the top bytes.
    offset = 8 * spec.record_bytes
    for port in spec.inputs:
        offset -= 8 * ((port.width + 7) // 8)
        connections.append(f"        .{port.name}(record_now[{offset + port.width - 1}:{offset}])")
    wires = []
    for i, port in enumerate(spec.outputs):
        wires.append(f"    wire [{port.width - 1}:0] l1sim_out_{i};")
        connections.append(f"        .{port.name}(l1sim_out_{i})")
    return Template(_template("bench.sv.in")).substitute(
        dut=spec.top,
        reset_cycles=spec.reset_cycles,
        record_bytes=spec.record_bytes,
        output_bits=sum(p.width for p in spec.outputs),
        output_widths=" ".join(str(p.width) for p in spec.outputs),
        output_wires="\n".join(wires),
        connections=",\n".join(connections),
        out_format=" ".join("%h" for _ in spec.outputs),
        out_args=", ".join(f"l1sim_out_{i}" for i in range(len(spec.outputs))),
    )
