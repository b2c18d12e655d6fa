"""Chunks replayed apart, made identical to one replay: the stateful part run in BX order.

A distributed replay cuts the BX timeline into chunks of whole orbits. Everything
about a BX but its prescale counters and trigger rules depends on that BX alone
(scores, raw decisions ``fired``, dropped objects), so each chunk can be replayed
anywhere with :func:`emulator.replay.run`. The two stateful steps cannot: a prescale
counter at a chunk's first BX holds what every earlier fire of its seed left, and the
trigger rules need the accepts of the preceding 240 BX. :class:`SequentialState`
applies exactly the counters and rules of :func:`run` (:class:`~emulator.rules.PrescaleState`,
:class:`~emulator.rules.TriggerRuleState`) to the chunks' ``fired`` bits in BX order
— a cheap pass, one bit per seed and BX — and :func:`with_sequential_decisions`
puts its results into the chunk's decisions. The counters then enter each chunk
with the state they would have at its first BX in one process, by construction,
and the decisions are identical whatever the number of workers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from emulator.menu import Menu
from emulator.replay._decisions import DecisionBatch
from emulator.rules import PrescaleState, TriggerRuleState

__all__ = [
    "SequentialDecisions",
    "SequentialState",
    "pack_bits",
    "unpack_bits",
    "with_sequential_decisions",
]


@dataclass(frozen=True)
class SequentialDecisions:
    """The state-dependent decisions of one chunk: after prescale, and the L1 accept."""

    prescaled: NDArray[np.bool_]
    final_or: NDArray[np.bool_]
    accept: NDArray[np.bool_]
    dead: NDArray[np.bool_]

    @property
    def vetoed(self) -> NDArray[np.bool_]:
        """Final-OR fires the trigger rules vetoed."""
        vetoed: NDArray[np.bool_] = self.final_or & self.dead
        return vetoed


class SequentialState:
    """Prescale counters and trigger rules of ``menu``, applied chunk after chunk in BX order."""

    def __init__(self, menu: Menu) -> None:
        self._prescaler = PrescaleState([seed.prescale for seed in menu.seeds])
        self._rules = TriggerRuleState(menu.rules)
        self._unmasked = np.array([not seed.masked for seed in menu.seeds], np.bool_)

    def apply(self, global_bx: NDArray[np.int64], fired: NDArray[np.bool_]) -> SequentialDecisions:
        """The next chunk's decisions (``fired``: (n, n_seeds); BX strictly increasing)."""
        prescaled = self._prescaler.apply(fired)
        final_or: NDArray[np.bool_] = np.asarray(
            (prescaled & self._unmasked[np.newaxis, :]).any(axis=1)
        )
        accept, dead = self._rules.apply(global_bx, final_or)
        return SequentialDecisions(prescaled, final_or, accept, dead)


def with_sequential_decisions(
    batch: DecisionBatch, decisions: SequentialDecisions
) -> DecisionBatch:
    """``batch`` with its prescaled decisions, final OR, deadtime and L1 accepts replaced."""
    if decisions.prescaled.shape != batch.fired.shape:
        raise ValueError(
            f"sequential decisions of shape {decisions.prescaled.shape} for a chunk of "
            f"shape {batch.fired.shape}"
        )
    return replace(
        batch,
        prescaled=decisions.prescaled,
        final_or=decisions.final_or,
        dead=decisions.dead,
        vetoed=decisions.vetoed,
        l1a=decisions.accept,
    )


def pack_bits(flags: NDArray[np.bool_]) -> tuple[NDArray[np.uint8], tuple[int, ...]]:
    """Boolean arrays as bits (8 per byte) for shipping between processes.

    The array is packed flat: along a short last axis (a BX's few seeds) numpy packs
    row by row, several times slower."""
    return np.packbits(np.ascontiguousarray(flags, np.bool_), axis=None), flags.shape


def unpack_bits(packed: tuple[NDArray[np.uint8], tuple[int, ...]]) -> NDArray[np.bool_]:
    """The inverse of :func:`pack_bits`."""
    bits, shape = packed
    size = int(np.prod(shape, dtype=np.int64))
    result: NDArray[np.bool_] = np.unpackbits(bits, count=size).view(np.bool_)
    return result.reshape(shape)
