"""The interface of a da4ml RTL module, read from its traced solution.

da4ml's ``<name>_wrapper`` module (``da4ml.codegen.VerilogModel``) gives every input
one slot of ``max(k) + max(i) + max(f)`` bits (over all inputs) holding
``floor(x * 2^max_f)`` (so input j sits ``max_f - f_j`` bits up its slot), and every
output one slot of the widest output width, sign-extended for signed values and
scaled the same way. :func:`datapath_spec` turns that into a
:class:`~firmware._design.DatapathSpec` so that the top module can wire the
module's slots to its input fields and seed outputs. ``da4ml.codegen.VHDLModel``
writes the same modules as VHDL entities with the same ports;
:func:`write_vhdl_datapath` puts them into a firmware directory's ``rtl/vhdl/``.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

# da4ml ships no type information
from da4ml.types import CombLogic, Pipeline, minimal_kif  # type: ignore[import-untyped]

from emulator.fixed import FixedType
from firmware._design import DatapathInput, DatapathOutput, DatapathSpec, OutputRole
from firmware._errors import FirmwareError
from firmware.hdl.vhdl import VHDL_DIR, VHDL_STATIC, vhdl_analysis_order

__all__ = ["datapath_spec", "slot_layout", "write_vhdl_datapath"]


def slot_layout(qints: Sequence[object]) -> tuple[int, int]:
    """``(slot width, widest fraction bits)`` of da4ml's uniform slots for these intervals."""
    kifs = [minimal_kif(q) for q in qints]
    # as da4ml's io_wrapper.hetero_io_map: max(k) + max(i) + max(f), each taken separately
    max_sign = max(int(k) for k, _, _ in kifs)
    max_int = max(int(i) for _, i, _ in kifs)
    max_frac = max(int(f) for _, _, f in kifs)
    return max_sign + max_int + max_frac, max_frac


def datapath_spec(
    name: str,
    solution: CombLogic | Pipeline,
    latency: int,
    inputs: Sequence[tuple[str, str, FixedType]],
    outputs: Sequence[tuple[str, OutputRole, FixedType] | None],
) -> DatapathSpec:
    """Describe da4ml module ``<name>_wrapper`` for :func:`firmware._design.build_top`.

    ``inputs[j]`` = (port, field, field type) feeding input j; ``outputs[j]`` =
    (seed, role, type of the value) of output j, or None for an output the top
    does not use. ``latency`` is the module's (``len(pipeline.solutions)``, 0 for a
    combinational CombLogic). Shifts follow from the types' fraction bits: a field
    with more fraction bits than the slots loses its lowest ones, as da4ml's
    ``floor(x * 2^max_f)`` does.
    """
    n_inp, n_out = solution.shape
    if len(inputs) != n_inp or len(outputs) != n_out:
        raise FirmwareError(
            f"datapath {name!r}: {n_inp} inputs and {n_out} outputs traced, "
            f"{len(inputs)} and {len(outputs)} described"
        )
    inp_width, inp_frac = slot_layout(solution.inp_qint)
    out_width, out_frac = slot_layout(solution.out_qint)
    spec_inputs = []
    for j, (port, field, field_type) in enumerate(inputs):
        spec_inputs.append(DatapathInput(j, port, field, inp_frac - field_type.frac))
    spec_outputs = []
    for j, described in enumerate(outputs):
        if described is None:
            continue
        seed, role, value_type = described
        spec_outputs.append(DatapathOutput(j, seed, role, out_frac - value_type.frac, value_type))
    return DatapathSpec(
        name=name,
        module=f"{name}_wrapper",
        latency=latency,
        inp_slot_width=inp_width,
        n_inp=n_inp,
        inputs=tuple(spec_inputs),
        out_slot_width=out_width,
        n_out=n_out,
        outputs=tuple(spec_outputs),
    )


def write_vhdl_datapath(
    solution: CombLogic | Pipeline, name: str, clock_period: float, rtl: Path, scratch: Path
) -> tuple[str, ...]:
    """Write da4ml's VHDL of one datapath into ``rtl/vhdl/<name>/`` (static entities once
    into ``rtl/vhdl/da4ml/``); returns the datapath's files relative to ``rtl/..``.

    The lookup-table memory files are da4ml's, the same the Verilog reads (same
    names, written beside it in ``rtl/``), so a VHDL simulation also runs in
    ``rtl/``. Raises whatever da4ml raises; the caller names the seed.
    """
    # da4ml ships no type information
    from da4ml.codegen import VHDLModel  # type: ignore[import-untyped]  # noqa: PLC0415

    project = scratch / f"{name}_vhdl"
    VHDLModel(
        solution, name, project, latency_cutoff=clock_period, clock_period=clock_period
    ).write()
    vhdl = rtl / VHDL_DIR
    target = vhdl / name
    target.mkdir(parents=True)
    written: list[str] = []
    for source in vhdl_analysis_order(sorted((project / "src").glob("*.vhd")), name):
        shutil.copyfile(source, target / source.name)
        written.append(f"rtl/{VHDL_DIR}/{name}/{source.name}")
    static = vhdl / VHDL_STATIC
    static.mkdir(exist_ok=True)
    for source in sorted((project / "src" / "static").glob("*.vhd")):
        if not (static / source.name).exists():
            shutil.copyfile(source, static / source.name)
    for source in sorted((project / "src" / "memfiles").glob("*.mem")):
        if not (rtl / source.name).exists():
            shutil.copyfile(source, rtl / source.name)
    return tuple(written)
