"""Open a network seed's model once, when the menu is read, and check it fits the seed.

The model (an :class:`emulator.nn.Model` file written by ``Model.save``) is kept in
the seed's :class:`~emulator.menu.NNSpec`, so the replay and the firmware
generators use the very object the menu checked. The input size must equal the
declared input layout (plus one for a flow-matching network that takes the time
as its last input); a mismatch is a :class:`MenuError` naming seed and model.
"""

from __future__ import annotations

import zipfile
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
    elif spec.output_given and n_outputs == 1:
        raise MenuError(
            f"{where}: field 'output': a {spec.score} score of a single-output model "
            f"({name}) ignores 'output'; remove it"
        )
    elif not 0 <= spec.output < n_outputs:
        raise MenuError(
            f"{where}: field 'output': {spec.output} is not an output of {name} "
            f"({n_outputs} output(s))"
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
    where = f"{source}: seed {seed.name!r}: field 'model'"
    try:
        with spec.model_path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise MenuError(f"{where}: cannot read {spec.model_path} ({exc.strerror})") from None
    if magic != b"PK\x03\x04":
        state = "is empty" if not magic else "is not an .npz archive"
        raise MenuError(
            f"{where}: {spec.model_path} {state}; a network seed needs an emulator.nn model "
            "file written by Model.save (.npz)"
        )
    try:  # check the archive first: a damaged one never reaches Model.load
        with zipfile.ZipFile(spec.model_path) as archive:
            damaged = archive.testzip()
    except (OSError, zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise MenuError(
            f"{where}: {spec.model_path} is a damaged or truncated .npz archive ({exc})"
        ) from None
    if damaged is not None:
        raise MenuError(f"{where}: {spec.model_path}: entry {damaged!r} is damaged (bad CRC)")
    try:
        model = Model.load(spec.model_path)
    except Exception as exc:  # noqa: BLE001  (a damaged archive raises zipfile, EOF, JSON, ... errors)
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise MenuError(
            f"{where}: {spec.model_path} is not a readable emulator.nn model "
            f"({type(exc).__name__}: {detail})"
        ) from None
    _check(seed, spec, model, source)
    return replace(seed, nn=replace(spec, score_type=_score_type(spec, model), model=model))
