"""The int32 ring engine of Dense chains, bit for bit against hls4ml's C simulation.

hls4ml's default configuration (``ap_fixed<16,6>`` everywhere, accumulator
included) truncates every product into a wrapping 16-bit accumulator; such chains
run fused on int32 lanes (``emulator.nn._kernels_ring``). Checked here: the
reference jet taggers with and without BatchNorm at the default configuration,
and random networks at the edges of the engine's exactness proof: accumulators
of exactly 32 bits, products whose magnitude bound is one step below 2**31,
products exact only because ``s + W <= 32``, a layer one step beyond (which must
leave the engine), and result and activation types in every rounding and
overflow mode. The non-hls tests pin the guard itself and compare the engine with
the layer-by-layer kernels on built networks.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from emulator.fixed import FixedType
from emulator.nn import Activation, BatchNorm, Dense, Input, Model, Softmax, from_hls4ml

N_EVENTS = 20_000
ROUNDING = ["TRN", "TRN_ZERO", "RND", "RND_ZERO", "RND_INF", "RND_MIN_INF", "RND_CONV"]
OVERFLOW = ["WRAP", "SAT", "SAT_ZERO", "SAT_SYM"]
EDGE_W = 65535 / 65536  # the largest raw of fixed<17,1>: |x| * |w| = 2**31 - 2**15


def _engine(model: Model) -> str | None:
    chain = model._fused()
    return None if chain is None else chain.engine


def _check(hls_model: Any, model: Model, spanning: Any, same_bits: Any, seed: int) -> None:
    x = spanning(model.input_shape, model.layers[0].result_type, N_EVENTS, seed=seed)
    got = model.predict(x)
    same_bits(hls_model.predict(x), got)
    same_bits(got, model.predict(x, parallel=True))
    # the layer-by-layer kernels give the same raws
    np.testing.assert_array_equal(
        model.predict_raw(x, chunk=4099)[0],  # type: ignore[index]
        model.predict_raw(x)[0],  # type: ignore[index]
    )


@pytest.mark.hls
@pytest.mark.slow
@pytest.mark.parametrize("name", ["KERAS_3layer", "KERAS_3layer_batch_norm"])
def test_default_configuration_reference_models(
    name: str, compile_reference: Any, spanning: Any, same_bits: Any
) -> None:
    hls_model = compile_reference(name)
    model = from_hls4ml(hls_model)
    assert _engine(model) == "ring", f"{name} did not take the int32 ring engine: {model}"
    _check(hls_model, model, spanning, same_bits, seed=len(name))


def _keras_mlp(sizes: list[int], acts: list[str], softmax: bool, weights: Any) -> Any:
    import keras

    inp = keras.Input((sizes[0],), name="x")
    h = inp
    for k, width in enumerate(sizes[1:]):
        h = keras.layers.Dense(width, name=f"d{k}")(h)
        if k < len(acts):
            h = keras.layers.Activation(acts[k], name=f"a{k}")(h)
    if softmax:
        h = keras.layers.Softmax(name="sm")(h)
    model = keras.Model(inp, h)
    for k, w in enumerate(model.weights):
        w.assign(weights(k, w.shape))
    return model


def _configure(types: dict[str, dict[str, str]], softmax: str | None = None) -> Any:
    def configure(config: dict[str, Any]) -> None:
        for name, layer_cfg in config["LayerName"].items():
            precision = layer_cfg.setdefault("Precision", {})
            if isinstance(precision, str):
                precision = layer_cfg["Precision"] = {"result": precision}
            precision.update(types.get(name, {}))
            if name == "sm" and softmax:
                layer_cfg["Implementation"] = softmax

    return configure


def _edge_weights(rng: np.random.Generator) -> Any:
    """Kernels in (-0.99, 0.99) with a few at +-EDGE_W; small biases."""

    def draw(k: int, shape: tuple[int, ...]) -> np.ndarray:
        if k % 2:
            return rng.uniform(-0.5, 0.5, shape)
        w = rng.uniform(-0.99, 0.99, shape)
        flat = w.reshape(-1)
        flat[rng.choice(flat.size, 3, replace=False)] = [EDGE_W, -EDGE_W, EDGE_W]
        return w

    return draw


@pytest.mark.hls
@pytest.mark.slow
def test_guard_edges_bit_exact(compile_keras: Any, spanning: Any, same_bits: Any) -> None:
    """d0: 32-bit accumulator, s = 6 and s + W = 38, exact only because
    max|x| * max|w| = 2**31 - 2**15; d1: max|x| * max|w| > 2**31 but s + W = 32;
    d2: a 32-bit saturating accumulator that provably never saturates."""
    types = {
        "x": {"result": "fixed<16,6>"},
        "d0": {
            "weight": "fixed<17,1>",
            "bias": "fixed<16,6>",
            "accum": "fixed<32,12>",
            "result": "fixed<16,6,RND,SAT>",
        },
        "a0": {"result": "ufixed<16,6,RND_CONV,SAT>"},
        "d1": {
            "weight": "fixed<18,2>",
            "bias": "fixed<16,6>",
            "accum": "fixed<16,6>",
            "result": "fixed<16,6,TRN_ZERO,SAT_SYM>",
        },
        "a1": {"result": "fixed<14,5,RND_ZERO,SAT_ZERO>"},
        "d2": {
            "weight": "fixed<8,2>",
            "bias": "fixed<8,2>",
            "accum": "fixed<32,14,TRN,SAT>",
            "result": "fixed<18,8,RND_INF,WRAP>",
        },
    }
    keras_model = _keras_mlp(
        [12, 20, 9, 5], ["relu", "linear"], True, _edge_weights(np.random.default_rng(7))
    )
    hls_model = compile_keras("ring_edges", keras_model, _configure(types, "stable"))
    model = from_hls4ml(hls_model)
    d0, d1, d2 = (layer for layer in model.layers if isinstance(layer, Dense))
    x_type = model.layers[0].result_type
    assert d0.accum_type.width == 32
    assert d2.accum_type.width == 32
    found = d0.ring_weights(x_type)
    assert found is not None
    assert int(np.abs(d0.weight).max()) == 65535
    assert found[2] == 6, "d0 must drop 6 product bits into its 32-bit accumulator"
    a0_type = model.layers[2].result_type
    assert int(np.abs(d1.weight).max()) * a0_type.max_raw >= 2**31
    assert d1.ring_weights(a0_type) is not None  # s + W = 16 + 16
    assert _engine(model) == "ring", f"the edge network left the ring engine: {model}"
    _check(hls_model, model, spanning, same_bits, seed=71)


@pytest.mark.hls
@pytest.mark.slow
def test_one_step_beyond_the_guard_leaves_the_ring(
    compile_keras: Any, spanning: Any, same_bits: Any
) -> None:
    """A weight of -1.0 in fixed<17,1> (raw -2**16) makes max|x| * max|w| = 2**31
    with s + W = 38: the product is no longer exact in int32, so the network runs
    on another path, still bit-exact."""

    def weights(k: int, shape: tuple[int, ...]) -> np.ndarray:
        w = np.random.default_rng(k).uniform(-0.9, 0.9, shape)
        if k == 0:
            w[0, 0] = -1.0
        return w

    types = {
        "x": {"result": "fixed<16,6>"},
        "d0": {"weight": "fixed<17,1>", "bias": "fixed<16,6>", "accum": "fixed<32,12>"},
        "d1": {"weight": "fixed<17,1>", "bias": "fixed<16,6>", "accum": "fixed<32,12>"},
    }
    hls_model = compile_keras(
        "ring_beyond", _keras_mlp([10, 8, 4], ["relu"], False, weights), _configure(types)
    )
    model = from_hls4ml(hls_model)
    d0 = model.layers[1]
    assert isinstance(d0, Dense)
    assert int(d0.weight.min()) == -(2**16)
    assert d0.ring_weights(model.layers[0].result_type) is None
    assert _engine(model) != "ring"
    _check(hls_model, model, spanning, same_bits, seed=72)


MODE_PAIRS = list(itertools.product(ROUNDING, OVERFLOW))  # 28 result modes


@pytest.mark.hls
@pytest.mark.slow
@pytest.mark.parametrize("half", [0, 1])
def test_every_result_mode_bit_exact(
    half: int, compile_keras: Any, spanning: Any, same_bits: Any
) -> None:
    """Seven Dense layers and seven activations (ReLU and linear) whose result
    types take 14 of the 28 rounding/overflow pairs each; widths vary so that
    some casts keep every raw (skipped) and others do not."""
    pairs = MODE_PAIRS[half * 14 : half * 14 + 14]
    sizes = [12, 16, 14, 12, 10, 12, 9, 6]
    acts = ["relu", "linear"] * 3 + ["relu"]
    types: dict[str, dict[str, str]] = {"x": {"result": "fixed<16,6>"}}
    for k in range(7):
        (r_d, o_d), (r_a, o_a) = pairs[2 * k], pairs[2 * k + 1]
        acc = ["fixed<16,6>", "fixed<24,10>", "fixed<32,12>", "ufixed<20,8>"][k % 4]
        types[f"d{k}"] = {
            "weight": "fixed<8,2>",
            "bias": "fixed<8,2>",
            "accum": acc,
            "result": f"fixed<{[16, 14, 18][k % 3]},6,{r_d},{o_d}>",
        }
        types[f"a{k}"] = {
            "result": f"{'u' if k % 3 == 1 else ''}fixed<{[16, 12][k % 2]},5,{r_a},{o_a}>"
        }

    def weights(k: int, shape: tuple[int, ...]) -> np.ndarray:
        return np.random.default_rng(100 * half + k).normal(0.0, 0.6, shape)

    keras_model = _keras_mlp(sizes, acts, half == 0, weights)
    hls_model = compile_keras(
        f"ring_modes{half}", keras_model, _configure(types, "latency" if half == 0 else None)
    )
    model = from_hls4ml(hls_model)
    seen = {
        (layer.result_type.rounding.name, layer.result_type.overflow.name)
        for layer in model.layers
        if isinstance(layer, (Dense, Activation))
    }
    assert seen == set(pairs), f"result modes {seen}"
    assert _engine(model) == "ring", f"the modes network left the ring engine: {model}"
    _check(hls_model, model, spanning, same_bits, seed=73 + half)


# ----------------------------------------------------------------------------- no hls4ml


def _dense(name: str, n_in: int, weight: np.ndarray, acc: str, wt: str = "ap_fixed<17,1>") -> Dense:
    return Dense(
        name=name,
        result_type="ap_fixed<16,6>",
        weight=weight.reshape(n_in, -1),
        weight_type=wt,
        bias=np.zeros(weight.size // n_in, np.int64),
        bias_type="ap_fixed<16,6>",
        accum_type=acc,
    )


def test_ring_guard_edges() -> None:
    x16 = FixedType.parse("ap_fixed<16,6>")
    edge = _dense("d", 1, np.array([65535, -65535]), "ap_fixed<32,12>")
    assert edge.ring_weights(x16) is not None  # 2**15 * 65535 < 2**31, s = 6
    beyond = _dense("d", 1, np.array([65535, -65536]), "ap_fixed<32,12>")
    assert beyond.ring_weights(x16) is None  # 2**15 * 2**16 = 2**31
    # the same product with s + W = 10 + 16 - 10 + 16 = 32 is exact again
    assert _dense("d", 1, np.array([-65536]), "ap_fixed<16,6>").ring_weights(x16) is not None
    assert _dense("d", 1, np.array([-65536]), "ap_fixed<17,7>").ring_weights(x16) is None
    # wider than 32 bits, rounded products, or an accumulator that may saturate
    assert _dense("d", 1, np.array([3]), "ap_fixed<33,12>").ring_weights(x16) is None
    assert _dense("d", 1, np.array([3]), "ap_fixed<32,12,AP_RND>").ring_weights(x16) is None
    safe = _dense("d", 4, np.full(4, 1000), "ap_fixed<32,12,AP_TRN,AP_SAT>")
    assert safe.ring_weights(x16) is not None
    unsafe = _dense("d", 4, np.full(4, 60000), "ap_fixed<12,4,AP_TRN,AP_SAT>")
    assert unsafe.ring_weights(x16) is None


def _built(modes: tuple[str, str], bn: bool, softmax: bool, acc: str) -> Model:
    rng = np.random.default_rng(len(acc) + bn)
    rnd, ovf = modes
    layers: list[Any] = [Input(name="x", result_type="ap_fixed<16,6>", shape=(11,))]
    width = 11
    for k, n_out in enumerate([24, 13, 7]):
        layers.append(
            Dense(
                name=f"d{k}",
                result_type=f"ap_fixed<{15 + k},6,AP_{rnd},AP_{ovf}>",
                weight=rng.integers(-200, 200, (width, n_out)),
                weight_type="ap_fixed<10,2>",
                bias=rng.integers(-200, 200, n_out),
                bias_type="ap_fixed<10,2>",
                accum_type=acc,
            )
        )
        if bn:
            layers.append(
                BatchNorm(
                    name=f"b{k}",
                    result_type=f"ap_fixed<16,6,AP_{rnd},AP_{ovf}>",
                    scale=rng.integers(-300, 300, n_out),
                    scale_type="ap_fixed<12,3>",
                    bias=rng.integers(-300, 300, n_out),
                    bias_type="ap_fixed<12,3>",
                )
            )
        act = "relu" if k % 2 == 0 else "linear"
        layers.append(
            Activation(
                name=f"a{k}", result_type=f"ap_ufixed<14,5,AP_{rnd},AP_{ovf}>", activation=act
            )
        )
        width = n_out
    if softmax:
        layers.append(
            Softmax(
                name="sm",
                result_type="ap_fixed<18,8>",
                exp_table_type="ap_fixed<18,8,AP_RND,AP_SAT>",
                inv_table_type="ap_fixed<18,8,AP_RND,AP_SAT>",
                accum_type="ap_fixed<18,8,AP_RND,AP_SAT>",
                inv_inp_type="ap_fixed<18,8,AP_RND,AP_SAT>",
                inp_norm_type="ap_ufixed<14,5>",
            )
        )
    return Model(layers)


@pytest.mark.parametrize(
    ("acc", "bn", "softmax", "engine"),
    [
        ("ap_fixed<16,6>", False, False, "ring"),
        ("ap_fixed<16,6>", True, True, "ring"),
        ("ap_fixed<32,10>", False, True, "ring"),
        ("ap_fixed<32,10>", True, False, "ring"),
        ("ap_ufixed<24,8>", True, True, "ring"),
        ("ap_fixed<44,20>", False, True, "gemm"),  # exact products, > 32 bits
    ],
)
def test_fused_engine_equals_layer_by_layer(acc: str, bn: bool, softmax: bool, engine: str) -> None:
    """Every rounding/overflow pair of the result types, with and without
    BatchNorm and softmax: the fused engines and the layer kernels agree."""
    rng = np.random.default_rng(5)
    x = rng.uniform(-40.0, 40.0, (3001, 11))
    for modes in itertools.product(["TRN", "RND", "RND_CONV", "TRN_ZERO"], OVERFLOW):
        model = _built(modes, bn, softmax, acc)
        assert _engine(model) == engine, f"{modes}: {model}"
        raw, _ = model.predict_raw(x)  # type: ignore[misc]
        np.testing.assert_array_equal(raw, model.predict_raw(x, chunk=777)[0])  # type: ignore[index]
