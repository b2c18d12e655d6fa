"""The menu's top module as a small typed design: ports, nets, blocks. No HDL text here.

:func:`build_top` takes what the tracers produce (one :class:`DatapathSpec` per
da4ml module, with its latency and the slot layout of ``model_inp``/``model_out``)
plus each seed's prescale and mask and the trigger rules, and lays out the whole
top module as a :class:`TopDesign`: every port with its bit fields, every internal
net, and every block (:class:`BlockKind`) wired by :class:`Signal` references. The
HDL generators (``firmware.hdl.verilog``, later ``firmware.hdl.vhdl``) only print it.

Timing (da4ml's convention: the inputs sampled at rising edge t are readable on
the outputs after rising edge t + latency). A clocked da4ml module (latency L >= 1)
reads the input ports directly (it registers them itself); a combinational one
(L = 0) reads one input register. Every seed's decision and score are delayed to
the slowest datapath (L_max), then come three registered stages:

1. prescale counters (also register the raw decision, gated by ``valid``);
2. masks and final OR;
3. trigger rules (L1 accept and the veto/dead flag).

So **latency = max over datapaths of L + 3**, and every output (decisions,
scores, prescaled bits, final OR, L1 accept, the BX/orbit labels and the strobes)
belongs to the same BX. A new BX enters every clock cycle (II = 1).

``valid`` low means "no BX record in this cycle": time still passes for the trigger
rules, nothing fires and no prescale counter moves, exactly as the emulator treats
a gap in its BX numbers. ``colliding`` does not gate anything (the emulator's
replay applies no colliding condition); it travels with the BX to the outputs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from emulator.fixed import FixedType
from emulator.rules import TriggerRule
from firmware._errors import FirmwareError
from streams.timeline import BX_PER_ORBIT

__all__ = [
    "BX_WIDTH",
    "ORBIT_WIDTH",
    "SEQUENTIAL_STAGES",
    "Block",
    "BlockKind",
    "BxCounter",
    "Datapath",
    "DatapathInput",
    "DatapathOutput",
    "DatapathSpec",
    "Delay",
    "Direction",
    "Field",
    "FinalOr",
    "Net",
    "OutputRole",
    "Port",
    "Prescale",
    "SeedSpec",
    "Signal",
    "SlotInput",
    "SlotOutput",
    "TopDesign",
    "TriggerRules",
    "build_top",
    "object_port",
]

#: registered stages after the aligned datapaths: prescale, final OR, trigger rules
SEQUENTIAL_STAGES = 3
#: bits of the BX number (0 .. 3563) and of the wrapping orbit counter on the outputs
BX_WIDTH = 12
ORBIT_WIDTH = 32

_BIT = FixedType(1, 1, signed=False)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class Direction(StrEnum):
    """Port direction."""

    INPUT = "input"
    OUTPUT = "output"


class BlockKind(StrEnum):
    """What a block of the top module is (one template or generated module each)."""

    #: a da4ml-generated combinational or pipelined module
    DATAPATH = "datapath"
    #: shift register that aligns bits in time (template ``delay_line.v``)
    DELAY = "delay"
    #: fractional prescale counter of one seed (``prescale.v``)
    PRESCALE = "prescale"
    #: masks and the final OR (``final_or.v``)
    OR = "or"
    #: trigger rules and their veto (``trigger_rules.v``)
    RULES = "rules"
    #: BX / orbit counter labelling the outputs (``bx_counter.v``)
    BX_COUNTER = "bx_counter"


class OutputRole(StrEnum):
    """What an output slot of a datapath carries for its seed."""

    DECISION = "decision"
    SCORE = "score"


@dataclass(frozen=True)
class Field:
    """Bits ``[lsb, lsb + width)`` of a port hold ``name``, a raw integer of ``type``."""

    name: str
    lsb: int
    type: FixedType

    @property
    def width(self) -> int:
        """Bits of the field (the type's width)."""
        return self.type.width


@dataclass(frozen=True)
class Port:
    """A port of the top module; ``fields`` describe its bit layout, LSB first."""

    name: str
    direction: Direction
    width: int
    fields: tuple[Field, ...] = ()
    doc: str = ""

    def __post_init__(self) -> None:
        if not _IDENTIFIER.match(self.name):
            raise FirmwareError(f"port {self.name!r}: not a valid HDL identifier")
        used = 0
        for f in self.fields:
            mask = ((1 << f.width) - 1) << f.lsb
            if f.lsb < 0 or f.lsb + f.width > self.width or used & mask:
                raise FirmwareError(
                    f"port {self.name!r}: field {f.name!r} (bits {f.lsb}+{f.width}) "
                    f"overlaps another field or leaves the {self.width}-bit port"
                )
            used |= mask

    def field(self, name: str) -> Field:
        """The field called ``name`` (FirmwareError naming the port when absent)."""
        for f in self.fields:
            if f.name == name:
                return f
        raise FirmwareError(f"port {self.name!r} has no field {name!r}")


def object_port(
    name: str, n_slots: int, element: Sequence[tuple[str, FixedType]], doc: str = ""
) -> Port:
    """An input word of ``n_slots`` objects side by side, slot 0 in the lowest bits.

    Each object is ``element`` (e.g. pt, eta, phi, quality in hardware types), packed
    LSB first; field ``"pt[3]"`` is the pT of slot 3.
    """
    stride = sum(t.width for _, t in element)
    fields: list[Field] = []
    for slot in range(n_slots):
        lsb = slot * stride
        for field_name, fixed_type in element:
            fields.append(Field(f"{field_name}[{slot}]", lsb, fixed_type))
            lsb += fixed_type.width
    return Port(name, Direction.INPUT, n_slots * stride, tuple(fields), doc)


@dataclass(frozen=True)
class Signal:
    """Bits ``[lsb, lsb + width)`` of a port or internal net of the top module."""

    net: str
    lsb: int = 0
    width: int = 1


@dataclass(frozen=True)
class Net:
    """An internal wire of the top module."""

    name: str
    width: int


@dataclass(frozen=True)
class SlotInput:
    """``model_inp`` slot ``index`` = ``source`` (sign-extended if ``signed``) << ``shift``."""

    index: int
    source: Signal
    shift: int
    signed: bool


@dataclass(frozen=True)
class SlotOutput:
    """``target`` = bits ``[shift, shift + target.width)`` of ``model_out`` slot ``index``.

    Bits beyond the slot repeat its top bit when ``signed`` (da4ml sign-extends
    signed values over the slot), else they are 0.
    """

    index: int
    shift: int
    signed: bool
    target: Signal


@dataclass(frozen=True)
class Datapath:
    """A da4ml module (its ``*_wrapper``): uniform input and output slots.

    ``latency`` is da4ml's (pipeline stages); 0 means a combinational module with
    no clock port. ``outputs`` pick the used values out of ``model_out``.
    """

    kind: ClassVar[BlockKind] = BlockKind.DATAPATH
    name: str
    module: str
    latency: int
    inp_slot_width: int
    n_inp: int
    inputs: tuple[SlotInput, ...]
    out_slot_width: int
    n_out: int
    outputs: tuple[SlotOutput, ...]


@dataclass(frozen=True)
class Delay:
    """``out`` is ``source`` ``depth`` clock cycles later (0 = a plain wire)."""

    kind: ClassVar[BlockKind] = BlockKind.DELAY
    name: str
    source: Signal
    out: Signal
    depth: int
    reset: bool = False


@dataclass(frozen=True)
class Prescale:
    """Prescale counter of ``seed`` (factor in hundredths, 0 = disabled)."""

    kind: ClassVar[BlockKind] = BlockKind.PRESCALE
    name: str
    seed: str
    factor_x100: int
    fire: Signal
    valid: Signal
    fired: Signal
    passed: Signal


@dataclass(frozen=True)
class FinalOr:
    """OR of the prescaled bits whose ``mask`` entry is False."""

    kind: ClassVar[BlockKind] = BlockKind.OR
    name: str
    passed: Signal
    mask: tuple[bool, ...]
    candidate: Signal


@dataclass(frozen=True)
class TriggerRules:
    """Trigger rules on the final OR: L1 accept and the dead (veto) flag."""

    kind: ClassVar[BlockKind] = BlockKind.RULES
    name: str
    rules: tuple[TriggerRule, ...]
    candidate: Signal
    accept: Signal
    dead: Signal


@dataclass(frozen=True)
class BxCounter:
    """Free-running BX / orbit counter, (start_bx, start_orbit) after reset."""

    kind: ClassVar[BlockKind] = BlockKind.BX_COUNTER
    name: str
    start_bx: int
    start_orbit: int
    bx: Signal
    orbit: Signal
    bx_per_orbit: int = BX_PER_ORBIT
    orbit_width: int = ORBIT_WIDTH


Block = Datapath | Delay | Prescale | FinalOr | TriggerRules | BxCounter


@dataclass(frozen=True)
class TopDesign:
    """The top module: ports, internal nets, blocks in dataflow order, and its timing."""

    name: str
    ports: tuple[Port, ...]
    nets: tuple[Net, ...]
    blocks: tuple[Block, ...]
    latency: int
    seeds: tuple[str, ...]
    ii: int = 1

    def port(self, name: str) -> Port:
        """The port called ``name``."""
        for port in self.ports:
            if port.name == name:
                return port
        raise FirmwareError(f"top module {self.name!r} has no port {name!r}")


# ---------------------------------------------------------------- what the tracers give


@dataclass(frozen=True)
class DatapathInput:
    """``model_inp`` slot ``index`` reads field ``field`` of input port ``port``.

    ``shift`` = the module's widest fraction bits minus the field's (da4ml puts
    ``floor(x * 2^f_max)`` in every slot); negative drops the field's lowest bits.
    """

    index: int
    port: str
    field: str
    shift: int = 0


@dataclass(frozen=True)
class DatapathOutput:
    """``model_out`` slot ``index`` holds ``seed``'s decision bit or raw score.

    The value sits at bit ``shift`` of the slot (the module's widest output fraction
    bits minus the value's own; negative when the value has more fraction bits than
    the slot, whose lowest bits are then 0); ``type`` is the score type (one unsigned
    bit for a decision).
    """

    index: int
    seed: str
    role: OutputRole
    shift: int = 0
    type: FixedType = _BIT


@dataclass(frozen=True)
class DatapathSpec:
    """One da4ml module as the tracer wrote it."""

    name: str
    module: str
    latency: int
    inp_slot_width: int
    n_inp: int
    inputs: tuple[DatapathInput, ...]
    out_slot_width: int
    n_out: int
    outputs: tuple[DatapathOutput, ...]


@dataclass(frozen=True)
class SeedSpec:
    """How the global trigger treats a seed: prescale (in hundredths) and mask."""

    name: str
    prescale_x100: int = 100
    masked: bool = False


def _score_port(seed: str) -> str:
    name = "score_" + re.sub(r"[^A-Za-z0-9_]", "_", seed)
    if not _IDENTIFIER.match(name):
        raise FirmwareError(f"seed {seed!r}: no HDL port name can be made from it")
    return name


def _output_signal(spec: DatapathSpec, output: DatapathOutput) -> Signal:
    """The internal net that carries one datapath output."""
    return Signal(f"{spec.name}_{output.role}_{output.index}", 0, output.type.width)


def _check_spec(spec: DatapathSpec, inputs: dict[str, Port]) -> None:
    where = f"datapath {spec.name!r}"
    if spec.latency < 0 or spec.n_inp < 1 or spec.n_out < 1:
        raise FirmwareError(f"{where}: latency >= 0 and at least one input and output needed")
    if sorted(i.index for i in spec.inputs) != list(range(spec.n_inp)):
        raise FirmwareError(f"{where}: every input slot 0..{spec.n_inp - 1} needs one source")
    for slot in spec.inputs:
        if slot.port not in inputs:
            raise FirmwareError(
                f"{where}: input slot {slot.index} reads unknown port {slot.port!r}"
            )
        field = inputs[slot.port].field(slot.field)
        if not -field.width < slot.shift < spec.inp_slot_width:
            raise FirmwareError(f"{where}: input slot {slot.index}: shift {slot.shift} out of slot")
    for out in spec.outputs:
        if not (0 <= out.index < spec.n_out and -out.type.width < out.shift < spec.out_slot_width):
            raise FirmwareError(
                f"{where}: seed {out.seed!r}: output slot {out.index} bit {out.shift} is "
                f"outside {spec.n_out} slots of {spec.out_slot_width} bits"
            )


def build_top(
    name: str,
    inputs: Sequence[Port],
    datapaths: Sequence[DatapathSpec],
    seeds: Sequence[SeedSpec],
    rules: Sequence[TriggerRule],
) -> TopDesign:
    """Lay out the menu's top module (see the module docstring for the timing).

    ``inputs`` are the data ports, named ``in_*`` (one per collection, the event MET
    word; see :func:`object_port`); clock,
    reset and the strobes are added here. Every seed needs exactly one DECISION
    output among the datapaths and may have one SCORE output. An empty rule set
    becomes "1 accept in 1 BX", which never vetoes, as in the emulator.
    """
    ins = {p.name: p for p in inputs}
    for port in inputs:
        if not port.name.startswith("in_") or port.direction is not Direction.INPUT:
            raise FirmwareError(
                f"top {name!r}: data port {port.name!r} must be an input named in_*"
            )
    seed_names = tuple(s.name for s in seeds)
    if len(set(seed_names)) != len(seed_names) or not seed_names:
        raise FirmwareError(f"top {name!r}: seed names must be unique and at least one")
    for spec in datapaths:
        _check_spec(spec, ins)
    outputs = {(o.seed, o.role): (spec, o) for spec in datapaths for o in spec.outputs}
    n_outputs = sum(len(spec.outputs) for spec in datapaths)
    if len(outputs) != n_outputs:
        raise FirmwareError(f"top {name!r}: a seed has two outputs with the same role")
    for seed in seed_names:
        if (seed, OutputRole.DECISION) not in outputs:
            raise FirmwareError(f"seed {seed!r}: no datapath outputs its decision bit")
    unknown = sorted({s for s, _ in outputs} - set(seed_names))
    if unknown:
        raise FirmwareError(f"top {name!r}: datapath outputs for unknown seeds {unknown}")

    slowest = max((spec.latency for spec in datapaths), default=0)
    latency = slowest + SEQUENTIAL_STAGES
    if latency + 1 > BX_PER_ORBIT:
        raise FirmwareError(f"top {name!r}: latency {latency} does not fit in one orbit")
    n = len(seeds)
    clk_ports = [
        Port("clk", Direction.INPUT, 1, doc="clock; one BX per cycle (II = 1)"),
        Port("rst", Direction.INPUT, 1, doc="synchronous reset, active high"),
        Port("valid", Direction.INPUT, 1, doc="this cycle carries a BX record"),
        Port("colliding", Direction.INPUT, 1, doc="the BX has colliding bunches (passed along)"),
    ]
    seed_fields = tuple(Field(s, i, _BIT) for i, s in enumerate(seed_names))
    out_ports = [
        Port("out_valid", Direction.OUTPUT, 1, doc="valid of the BX on the outputs"),
        Port("out_colliding", Direction.OUTPUT, 1, doc="colliding of the BX on the outputs"),
        Port("out_bx", Direction.OUTPUT, BX_WIDTH, doc="BX number (cycles since reset, mod 3564)"),
        Port("out_orbit", Direction.OUTPUT, ORBIT_WIDTH, doc="orbit number since reset"),
        Port("decision", Direction.OUTPUT, n, seed_fields, "raw decisions (score >= threshold)"),
        Port("prescaled", Direction.OUTPUT, n, seed_fields, "decisions after prescale"),
        Port("final_or", Direction.OUTPUT, 1, doc="OR of the prescaled unmasked seeds"),
        Port("l1a", Direction.OUTPUT, 1, doc="L1 accept after the trigger rules"),
        Port("dead", Direction.OUTPUT, 1, doc="the trigger rules veto an accept in this BX"),
    ]
    for seed in seed_names:
        if (seed, OutputRole.SCORE) in outputs:
            score_type = outputs[seed, OutputRole.SCORE][1].type
            score_field = (Field(seed, 0, score_type),)
            out_ports.append(
                Port(
                    _score_port(seed), Direction.OUTPUT, score_type.width, score_field, "raw score"
                )
            )

    nets: list[Net] = []
    blocks: list[Block] = []

    def delay(label: str, source: Signal, out: Signal, depth: int, reset: bool = False) -> None:
        blocks.append(Delay(f"u_delay_{label}", source, out, depth, reset))

    # input registers for the combinational datapaths
    registered = sorted({s.port for spec in datapaths if spec.latency == 0 for s in spec.inputs})
    for port_name in registered:
        width = ins[port_name].width
        nets.append(Net(f"{port_name}_q", width))
        delay(f"{port_name}_q", Signal(port_name, 0, width), Signal(f"{port_name}_q", 0, width), 1)

    # datapaths, each seed's bits aligned to the slowest
    nets += [Net("fire", n), Net("fired", n), Net("passed", n), Net("candidate", 1)]
    nets += [Net("valid_a", 1), Net("colliding_a", 1)]
    delay("valid_a", Signal("valid"), Signal("valid_a"), slowest + 1, reset=True)
    delay("colliding_a", Signal("colliding"), Signal("colliding_a"), slowest + 1, reset=True)
    for spec in datapaths:
        source = "{}_q" if spec.latency == 0 else "{}"
        slots = tuple(
            SlotInput(
                s.index,
                Signal(
                    source.format(s.port),
                    ins[s.port].field(s.field).lsb,
                    ins[s.port].field(s.field).width,
                ),
                s.shift,
                ins[s.port].field(s.field).type.signed,
            )
            for s in sorted(spec.inputs, key=lambda s: s.index)
        )
        outs = tuple(
            SlotOutput(o.index, o.shift, o.type.signed, _output_signal(spec, o))
            for o in spec.outputs
        )
        nets += [Net(o.target.net, o.target.width) for o in outs]
        blocks.append(
            Datapath(
                f"u_{spec.name}", spec.module, spec.latency, spec.inp_slot_width, spec.n_inp,
                slots, spec.out_slot_width, spec.n_out, outs,
            )
        )  # fmt: skip
    for i, seed in enumerate(seed_names):
        for role in OutputRole:
            if (seed, role) not in outputs:
                continue
            spec, o = outputs[seed, role]
            bits = _output_signal(spec, o)
            if role is OutputRole.DECISION:
                delay(f"fire_{i}", bits, Signal("fire", i, 1), slowest - spec.latency)
            else:
                score = _score_port(seed)
                depth = slowest - spec.latency + SEQUENTIAL_STAGES
                delay(score, bits, Signal(score, 0, o.type.width), depth)

    # prescale, masks and final OR, trigger rules
    for i, s in enumerate(seeds):
        blocks.append(
            Prescale(
                f"u_prescale_{i}", s.name, s.prescale_x100, Signal("fire", i),
                Signal("valid_a"), Signal("fired", i), Signal("passed", i),
            )
        )  # fmt: skip
    all_bits = Signal("passed", 0, n)
    blocks.append(
        FinalOr("u_final_or", all_bits, tuple(s.masked for s in seeds), Signal("candidate"))
    )
    rule_set = tuple(rules) or (TriggerRule(1, 1),)
    blocks.append(
        TriggerRules("u_rules", rule_set, Signal("candidate"), Signal("l1a"), Signal("dead"))
    )

    # everything else delayed to the L1 accept
    delay("decision", Signal("fired", 0, n), Signal("decision", 0, n), 2)
    delay("prescaled", all_bits, Signal("prescaled", 0, n), 2)
    delay("final_or", Signal("candidate"), Signal("final_or"), 1)
    delay("out_valid", Signal("valid_a"), Signal("out_valid"), SEQUENTIAL_STAGES, reset=True)
    delay(
        "out_colliding",
        Signal("colliding_a"),
        Signal("out_colliding"),
        SEQUENTIAL_STAGES,
        reset=True,
    )
    blocks.append(
        BxCounter(
            "u_bx_counter", BX_PER_ORBIT - (latency + 1), (1 << ORBIT_WIDTH) - 1,
            Signal("out_bx", 0, BX_WIDTH), Signal("out_orbit", 0, ORBIT_WIDTH),
        )
    )  # fmt: skip
    ports = (*clk_ports, *inputs, *out_ports)
    return TopDesign(name, ports, tuple(nets), tuple(blocks), latency, seed_names)
