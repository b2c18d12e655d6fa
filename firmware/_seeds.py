"""Every seed of a plan as one da4ml datapath wired to the top module's input ports.

The top module receives, per BX, one input word per collection (``in_<collection>``:
``count`` slots side by side, slot 0 in the lowest bits, each slot pT, η, φ,
quality and a valid bit, in the plan's hardware types, then charge and isolation
where the menu's expression seeds cut on them: :mod:`firmware._trace_expr_fields`)
and the event's MET word
(``in_met``: pT in the ``sum`` type, φ). :func:`input_ports` lays these out.

:func:`trace_menu` traces each seed and says which port field feeds each da4ml
input and what each output carries:

* cut and expression seeds through :func:`firmware._trace.trace_seed` (its
  documented input order, outputs score then decision; expressions through
  :mod:`firmware._trace_expr`); the raw score reaches the top's outputs for the
  seeds whose score the firmware computes anyway (HT, MET);
* network seeds: the network's input vector is computed from the slot integers
  exactly as :func:`emulator.plan.network_input` does (raw · constant with F
  fraction bits, cast to the model's input type), then the network and its score
  through :func:`firmware._trace_nn.seed_outputs` (outputs decision then score).

A seed that cannot be traced is one :class:`FirmwareError` naming it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from emulator.fixed import FixedType
from emulator.menu import Menu, MenuError, menu_to_yaml
from emulator.plan import MET_SLOT, Field, MenuPlan, PlanKind, SeedPlan
from firmware._design import OutputRole, Port, object_port
from firmware._errors import FirmwareError
from firmware._trace_expr_fields import extra_fields
from firmware._trace_fixed import cast, da4ml_module

__all__ = [
    "BIT",
    "MENU_FILE",
    "SLOT_ELEMENT",
    "TracedSeed",
    "input_ports",
    "menu_yaml",
    "port_name",
    "trace_menu",
]

#: the menu a firmware directory was built from, as YAML beside its manifest: the
#: co-simulation reads it back, so a non-default menu needs no ``--menu``
MENU_FILE = "menu.yaml"

#: one unsigned bit (valid flags, decisions)
BIT = FixedType(1, 1, signed=False)
#: fields of an object slot in the input words, LSB first (same order as firmware._trace)
SLOT_ELEMENT = ("pt", "eta", "phi", "quality", "valid")
#: seeds whose raw score the top module outputs (the firmware computes it anyway);
#: an expression seed outputs its decision only
_SCORED = (PlanKind.HT, PlanKind.MET_OBJECTS, PlanKind.MET_EVENT, PlanKind.NN)

#: da4ml CMVM solver options of the network datapaths (see firmware._trace_nn)
_SOLVER_OPTIONS = {"hard_dc": 2}

Described = tuple[str, OutputRole, FixedType] | None


@dataclass(frozen=True)
class TracedSeed:
    """A seed's combinational logic and how it connects to the top module.

    ``inputs[j]`` = (port, field, type of the value da4ml input j holds);
    ``outputs[j]`` = (seed, role, type) of output j, or None when the top leaves it
    unused (see :func:`firmware.hdl._da4ml.datapath_spec`).
    """

    seed: SeedPlan
    logic: Any
    inputs: tuple[tuple[str, str, FixedType], ...]
    outputs: tuple[Described, ...]


def port_name(collection: str) -> str:
    """The input port of a collection (``met`` for the event's MET word)."""
    return f"in_{collection}"


def input_ports(plan: MenuPlan) -> list[Port]:
    """The data input ports of the top module (see the module docstring)."""
    element = [
        ("pt", plan.pt_type),
        ("eta", plan.eta_type),
        ("phi", plan.phi_type),
        ("quality", plan.quality_type),
        ("valid", BIT),
    ]
    extras = extra_fields(plan)
    ports = []
    for s in plan.slots:
        fields = element + list(extras[s.collection])
        names = ", ".join(name for name, _ in fields)
        ports.append(
            object_port(
                port_name(s.collection),
                s.count,
                fields,
                f"{s.count} {s.collection} slots by decreasing pT ({names})",
            )
        )
    met = [("pt", plan.met_type), ("phi", plan.phi_type)]
    ports.append(object_port(port_name(MET_SLOT), 1, met, "event MET word (pt, phi)"))
    return ports


def menu_yaml(menu: Menu) -> str | None:
    """The text of :data:`MENU_FILE` (None: a menu the YAML writer cannot express)."""
    try:
        return menu_to_yaml(
            menu, header=f"menu {menu.name!r} as built into this firmware directory"
        )
    except MenuError:
        return None


def _integer(t: FixedType) -> FixedType:
    """The raw-integer type of a field type (same width and sign)."""
    return FixedType(t.width, t.width, signed=t.signed)


def _trace_cut(seed: SeedPlan, plan: MenuPlan) -> TracedSeed:
    from firmware._trace import OUTPUTS, trace_seed  # noqa: PLC0415 - imports da4ml

    traced = trace_seed(seed, plan)
    inputs = tuple(
        (port_name(e.collection), f"{e.field}[{e.slot}]", e.raw_type) for e in traced.inputs
    )
    roles: dict[str, Described] = {
        "fired": (seed.name, OutputRole.DECISION, BIT),
        "score": (
            (seed.name, OutputRole.SCORE, _integer(seed.score_type))
            if seed.kind in _SCORED
            else None
        ),
    }
    if tuple(traced.outputs) != OUTPUTS or set(OUTPUTS) != set(roles):
        raise FirmwareError(f"seed {seed.name!r}: unexpected traced outputs {traced.outputs}")
    return TracedSeed(seed, traced.comb, inputs, tuple(roles[o] for o in traced.outputs))


def _slot_type(plan: MenuPlan, collection: str, field: Field) -> FixedType:
    """Raw-integer type of one slot field as the input word holds it."""
    if collection == MET_SLOT and field is Field.PT:
        return _integer(plan.met_type)
    types = (plan.pt_type, plan.eta_type, plan.phi_type, plan.quality_type)
    return _integer(types[field])


def _trace_network(seed: SeedPlan, plan: MenuPlan) -> TracedSeed:
    """A network seed from the slot integers: input conversion, network, score, compare."""
    from firmware._trace_nn import ScoreSpec, seed_outputs  # noqa: PLC0415 - imports da4ml

    network = seed.nn
    assert network is not None  # a NN seed of the plan has its network
    trace = da4ml_module("da4ml.trace")
    hwconf = trace.HWConfig(1, -1, -1)
    # the distinct slot fields the conversion reads, in first-use order (MET η and
    # quality are constant 0 and read nothing)
    sources: list[tuple[str, int, Field]] = []
    for entry in network.inputs:
        key = (entry.collection, entry.slot, entry.field)
        constant_zero = entry.collection == MET_SLOT and entry.field in (Field.ETA, Field.QUALITY)
        if key not in sources and not constant_zero:
            sources.append(key)
    # hard_dc=2 as firmware._trace_nn's own entry point: without it da4ml's CMVM
    # solver takes 10-20 times longer on the default networks (52 s instead of 5 s)
    inp = trace.FixedVariableArrayInput((len(sources),), hwconf, solver_options=_SOLVER_OPTIONS)
    raw: dict[tuple[str, int, Field], Any] = {}
    inputs = []
    for k, key in enumerate(sources):
        t = _slot_type(plan, key[0], key[2])
        raw[key] = inp[k].quantize(int(t.signed), t.width - int(t.signed), 0)
        inputs.append((port_name(key[0]), f"{key[2].name.lower()}[{key[1]}]", t))
    scale = Decimal(2) ** -network.constant_fraction_bits
    features = []
    for entry in network.inputs:
        key = (entry.collection, entry.slot, entry.field)
        if key in raw:
            value = raw[key] * entry.constant_raw * scale
        else:
            value = trace.FixedVariable.from_const(0, hwconf=hwconf)
        features.append(cast(value, network.input_type))
    vec = np.empty(len(features), dtype=object)
    vec[:] = features
    x = trace.FixedVariableArray(vec, inp.solver_options, hwconf=hwconf)
    spec = ScoreSpec.of(
        network.score.value,
        output=network.output,
        accum_type=network.accum_type,
        diff_type=network.diff_type,
        scale_type=network.scale_type,
        out_type=network.out_type,
        time_raw=network.time_raw,
    )
    decision, score, score_type = seed_outputs(spec, network.model, x, seed.threshold_raw)
    logic = trace.comb_trace(inp, [decision, score])
    outputs: tuple[Described, ...] = (
        (seed.name, OutputRole.DECISION, BIT),
        (seed.name, OutputRole.SCORE, score_type),
    )
    return TracedSeed(seed, logic, tuple(inputs), outputs)


def trace_seed_datapath(seed: SeedPlan, plan: MenuPlan) -> TracedSeed:
    """One seed traced (see the module docstring); errors name the seed."""
    try:
        if seed.kind is PlanKind.NN:
            return _trace_network(seed, plan)
        return _trace_cut(seed, plan)
    except FirmwareError as exc:
        if repr(seed.name) in str(exc) or f"seed {seed.name}" in str(exc):
            raise
        raise FirmwareError(f"seed {seed.name!r}: {exc}") from exc
    except Exception as exc:  # da4ml raises plain errors and assertions
        message = str(exc)
        if repr(seed.name) not in message:
            message = f"seed {seed.name!r}: cannot trace its datapath: {type(exc).__name__}: {exc}"
        raise FirmwareError(message) from exc


def trace_menu(plan: MenuPlan) -> list[TracedSeed]:
    """Every seed of the plan traced, in menu order."""
    return [trace_seed_datapath(seed, plan) for seed in plan.seeds]
