"""numba kernels for the stateful per-BX logic: prescale counters and trigger rules.

Both kernels walk the records of one chunk in order and carry their state in
small arrays that the caller keeps between chunks, so that replaying a stream
chunk by chunk gives exactly the result of replaying it in one piece.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from numpy.typing import NDArray


@nb.njit(cache=True)
def prescale_kernel(
    fired: NDArray[np.bool_],
    factors_x100: NDArray[np.int64],
    counters: NDArray[np.int64],
    passed: NDArray[np.bool_],
) -> None:
    """Apply CMS global-trigger fractional prescales in place.

    ``fired`` and ``passed`` are (n_records, n_seeds); ``factors_x100`` holds each
    seed's prescale times 100 (0 = seed disabled); ``counters`` is the per-seed
    state, updated in place. Each time a seed fires its counter grows by 100;
    when the counter reaches the factor the event passes and the factor is
    subtracted (CMSSW ``GlobalBoard::PrescaleCounter::accept``).
    """
    n_records, n_seeds = fired.shape
    for i in range(n_records):
        for s in range(n_seeds):
            passed[i, s] = False
            if not fired[i, s]:
                continue
            factor = factors_x100[s]
            counters[s] += 100
            if factor == 0 or counters[s] < factor:
                continue
            counters[s] -= factor
            passed[i, s] = True


@nb.njit(cache=True)
def trigger_rules_kernel(
    global_bx: NDArray[np.int64],
    candidate: NDArray[np.bool_],
    max_accepts: NDArray[np.int64],
    windows: NDArray[np.int64],
    history: NDArray[np.int64],
    accept: NDArray[np.bool_],
    dead: NDArray[np.bool_],
) -> None:
    """Apply the trigger rules "at most ``max_accepts[r]`` accepts in any ``windows[r]`` BX".

    ``global_bx`` is the absolute BX number of each record (orbit · 3564 + bx),
    strictly increasing. ``history`` holds the absolute BX of the most recent
    accepts, newest first, padded with a very negative number; it has as many
    entries as the largest ``max_accepts`` and is updated in place. A record is
    ``dead`` when an accept there would break a rule (whether or not a trigger
    fired); ``accept`` is ``candidate`` and not ``dead``.
    """
    depth = history.shape[0]
    n_rules = max_accepts.shape[0]
    for i in range(global_bx.shape[0]):
        now = global_bx[i]
        is_dead = False
        for r in range(n_rules):
            # accepts already in the window (now - window, now]; the rule allows
            # this one when fewer than max_accepts are there
            k = max_accepts[r]
            if k <= depth and now - history[k - 1] < windows[r]:
                is_dead = True
                break
        dead[i] = is_dead
        accept[i] = candidate[i] and not is_dead
        if accept[i]:
            for j in range(depth - 1, 0, -1):
                history[j] = history[j - 1]
            history[0] = now
