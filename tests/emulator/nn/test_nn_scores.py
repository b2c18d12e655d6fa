"""Anomaly scores in declared fixed-point types, checked against exact integer math."""

from __future__ import annotations

import numpy as np
import pytest

from emulator.nn import Activation, Dense, Input, Model, quantize_weights
from emulator.nn.scores import flow_matching_score, latent_norm, reconstruction_mse, sum_of_squares


def _exact_sum_squares(x: np.ndarray, y: np.ndarray) -> list[int]:
    return [
        sum((int(a) - int(b)) ** 2 for a, b in zip(xr, yr, strict=True))
        for xr, yr in zip(x, y, strict=True)
    ]


def test_sum_of_squares_is_exact_in_wide_types() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(-2000, 2000, (500, 57))
    y = rng.integers(-2000, 2000, (500, 57))
    raw, t = sum_of_squares(
        x,
        "ap_fixed<12,4>",
        "ap_fixed<40,20>",
        y_raw=y,
        y_type="ap_fixed<12,4>",
        diff_type="ap_fixed<13,5>",
    )
    # same frac (8) in, diff frac 8, squares frac 16, accumulator frac 20: exact, times 2**4
    np.testing.assert_array_equal(raw, np.array(_exact_sum_squares(x, y)) << 4)
    assert (t.width, t.integer) == (40, 20)


def test_saturating_and_wrapping_accumulators() -> None:
    rng = np.random.default_rng(1)
    x = rng.integers(-128, 128, (300, 19))
    exact = np.array(
        _exact_sum_squares(x, np.zeros_like(x))
    )  # frac 8 each, squares frac 8 after cast
    sat, _ = sum_of_squares(x, "ap_fixed<8,4>", "ap_fixed<14,10,AP_TRN,AP_SAT>")
    # squares of frac-4 values have frac 8; the accumulator keeps frac 4: floor(d*d / 16)
    per_term = np.array([[(int(v) * int(v)) >> 4 for v in row] for row in x])
    total = per_term.sum(axis=1)
    np.testing.assert_array_equal(sat, np.minimum(total, 2**13 - 1))
    wrap, _ = sum_of_squares(x, "ap_fixed<8,4>", "ap_fixed<14,10>")
    wrapped = ((total + 2**13) % 2**14) - 2**13
    np.testing.assert_array_equal(wrap, wrapped)
    assert exact.shape == total.shape


def test_reconstruction_mse_scales_by_one_over_n() -> None:
    rng = np.random.default_rng(2)
    x = rng.integers(-500, 500, (200, 16))
    y = rng.integers(-500, 500, (200, 16))
    raw, t = reconstruction_mse(
        x,
        "ap_fixed<12,4>",
        y,
        "ap_fixed<12,4>",
        diff_type="ap_fixed<14,6>",
        accum_type="ap_fixed<40,20>",
        scale_type="ap_ufixed<8,0>",
        out_type="ap_ufixed<24,12>",
    )
    total = np.array(_exact_sum_squares(x, y)) << 4  # accumulator frac 20
    scale = 16  # 1/16 in ap_ufixed<8,0> is 16/256
    expected = (total * scale) >> (20 + 8 - 12)  # to frac 12, truncating
    np.testing.assert_array_equal(raw, expected)
    assert str(t).startswith("ap_ufixed<24,12")


def _autoencoder() -> Model:
    rng = np.random.default_rng(3)
    w = "ap_fixed<8,2>"

    def dense(name: str, n_in: int, n_out: int, result: str) -> Dense:
        return Dense(
            name,
            result,
            weight=quantize_weights(rng.normal(0, 0.3, (n_in, n_out)), w),
            weight_type=w,
            bias=np.zeros(n_out, np.int64),
            bias_type=w,
            accum_type="ap_fixed<24,12>",
        )

    return Model(
        [
            Input("x", "ap_fixed<12,6>", shape=(57,)),
            dense("enc", 57, 16, "ap_fixed<16,6>"),
            Activation("enc_relu", "ap_ufixed<10,6>", activation="relu"),
            dense("latent", 16, 4, "ap_fixed<12,4,AP_RND,AP_SAT>"),
            dense("dec", 4, 16, "ap_fixed<16,6>"),
            Activation("dec_relu", "ap_ufixed<10,6>", activation="relu"),
            dense("recon", 16, 57, "ap_fixed<12,6>"),
        ]
    )


def test_latent_norm_of_encoder_output() -> None:
    model = _autoencoder()
    encoder = Model(model.layers, outputs=["latent"])
    x = np.random.default_rng(4).normal(0, 5, (400, 57))
    mu = encoder.predict_raw(x)
    assert isinstance(mu, tuple)
    mu_raw, mu_type = mu
    raw, t = latent_norm(mu_raw, mu_type, accum_type="ap_ufixed<32,12>")
    exact = np.array(_exact_sum_squares(mu_raw, np.zeros_like(mu_raw)))  # frac 16 -> accum frac 20
    np.testing.assert_array_equal(raw, exact << 4)
    assert raw.shape == (400,)
    assert t.width == 32


def test_flow_matching_score_is_velocity_norm() -> None:
    rng = np.random.default_rng(5)
    w = "ap_fixed<8,2>"
    field = Model(
        [
            Input("xt", "ap_fixed<14,6>", shape=(5,)),
            Dense(
                "h",
                "ap_fixed<16,6>",
                weight=quantize_weights(rng.normal(0, 0.4, (5, 8)), w),
                weight_type=w,
                bias=np.zeros(8, np.int64),
                bias_type=w,
                accum_type="ap_fixed<24,10>",
            ),
            Activation("h_tanh", "ap_fixed<10,2>", activation="tanh", table_type="ap_fixed<18,8>"),
            Dense(
                "v",
                "ap_fixed<12,4>",
                weight=quantize_weights(rng.normal(0, 0.4, (8, 4)), w),
                weight_type=w,
                bias=np.zeros(4, np.int64),
                bias_type=w,
                accum_type="ap_fixed<24,10>",
            ),
        ]
    )
    x = rng.normal(0, 2, (300, 4))
    raw, _ = flow_matching_score(field, x, 0.5, accum_type="ap_ufixed<30,10>")
    v = field.predict_raw(np.concatenate([x, np.full((300, 1), 0.5)], axis=1))
    assert isinstance(v, tuple)
    exact = np.array(_exact_sum_squares(v[0], np.zeros_like(v[0])))  # frac 16 -> 20
    np.testing.assert_array_equal(raw, exact << 4)
    other, _ = flow_matching_score(field, x, 0.9, accum_type="ap_ufixed<30,10>")
    assert not np.array_equal(raw, other)


def test_scores_reject_floats() -> None:
    with pytest.raises(TypeError, match="raw integers"):
        sum_of_squares(np.zeros((2, 3)), "ap_fixed<8,3>", "ap_fixed<16,6>")
