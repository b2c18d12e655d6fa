"""Seed plan -> da4ml combinational logic (``CombLogic``), one function per seed kind.

Each cut seed's datapath is traced with da4ml's symbolic fixed-point variables on
raw integers, computing exactly what the emulator's kernels compute
(:mod:`emulator.seeds`): object cuts, top-n legs, pair cuts with the plan's LUT
contents, HT, MET (vector sum through the φ LUTs, exact integer square root) and
the threshold compare. Expression seeds (conditions and their boolean program)
are traced by :mod:`firmware._trace_expr` on the same helpers. The input is the
flat vector :func:`seed_input_layout` defines (the order the top-module generator
uses); the outputs are the raw score and the decision bit. ``CombLogic.predict``
(da4ml's C++ interpreter) runs it.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from numpy.typing import NDArray

from emulator.fixed import FixedType
from emulator.plan import (
    MET_SLOT,
    NO_CANDIDATE,
    BxSlots,
    Field,
    MenuPlan,
    PairLimits,
    PlanKind,
    SeedLuts,
    SeedPlan,
)
from firmware._errors import FirmwareError
from firmware._trace_fixed import cast

__all__ = [
    "OUTPUTS",
    "SLOT_FIELDS",
    "InputEntry",
    "TraceError",
    "TracedSeed",
    "input_values",
    "seed_input_layout",
    "trace_seed",
]

#: Fields of one object slot in the flat input vector, in this order. ``valid`` is 1
#: for an object and 0 for an empty slot (whose other fields are 0).
SLOT_FIELDS: tuple[str, ...] = ("pt", "eta", "phi", "quality", "valid")

#: Outputs of a traced seed, in order: the raw score (in the seed's score type;
#: -1 = no candidate for LEADING/PAIR) and the decision bit ``score >= threshold``.
OUTPUTS: tuple[str, ...] = ("score", "fired")

#: da4ml ships no type information: its objects are ``Any`` here
_trace: Any = importlib.import_module("da4ml.trace")
FixedVariable = Any
CombLogic = Any

_FIELD = {"pt": Field.PT, "eta": Field.ETA, "phi": Field.PHI, "quality": Field.QUALITY}


#: the cut-seed kinds :func:`trace_seed` generates; anything else is refused by name
_TRACED_KINDS = frozenset(
    {
        PlanKind.LEADING,
        PlanKind.PAIR,
        PlanKind.HT,
        PlanKind.MET_OBJECTS,
        PlanKind.MET_EVENT,
        PlanKind.EXPRESSION,
    }
)


class TraceError(FirmwareError):
    """A seed that cannot be traced; the message names the seed."""


@dataclass(frozen=True)
class InputEntry:
    """One value of the flat input vector: a slot field as a raw integer of ``raw_type``."""

    collection: str
    slot: int
    field: str
    raw_type: FixedType


@dataclass(frozen=True)
class TracedSeed:
    """A seed's combinational logic with the meaning of its inputs and outputs."""

    name: str
    kind: PlanKind
    comb: CombLogic
    inputs: tuple[InputEntry, ...]
    #: names of the outputs (:data:`OUTPUTS`), raw integers
    outputs: tuple[str, ...]
    score_type: FixedType
    threshold_raw: int


def _integer(t: FixedType) -> FixedType:
    """The raw-integer type of a field type (same width and sign, no fraction)."""
    return FixedType(t.width, t.width, signed=t.signed)


def slot_field_types(plan: MenuPlan) -> dict[str, FixedType]:
    """The type of each of the :data:`SLOT_FIELDS` on the input port (raw integers)."""
    return {
        "pt": _integer(plan.pt_type),
        "eta": plan.eta_type,
        "phi": plan.phi_type,
        "quality": _integer(plan.quality_type),
        "valid": FixedType(1, 1, signed=False),
    }


def seed_input_layout(seed: SeedPlan, plan: MenuPlan) -> tuple[InputEntry, ...]:
    """The flat input vector of a seed, in order.

    For each of the seed's collections (plan order of ``seed.collections``), each
    slot 0 .. count-1 (decreasing pT), the :data:`SLOT_FIELDS`: pT (raw of the pT
    type), η and φ (angle counts), quality, valid. A MET_EVENT seed reads the MET
    word: ``("met", 0, "pt")`` in the raw of the ``sum`` type.
    """
    if seed.kind is PlanKind.MET_EVENT:
        return (InputEntry(MET_SLOT, 0, "pt", _integer(plan.met_type)),)
    if seed.kind is PlanKind.EXPRESSION:
        from firmware._trace_expr import expression_layout  # noqa: PLC0415 - imports this module

        return expression_layout(seed, plan)
    types = slot_field_types(plan)
    return tuple(
        InputEntry(collection, slot, name, types[name])
        for collection in seed.collections
        for slot in range(plan.slot_count(collection))
        for name in SLOT_FIELDS
    )


def input_values(layout: tuple[InputEntry, ...], slots: BxSlots) -> NDArray[np.float64]:
    """(n_bx, len(layout)) raw integers of the BX's slots, as the traced logic takes them."""
    from firmware._trace_expr_fields import extra_values  # noqa: PLC0415 - layering

    out = np.empty((len(slots), len(layout)), np.float64)
    for k, entry in enumerate(layout):
        if entry.field == "valid":
            out[:, k] = slots.collections[entry.collection].valid[:, entry.slot]
        elif entry.field not in _FIELD:
            c = slots.collections[entry.collection]
            out[:, k] = extra_values(c, entry.field, entry.slot, entry.raw_type)
        else:
            out[:, k] = slots.raw(entry.collection, entry.slot, _FIELD[entry.field])
    return out


# ---------------------------------------------------------------------- helpers
def _const(value: int, like: FixedVariable) -> FixedVariable:
    return _trace.FixedVariable.from_const(value, hwconf=like.hwconf)


def _mux(cond: FixedVariable, a: FixedVariable, b: FixedVariable | int) -> FixedVariable:
    """``a`` where the 1-bit ``cond`` is 1, else ``b``."""
    other = _const(b, a) if isinstance(b, int) else b
    return cond.msb_mux(a, other)


def _cast(x: FixedVariable, src: FixedType, dst: FixedType, seed: SeedPlan) -> FixedVariable:
    """Raw of ``src`` -> raw of ``dst`` with ``dst``'s rounding and overflow (ap_fixed assignment).

    The one traced cast, :func:`firmware._trace_fixed.cast`, works on values: scale the
    raw integer to its value, cast, and scale back to the destination's raw integer.
    """
    try:
        value = cast(x * Decimal(2) ** -src.frac, dst)
    except FirmwareError as exc:
        raise TraceError(f"seed {seed.name!r}: {exc}") from None
    return value * Decimal(2) ** dst.frac


def _table(values: NDArray[np.int64], var: FixedVariable, offset: int) -> NDArray[np.float64]:
    """LUT entries for every value ``var`` can take: ``values[v + offset]``, clamped at the end."""
    index = np.arange(int(var.low), int(var.high) + 1) + offset
    return values[np.clip(index, 0, values.shape[0] - 1)].astype(np.float64)


class _Slots:
    """The symbolic slot fields of one collection (lists over slots)."""

    def __init__(self, variables: list[FixedVariable], layout: tuple[InputEntry, ...]) -> None:
        self.fields: dict[str, list[FixedVariable]] = {name: [] for name in SLOT_FIELDS}
        for var, entry in zip(variables, layout, strict=True):
            t = entry.raw_type
            self.fields.setdefault(entry.field, []).append(
                var.quantize(int(t.signed), t.width - int(t.signed), 0)
            )

    def passes(self, seed: SeedPlan, j: int) -> FixedVariable:
        """1 when slot ``j`` holds an object passing the seed's object cut."""
        f, cut = self.fields, seed.cut
        result = f["valid"][j]
        if cut.pt_min > 0:
            result = result & (f["pt"][j] >= cut.pt_min)
        if cut.eta_max is not None:
            result = result & (abs(f["eta"][j]) <= cut.eta_max)
        if cut.min_quality > 0:
            result = result & (f["quality"][j] >= cut.min_quality)
        return result


# ---------------------------------------------------------------------- kinds
def _leading(seed: SeedPlan, c: _Slots) -> FixedVariable:
    pts = c.fields["pt"]
    candidates = [_mux(c.passes(seed, j), pts[j], NO_CANDIDATE) for j in range(len(pts))]
    n = len(seed.legs)
    if n == 1:  # the highest passing pT (-1: none): a max tree, no sorting network
        return _tree_max(candidates)
    symbolic: Any = np.sort(_trace.FixedVariableArray(np.array(candidates, dtype=object)))
    ordered = symbolic._vars[::-1]  # da4ml's bitonic sorting network, ascending
    ok = ordered[n - 1] >= 0  # n objects passed
    for k in range(n - 1):
        ok = ok & (ordered[k] >= seed.legs[k])
    return _mux(ok, ordered[n - 1], NO_CANDIDATE)


def _folded_dphi(a: FixedVariable, b: FixedVariable, half_turn: int) -> FixedVariable:
    d = abs(a - b)
    turn = 2 * half_turn
    for multiple in range(int(d.high) // turn, 0, -1):  # d mod 2·half_turn
        d = _mux(d >= multiple * turn, d - multiple * turn, d)
    folded = _mux(d > half_turn, turn - d, d)
    # the mux's range is the union of both branches; the folded value lies in
    # [0, half_turn]: an unsigned wrap to that many bits is exact and narrows it
    return folded.quantize(0, half_turn.bit_length(), 0)


def _isqrt_int(n: int) -> int:
    """floor(sqrt(n)) of a non-negative Python integer."""
    return math.isqrt(n)


def _cap(hi: int | None, dr2_hi: int | None) -> int | None:
    """The smallest |Δ| that fails the upper limits: ``hi`` on Δ itself, ``dr2_hi`` on ΔR²."""
    caps = [h + 1 for h in (hi,) if h is not None]
    if dr2_hi is not None:
        caps.append(_isqrt_int(dr2_hi) + 1)
    return min(caps) if caps else None


def _narrow(value: FixedVariable, cap: int | None) -> FixedVariable:
    """``min(value, cap)`` of a non-negative value (None: no cap), range narrowed to it."""
    if cap is None or cap >= value.high:
        return value
    return value.min_of(cap).quantize(0, cap.bit_length(), 0)  # exact: 0 <= value <= cap


def _square(value: FixedVariable) -> FixedVariable:
    """value² of a small non-negative integer: a table up to 64 entries, else a product
    (da4ml prices a table of a b-bit index at 2^(b-5) LUTs per two output bits)."""
    if value.high - value.low < 64:
        index = np.arange(int(value.low), int(value.high) + 1, dtype=np.float64)
        return value.lookup(index * index)
    return value * value


def _tree_max(values: list[FixedVariable]) -> FixedVariable:
    """The maximum of ``values`` as a balanced tree (log-depth, not a chain)."""
    while len(values) > 1:
        pairs = [a.max_of(b) for a, b in zip(values[::2], values[1::2], strict=False)]
        values = pairs + ([values[-1]] if len(values) % 2 else [])
    return values[0]


def _within(value: FixedVariable, lo: int | None, hi: int | None) -> list[FixedVariable]:
    """The 0/1 conditions ``value >= lo`` and ``value <= hi`` (None: no limit)."""
    conditions = []
    if lo is not None:
        conditions.append(value >= lo)
    if hi is not None:
        conditions.append(value <= hi)
    return conditions


class _PairGeometry:
    """Per-seed helpers of the pair datapath: what every pair of slots shares.

    The emulator tests every pair of objects that pass the object cut. Values that
    only matter when a pair can pass are narrowed, which changes no decision and no
    score (the hardware then needs fewer bits, smaller tables and products):

    * η of an object passing ``|η| <= eta_max`` lies in ``[-eta_max, eta_max]``:
      clamping every η there leaves every passing pair's Δη as it is;
    * |Δη| and |Δφ| are capped at the first value that breaks an upper limit on
      themselves or on ΔR² (the pair fails either way: a capped Δ still breaks it);
    * ΔR² with only a lower limit ``lo`` is computed from |Δ|s capped at
      ceil(sqrt(lo)) (a capped term alone reaches ``lo``, as the true one does);
    * m² = 2·pT_a·pT_b·(cosh[Δη] - cos[Δφ]) looks the tables up over the capped
      ranges only; pT_a·pT_b is the same product as high·low.
    """

    def __init__(self, limits: PairLimits, luts: SeedLuts) -> None:
        self.limits = limits
        self.luts = luts
        self.deta_cap = _cap(limits.deta.hi, limits.dr2.hi)
        self.dphi_cap = _cap(limits.dphi.hi, limits.dr2.hi)
        self.dr2_cap: int | None = None
        if limits.dr2.hi is None and limits.dr2.lo is not None:
            self.dr2_cap = _isqrt_int(max(limits.dr2.lo - 1, 0)) + 1  # ceil(sqrt(lo))

    def passes(
        self,
        pt_a: FixedVariable,
        pt_b: FixedVariable,
        deta: FixedVariable,
        dphi: FixedVariable,
    ) -> FixedVariable | None:
        """1 when the pair conditions hold (None: no condition)."""
        limits, luts = self.limits, self.luts
        deta = _narrow(deta, self.deta_cap)
        dphi = _narrow(dphi, self.dphi_cap)
        conditions = [
            *_within(deta, limits.deta.lo, limits.deta.hi),
            *_within(dphi, limits.dphi.lo, limits.dphi.hi),
        ]
        if limits.dr2.is_set:
            dr2 = _square(_narrow(deta, self.dr2_cap)) + _square(_narrow(dphi, self.dr2_cap))
            conditions += _within(dr2, limits.dr2.lo, limits.dr2.hi)
        if limits.needs_mass:
            cosh = deta.lookup(_table(luts.cosh, deta, 0))
            cos = dphi.lookup(_table(luts.cos, dphi, 0))
            m2 = 2 * (pt_a * pt_b) * (cosh - cos)
            conditions += _within(m2, limits.mass2.lo, limits.mass2.hi)
        ok: FixedVariable | None = None
        for condition in conditions:
            ok = condition if ok is None else ok & condition
        return ok


def _pair(seed: SeedPlan, c: _Slots, plan: MenuPlan) -> FixedVariable:
    """Max over pairs of passing objects (harder one at the leading leg, pair
    conditions met) of the softer pT; :data:`NO_CANDIDATE` when none passes."""
    assert seed.pair is not None
    geometry = _PairGeometry(seed.pair, plan.luts)
    pt, eta, phi = c.fields["pt"], c.fields["eta"], c.fields["phi"]
    n = len(pt)
    passing = [c.passes(seed, j) for j in range(n)]
    leading = [pt[j] >= seed.legs[0] for j in range(n)]
    if seed.cut.eta_max is not None:  # see _PairGeometry
        eta = [e.max_of(-seed.cut.eta_max).min_of(seed.cut.eta_max) for e in eta]
    candidates = []
    for a in range(n):
        for b in range(a + 1, n):
            ok = passing[a] & passing[b] & (leading[a] | leading[b])
            deta = abs(eta[a] - eta[b])
            dphi = _folded_dphi(phi[a], phi[b], plan.luts.half_turn)
            conditions = geometry.passes(pt[a], pt[b], deta, dphi)
            if conditions is not None:
                ok = ok & conditions
            candidates.append(_mux(ok, pt[a].min_of(pt[b]), NO_CANDIDATE))
    return _tree_max(candidates) if candidates else _const(NO_CANDIDATE, pt[0])


def _ht(seed: SeedPlan, c: _Slots) -> FixedVariable:
    assert seed.sum_type is not None
    pts = c.fields["pt"]
    total = sum((_mux(c.passes(seed, j), pts[j], 0) for j in range(len(pts))), _const(0, pts[0]))
    return _cast(total, seed.sum_type, seed.score_type, seed)


def _isqrt(square: FixedVariable) -> FixedVariable:
    """floor(sqrt(square)) of a non-negative integer, one result bit at a time.

    The square of each trial root is kept alongside the root and updated with adds
    and shifts only, (r + 2^b)² = r² + r·2^(b+1) + 2^(2b), so no step multiplies two
    variables (a multiply per bit made MET 67 pipeline stages deep).
    """
    bits = (int(square.high).bit_length() + 1) // 2
    root = _const(0, square)
    root_sq = _const(0, square)
    for b in range(bits - 1, -1, -1):
        trial_sq = root_sq + root * (1 << (b + 1)) + (1 << (2 * b))
        keep = trial_sq <= square
        root = _mux(keep, root + (1 << b), root)
        root_sq = _mux(keep, trial_sq, root_sq)
    return root


def _met(seed: SeedPlan, collections: list[_Slots], plan: MenuPlan) -> FixedVariable:
    assert seed.sum_type is not None
    luts = plan.luts
    px: FixedVariable | None = None
    py: FixedVariable | None = None
    for c in collections:
        for j, (pt, phi) in enumerate(zip(c.fields["pt"], c.fields["phi"], strict=True)):
            selected = _mux(c.passes(seed, j), pt, 0)
            x = selected * phi.lookup(_table(luts.cos_phi, phi, luts.phi_offset))
            y = selected * phi.lookup(_table(luts.sin_phi, phi, luts.phi_offset))
            px = x if px is None else px + x
            py = y if py is None else py + y
    assert px is not None
    assert py is not None
    scale = Decimal(2) ** -luts.fraction_bits
    # floor(p / 2^F): an arithmetic shift right, as the kernel's >>
    x = (px * scale).quantize(1, int(max(abs(px.low), px.high)).bit_length(), 0)
    y = (py * scale).quantize(1, int(max(abs(py.low), py.high)).bit_length(), 0)
    return _cast(_isqrt(x * x + y * y), seed.sum_type, seed.score_type, seed)


def trace_seed(seed: SeedPlan, plan: MenuPlan) -> TracedSeed:
    """Trace a cut seed's datapath into a da4ml ``CombLogic`` (outputs: :data:`OUTPUTS`)."""
    if seed.kind is PlanKind.NN:
        raise TraceError(f"seed {seed.name!r}: network seeds are traced by firmware._trace_nn")
    if seed.kind not in _TRACED_KINDS:
        raise TraceError(
            f"seed {seed.name!r}: {seed.kind.name.lower()} seeds have no firmware generator yet "
            "(the emulator runs them; the firmware covers single/double/triple/quad object, "
            "pair, HT, MET, expression and network seeds)"
        )
    layout = seed_input_layout(seed, plan)
    inputs = _trace.FixedVariableArrayInput(len(layout))
    variables: list[Any] = list(inputs._vars)  # da4ml exposes no accessor
    if seed.kind is PlanKind.EXPRESSION:
        from firmware._trace_expr import expression_score  # noqa: PLC0415 - imports this module

        score = expression_score(seed, plan, variables, layout)
        if isinstance(score, int):  # the whole expression is known when tracing
            score = _const(score, variables[0])
    elif seed.kind is PlanKind.MET_EVENT:
        t = layout[0].raw_type
        score = variables[0].quantize(0, t.width, 0)
    else:
        per_collection = [
            _Slots(
                [v for v, e in zip(variables, layout, strict=True) if e.collection == name],
                tuple(e for e in layout if e.collection == name),
            )
            for name in seed.collections
        ]
        if seed.kind is PlanKind.LEADING:
            score = _leading(seed, per_collection[0])
        elif seed.kind is PlanKind.PAIR:
            score = _pair(seed, per_collection[0], plan)
        elif seed.kind is PlanKind.HT:
            score = _ht(seed, per_collection[0])
        else:  # PlanKind.MET_OBJECTS: the only kind left in _TRACED_KINDS
            score = _met(seed, per_collection, plan)
    fired = score >= seed.threshold_raw
    comb = _trace.comb_trace(variables, [score, fired], keep_dead_inputs=True)
    return TracedSeed(
        name=seed.name,
        kind=seed.kind,
        comb=comb,
        inputs=layout,
        outputs=OUTPUTS,
        score_type=seed.score_type,
        threshold_raw=seed.threshold_raw,
    )
