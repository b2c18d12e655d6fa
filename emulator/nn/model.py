"""The emulated network: a graph of raw-integer layers with hls4ml's predict API.

``Model.predict(x)`` returns float64 values equal, bit for bit, to
``hls_model.predict(x)`` of the compiled hls4ml project it came from;
``predict_raw`` returns the raw integers and their types; ``trace`` gives every
layer's output. Events stream through in chunks, so memory stays bounded.
A model that is a plain chain of Dense layers (with BatchNorm, linear/ReLU
activations and a final softmax) runs fused when every layer proves exact on one
engine (``_chain``: int32 ring arithmetic for accumulators of at most 32 bits with
truncated products, hls4ml's default configuration among them, or one float64
BLAS product per layer), unless an explicit ``chunk`` asks for the layer-by-layer
route; both give the same bits.
``save``/``load`` keep everything in one ``.npz`` (arrays plus a JSON header), so
replay needs neither hls4ml nor a compiler.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

from emulator.fixed import FixedType
from streams import atomic_output

from ._chain import DenseChain, check_raw_input, single_thread_blas
from .layers import LAYER_CLASSES, Input, Layer, Softmax, layer_type

FORMAT_VERSION = 1


class Model:
    """A network of ``layers`` (the first is the ``Input``) and its output names.

    Layers with empty ``inputs`` read the previous layer; ``outputs`` defaults to
    the last layer. Shapes are inferred and checked on construction.
    """

    def __init__(self, layers: Sequence[Layer], outputs: Sequence[str] | None = None) -> None:
        if not layers or not isinstance(layers[0], Input):
            raise ValueError("a Model starts with an Input layer")
        self.layers: list[Layer] = list(layers)
        names = [layer.name for layer in self.layers]
        if len(set(names)) != len(names):
            raise ValueError(f"layer names must be unique, got {names}")
        self.outputs: list[str] = list(outputs) if outputs else [names[-1]]
        self._by_name = {layer.name: layer for layer in self.layers}
        previous = names[0]
        self._sources: dict[str, list[str]] = {}
        for layer in self.layers[1:]:
            sources = list(layer.inputs) or [previous]
            for src in sources:
                if src not in self._by_name or names.index(src) >= names.index(layer.name):
                    raise ValueError(
                        f"layer {layer.name!r} reads {src!r}, which does not come before it"
                    )
            self._sources[layer.name] = sources
            previous = layer.name
        for out in self.outputs:
            if out not in self._by_name:
                raise ValueError(f"output {out!r} is not a layer name")
        self._infer_shapes()
        self._chain: DenseChain | bool | None = False  # False: not yet planned

    def _infer_shapes(self) -> None:
        first = self.layers[0]
        if not first.shape:
            raise ValueError("the Input layer needs a shape")
        for layer in self.layers[1:]:
            in_shapes = [self._by_name[s].shape for s in self._sources[layer.name]]
            layer.shape = tuple(int(v) for v in layer.infer_shape(in_shapes))
            if isinstance(layer, Softmax):
                layer.prepare(self._by_name[self._sources[layer.name][0]].result_type)

    # ------------------------------------------------------------------ running

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.layers[0].shape

    @property
    def output_types(self) -> list[FixedType]:
        return [self._by_name[name].result_type for name in self.outputs]

    def _as_input(self, x: Any) -> np.ndarray:
        """Events as (n, input size) float64; like hls4ml, any array whose size is a
        multiple of the input size is read as that many events."""
        arr = np.asarray(x, dtype=np.float64)
        n_in = self.layers[0].size
        if arr.ndim == 0 or arr.size == 0 or arr.size % n_in:
            raise ValueError(
                f"input of shape {np.shape(x)} does not hold a whole number of events of "
                f"{n_in} values (model input shape {self.input_shape})"
            )
        return np.ascontiguousarray(arr.reshape(-1, n_in))

    def _as_raw_input(self, raw: Any) -> np.ndarray:
        inp = self.layers[0]
        assert isinstance(inp, Input)
        return check_raw_input(raw, inp)

    def _fused(self) -> DenseChain | None:
        """The fused engine when the whole model is an exact Dense chain, else None."""
        if self._chain is False:
            self._chain = DenseChain.build(self.layers, self._sources, self.outputs)
        assert self._chain is not True
        return self._chain

    def _chunk_size(self, chunk: int | None) -> int:
        if chunk:
            return int(chunk)
        widest = max(max(layer.size, 1) for layer in self.layers)
        taps = max((getattr(layer, "index", np.zeros(0)).size for layer in self.layers), default=0)
        per_event = max(widest, taps, 1)
        return int(max(64, min(8192, 4_000_000 // per_event)))

    def _run_raw(self, raw_in: np.ndarray, parallel: bool, keep_all: bool) -> dict[str, np.ndarray]:
        values = {self.layers[0].name: raw_in}
        types = {self.layers[0].name: self.layers[0].result_type}
        last_use = {}
        for layer in self.layers[1:]:
            for src in self._sources[layer.name]:
                last_use[src] = layer.name
        for layer in self.layers[1:]:
            srcs = self._sources[layer.name]
            values[layer.name] = layer.run(
                [values[s] for s in srcs], [types[s] for s in srcs], parallel
            )
            types[layer.name] = layer.result_type
            if not keep_all:
                for s in srcs:
                    if last_use.get(s) == layer.name and s not in self.outputs:
                        del values[s]
        return values

    def iter_raw(
        self, x: Any, *, parallel: bool = False, chunk: int | None = None
    ) -> Iterator[list[np.ndarray]]:
        """Raw outputs chunk by chunk (list over outputs, each (events, size))."""
        arr = self._as_input(x)
        step = self._chunk_size(chunk)
        for start in range(0, arr.shape[0], step):
            yield self._run_into(arr[start : start + step], parallel, None, False, False)

    def _run_into(
        self, x: Any, parallel: bool, chunk: int | None, as_float: bool, input_is_raw: bool
    ) -> list[np.ndarray]:
        """Stream events through in chunks, filling one preallocated array per output
        (raw int64, or float64 converted chunk by chunk). A plain chain of exact
        Dense layers takes a fused engine (``_chain``) unless ``chunk`` is given."""
        arr = self._as_raw_input(x) if input_is_raw else self._as_input(x)
        n = arr.shape[0]
        types = self.output_types
        with single_thread_blas():
            fused = self._fused() if chunk is None else None
            dtype = np.float64 if as_float else np.int64
            if fused is not None:
                result = np.empty((n, self._by_name[self.outputs[0]].size), dtype=dtype)
                fused.run(arr, input_is_raw, parallel, result)
                return [result]
            results = [
                np.empty((n, self._by_name[name].size), dtype=dtype) for name in self.outputs
            ]
            step = self._chunk_size(chunk)
            inp = self.layers[0]
            assert isinstance(inp, Input)
            for start in range(0, n, step):
                part_in = arr[start : start + step]
                raw_in = part_in if input_is_raw else inp.quantize(part_in, parallel)
                values = self._run_raw(raw_in, parallel, False)
                for k, name in enumerate(self.outputs):
                    part = to_float(values[name], types[k]) if as_float else values[name]
                    results[k][start : start + step] = part
        return results

    def predict_raw(
        self,
        x: Any,
        *,
        parallel: bool = False,
        chunk: int | None = None,
        input_is_raw: bool = False,
    ) -> tuple[np.ndarray, Any] | list[tuple[np.ndarray, Any]]:
        """Raw int64 outputs and their FixedType: one (raw, type) per output, a list
        when the model has several outputs.

        ``input_is_raw``: ``x`` holds raw integers of the input layer's type (as
        ``layers[0].quantize`` returns them), so callers that need the quantized
        input themselves quantize it once."""
        results = self._run_into(x, parallel, chunk, as_float=False, input_is_raw=input_is_raw)
        pairs = list(zip(results, self.output_types, strict=True))
        return pairs[0] if len(pairs) == 1 else pairs

    def predict(
        self, x: Any, *, parallel: bool = False, chunk: int | None = None
    ) -> np.ndarray | list[np.ndarray]:
        """float64 outputs as hls4ml's ``predict`` returns them (one event: 1-D)."""
        floats = self._run_into(x, parallel, chunk, as_float=True, input_is_raw=False)
        if floats[0].shape[0] == 1:
            floats = [f[0] for f in floats]
        return floats[0] if len(floats) == 1 else floats

    def trace(self, x: Any, *, chunk: int | None = None) -> dict[str, np.ndarray]:
        """Every layer's output as float64, shaped (events, *layer shape)."""
        arr = self._as_input(x)
        step = self._chunk_size(chunk)
        collected: dict[str, list[np.ndarray]] = {layer.name: [] for layer in self.layers}
        inp = self.layers[0]
        assert isinstance(inp, Input)
        for start in range(0, arr.shape[0], step):
            with single_thread_blas():
                values = self._run_raw(
                    inp.quantize(arr[start : start + step], False), False, keep_all=True
                )
            for layer in self.layers:
                collected[layer.name].append(to_float(values[layer.name], layer.result_type))
        return {
            name: np.concatenate(chunks).reshape(-1, *self._by_name[name].shape)
            for name, chunks in collected.items()
        }

    # ------------------------------------------------------------------ persistence

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write one ``.npz``: layer arrays plus a JSON description (temp file, rename)."""
        path = Path(path)
        arrays: dict[str, np.ndarray] = {}
        described = []
        for i, layer in enumerate(self.layers):
            entry: dict[str, Any] = {"kind": layer.kind}
            for f in fields(layer):
                value = getattr(layer, f.name)
                if f.name in layer.arrays:
                    arrays[f"{i}.{f.name}"] = np.asarray(value)
                elif f.name.endswith("_type"):
                    entry[f.name] = None if value is None else _type_to_json(value)
                elif isinstance(value, tuple):
                    entry[f.name] = list(value)
                else:
                    entry[f.name] = value
            described.append(entry)
        header = {
            "format": "l1sim.emulator.nn",
            "version": FORMAT_VERSION,
            "outputs": self.outputs,
            "layers": described,
        }
        arrays["model.json"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(path) as tmp, tmp.open("wb") as handle:
            np.savez_compressed(handle, **arrays)  # type: ignore[arg-type]
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Model:
        """Read a model written by ``save``; errors name the file and the layer."""
        path = Path(path)
        with np.load(path, allow_pickle=False) as data:
            if "model.json" not in data:
                raise ValueError(f"{path}: not an emulator.nn model (no model.json entry)")
            header = json.loads(bytes(data["model.json"]).decode())
            if (
                header.get("format") != "l1sim.emulator.nn"
                or header.get("version") != FORMAT_VERSION
            ):
                raise ValueError(
                    f"{path}: format {header.get('format')!r} version {header.get('version')!r} "
                    f"is not l1sim.emulator.nn version {FORMAT_VERSION}"
                )
            layers = []
            for i, entry in enumerate(header["layers"]):
                kind = entry.pop("kind", None)
                if kind not in LAYER_CLASSES:
                    raise ValueError(f"{path}: layer {i} has unknown kind {kind!r}")
                layer_cls = LAYER_CLASSES[kind]
                kwargs: dict[str, Any] = {}
                for f in fields(layer_cls):
                    if f.name in layer_cls.arrays:
                        key = f"{i}.{f.name}"
                        if key not in data:
                            raise ValueError(f"{path}: layer {i} ({kind}) lacks array {f.name!r}")
                        kwargs[f.name] = data[key]
                    elif f.name in entry:
                        value = entry[f.name]
                        if f.name.endswith("_type") and value is not None:
                            value = _type_from_json(value)
                        kwargs[f.name] = value
                try:
                    layers.append(layer_cls(**kwargs))
                except (TypeError, ValueError) as exc:
                    raise ValueError(f"{path}: layer {i} ({kind}): {exc}") from exc
        return cls(layers, header["outputs"])

    def __repr__(self) -> str:
        lines = [f"Model({len(self.layers)} layers, outputs={self.outputs})"]
        lines += [
            f"  {layer.name}: {layer.kind} {layer.shape} -> {layer.result_type}"
            for layer in self.layers
        ]
        return "\n".join(lines)


def to_float(raw: np.ndarray, t: FixedType | str) -> np.ndarray:
    """raw * 2**-frac as float64 (exact up to 53 significant bits, like to_double)."""
    return np.ldexp(raw.astype(np.float64), -layer_type(t).frac)


def _type_to_json(t: FixedType) -> dict[str, Any]:
    """A type as the model file stores it (fields of ``FixedType``, mode names)."""
    return {
        "width": t.width,
        "integer": t.integer,
        "signed": t.signed,
        "rounding": t.rounding.value,
        "overflow": t.overflow.value,
    }


def _type_from_json(d: dict[str, Any]) -> FixedType:
    return FixedType(d["width"], d["integer"], d["signed"], d["rounding"], d["overflow"])
