"""Randomly generated networks, random per-layer precisions and modes, bit-exact.

Each seed draws an MLP (depth, widths, activations incl. table-based ones, a final
stable or latency softmax or none) and random hls4ml precisions for every
weight, bias, accumulator, result and table, with random rounding and overflow
modes; hls4ml compiles it and 10 000 inputs must agree in every bit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from emulator.nn import from_hls4ml

pytestmark = [pytest.mark.hls, pytest.mark.slow]

ROUNDING = ["TRN", "TRN_ZERO", "RND", "RND_ZERO", "RND_INF", "RND_MIN_INF", "RND_CONV"]
OVERFLOW = ["WRAP", "SAT", "SAT_ZERO", "SAT_SYM"]
ACTIVATIONS = ["relu", "linear", "sigmoid", "tanh", "leaky"]
SEEDS = [11, 12, 13, 14, 15, 16, 17, 18, 25]  # 25: a fused chain


def _fixed(rng: np.random.Generator, low: int = 4, high: int = 20, modes: bool = True) -> str:
    width = int(rng.integers(low, high + 1))
    integer = int(rng.integers(-1, min(width, 10) + 1))
    signed = "" if rng.random() < 0.85 else "u"
    if not modes:
        return f"{signed}fixed<{width},{integer}>"
    return f"{signed}fixed<{width},{integer},{rng.choice(ROUNDING)},{rng.choice(OVERFLOW)}>"


def _random_network(seed: int) -> tuple[Any, Any]:
    import keras

    rng = np.random.default_rng(seed)
    n_in = int(rng.integers(3, 20))
    inp = keras.Input((n_in,), name="x")
    h = inp
    for k in range(int(rng.integers(1, 4))):
        h = keras.layers.Dense(int(rng.integers(2, 24)), name=f"d{k}")(h)
        act = str(rng.choice(ACTIVATIONS))
        if act == "leaky":
            h = keras.layers.LeakyReLU(negative_slope=float(rng.uniform(0.05, 0.5)), name=f"a{k}")(
                h
            )
        else:
            h = keras.layers.Activation(act, name=f"a{k}")(h)
    h = keras.layers.Dense(int(rng.integers(2, 8)), name="out")(h)
    softmax = str(rng.choice(["none", "stable", "latency"]))
    if softmax != "none":
        h = keras.layers.Softmax(name="sm")(h)
    model = keras.Model(inp, h)
    for w in model.weights:
        w.assign(rng.normal(0.0, float(rng.uniform(0.2, 1.5)), w.shape))

    def configure(config: dict[str, Any]) -> None:
        for name, layer_cfg in config["LayerName"].items():
            precision = layer_cfg.setdefault("Precision", {})
            if isinstance(precision, str):
                precision = layer_cfg["Precision"] = {"result": precision}
            for key in list(precision):
                if key in ("weight", "bias"):
                    precision[key] = _fixed(rng, 3, 14, modes=False)
                elif key == "accum" and rng.random() < 0.4:
                    # hls4ml's usual accumulator: truncating and wrapping
                    precision[key] = _fixed(rng, 16, 32, modes=False)
                elif key == "accum":
                    precision[key] = _fixed(rng, 12, 28)
                elif key in ("result",):
                    precision[key] = _fixed(rng, 6, 20)
                elif key == "table":
                    precision[key] = _fixed(rng, 8, 18)
            if name.startswith("a"):
                layer_cfg["TableSize"] = int(rng.choice([256, 1024, 4096]))
            if name == "sm":
                layer_cfg["Implementation"] = softmax
                precision["result"] = _fixed(rng, 8, 18)
            if name == "x":
                precision["result"] = _fixed(rng, 8, 16)

    return model, configure


def _defined_in_headers(keras_model: Any, configure: Any) -> bool:
    """False when a cast of the drawn network is one the ap_types headers assert on
    (undefined, it aborts the C simulation): rounding casts whose destination LSB
    lies above every source bit (``emulator.fixed.cast_is_defined``)."""
    import hls4ml

    from emulator.fixed import FixedType, cast_is_defined

    config = hls4ml.utils.config_from_keras_model(keras_model, granularity="name", backend="Vivado")
    configure(config)
    model = from_hls4ml(
        hls4ml.converters.convert_from_keras_model(
            keras_model, hls_config=config, backend="Vivado", io_type="io_parallel"
        )
    )
    previous = model.layers[0].result_type
    for layer in model.layers[1:]:
        pairs = [(previous, layer.result_type)]
        if layer.kind == "dense":
            w, x, acc = layer.weight_type, previous, layer.accum_type
            product = FixedType(min(x.width + w.width, 64), x.integer + w.integer, True)
            pairs += [(product, acc), (layer.bias_type, acc), (acc, layer.result_type)]
        if getattr(layer, "table_type", None) is not None:
            pairs.append((layer.table_type, layer.result_type))
        if not all(cast_is_defined(a, b) for a, b in pairs):
            return False
        previous = layer.result_type
    return True


def _draw(seed: int) -> tuple[Any, Any]:
    """The first network from seed, seed + 1000, ... that the headers define."""
    for attempt in range(20):
        keras_model, configure = _random_network(seed + 1000 * attempt)
        if _defined_in_headers(keras_model, configure):
            return keras_model, configure
    raise AssertionError(f"no header-defined random network from seed {seed}")


@pytest.mark.parametrize("seed", SEEDS)
def test_random_network_bit_exact(
    seed: int, compile_keras: Any, spanning: Any, same_bits: Any
) -> None:
    keras_model, configure = _draw(seed)
    hls_model = compile_keras(f"random{seed}", keras_model, configure)
    model = from_hls4ml(hls_model)
    modes = {
        (str(layer.result_type.rounding), str(layer.result_type.overflow)) for layer in model.layers
    }
    assert len(modes) > 1, f"random modes were not applied: {model}"
    x = spanning(model.input_shape, model.layers[0].result_type, 10_000, seed=seed)
    same_bits(hls_model.predict(x), model.predict(x))


def test_random_networks_cover_every_dense_kernel(compile_keras: Any, spanning: Any) -> None:
    """The random seeds drive the dense kernel paths (general sequential, ring
    with truncated or rounded products, float64 GEMM) and the fused Dense/ReLU
    chain, so each is checked above; the floored-float kernel (mode 3) is
    checked in test_nn_gemm_paths.py."""
    modes: set[int] = set()
    fused = 0
    for seed in SEEDS:
        keras_model, configure = _draw(seed)
        model = from_hls4ml(compile_keras(f"random{seed}", keras_model, configure))
        model.predict(spanning(model.input_shape, model.layers[0].result_type, 16, seed=seed))
        for layer in model.layers:
            modes.update(getattr(layer, "_plan", {}).values())
        fused += model._fused() is not None
    assert modes == {0, 1, 2, 4}, f"dense kernel modes reached: {modes}"
    assert fused, "no random network took the fused Dense/ReLU chain"
