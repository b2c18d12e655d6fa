"""Print a :class:`~firmware._design.TopDesign` as a VHDL-2008 top entity.

The mirror of :mod:`firmware.hdl.verilog`, function for function: one ``match``
over the block kinds turns each block into an entity instance of a VHDL template
(``firmware/templates/*.vhd``, the same behaviour as the ``.v`` of the same name)
or of a da4ml datapath (``<module>`` from ``da4ml.codegen.VHDLModel``), and
:func:`write_vhdl` writes the top beside the templates it uses. The ports and
their bit layouts are those of the Verilog top: a 1-bit port or net is a
``std_logic``, a wider one a ``std_logic_vector(width - 1 downto 0)``. The text
depends only on the design, so the same design always gives byte-identical files.

VHDL is stricter about names than Verilog (no case distinction, no ``__``, no
reserved words): a design whose names do not fit is a :class:`FirmwareError`
naming the name, never a file that does not analyse.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
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
from firmware._errors import FirmwareError
from firmware.hdl._templates import TEMPLATE_MODULES, vhdl_template_text
from streams import atomic_output

__all__ = [
    "VHDL_DIR",
    "VHDL_STATIC",
    "check_identifier",
    "render_vhdl_top",
    "vhdl_analysis_order",
    "vhdl_sources",
    "write_vhdl",
]

#: where a firmware directory keeps its VHDL, below ``rtl/``
VHDL_DIR = "vhdl"
#: directory of da4ml's static VHDL entities, below ``rtl/vhdl/``
VHDL_STATIC = "da4ml"

_BASIC_IDENTIFIER = re.compile(r"[A-Za-z](_?[A-Za-z0-9])*\Z")
#: how a seed's name enters the names of its datapath (``firmware._build.datapath_name``)
_SEED_PART = re.compile(r"[^a-z0-9_]")
#: VHDL-2008 reserved words (LRM 15.10)
_RESERVED = frozenset(
    """
    abs access after alias all and architecture array assert assume assume_guarantee
    attribute begin block body buffer bus case component configuration constant context
    cover default disconnect downto else elsif end entity exit fairness file for force
    function generate generic group guarded if impure in inertial inout is label library
    linkage literal loop map mod nand new next nor not null of on open or others out
    package parameter port postponed procedure process property protected pure range
    record register reject release rem report restrict restrict_guarantee return rol ror
    select sequence severity shared signal sla sll sra srl strong subtype then to
    transport type unaffected units until use variable vmode vprop vunit wait when while
    with xnor xor
    """.split()  # noqa: SIM905 - a word list reads better as text
)


def check_identifier(name: str, what: str) -> str:
    """``name`` when it is a usable VHDL basic identifier, else a :class:`FirmwareError`."""
    if not _BASIC_IDENTIFIER.match(name) or name.lower() in _RESERVED:
        raise FirmwareError(
            f"VHDL output: {what} {name!r} is not a VHDL identifier (letters, digits and "
            "single underscores, starting with a letter, not a reserved word); rename it"
        )
    return name


@dataclass(frozen=True)
class _Part:
    """One piece of a concatenation: its text, its width, and whether it is a scalar."""

    text: str
    width: int
    scalar: bool


def _ref(s: Signal, full_width: dict[str, int]) -> str:
    """``net``, ``net(i)`` or ``net(hi downto lo)`` for a signal (1-bit nets are scalars)."""
    if s.lsb == 0 and s.width == full_width[s.net]:
        return s.net
    if s.width == 1:
        return f"{s.net}({s.lsb})"
    return f"{s.net}({s.lsb + s.width - 1} downto {s.lsb})"


def _part(s: Signal, full_width: dict[str, int]) -> _Part:
    return _Part(_ref(s, full_width), s.width, s.width == 1)


def _fill(width: int, bit: str) -> _Part:
    """``width`` copies of one bit (``'0'`` or a scalar signal)."""
    if width == 1:
        return _Part(bit, 1, True)
    return _Part(f"std_logic_vector'({width - 1} downto 0 => {bit})", width, False)


def _vector(parts: list[_Part]) -> str:
    """A ``std_logic_vector`` expression of the parts, most significant first."""
    if len(parts) == 1:
        only = parts[0]
        return f"std_logic_vector'(0 => {only.text})" if only.scalar else only.text
    return " & ".join(p.text for p in parts)


def _scalar(parts: list[_Part]) -> str:
    """A ``std_logic`` expression of parts one bit wide in all."""
    assert len(parts) == 1, parts
    assert parts[0].width == 1, parts
    only = parts[0]
    return only.text if only.scalar else f"{only.text}(0)"


def _slot_value(slot: SlotInput, width: int, full_width: dict[str, int]) -> list[_Part]:
    """One ``width``-bit input slot: the field moved ``shift`` bits up, extended above.

    A negative shift drops the field's lowest bits (the module reads fewer
    fraction bits than the field has).
    """
    src, shift = slot.source, slot.shift
    if shift < 0:
        src, shift = Signal(src.net, src.lsb - shift, src.width + shift), 0
    keep = min(src.width, width - shift)  # field bits that land in the slot
    parts: list[_Part] = []
    pad = width - shift - keep
    if pad:
        msb = _ref(Signal(src.net, src.lsb + src.width - 1, 1), full_width)
        parts.append(_fill(pad, msb if slot.signed else "'0'"))
    parts.append(_part(Signal(src.net, src.lsb, keep), full_width))
    if shift:
        parts.append(_fill(shift, "'0'"))
    return parts


def _slot_output(o: SlotOutput, block: Datapath, out: str) -> list[_Part]:
    """The value of one output slot, extended above the slot's top if needed.

    A negative shift means the value has more fraction bits than the slot: its
    lowest bits are 0.
    """
    base = o.index * block.out_slot_width
    low_zeros = max(0, -o.shift)
    lo = base + max(0, o.shift)
    keep = min(o.target.width - low_zeros, base + block.out_slot_width - lo)
    parts: list[_Part] = []
    pad = o.target.width - low_zeros - keep
    if pad:
        top = f"{out}({base + block.out_slot_width - 1})"
        parts.append(_fill(pad, top if o.signed else "'0'"))
    if keep == 1:
        parts.append(_Part(f"{out}({lo})", 1, True))
    else:
        parts.append(_Part(f"{out}({lo + keep - 1} downto {lo})", keep, False))
    if low_zeros:
        parts.append(_fill(low_zeros, "'0'"))
    return parts


def _assign(target: Signal, parts: list[_Part], w: dict[str, int]) -> str:
    value = _scalar(parts) if target.width == 1 else _vector(parts)
    return f"    {_ref(target, w)} <= {value};"


def _pin(formal: str, actual: Signal, w: dict[str, int], *, vector: bool) -> tuple[str, str]:
    """A port association; a 1-bit actual of a vector formal goes to its element 0."""
    if vector and actual.width == 1:
        return f"{formal}(0)", _ref(actual, w)
    return formal, _ref(actual, w)


def _instance(
    entity: str, generics: Iterable[tuple[str, str]], name: str, pins: Iterable[tuple[str, str]]
) -> list[str]:
    lines = [f"    {name} : entity work.{entity}"]
    generic_list = list(generics)
    if generic_list:
        lines.append("        generic map (")
        lines.append(",\n".join(f"            {k} => {v}" for k, v in generic_list))
        lines.append("        )")
    lines.append("        port map (")
    lines.append(",\n".join(f"            {k} => {v}" for k, v in pins))
    lines.append("        );")
    return lines


def _rule_vector(values: Iterable[int]) -> str:
    """An ``integer_vector`` generic, rule 0 at index 0 (named: a single rule is legal too)."""
    return "(" + ", ".join(f"{i} => {v}" for i, v in enumerate(values)) + ")"


def _bits(values: Iterable[bool]) -> str:
    """A bit-string literal, the most significant (last) element first."""
    return '"' + "".join("1" if v else "0" for v in reversed(list(values))) + '"'


def _block(block: Block, w: dict[str, int]) -> tuple[list[str], list[str]]:
    """The VHDL of one block: (signal declarations, concurrent statements)."""
    clk = [("clk", "clk"), ("rst", "rst")]
    match block:
        case Datapath():
            # da4ml wrapper: uniform slots; combinational entities have no clock
            inp = check_identifier(f"{block.name}_inp", "datapath signal")
            out = check_identifier(f"{block.name}_out", "datapath signal")
            decls = [
                f"    signal {inp} : {_type(block.n_inp * block.inp_slot_width, vector=True)};",
                f"    signal {out} : {_type(block.n_out * block.out_slot_width, vector=True)};",
            ]
            lines = []
            for slot in block.inputs:
                lo = slot.index * block.inp_slot_width
                hi = lo + block.inp_slot_width - 1
                value = _vector(_slot_value(slot, block.inp_slot_width, w))
                lines.append(f"    {inp}({hi} downto {lo}) <= {value};")
            pins = [("clk", "clk")] if block.latency > 0 else []
            pins += [("model_inp", inp), ("model_out", out)]
            lines += _instance(check_identifier(block.module, "datapath"), (), block.name, pins)
            for o in block.outputs:
                lines.append(_assign(o.target, _slot_output(o, block, out), w))
            return decls, lines
        case Delay(depth=0):
            return [], [_assign(block.out, [_part(block.source, w)], w)]
        case Delay():
            generics = [
                ("WIDTH", str(block.source.width)),
                ("DEPTH", str(block.depth)),
                ("RESET", "1" if block.reset else "0"),
            ]
            pins = [
                *clk,
                _pin("d", block.source, w, vector=True),
                _pin("q", block.out, w, vector=True),
            ]
            return [], _instance(TEMPLATE_MODULES[BlockKind.DELAY], generics, block.name, pins)
        case Prescale():
            pins = [
                *clk,
                _pin("valid", block.valid, w, vector=False),
                _pin("fire", block.fire, w, vector=False),
                _pin("fired", block.fired, w, vector=False),
                _pin("passed", block.passed, w, vector=False),
            ]
            module = TEMPLATE_MODULES[BlockKind.PRESCALE]
            lines = [f"    -- seed {block.seed}: prescale {block.factor_x100 / 100:g}"]
            return [], lines + _instance(
                module, [("FACTOR_X100", str(block.factor_x100))], block.name, pins
            )
        case FinalOr():
            generics = [("N", str(len(block.mask))), ("MASK", _bits(block.mask))]
            pins = [
                *clk,
                _pin("passed", block.passed, w, vector=True),
                _pin("candidate", block.candidate, w, vector=False),
            ]
            return [], _instance(TEMPLATE_MODULES[BlockKind.OR], generics, block.name, pins)
        case TriggerRules():
            generics = [
                ("N_RULES", str(len(block.rules))),
                ("MAX_ACCEPTS", _rule_vector(r.max_accepts for r in block.rules)),
                ("WINDOWS", _rule_vector(r.window_bx for r in block.rules)),
            ]
            pins = [
                *clk,
                _pin("candidate", block.candidate, w, vector=False),
                _pin("accept", block.accept, w, vector=False),
                _pin("dead", block.dead, w, vector=False),
            ]
            lines = ["    -- " + ", ".join(str(r) for r in block.rules)]
            module = TEMPLATE_MODULES[BlockKind.RULES]
            return [], lines + _instance(module, generics, block.name, pins)
        case BxCounter():
            orbit = block.start_orbit % (1 << block.orbit_width)
            generics = [
                ("BX_PER_ORBIT", str(block.bx_per_orbit)),
                ("BX_WIDTH", str(block.bx.width)),
                ("ORBIT_WIDTH", str(block.orbit_width)),
                ("START_BX", str(block.start_bx)),
                ("START_ORBIT", f'"{orbit:0{block.orbit_width}b}"'),
            ]
            pins = [
                *clk,
                _pin("bx", block.bx, w, vector=True),
                _pin("orbit", block.orbit, w, vector=True),
            ]
            module = TEMPLATE_MODULES[BlockKind.BX_COUNTER]
            return [], _instance(module, generics, block.name, pins)
    raise AssertionError(f"unhandled block {block!r}")  # pragma: no cover


def _type(width: int, *, vector: bool = False) -> str:
    """The VHDL type of a port or net: 1-bit ones are scalars unless ``vector``."""
    return f"std_logic_vector({width - 1} downto 0)" if width > 1 or vector else "std_logic"


def _check_names(design: TopDesign) -> None:
    """Every name of the design is a VHDL identifier, unique without regard to case."""
    named = [(design.name, "top entity")]
    named += [(p.name, "port") for p in design.ports]
    named += [(n.name, "net") for n in design.nets]
    named += [(b.name, "instance") for b in design.blocks]
    seen: dict[str, str] = {}
    for name, what in named:
        try:
            check_identifier(name, what)
        except FirmwareError as exc:
            seeds = [s for s in design.seeds if _SEED_PART.sub("_", s.lower())[:40] in name]
            raise FirmwareError(f"seed {seeds[0]!r}: {exc}" if seeds else str(exc)) from None
        other = seen.setdefault(name.lower(), name)
        if other != name:
            raise FirmwareError(
                f"VHDL output: {what} {name!r} clashes with {other!r} (VHDL ignores case)"
            )


def render_vhdl_top(design: TopDesign) -> str:
    """The top entity's VHDL text (entity and architecture ``rtl``)."""
    _check_names(design)
    widths = {p.name: p.width for p in design.ports} | {n.name: n.width for n in design.nets}
    lines = [
        f"-- {design.name}: the trigger menu's top entity, generated by l1sim (do not edit).",
        f"-- Latency {design.latency} clock cycles: the BX sampled at rising edge t is on the",
        f"-- outputs after rising edge t + {design.latency}. II = {design.ii}. Seeds (bit i of",
        "-- decision/prescaled): " + ", ".join(design.seeds),
        "-- Ports and bit layouts as the Verilog top of the same name.",
        "library ieee;",
        "use ieee.std_logic_1164.all;",
        "",
        f"entity {design.name} is",
        "    port (",
    ]
    for i, port in enumerate(design.ports):
        end = ";" if i < len(design.ports) - 1 else ""
        doc = f"  -- {port.doc}" if port.doc else ""
        direction = "in" if str(port.direction).startswith("in") else "out"
        lines.append(f"        {port.name} : {direction} {_type(port.width)}{end}{doc}")
    lines += ["    );", f"end entity {design.name};", "", f"architecture rtl of {design.name} is"]
    declarations = [f"    signal {net.name} : {_type(net.width)};" for net in design.nets]
    statements: list[str] = []
    for block in design.blocks:
        decls, body = _block(block, widths)
        declarations += decls
        statements += ["", *body]
    lines += [*declarations, "begin", *statements, "end architecture rtl;", ""]
    return "\n".join(lines)


def write_vhdl(design: TopDesign, out_dir: Path) -> tuple[Path, ...]:
    """Write ``<top>.vhd`` and the templates it instantiates into ``out_dir``.

    Returns the files written in analysis order (templates first, then the top),
    each written through a temporary file and a rename.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    kinds = sorted({block.kind for block in design.blocks if block.kind in TEMPLATE_MODULES})
    text = render_vhdl_top(design)
    written: list[Path] = []
    for kind in kinds:
        module = TEMPLATE_MODULES[kind]
        written.append(_write(out_dir / f"{module}.vhd", vhdl_template_text(module)))
    written.append(_write(out_dir / f"{design.name}.vhd", text))
    return tuple(written)


def _write(path: Path, text: str) -> Path:
    with atomic_output(path) as tmp:
        tmp.write_text(text)
    return path


def vhdl_analysis_order(files: Sequence[Path], name: str) -> list[Path]:
    """One datapath's VHDL files in an order VHDL can analyse them.

    An entity is analysed before the entities that instantiate it: the pipeline
    stages (``<name>_stage<i>``) first, then ``<name>`` itself, its wrapper last.
    """

    def rank(path: Path) -> tuple[int, int, str]:
        stem = path.stem
        if stem == f"{name}_wrapper":
            return (2, 0, stem)
        if stem == name:
            return (1, 0, stem)
        stage = stem.removeprefix(f"{name}_stage")
        return (0, int(stage) if stage.isdigit() else -1, stem)

    return sorted(files, key=rank)


def vhdl_sources(root: Path, top: str) -> list[Path]:
    """Every VHDL file of a firmware directory, in analysis order (into library ``work``).

    da4ml's static entities, then each datapath (stages, pipeline, wrapper), the
    templates, and the top entity ``top`` last. Run the simulator in ``rtl/``: the
    lookup tables read their memory files by relative name.
    """
    vhdl = Path(root) / "rtl" / VHDL_DIR
    static = sorted((vhdl / VHDL_STATIC).glob("*.vhd"))
    datapaths: list[Path] = []
    for directory in sorted(p for p in vhdl.iterdir() if p.is_dir() and p.name != VHDL_STATIC):
        datapaths += vhdl_analysis_order(sorted(directory.glob("*.vhd")), directory.name)
    templates = sorted(p for p in vhdl.glob("*.vhd") if p.stem != top)
    return [*static, *datapaths, *templates, vhdl / f"{top}.vhd"]
