"""Trigger rules and prescale counters: the stateful part of the global trigger.

* :class:`TriggerRule` — "at most ``max_accepts`` L1 accepts in any ``window_bx``
  consecutive BX". :data:`CMS_RULES` are the CMS defaults (1 in 3, 2 in 25,
  3 in 100, 4 in 240).
* :class:`TriggerRuleState` applies a rule set to a chunk of BX and carries the
  recent-accept history to the next chunk; it also reports the BX during which
  the rules would veto an accept (the deadtime they cause).
* :class:`PrescaleState` applies integer and fractional prescales (two decimals)
  with per-seed counters as CMS's global trigger does: the counter grows by 100
  each time the seed fires and the seed passes when it reaches 100 x prescale.

Both work on whole chunks inside numba kernels; nothing here loops over BX in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from emulator.rules._kernels import prescale_kernel, trigger_rules_kernel

__all__ = [
    "CMS_RULES",
    "PrescaleState",
    "TriggerRule",
    "TriggerRuleState",
    "prescale_factor_x100",
]

#: A history entry that is further in the past than any rule window.
_LONG_AGO = np.iinfo(np.int64).min // 2


@dataclass(frozen=True)
class TriggerRule:
    """At most ``max_accepts`` L1 accepts in any ``window_bx`` consecutive bunch crossings."""

    max_accepts: int
    window_bx: int

    def __post_init__(self) -> None:
        if self.max_accepts < 1:
            raise ValueError(f"trigger rule max_accepts must be >= 1, got {self.max_accepts}")
        if self.window_bx < 1:
            raise ValueError(f"trigger rule window_bx must be >= 1, got {self.window_bx}")

    def __str__(self) -> str:
        return f"{self.max_accepts} in {self.window_bx} BX"


#: The CMS trigger rules (TCDS): 1 accept in 3 BX, 2 in 25, 3 in 100, 4 in 240.
CMS_RULES: tuple[TriggerRule, ...] = (
    TriggerRule(1, 3),
    TriggerRule(2, 25),
    TriggerRule(3, 100),
    TriggerRule(4, 240),
)


@dataclass
class TriggerRuleState:
    """Applies a rule set chunk after chunk, remembering the most recent accepts."""

    rules: tuple[TriggerRule, ...] = CMS_RULES
    _history: NDArray[np.int64] = field(init=False, repr=False)
    _max_accepts: NDArray[np.int64] = field(init=False, repr=False)
    _windows: NDArray[np.int64] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        depth = max((rule.max_accepts for rule in self.rules), default=1)
        self._history = np.full(depth, _LONG_AGO, np.int64)
        self._max_accepts = np.array([r.max_accepts for r in self.rules], np.int64)
        self._windows = np.array([r.window_bx for r in self.rules], np.int64)
        self._last_bx = _LONG_AGO

    def apply(
        self, global_bx: NDArray[np.int64], candidate: NDArray[np.bool_]
    ) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
        """Return ``(accept, dead)`` for one chunk and update the state.

        ``global_bx`` is the absolute BX number of each record (orbit · 3564 + bx),
        strictly increasing across chunks; ``candidate`` says where the final OR
        fired. ``dead`` marks the BX where an accept would break a rule.
        """
        global_bx = np.ascontiguousarray(global_bx, np.int64)
        candidate = np.ascontiguousarray(candidate, np.bool_)
        if global_bx.shape != candidate.shape:
            raise ValueError("global_bx and candidate must have the same shape")
        if global_bx.size:
            if np.any(np.diff(global_bx) <= 0) or global_bx[0] <= self._last_bx:
                raise ValueError(
                    "trigger rules need strictly increasing BX numbers "
                    "(orbit * 3564 + bx); place events on a timeline first"
                )
            self._last_bx = int(global_bx[-1])
        accept = np.empty(global_bx.shape, np.bool_)
        dead = np.empty(global_bx.shape, np.bool_)
        trigger_rules_kernel(
            global_bx, candidate, self._max_accepts, self._windows, self._history, accept, dead
        )
        return accept, dead


def prescale_factor_x100(prescale: float) -> int:
    """CMS prescale factor as an integer count of hundredths (0 disables the seed).

    Fractional prescales carry two decimals, as the global trigger's prescale
    table does; anything finer is an error rather than a silent rounding.
    """
    if not np.isfinite(prescale) or prescale < 0:
        raise ValueError(f"prescale must be a finite number >= 0, got {prescale}")
    if 0 < prescale < 1:
        raise ValueError(f"prescale must be 0 (off) or >= 1, got {prescale}")
    scaled = round(prescale * 100)
    if abs(scaled - prescale * 100) > 1e-6:
        raise ValueError(f"prescale {prescale} has more than two decimals")
    return int(scaled)


@dataclass
class PrescaleState:
    """Per-seed prescale counters carried across chunks."""

    prescales: Sequence[float]
    _factors: NDArray[np.int64] = field(init=False, repr=False)
    _counters: NDArray[np.int64] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._factors = np.array([prescale_factor_x100(p) for p in self.prescales], np.int64)
        self._counters = np.zeros(len(self._factors), np.int64)

    @property
    def counters(self) -> NDArray[np.int64]:
        """A copy of the current counters (hundredths)."""
        return self._counters.copy()

    def apply(self, fired: NDArray[np.bool_]) -> NDArray[np.bool_]:
        """Prescaled decisions for a (n_records, n_seeds) array of raw decisions."""
        fired = np.ascontiguousarray(fired, np.bool_)
        if fired.ndim != 2 or fired.shape[1] != self._factors.shape[0]:
            raise ValueError(
                f"expected decisions of shape (n, {self._factors.shape[0]}), got {fired.shape}"
            )
        passed = np.empty(fired.shape, np.bool_)
        prescale_kernel(fired, self._factors, self._counters, passed)
        return passed
