"""``build_plan(menu)``: resolve every seed of a menu to hardware integers, once.

Cut values in physics units become raw integers with the "at least" / "at most"
rounding of :func:`emulator.menu.raw_at_least` / :func:`emulator.menu.raw_at_most`
(a cut keeps its meaning on the integer grid); pair limits on squared quantities
are squared first. Accumulator types are sized from the declared object slots so
that no sum can overflow before the final cast to the ``sum`` type.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from emulator.fixed import FixedType
from emulator.menu import (
    COLLECTIONS,
    Condition,
    Leg,
    Menu,
    MenuError,
    PairCuts,
    Seed,
    SeedKind,
    as_fixed,
    raw_at_least,
    raw_at_most,
)
from emulator.menu._expr import And, Expr, Not, Or, Ref
from emulator.plan._conditions import ChargeRule, ConditionPlan, ExpressionPlan, ExprOp, LegPlan
from emulator.plan._luts import COSH_LIMIT, SeedLuts, build_luts, round_half_away
from emulator.plan._records import (
    MET_SLOT,
    Field,
    MenuPlan,
    NetworkInput,
    NetworkPlan,
    NNScore,
    ObjectCut,
    PairLimits,
    PlanKind,
    RawRange,
    SeedPlan,
    SlotPlan,
)

__all__ = ["build_plan"]

#: largest |raw · constant| the input conversion may produce (it runs in int64)
_PRODUCT_LIMIT = 1 << 61


def _bits(n: int) -> int:
    """Bits needed to count 0 .. n."""
    return max(int(n).bit_length(), 1)


def _eta_limit(seed: Seed, menu: Menu) -> int | None:
    """|η| limit in counts; a limit beyond the η type's range keeps every count (exact)."""
    if seed.eta_max is None:
        return None
    eta = menu.hardware.eta
    largest = max(eta.max_raw, -eta.min_raw)
    return min(raw_at_most(min(seed.eta_max, 1e12), menu.hardware.eta_lsb), largest)


def _clamped(value: int | None, largest: int) -> int | None:
    """A limit on a quantity that never exceeds ``largest``, kept inside int64 exactly.

    A limit above ``largest`` becomes ``largest + 1``: an upper limit still passes
    every value, a lower limit still passes none.
    """
    return None if value is None else min(value, largest + 1)


def _pair_limits(seed: Seed, pair: PairCuts, menu: Menu) -> PairLimits:
    hardware = menu.hardware
    eta_lsb, phi_lsb = hardware.eta_lsb, hardware.phi_lsb
    if (pair.dr_min is not None or pair.dr_max is not None) and not np.isclose(eta_lsb, phi_lsb):
        raise MenuError(f"seed {seed.name!r}: field 'pair': ΔR cuts need equal η and φ units")
    mass_unit = hardware.pt.lsb**2 * 2.0**-hardware.lut_fraction_bits

    eta_span = hardware.eta.max_raw - hardware.eta.min_raw
    half_turn = round(np.pi / phi_lsb)
    largest = {
        "deta": eta_span,
        "dphi": half_turn,
        "dr2": eta_span**2 + half_turn**2,
        # m² = 2 · pT · pT · (cosh - cos) with cosh <= COSH_LIMIT and cos >= -1
        "mass2": 2 * hardware.pt.max_raw**2 * (COSH_LIMIT + (1 << hardware.lut_fraction_bits)),
    }

    def limits(
        name: str, low: float | None, high: float | None, unit: float, power: int = 1
    ) -> RawRange:
        ceiling = largest[name]
        # physics values far beyond any hardware value: clip in float before the power
        cap = ((ceiling + 2) * unit) ** (1 / power)

        def raw(value: float | None, convert: Callable[[float, float], int]) -> int | None:
            return (
                None
                if value is None
                else _clamped(convert(min(value, cap) ** power, unit), ceiling)
            )

        return RawRange(raw(low, raw_at_least), raw(high, raw_at_most))

    return PairLimits(
        deta=limits("deta", pair.deta_min, pair.deta_max, eta_lsb),
        dphi=limits("dphi", pair.dphi_min, pair.dphi_max, phi_lsb),
        dr2=limits("dr2", pair.dr_min, pair.dr_max, eta_lsb**2, 2),
        mass2=limits("mass2", pair.mass_min, pair.mass_max, mass_unit, 2),
    )


def _network(seed: Seed, menu: Menu) -> NetworkPlan:
    spec = seed.nn
    if spec is None or spec.model is None:
        raise MenuError(f"seed {seed.name!r}: field 'model': the model was not loaded")
    hardware = menu.hardware
    model = spec.model
    input_type = as_fixed(model.layers[0].result_type)
    bits = spec.constant_fraction_bits
    units = {
        Field.PT: hardware.pt.lsb,
        Field.ETA: hardware.eta_lsb,
        Field.PHI: hardware.phi_lsb,
        Field.QUALITY: 1.0,
    }
    largest = {
        Field.PT: max(hardware.pt.max_raw, hardware.sum.max_raw),
        Field.ETA: max(-hardware.eta.min_raw, hardware.eta.max_raw),
        Field.PHI: max(-hardware.phi.min_raw, hardware.phi.max_raw),
        Field.QUALITY: hardware.quality.max_raw,
    }
    inputs = []
    for collection, slot, name in spec.inputs.entries:
        field = Field[name.upper()]
        unit = hardware.sum.lsb if (collection == MET_SLOT and field is Field.PT) else units[field]
        constant = int(round_half_away(np.array([unit * spec.input_scale * 2.0**bits]))[0])
        if largest[field] * constant >= _PRODUCT_LIMIT:
            raise MenuError(
                f"seed {seed.name!r}: field 'input_scale': {spec.input_scale} makes the "
                f"{name} input constant too large for the integer conversion"
            )
        inputs.append(NetworkInput(collection, slot, field, constant))
    score = NNScore(spec.score)
    time_raw = None
    if score is NNScore.CNF_NORM and model.layers[0].size == len(inputs) + 1:
        time_raw = int(input_type.quantize(np.array([spec.time]))[0])
    return NetworkPlan(
        model=model,
        score=score,
        layout=spec.inputs,
        inputs=tuple(inputs),
        input_type=input_type,
        constant_fraction_bits=bits,
        time_raw=time_raw,
        output=spec.output,
        accum_type=spec.accum_type,
        diff_type=spec.diff_type,
        scale_type=spec.scale_type,
        out_type=spec.out_type,
    )


def _sum_type(seed: Seed, menu: Menu, kind: PlanKind) -> FixedType:
    """Type of the HT sum / MET magnitude before the cast to the ``sum`` type."""
    pt = menu.hardware.pt
    n_objects = sum(menu.hardware.slot_count(c) for c in seed.collections)
    width = pt.width + _bits(n_objects - 1) if n_objects > 1 else pt.width
    if kind is PlanKind.MET_OBJECTS:
        width += 1  # |Σ pT·(cos, sin)| <= Σ pT · √2 (LUT rounding included)
    return FixedType(width, width - pt.frac, signed=False)


def _window_counts(
    windows: tuple[tuple[float, float], ...], lsb: float, angle: FixedType, wraps: bool
) -> tuple[tuple[int, int], ...]:
    """Windows in counts: "at least lo", "at most hi", clamped to the angle type."""
    low, high = angle.min_raw - 1, angle.max_raw + 1
    counts = []
    for lo, hi in windows:
        lo_raw = max(min(raw_at_least(lo, lsb), high), low)
        hi_raw = max(min(raw_at_most(hi, lsb), high), low)
        if lo_raw > hi_raw and not wraps:
            continue  # no count inside: the window never passes (another may)
        counts.append((lo_raw, hi_raw))
    if windows and not counts:
        counts.append((high, low))  # every window empty on the grid: nothing passes
    return tuple(counts)


def _leg(leg: Leg, menu: Menu) -> LegPlan:
    hardware = menu.hardware
    return LegPlan(
        collection=leg.collection,
        pt_min=raw_at_least(leg.pt, hardware.pt.lsb),
        eta_windows=_window_counts(leg.eta, hardware.eta_lsb, hardware.eta, wraps=False),
        phi_windows=_window_counts(leg.phi, hardware.phi_lsb, hardware.phi, wraps=True),
        quality=leg.quality,
        min_quality=leg.min_quality,
        isolation=leg.isolation,
        charge=leg.charge,
    )


def _postfix(expr: Expr, names: list[str]) -> list[tuple[ExprOp, int]]:
    match expr:
        case Ref(name):
            return [(ExprOp.CONDITION, names.index(name))]
        case Not(operand):
            return [*_postfix(operand, names), (ExprOp.NOT, 1)]
        case And(operands) | Or(operands):
            steps = [step for o in operands for step in _postfix(o, names)]
            op = ExprOp.AND if isinstance(expr, And) else ExprOp.OR
            return [*steps, (op, len(operands))]
    raise AssertionError(expr)  # every node type is matched above


def _condition(seed: Seed, condition: Condition, menu: Menu, luts: SeedLuts) -> ConditionPlan:
    if condition.seed is not None:
        inner = _seed(condition.seed, -1, menu, luts)
        return ConditionPlan(
            name=condition.name,
            legs=(),
            pair=None,
            charge_rule=ChargeRule.ANY,
            luts=None,
            inner=inner,
            score_type=inner.score_type,
            threshold_raw=inner.threshold_raw,
        )
    legs = tuple(_leg(leg, menu) for leg in condition.legs)
    pair = None if condition.pair is None else _pair_limits(seed, condition.pair, menu)
    return ConditionPlan(
        name=condition.name,
        legs=legs,
        pair=pair,
        charge_rule=ChargeRule[condition.charge_correlation.name],
        luts=luts if pair is not None and pair.needs_mass else None,
        inner=None,
        score_type=menu.hardware.pt,
        threshold_raw=legs[0].pt_min,
    )


def _expression(seed: Seed, menu: Menu, luts: SeedLuts) -> ExpressionPlan:
    assert seed.expression is not None  # checked by the menu
    names = [c.name for c in seed.conditions]
    conditions = tuple(_condition(seed, c, menu, luts) for c in seed.conditions)
    scan = seed.scan_condition
    gate: list[tuple[ExprOp, int]] = []
    if scan is not None and isinstance(seed.expression, And):
        others = list(seed.expression.operands)
        others.remove(Ref(names[scan]))
        gate = [step for o in others for step in _postfix(o, names)]
        if len(others) > 1:
            gate.append((ExprOp.AND, len(others)))
    return ExpressionPlan(
        conditions=conditions,
        program=tuple(_postfix(seed.expression, names)),
        scan_condition=scan,
        gate=tuple(gate),
    )


def _seed(seed: Seed, index: int, menu: Menu, luts: SeedLuts) -> SeedPlan:
    hardware = menu.hardware
    if seed.kind is SeedKind.EXPRESSION:
        assert seed.score_type is not None  # resolved by Menu
        assert seed.threshold_raw is not None
        expression = _expression(seed, menu, luts)
        return SeedPlan(
            name=seed.name,
            kind=PlanKind.EXPRESSION,
            index=index,
            collections=tuple(
                dict.fromkeys(c for cond in expression.conditions for c in cond.collections)
            ),
            cut=ObjectCut(),
            legs=(),
            pair=None,
            luts=luts,
            sum_type=None,
            score_type=seed.score_type,
            threshold_raw=seed.threshold_raw,
            prescale=seed.prescale,
            masked=seed.masked,
            expression=expression,
        )
    assert seed.score_type is not None  # resolved by Menu
    assert seed.threshold_raw is not None
    cut = ObjectCut(eta_max=_eta_limit(seed, menu), min_quality=seed.min_quality)
    legs: tuple[int, ...] = ()
    pair = None
    seed_luts = None
    sum_type = None
    network = None
    if seed.kind is SeedKind.OBJECTS:
        legs = tuple(raw_at_least(t, hardware.pt.lsb) for t in seed.pt_thresholds)
        if seed.multiplicity == 2:
            kind = PlanKind.PAIR
            pair = _pair_limits(seed, seed.pair or PairCuts(), menu)
            seed_luts = luts if pair.needs_mass else None
        else:
            kind = PlanKind.LEADING
    elif seed.kind in (SeedKind.HT, SeedKind.MET):
        if seed.kind is SeedKind.HT:
            kind = PlanKind.HT
        elif seed.met_source == "event":
            kind = PlanKind.MET_EVENT
        else:
            kind = PlanKind.MET_OBJECTS
            seed_luts = luts
        cut = ObjectCut(
            pt_min=raw_at_least(seed.object_pt_min, hardware.pt.lsb),
            eta_max=cut.eta_max,
        )
        if kind is not PlanKind.MET_EVENT:
            sum_type = _sum_type(seed, menu, kind)
    else:
        kind = PlanKind.NN
        network = _network(seed, menu)
    collections = () if kind in (PlanKind.MET_EVENT, PlanKind.NN) else seed.collections
    return SeedPlan(
        name=seed.name,
        kind=kind,
        index=index,
        collections=collections,
        cut=cut,
        legs=legs,
        pair=pair,
        luts=seed_luts,
        sum_type=sum_type,
        score_type=seed.score_type,
        threshold_raw=seed.threshold_raw,
        prescale=seed.prescale,
        masked=seed.masked,
        nn=network,
    )


def build_plan(menu: Menu) -> MenuPlan:
    """The menu resolved to hardware integers (the NN models are the menu's, not reloaded)."""
    hardware = menu.hardware
    luts = build_luts(hardware)
    return MenuPlan(
        menu=menu,
        slots=tuple(SlotPlan(c, hardware.slot_count(c)) for c in COLLECTIONS),
        pt_type=hardware.pt,
        eta_type=hardware.eta,
        phi_type=hardware.phi,
        quality_type=hardware.quality,
        met_type=hardware.sum,
        luts=luts,
        seeds=tuple(_seed(seed, i, menu, luts) for i, seed in enumerate(menu.seeds)),
    )
