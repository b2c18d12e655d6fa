"""NN seeds: run an emulator.nn model on the BX's ADC2021 slots and score it.

The network sees ``streams.to_slots(batch)`` (57 floats per BX) times the seed's
``input_scale``, quantized by the model's own input layer; the score is computed
in the declared types by :mod:`emulator.nn.scores` (see
:class:`emulator.menu.NNSpec`). Models are loaded once per replay.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from emulator.fixed import FixedType
from emulator.menu import MenuError, NNSpec, Seed
from emulator.nn import Model, scores
from streams import EventBatch, to_slots

__all__ = ["NNScorer", "resolve_nn_seed"]


def _fixed(t: Any) -> FixedType:
    """The emulator.fixed type of whatever type object emulator.nn hands back."""
    return t if isinstance(t, FixedType) else FixedType.parse(str(t))


def _output_types(model: Model) -> list[FixedType]:
    return [_fixed(t) for t in model.output_types]


def _load(seed: Seed, source: str) -> tuple[NNSpec, Model]:
    spec = seed.nn
    if spec is None:
        raise MenuError(f"{source}: seed {seed.name!r}: field 'model': not an NN seed")
    if not spec.model_path.is_file():
        raise MenuError(
            f"{source}: seed {seed.name!r}: field 'model': no such file {spec.model_path}"
        )
    try:
        model = Model.load(spec.model_path)
    except (OSError, ValueError, KeyError) as exc:
        raise MenuError(f"{source}: seed {seed.name!r}: field 'model': {exc}") from None
    n_outputs = len(model.outputs)
    if spec.score == "tagger":
        size = model.layers[-1].size if n_outputs == 1 else 0
        if n_outputs != 1 or not 0 <= spec.output < size:
            raise MenuError(
                f"{source}: seed {seed.name!r}: field 'output': {spec.output} is not an output "
                f"element of {spec.model_path.name} ({n_outputs} output(s), size {size})"
            )
    return spec, model


def _score_type(spec: NNSpec, model: Model) -> FixedType:
    if spec.score == "tagger":
        return _output_types(model)[0]
    if spec.score == "ae_mse" and spec.out_type is not None:
        return spec.out_type
    assert spec.accum_type is not None  # the loader requires it for these scores
    return spec.accum_type


def resolve_nn_seed(seed: Seed, source: str) -> Seed:
    """Open the seed's model (it must exist) and record the type of its score."""
    spec, model = _load(seed, source)
    return replace(seed, nn=replace(spec, score_type=_score_type(spec, model)))


class NNScorer:
    """Evaluates one NN seed's raw score on a batch."""

    def __init__(self, seed: Seed) -> None:
        self.seed = seed
        self.spec, self.model = _load(seed, "menu")

    def scores(
        self, batch: EventBatch, slots: NDArray[np.float32] | None = None
    ) -> NDArray[np.int64]:
        """Raw integer score per record (in ``seed.score_type``).

        ``slots`` is ``streams.to_slots(batch)`` when the caller has it already.
        Empty bunch slots all present the same all-zero input, so the network
        runs once for them and the result is copied: the same bits, less work.
        """
        inputs = np.asarray(to_slots(batch) if slots is None else slots, np.float64)
        if self.spec.input_scale != 1.0:
            inputs = inputs * self.spec.input_scale
        occupied = np.flatnonzero(inputs.any(axis=1))
        if occupied.shape[0] >= inputs.shape[0] - 1:
            return self._scores(inputs)
        distinct = np.concatenate([inputs[occupied], np.zeros((1, inputs.shape[1]))])
        computed = self._scores(distinct)
        out = np.full(inputs.shape[0], computed[-1], np.int64)
        out[occupied] = computed[:-1]
        return out

    def _scores(self, inputs: NDArray[np.float64]) -> NDArray[np.int64]:
        spec, model = self.spec, self.model
        if spec.score == "cnf_norm" and model.layers[0].size == inputs.shape[1] + 1:
            # a vector field taking (x, t): t is appended as the last input
            raw, _ = scores.flow_matching_score(
                model, inputs, spec.time, accum_type=spec.accum_type
            )
            return np.asarray(raw, np.int64)
        first = model.layers[0]
        x_raw = None
        if spec.score == "ae_mse":
            # the reconstruction error needs the quantized input too: quantize once
            x_raw = first.quantize(inputs, False)  # type: ignore[attr-defined]
            result = model.predict_raw(x_raw, input_is_raw=True)
        else:
            result = model.predict_raw(inputs)
        out_raw, out_type = result if isinstance(result, tuple) else result[spec.output]
        if spec.score == "tagger":
            return np.ascontiguousarray(out_raw[:, spec.output], np.int64)
        if spec.score == "latent_mu2":
            raw, _ = scores.latent_norm(out_raw, out_type, accum_type=spec.accum_type)
            return np.asarray(raw, np.int64)
        if spec.score == "cnf_norm":
            # t folded into the network (57 inputs): ‖v‖² of its output as is
            raw, _ = scores.sum_of_squares(out_raw, out_type, spec.accum_type, diff_type=out_type)
            return np.asarray(raw, np.int64)
        assert x_raw is not None
        x_type = first.result_type
        kwargs: dict[str, Any] = {
            "diff_type": spec.diff_type if spec.diff_type is not None else x_type,
            "accum_type": spec.accum_type,
            "out_type": spec.out_type,
        }
        if spec.scale_type is not None:
            kwargs["scale_type"] = spec.scale_type
        raw, _ = scores.reconstruction_mse(x_raw, x_type, out_raw, out_type, **kwargs)
        return np.asarray(raw, np.int64)
