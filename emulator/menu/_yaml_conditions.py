"""YAML of expression seeds: ``expression`` + ``conditions``, and plain seeds with leg cuts.

A seed of ``kind: expression`` names its conditions and combines them::

    - name: L1_Mu6_DoubleEG17
      kind: expression
      expression: mu AND eg          # AND, OR, NOT, parentheses
      conditions:
        mu: {kind: single, collection: muon, pt: 6, quality: [12, 13, 14, 15]}
        eg: {kind: double, collection: egamma, pt: [17, 17], isolation: [1, 2, 3]}
        # or legs with cuts of their own:
        # jets: {legs: [{collection: jet, pt: 84, eta: [[-3.0, 3.0]]}, {collection: jet, pt: 68}]}
        # sums and networks take the fields of ht / met / nn seeds:
        # ht: {kind: ht, object_pt: 30, eta_max: 2.4, threshold: 200}

A plain ``single`` / ``double`` / ``triple`` / ``quad`` seed that uses a leg cut of
the conditions (``eta`` windows, ``phi`` windows, ``quality`` or ``isolation`` sets,
``charge``, ``charge_correlation``) stays as short as before and becomes an expression
seed with one condition named ``cut``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from emulator.menu._expr import ExpressionError, parse_expression, references
from emulator.menu._fields import (
    Where,
    _collection,
    _count,
    _leg_thresholds,
    _non_negative,
    _number,
    _pair,
)
from emulator.menu._model import ChargeCorrelation, Condition, Leg, Seed, SeedKind

__all__ = ["EXTENDED_FIELDS", "OBJECT_KINDS", "expression_seed", "plain_condition"]

#: object condition kinds and their number of legs
OBJECT_KINDS = {"single": 1, "double": 2, "triple": 3, "quad": 4}
#: leg cuts that turn a plain object seed into a one-condition expression seed
EXTENDED_FIELDS = {"eta", "phi", "quality", "isolation", "charge", "charge_correlation"}
_LEG_FIELDS = {"collection", "pt", "eta_max", "eta", "phi", "quality", "min_quality"} | {
    "isolation",
    "charge",
}
_CONDITION_FIELDS = _LEG_FIELDS | {"kind", "pair", "charge_correlation", "legs"}
_WORD_LIMIT = 1 << 16

#: parses a sum/network condition as a seed (the YAML loader's seed parser)
SeedParser = Callable[[Mapping[str, Any]], Seed]


def _sub(field: str, name: str) -> str:
    """``field.name``, or ``name`` at the top of a plain seed (``field`` empty)."""
    return f"{field}.{name}" if field else name


def _windows(value: Any, field: str, where: Where) -> tuple[tuple[float, float], ...]:
    """A list of [lo, hi] windows in rad (one window may be given as [lo, hi])."""
    if value is None:
        return ()
    if isinstance(value, list) and len(value) == 2 and all(not isinstance(v, list) for v in value):
        value = [value]
    if not isinstance(value, list) or not value:
        raise where.error(field, "expected a list of [lo, hi] windows, e.g. [[-2.1, 2.1]]")
    windows = []
    for k, window in enumerate(value):
        if not isinstance(window, list) or len(window) != 2:
            raise where.error(f"{field}[{k}]", "expected [lo, hi]")
        lo = where.get({"v": window[0]}, "v", _number, 0.0)
        hi = where.get({"v": window[1]}, "v", _number, 0.0)
        if field.endswith("eta") and lo > hi:
            raise where.error(f"{field}[{k}]", f"[{lo:g}, {hi:g}] is empty (lo > hi)")
        if field.endswith("eta") and max(abs(lo), abs(hi)) > 1e6:
            raise where.error(f"{field}[{k}]", "|η| above 1e6")
        if field.endswith("phi") and max(abs(lo), abs(hi)) > math.pi + 1e-9:
            raise where.error(f"{field}[{k}]", "φ limits must lie in [-π, π] (lo > hi wraps)")
        windows.append((lo, hi))
    return tuple(windows)


def _words(value: Any, field: str, where: Where) -> tuple[int, ...] | None:
    """A set of allowed hardware words (quality, isolation), as a sorted tuple."""
    if value is None:
        return None
    values = value if isinstance(value, list) else [value]
    if not values:
        raise where.error(field, "expected a non-empty list of integers >= 0")
    words = {where.get({"v": v}, "v", _count, 0) for v in values}
    if max(words) >= _WORD_LIMIT:
        raise where.error(field, f"words must be below {_WORD_LIMIT}")
    return tuple(sorted(words))


def _charge(value: Any, field: str, where: Where) -> int:
    if value is None:
        return 0
    if value in ("+", "+1", "pos", "positive"):
        return 1
    if value in ("-", "-1", "neg", "negative"):
        return -1
    if isinstance(value, bool) or value not in (1, -1):
        raise where.error(field, f"{value!r} is not +1 or -1")
    return int(value)


def _leg(data: Mapping[str, Any], pt: float, field: str, where: Where) -> Leg:
    """A leg's cuts (pT given separately); ``eta_max`` is the window [-eta_max, eta_max]."""
    if "collection" not in data:
        raise where.error(_sub(field, "collection"), "missing; one of egamma, muon, tau, jet")
    eta = _windows(data.get("eta"), _sub(field, "eta"), where)
    eta_max = where.get(data, "eta_max", _non_negative, None)
    if eta_max is not None:
        if eta:
            raise where.error(_sub(field, "eta_max"), "give either eta_max or eta windows")
        eta = ((-eta_max, eta_max),)
    return Leg(
        collection=where.get(data, "collection", _collection, "jet"),
        pt=pt,
        eta=eta,
        phi=_windows(data.get("phi"), _sub(field, "phi"), where),
        quality=_words(data.get("quality"), _sub(field, "quality"), where),
        min_quality=where.get(data, "min_quality", _count, 0),
        isolation=_words(data.get("isolation"), _sub(field, "isolation"), where),
        charge=_charge(data.get("charge"), _sub(field, "charge"), where),
    )


def _correlation(value: Any, field: str, where: Where) -> ChargeCorrelation:
    if value is None:
        return ChargeCorrelation.ANY
    aliases = {"ls": "like", "os": "opposite"}
    try:
        return ChargeCorrelation(aliases.get(str(value), str(value)))
    except ValueError:
        allowed = [c.value for c in ChargeCorrelation]
        raise where.error(field, f"{value!r} is not one of {allowed} (or ls / os)") from None


def plain_condition(name: str, data: Mapping[str, Any], field: str, where: Where) -> Condition:
    """An object condition: ``kind: single..quad`` with shared cuts, or ``legs: [...]``."""
    unknown = sorted(set(data) - _CONDITION_FIELDS)
    if unknown:
        raise where.error(_sub(field, unknown[0]), "unknown field of an object condition")
    if "legs" in data:
        raw_legs = data["legs"]
        if not isinstance(raw_legs, list) or not 1 <= len(raw_legs) <= 4:
            raise where.error(_sub(field, "legs"), "expected a list of 1 to 4 legs")
        legs = []
        for k, item in enumerate(raw_legs):
            leg_field = _sub(field, f"legs[{k}]")
            if not isinstance(item, Mapping):
                raise where.error(leg_field, "expected a mapping {collection, pt, ...}")
            extra = sorted(set(item) - _LEG_FIELDS)
            if extra:
                raise where.error(f"{leg_field}.{extra[0]}", "unknown leg field")
            if item.get("pt") is None:
                raise where.error(f"{leg_field}.pt", "missing: the leg's threshold in GeV")
            pt = where.get(item, "pt", _non_negative, 0.0)
            legs.append(_leg(item, pt, leg_field, where))
        leg_tuple = tuple(legs)
    else:
        kind = data.get("kind")
        if kind not in OBJECT_KINDS:
            raise where.error(
                _sub(field, "kind"), f"{kind!r} is not one of {[*OBJECT_KINDS, 'ht', 'met', 'nn']}"
            )
        thresholds = _leg_thresholds(
            data, str(kind), OBJECT_KINDS[str(kind)], where, _sub(field, "pt")
        )
        leg_tuple = tuple(_leg(data, pt, field, where) for pt in thresholds)
    pair = _pair(data.get("pair"), where)
    if pair is not None and len(leg_tuple) != 2:
        raise where.error(_sub(field, "pair"), "pair conditions need two legs")
    correlation = _correlation(
        data.get("charge_correlation"), _sub(field, "charge_correlation"), where
    )
    return Condition(name=name, legs=leg_tuple, pair=pair, charge_correlation=correlation)


def expression_seed(
    data: Mapping[str, Any], common: dict[str, Any], where: Where, parse_seed: SeedParser
) -> Seed:
    """A ``kind: expression`` seed: parse the expression and every named condition."""
    text = data.get("expression")
    if not isinstance(text, str):
        raise where.error("expression", "missing: e.g. 'mu AND (eg OR NOT jet)'")
    try:
        expression = parse_expression(text)
    except ExpressionError as exc:
        raise where.error("expression", str(exc)) from None
    raw = data.get("conditions")
    if not isinstance(raw, Mapping) or not raw:
        raise where.error("conditions", "expected a mapping of named conditions")
    conditions = []
    for name, item in raw.items():
        field = f"conditions.{name}"
        if not isinstance(name, str) or not name.isidentifier():
            raise where.error(field, f"{name!r} is not a valid condition name")
        if not isinstance(item, Mapping):
            raise where.error(field, "expected a mapping (an object, sum or network condition)")
        if item.get("kind") in ("ht", "met", "nn"):
            inner = parse_seed({**item, "name": f"{common['name']}__{name}"})
            conditions.append(Condition(name=name, seed=inner))
        else:
            conditions.append(plain_condition(name, item, field, where))
    names = [c.name for c in conditions]
    used = list(references(expression))
    missing = sorted(set(used) - set(names))
    if missing:
        raise where.error("expression", f"no condition named {missing[0]!r}; defined: {names}")
    unused = [n for n in names if n not in used]
    if unused:
        raise where.error(f"conditions.{unused[0]}", "is not used in the expression")
    return Seed(
        kind=SeedKind.EXPRESSION,
        expression=expression,
        conditions=tuple(conditions),
        **common,
    )
