"""``run(stream, menu)``: the BX-by-BX replay of a stream through a menu.

Per chunk (never per BX in Python): seed scores (numba kernels / NN model),
raw decisions ``score >= threshold``, prescale counters, the final OR of the
unmasked prescaled seeds, and the trigger rules. Prescale counters and the
trigger-rule history live in state objects carried from chunk to chunk, so
replaying a stream in chunks gives exactly the decisions of one big chunk.

Records straight from a reader (``orbit == -1``, not placed on a timeline) are
treated as consecutive BX, in order, continuing across chunks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray
from tqdm import tqdm

from emulator.menu import Menu
from emulator.plan import MenuPlan, build_plan
from emulator.replay._chunks import SequentialState
from emulator.replay._decisions import DecisionBatch
from emulator.seeds import SeedEvaluator, hardware_slots
from emulator.timing import latency_bx, timing_report
from streams import EventBatch
from streams.timeline import BX_PER_ORBIT

__all__ = ["BX_PER_ORBIT", "decisions_metadata", "run"]


def decisions_metadata(menu: Menu) -> dict[str, Any]:
    """JSON-able description of the menu stored with the decisions.

    ``slots`` gives the objects per collection the hardware receives (the replay
    keeps exactly these, the highest-pT first).
    """
    return {
        "menu": menu.name,
        "slots": {
            collection: menu.hardware.slot_count(collection)
            for collection, _ in menu.hardware.slots
        },
        "seeds": [
            {
                "name": seed.name,
                "kind": str(seed.kind),
                "score_type": str(seed.score_type),
                "threshold_raw": seed.threshold_raw,
                "prescale": seed.prescale,
                "masked": seed.masked,
                "latency_bx": latency_bx(seed),
            }
            for seed in menu.seeds
        ],
        "rules": [[rule.max_accepts, rule.window_bx] for rule in menu.rules],
        "upstream_latency_bx": menu.upstream_latency_bx,
        # the L1 accept for BX n is issued at BX n + total_latency_bx
        "total_latency_bx": timing_report(menu)["total_latency_bx"],
    }


#: BX whose seed scores are computed together: a chunk is scored piece by piece, so the
#: slot arrays and the networks' activations of one piece stay in the CPU caches.
#: Measured on the default menu (2026-12-01): pieces of 100 000 BX took 6.1 us/BX,
#: 2048-4096 BX 4.3 us/BX; below 1024 BX numpy's cost per call takes over again.
SCORE_PIECE_BX = 4096


def _scores_of(
    batch: EventBatch,
    plan: MenuPlan,
    evaluator: SeedEvaluator,
    collections: tuple[str, ...],
) -> tuple[NDArray[Any], NDArray[np.int64]]:
    """Seed scores (BX x seed) and objects dropped (BX x collection) of ``batch``,
    computed in pieces of :data:`SCORE_PIECE_BX` BX (scores depend on their BX alone)."""
    scores: list[NDArray[Any]] = []
    dropped: list[NDArray[np.int64]] = []
    for start in range(0, len(batch), SCORE_PIECE_BX):
        piece = (
            batch if len(batch) <= SCORE_PIECE_BX else batch.slice(start, start + SCORE_PIECE_BX)
        )
        slots = hardware_slots(piece, plan)
        scores.append(evaluator.scores_of(slots))
        dropped.append(np.stack([slots.collections[c].dropped for c in collections], axis=1))
    if len(scores) == 1:
        return scores[0], dropped[0]
    return np.concatenate(scores), np.concatenate(dropped)


class _Clock:
    """Absolute BX numbers, continuing a running count for unplaced records."""

    def __init__(self) -> None:
        self._next_unplaced = 0

    def global_bx(self, batch: EventBatch) -> NDArray[np.int64]:
        orbit = np.asarray(batch.orbit, np.int64)
        placed = orbit >= 0
        result = orbit * BX_PER_ORBIT + np.asarray(batch.bx, np.int64)
        if not placed.all():
            if placed.any():
                raise ValueError("a chunk mixes records placed on a timeline with unplaced ones")
            result = self._next_unplaced + np.arange(len(batch), dtype=np.int64)
            self._next_unplaced += len(batch)
        return result


def run(
    stream: Iterable[EventBatch], menu: Menu | MenuPlan, *, progress: bool = False
) -> Iterator[DecisionBatch]:
    """Replay ``stream`` through ``menu`` and yield one :class:`DecisionBatch` per chunk.

    The trigger rules need increasing BX numbers: place events on a timeline
    (``streams.timeline.place``) for realistic deadtime; unplaced events are
    taken as consecutive BX. ``progress`` shows a progress bar (in BX). Each
    BX's collections are cut to the hardware's object slots first; the batch's
    ``dropped`` array counts, per BX and collection, the objects left out.
    """
    plan = menu if isinstance(menu, MenuPlan) else build_plan(menu)
    menu = plan.menu
    evaluator = SeedEvaluator(plan)
    collections = tuple(slot.collection for slot in plan.slots)
    thresholds = np.array([seed.threshold_raw for seed in menu.seeds], np.int64)
    state = SequentialState(menu)
    clock = _Clock()
    metadata = decisions_metadata(menu)
    bar = tqdm(unit="BX", unit_scale=True, disable=not progress, desc="replay")
    try:
        for batch in stream:
            if len(batch) == 0:
                continue
            scores, dropped = _scores_of(batch, plan, evaluator, collections)
            fired = scores >= thresholds[np.newaxis, :]
            decisions = state.apply(clock.global_bx(batch), fired)
            bar.update(len(batch))
            yield DecisionBatch(
                orbit=np.asarray(batch.orbit, np.int64),
                bx=np.asarray(batch.bx, np.int32),
                colliding=np.asarray(batch.colliding, np.bool_),
                event_id=np.asarray(batch.event_id).astype(np.int64, copy=False),
                has_event=np.asarray(batch.has_event, np.bool_),
                true_interactions=np.asarray(batch.true_interactions, np.float32),
                n_vertices=np.asarray(batch.n_vertices, np.int32),
                seed_names=menu.seed_names,
                scores=scores,
                fired=fired,
                prescaled=decisions.prescaled,
                final_or=decisions.final_or,
                dead=decisions.dead,
                vetoed=decisions.vetoed,
                l1a=decisions.accept,
                metadata=metadata,
                dropped=dropped,
                dropped_collections=collections,
            )
    finally:
        bar.close()
