"""NN seeds with small networks built from numpy weights through emulator.nn.

The default menu's trained networks are not needed: these tests write their own
models, put them in a menu file next to it (model paths are relative to the
menu), replay synthetic events and check the raw scores. The network input is
recomputed here from the documented integer conversion with plain Python integers
(pT floored to 0.25 GeV, angles rounded to π/720 counts, times the constant with
16 fraction bits, truncated to the input type and saturated), sharing no code
with emulator.plan.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from emulator import run
from emulator.analysis import collision_mask
from emulator.menu import SeedKind, default_menu, load_menu
from emulator.nn import Activation, Dense, Input, Model, scores
from emulator.replay import concat_decisions
from streams import EventBatch, concat_batches, pileup, synthetic, timeline

X_TYPE = "ap_fixed<16,12,AP_TRN,AP_SAT>"
W_TYPE = "ap_fixed<8,2>"
ACC = "ap_fixed<32,16>"


def _dense(name: str, n_in: int, n_out: int, rng: np.random.Generator, zero: bool = False) -> Dense:
    weight = np.zeros((n_in, n_out), np.int64) if zero else rng.integers(-40, 40, (n_in, n_out))
    return Dense(
        name=name, result_type="ap_fixed<16,8,AP_TRN,AP_SAT>", weight=weight, weight_type=W_TYPE,
        bias=np.zeros(n_out, np.int64) if zero else rng.integers(-20, 20, n_out), bias_type=W_TYPE,
        accum_type=ACC,
    )  # fmt: skip


def _model(n_in: int, n_hidden: int, n_out: int, seed: int, zero: bool = False) -> Model:
    rng = np.random.default_rng(seed)
    return Model([
        Input(name="x", result_type=X_TYPE, shape=(n_in,)),
        _dense("d1", n_in, n_hidden, rng, zero),
        Activation(name="r1", result_type="ap_fixed<16,8,AP_TRN,AP_SAT>", activation="relu"),
        _dense("d2", n_hidden, n_out, rng, zero),
    ])  # fmt: skip


_MENU = """
seeds:
  - {name: Mu, kind: single, collection: muon, pt: 10}
  - {name: AE, kind: nn, model: models/ae.npz, score: ae_mse, input_scale: 0.5,
     accum_type: "ap_ufixed<40,32>", threshold: 3.5}
  - {name: AEzero, kind: nn, model: models/zero.npz, score: ae_mse,
     accum_type: "ap_ufixed<40,32>", threshold: 100}
  - {name: Latent, kind: nn, model: models/encoder.npz, score: latent_mu2,
     accum_type: "ap_ufixed<40,30>", threshold: 10}
  - {name: CNF, kind: nn, model: models/cnf.npz, score: cnf_norm, time: 0.25,
     accum_type: "ap_ufixed<40,30>", threshold: 10, latency: 60, ii: 2}
  - {name: Tag, kind: nn, model: models/tagger.npz, score: tagger, output: 2, threshold: 0.5}
"""


@pytest.fixture(scope="module")
def menu_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("menu")
    _model(57, 8, 57, 1).save(folder / "models" / "ae.npz")
    _model(57, 4, 57, 1, zero=True).save(folder / "models" / "zero.npz")
    _model(57, 8, 4, 2).save(folder / "models" / "encoder.npz")
    _model(58, 8, 57, 3).save(folder / "models" / "cnf.npz")
    _model(57, 8, 3, 4).save(folder / "models" / "tagger.npz")
    path = folder / "menu.yaml"
    path.write_text(_MENU)
    return path


def test_nn_seed_types_and_thresholds(menu_path: Path) -> None:
    menu = load_menu(menu_path)
    ae = menu.seed("AE")
    assert ae.kind is SeedKind.NN
    assert ae.nn is not None
    assert ae.nn.model_path == menu_path.parent / "models" / "ae.npz"
    assert str(ae.score_type) == "ap_ufixed<40,32>"
    assert ae.threshold_raw == 3.5 * 2**8
    assert str(menu.seed("Tag").score_type) == "ap_fixed<16,8,AP_TRN,AP_SAT>"
    assert menu.seed("Tag").threshold_raw == 128


def _angle(x: float, bits: int) -> int:
    count = int(math.copysign(math.floor(abs(x) / (math.pi / 720) + 0.5), x))
    return max(-(1 << (bits - 1)), min(count, (1 << (bits - 1)) - 1))


def _reference_input(batch: EventBatch, scale: float) -> np.ndarray:
    """ADC2021 input of an ap_fixed<16,12,AP_TRN,AP_SAT> network from the hardware integers."""
    pt_c = round(0.25 * scale * 2**16)
    angle_c = math.floor(math.pi / 720 * scale * 2**16 + 0.5)
    rows = []
    for i in range(len(batch)):
        values = [
            (min(math.floor(float(batch.met_pt[i]) * 4), 2**16 - 1), pt_c),
            (0, angle_c),
            (_angle(float(batch.met_phi[i]), 11), angle_c),
        ]
        for name, count in (("egamma", 4), ("muon", 4), ("jet", 10)):
            c = batch.objects[name]
            start, stop = int(c.offsets[i]), int(c.offsets[i + 1])
            for k in range(count):
                j = start + k
                if j < stop:
                    pt = min(math.floor(float(c.pt[j]) * 4), 2**14 - 1)
                    values += [(pt, pt_c), (_angle(float(c.eta[j]), 12), angle_c)]
                    values += [(_angle(float(c.phi[j]), 11), angle_c)]
                else:
                    values += [(0, pt_c)] * 3
        # raw · constant has 16 fraction bits; the input type keeps 4 (floor), then saturates
        rows.append([max(-(2**15), min((r * k) >> 12, 2**15 - 1)) for r, k in values])
    return np.array(rows, np.int64)


def test_nn_scores_in_the_replay(menu_path: Path) -> None:
    menu = load_menu(menu_path)
    batch = concat_batches(list(synthetic.generate("background", 600, seed=11)))
    decisions = concat_decisions(run([batch.slice(0, 250), batch.slice(250, 600)], menu))

    # the zero network reconstructs 0: MSE = out(sum x_raw² · round(2^18 / 57) / 2^18), TRN
    x_raw = _reference_input(batch, 1.0)
    scale = int(np.floor(2**18 / 57 + 0.5))  # ap_ufixed<18,0,AP_RND>(1/57)
    expected_zero = ((x_raw**2).sum(axis=1) * scale) >> 18  # frac 8 + 18 → frac 8 of the accum type
    np.testing.assert_array_equal(decisions.scores[:, decisions.column("AEzero")], expected_zero)

    # the other scores: the same emulator.nn functions, called on the reference input
    models = {
        name: Model.load(menu_path.parent / "models" / f"{name}.npz")
        for name in ("ae", "encoder", "cnf", "tagger")
    }
    half = _reference_input(batch, 0.5)
    first = models["ae"].layers[0]
    y_raw, y_type = models["ae"].predict_raw(half, input_is_raw=True)
    ae, _ = scores.reconstruction_mse(
        half, first.result_type, y_raw, y_type,
        diff_type=first.result_type, accum_type="ap_ufixed<40,32>",
    )  # fmt: skip
    mu_raw, mu_type = models["encoder"].predict_raw(x_raw, input_is_raw=True)
    latent, _ = scores.latent_norm(mu_raw, mu_type, accum_type="ap_ufixed<40,30>")
    with_time = np.concatenate([x_raw, np.full((len(batch), 1), 4)], axis=1)  # t = 0.25: raw 4
    v_raw, v_type = models["cnf"].predict_raw(with_time, input_is_raw=True)
    cnf, _ = scores.sum_of_squares(v_raw, v_type, "ap_ufixed<40,30>", diff_type=v_type)
    tag_raw, _ = models["tagger"].predict_raw(x_raw, input_is_raw=True)
    for name, expected in (("AE", ae), ("Latent", latent), ("CNF", cnf), ("Tag", tag_raw[:, 2])):
        got = decisions.scores[:, decisions.column(name)]
        np.testing.assert_array_equal(got, expected, err_msg=name)
        assert np.unique(got).size > 10, f"{name}: a constant score tests nothing"
    fired = decisions.fired[:, decisions.column("AE")]
    assert fired.any()
    assert not fired.all()


def test_default_menu_with_trained_networks() -> None:
    models = Path(__file__).resolve().parents[3] / "emulator" / "menus" / "models"
    if not (models / "autoencoder.npz").is_file() or not (models / "cnf.npz").is_file():
        pytest.skip(
            f"the default NN seed models are not trained yet ({models} has no autoencoder/cnf.npz)"
        )
    menu = default_menu()
    nn_seeds = [s for s in menu.seeds if s.kind is SeedKind.NN]
    assert {s.nn.score for s in nn_seeds if s.nn} >= {"ae_mse", "cnf_norm"}
    # the default thresholds are set for the synthetic background at pile-up 200
    placed = timeline.place(synthetic.generate("background", 20_000, seed=2))
    stream = pileup.overlay(placed, synthetic.generate("minbias", 20_000, seed=3), 200.0, seed=4)
    decisions = concat_decisions(run(stream, menu))
    collisions = collision_mask(decisions)
    for seed in nn_seeds:
        rate = decisions.fired[collisions, decisions.column(seed.name)].mean()
        assert 0 < rate < 0.01, f"{seed.name}: background firing fraction {rate}"
