"""NN seeds: run a network plan's model on its integer input vector and score it.

The input vector comes from the BX's hardware slots through
:func:`emulator.plan.network_input` (raw integers of the model's input type, the
same conversion the firmware implements); the score is computed in the declared
types by :mod:`emulator.nn.scores` (see :class:`emulator.menu.NNSpec`). The model
is the one the menu loaded.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from emulator.nn import scores
from emulator.plan import BxSlots, NetworkPlan, NNScore, network_input

__all__ = ["NNScorer"]


class NNScorer:
    """Evaluates one network seed's raw score from the hardware slots."""

    def __init__(self, network: NetworkPlan) -> None:
        self.network = network

    def scores(self, slots: BxSlots) -> NDArray[np.int64]:
        """Raw integer score per BX (in the seed's score type).

        BX whose input values are all zero (empty bunch slots) present the same
        input, so the network runs once for them and the result is copied.
        """
        x_raw = network_input(self.network, slots)
        n_values = len(self.network.inputs)
        occupied = np.flatnonzero(x_raw[:, :n_values].any(axis=1))
        if occupied.shape[0] >= x_raw.shape[0] - 1:
            return self._scores(x_raw)
        distinct = np.concatenate([x_raw[occupied], x_raw[:1] * 0])
        if self.network.time_raw is not None:
            distinct[-1, -1] = self.network.time_raw
        computed = self._scores(distinct)
        out = np.full(x_raw.shape[0], computed[-1], np.int64)
        out[occupied] = computed[:-1]
        return out

    def _scores(self, x_raw: NDArray[np.int64]) -> NDArray[np.int64]:
        network = self.network
        result = network.model.predict_raw(x_raw, input_is_raw=True)
        if network.score is NNScore.CNF_NORM:
            v_raw, v_type = result if isinstance(result, tuple) else result[0]
            raw, _ = scores.sum_of_squares(v_raw, v_type, network.accum_type, diff_type=v_type)
            return np.asarray(raw, np.int64)
        out_raw, out_type = result if isinstance(result, tuple) else result[network.output]
        if network.score is NNScore.TAGGER:
            return np.ascontiguousarray(out_raw[:, network.output], np.int64)
        if network.score is NNScore.LATENT_MU2:
            raw, _ = scores.latent_norm(out_raw, out_type, accum_type=network.accum_type)
            return np.asarray(raw, np.int64)
        x_type = network.input_type
        kwargs: dict[str, Any] = {
            "diff_type": network.diff_type if network.diff_type is not None else x_type,
            "accum_type": network.accum_type,
            "out_type": network.out_type,
        }
        if network.scale_type is not None:
            kwargs["scale_type"] = network.scale_type
        raw, _ = scores.reconstruction_mse(x_raw, x_type, out_raw, out_type, **kwargs)
        return np.asarray(raw, np.int64)
