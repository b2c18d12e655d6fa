"""Building models without hls4ml, save/load round trips, and clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from emulator.nn import (
    Activation,
    Conv,
    Dense,
    Input,
    Model,
    Pool,
    Reshape,
    Softmax,
    conv_index,
    from_hls4ml,
    quantize_weights,
)


def small_network(seed: int = 0) -> Model:
    """A DeepSets-like network built from raw weights: conv k=1, pooling, dense, softmax."""
    rng = np.random.default_rng(seed)
    w1 = quantize_weights(rng.normal(0, 0.5, (3, 4)), "ap_fixed<8,2>")
    w2 = quantize_weights(rng.normal(0, 0.5, (4, 3)), "ap_fixed<8,2>")
    layers = [
        Input("x", "ap_fixed<12,4,AP_RND,AP_SAT>", shape=(5, 3)),
        Conv(
            "phi",
            "ap_fixed<14,6>",
            weight=w1,
            weight_type="ap_fixed<8,2>",
            bias=np.zeros(4, np.int64),
            bias_type="ap_fixed<8,2>",
            accum_type="ap_fixed<24,10>",
            index=conv_index((5, 3), (1,), (1,), (0,), (5,)),
        ),
        Activation("relu", "ap_ufixed<10,5,AP_RND,AP_SAT>", activation="relu"),
        Pool(
            "pool",
            "ap_fixed<14,6>",
            op="average",
            accum_type="ap_fixed<20,8>",
            index=np.array([[p * 4 + f for p in range(5)] for f in range(4)]),
            patch=np.full(4, 5),
        ),
        Reshape("flat", "ap_fixed<14,6>"),
        Dense(
            "out",
            "ap_fixed<16,6>",
            weight=w2,
            weight_type="ap_fixed<8,2>",
            bias=np.array([1, -2, 3]),
            bias_type="ap_fixed<8,2>",
            accum_type="ap_fixed<26,10>",
        ),
        Activation("sig", "ap_ufixed<10,0>", activation="sigmoid", table_type="ap_fixed<18,8>"),
        Softmax(
            "sm",
            "ap_fixed<16,6>",
            exp_table_type="ap_fixed<18,8>",
            inv_table_type="ap_fixed<18,8>",
            accum_type="ap_fixed<20,10>",
            inv_inp_type="ap_fixed<18,8>",
            inp_norm_type="ap_ufixed<15,5>",
            inputs=("out",),
        ),
    ]
    return Model(layers, outputs=["sig", "sm"])


def test_built_model_runs_and_round_trips(tmp_path: Path) -> None:
    model = small_network()
    x = np.random.default_rng(1).normal(0, 4, (3000, 5, 3))
    before = model.predict(x)
    assert isinstance(before, list)
    assert before[0].shape == (3000, 3)
    path = model.save(tmp_path / "net.npz")
    loaded = Model.load(path)
    after = loaded.predict(x)
    assert isinstance(after, list)
    for a, b in zip(before, after, strict=True):
        np.testing.assert_array_equal(a.view(np.int64), b.view(np.int64))
    raw_before = model.predict_raw(x)
    raw_after = loaded.predict_raw(x)
    assert isinstance(raw_before, list)
    assert isinstance(raw_after, list)
    for (ra, ta), (rb, tb) in zip(raw_before, raw_after, strict=True):
        np.testing.assert_array_equal(ra, rb)
        assert ta == tb
    # streaming chunk by chunk gives the same raws
    streamed = list(model.iter_raw(x, chunk=1000))
    for k, (raw, _) in enumerate(raw_before):
        np.testing.assert_array_equal(np.concatenate([part[k] for part in streamed]), raw)
    # chunking and threads do not change a bit
    chunked = model.predict(x, chunk=7, parallel=True)
    assert isinstance(chunked, list)
    np.testing.assert_array_equal(chunked[1], before[1])


def test_single_event_and_shape_errors() -> None:
    model = small_network()
    one = model.predict(np.zeros((5, 3)))
    assert isinstance(one, list)
    assert one[0].shape == (3,)
    with pytest.raises(ValueError, match="does not hold a whole number of events of 15"):
        model.predict(np.zeros((4, 7)))


def test_bad_layers_are_named() -> None:
    with pytest.raises(ValueError, match=r"'d'.*weights expect 4"):
        Model(
            [
                Input("x", "ap_fixed<8,3>", shape=(3,)),
                Dense(
                    "d",
                    "ap_fixed<8,3>",
                    weight=np.zeros((4, 2)),
                    weight_type="ap_fixed<8,3>",
                    bias=np.zeros(2),
                    bias_type="ap_fixed<8,3>",
                    accum_type="ap_fixed<16,6>",
                ),
            ]
        )
    with pytest.raises(ValueError, match="reads 'nowhere'"):
        Model(
            [
                Input("x", "ap_fixed<8,3>", shape=(3,)),
                Activation("a", "ap_fixed<8,3>", activation="relu", inputs=("nowhere",)),
            ]
        )
    with pytest.raises(ValueError, match="activation 'gelu'"):
        Activation("a", "ap_fixed<8,3>", activation="gelu")


def test_load_rejects_foreign_files(tmp_path: Path) -> None:
    path = tmp_path / "other.npz"
    np.savez(path, a=np.zeros(3))
    with pytest.raises(ValueError, match=r"other\.npz: not an emulator\.nn model"):
        Model.load(path)


def test_quantize_weights_follows_the_weight_files() -> None:
    # 0.3 printed with 6 decimals is 0.300000, then ap_fixed<8,2> truncates: 19/64
    np.testing.assert_array_equal(
        quantize_weights(np.array([0.3, -0.3]), "ap_fixed<8,2>"), [19, -20]
    )


@pytest.mark.hls
@pytest.mark.slow
def test_saved_hls4ml_model_replays_without_hls4ml(
    compile_reference: Any, spanning: Any, same_bits: Any, tmp_path: Path
) -> None:
    hls_model = compile_reference("hgq_jet_classifier.h5")
    model = from_hls4ml(hls_model)
    path = model.save(tmp_path / "hgq.npz")
    loaded = Model.load(path)
    x = spanning(loaded.input_shape, loaded.layers[0].result_type, 3000, seed=9)
    same_bits(hls_model.predict(x), loaded.predict(x))
