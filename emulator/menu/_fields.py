"""Field converters shared by the menu readers: one error style for every field.

:class:`Where` formats ``file: seed 'X': field 'y': message``; the converters raise
``TypeError`` / ``ValueError`` with the reason, which :meth:`Where.get` turns into a
:class:`~emulator.menu.MenuError` naming file, seed and field.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from emulator.fixed import FixedType
from emulator.menu._model import COLLECTIONS, MenuError, PairCuts
from emulator.rules import prescale_factor_x100

_PAIR_FIELDS = {f"{q}_{b}" for q in ("dr", "deta", "dphi", "mass") for b in ("min", "max")}
T = TypeVar("T")


class Where:
    """Formats error locations: ``file: seed 'X': field 'y': message``."""

    def __init__(self, source: str, seed: str | None = None) -> None:
        self.source = source
        self.seed = seed

    def error(self, field: str, message: str) -> MenuError:
        seed = f"seed {self.seed!r}: " if self.seed is not None else ""
        return MenuError(f"{self.source}: {seed}field {field!r}: {message}")

    def get(
        self, data: Mapping[str, Any], field: str, convert: Callable[[Any], T], default: T
    ) -> T:
        if field not in data or data[field] is None:
            return default
        try:
            return convert(data[field])
        except MenuError:
            raise
        except (TypeError, ValueError) as exc:
            raise self.error(field, f"{data[field]!r} is not valid ({exc})") from None

    def check_fields(self, data: Mapping[str, Any], allowed: set[str], what: str) -> None:
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise self.error(unknown[0], f"unknown {what} field; allowed: {sorted(allowed)}")


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("expected a number")
    if not math.isfinite(value):
        raise ValueError("expected a finite number")
    return float(value)


def _non_negative(value: Any) -> float:
    number = _number(value)
    if number < 0:
        raise ValueError("expected a number >= 0")
    return number


def _positive(value: Any) -> float:
    number = _number(value)
    if number <= 0:
        raise ValueError("expected a number > 0")
    return number


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("expected an integer")
    if value < 0:
        raise ValueError("expected an integer >= 0")
    return value


def _positive_count(value: Any) -> int:
    count = _count(value)
    if count < 1:
        raise ValueError("expected an integer >= 1")
    return count


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError("expected true or false")
    return value


def _fixed_type(value: Any) -> FixedType:
    if not isinstance(value, str):
        raise TypeError("expected a type such as 'ap_ufixed<14,12,AP_TRN,AP_SAT>'")
    return FixedType.parse(value)


#: largest prescale: the global trigger's prescale counters are 32-bit
_MAX_PRESCALE = float(2**32 - 1)
#: clock range accepted for a seed's timing [MHz]
_CLOCK_RANGE = (1.0e-3, 1.0e5)
#: widest η/φ type: the lookup tables hold one entry per count (2^16 entries)
_MAX_ANGLE_BITS = 16
#: widest quality word: the quality sets are tables with one entry per value
_MAX_QUALITY_BITS = 16
#: widest pT type: m² = 2·pT·pT·cosh-table value must stay inside int64
_MAX_PT_BITS = 15


def _prescale(value: Any) -> float:
    number = _number(value)
    prescale_factor_x100(number)  # raises ValueError with the reason
    if number > _MAX_PRESCALE:
        raise ValueError(f"expected at most {_MAX_PRESCALE:.0f} (32-bit prescale counters)")
    return number


def _clock(value: Any) -> float:
    number = _positive(value)
    low, high = _CLOCK_RANGE
    if not low <= number <= high:
        raise ValueError(f"expected a clock between {low:g} and {high:g} MHz")
    return number


def _collection(value: Any) -> str:
    if value not in COLLECTIONS:
        raise ValueError(f"expected one of {list(COLLECTIONS)}")
    return str(value)


def _pair(data: Any, where: Where) -> PairCuts | None:
    if data is None:
        return None
    if not isinstance(data, Mapping):
        raise where.error("pair", "expected a mapping such as {dr_min: 0.2, mass_max: 150}")
    where.check_fields(data, _PAIR_FIELDS, "pair")
    values = {name: where.get(data, name, _non_negative, None) for name in _PAIR_FIELDS}
    cuts = PairCuts(**values)
    for quantity in ("dr", "deta", "dphi", "mass"):
        low, high = values[f"{quantity}_min"], values[f"{quantity}_max"]
        if low is not None and high is not None and low > high:
            raise where.error(f"pair.{quantity}_min", f"{low} is above {quantity}_max {high}")
    return None if cuts.is_empty() else cuts


def _leg_thresholds(
    data: Mapping[str, Any], kind_text: str, multiplicity: int, where: Where, field: str = "pt"
) -> tuple[float, ...]:
    """The ``pt`` field: one number per leg; missing or null legs are errors, not 0 GeV."""
    if "pt" not in data or data["pt"] is None:
        raise where.error(
            field, f"missing: a {kind_text} seed needs {multiplicity} pT threshold(s)"
        )
    pts = data["pt"] if isinstance(data["pt"], list) else [data["pt"]]
    if len(pts) != multiplicity:
        raise where.error(field, f"a {kind_text} seed needs {multiplicity} pT threshold(s)")
    for k, p in enumerate(pts):
        if p is None:
            raise where.error(f"{field}[{k}]", "is null: give the leg's threshold in GeV")
    return tuple(where.get({"pt": p}, "pt", _non_negative, 0.0) for p in pts)
