"""Print a :class:`~firmware._design.TopDesign` as a Verilog top module.

One ``match`` over the block kinds turns each block into a template instance (or a
da4ml module instance); :func:`write_verilog` writes the top module beside the
templates it uses. The text depends only on the design, so the same design always
gives byte-identical files. ``firmware.hdl.vhdl`` is meant to mirror this module
function for function.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from firmware._design import (
    Block,
    BlockKind,
    BxCounter,
    Datapath,
    Delay,
    FinalOr,
    Prescale,
    Signal,
    SlotInput,
    SlotOutput,
    TopDesign,
    TriggerRules,
)
from firmware.hdl._templates import TEMPLATE_MODULES, template_text
from streams import atomic_output

__all__ = ["render_top", "write_verilog"]


def _ref(s: Signal, full_width: dict[str, int]) -> str:
    """``net``, ``net[i]`` or ``net[hi:lo]`` for a signal."""
    if s.lsb == 0 and s.width == full_width[s.net]:
        return s.net
    if s.width == 1:
        return f"{s.net}[{s.lsb}]"
    return f"{s.net}[{s.lsb + s.width - 1}:{s.lsb}]"


def _concat(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else "{" + ", ".join(parts) + "}"


def _slot_value(slot: SlotInput, width: int, full_width: dict[str, int]) -> str:
    """One ``width``-bit input slot: the field moved ``shift`` bits up, extended above.

    A negative shift drops the field's lowest bits (the module reads fewer
    fraction bits than the field has).
    """
    src, shift = slot.source, slot.shift
    if shift < 0:
        src, shift = Signal(src.net, src.lsb - shift, src.width + shift), 0
    keep = min(src.width, width - shift)  # field bits that land in the slot
    parts: list[str] = []
    pad = width - shift - keep
    if pad:
        msb = f"{src.net}[{src.lsb + src.width - 1}]"
        parts.append(f"{{{pad}{{{msb}}}}}" if slot.signed else f"{pad}'b0")
    parts.append(_ref(Signal(src.net, src.lsb, keep), full_width))
    if shift:
        parts.append(f"{shift}'b0")
    return _concat(parts)


def _slot_output(o: SlotOutput, block: Datapath, out: str) -> str:
    """The value of one output slot, extended above the slot's top if needed.

    A negative shift means the value has more fraction bits than the slot: its
    lowest bits are 0.
    """
    base = o.index * block.out_slot_width
    low_zeros = max(0, -o.shift)
    lo = base + max(0, o.shift)
    keep = min(o.target.width - low_zeros, base + block.out_slot_width - lo)
    parts: list[str] = []
    pad = o.target.width - low_zeros - keep
    if pad:
        top = f"{out}[{base + block.out_slot_width - 1}]"
        parts.append(f"{{{pad}{{{top}}}}}" if o.signed else f"{pad}'b0")
    parts.append(f"{out}[{lo}]" if keep == 1 else f"{out}[{lo + keep - 1}:{lo}]")
    if low_zeros:
        parts.append(f"{low_zeros}'b0")
    return _concat(parts)


def _instance(
    module: str, params: Iterable[tuple[str, str]], name: str, pins: Iterable[tuple[str, str]]
) -> list[str]:
    param_text = ", ".join(f".{k}({v})" for k, v in params)
    head = f"    {module} #({param_text}) {name} (" if param_text else f"    {module} {name} ("
    pin_text = ",\n".join(f"        .{k}({v})" for k, v in pins)
    return [head, pin_text, "    );"]


def _rule_vector(values: Iterable[int]) -> str:
    """A packed parameter vector, rule 0 in the lowest 32 bits."""
    return "{" + ", ".join(f"32'd{v}" for v in reversed(list(values))) + "}"


def _block(block: Block, w: dict[str, int]) -> list[str]:
    """The Verilog of one block."""
    clk = [("clk", "clk"), ("rst", "rst")]
    match block:
        case Datapath():
            # da4ml wrapper: uniform slots; combinational modules have no clock
            inp = f"{block.name}_inp"
            lines = [f"    wire [{block.n_inp * block.inp_slot_width - 1}:0] {inp};"]
            for slot in block.inputs:
                lo = slot.index * block.inp_slot_width
                hi = lo + block.inp_slot_width - 1
                lines.append(
                    f"    assign {inp}[{hi}:{lo}] = {_slot_value(slot, block.inp_slot_width, w)};"
                )
            out = f"{block.name}_out"
            lines.append(f"    wire [{block.n_out * block.out_slot_width - 1}:0] {out};")
            pins = [("clk", "clk")] if block.latency > 0 else []
            pins += [("model_inp", inp), ("model_out", out)]
            lines += _instance(block.module, (), block.name, pins)
            for o in block.outputs:
                lines.append(f"    assign {_ref(o.target, w)} = {_slot_output(o, block, out)};")
            return lines
        case Delay(depth=0):
            return [f"    assign {_ref(block.out, w)} = {_ref(block.source, w)};"]
        case Delay():
            params = [
                ("WIDTH", str(block.source.width)),
                ("DEPTH", str(block.depth)),
                ("RESET", "1" if block.reset else "0"),
            ]
            pins = [*clk, ("d", _ref(block.source, w)), ("q", _ref(block.out, w))]
            return _instance(TEMPLATE_MODULES[BlockKind.DELAY], params, block.name, pins)
        case Prescale():
            pins = [
                *clk,
                ("valid", _ref(block.valid, w)),
                ("fire", _ref(block.fire, w)),
                ("fired", _ref(block.fired, w)),
                ("passed", _ref(block.passed, w)),
            ]
            module = TEMPLATE_MODULES[BlockKind.PRESCALE]
            lines = [f"    // seed {block.seed}: prescale {block.factor_x100 / 100:g}"]
            return lines + _instance(
                module, [("FACTOR_X100", str(block.factor_x100))], block.name, pins
            )
        case FinalOr():
            n = len(block.mask)
            mask = "".join("1" if m else "0" for m in reversed(block.mask))
            params = [("N", str(n)), ("MASK", f"{n}'b{mask}")]
            pins = [
                *clk,
                ("passed", _ref(block.passed, w)),
                ("candidate", _ref(block.candidate, w)),
            ]
            return _instance(TEMPLATE_MODULES[BlockKind.OR], params, block.name, pins)
        case TriggerRules():
            params = [
                ("N_RULES", str(len(block.rules))),
                ("MAX_ACCEPTS", _rule_vector(r.max_accepts for r in block.rules)),
                ("WINDOWS", _rule_vector(r.window_bx for r in block.rules)),
            ]
            pins = [
                *clk,
                ("candidate", _ref(block.candidate, w)),
                ("accept", _ref(block.accept, w)),
                ("dead", _ref(block.dead, w)),
            ]
            lines = ["    // " + ", ".join(str(r) for r in block.rules)]
            return lines + _instance(TEMPLATE_MODULES[BlockKind.RULES], params, block.name, pins)
        case BxCounter():
            params = [
                ("BX_PER_ORBIT", str(block.bx_per_orbit)),
                ("BX_WIDTH", str(block.bx.width)),
                ("ORBIT_WIDTH", str(block.orbit_width)),
                ("START_BX", str(block.start_bx)),
                ("START_ORBIT", f"{block.orbit_width}'d{block.start_orbit}"),
            ]
            pins = [*clk, ("bx", _ref(block.bx, w)), ("orbit", _ref(block.orbit, w))]
            return _instance(TEMPLATE_MODULES[BlockKind.BX_COUNTER], params, block.name, pins)
    raise AssertionError(f"unhandled block {block!r}")  # pragma: no cover


def _vector(width: int) -> str:
    return f"[{width - 1}:0] " if width > 1 else ""


def render_top(design: TopDesign) -> str:
    """The top module's Verilog text."""
    widths = {p.name: p.width for p in design.ports} | {n.name: n.width for n in design.nets}
    lines = [
        "`timescale 1 ns / 1 ps",
        "",
        f"// {design.name}: the trigger menu's top module, generated by l1sim (do not edit).",
        f"// Latency {design.latency} clock cycles: the BX sampled at rising edge t is on the",
        f"// outputs after rising edge t + {design.latency}. II = {design.ii}. Seeds (bit i of",
        "// decision/prescaled): " + ", ".join(design.seeds),
        f"module {design.name} (",
    ]
    for i, port in enumerate(design.ports):
        comma = "," if i < len(design.ports) - 1 else ""
        doc = f"  // {port.doc}" if port.doc else ""
        lines.append(f"    {port.direction} wire {_vector(port.width)}{port.name}{comma}{doc}")
    lines.append(");")
    lines += [f"    wire {_vector(net.width)}{net.name};" for net in design.nets]
    for block in design.blocks:
        lines.append("")
        lines += _block(block, widths)
    lines += ["endmodule", ""]
    return "\n".join(lines)


def write_verilog(design: TopDesign, out_dir: Path) -> tuple[Path, ...]:
    """Write ``<top>.v`` and the templates it instantiates into ``out_dir``.

    Returns the files written (templates first, then the top), each written
    through a temporary file and a rename.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    kinds = sorted({block.kind for block in design.blocks if block.kind in TEMPLATE_MODULES})
    written: list[Path] = []
    for kind in kinds:
        module = TEMPLATE_MODULES[kind]
        written.append(_write(out_dir / f"{module}.v", template_text(module)))
    written.append(_write(out_dir / f"{design.name}.v", render_top(design)))
    return tuple(written)


def _write(path: Path, text: str) -> Path:
    with atomic_output(path) as tmp:
        tmp.write_text(text)
    return path
