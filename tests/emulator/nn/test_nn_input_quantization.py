"""Input quantization (ap_fixed from double) at the values where rounding is hard.

Doubles one ulp either side of a rounding tie, exact ties and values far outside
the range: ``floor(y + 0.5)`` rounds the sum itself and gets the value just
below a tie wrong, so these inputs catch it. Checked against hls4ml's compiled
C simulation (an identity network passes the quantized input through exactly)
and against ``emulator.fixed`` (proven against the ap_types headers).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from emulator.fixed import FixedType
from emulator.nn import Input, from_hls4ml

TYPES = [
    "fixed<8,4,RND,SAT>",
    "fixed<10,3,RND_CONV,SAT>",
    "ufixed<9,3,RND_CONV,WRAP>",
    "fixed<12,5,TRN,WRAP>",
    "fixed<16,10,RND,WRAP>",
]


def _near_ties(t: FixedType, n: int, seed: int) -> np.ndarray:
    """Ties, their float neighbours and random values, in units of the type's LSB."""
    rng = np.random.default_rng(seed)
    f = t.width - t.integer
    span = 2 ** (t.width + 1)
    # below 0.5 LSB the next double up is finer than the tie's: the hard case
    ties = np.concatenate([[0.5, -0.5, 1.5, -1.5], rng.integers(-span, span, n) + 0.5])
    grid = rng.integers(-span, span, n).astype(np.float64)
    parts = [ties, grid, rng.normal(0.0, span / 4, n)]
    parts += [np.nextafter(v, np.inf) for v in (ties, grid)]
    parts += [np.nextafter(v, -np.inf) for v in (ties, grid)]
    values = np.ldexp(np.concatenate(parts), -f)
    return np.concatenate([values, [1e300, -1e300, 5e-324, -5e-324, 0.0, -0.0]])


@pytest.mark.parametrize("spec", TYPES)
def test_input_quantization_matches_emulator_fixed(spec: str) -> None:
    t = FixedType.parse(spec)
    x = _near_ties(t, 20_000, seed=len(spec)).reshape(1, -1)
    layer = Input(name="x", result_type=t, shape=(x.shape[1],))
    np.testing.assert_array_equal(layer.quantize(x, False), t.quantize(x))
    np.testing.assert_array_equal(layer.quantize(x, True), t.quantize(x))


@pytest.mark.hls
@pytest.mark.parametrize("spec", TYPES[:2])
def test_input_quantization_matches_hls4ml(spec: str, compile_keras: Any, same_bits: Any) -> None:
    import keras

    n = 4
    inp = keras.Input((n,), name="x")
    model = keras.Model(inp, keras.layers.Dense(n, name="d0")(inp))
    model.get_layer("d0").set_weights([np.eye(n), np.zeros(n)])

    def configure(config: dict[str, Any]) -> None:
        config["LayerName"]["x"]["Precision"] = {"result": spec}
        config["LayerName"]["d0"]["Precision"] = {
            "weight": "fixed<4,2>",
            "bias": "fixed<4,2>",
            "accum": "fixed<40,20>",
            "result": "fixed<40,20>",
        }

    hls_model = compile_keras(f"identity{TYPES.index(spec)}", model, configure)
    emulator = from_hls4ml(hls_model)
    t = FixedType.parse(spec)
    x = _near_ties(t, 1_000, seed=7)
    x = x[: x.size // n * n].reshape(-1, n)
    same_bits(hls_model.predict(x), emulator.predict(x))
