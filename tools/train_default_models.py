#!/usr/bin/env python3
"""Train, quantize and ship the default menu's neural networks.

Run from the project root (takes about a minute on 2 cores)::

    .venv/bin/python tools/train_default_models.py

What it does, reproducibly from ``--seed``:

1. Generates synthetic background (``streams.synthetic``), optionally with pile-up
   overlaid (``streams.pileup``, as the demo replays it), and takes the 57 ADC2021
   slot features (``streams.slots.to_slots``): MET, 4 e/γ, 4 μ, 10 jets × (pT, η, φ).
2. Trains with Keras 3 on the jax CPU backend, on standardised features:

   * a small dense autoencoder 57 → 16 → 4 → 16 → 57 with an L2 penalty on the
     latent code, so that background sits near the origin of the latent space
     (anomaly scores: reconstruction MSE, or latent Σμ² as CMS's AXOL1TL does);
   * a flow-matching vector field v(x, t) 58 → 16 → 16 → 57 (straight paths from
     N(0, 1) noise to the data; score ‖v(x, t)‖² at a fixed t, as in
     "It's not a FAD").

3. Reads the menu that uses the networks (``emulator/menus/default.yaml``): for each
   NN seed its model file, ``input_scale`` (the seed feeds 57 features × input_scale)
   and, for the flow, ``time``. Folds input_scale and the standardisation into the
   first layer (and, for the autoencoder, the de-standardisation into the last one,
   so it reconstructs exactly what it is fed, as ``ae_mse`` compares).
4. Quantizes them (post-training, explicit ap_fixed precisions per layer), converts
   with hls4ml (io_parallel), compiles its C simulation, and checks that
   ``emulator.nn.from_hls4ml(model).predict`` equals ``model.predict`` bit for bit
   on a sample of background and signal events.
5. Saves the emulator models under the menu's file names (``autoencoder.npz``: 57 →
   57; ``cnf.npz``: (x, t) → v with t last, as ``emulator.nn.scores.
   flow_matching_score`` feeds it), plus ``encoder.npz`` (the autoencoder's encoder,
   for ``latent_mu2`` seeds, same input_scale) and a ``training.json`` record.
6. Records how each model was made, so ``firmware`` can regenerate its hls4ml
   project (``firmware._hls_source``): ``NAME.json`` (the Keras model's architecture
   in Keras 2's JSON layout), ``NAME_weights.h5`` (its float weights as trained) and
   ``NAME_hls4ml.json`` (the hls4ml configuration it was converted with). It checks
   that hls4ml, converting that record, resolves exactly the saved model's layers,
   raw weights and precisions (the firmware build then proves the compiled project
   bit for bit).

Outputs whose content did not change are left untouched (an ``.npz`` holding the
same arrays, a ``training.json`` differing only in ``seconds``), so a re-run that
reproduces the models gives no diff. ``make demo`` never runs this: its outputs
are committed as package data.
"""

# ruff: noqa: RUF002, RUF003, PLC0415
# (μ, γ, ×, − are meant in the physics text; keras, hls4ml and the project are imported
# inside functions so that KERAS_BACKEND is set first and --help stays instant)

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "emulator" / "menus" / "models"
SIGNALS = ("A_4l", "LQ_btau", "h_tautau", "hpm_taunu")
N_FEATURES = 57

DEFAULT_MENU = ROOT / "emulator" / "menus" / "default.yaml"

#: Post-training quantization: precisions per layer role (ap_fixed<width, integer>).
#: Inputs get ``INPUT_BITS`` with enough integer bits for the largest training feature
#: (× input_scale) plus one bit of headroom; beyond it they saturate.
INPUT_BITS = 16
#: Weights and biases get ``WEIGHT_BITS`` / ``BIAS_BITS`` with just enough integer bits
#: for the largest magnitude of their layer (folding the standardisation into the first
#: and last layers makes their ranges differ by orders of magnitude).
WEIGHT_BITS = 14
BIAS_BITS = 18
ACCUM_PRECISION = "fixed<28,14,TRN,WRAP>"
HIDDEN_PRECISION = "fixed<16,8,RND_CONV,SAT>"
OUTPUT_BITS = {"autoencoder": 20, "encoder": 16, "cnf": 18}


def log(message: str) -> None:
    """Progress line on stderr."""
    sys.stderr.write(f"[train] {message}\n")
    sys.stderr.flush()


# ---------------------------------------------------------------------------- data


def features(process: str, n_events: int, seed: int, pileup: float) -> np.ndarray:
    """(n, 57) float32 ADC2021 slot features of ``n_events`` synthetic events.

    With ``pileup`` > 0 the events are laid on the default filling scheme and each
    gets Poisson(μ) minimum-bias interactions overlaid (:mod:`streams.pileup`), μ drawn
    uniformly in [0, pileup] per BX: the range the demo's levelled fill sweeps.
    """
    from streams import pileup as pileup_module
    from streams import synthetic, timeline
    from streams.slots import to_slots

    source: Any = synthetic.generate(process, n_events, seed)
    if pileup > 0:
        rng = np.random.default_rng(seed + 17)

        def uniform_mu(orbit: np.ndarray, _bx: np.ndarray) -> np.ndarray:
            return np.asarray(rng.uniform(0.0, pileup, orbit.shape[0]), np.float64)

        placed = timeline.place(source, end="event")
        minimum_bias = synthetic.generate("minbias", 100_000, seed + 1_000_003)
        source = pileup_module.overlay(placed, minimum_bias, uniform_mu, seed=seed + 7)
    parts = []
    for batch in source:
        slots = to_slots(batch)
        parts.append(slots[batch.event_id >= 0] if pileup > 0 else slots)
    return np.concatenate(parts).astype(np.float32)


def standardisation(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and scale (scale 1 for constant features such as MET η)."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale = np.where(scale > 1e-3, scale, 1.0)
    return mean.astype(np.float64), scale.astype(np.float64)


# ---------------------------------------------------------------------------- models


def dense_stack(name: str, n_in: int, widths: list[int], activations: list[str], **kw: Any) -> Any:
    """A Keras functional model of Dense layers with their activations ("relu" or "linear")."""
    import keras

    inputs = keras.Input((n_in,), name=f"{name}_input")
    x = inputs
    for index, (width, activation) in enumerate(zip(widths, activations, strict=True)):
        regulariser = kw.get("latent_l2") if index == kw.get("latent_index") else None
        x = keras.layers.Dense(
            width,
            activation=activation,
            name=f"{name}_dense{index}",
            activity_regularizer=keras.regularizers.L2(regulariser) if regulariser else None,
        )(x)
    return keras.Model(inputs, x, name=name)


def train_autoencoder(x_std: np.ndarray, seed: int, epochs: int) -> Any:
    """Dense autoencoder on standardised features; latent code kept near 0 by an L2 penalty."""
    import keras

    keras.utils.set_random_seed(seed)
    model = dense_stack(
        "autoencoder",
        N_FEATURES,
        [16, 4, 16, N_FEATURES],
        ["relu", "linear", "relu", "linear"],
        latent_index=1,
        latent_l2=1e-2,
    )
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse")
    model.fit(x_std, x_std, epochs=epochs, batch_size=512, shuffle=True, verbose=0)
    return model


def train_flow(x_std: np.ndarray, seed: int, epochs: int) -> Any:
    """Flow-matching vector field: v(x_t, t) ≈ x1 − x0 on x_t = (1 − t)·x0 + t·x1, x0 ~ N(0, 1)."""
    import keras

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    model = dense_stack("cnf", N_FEATURES + 1, [16, 16, N_FEATURES], ["relu", "relu", "linear"])
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse")
    n = x_std.shape[0]
    for _ in range(epochs):
        noise = rng.standard_normal(x_std.shape).astype(np.float32)
        t = rng.random((n, 1)).astype(np.float32)
        x_t = (1 - t) * noise + t * x_std
        model.fit(np.hstack([x_t, t]), x_std - noise, epochs=1, batch_size=512, verbose=0)
    return model


def folded_copy(
    name: str,
    source: Any,
    n_layers: int,
    mean: np.ndarray,
    scale: np.ndarray,
    *,
    input_scale: float = 1.0,
    fixed_t: float | None = None,
    destandardise_output: bool = False,
) -> Any:
    """A plain Dense/ReLU model on raw features computing what ``source`` computes.

    The model reads x' = x · input_scale. The first ``n_layers`` Dense layers of
    ``source`` are copied; (x' − mean')/scale' (mean' = mean · input_scale, …) is
    folded into the first layer, the flow's t input into its bias when ``fixed_t`` is
    given, and, when asked, y · scale' + mean' into the last layer (output in x' units).
    """
    mean = mean * input_scale
    scale = scale * input_scale
    dense = [layer for layer in source.layers if layer.__class__.__name__ == "Dense"][:n_layers]
    weights = [[np.asarray(w, dtype=np.float64) for w in layer.get_weights()] for layer in dense]
    kernel, bias = weights[0]
    if fixed_t is not None:
        bias = bias + fixed_t * kernel[N_FEATURES]
        kernel = kernel[:N_FEATURES]
    extra = kernel[N_FEATURES:]  # the flow's t row when t stays an input
    kernel = kernel[:N_FEATURES]
    weights[0] = [np.vstack([kernel / scale[:, None], extra]), bias - (mean / scale) @ kernel]
    if destandardise_output:
        kernel, bias = weights[-1]
        weights[-1] = [kernel * scale[None, :], bias * scale + mean]
    widths = [w[0].shape[1] for w in weights]
    activations = [layer.get_config()["activation"] for layer in dense]
    activations[-1] = "linear"
    model = dense_stack(name, weights[0][0].shape[0], widths, activations)
    for layer, (kernel, bias) in zip(
        [layer for layer in model.layers if layer.__class__.__name__ == "Dense"],
        weights,
        strict=True,
    ):
        layer.set_weights([kernel.astype(np.float32), bias.astype(np.float32)])
    return model


# ---------------------------------------------------------------------------- conversion


def fitted_precision(values: np.ndarray, width: int) -> str:
    """``fixed<width, I>`` (RND_CONV, SAT) with the fewest integer bits holding ``values``."""
    largest = float(np.max(np.abs(values))) if values.size else 0.0
    integer = max(1, int(np.ceil(np.log2(largest + 1e-12))) + 1) if largest > 0 else 1
    return f"fixed<{width},{integer},RND_CONV,SAT>"


def to_hls(
    model: Any, role: str, workdir: Path, input_precision: str, output_precision: str
) -> tuple[Any, dict[str, Any]]:
    """Quantize ``model`` with explicit per-layer precisions, convert with hls4ml and compile.

    Returns the compiled hls4ml model and the hls4ml configuration it was made with.
    """
    import hls4ml

    config = hls4ml.utils.config_from_keras_model(
        model, granularity="name", default_precision=HIDDEN_PRECISION, backend="Vivado"
    )
    config["Model"]["Strategy"] = "Latency"
    dense_names = {layer.name for layer in model.layers if layer.__class__.__name__ == "Dense"}
    for layer_name, layer_config in config["LayerName"].items():
        precision = layer_config.setdefault("Precision", {})
        if layer_name.endswith("_input"):
            layer_config["Precision"] = {"result": input_precision}
            continue
        if layer_name in dense_names:
            kernel, bias = model.get_layer(layer_name).get_weights()
            precision.update(
                weight=fitted_precision(kernel, WEIGHT_BITS),
                bias=fitted_precision(bias, BIAS_BITS),
                accum=ACCUM_PRECISION,
                result=HIDDEN_PRECISION,
            )
        else:
            precision["result"] = HIDDEN_PRECISION
    last_dense = [layer.name for layer in model.layers if layer.name in dense_names][-1]
    config["LayerName"][last_dense]["Precision"]["result"] = output_precision
    hls_model = hls4ml.converters.convert_from_keras_model(
        model,
        hls_config=config,
        io_type="io_parallel",
        backend="Vivado",
        output_dir=str(workdir / role),
        project_name=role,
    )
    hls_model.compile()
    return hls_model, config


def check_bit_exact(role: str, hls_model: Any, sample: np.ndarray) -> Any:
    """``emulator.nn.from_hls4ml(hls_model).predict`` must equal ``hls_model.predict`` bit for bit."""
    import emulator.nn

    emulated = emulator.nn.from_hls4ml(hls_model)
    x = np.ascontiguousarray(sample, dtype=np.float64)  # the double bridge of hls4ml
    expected = np.asarray(hls_model.predict(x), dtype=np.float64).reshape(len(x), -1)
    got = np.asarray(emulated.predict(x), dtype=np.float64).reshape(len(x), -1)
    differing = np.flatnonzero((expected.view(np.int64) != got.view(np.int64)).any(axis=1))
    if differing.size:
        first = differing[0]
        raise SystemExit(
            f"{role}: emulator differs from hls4ml on {differing.size} of {len(x)} events; "
            f"first event {first}: expected {expected[first][:6]} got {got[first][:6]}"
        )
    log(f"{role}: emulator == hls4ml C simulation bit for bit on {len(x)} events")
    return emulated


def save_if_changed(model: Any, path: Path) -> bool:
    """Save an emulator model unless ``path`` already holds the same arrays and header.

    ``.npz`` files are zip archives with timestamps: rewriting an unchanged model would
    change the file's bytes for nothing. Returns True when the file was written.
    """
    if path.is_file():
        with tempfile.TemporaryDirectory(prefix="l1sim-train-") as scratch:
            candidate = model.save(Path(scratch) / path.name)
            with np.load(path) as old, np.load(candidate) as new:
                same = sorted(old.files) == sorted(new.files) and all(
                    old[key].dtype == new[key].dtype and np.array_equal(old[key], new[key])
                    for key in new.files
                )
        if same:
            return False
    model.save(path)
    path.chmod(0o644)  # package data: readable by everyone (save() writes 0600)
    return True


def write_record(record: dict[str, Any], path: Path) -> None:
    """Write ``training.json`` unless the existing one differs only in ``seconds``."""
    if path.is_file():
        old = json.loads(path.read_text())
        if {**old, "seconds": None} == {**record, "seconds": None}:
            return
    path.write_text(json.dumps(record, indent=2) + "\n")


def record_source(
    name: str, model: Any, hls_config: dict[str, Any], emulated: Any, out: Path, origin: str
) -> None:
    """Write the Keras model and hls4ml configuration beside ``NAME.npz`` and check them.

    The check converts the written record with hls4ml (no compilation) and requires
    exactly the emulator model's layers, raw weights and resolved precisions.
    """
    from firmware._hls import check_model_source
    from firmware._hls_source import DenseSpec, write_model_source

    specs = []
    for layer in model.layers:
        if layer.__class__.__name__ == "Dense":
            kernel, bias = layer.get_weights()
            specs.append(DenseSpec(layer.name, kernel, bias, layer.get_config()["activation"]))
    source = write_model_source(
        out,
        name,
        input_name=model.layers[0].name,
        input_shape=tuple(int(s) for s in model.inputs[0].shape[1:]),
        layers=specs,
        hls_config=hls_config,
        emulator_model=f"{name}.npz",
        origin=origin,
    )
    differences = check_model_source(source, emulated, seed=name)
    if differences:
        raise SystemExit(f"{name}: the recorded source does not reproduce the model: {differences}")
    log(
        f"{name}: source recorded ({source.keras_json.name}, {source.keras_h5.name}, {source.path.name})"
    )


def auc(background: np.ndarray, signal: np.ndarray) -> float:
    """Area under the ROC curve of a score (probability signal > background, ties halved)."""
    both = np.concatenate([background, signal])
    ranks = np.empty(both.size)
    order = np.argsort(both, kind="stable")
    ranks[order] = np.arange(1, both.size + 1)
    _, inverse, counts = np.unique(both, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    ranks = (sums / counts)[inverse]
    n_b, n_s = background.size, signal.size
    return float((ranks[n_b:].sum() - n_s * (n_s + 1) / 2) / (n_b * n_s))


def scores(role: str, output: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Float anomaly score of each role, for the training record only."""
    if role == "autoencoder":
        return np.asarray(np.mean((output - x) ** 2, axis=1))
    return np.asarray(np.sum(output**2, axis=1))


# ---------------------------------------------------------------------------- main


def menu_settings(menu: Path) -> dict[str, dict[str, Any]]:
    """Per model file stem: the ``input_scale`` and ``time`` the menu's NN seeds use."""
    import yaml

    settings: dict[str, dict[str, Any]] = {
        "autoencoder": {"input_scale": 1.0},
        "cnf": {"input_scale": 1.0, "time": 0.5},
    }
    if not menu.is_file():
        log(f"{menu} not found: input_scale 1 and t = 0.5")
        return settings
    for seed in yaml.safe_load(menu.read_text()).get("seeds", []):
        if seed.get("kind") == "nn" and seed.get("model"):
            stem = Path(seed["model"]).stem
            settings[stem] = {
                "input_scale": float(seed.get("input_scale", 1.0)),
                "time": float(seed.get("time", 0.5)),
                "seed": seed.get("name"),
            }
    return settings


def input_precision(x: np.ndarray, input_scale: float) -> str:
    """``fixed<INPUT_BITS, I>``: I integer bits hold the largest |feature| × scale twice over."""
    largest = float(np.max(np.abs(x))) * input_scale
    integer = int(np.ceil(np.log2(2 * largest))) + 1
    return f"fixed<{INPUT_BITS},{integer},RND_CONV,SAT>"


def main(argv: list[str] | None = None) -> int:
    """Train, convert, check and save the default models."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--out", type=Path, default=DEFAULT_OUT, help="model directory")
    parser.add_argument("--menu", type=Path, default=DEFAULT_MENU, help="menu using the models")
    parser.add_argument("--seed", type=int, default=20211, help="random seed (data and training)")
    parser.add_argument("--n-train", type=int, default=60_000, help="background training events")
    parser.add_argument("--n-check", type=int, default=4_000, help="events in the bit-exact check")
    parser.add_argument(
        "--pileup", type=float, default=200.0, help="pile-up overlaid: μ uniform in [0, PILEUP]"
    )
    parser.add_argument("--epochs", type=int, default=12)
    args = parser.parse_args(argv)

    import keras

    import emulator.nn

    started = time.perf_counter()
    log(f"keras {keras.__version__} on {keras.backend.backend()}; seed {args.seed}")
    settings = menu_settings(args.menu)
    ae_scale = settings["autoencoder"]["input_scale"]
    cnf_scale = settings["cnf"]["input_scale"]
    cnf_time = settings["cnf"]["time"]
    log(
        f"menu {args.menu.name}: autoencoder input_scale {ae_scale}, cnf input_scale "
        f"{cnf_scale} at t = {cnf_time}"
    )
    x_train = features("background", args.n_train, args.seed, args.pileup)
    mean, scale = standardisation(x_train)
    x_std = ((x_train - mean) / scale).astype(np.float32)
    log(f"{len(x_train)} background events, {x_train.shape[1]} features")

    autoencoder = train_autoencoder(x_std, args.seed, args.epochs)
    flow = train_flow(x_std, args.seed + 1, args.epochs * 2)
    log(f"trained in {time.perf_counter() - started:.0f} s")

    ae_input = input_precision(x_train, ae_scale)
    ae_integer = int(ae_input.split(",")[1]) + 1
    roles: dict[str, dict[str, Any]] = {
        "autoencoder": {
            "model": folded_copy(
                "autoencoder",
                autoencoder,
                4,
                mean,
                scale,
                input_scale=ae_scale,
                destandardise_output=True,
            ),
            "input_scale": ae_scale,
            "time": None,
            "input": ae_input,
            "output": f"fixed<{OUTPUT_BITS['autoencoder']},{ae_integer},RND_CONV,SAT>",
        },
        "encoder": {
            "model": folded_copy("encoder", autoencoder, 2, mean, scale, input_scale=ae_scale),
            "input_scale": ae_scale,
            "time": None,
            "input": ae_input,
            "output": f"fixed<{OUTPUT_BITS['encoder']},8,RND_CONV,SAT>",
        },
        "cnf": {
            "model": folded_copy("cnf", flow, 3, mean, scale, input_scale=cnf_scale),
            "input_scale": cnf_scale,
            "time": cnf_time,
            "input": input_precision(x_train, cnf_scale),
            "output": f"fixed<{OUTPUT_BITS['cnf']},8,RND_CONV,SAT>",
        },
    }
    n_check = args.n_check // (1 + len(SIGNALS))
    check_background = features("background", n_check, args.seed + 100, args.pileup)
    check_signals = {
        name: features(name, n_check, args.seed + 200 + index, args.pileup)
        for index, name in enumerate(SIGNALS)
    }
    args.out.mkdir(parents=True, exist_ok=True)
    record: dict[str, Any] = {
        "seed": args.seed,
        "n_train": args.n_train,
        "pileup_uniform_max": args.pileup,
        "epochs": args.epochs,
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "menu": args.menu.name,
        "models": {},
    }

    def model_input(x: np.ndarray, role: dict[str, Any]) -> np.ndarray:
        """What the menu's seed feeds the model: features × input_scale (then t)."""
        scaled: np.ndarray = np.asarray(x, dtype=np.float64) * float(role["input_scale"])
        if role["time"] is None:
            return scaled
        return np.asarray(np.hstack([scaled, np.full((scaled.shape[0], 1), role["time"])]))

    sample = np.concatenate([check_background, *check_signals.values()])
    with tempfile.TemporaryDirectory(prefix="l1sim-train-") as workdir:
        for name, role in roles.items():
            model = role["model"]
            hls_model, hls_config = to_hls(
                model, name, Path(workdir), role["input"], role["output"]
            )
            emulated = check_bit_exact(name, hls_model, model_input(sample, role))
            path = args.out / f"{name}.npz"
            if not save_if_changed(emulated, path):
                log(f"{name}: {path} already holds this model; left untouched")
            origin = (
                f"tools/train_default_models.py --seed {args.seed} --n-train {args.n_train} "
                f"--epochs {args.epochs} --pileup {args.pileup}: the Keras {keras.__version__} "
                "model as trained (float weights), quantized post-training by hls4ml with "
                "the precisions of hls_config"
            )
            record_source(name, model, hls_config, emulated, args.out, origin)
            reloaded = emulator.nn.Model.load(path)
            np.testing.assert_array_equal(
                np.asarray(reloaded.predict(model_input(sample, role))),
                np.asarray(emulated.predict(model_input(sample, role))),
            )
            fed_background = model_input(check_background, role)[:, :N_FEATURES]
            output = np.asarray(emulated.predict(model_input(check_background, role)))
            background_score = scores(name, output, fed_background)
            aucs = {}
            for signal, x in check_signals.items():
                signal_output = np.asarray(emulated.predict(model_input(x, role)))
                signal_score = scores(name, signal_output, model_input(x, role)[:, :N_FEATURES])
                aucs[signal] = round(auc(background_score, signal_score), 4)
            n_weights = sum(int(np.prod(w.shape)) for w in model.get_weights())
            record["models"][name] = {
                "file": path.name,
                "weights": n_weights,
                "layers": [
                    layer.units for layer in model.layers if layer.__class__.__name__ == "Dense"
                ],
                "input_scale": role["input_scale"],
                "time": role["time"],
                "precisions": {
                    "input": role["input"],
                    "output": role["output"],
                    "weight_bits": WEIGHT_BITS,
                    "bias_bits": BIAS_BITS,
                    "accum": ACCUM_PRECISION,
                    "hidden": HIDDEN_PRECISION,
                },
                "auc_vs_background": aucs,
            }
            log(f"{name}: {n_weights} weights, AUC {aucs} -> {path}")
    record["seconds"] = round(time.perf_counter() - started, 1)
    write_record(record, args.out / "training.json")
    log(f"done in {record['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
