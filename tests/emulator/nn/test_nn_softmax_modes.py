"""Softmax bit-exact against hls4ml for every rounding and overflow mode of every type.

hls4ml's softmax (``nnet_activation.h``: ``softmax_stable`` / ``softmax_latency``)
uses five types besides its input: the exp table, the inverse table, the inverse
table's index type, the accumulator of the exp sum and the result, plus the
normalised input of the stable variant. Each is drawn here with every rounding
and every overflow mode (cycled, so every mode is reached for every role), and
the accumulator is also left to the model's default precision: hls4ml 1.3.0's
config template then declares ``accum_t`` as ``model_default_t`` (its
``accum_t_str`` is computed but never written), which a rounding or saturating
model precision makes visible. Many softmax branches share one compiled model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from emulator.fixed import FixedType
from emulator.nn import from_hls4ml

pytestmark = [pytest.mark.hls, pytest.mark.slow]

ROUNDING = ["TRN", "TRN_ZERO", "RND", "RND_ZERO", "RND_INF", "RND_MIN_INF", "RND_CONV"]
OVERFLOW = ["WRAP", "SAT", "SAT_ZERO", "SAT_SYM"]
#: Softmax result types of the issue report that differed by one LSB.
REPORTED_RESULTS = ["fixed<9,3,RND_MIN_INF,SAT_ZERO>", "fixed<22,2,RND,SAT_ZERO>"]
N_BRANCHES = 20
#: (config key, width range, integer range, signed) of each softmax type role.
ROLES = {
    "result": ((6, 22), (-1, 4), None),
    "exp_table_t": ((10, 20), (2, 9), True),
    "inv_table_t": ((10, 20), (2, 9), True),
    "inv_inp_t": ((10, 20), (3, 9), True),
    "accum_t": ((12, 22), (3, 10), True),
    "inp_norm_t": ((10, 16), (2, 6), False),
}


def _spelling(
    rng: np.random.Generator, role: str, rounding: str, overflow: str
) -> tuple[str, FixedType]:
    (w_lo, w_hi), (i_lo, i_hi), signed = ROLES[role]
    width = int(rng.integers(w_lo, w_hi + 1))
    integer = int(rng.integers(i_lo, i_hi + 1))
    if signed is None:
        signed = bool(rng.random() < 0.8)
    text = f"{'' if signed else 'u'}fixed<{width},{integer},{rounding},{overflow}>"
    return text, FixedType(width, integer, signed, rounding, overflow)


def _network(seed: int) -> tuple[Any, Any, dict[str, dict[str, FixedType]]]:
    """Input -> N_BRANCHES x (Dense -> Softmax), types drawn per branch.

    Returns the Keras model, the hls4ml config editor and the expected types."""
    import keras

    rng = np.random.default_rng(seed)
    inp = keras.Input((10,), name="x")
    outs = [
        keras.layers.Softmax(name=f"sm{k}")(
            keras.layers.Dense(int(rng.integers(2, 9)), name=f"d{k}")(inp)
        )
        for k in range(N_BRANCHES)
    ]
    model = keras.Model(inp, outs)
    for w in model.weights:
        w.assign(rng.normal(0.0, 1.0, w.shape))
    default_text, default_type = _spelling(rng, "accum_t", "RND", "SAT")
    drawn: dict[str, dict[str, str]] = {}
    expected: dict[str, dict[str, FixedType]] = {}
    counters = dict.fromkeys(ROLES, 0)
    for k in range(N_BRANCHES):
        stable = k % 3 != 2
        roles = [
            role
            for role in ROLES
            if not (role == "accum_t" and k % 4 == 1)  # from the model's default precision
            and not (role == "inp_norm_t" and (not stable or k % 6 == 0))  # hls4ml derives it
        ]
        texts: dict[str, str] = {"implementation": "stable" if stable else "latency"}
        types: dict[str, FixedType] = {}
        for role in roles:
            # cycling per role reaches every rounding (3 is prime to 7) and overflow mode
            count = counters[role]
            counters[role] += 1
            rounding = ROUNDING[(3 * count + seed) % len(ROUNDING)]
            overflow = OVERFLOW[(count + seed) % len(OVERFLOW)]
            texts[role], types[role] = _spelling(rng, role, rounding, overflow)
        if k < len(REPORTED_RESULTS):
            texts["result"] = REPORTED_RESULTS[k]
            types["result"] = FixedType.parse(REPORTED_RESULTS[k])
        if "accum_t" not in roles:
            types["accum_t"] = default_type
        drawn[f"sm{k}"] = texts
        expected[f"sm{k}"] = types

    def configure(config: dict[str, Any]) -> None:
        config["Model"]["Precision"]["default"] = default_text
        config["LayerName"]["x"]["Precision"]["result"] = "fixed<14,4,RND,SAT>"
        for name, texts in drawn.items():
            dense = config["LayerName"][name.replace("sm", "d")]["Precision"]
            dense.update(
                weight="fixed<10,3>",
                bias="fixed<10,3>",
                accum="fixed<24,10>",
                result="fixed<12,5,RND,SAT>",
            )
            layer = config["LayerName"][name]
            layer["Implementation"] = texts["implementation"]
            layer["Precision"]["result"] = texts["result"]
            if "accum_t" not in texts:
                layer["Precision"].pop("accum", None)
            for role in ("exp_table_t", "inv_table_t", "inv_inp_t", "accum_t", "inp_norm_t"):
                if role in texts:
                    layer[role] = texts[role]

    return model, configure, expected


@pytest.mark.parametrize("seed", [0])
def test_softmax_every_mode_of_every_type(
    seed: int, compile_keras: Any, spanning: Any, same_bits: Any
) -> None:
    keras_model, configure, expected = _network(seed)
    hls_model = compile_keras(f"softmax_modes{seed}", keras_model, configure)
    model = from_hls4ml(hls_model)
    reached: dict[str, set[tuple[str, str]]] = {}
    for name, types in expected.items():
        layer = model.layers[[la.name for la in model.layers].index(name)]
        got = {
            "result": layer.result_type,
            "exp_table_t": layer.exp_table_type,
            "inv_table_t": layer.inv_table_type,
            "inv_inp_t": layer.inv_inp_type,
            "accum_t": layer.accum_type,
            "inp_norm_t": layer.inp_norm_type,
        }
        for role, t in types.items():
            assert got[role] == t, f"{name} {role}: hls4ml resolved {got[role]}, drawn {t}"
            reached.setdefault(role, set()).add((str(t.rounding), str(t.overflow)))
    for role, modes in reached.items():
        assert {r for r, _ in modes} == set(ROUNDING), f"{role}: roundings reached {modes}"
        assert {o for _, o in modes} == set(OVERFLOW), f"{role}: overflows reached {modes}"
    x = spanning(model.input_shape, model.layers[0].result_type, 6000, seed=seed)
    expected_out = hls_model.predict(x)
    got_out = model.predict(x)
    assert isinstance(got_out, list)
    assert len(got_out) == len(expected_out) == N_BRANCHES
    for k, (want, have) in enumerate(zip(expected_out, got_out, strict=True)):
        try:
            same_bits(want, have)
        except AssertionError as error:
            raise AssertionError(f"softmax branch sm{k} {expected[f'sm{k}']}: {error}") from None


@pytest.mark.parametrize("name", ["KERAS_3layer_batch_norm"])
def test_reference_model_default_config_rounding_precision(
    name: str, compile_reference: Any, spanning: Any, same_bits: Any
) -> None:
    """hls4ml's default configuration at model precision ``ap_fixed<14,5,AP_RND,AP_SAT>``
    (the softmax accumulator is then ``model_default_t``, rounding and saturating)."""
    hls_model = compile_reference(name, "ap_fixed<14,5,AP_RND,AP_SAT>")
    model = from_hls4ml(hls_model)
    softmax = model.layers[-1]
    assert softmax.kind == "softmax"
    assert softmax.accum_type == FixedType.parse("ap_fixed<14,5,AP_RND,AP_SAT>")
    x = spanning(model.input_shape, model.layers[0].result_type, 8000, seed=14)
    same_bits(hls_model.predict(x), model.predict(x))
