"""The float64 GEMM paths of Dense layers and the raw-input entry point.

Dense layers whose products are exact in the accumulator run as one float64
matrix product plus a fused numba epilogue; whole Dense/ReLU chains run fused
(``emulator.nn._chain``); Dense layers with truncated products and wide outputs
take the floored-float kernel (mode 3). Each is compared bit for bit with
hls4ml's compiled C simulation, with rounding/overflow modes chosen so that the
epilogue's exact (non-branch-free) cast paths run too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from emulator.nn import Activation, Dense, Input, Model, from_hls4ml

N_EVENTS = 10_000


def _mlp(sizes: list[int], activations: list[str], seed: int) -> Any:
    import keras

    inp = keras.Input((sizes[0],), name="x")
    h = inp
    for k, width in enumerate(sizes[1:]):
        h = keras.layers.Dense(width, name=f"d{k}")(h)
        if k < len(activations):
            h = keras.layers.Activation(activations[k], name=f"a{k}")(h)
    model = keras.Model(inp, h)
    rng = np.random.default_rng(seed)
    for w in model.weights:
        w.assign(rng.normal(0.0, 0.5, w.shape))
    return model


def _configure(precisions: dict[str, dict[str, str]]) -> Any:
    def configure(config: dict[str, Any]) -> None:
        for name, layer_cfg in config["LayerName"].items():
            precision = layer_cfg.setdefault("Precision", {})
            if isinstance(precision, str):
                precision = layer_cfg["Precision"] = {"result": precision}
            precision.update(precisions.get(name, {}))

    return configure


def _dense_types(result: str, accum: str) -> dict[str, str]:
    return {"weight": "fixed<8,2>", "bias": "fixed<8,2>", "accum": accum, "result": result}


# x frac 9 + weight frac 6 = 15 <= accum frac 20: products exact, shifted left by 5
_CHAIN_TYPES = {
    "x": {"result": "fixed<14,5>"},
    "d0": _dense_types("fixed<12,4,RND_CONV,SAT_SYM>", "fixed<44,24>"),
    "a0": {"result": "ufixed<10,4,RND,SAT>"},
    "d1": _dense_types("fixed<13,5,RND_INF,WRAP>", "fixed<40,22,TRN,SAT>"),
    "a1": {"result": "fixed<11,5,RND,WRAP>"},
    "d2": _dense_types("fixed<16,6,TRN_ZERO,SAT>", "fixed<40,20>"),
}


@pytest.mark.hls
def test_fused_dense_chain_bit_exact_with_hls4ml(
    compile_keras: Any, spanning: Any, same_bits: Any
) -> None:
    hls_model = compile_keras(
        "gemm_chain", _mlp([16, 40, 24, 5], ["relu", "relu"], 3), _configure(_CHAIN_TYPES)
    )
    model = from_hls4ml(hls_model)
    assert model._fused() is not None, f"the chain did not take the fused path: {model}"
    modes = {m for layer in model.layers for m in getattr(layer, "_plan", {}).values()}
    assert modes == {4}, f"dense modes {modes}, expected only the GEMM mode 4"
    x = spanning(model.input_shape, model.layers[0].result_type, N_EVENTS - 3, seed=5)
    got = model.predict(x)
    same_bits(hls_model.predict(x), got)
    same_bits(got, model.predict(x, parallel=True))
    # the layer-by-layer route (separate Dense GEMM and ReLU kernels) agrees too
    np.testing.assert_array_equal(
        model.predict_raw(x, chunk=997)[0],  # type: ignore[index]
        model.predict_raw(x)[0],  # type: ignore[index]
    )


@pytest.mark.hls
def test_floored_float_dense_bit_exact_with_hls4ml(
    compile_keras: Any, spanning: Any, same_bits: Any
) -> None:
    """x frac 10 + weight frac 6 > accum frac 12 (TRN, WRAP) and 20 outputs: the
    floored-product float kernel (mode 3)."""
    types = {
        "x": {"result": "fixed<16,6>"},
        "d0": _dense_types("fixed<16,6,RND,SAT>", "fixed<32,20>"),
        "d1": _dense_types("fixed<16,6>", "fixed<32,20>"),
    }
    hls_model = compile_keras("gemm_floored", _mlp([12, 20, 3], ["sigmoid"], 4), _configure(types))
    model = from_hls4ml(hls_model)
    x = spanning(model.input_shape, model.layers[0].result_type, N_EVENTS, seed=6)
    got = model.predict(x)
    assert 3 in {m for layer in model.layers for m in getattr(layer, "_plan", {}).values()}
    same_bits(hls_model.predict(x), got)


def _small_model(with_sigmoid: bool) -> Model:
    rng = np.random.default_rng(1)
    acc = "ap_fixed<40,20>"
    layers = [
        Input(name="x", result_type="ap_fixed<12,4,AP_RND,AP_SAT>", shape=(7,)),
        Dense(name="d0", result_type="ap_fixed<14,6>", weight=rng.integers(-90, 90, (7, 9)),
              weight_type="ap_fixed<8,1>", bias=rng.integers(-50, 50, 9),
              bias_type="ap_fixed<8,1>", accum_type=acc),
        Activation(name="r0", result_type="ap_ufixed<12,6,AP_RND,AP_SAT>", activation="relu"),
        Dense(name="d1", result_type="ap_fixed<16,8>", weight=rng.integers(-90, 90, (9, 3)),
              weight_type="ap_fixed<8,1>", bias=rng.integers(-50, 50, 3),
              bias_type="ap_fixed<8,1>", accum_type=acc),
    ]  # fmt: skip
    if with_sigmoid:
        layers.append(Activation(name="s", result_type="ap_fixed<10,2>", activation="sigmoid"))
    return Model(layers)


@pytest.mark.parametrize("with_sigmoid", [False, True], ids=["fused", "layer_by_layer"])
def test_predict_raw_from_raw_input(with_sigmoid: bool) -> None:
    model = _small_model(with_sigmoid)
    assert (model._fused() is None) == with_sigmoid
    rng = np.random.default_rng(2)
    x = rng.uniform(-10.0, 10.0, (5003, 7))
    raw_x = model.layers[0].quantize(x, False)  # type: ignore[attr-defined]
    expected, out_type = model.predict_raw(x)  # type: ignore[misc]
    got, got_type = model.predict_raw(raw_x, input_is_raw=True)  # type: ignore[misc]
    assert got_type == out_type
    np.testing.assert_array_equal(got, expected)
    # narrower integer dtypes are accepted
    got16, _ = model.predict_raw(raw_x.astype(np.int16), input_is_raw=True)  # type: ignore[misc]
    np.testing.assert_array_equal(got16, expected)


def test_raw_input_errors_name_the_problem() -> None:
    model = _small_model(False)
    with pytest.raises(ValueError, match=r"integer raws .* dtype float64"):
        model.predict_raw(np.zeros((2, 7)), input_is_raw=True)
    raw = np.zeros((3, 7), np.int64)
    raw[1, 4] = 2048
    raw[2, 0] = -2049
    with pytest.raises(ValueError, match=r"\[-2048, 2047\], got 2048 at event 1, input 4 \(2 "):
        model.predict_raw(raw, input_is_raw=True)
    with pytest.raises(ValueError, match="whole number of events of 7 values"):
        model.predict_raw(np.zeros((2, 5), np.int64), input_is_raw=True)
