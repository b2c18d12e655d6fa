"""Network seeds traced into da4ml logic agree with the emulator, bit for bit.

The reference is the emulator (``Model.predict_raw`` and ``emulator.nn.scores``),
itself proven against hls4ml's C simulation; the logic under test runs in da4ml's
own C++ interpreter (``CombLogic.predict``). Outputs are compared as raw integers:
da4ml returns values, which times 2**frac must be integers, exactly equal.

Covered: the ap_fixed cast for every rounding x overflow mode exhaustively over a
source type; small random networks whose hidden, accumulator and result types use
each of the 28 mode pairs; every layer kind the tracer supports; the four scores
with the threshold compare; the default menu's networks (slow); the refusals; and
Verilog generation with its pipeline latency.
"""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from emulator.fixed import FixedType, cast_is_defined
from emulator.nn import (
    Activation,
    BatchNorm,
    Concatenate,
    Conv,
    Dense,
    Input,
    Merge,
    Model,
    Pool,
    Quantizer,
    Reshape,
    Softmax,
    conv_index,
    scores,
)
from firmware._errors import FirmwareError

da4ml_trace = pytest.importorskip("da4ml.trace", reason="da4ml is needed to trace networks")

from firmware._trace_fixed import cast
from firmware._trace_nn import ScoreSpec, trace_model, trace_network_seed

ROUNDING = ["TRN", "TRN_ZERO", "RND", "RND_ZERO", "RND_INF", "RND_MIN_INF", "RND_CONV"]
OVERFLOW = ["WRAP", "SAT", "SAT_ZERO", "SAT_SYM"]
MODE_PAIRS = list(itertools.product(ROUNDING, OVERFLOW))
N_EVENTS = 10_000
MODELS = Path(__file__).resolve().parents[2] / "emulator" / "menus" / "models"


# ----------------------------------------------------------------------------- helpers


def _input(n: int) -> tuple[Any, Any]:
    return da4ml_trace.FixedVariableArrayInput((n,), da4ml_trace.HWConfig(1, -1, -1))


def _quantized(inp: Any, t: FixedType) -> Any:
    return inp.quantize(int(t.signed), t.integer - int(t.signed), t.frac)


def _raw_inputs(t: FixedType, n_values: int, n: int, seed: int) -> np.ndarray:
    """n events of raws of type t: uniform over the whole range, small values,
    and edge values (min, max, their neighbours, 0, +-1) mixed per element."""
    rng = np.random.default_rng(seed)
    lo, hi = t.min_raw, t.max_raw
    edges = np.array([lo, lo + 1, hi, hi - 1, 0, 1, -1 if t.signed else 2], dtype=np.int64)
    uniform = rng.integers(lo, hi + 1, size=(n, n_values), dtype=np.int64)
    small = np.clip(rng.integers(-40, 41, size=(n, n_values)), lo, hi)
    edge = rng.choice(edges, size=(n, n_values))
    pick = rng.integers(0, 3, size=(n, n_values))
    raw = np.where(pick == 0, uniform, np.where(pick == 1, small, edge))
    raw[: len(edges)] = edges[:, None]  # whole events at each edge value
    return np.asarray(raw, np.int64)


def _run(comb: Any, raw: np.ndarray, in_type: FixedType) -> np.ndarray:
    return np.asarray(comb.predict(np.ldexp(raw.astype(np.float64), -in_type.frac)))


def _as_raw(values: np.ndarray, frac: int) -> np.ndarray:
    """da4ml output values -> raw integers (they must be exact multiples of the LSB)."""
    scaled = np.ldexp(np.asarray(values, np.float64), frac)
    assert np.all(scaled == np.round(scaled)), "an output is not on its type's grid"
    return scaled.astype(np.int64)


def _assert_same(expected: np.ndarray, got: np.ndarray, what: str) -> None:
    expected = np.asarray(expected, np.int64).reshape(got.shape)
    bad = expected != got
    if bad.any():
        first = tuple(np.argwhere(bad)[0])
        raise AssertionError(
            f"{what}: {int(bad.sum())} of {bad.size} raws differ; first at {first}: "
            f"emulator {expected[first]} da4ml {got[first]}"
        )


def _check_model(model: Model, n: int = N_EVENTS, seed: int = 0) -> None:
    """trace_model of every output == predict_raw on n random + edge inputs."""
    in_type = model.layers[0].result_type
    inp = _input(model.layers[0].size)
    outs = trace_model(model, _quantized(inp, in_type))
    comb = da4ml_trace.comb_trace(inp, [v for out in outs for v in out._vars.ravel()])
    raw = _raw_inputs(in_type, model.layers[0].size, n, seed)
    got = _run(comb, raw, in_type)
    result = model.predict_raw(raw, input_is_raw=True)
    pairs = result if isinstance(result, list) else [result]
    start = 0
    for name, (expected, out_type) in zip(model.outputs, pairs, strict=True):
        size = expected.shape[1]
        _assert_same(expected, _as_raw(got[:, start : start + size], out_type.frac), name)
        start += size


def _t(text: str) -> FixedType:
    return FixedType.parse(text)


def _typ(rng: np.random.Generator, lo: int, hi: int, rounding: str, overflow: str) -> FixedType:
    width = int(rng.integers(lo, hi + 1))
    integer = int(rng.integers(-1, min(width, 8) + 1))
    return FixedType(width, integer, bool(rng.random() < 0.8), rounding, overflow)


def _dense(
    rng: np.random.Generator, name: str, n_in: int, n_out: int, acc: FixedType, res: FixedType
) -> Dense:
    w_type = _t(f"ap_fixed<{int(rng.integers(3, 9))},{int(rng.integers(0, 3))}>")
    b_type = _t(f"ap_fixed<{int(rng.integers(4, 10))},{int(rng.integers(1, 4))}>")
    weight = rng.integers(w_type.min_raw, w_type.max_raw + 1, size=(n_in, n_out))
    weight[rng.random(weight.shape) < 0.15] = 0
    bias = rng.integers(b_type.min_raw, b_type.max_raw + 1, size=n_out)
    return Dense(
        name=name,
        result_type=res,
        weight=weight,
        weight_type=w_type,
        bias=bias,
        bias_type=b_type,
        accum_type=acc,
    )


def _random_mlp(rounding: str, overflow: str, seed: int) -> Model:
    """Input -> Dense -> act -> Dense -> act -> Dense, every accumulator and result
    type in the given modes (random widths), activations drawn per layer."""
    rng = np.random.default_rng(seed)
    n_in = int(rng.integers(3, 6))
    layers: list[Any] = [
        Input(name="x", result_type=_typ(rng, 6, 12, "TRN", "WRAP"), shape=(n_in,))
    ]
    width = n_in
    for k in range(3):
        n_out = int(rng.integers(2, 5))
        acc = _typ(rng, 10, 18, rounding, overflow)
        layers.append(_dense(rng, f"d{k}", width, n_out, acc, _typ(rng, 6, 12, rounding, overflow)))
        if k < 2:
            act = ["relu", "linear", "leaky_relu", "sigmoid", "tanh"][(seed + k) % 5]
            extra: dict[str, Any] = {}
            if act == "leaky_relu":
                extra = {"alpha": int(rng.integers(1, 200)), "param_type": _t("ap_fixed<10,1>")}
            if act in ("sigmoid", "tanh"):
                extra = {"table_size": 256, "table_type": _typ(rng, 8, 14, rounding, overflow)}
            res = _typ(rng, 5, 12, rounding, overflow)
            layers.append(Activation(name=f"a{k}", result_type=res, activation=act, **extra))
        width = n_out
    return Model(layers)


# ----------------------------------------------------------------------------- the cast


@pytest.mark.parametrize(("rounding", "overflow"), MODE_PAIRS)
def test_cast_every_mode_exhaustive(rounding: str, overflow: str) -> None:
    """cast(src -> dst) for every raw of a few source types equals FixedType.cast."""
    pairs = [
        ("ap_fixed<10,4>", "ap_fixed<6,3>"),  # drop 3 bits, saturate 1 integer bit
        ("ap_fixed<10,4>", "ap_ufixed<5,2>"),  # signed into unsigned
        ("ap_ufixed<9,3>", "ap_fixed<5,1>"),  # unsigned into small signed
        ("ap_fixed<8,2>", "ap_fixed<12,6>"),  # widening: never rounds or overflows
        ("ap_fixed<10,6>", "ap_fixed<4,6>"),  # LSB above 1
        ("ap_fixed<9,-1>", "ap_fixed<3,-2>"),  # all fraction
        ("ap_fixed<6,-1>", "ap_ufixed<8,3>"),  # negative into a much wider unsigned
        ("ap_fixed<5,-3>", "ap_fixed<6,3>"),  # tiny range, LSB kept far above it
        ("ap_fixed<8,4>", "ap_ufixed<6,14>"),  # LSB above the source MSB (TRN only)
        ("ap_fixed<16,12>", "ap_fixed<8,38>"),  # LSB 2**30
    ]
    for src_text, dst_text in pairs:
        src = _t(src_text)
        dst = _t(dst_text).with_modes(rounding, overflow)
        if not cast_is_defined(src, dst):
            continue  # the ap_types headers assert: the emulator refuses it too
        inp = _input(1)
        comb = da4ml_trace.comb_trace(inp, [cast(_quantized(inp, src)[0], dst)])
        raw = np.arange(src.min_raw, src.max_raw + 1, dtype=np.int64).reshape(-1, 1)
        got = _as_raw(_run(comb, raw, src), dst.frac)
        _assert_same(dst.cast(raw, src), got, f"{src} -> {dst}")


# ----------------------------------------------------------------------------- networks


@pytest.mark.parametrize(("rounding", "overflow"), MODE_PAIRS)
def test_random_mlp_every_mode(rounding: str, overflow: str) -> None:
    """Small random MLPs, accumulators and results in each mode pair, 10 000 inputs."""
    seed = MODE_PAIRS.index((rounding, overflow))
    _check_model(_random_mlp(rounding, overflow, seed), seed=seed)


def test_wrapping_truncating_accumulator_takes_one_cmvm() -> None:
    """hls4ml's usual accumulator (TRN, WRAP) with products losing bits: exact."""
    rng = np.random.default_rng(7)
    x_type = _t("ap_fixed<12,5>")
    acc = _t("ap_fixed<14,6>")  # x frac 7 + w frac 6 - 8: every product loses 5 bits
    dense = _dense(rng, "d", 8, 6, acc, _t("ap_fixed<10,4,AP_RND_CONV,AP_SAT>"))
    dense.weight_type = _t("ap_fixed<8,2>")
    dense.weight = rng.integers(-128, 128, size=(8, 6))
    _check_model(Model([Input(name="x", result_type=x_type, shape=(8,)), dense]))


def test_graph_layers() -> None:
    """BatchNorm, per-element quantizer, reshape, every merge op, concatenate."""
    rng = np.random.default_rng(3)
    x_type = _t("ap_fixed<10,4>")
    layers: list[Any] = [
        Input(name="x", result_type=x_type, shape=(4,)),
        BatchNorm(
            name="bn",
            result_type=_t("ap_fixed<11,4,AP_RND,AP_SAT>"),
            scale=rng.integers(-200, 200, size=4),
            scale_type=_t("ap_fixed<9,2>"),
            bias=rng.integers(-50, 50, size=4),
            bias_type=_t("ap_fixed<8,3>"),
        ),
        Quantizer(
            name="q",
            result_type=_t("ap_fixed<9,4>"),
            inputs=("x",),
            element_params=[[6, 3, 1], [0, 0, 1], [5, 1, 0], [8, 2, 1]],
            rounding="RND_CONV",
            overflow="SAT_SYM",
        ),
        Reshape(name="r", result_type=_t("ap_fixed<8,3,AP_RND_ZERO,AP_SAT_ZERO>"), inputs=("bn",)),
    ]
    for k, op in enumerate(Merge._OPS):
        res = _t(f"ap_fixed<{9 + k},{4 + k % 3},AP_{ROUNDING[k]},AP_{OVERFLOW[k % 4]}>")
        layers.append(Merge(name=f"m_{op}", result_type=res, inputs=("q", "r"), op=op))
    layers.append(
        Concatenate(
            name="cat",
            result_type=_t("ap_fixed<10,5,AP_RND_INF,AP_SAT>"),
            inputs=("m_add", "m_multiply", "m_average"),
            index=np.array([0, 5, 10, 1, 6, 11, 2, 3, 4, 7]),
        )
    )
    model = Model(layers, outputs=["cat", "m_subtract", "m_maximum", "m_minimum"])
    _check_model(model)


def test_conv_and_pooling() -> None:
    """Conv1D with padding, max pooling and a power-of-two average pooling."""
    rng = np.random.default_rng(5)
    index = conv_index((6, 2), (3,), (1,), (1,), (6,))
    conv = _dense(
        rng, "conv", index.shape[1], 3, _t("ap_fixed<16,7>"), _t("ap_fixed<10,5,AP_RND,AP_SAT>")
    )
    pool_index = np.array([[0, 3], [6, 9], [12, -1], [1, 4], [7, 10], [13, 16]])
    model = Model(
        [
            Input(name="x", result_type=_t("ap_fixed<8,3>"), shape=(6, 2)),
            Conv(
                name="conv",
                result_type=conv.result_type,
                weight=conv.weight,
                weight_type=conv.weight_type,
                bias=conv.bias,
                bias_type=conv.bias_type,
                accum_type=conv.accum_type,
                index=index,
            ),
            Pool(
                name="pmax",
                result_type=_t("ap_fixed<9,5>"),
                op="max",
                accum_type=_t("ap_fixed<12,6>"),
                index=pool_index,
                patch=np.full(6, 2),
            ),
            Pool(
                name="pavg",
                result_type=_t("ap_fixed<9,4,AP_RND,AP_SAT>"),
                inputs=("conv",),
                op="average",
                accum_type=_t("ap_fixed<12,6,AP_TRN,AP_SAT>"),
                index=pool_index,
                patch=np.array([2, 2, 1, 2, 2, 2]),
            ),
        ],
        outputs=["pmax", "pavg"],
    )
    _check_model(model)


# ----------------------------------------------------------------------------- scores


def _score_reference(
    spec: ScoreSpec, model: Model, raw: np.ndarray, in_type: FixedType
) -> tuple[np.ndarray, FixedType]:
    """The emulator's score of each event (as emulator.seeds computes it)."""
    if spec.kind == "cnf_norm" and model.layers[0].size == raw.shape[1] + 1:
        values = np.ldexp(raw.astype(np.float64), -in_type.frac)
        return scores.flow_matching_score(model, values, spec.time, accum_type=spec.accum_type)
    out_raw, out_type = model.predict_raw(raw, input_is_raw=True)  # type: ignore[misc]
    if spec.kind == "tagger":
        return out_raw[:, spec.output], out_type
    if spec.kind == "latent_mu2":
        return scores.latent_norm(out_raw, out_type, accum_type=spec.accum_type)
    if spec.kind == "cnf_norm":
        return scores.sum_of_squares(out_raw, out_type, spec.accum_type, diff_type=out_type)
    extra = {"scale_type": spec.scale_type} if spec.scale_type is not None else {}
    return scores.reconstruction_mse(
        raw,
        in_type,
        out_raw,
        out_type,
        diff_type=spec.diff_type or in_type,
        accum_type=spec.accum_type,
        out_type=spec.out_type,
        **extra,
    )


def _check_seed(
    spec: ScoreSpec, model: Model, n_features: int, *, edges: bool = True, seed: int = 1
) -> tuple[Any, float]:
    """The traced seed's score raws and decisions equal the emulator's on N_EVENTS
    inputs. The threshold is the median score (an actual score: the >= tie occurs,
    and both decisions do); with ``edges`` also one LSB below and above a score.
    Returns (comb, seconds to trace)."""
    in_type = model.layers[0].result_type
    raw = _raw_inputs(in_type, n_features, N_EVENTS, seed)
    expected, score_type = _score_reference(spec, model, raw, in_type)
    threshold = int(np.sort(expected)[N_EVENTS // 2])
    start = time.perf_counter()
    comb = trace_network_seed(spec, model, threshold, n_features=n_features)
    elapsed = time.perf_counter() - start
    got = _run(comb, raw, in_type)
    _assert_same(expected, _as_raw(got[:, 1], score_type.frac), f"{spec.kind} score")
    _assert_same(expected >= threshold, _as_raw(got[:, 0], 0), f"{spec.kind} decision")
    assert 0 < got[:, 0].sum() < N_EVENTS
    for delta in (-1, 1) if edges else ():
        edge = trace_network_seed(spec, model, int(expected[0]) + delta, n_features=n_features)
        bits = _as_raw(_run(edge, raw[:1], in_type)[:, 0], 0)
        assert bits[0] == (delta < 0)
    return comb, elapsed


def _small_mlp(n_in: int, sizes: list[int], out_type: str, seed: int) -> Model:
    rng = np.random.default_rng(seed)
    layers: list[Any] = [
        Input(name="x", result_type=_t("ap_fixed<10,5,AP_RND_CONV,AP_SAT>"), shape=(n_in,))
    ]
    width = n_in
    for k, n_out in enumerate(sizes):
        last = k == len(sizes) - 1
        res = _t(out_type) if last else _t("ap_fixed<12,5,AP_RND_CONV,AP_SAT>")
        layers.append(_dense(rng, f"d{k}", width, n_out, _t("ap_fixed<22,10>"), res))
        if not last:
            layers.append(Activation(name=f"a{k}", result_type=res, activation="relu"))
        width = n_out
    return Model(layers)


@pytest.mark.parametrize("overflow", ["SAT", "WRAP"])
def test_ae_mse_score(overflow: str) -> None:
    model = _small_mlp(6, [3, 6], "ap_fixed<12,5,AP_RND_CONV,AP_SAT>", seed=11)
    spec = ScoreSpec.of(
        "ae_mse",
        diff_type=f"ap_fixed<11,5,AP_RND,AP_{overflow}>",
        accum_type=f"ap_ufixed<16,9,AP_TRN,AP_{overflow}>",  # can overflow: in-order sums
        out_type="ap_ufixed<12,7,AP_RND_CONV,AP_SAT>",
        scale_type="ap_ufixed<10,0,AP_RND,AP_SAT>",
    )
    _check_seed(spec, model, 6)


def test_latent_and_tagger_scores() -> None:
    model = _small_mlp(5, [4, 3], "ap_fixed<10,4,AP_RND,AP_SAT>", seed=12)
    _check_seed(ScoreSpec.of("latent_mu2", accum_type="ap_ufixed<18,9,AP_TRN,AP_SAT>"), model, 5)
    _check_seed(ScoreSpec.of("tagger", output=2), model, 5)


def test_cnf_score_with_time_input() -> None:
    """A vector field taking (x, t): t is the quantized constant, x the features."""
    model = _small_mlp(6, [4, 5], "ap_fixed<10,4,AP_RND_CONV,AP_SAT>", seed=13)
    spec = ScoreSpec.of("cnf_norm", accum_type="ap_ufixed<20,10,AP_TRN,AP_SAT>", time=0.375)
    _check_seed(spec, model, 5)


@pytest.mark.parametrize(
    ("src", "dst", "what"),
    [
        ("ap_fixed<40,36>", "ap_fixed<30,8,AP_TRN,AP_SAT>", "needs 58 bits"),
        ("ap_fixed<16,12>", "ap_fixed<8,44>", "LSB 2..36"),
        ("ap_fixed<30,-2>", "ap_fixed<28,-8,AP_RND,AP_SAT>", "clamp bounds"),
    ],
)
def test_casts_beyond_da4ml_are_refused(src: str, dst: str, what: str) -> None:
    """Casts that da4ml's constants, intervals or interpreter cannot hold exactly
    (measured to disagree) are a FirmwareError, never wrong logic."""
    inp = _input(1)
    with pytest.raises(FirmwareError, match=what):
        cast(_quantized(inp, _t(src))[0], _t(dst))


def test_refusals_name_the_layer() -> None:
    model = Model(
        [
            Input(name="x", result_type=_t("ap_fixed<8,3>"), shape=(4,)),
            Softmax(
                name="sm",
                result_type=_t("ap_ufixed<8,0>"),
                implementation="argmax",
            ),
        ]
    )
    inp = _input(4)
    with pytest.raises(FirmwareError, match="'sm'"):
        trace_model(model, _quantized(inp, _t("ap_fixed<8,3>")))
    pool = Model(
        [
            Input(name="x", result_type=_t("ap_fixed<8,3>"), shape=(3,)),
            Pool(
                name="avg3",
                result_type=_t("ap_fixed<8,3>"),
                op="average",
                accum_type=_t("ap_fixed<10,4>"),
                index=np.array([[0, 1, 2]]),
                patch=np.array([3]),
            ),
        ]
    )
    with pytest.raises(FirmwareError, match=r"'avg3'.*power of two"):
        trace_model(pool, _quantized(_input(3), _t("ap_fixed<8,3>")))
    with pytest.raises(FirmwareError, match="accum_type"):
        trace_network_seed("latent_mu2", _small_mlp(3, [2], "ap_fixed<8,3>", 1), 0)


# ----------------------------------------------------------------------------- default menu


def _default_spec(name: str) -> tuple[ScoreSpec, Model]:
    from emulator.menu import default_menu

    for seed in default_menu().seeds:
        if seed.nn is not None and seed.nn.model_path.name == name:
            return ScoreSpec.of(seed.nn), Model.load(seed.nn.model_path)
    raise AssertionError(f"no network seed with model {name} in the default menu")


@pytest.mark.slow
@pytest.mark.parametrize(("name", "n_features"), [("autoencoder.npz", 57), ("cnf.npz", 57)])
def test_default_menu_networks(name: str, n_features: int) -> None:
    spec, model = _default_spec(name)
    _, elapsed = _check_seed(spec, model, n_features, edges=False)
    print(f"{name}: traced in {elapsed:.1f} s")


@pytest.mark.slow
def test_default_encoder_latent_score() -> None:
    model = Model.load(MODELS / "encoder.npz")
    spec = ScoreSpec.of("latent_mu2", accum_type="ap_ufixed<40,24,AP_TRN,AP_SAT>")
    _check_seed(spec, model, 57, edges=False)


# ----------------------------------------------------------------------------- Verilog


def test_verilog_written_with_pipeline_latency(tmp_path: Path) -> None:
    """da4ml writes Verilog for a small seed; the latency in cycles is recorded."""
    codegen = pytest.importorskip("da4ml.codegen")
    model = _small_mlp(4, [3, 2], "ap_fixed<10,4,AP_RND,AP_SAT>", seed=14)
    comb = trace_network_seed("tagger", model, 0, output=1)
    rtl = codegen.VerilogModel(comb, "nn_seed", tmp_path, latency_cutoff=2, print_latency=False)
    rtl.write()
    sources = sorted(p.name for p in (tmp_path / "src").glob("*.v"))
    assert "nn_seed.v" in sources
    assert "nn_seed_wrapper.v" in sources
    metadata = json.loads((tmp_path / "metadata.json").read_text())
    assert metadata["latency"] >= 1
    assert metadata["latency"] == len(rtl._pipe.solutions)
