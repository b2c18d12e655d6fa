"""Real third-party models (hls4ml example-models) emulated bit for bit.

Each model is converted by hls4ml from its Keras-v2 json/h5 or HGQ proxy h5,
compiled to the C simulation, and predicted on 12 000 inputs spanning and
exceeding its input type's range; every output bit must agree.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
import pytest

from emulator.nn import from_hls4ml

pytestmark = [pytest.mark.hls, pytest.mark.slow]

MODELS = [
    "KERAS_3layer",
    "KERAS_3layer_batch_norm",
    "hgq_jet_classifier.h5",
    "KERAS_conv1d_small",
    "KERAS_conv2d_model",
]


@pytest.mark.parametrize("name", MODELS)
def test_reference_model_bit_exact(
    name: str, compile_reference: Any, spanning: Any, same_bits: Any
) -> None:
    hls_model = compile_reference(name)
    model = from_hls4ml(hls_model)
    seed = zlib.crc32(name.encode())
    x = spanning(model.input_shape, model.layers[0].result_type, 12_000, seed=seed)
    expected = hls_model.predict(x)
    same_bits(expected, model.predict(x))
    # the multithreaded kernels give the same bits
    same_bits(expected, model.predict(x, parallel=True, chunk=1000))


def test_reference_trace_matches_predict(compile_reference: Any, spanning: Any) -> None:
    model = from_hls4ml(compile_reference("KERAS_3layer_batch_norm"))
    x = spanning(model.input_shape, model.layers[0].result_type, 500, seed=3)
    trace = model.trace(x)
    assert list(trace) == [layer.name for layer in model.layers]
    np.testing.assert_array_equal(trace[model.outputs[0]], model.predict(x))
    raw, out_type = model.predict_raw(x)
    np.testing.assert_array_equal(
        np.ldexp(raw.astype(np.float64), -(out_type.width - out_type.integer)), model.predict(x)
    )
