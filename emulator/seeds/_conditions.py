"""Expression seeds: each condition's score and decision, then the boolean program.

Leg cuts are integer comparisons on the hardware slots (valid, pT >= minimum, η and
φ in a window, quality and isolation in their sets, charge); the assignment of
distinct objects to legs, the pair limits and the charge correlation run in
:func:`emulator.seeds._kernels.condition_kernel`. Sum and network conditions reuse
the seed computations of their own kind (the ``score_of`` callback).

An object whose charge or isolation is unknown (the input has none) never passes a
cut on it; the first time that happens for a seed a warning is logged, so a menu run
on an input without isolation says why its isolated seeds never fire.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from emulator.plan import (
    NO_CANDIDATE,
    BxSlots,
    CollectionSlots,
    ConditionPlan,
    ExprOp,
    LegPlan,
    MenuPlan,
    PairLimits,
    SeedPlan,
)
from emulator.seeds import _kernels

__all__ = ["ExpressionEvaluator", "run_program"]

log = logging.getLogger("emulator.seeds")

ScoreOf = Callable[[SeedPlan, BxSlots], NDArray[np.int64]]


def _in_windows(
    values: NDArray[np.int64], windows: tuple[tuple[int, int], ...]
) -> NDArray[np.bool_]:
    inside = np.zeros(values.shape, np.bool_)
    for lo, hi in windows:
        if lo <= hi:
            inside |= (values >= lo) & (values <= hi)
        else:  # φ window through ±π
            inside |= (values >= lo) | (values <= hi)
    return inside


def run_program(
    program: tuple[tuple[ExprOp, int], ...], decisions: list[NDArray[np.bool_]], n: int
) -> NDArray[np.bool_]:
    """Evaluate a postfix program over the conditions' decision bits (empty: all true)."""
    stack: list[NDArray[np.bool_]] = []
    for op, arg in program:
        if op is ExprOp.CONDITION:
            stack.append(decisions[arg])
        elif op is ExprOp.NOT:
            stack.append(~stack.pop())
        else:
            operands = stack[-arg:]
            del stack[-arg:]
            combine = np.logical_and if op is ExprOp.AND else np.logical_or
            result = operands[0]
            for operand in operands[1:]:
                result = combine(result, operand)
            stack.append(result)
    if not stack:
        return np.ones(n, np.bool_)
    assert len(stack) == 1  # the plan builds well-formed programs
    return stack[0]


class ExpressionEvaluator:
    """Scores of the expression seeds of a plan, from the BX's hardware slots."""

    def __init__(self, plan: MenuPlan, score_of: ScoreOf) -> None:
        self.plan = plan
        self.score_of = score_of
        self._order = [slot.collection for slot in plan.slots]
        self._warned: set[tuple[str, str, str]] = set()

    def scores(self, seed: SeedPlan, slots: BxSlots) -> NDArray[np.int64]:
        """The seed's raw score per BX (see :class:`emulator.plan.ExpressionPlan`)."""
        expression = seed.expression
        assert expression is not None
        n = len(slots)
        stacked = self._stack(slots)
        scores = [self._condition(seed, c, slots, stacked) for c in expression.conditions]
        decisions = [
            s >= c.threshold_raw for s, c in zip(scores, expression.conditions, strict=True)
        ]
        if expression.scan_condition is None:
            return run_program(expression.program, decisions, n).astype(np.int64)
        gate = run_program(expression.gate, decisions, n)
        return np.where(gate, scores[expression.scan_condition], NO_CANDIDATE).astype(np.int64)

    # ----------------------------------------------------------------- internals
    def _stack(self, slots: BxSlots) -> tuple[NDArray[np.int64], ...]:
        """pT, η, φ, charge of every collection as (collections, n_bx, max slots) arrays."""
        n = len(slots)
        width = max(c.count for c in slots.collections.values())
        arrays = tuple(np.zeros((len(self._order), n, width), np.int64) for _ in range(4))
        for k, name in enumerate(self._order):
            c = slots.collections[name]
            charge = c.charge if c.charge is not None else np.zeros_like(c.pt)
            for target, values in zip(arrays, (c.pt, c.eta, c.phi, charge), strict=True):
                target[k, :, : c.count] = values
        return arrays

    def _leg_passes(
        self, seed: SeedPlan, leg: LegPlan, c: CollectionSlots, first: bool, width: int
    ) -> NDArray[np.bool_]:
        ok = c.valid.copy()
        if not first:
            ok &= c.pt >= leg.pt_min
        if leg.eta_windows:
            ok &= _in_windows(c.eta, leg.eta_windows)
        if leg.phi_windows:
            ok &= _in_windows(c.phi, leg.phi_windows)
        if leg.min_quality:
            ok &= c.quality >= leg.min_quality
        if leg.quality is not None:
            ok &= np.isin(c.quality, leg.quality)
        if leg.isolation is not None:
            isolation = c.isolation if c.isolation is not None else np.full_like(c.pt, -1)
            self._warn_unknown(seed, leg, "isolation", ok & (isolation < 0))
            ok &= np.isin(isolation, leg.isolation)
        if leg.charge:
            charge = c.charge if c.charge is not None else np.zeros_like(c.pt)
            self._warn_unknown(seed, leg, "charge", ok & (charge == 0))
            ok &= charge == leg.charge
        padded = np.zeros((ok.shape[0], width), np.bool_)
        padded[:, : ok.shape[1]] = ok
        return padded

    def _warn_unknown(
        self, seed: SeedPlan, leg: LegPlan, field: str, unknown: NDArray[np.bool_]
    ) -> None:
        key = (seed.name, leg.collection, field)
        if key in self._warned or not unknown.any():
            return
        self._warned.add(key)
        log.warning(
            "seed %s: %d %s objects have no %s in the input: the %s cut fails on them "
            "(the seed cannot fire through them)",
            seed.name, int(unknown.sum()), leg.collection, field, field,
        )  # fmt: skip

    def _condition(
        self,
        seed: SeedPlan,
        condition: ConditionPlan,
        slots: BxSlots,
        stacked: tuple[NDArray[np.int64], ...],
    ) -> NDArray[np.int64]:
        if condition.inner is not None:
            return self.score_of(condition.inner, slots)
        pt, eta, phi, charge = stacked
        width = pt.shape[2]
        passes = np.stack(
            [
                self._leg_passes(seed, leg, slots.collections[leg.collection], k == 0, width)
                for k, leg in enumerate(condition.legs)
            ]
        )
        leg_collection = np.array(
            [self._order.index(leg.collection) for leg in condition.legs], np.int64
        )
        pair = condition.pair or PairLimits()
        luts = self.plan.luts
        out = np.empty(len(slots), np.int64)
        _kernels.condition_kernel(
            pt, eta, phi, charge, leg_collection, passes, pair.as_array(),
            condition.pair is not None, int(condition.charge_rule), luts.half_turn, luts.cosh,
            luts.cos, out,
        )  # fmt: skip
        return out
