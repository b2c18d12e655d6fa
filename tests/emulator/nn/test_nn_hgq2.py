"""An HGQ2 (``hgq`` 0.2) heterogeneous-quantized MLP emulated bit for bit.

A 16 -> 12 (ReLU) -> 5 network of HGQ2 ``QDense`` layers with per-weight kernel
bitwidths and per-element input quantizers (HGQ's point), briefly trained on
random data and calibrated with ``trace_minmax`` so the WRAP-mode activation
quantizers have real ranges. hls4ml converts it through its keras-v3 HGQ2 path
(the bit-exact precision flow), compiles the C simulation, and every output bit
of ``emulator.nn.from_hls4ml(hls_model).predict`` must equal ``hls_model.predict``
on 12 000 float64 inputs spanning and exceeding the input type's range. On
float32-exact inputs the HGQ2 keras model itself gives the same bits too.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest

from emulator.nn import from_hls4ml

os.environ.setdefault("KERAS_BACKEND", "jax")

pytestmark = [pytest.mark.hls, pytest.mark.slow]


def hgq2_mlp() -> Any:
    """The trained and calibrated HGQ2 keras model."""
    pytest.importorskip("hgq", reason="hgq (HGQ2) is needed for the HGQ2 model")
    import keras
    from hgq.layers import QDense
    from hgq.utils import trace_minmax

    inp = keras.Input((16,), name="x")
    h = QDense(
        12,
        activation="relu",
        kernel_initializer=keras.initializers.GlorotUniform(seed=1),
        name="fc1",
    )(inp)
    out = QDense(
        5,
        kernel_initializer=keras.initializers.GlorotUniform(seed=2),
        enable_oq=True,
        name="out",
    )(h)
    model = keras.Model(inp, out)

    rng = np.random.default_rng(11)
    # heterogeneous starting bitwidths: every weight's b (kernel/bias, KBI) and every
    # element's fractional bits f (activation, KIF) drawn independently
    for w in model.weights:
        if w.trainable and w.path.endswith(("/b", "/f")):
            w.assign(rng.uniform(1.5, 8.5, w.shape))
    x = rng.normal(0.0, 1.0, (2048, 16)).astype(np.float32)
    y = np.tanh(x[:, :5] + x[:, 5:10] * x[:, 10:15]).astype(np.float32)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    model.fit(x, y, epochs=3, batch_size=256, shuffle=False, verbose=0)
    trace_minmax(model, x)
    return model


@pytest.fixture(scope="module")
def hgq2_pair(compile_keras: Any) -> tuple[Any, Any, Any]:
    keras_model = hgq2_mlp()
    hls_model = compile_keras("hgq2_mlp", keras_model, None)
    return keras_model, hls_model, from_hls4ml(hls_model)


def test_hgq2_mlp_bit_exact(hgq2_pair: tuple[Any, Any, Any], spanning: Any) -> None:
    _, hls_model, model = hgq2_pair
    x = spanning(model.input_shape, model.layers[0].result_type, 12_000, seed=2)
    expected = np.asarray(hls_model.predict(x), np.float64).reshape(-1, 5)
    got = np.asarray(model.predict(x), np.float64)
    np.testing.assert_array_equal(expected.view(np.int64), got.view(np.int64))
    # the multithreaded kernels give the same bits
    got = np.asarray(model.predict(x, parallel=True, chunk=1000), np.float64)
    np.testing.assert_array_equal(expected.view(np.int64), got.view(np.int64))


def test_hgq2_mlp_is_heterogeneous(hgq2_pair: tuple[Any, Any, Any]) -> None:
    """The model really is heterogeneous: per-weight kernel bitwidths differ within a
    layer and the emulator keeps per-element input quantizers."""
    keras_model, _, model = hgq2_pair
    for name in ("fc1", "out"):
        bits = np.asarray(keras_model.get_layer(name).kq.bits)
        assert np.unique(bits).size > 1, f"{name}: homogeneous kernel bits {np.unique(bits)}"
    quantizers = [layer for layer in model.layers if layer.kind == "quantizer"]
    assert quantizers, [layer.kind for layer in model.layers]
    assert any(np.unique(q.element_params, axis=0).shape[0] > 1 for q in quantizers)


def test_hgq2_mlp_matches_keras_on_float32_inputs(
    hgq2_pair: tuple[Any, Any, Any], spanning: Any
) -> None:
    """On inputs exact in float32 (keras predicts in float32) the HGQ2 keras model,
    hls4ml and the emulator give the same bits: the chain is bit-exact end to end."""
    keras_model, hls_model, model = hgq2_pair
    in_type = model.layers[0].result_type
    lsb = 2.0 ** -(in_type.width - in_type.integer)
    x = spanning(model.input_shape, in_type, 4_000, seed=5)
    x = np.clip(np.round(x / lsb) * lsb, -1e4, 1e4)  # float32-exact grid values
    want = np.asarray(keras_model.predict(x.astype(np.float32), verbose=0), np.float64)
    got = model.predict(x)
    np.testing.assert_array_equal(want.view(np.int64), got.view(np.int64))
    expected = np.asarray(hls_model.predict(x), np.float64).reshape(got.shape)
    np.testing.assert_array_equal(expected.view(np.int64), got.view(np.int64))
