"""The seed papers' architectures, small, and every layer kind, bit-exact with hls4ml.

- MLP jet tagger 16 -> 64 -> 32 -> 32 -> 5 (the hls4ml benchmark);
- DeepSets jet tagger: Conv1D kernel 1 over constituents + global pooling + Dense;
- 57-input dense autoencoder (MET, 4 e/gamma, 4 mu, 10 jets x pT/eta/phi);
- CNN on an 18 x 14 calorimeter-region image (CICADA-like), with max and average
  pooling, 'same' padding included;
- pooling: MaxPooling1D ('same', strided), AveragePooling1D, global max/average
  pooling in 1D and 2D;
- a layer-coverage network: sigmoid, tanh, LeakyReLU, Add, Concatenate, standalone
  BatchNormalization and the latency softmax.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from emulator.nn import from_hls4ml

pytestmark = [pytest.mark.hls, pytest.mark.slow]


def _randomise(model: Any, seed: int, scale: float = 0.5) -> Any:
    rng = np.random.default_rng(seed)
    for w in model.weights:
        if "variance" in w.path:
            w.assign(rng.uniform(0.5, 2.0, w.shape))
        else:
            w.assign(rng.normal(0.0, scale, w.shape))
    return model


def jet_tagger() -> Any:
    import keras

    inp = keras.Input((16,), name="x")
    h = inp
    for k, width in enumerate((64, 32, 32)):
        h = keras.layers.Dense(width, activation="relu", name=f"fc{k}")(h)
    out = keras.layers.Dense(5, activation="softmax", name="out")(h)
    return _randomise(keras.Model(inp, out), 1, 0.3)


def deepsets() -> Any:
    import keras

    inp = keras.Input((16, 3), name="particles")
    h = keras.layers.Conv1D(16, 1, activation="relu", name="phi1")(inp)
    h = keras.layers.Conv1D(8, 1, activation="relu", name="phi2")(h)
    h = keras.layers.GlobalAveragePooling1D(name="sum")(h)
    h = keras.layers.Dense(8, activation="relu", name="rho")(h)
    out = keras.layers.Dense(5, activation="softmax", name="out")(h)
    return _randomise(keras.Model(inp, out), 2, 0.5)


def autoencoder() -> Any:
    import keras

    inp = keras.Input((57,), name="x")
    h = keras.layers.Dense(32, activation="relu", name="enc1")(inp)
    z = keras.layers.Dense(8, name="latent")(h)
    h = keras.layers.Dense(32, activation="relu", name="dec1")(z)
    out = keras.layers.Dense(57, name="recon")(h)
    return _randomise(keras.Model(inp, out), 3, 0.25)


def cicada_cnn() -> Any:
    import keras

    inp = keras.Input((18, 14, 1), name="regions")
    h = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv1")(inp)
    h = keras.layers.MaxPooling2D(2, name="pool1")(h)
    h = keras.layers.Conv2D(6, 3, activation="relu", name="conv2")(h)
    h = keras.layers.AveragePooling2D(2, padding="same", name="pool2")(h)
    h = keras.layers.Flatten(name="flat")(h)
    h = keras.layers.Dense(8, activation="relu", name="fc")(h)
    out = keras.layers.Dense(1, name="score")(h)
    return _randomise(keras.Model(inp, out), 4, 0.4)


def pooling() -> Any:
    import keras

    inp = keras.Input((12, 3), name="seq")
    h = keras.layers.Conv1D(4, 3, padding="same", activation="relu", name="conv")(inp)
    h = keras.layers.MaxPooling1D(3, strides=2, padding="same", name="max1d")(h)
    h = keras.layers.AveragePooling1D(2, name="avg1d")(h)
    h = keras.layers.GlobalMaxPooling1D(name="gmax1d")(h)
    out = keras.layers.Dense(3, name="out")(h)
    return _randomise(keras.Model(inp, out), 6, 0.6)


def global_pooling_2d() -> Any:
    import keras

    inp = keras.Input((8, 6, 2), name="img")
    a = keras.layers.GlobalMaxPooling2D(name="gmax2d")(inp)
    b = keras.layers.GlobalAveragePooling2D(name="gavg2d")(inp)
    h = keras.layers.Concatenate(name="cat")([a, b])
    out = keras.layers.Dense(3, name="out")(h)
    return _randomise(keras.Model(inp, out), 7, 0.6)


def coverage() -> Any:
    import keras

    inp = keras.Input((12,), name="x")
    s = keras.layers.Dense(10, activation="sigmoid", name="ds")(inp)
    r = keras.layers.Dense(10, name="dl")(inp)
    r = keras.layers.LeakyReLU(negative_slope=0.2, name="leaky")(r)
    a = keras.layers.Add(name="add")([s, r])
    c = keras.layers.Concatenate(name="cat")([a, r])
    t = keras.layers.Dense(8, activation="tanh", name="dt")(c)
    b = keras.layers.BatchNormalization(name="bn")(t)
    o = keras.layers.Dense(4, name="do")(b)
    out = keras.layers.Softmax(name="sm")(o)
    return _randomise(keras.Model(inp, out), 5, 0.7)


def _latency_softmax(config: dict[str, Any]) -> None:
    config["LayerName"]["sm"]["Implementation"] = "latency"
    config["LayerName"]["dt"]["Precision"]["result"] = "fixed<12,4,RND_CONV,SAT_SYM>"


CASES: dict[str, tuple[Callable[[], Any], Callable[[dict[str, Any]], None] | None]] = {
    "jet_tagger": (jet_tagger, None),
    "deepsets": (deepsets, None),
    "autoencoder": (autoencoder, None),
    "cicada_cnn": (cicada_cnn, None),
    "coverage": (coverage, _latency_softmax),
    "pooling": (pooling, None),
    "global_pooling_2d": (global_pooling_2d, None),
}


@pytest.mark.parametrize("case", list(CASES))
def test_architecture_bit_exact(
    case: str, compile_keras: Any, spanning: Any, same_bits: Any
) -> None:
    build, configure = CASES[case]
    hls_model = compile_keras(case, build(), configure)
    model = from_hls4ml(hls_model)
    n = 4_000 if case == "cicada_cnn" else 10_000
    x = spanning(model.input_shape, model.layers[0].result_type, n, seed=len(case))
    same_bits(hls_model.predict(x), model.predict(x))


def test_coverage_has_every_layer_kind(compile_keras: Any) -> None:
    build, configure = CASES["coverage"]
    model = from_hls4ml(compile_keras("coverage", build(), configure))
    kinds = {layer.kind for layer in model.layers}
    assert {"dense", "activation", "merge", "concatenate", "batchnorm", "softmax"} <= kinds
    acts = {getattr(layer, "activation", None) for layer in model.layers}
    assert {"sigmoid", "tanh", "leaky_relu"} <= acts


@pytest.fixture(scope="module")
def autoencoder_pair(compile_keras: Any) -> tuple[Any, Any]:
    hls_model = compile_keras("autoencoder", autoencoder(), None)
    return hls_model, from_hls4ml(hls_model)


def test_trace_matches_hls4ml_trace(compile_keras: Any, spanning: Any) -> None:
    """Every layer's output equals hls4ml's own trace of the C simulation."""

    def traced(config: dict[str, Any]) -> None:
        _latency_softmax(config)
        for layer_config in config["LayerName"].values():
            layer_config["Trace"] = True

    hls_model = compile_keras("coverage_trace", coverage(), traced)
    model = from_hls4ml(hls_model)
    x = spanning(model.input_shape, model.layers[0].result_type, 300, seed=21)
    _, expected = hls_model.trace(x)
    got = model.trace(x)
    compared = 0
    for name, values in expected.items():
        if name in got:
            want = np.asarray(values, dtype=np.float64).reshape(got[name].shape)
            np.testing.assert_array_equal(
                want.view(np.int64), got[name].view(np.int64), err_msg=name
            )
            compared += 1
    assert compared >= 8, f"only {compared} traced layers in common: {sorted(expected)}"
