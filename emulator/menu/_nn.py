"""Open a network seed's model once, when the menu is read, and check it fits the seed.

The model (an :class:`emulator.nn.Model` file written by ``Model.save``) is kept in
the seed's :class:`~emulator.menu.NNSpec`, so the replay and the firmware
generators use the very object the menu checked. The input size must equal the
declared input layout (plus one for a flow-matching network that takes the time
as its last input); a mismatch is a :class:`MenuError` naming seed and model.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from emulator.fixed import FixedType
from emulator.menu._model import MenuError, NNSpec, Seed
from emulator.nn import Model

__all__ = ["as_fixed", "resolve_nn_seed"]


def as_fixed(t: Any) -> FixedType:
    """The emulator.fixed type of whatever type object emulator.nn hands back."""
    return t if isinstance(t, FixedType) else FixedType.parse(str(t))


def _check(seed: Seed, spec: NNSpec, model: Model, source: str) -> None:
    where = f"{source}: seed {seed.name!r}"
    name = spec.model_path.name
    n_outputs = len(model.outputs)
    if spec.score == "tagger":
        size = model.layers[-1].size if n_outputs == 1 else 0
        if n_outputs != 1 or not 0 <= spec.output < size:
            raise MenuError(
                f"{where}: field 'output': {spec.output} is not an output "
                f"element of {name} ({n_outputs} output(s), size {size})"
            )
    n_in = model.layers[0].size
    declared = spec.inputs.n_features
    accepted = (declared, declared + 1) if spec.score == "cnf_norm" else (declared,)
    if n_in not in accepted:
        extra = " (or one more: the time, for cnf_norm)" if spec.score == "cnf_norm" else ""
        raise MenuError(
            f"{where}: field 'inputs': model {name} takes {n_in} inputs but the input "
            f"layout {spec.inputs.name!r} gives {declared}{extra}; declare the seed's "
            "'inputs' (see emulator/menus/README.md)"
        )


def _score_type(spec: NNSpec, model: Model) -> FixedType:
    if spec.score == "tagger":
        return as_fixed(model.output_types[0])
    if spec.score == "ae_mse" and spec.out_type is not None:
        return spec.out_type
    assert spec.accum_type is not None  # the loader requires it for these scores
    return spec.accum_type


def resolve_nn_seed(seed: Seed, source: str) -> Seed:
    """Open the seed's model (it must exist), check it, record it and its score type."""
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
    _check(seed, spec, model, source)
    return replace(seed, nn=replace(spec, score_type=_score_type(spec, model), model=model))
