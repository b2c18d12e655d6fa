"""The menu data model: what a trigger menu says, already validated and typed.

A :class:`Menu` is a tuple of :class:`Seed` objects plus the hardware number
formats the seeds compute in (:class:`HardwareTypes`), the trigger rules and the
latency of everything upstream of the seeds. Instances are immutable; build them
with :func:`emulator.menu.load_menu` / :func:`emulator.menu.default_menu` (which
validate) or directly in tests.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from emulator.fixed import FixedType
from emulator.menu._expr import And, Expr, Ref
from emulator.rules import CMS_RULES, TriggerRule
from streams.slots import ADC2021, SlotLayout

__all__ = [
    "COLLECTIONS",
    "DECISION_BIT",
    "DEFAULT_SLOTS",
    "ETAPHI_LSB",
    "NN_SCORES",
    "NO_CANDIDATE",
    "ChargeCorrelation",
    "Condition",
    "HardwareTypes",
    "Leg",
    "Menu",
    "MenuError",
    "NNSpec",
    "PairCuts",
    "Seed",
    "SeedKind",
]

#: Object collections a seed can select from (the EventBatch collections).
COLLECTIONS: tuple[str, ...] = ("egamma", "muon", "tau", "jet")

#: Objects per collection the hardware receives, sorted by pT (the Phase-2 global
#: trigger gets 12 per collection); the replay keeps exactly these.
DEFAULT_SLOTS = 12

#: Phase-2 correlator angle unit: π/720 rad per count.
ETAPHI_LSB = math.pi / 720

#: Raw score of an object seed when no object (or pair) passes its cuts. Object
#: seed scores are unsigned pT values, so -1 is outside every legal value.
NO_CANDIDATE = -1


class MenuError(ValueError):
    """A menu that cannot be used; the message names the file, the seed and the field."""


class SeedKind(StrEnum):
    """What a seed computes; each kind has its own score."""

    #: n objects of one collection (n = number of pT thresholds); score = pT of the
    #: n-th leading object that passes the cuts (for n = 2, of the best pair).
    OBJECTS = "objects"
    #: scalar sum of jet pT above a pT cut and inside an |η| cut; score = HT.
    HT = "ht"
    #: missing transverse momentum; score = |vector sum| of the selected objects.
    MET = "met"
    #: neural-network score (anomaly score, CNF norm or tagger output).
    NN = "nn"
    #: a boolean expression (AND, OR, NOT) over named conditions (object conditions
    #: with 1-4 legs, energy sums, networks); score: see :attr:`Seed.scan_condition`.
    EXPRESSION = "expression"


class ChargeCorrelation(StrEnum):
    """Charge relation between the legs of an object condition (unknown charges fail).

    ``like``: all legs have the same charge. ``opposite``: two legs of opposite
    charge; three legs not all alike; four legs two of each sign (the uGT rules).
    """

    ANY = "any"
    LIKE = "like"
    OPPOSITE = "opposite"


@dataclass(frozen=True)
class Leg:
    """One object of an object condition and its own cuts (physics units).

    ``eta`` / ``phi``: windows ``(lo, hi)`` in rad, inclusive; the object must lie in
    at least one (no window: no cut). A φ window with ``lo > hi`` wraps through ±π.
    ``quality`` / ``isolation``: the allowed hardware words (None: no cut).
    ``charge``: +1 or -1 (0: no cut). Unknown charge or isolation never passes.
    """

    collection: str
    pt: float
    eta: tuple[tuple[float, float], ...] = ()
    phi: tuple[tuple[float, float], ...] = ()
    quality: tuple[int, ...] | None = None
    min_quality: int = 0
    isolation: tuple[int, ...] | None = None
    charge: int = 0


@dataclass(frozen=True)
class Condition:
    """A named condition of an expression seed.

    Either an object condition (``legs``: 1-4 distinct objects, each passing its own
    leg; ``pair`` cuts between legs 0 and 1; ``charge_correlation``), or an energy sum
    / network condition (``seed``: a seed of kind HT, MET or NN, its threshold included).
    """

    name: str
    legs: tuple[Leg, ...] = ()
    pair: PairCuts | None = None
    charge_correlation: ChargeCorrelation = ChargeCorrelation.ANY
    seed: Seed | None = None

    @property
    def is_objects(self) -> bool:
        """Whether this is an object condition (else a sum or network)."""
        return self.seed is None


@dataclass(frozen=True)
class PairCuts:
    """Conditions on a pair of objects, compared on quantized integers (None = no cut).

    Angles in rad, masses in GeV; they are converted to integer thresholds in the
    hardware units when the seed is computed.
    """

    dr_min: float | None = None
    dr_max: float | None = None
    deta_min: float | None = None
    deta_max: float | None = None
    dphi_min: float | None = None
    dphi_max: float | None = None
    mass_min: float | None = None
    mass_max: float | None = None

    def is_empty(self) -> bool:
        """Whether no condition is set."""
        return all(v is None for v in vars(self).values())


@dataclass(frozen=True)
class HardwareTypes:
    """Number formats of the seed inputs and of derived quantities.

    Defaults follow the Phase-2 correlator (CMSSW ``l1ct`` data formats): pT
    ``ap_ufixed<14,12,AP_TRN,AP_SAT>`` (0.25 GeV); η ``ap_int<12>`` and φ
    ``ap_int<11>`` at π/720 per count (the global η/φ types: the 10-bit regional
    types cannot hold φ = ±π, which is 720 counts). Angles are quantized by
    rounding to the nearest count and saturated to the type's range. ``sum`` is
    the type of HT and MET. ``lut_fraction_bits`` is the precision of the
    cosh/cos/sin lookup tables used for the invariant mass and the MET vector sum.
    ``quality`` is the type of the objects' quality word (saturated on entry).
    ``slots`` is the number of objects per collection the hardware receives, sorted
    by decreasing pT (:data:`DEFAULT_SLOTS` = 12 for a collection not listed): the
    replay truncates each collection to exactly these, as the upstream sorter does.
    """

    pt: FixedType = field(default_factory=lambda: FixedType.parse("ap_ufixed<14,12,AP_TRN,AP_SAT>"))
    eta: FixedType = field(default_factory=lambda: FixedType.parse("ap_int<12>"))
    phi: FixedType = field(default_factory=lambda: FixedType.parse("ap_int<11>"))
    eta_lsb: float = ETAPHI_LSB
    phi_lsb: float = ETAPHI_LSB
    sum: FixedType = field(
        default_factory=lambda: FixedType.parse("ap_ufixed<16,14,AP_TRN,AP_SAT>")
    )
    lut_fraction_bits: int = 10
    quality: FixedType = field(
        default_factory=lambda: FixedType.parse("ap_ufixed<8,8,AP_TRN,AP_SAT>")
    )
    slots: tuple[tuple[str, int], ...] = tuple((c, DEFAULT_SLOTS) for c in COLLECTIONS)

    def slot_count(self, collection: str) -> int:
        """Objects of ``collection`` the hardware receives per BX."""
        return dict(self.slots).get(collection, DEFAULT_SLOTS)


#: NN score names: autoencoder reconstruction MSE, latent Σμ², CNF ‖v(x, t)‖², tagger output.
NN_SCORES: tuple[str, ...] = ("ae_mse", "latent_mu2", "cnf_norm", "tagger")


@dataclass(frozen=True)
class NNSpec:
    """How an NN seed runs its network and turns the output into one raw score.

    The network input is ``inputs``, a :class:`streams.SlotLayout` (default
    ADC2021: MET, 4 e/gamma, 4 μ, 10 jets x (pT, η, φ) = 57 values), computed from
    the hardware integers of the BX's object slots: each value is its raw count
    (pT in LSB of the pT type, η/φ in angle counts, quality) times a constant, the
    count's unit times ``input_scale``, quantized to ``constant_fraction_bits``
    fraction bits, then cast to the model's input type (its rounding and overflow).
    See :mod:`emulator.plan`. Scores (``emulator.nn.scores``):

    * ``ae_mse``: reconstruction MSE between the quantized input and the output,
      differences in ``diff_type`` (default: the input type), squares summed in
      ``accum_type``, times ``scale_type(1/n)``, in ``out_type`` (default accum);
    * ``latent_mu2``: Σ μ² of the model's output ``output`` (an encoder), in ``accum_type``;
    * ``cnf_norm``: ‖v(x, t)‖² of a vector-field network, in ``accum_type``; a
      network with 58 inputs gets the 57 features followed by ``time``, one with
      57 inputs has t folded in (``time`` is then unused);
    * ``tagger``: the raw value of output element ``output``, in the output type.
    """

    model_path: Path
    score: str
    output: int = 0
    input_scale: float = 1.0
    accum_type: FixedType | None = None
    diff_type: FixedType | None = None
    scale_type: FixedType | None = None
    out_type: FixedType | None = None
    time: float = 0.5
    inputs: SlotLayout = ADC2021
    constant_fraction_bits: int = 16
    #: whether the menu gave ``output`` explicitly (checked against the model's outputs)
    output_given: bool = field(default=False, compare=False)
    #: type of the raw score; filled in when the model is opened
    score_type: FixedType | None = None
    #: the emulator.nn Model, loaded once when the menu is read (not compared)
    model: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Seed:
    """One trigger algorithm of the menu and how the global trigger treats it.

    The decision is ``score_raw >= threshold_raw`` on the seed's raw integer score
    (whose type is ``score_type``); thresholds in physics units are converted by
    rounding up to the next representable score, so the cut means "at least".
    """

    name: str
    kind: SeedKind
    #: source collection (OBJECTS), "jet" for HT; MET: the collections summed
    collections: tuple[str, ...] = ()
    #: OBJECTS: pT thresholds [GeV] of the legs, decreasing (len = multiplicity)
    pt_thresholds: tuple[float, ...] = ()
    #: |η| cut on the objects (OBJECTS, HT, MET), None = no cut
    eta_max: float | None = None
    #: minimum hardware quality word of the objects (OBJECTS)
    min_quality: int = 0
    #: pair conditions (OBJECTS with two legs)
    pair: PairCuts | None = None
    #: HT/MET: pT cut [GeV] on the objects that enter the sum
    object_pt_min: float = 0.0
    #: MET: "objects" (vector sum of the selected objects) or "event" (the event's MET)
    met_source: str = "objects"
    #: HT / MET / NN threshold in score units (OBJECTS use pt_thresholds[-1])
    threshold: float | None = None
    #: threshold given directly as a raw integer (overrides ``threshold``)
    threshold_raw_override: int | None = None
    #: NN seeds: the network and how its score is computed
    nn: NNSpec | None = None
    #: resolved by :class:`Menu`: type of the raw score and the raw threshold
    score_type: FixedType | None = None
    threshold_raw: int | None = None
    prescale: float = 1.0
    masked: bool = False
    latency_cycles: int = 1
    clock_mhz: float = 240.0
    initiation_interval: int = 1
    #: EXPRESSION: the boolean expression over ``conditions`` (emulator.menu._expr)
    expression: Expr | None = None
    #: EXPRESSION: the named conditions, in declaration order
    conditions: tuple[Condition, ...] = ()

    @property
    def multiplicity(self) -> int:
        """Number of objects an OBJECTS seed asks for."""
        return len(self.pt_thresholds)

    @property
    def scan_condition(self) -> int | None:
        """EXPRESSION seeds: the condition whose score is the seed's score, or None.

        The expression ``C`` or ``C AND rest`` (C the first plain condition of a
        top-level AND) scores C's score when ``rest`` holds (else -1): for an object
        condition the pT of its first leg (the other legs fixed), for a sum or network
        its value; a threshold scan then scans that. Any other expression (a top-level
        OR or NOT) has no scan variable: its score is the decision bit (ap_uint<1>).
        """
        if self.expression is None:
            return None
        names = [c.name for c in self.conditions]
        top = self.expression
        if isinstance(top, Ref):
            return names.index(top.name)
        if isinstance(top, And):
            for operand in top.operands:
                if isinstance(operand, Ref):
                    return names.index(operand.name)
        return None


def raw_at_least(value: float, lsb: float) -> int:
    """Smallest raw count whose value is >= ``value`` (a cut "at least ``value``").

    The quotient is rounded to 9 decimals first so that thresholds that are
    exact multiples of the LSB (22 GeV at 0.25 GeV) do not move by float noise.
    """
    return math.ceil(round(value / lsb, 9))


def raw_at_most(value: float, lsb: float) -> int:
    """Largest raw count whose value is <= ``value`` (a cut "at most ``value``")."""
    return math.floor(round(value / lsb, 9))


def _lsb(fixed_type: FixedType) -> float:
    return 2.0 ** -(fixed_type.width - fixed_type.integer)


def _check_object_seed(seed: Seed) -> None:
    """The invariants the object kernels rely on (the YAML loader checks them too)."""
    thresholds = seed.pt_thresholds
    if not 1 <= len(thresholds) <= 4:
        raise MenuError(
            f"seed {seed.name!r}: field 'pt': need 1 to 4 thresholds, got {len(thresholds)}"
        )
    if any(a < b for a, b in itertools.pairwise(thresholds)):
        raise MenuError(f"seed {seed.name!r}: field 'pt': thresholds must be in decreasing order")
    if seed.pair is not None and len(thresholds) != 2:
        raise MenuError(f"seed {seed.name!r}: field 'pair': pair conditions need a double seed")
    if len(seed.collections) != 1 or seed.collections[0] not in COLLECTIONS:
        raise MenuError(f"seed {seed.name!r}: field 'collection': one of {list(COLLECTIONS)}")


#: score type of an expression seed without a scan variable: its decision bit
DECISION_BIT = FixedType(1, 1, signed=False)


def _check_leg(seed: Seed, condition: Condition, k: int, leg: Leg, hardware: HardwareTypes) -> None:
    where = f"seed {seed.name!r}: condition {condition.name!r}: leg {k}"
    if leg.collection not in COLLECTIONS:
        raise MenuError(f"{where}: field 'collection': one of {list(COLLECTIONS)}")
    if leg.pt < 0 or raw_at_least(leg.pt, _lsb(hardware.pt)) > hardware.pt.max_raw:
        raise MenuError(
            f"{where}: field 'pt': {leg.pt:g} GeV is outside the pT type {hardware.pt} "
            "(the condition would never fire)"
        )
    for name, windows in (("eta", leg.eta), ("phi", leg.phi)):
        for lo, hi in windows:
            if name == "eta" and lo > hi:
                raise MenuError(f"{where}: field 'eta': window [{lo:g}, {hi:g}] is empty")
    if leg.charge not in (-1, 0, 1):
        raise MenuError(f"{where}: field 'charge': {leg.charge} is not +1 or -1")
    for name, values in (("quality", leg.quality), ("isolation", leg.isolation)):
        if values is not None and (not values or min(values) < 0):
            raise MenuError(f"{where}: field {name!r}: expected a non-empty list of words >= 0")


def _resolve_expression(seed: Seed, hardware: HardwareTypes) -> Seed:
    """Resolve an EXPRESSION seed's sum/network conditions and its score type."""
    if seed.expression is None or not seed.conditions:
        raise MenuError(f"seed {seed.name!r}: field 'expression': missing")
    conditions = []
    for condition in seed.conditions:
        if condition.seed is not None:
            inner = resolve_seed(condition.seed, hardware)
            conditions.append(replace(condition, seed=inner))
            continue
        if not 1 <= len(condition.legs) <= 4:
            raise MenuError(
                f"seed {seed.name!r}: condition {condition.name!r}: field 'legs': need 1 to 4 "
                f"legs, got {len(condition.legs)}"
            )
        if condition.pair is not None and len(condition.legs) != 2:
            raise MenuError(
                f"seed {seed.name!r}: condition {condition.name!r}: field 'pair': pair "
                "conditions need two legs"
            )
        if condition.charge_correlation is not ChargeCorrelation.ANY and len(condition.legs) < 2:
            raise MenuError(
                f"seed {seed.name!r}: condition {condition.name!r}: field "
                "'charge_correlation': needs two or more legs"
            )
        for k, leg in enumerate(condition.legs):
            _check_leg(seed, condition, k, leg, hardware)
        conditions.append(condition)
    resolved = replace(seed, conditions=tuple(conditions))
    index = resolved.scan_condition
    if index is None:
        return replace(resolved, score_type=DECISION_BIT, threshold_raw=1)
    scanned = resolved.conditions[index]
    if scanned.seed is not None:
        assert scanned.seed.score_type is not None
        assert scanned.seed.threshold_raw is not None
        score_type, threshold_raw = scanned.seed.score_type, scanned.seed.threshold_raw
    else:
        score_type = hardware.pt
        threshold_raw = raw_at_least(scanned.legs[0].pt, _lsb(hardware.pt))
    return replace(resolved, score_type=score_type, threshold_raw=threshold_raw)


def resolve_seed(seed: Seed, hardware: HardwareTypes) -> Seed:
    """Fill in ``score_type`` and ``threshold_raw`` of a seed from the hardware types."""
    if seed.kind is SeedKind.EXPRESSION:
        return _resolve_expression(seed, hardware)
    if seed.kind is SeedKind.OBJECTS:
        _check_object_seed(seed)
        score_type = hardware.pt
        threshold = seed.pt_thresholds[-1] if seed.pt_thresholds else 0.0
    elif seed.kind in (SeedKind.HT, SeedKind.MET):
        score_type = hardware.sum
        threshold = seed.threshold if seed.threshold is not None else 0.0
    else:
        if seed.nn is None or seed.nn.score_type is None:
            raise MenuError(f"seed {seed.name!r}: field 'model': the NN score type is unknown")
        for collection, count in seed.nn.inputs.slots:
            if count > hardware.slot_count(collection):
                raise MenuError(
                    f"seed {seed.name!r}: field 'inputs': {count} {collection} slots, but the "
                    f"hardware receives {hardware.slot_count(collection)} (hardware.slots)"
                )
        score_type = seed.nn.score_type
        threshold = seed.threshold if seed.threshold is not None else 0.0
    if seed.threshold_raw_override is not None:
        threshold_raw = seed.threshold_raw_override
    else:
        threshold_raw = raw_at_least(threshold, _lsb(score_type))
    _check_threshold(seed, score_type, threshold, threshold_raw)
    return replace(seed, score_type=score_type, threshold_raw=threshold_raw)


def _check_threshold(seed: Seed, score_type: FixedType, threshold: float, raw: int) -> None:
    """Thresholds that would fire on every BX or never fire are errors, not silent cuts."""
    if seed.threshold_raw_override is not None:
        field_name, shown = "threshold_raw", f"{raw}"
    elif seed.kind is SeedKind.OBJECTS:
        field_name, shown = "pt", f"{threshold:g} GeV"
    else:
        field_name, shown = "threshold", f"{threshold:g}"
    where = f"seed {seed.name!r}: field {field_name!r}"
    if seed.kind in (SeedKind.HT, SeedKind.MET) and threshold < 0:
        raise MenuError(f"{where}: {shown} is negative: the seed would fire on every BX")
    if raw < score_type.min_raw:
        raise MenuError(
            f"{where}: {shown} is below the smallest score of {score_type} "
            f"({score_type.min_raw * _lsb(score_type):g}): the seed would fire on every BX"
        )
    legs = seed.pt_thresholds if seed.kind is SeedKind.OBJECTS else (threshold,)
    for leg in legs:
        leg_raw = (
            raw if seed.threshold_raw_override is not None else raw_at_least(leg, _lsb(score_type))
        )
        if leg_raw > score_type.max_raw:
            value = f"{leg_raw}" if seed.threshold_raw_override is not None else f"{leg:g}"
            raise MenuError(
                f"{where}: {value} is above the largest score of {score_type} "
                f"({score_type.max_raw * _lsb(score_type):g}): the seed would never fire"
            )


@dataclass(frozen=True)
class Menu:
    """A validated trigger menu: seeds, hardware types, trigger rules, upstream latency."""

    name: str
    seeds: tuple[Seed, ...]
    hardware: HardwareTypes = field(default_factory=HardwareTypes)
    rules: tuple[TriggerRule, ...] = CMS_RULES
    #: latency of everything before the seeds (links, correlator), in BX
    upstream_latency_bx: int = 0
    #: file the menu was read from (model paths are relative to it)
    path: Path | None = None

    def __post_init__(self) -> None:
        names = [seed.name for seed in self.seeds]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise MenuError(f"menu {self.name!r}: duplicate seed names {duplicates}")
        if not self.seeds:
            raise MenuError(f"menu {self.name!r}: field 'seeds': the menu has no seeds")
        resolved = tuple(resolve_seed(seed, self.hardware) for seed in self.seeds)
        object.__setattr__(self, "seeds", resolved)

    @property
    def seed_names(self) -> tuple[str, ...]:
        """Seed names in menu order (the order of the decision columns)."""
        return tuple(seed.name for seed in self.seeds)

    def seed(self, name: str) -> Seed:
        """The seed called ``name``; a :class:`MenuError` names it when it is unknown."""
        for seed in self.seeds:
            if seed.name == name:
                return seed
        raise MenuError(f"menu {self.name!r} has no seed {name!r}; seeds: {list(self.seed_names)}")

    def without_nn(self) -> Menu:
        """The same menu without its NN seeds (e.g. to measure their cost)."""
        kept = tuple(seed for seed in self.seeds if seed.kind is not SeedKind.NN)
        return replace(self, name=f"{self.name} (no NN)", seeds=kept)
