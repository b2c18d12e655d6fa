"""The recorded source of a network: what hls4ml converts to regenerate its HLS project.

An emulator model file (``emulator.nn.Model``, ``.npz``) holds raw weights and types,
which is all the replay needs, but not what hls4ml reads. To build an HLS project
for a network, ``firmware`` needs how it was made: the Keras source (architecture
and weights) and the hls4ml configuration (per-layer precisions, Latency strategy).
A source is three files beside the model file ``NAME.npz``:

``NAME.json``
    the architecture in Keras 2's model JSON layout (``Functional``: ``InputLayer``
    then ``Dense`` layers with ``relu`` or no activation), which hls4ml's Keras-v2
    reader converts without TensorFlow or Keras.
``NAME_weights.h5``
    the weights in Keras 2's ``save_weights`` layout (``LAYER/LAYER/kernel:0``,
    ``bias:0``), written without timestamps so equal weights give equal bytes.
    (Keras 3 reads the pair with its legacy loader:
    ``keras.src.legacy.saving.saving_utils.model_from_config(json.load(f))`` then
    ``load_weights``.)
``NAME_hls4ml.json``
    this module's descriptor: the hls4ml ``HLSConfig`` (``Model`` and ``LayerName``
    precisions), the I/O type, the two file names with their SHA-256, the emulator
    model it must reproduce and a sentence saying where the source came from.

:func:`write_model_source` writes one from dense-layer specifications (the training
script hands it the Keras model's float weights and the configuration it converted
with); :func:`source_from_model` writes one from an emulator model alone (its raw
weights are exact in float64 and its types become explicit precisions), for models
whose original Keras source is gone. :func:`find_model_source` looks a source up
beside a model file; :func:`read_model_source` reads and checks one. Whether a
source really reproduces its emulator model is proven by :mod:`firmware._hls`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from emulator.fixed import FixedType
from emulator.nn import Activation, Dense, Input, Model
from firmware._errors import FirmwareError
from streams import atomic_output

__all__ = [
    "SOURCE_FORMAT",
    "DenseSpec",
    "ModelSource",
    "find_model_source",
    "hls4ml_precision",
    "read_model_source",
    "source_from_model",
    "write_model_source",
]

#: ``format`` and ``version`` of the descriptor (bump the version when a field changes).
SOURCE_FORMAT = "l1sim.hls4ml-source"
SOURCE_VERSION = 1
#: Activations a recorded Dense layer may carry (hls4ml names the split-off layer
#: ``<dense>_relu``; a linear activation is left out, as hls4ml removes it anyway).
ACTIVATIONS = ("linear", "relu")


@dataclass(frozen=True)
class DenseSpec:
    """One Keras ``Dense`` layer: name, float weights (n_in, n_out), bias, activation."""

    name: str
    kernel: np.ndarray
    bias: np.ndarray
    activation: str = "linear"

    def __post_init__(self) -> None:
        if self.activation not in ACTIVATIONS:
            raise FirmwareError(
                f"layer {self.name!r}: activation {self.activation!r} cannot be recorded "
                f"(one of {ACTIVATIONS})"
            )
        kernel = np.asarray(self.kernel)
        bias = np.asarray(self.bias).reshape(-1)
        if kernel.ndim != 2 or bias.shape[0] != kernel.shape[1]:
            raise FirmwareError(
                f"layer {self.name!r}: kernel must be (n_in, n_out) and bias (n_out,), "
                f"got {kernel.shape} and {bias.shape}"
            )


@dataclass(frozen=True)
class ModelSource:
    """A recorded source, read from its descriptor ``path`` (``NAME_hls4ml.json``)."""

    path: Path
    name: str
    keras_json: Path
    keras_h5: Path
    hls_config: dict[str, Any]
    io_type: str
    emulator_model: str
    origin: str
    digests: dict[str, str] = field(default_factory=dict)

    @property
    def files(self) -> tuple[Path, Path, Path]:
        """The three files of the source: descriptor, architecture, weights."""
        return (self.path, self.keras_json, self.keras_h5)


def hls4ml_precision(t: FixedType) -> str:
    """hls4ml's spelling of a type, every mode explicit: ``fixed<16,6,RND_CONV,SAT>``."""
    base = "fixed" if t.signed else "ufixed"
    return f"{base}<{t.width},{t.integer},{t.rounding.value},{t.overflow.value}>"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _keras_v2_architecture(
    name: str, input_name: str, input_shape: Sequence[int], layers: Sequence[DenseSpec]
) -> dict[str, Any]:
    """Keras 2's model JSON of an InputLayer followed by a chain of Dense layers."""
    described: list[dict[str, Any]] = [
        {
            "class_name": "InputLayer",
            "config": {
                "batch_input_shape": [None, *(int(s) for s in input_shape)],
                "dtype": "float32",
                "sparse": False,
                "ragged": False,
                "name": input_name,
            },
            "name": input_name,
            "inbound_nodes": [],
        }
    ]
    previous = input_name
    for spec in layers:
        config: dict[str, Any] = {
            "name": spec.name,
            "trainable": True,
            "dtype": "float32",
            "units": int(np.shape(spec.kernel)[1]),
            "use_bias": True,
        }
        if spec.activation != "linear":
            config["activation"] = spec.activation
        described.append(
            {
                "class_name": "Dense",
                "config": config,
                "name": spec.name,
                "inbound_nodes": [[[previous, 0, 0, {}]]],
            }
        )
        previous = spec.name
    return {
        "class_name": "Functional",
        "config": {
            "name": name,
            "layers": described,
            "input_layers": [[input_name, 0, 0]],
            "output_layers": [[previous, 0, 0]],
        },
        "backend": "tensorflow",
    }


def _write_weights(path: Path, input_name: str, layers: Sequence[DenseSpec]) -> None:
    """Keras 2 ``save_weights`` layout, without timestamps (equal weights, equal bytes)."""
    names = [input_name, *(spec.name for spec in layers)]
    with atomic_output(path) as tmp, h5py.File(tmp, "w", track_order=False) as h5:
        h5.attrs["layer_names"] = np.array([n.encode() for n in names])
        h5.attrs["backend"] = b"tensorflow"
        h5.create_group(input_name).attrs["weight_names"] = np.array([], dtype="S1")
        for spec in layers:
            group = h5.create_group(spec.name)
            group.attrs["weight_names"] = np.array(
                [f"{spec.name}/kernel:0".encode(), f"{spec.name}/bias:0".encode()]
            )
            inner = group.create_group(spec.name)
            inner.create_dataset("kernel:0", data=np.asarray(spec.kernel), track_times=False)
            inner.create_dataset(
                "bias:0", data=np.asarray(spec.bias).reshape(-1), track_times=False
            )


def _write_text(path: Path, text: str) -> None:
    with atomic_output(path) as tmp:
        tmp.write_text(text)
        tmp.chmod(0o644)


def write_model_source(
    directory: str | os.PathLike[str],
    name: str,
    *,
    input_name: str,
    input_shape: Sequence[int],
    layers: Sequence[DenseSpec],
    hls_config: Mapping[str, Any],
    emulator_model: str,
    origin: str,
    io_type: str = "io_parallel",
) -> ModelSource:
    """Write ``NAME.json``, ``NAME_weights.h5`` and ``NAME_hls4ml.json`` into ``directory``.

    ``hls_config`` is hls4ml's ``HLSConfig`` (``Model``, ``LayerName``, ...), stored
    as given; ``emulator_model`` names the model file the source must reproduce.
    Each file is written to a temporary name and renamed. Returns the source read back.
    """
    if not layers:
        raise FirmwareError(f"{name}: a source needs at least one Dense layer")
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    arch_path = out / f"{name}.json"
    h5_path = out / f"{name}_weights.h5"
    descriptor_path = out / f"{name}_hls4ml.json"
    architecture = _keras_v2_architecture(name, input_name, input_shape, layers)
    _write_text(arch_path, json.dumps(architecture, indent=1) + "\n")
    _write_weights(h5_path, input_name, layers)
    h5_path.chmod(0o644)
    descriptor = {
        "format": SOURCE_FORMAT,
        "version": SOURCE_VERSION,
        "name": name,
        "emulator_model": emulator_model,
        "origin": origin,
        "keras_json": arch_path.name,
        "keras_h5": h5_path.name,
        "sha256": {arch_path.name: _sha256(arch_path), h5_path.name: _sha256(h5_path)},
        "io_type": io_type,
        "hls_config": dict(hls_config),
    }
    _write_text(descriptor_path, json.dumps(descriptor, indent=1, sort_keys=False) + "\n")
    return read_model_source(descriptor_path)


def read_model_source(path: str | os.PathLike[str]) -> ModelSource:
    """Read a descriptor and check its files exist and match their recorded SHA-256."""
    path = Path(path)
    try:
        descriptor = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise FirmwareError(f"{path}: cannot read the hls4ml source descriptor: {exc}") from exc
    if not isinstance(descriptor, dict) or descriptor.get("format") != SOURCE_FORMAT:
        raise FirmwareError(f"{path}: not an {SOURCE_FORMAT} descriptor")
    if descriptor.get("version") != SOURCE_VERSION:
        raise FirmwareError(
            f"{path}: descriptor version {descriptor.get('version')!r} is not {SOURCE_VERSION}"
        )
    for key in ("name", "emulator_model", "keras_json", "keras_h5", "io_type", "origin"):
        if not isinstance(descriptor.get(key), str):
            raise FirmwareError(f"{path}: field {key!r} is missing or not a string")
    if not isinstance(descriptor.get("hls_config"), dict):
        raise FirmwareError(f"{path}: field 'hls_config' is missing or not a mapping")
    digests = descriptor.get("sha256", {})
    files = {}
    for key in ("keras_json", "keras_h5"):
        file = path.parent / descriptor[key]
        if not file.is_file():
            raise FirmwareError(f"{path}: field {key!r}: {file} does not exist")
        if file.name not in digests:
            raise FirmwareError(f"{path}: field 'sha256' lacks {file.name}")
        if _sha256(file) != digests[file.name]:
            raise FirmwareError(
                f"{path}: {file.name} does not match its recorded SHA-256 (changed since "
                "the source was recorded)"
            )
        files[key] = file
    return ModelSource(
        path=path,
        name=descriptor["name"],
        keras_json=files["keras_json"],
        keras_h5=files["keras_h5"],
        hls_config=descriptor["hls_config"],
        io_type=descriptor["io_type"],
        emulator_model=descriptor["emulator_model"],
        origin=descriptor["origin"],
        digests=dict(digests),
    )


def find_model_source(model_path: str | os.PathLike[str]) -> ModelSource | None:
    """The source recorded beside ``NAME.npz`` (``NAME_hls4ml.json``), or None."""
    model_path = Path(model_path)
    descriptor = model_path.with_name(f"{model_path.stem}_hls4ml.json")
    if not descriptor.is_file():
        return None
    source = read_model_source(descriptor)
    if source.emulator_model != model_path.name:
        raise FirmwareError(
            f"{descriptor}: field 'emulator_model' names {source.emulator_model!r}, "
            f"not {model_path.name!r} beside it"
        )
    return source


def _float_values(raw: np.ndarray, t: FixedType) -> np.ndarray:
    """Exact float64 values of raw integers (widths up to 53 bits)."""
    if t.width > 53:
        raise FirmwareError(f"type {t} is wider than a double holds exactly")
    return np.ldexp(np.asarray(raw, dtype=np.float64), -t.frac)


def source_from_model(
    model: Model, directory: str | os.PathLike[str], name: str, *, origin: str, emulator_model: str
) -> ModelSource:
    """Record a source that reproduces an emulator model of Dense and ReLU layers.

    The weights are the model's raw integers scaled to their exact float64 values;
    the hls4ml configuration gives every layer its type from the model (input,
    weight, bias, accumulator and result precisions), so hls4ml quantizes each value
    back to the same raw integer. Other layer kinds raise :class:`FirmwareError`.
    """
    layers = model.layers
    first = layers[0]
    assert isinstance(first, Input)
    precision = {first.name: {"Precision": {"result": hls4ml_precision(first.result_type)}}}
    specs: list[DenseSpec] = []
    index = 1
    while index < len(layers):
        dense = layers[index]
        if not isinstance(dense, Dense):
            raise FirmwareError(
                f"{name}: layer {dense.name!r} ({dense.kind}) cannot be recorded as a Keras "
                "source (Dense and ReLU chains only)"
            )
        activation = "linear"
        following = layers[index + 1] if index + 1 < len(layers) else None
        if isinstance(following, Activation):
            activation = following.activation
            if activation not in ACTIVATIONS or following.name != f"{dense.name}_{activation}":
                raise FirmwareError(
                    f"{name}: layer {following.name!r} ({activation}) after {dense.name!r} "
                    f"cannot be recorded (hls4ml would name it {dense.name}_{activation})"
                )
            precision[following.name] = {
                "Precision": {"result": hls4ml_precision(following.result_type)}
            }
            index += 1
        precision[dense.name] = {
            "Precision": {
                "weight": hls4ml_precision(dense.weight_type),
                "bias": hls4ml_precision(dense.bias_type),
                "accum": hls4ml_precision(dense.accum_type),
                "result": hls4ml_precision(dense.result_type),
            }
        }
        specs.append(
            DenseSpec(
                dense.name,
                _float_values(dense.weight, dense.weight_type),
                _float_values(dense.bias, dense.bias_type),
                activation,
            )
        )
        index += 1
    if model.outputs != [layers[-1].name]:
        raise FirmwareError(f"{name}: only single-output chains can be recorded")
    hls_config = {
        "Model": {
            "Precision": hls4ml_precision(first.result_type),
            "ReuseFactor": 1,
            "Strategy": "Latency",
        },
        "LayerName": precision,
    }
    return write_model_source(
        directory,
        name,
        input_name=first.name,
        input_shape=first.shape,
        layers=specs,
        hls_config=hls_config,
        emulator_model=emulator_model,
        origin=origin,
    )
