"""Expression seeds traced with da4ml: object conditions, sums, and the boolean program.

Everything reads the seed's :class:`emulator.plan.ExpressionPlan` and computes what
:mod:`emulator.seeds._conditions` (and its ``condition_kernel``) computes, on the raw
slot integers:

* **legs**: per slot a pass bit — valid, pT >= the leg's minimum (not for leg 0,
  whose threshold is the condition's own compare), η in one of its windows, φ in
  one of its windows (a window with lo > hi wraps through ±π), quality >= the
  minimum, quality and isolation words in their sets (runs of consecutive words as
  compares, a lookup table beyond four runs), charge equal to the leg's.
* **distinct objects**: the kernel searches every assignment of distinct objects
  to the legs. The hardware decides the same thing without enumerating them: for
  a leg-0 object ``a`` the other legs can be given distinct objects (none of them
  ``a``) exactly when, by Hall's marriage theorem, every subset S of those legs
  passes on at least |S| objects other than ``a`` together. Per subset that is one
  count of OR-ed pass bits compared with |S| (|S| + 1 when ``a`` itself is among
  them), shared by every ``a`` unless the pair limits make leg 1 depend on ``a``.
* **pair limits** (legs 0 and 1): Δη, Δφ, ΔR², m² with the plan's tables, the same
  datapath as the pair seeds (:class:`firmware._trace._PairGeometry`).
* **charge correlation**: "like" is all legs +1 or all -1, "opposite" every sign
  pattern the kernel accepts (two legs: +- or -+; three: not all alike; four: two
  of each); each pattern restricts the legs' pass bits to their sign and the
  condition holds when any pattern does (unknown charge 0 matches no pattern).
* **score** of an object condition: the largest leg-0 pT whose object has such an
  assignment (-1 when none); sum conditions reuse the HT / MET datapaths of
  :mod:`firmware._trace`; decisions are ``score >= threshold``.
* **program**: the postfix AND / OR / NOT steps as a tree of 1-bit gates; the
  seed's score is the scan condition's score where the gate holds (else -1), or
  the program's bit when the expression has no scan condition.

Bits that are constant (a window covering the whole type, a leg that can never
pass) are folded in Python before da4ml sees them.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations, product
from typing import Any

import numpy as np

from emulator.plan import (
    MET_SLOT,
    NO_CANDIDATE,
    ChargeRule,
    ConditionPlan,
    ExprOp,
    LegPlan,
    MenuPlan,
    PlanKind,
    SeedPlan,
)
from firmware._trace import (
    InputEntry,
    TraceError,
    _folded_dphi,
    _integer,
    _leading,
    _met,
    _mux,
    _pair,
    _PairGeometry,
    _Slots,
    _tree_max,
    slot_field_types,
)
from firmware._trace import _ht as _ht_score
from firmware._trace_expr_fields import CHARGE, ISOLATION, collection_fields, extra_fields
from firmware._trace_fixed import tree_sum

__all__ = ["charge_patterns", "expression_layout", "expression_score"]

FixedVariable = Any
#: a 1-bit da4ml variable, or a Python bool when the bit is known when tracing
Bit = Any
#: a raw score: a da4ml variable or a known integer
Score = Any

#: set runs up to which a word set is a tree of compares (beyond: a lookup table)
_MAX_RUNS = 4


# ---------------------------------------------------------------------- bits
def _and(*bits: Bit) -> Bit:
    """AND of bits, constants folded (no bits: True)."""
    if any(b is False for b in bits):
        return False
    left = [b for b in bits if b is not True]
    if not left:
        return True
    result = left[0]
    for b in left[1:]:
        result = result & b
    return result


def _or(*bits: Bit) -> Bit:
    """OR of bits as a balanced tree, constants folded (no bits: False)."""
    if any(b is True for b in bits):
        return True
    left = [b for b in bits if b is not False]
    if not left:
        return False
    while len(left) > 1:
        pairs = [a | b for a, b in zip(left[::2], left[1::2], strict=False)]
        left = pairs + ([left[-1]] if len(left) % 2 else [])
    return left[0]


def _not(bit: Bit) -> Bit:
    return (not bit) if isinstance(bit, bool) else ~bit


def _ge(value: Score, limit: int) -> Bit:
    """``value >= limit``, folded when the value's range decides it."""
    if isinstance(value, int):
        return value >= limit
    if limit <= value.low:
        return True
    if limit > value.high:
        return False
    return value >= limit


def _le(value: Score, limit: int) -> Bit:
    if isinstance(value, int):
        return value <= limit
    if limit >= value.high:
        return True
    if limit < value.low:
        return False
    return value <= limit


def _window(value: FixedVariable, lo: int, hi: int) -> Bit:
    """Inside the inclusive window; lo > hi wraps (outside (hi, lo))."""
    if lo <= hi:
        return _and(_ge(value, lo), _le(value, hi))
    return _or(_ge(value, lo), _le(value, hi))


def _runs(words: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted words as runs of consecutive values (lo, hi)."""
    runs: list[tuple[int, int]] = []
    for w in sorted(set(words)):
        if runs and w == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], w)
        else:
            runs.append((w, w))
    return runs


def _in_set(value: FixedVariable, words: Sequence[int]) -> Bit:
    """The value is one of the words: compares per run, or a 0/1 lookup table."""
    runs = _runs(words)
    if len(runs) <= _MAX_RUNS:
        return _or(*(_window(value, lo, hi) for lo, hi in runs))
    index = np.arange(int(value.low), int(value.high) + 1)
    return value.lookup(np.isin(index, list(words)).astype(np.float64))


def _at_least(bits: Sequence[Bit], m: int) -> Bit:
    """At least ``m`` of the bits are 1: an OR for m = 1, else a count compared with m."""
    known = sum(1 for b in bits if b is True)
    free = [b for b in bits if not isinstance(b, bool)]
    need = m - known
    if need <= 0:
        return True
    if need > len(free):
        return False
    if need == 1:
        return _or(*free)
    return _ge(tree_sum(free, free[0]), need)


# ---------------------------------------------------------------------- layout
def _sum_collections(seed: SeedPlan) -> tuple[tuple[str, ...], bool]:
    """Collections the sum conditions read, and whether one reads the MET word."""
    assert seed.expression is not None
    collections: list[str] = []
    met = False
    for condition in seed.expression.conditions:
        inner = condition.inner
        if inner is None:
            continue
        if inner.kind is PlanKind.NN:
            raise TraceError(
                f"seed {seed.name!r}: condition {condition.name!r} is a network; networks "
                "inside expressions have no firmware generator yet (a network seed of its "
                "own has)"
            )
        if inner.kind is PlanKind.MET_EVENT:
            met = True
        collections += inner.collections
    return tuple(collections), met


def expression_layout(seed: SeedPlan, plan: MenuPlan) -> tuple[InputEntry, ...]:
    """The flat input vector of an expression seed, in order.

    Every collection a leg or a sum condition reads (plan order), each slot, the
    collection's slot fields (:func:`firmware._trace_expr_fields.collection_fields`);
    then the MET word's pT when a condition reads it.
    """
    assert seed.expression is not None
    sums, met = _sum_collections(seed)
    used = {leg.collection for c in seed.expression.conditions for leg in c.legs} | set(sums)
    extras = extra_fields(plan)
    types = slot_field_types(plan)
    layout: list[InputEntry] = []
    for slot in plan.slots:
        if slot.collection not in used:
            continue
        field_types = dict(types, **dict(extras[slot.collection]))
        for j in range(slot.count):
            for name in collection_fields(plan, slot.collection):
                layout.append(InputEntry(slot.collection, j, name, field_types[name]))
    if met:
        layout.append(InputEntry(MET_SLOT, 0, "pt", _integer(plan.met_type)))
    return tuple(layout)


# ---------------------------------------------------------------------- legs
def _leg_bit(leg: LegPlan, f: dict[str, list[FixedVariable]], j: int, first: bool) -> Bit:
    """Slot ``j`` passes the leg's own cuts (leg 0: without its pT threshold)."""
    bits: list[Bit] = [f["valid"][j]]
    if not first:
        bits.append(_ge(f["pt"][j], leg.pt_min))
    if leg.eta_windows:
        bits.append(_or(*(_window(f["eta"][j], lo, hi) for lo, hi in leg.eta_windows)))
    if leg.phi_windows:
        bits.append(_or(*(_window(f["phi"][j], lo, hi) for lo, hi in leg.phi_windows)))
    if leg.min_quality:
        bits.append(_ge(f["quality"][j], leg.min_quality))
    if leg.quality is not None:
        bits.append(_in_set(f["quality"][j], leg.quality))
    if leg.isolation is not None:
        bits.append(_in_set(f[ISOLATION][j], leg.isolation))
    if leg.charge:
        bits.append(_window(f[CHARGE][j], leg.charge, leg.charge))
    return _and(*bits)


def charge_patterns(rule: ChargeRule, n_legs: int) -> list[tuple[int, ...] | None]:
    """The sign patterns (one sign per leg) a charge rule accepts; [None]: no rule."""
    if rule is ChargeRule.ANY:
        return [None]
    signs = list(product((1, -1), repeat=n_legs))
    if rule is ChargeRule.LIKE:
        return [s for s in signs if abs(sum(s)) == n_legs]
    if n_legs == 4:
        return [s for s in signs if sum(s) == 0]
    return [s for s in signs if abs(sum(s)) != n_legs]


class _Condition:
    """One object condition's datapath over the slots of its collections."""

    def __init__(self, condition: ConditionPlan, slots: dict[str, _Slots], plan: MenuPlan) -> None:
        self.condition = condition
        self.legs = condition.legs
        self.fields = [slots[leg.collection].fields for leg in self.legs]
        self.own = [
            [_leg_bit(leg, f, j, k == 0) for j in range(len(f["pt"]))]
            for k, (leg, f) in enumerate(zip(self.legs, self.fields, strict=True))
        ]
        self.plan = plan
        self.pair: list[list[Bit]] | None = None
        if condition.pair is not None and len(self.legs) > 1:
            self.pair = self._pair_bits(condition)

    def _pair_bits(self, condition: ConditionPlan) -> list[list[Bit]]:
        """pair[a][b]: leg-0 slot a and leg-1 slot b meet the pair limits."""
        assert condition.pair is not None
        geometry = _PairGeometry(condition.pair, self.plan.luts)
        f0, f1 = self.fields[0], self.fields[1]
        same = self.legs[0].collection == self.legs[1].collection
        bits: list[list[Bit]] = []
        for a in range(len(f0["pt"])):
            row: list[Bit] = []
            for b in range(len(f1["pt"])):
                if (same and a == b) or self.own[0][a] is False or self.own[1][b] is False:
                    row.append(False)
                    continue
                deta = abs(f0["eta"][a] - f1["eta"][b])
                dphi = _folded_dphi(f0["phi"][a], f1["phi"][b], self.plan.luts.half_turn)
                ok = geometry.passes(f0["pt"][a], f1["pt"][b], deta, dphi)
                row.append(True if ok is None else ok)
            bits.append(row)
        return bits

    def holds(self) -> list[Bit]:
        """Per leg-0 slot: an assignment of distinct objects passes with it at leg 0."""
        n0 = len(self.own[0])
        result: list[Bit] = [False] * n0
        for pattern in charge_patterns(self.condition.charge_rule, len(self.legs)):
            bits = self.own
            if pattern is not None:
                bits = [
                    [_and(b, _window(f[CHARGE][j], s, s)) for j, b in enumerate(row)]
                    for row, f, s in zip(self.own, self.fields, pattern, strict=True)
                ]
            held = self._matching(bits)
            result = [_or(r, h) for r, h in zip(result, held, strict=True)]
        return result

    def _matching(self, bits: list[list[Bit]]) -> list[Bit]:
        """Leg 0 at slot a, and Hall's condition for the other legs (module docstring)."""
        legs = self.legs
        c0 = legs[0].collection
        n0 = len(bits[0])
        terms: list[list[Bit]] = [[b] for b in bits[0]]
        others = range(1, len(legs))
        for size in range(1, len(legs)):
            for subset in combinations(others, size):
                if self.pair is not None and 1 in subset:
                    for a in range(n0):
                        terms[a].append(self._subset_at(bits, subset, a))
                    continue
                union = self._union(bits, subset, None)
                exact, spare = _at_least(union, size), _at_least(union, size + 1)
                own = [_or(*(bits[k][a] for k in subset if legs[k].collection == c0))
                       for a in range(n0)]  # fmt: skip
                for a in range(n0):
                    terms[a].append(_or(spare, _and(exact, _not(own[a]))))
        return [_and(*t) for t in terms]

    def _union(self, bits: list[list[Bit]], subset: Sequence[int], a: int | None) -> list[Bit]:
        """Per object of the subset's collections: it passes one of the subset's legs
        (leg 1 only with leg-0 object ``a`` when given; object ``a`` itself left out)."""
        c0 = self.legs[0].collection
        union: list[Bit] = []
        for collection in dict.fromkeys(self.legs[k].collection for k in subset):
            mine = [k for k in subset if self.legs[k].collection == collection]
            for j in range(len(bits[mine[0]])):
                if a is not None and collection == c0 and j == a:
                    continue
                passing = []
                for k in mine:
                    bit = bits[k][j]
                    if a is not None and k == 1 and self.pair is not None:
                        bit = _and(bit, self.pair[a][j])
                    passing.append(bit)
                union.append(_or(*passing))
        return union

    def _subset_at(self, bits: list[list[Bit]], subset: Sequence[int], a: int) -> Bit:
        if bits[0][a] is False:
            return False
        return _at_least(self._union(bits, subset, a), len(subset))

    def score(self) -> Score:
        """Largest leg-0 pT with a passing assignment; -1 when none."""
        pts = self.fields[0]["pt"]
        candidates = []
        for a, held in enumerate(self.holds()):
            if held is True:
                candidates.append(pts[a])
            elif held is not False:
                candidates.append(_mux(held, pts[a], NO_CANDIDATE))
        return _tree_max(candidates) if candidates else NO_CANDIDATE


# ---------------------------------------------------------------------- seed
def _inner_score(
    inner: SeedPlan, slots: dict[str, _Slots], met: FixedVariable | None, plan: MenuPlan
) -> Score:
    """A sum condition's score through the seed datapaths of its kind."""
    if inner.kind is PlanKind.MET_EVENT:
        assert met is not None
        return met
    if inner.kind is PlanKind.MET_OBJECTS:
        return _met(inner, [slots[c] for c in inner.collections], plan)
    if inner.kind is PlanKind.HT:
        return _ht_score(inner, slots[inner.collections[0]])
    if inner.kind is PlanKind.LEADING:
        return _leading(inner, slots[inner.collections[0]])
    if inner.kind is PlanKind.PAIR:
        return _pair(inner, slots[inner.collections[0]], plan)
    raise TraceError(f"seed {inner.name!r}: {inner.kind.name.lower()} has no expression datapath")


def run_program(program: Sequence[tuple[ExprOp, int]], decisions: Sequence[Bit]) -> Bit:
    """The postfix program over the conditions' bits as gates (empty program: True)."""
    stack: list[Bit] = []
    for op, arg in program:
        if op is ExprOp.CONDITION:
            stack.append(decisions[arg])
        elif op is ExprOp.NOT:
            stack.append(_not(stack.pop()))
        else:
            operands = stack[-arg:]
            del stack[-arg:]
            stack.append(_and(*operands) if op is ExprOp.AND else _or(*operands))
    if not stack:
        return True
    if len(stack) != 1:
        raise TraceError(f"malformed expression program {program}")
    return stack[0]


def expression_score(
    seed: SeedPlan, plan: MenuPlan, variables: Sequence[FixedVariable], layout: Sequence[InputEntry]
) -> Score:
    """The seed's raw score from its input variables (:func:`expression_layout` order)."""
    expression = seed.expression
    assert expression is not None
    names = dict.fromkeys(e.collection for e in layout if e.collection != MET_SLOT)
    slots = {
        name: _Slots(
            [v for v, e in zip(variables, layout, strict=True) if e.collection == name],
            tuple(e for e in layout if e.collection == name),
        )
        for name in names
    }
    met = None
    for v, e in zip(variables, layout, strict=True):
        if e.collection == MET_SLOT:
            met = v.quantize(0, e.raw_type.width, 0)
    scores: list[Score] = []
    for condition in expression.conditions:
        if condition.inner is not None:
            scores.append(_inner_score(condition.inner, slots, met, plan))
        else:
            scores.append(_Condition(condition, slots, plan).score())
    decisions = [
        _ge(s, c.threshold_raw) for s, c in zip(scores, expression.conditions, strict=True)
    ]
    if expression.scan_condition is None:
        bit = run_program(expression.program, decisions)
        return int(bit) if isinstance(bit, bool) else bit
    gate = run_program(expression.gate, decisions)
    scan = scores[expression.scan_condition]
    if gate is True:
        return scan
    if gate is False:
        return NO_CANDIDATE
    if isinstance(scan, int):
        return _mux(gate, _const_like(scan, gate), NO_CANDIDATE)
    return _mux(gate, scan, NO_CANDIDATE)


def _const_like(value: int, like: FixedVariable) -> FixedVariable:
    return like.from_const(value, hwconf=like.hwconf)
