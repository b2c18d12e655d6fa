"""Expression seeds in hardware integers: conditions, legs and a small boolean program.

An :class:`ExpressionPlan` holds one :class:`ConditionPlan` per named condition and
the expression as a postfix program of :class:`ExprOp` steps over the conditions'
decision bits (what the firmware builds as a small gate tree). An object condition
has 1-4 :class:`LegPlan` (raw pT minimum, η windows and φ windows in counts, the
allowed quality and isolation words, the charge), pair limits between legs 0 and 1
and a :class:`ChargeRule`; a sum or network condition holds the :class:`SeedPlan`
of that sum or network (its own raw threshold).

Score of an object condition: the largest raw pT of a leg-0 object over all
assignments of distinct objects to the legs that pass every cut, the leg-0 pT
threshold excepted (-1 when none): the condition holds when this score is >= the
leg-0 threshold, so a threshold scan of it scans the first leg, the others fixed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from emulator.fixed import FixedType
from emulator.plan._luts import SeedLuts
from emulator.plan._records import PairLimits, SeedPlan

__all__ = ["ChargeRule", "ConditionPlan", "ExprOp", "ExpressionPlan", "LegPlan"]


class ExprOp(IntEnum):
    """One step of the postfix program over the conditions' decision bits."""

    #: push the decision of condition ``arg``
    CONDITION = 1
    #: replace the top bit by its negation
    NOT = 2
    #: replace the top ``arg`` bits by their AND
    AND = 3
    #: replace the top ``arg`` bits by their OR
    OR = 4


class ChargeRule(IntEnum):
    """Charge correlation of an object condition's legs (unknown charge 0 never passes)."""

    ANY = 0
    #: all legs of the same sign
    LIKE = 1
    #: two legs: opposite signs; three: not all alike; four: two of each sign
    OPPOSITE = 2


@dataclass(frozen=True)
class LegPlan:
    """One leg in raw integers of the menu's hardware types.

    ``eta_windows`` / ``phi_windows``: inclusive (lo, hi) counts, the object must lie
    in one of them (none: no cut); a φ window with lo > hi wraps through ±π.
    ``quality`` / ``isolation``: allowed words (None: no cut); ``min_quality`` is a
    lower bound on the quality word; ``charge`` +1 / -1 (0: no cut).
    """

    collection: str
    pt_min: int
    eta_windows: tuple[tuple[int, int], ...] = ()
    phi_windows: tuple[tuple[int, int], ...] = ()
    quality: tuple[int, ...] | None = None
    min_quality: int = 0
    isolation: tuple[int, ...] | None = None
    charge: int = 0


@dataclass(frozen=True)
class ConditionPlan:
    """A named condition: object legs (``legs``) or a sum / network (``inner``)."""

    name: str
    legs: tuple[LegPlan, ...]
    pair: PairLimits | None
    charge_rule: ChargeRule
    #: tables for a pair mass cut (None without one)
    luts: SeedLuts | None
    #: sum or network condition: its seed plan (kind HT, MET_*, NN) and threshold
    inner: SeedPlan | None
    #: type of the condition's score and its raw threshold (leg-0 pT for objects)
    score_type: FixedType
    threshold_raw: int

    @property
    def collections(self) -> tuple[str, ...]:
        """Collections the legs read, in leg order (repeats removed)."""
        return tuple(dict.fromkeys(leg.collection for leg in self.legs))


@dataclass(frozen=True)
class ExpressionPlan:
    """The conditions of an expression seed and the postfix program combining them.

    ``scan_condition``: the condition whose score is the seed's score when ``gate``
    (a program over the other top-level AND operands; empty = true) holds; None
    when the expression has no scan variable (the score is then the decision bit).
    """

    conditions: tuple[ConditionPlan, ...]
    program: tuple[tuple[ExprOp, int], ...]
    scan_condition: int | None
    gate: tuple[tuple[ExprOp, int], ...]
