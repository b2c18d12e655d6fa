"""emulator.nn throughput next to hls4ml's C simulation, da4ml's interpreter and numpy.

Two configurations, the same quantized weights and inputs for every peer:

``default``: the jet tagger of ``../shared/reference/models/KERAS_3layer.*``
(16 -> 64 -> 32 -> 32 -> 5, ReLU, softmax output) converted with hls4ml's default
configuration: ``ap_fixed<16,6>`` for everything, accumulator included, so every
product is truncated into a wrapping 16-bit accumulator (random weights of the same
shape when the reference files are absent). da4ml does not trace the softmax.

``hand-picked`` precisions:
- jet tagger 16 -> 64 -> 32 -> 32 -> 5 (ReLU; logits, so da4ml can trace it too),
- 57-input dense autoencoder 57 -> 32 -> 8 -> 32 -> 57 (ReLU);
inputs and results ap_fixed<16,6>, weights and biases ap_fixed<8,2>, and an
exact accumulator ap_fixed<44,28> (every product and sum representable), so the
network da4ml traces (exact matmul, then the same result casts) is the same
fixed-point function. Outputs of the bit-exact peers are compared bit for bit.

Every network takes one of emulator.nn's fused engines (printed after its name):
the default configuration the int32 ``ring`` engine (products truncated into an
accumulator of at most 32 bits: one numba kernel runs input, Dense, ReLU chain
with events in int32 lanes, then the softmax kernel), the hand-picked ones the
``gemm`` engine (each Dense layer one float64 BLAS matrix product over a chunk of
events, exact: every product and partial sum is an integer below 2**52, plus one
numba pass for bias, casts and ReLU). "1 thread" runs BLAS single-threaded
(threadpoolctl); "N threads" splits the events over numba's number of threads,
each with single-threaded BLAS. Times include allocating the 1 M-event output
array.

Columns: wall-clock medians, and CPU-time medians (``time.process_time``, all
threads of the process). On a shared machine the CPU-time ratios of the
single-thread rows are the reliable ones: wall time counts the waits for a core.

Run: ``.venv/bin/python benchmarks/nn.py [--events 1000000] [--hls-events 20000]``.
Prints one table per network: median seconds of ``--repeat`` runs, events/s, and
ratios to hls4ml and da4ml.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "jax")
# benchmarks/streams.py would shadow the streams package when run as a script
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import numpy as np

from emulator.nn import from_hls4ml

INPUT_T = "fixed<16,6>"
RESULT_T = "fixed<16,6>"
WEIGHT_T = "fixed<8,2>"
ACCUM_T = "fixed<44,28>"


REFERENCE = _HERE.parent.parent / "shared" / "reference" / "models"


def build_keras(sizes: list[int], seed: int, softmax: bool = False) -> Any:
    import keras

    inp = keras.Input((sizes[0],), name="x")
    h = inp
    for k, width in enumerate(sizes[1:]):
        last = k == len(sizes) - 2
        h = keras.layers.Dense(width, activation=None if last else "relu", name=f"d{k}")(h)
    if softmax:
        h = keras.layers.Softmax(name="softmax")(h)
    model = keras.Model(inp, h)
    rng = np.random.default_rng(seed)
    for w in model.weights:
        w.assign(rng.normal(0.0, 0.4, w.shape))
    return model


def compile_hls(model: Any, out_dir: str) -> Any:
    import hls4ml

    config = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vivado")
    for name, layer in config["LayerName"].items():
        precision = layer.setdefault("Precision", {})
        if name == "x":
            precision["result"] = INPUT_T
            continue
        for key in list(precision):
            precision[key] = {"weight": WEIGHT_T, "bias": WEIGHT_T, "accum": ACCUM_T}.get(
                key, RESULT_T
            )
    hls_model = hls4ml.converters.convert_from_keras_model(
        model, hls_config=config, output_dir=out_dir, backend="Vivado", io_type="io_parallel"
    )
    hls_model.compile()
    return hls_model


def compile_default(out_dir: str) -> Any:
    """The reference jet tagger (or a random one of its shape) with hls4ml's default
    configuration: ``ap_fixed<16,6>`` everywhere, softmax output."""
    import hls4ml

    if (REFERENCE / "KERAS_3layer.json").is_file():
        from hls4ml.converters import keras_v2_to_hls

        hls_model = keras_v2_to_hls(
            {
                "KerasJson": str(REFERENCE / "KERAS_3layer.json"),
                "KerasH5": str(REFERENCE / "KERAS_3layer_weights.h5"),
                "OutputDir": out_dir,
                "ProjectName": "default_jet_tagger",
                "IOType": "io_parallel",
                "Backend": "Vivado",
                "HLSConfig": {
                    "Model": {"Precision": "fixed<16,6>", "ReuseFactor": 1, "Strategy": "Latency"}
                },
            }
        )
    else:
        model = build_keras([16, 64, 32, 32, 5], seed=3, softmax=True)
        config = hls4ml.utils.config_from_keras_model(model, granularity="model", backend="Vivado")
        hls_model = hls4ml.converters.convert_from_keras_model(
            model, hls_config=config, output_dir=out_dir, backend="Vivado", io_type="io_parallel"
        )
    hls_model.compile()
    return hls_model


def trace_da4ml(emulator_model: Any) -> Any:
    """The same fixed-point network traced with da4ml: quantize input, exact
    matmul + bias, result cast (TRN, WRAP), ReLU."""
    from da4ml.trace import FixedVariableArrayInput, comb_trace
    from da4ml.trace.ops import quantize, relu

    layers = emulator_model.layers
    t_in = layers[0].result_type
    inp = FixedVariableArrayInput((layers[0].size,))
    x = quantize(inp, 1, t_in.integer - 1, t_in.width - t_in.integer)
    for layer in layers[1:]:
        t = layer.result_type
        if layer.kind == "dense":
            w = np.ldexp(
                layer.weight.astype(np.float64),
                -(layer.weight_type.width - layer.weight_type.integer),
            )
            b = np.ldexp(
                layer.bias.astype(np.float64), -(layer.bias_type.width - layer.bias_type.integer)
            )
            x = quantize(x @ w + b, 1, t.integer - 1, t.width - t.integer)
        elif layer.kind == "activation" and layer.activation == "relu":
            x = relu(x)
        else:
            raise ValueError(f"benchmark tracer does not handle {layer.kind}")
    return comb_trace(inp, x)


def numpy_float(emulator_model: Any, softmax: bool = False) -> Callable[[np.ndarray], np.ndarray]:
    mats = []
    for layer in emulator_model.layers[1:]:
        if layer.kind == "dense":
            f_w = layer.weight_type.width - layer.weight_type.integer
            mats.append(
                (
                    np.ldexp(layer.weight, -f_w).astype(np.float32),
                    np.ldexp(layer.bias, -f_w).astype(np.float32),
                )
            )

    def run(x: np.ndarray) -> np.ndarray:
        h = x.astype(np.float32)
        for k, (w, b) in enumerate(mats):
            h = h @ w + b
            if k < len(mats) - 1:
                np.maximum(h, 0, out=h)
        if softmax:
            h = np.exp(h - h.max(axis=1, keepdims=True))
            h /= h.sum(axis=1, keepdims=True)
        return h

    return run


CPU_SECONDS: list[float] = []


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median wall seconds of ``repeat`` runs (median CPU seconds go to CPU_SECONDS:
    on a shared machine CPU time is the steadier per-thread measure)."""
    times, cpu, result = [], [], None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    CPU_SECONDS.append(statistics.median(cpu))
    return statistics.median(times), result


def bench(name: str, hls_model: Any, args: argparse.Namespace, with_da4ml: bool) -> None:
    import numba

    model = from_hls4ml(hls_model)
    sizes = [model.layers[0].size] + [
        layer.weight.shape[1] for layer in model.layers if layer.kind == "dense"
    ]
    rng = np.random.default_rng(0)
    x = rng.normal(0.0, 4.0, (args.events, sizes[0]))
    x = np.ldexp(np.floor(np.ldexp(np.clip(x, -32, 31.99), 10)), -10)  # on the input grid

    rows: list[tuple[str, int, float]] = []
    CPU_SECONDS.clear()
    hls_x = x[: args.hls_events]
    t_hls, y_hls = timed(lambda: np.asarray(hls_model.predict(hls_x)), 1)
    rows.append(("hls4ml predict (C sim, 1 thread)", len(hls_x), t_hls))

    model.predict(x[:1000])
    model.predict(x[:1000], parallel=True)  # compile both kernel sets first
    t_em1, y_em1 = timed(lambda: model.predict(x), args.repeat)
    rows.append(("emulator.nn, 1 thread", len(x), t_em1))
    t_emn, y_emn = timed(lambda: model.predict(x, parallel=True), args.repeat)
    rows.append((f"emulator.nn, {numba.get_num_threads()} threads", len(x), t_emn))

    trace_s = 0.0
    y_da1 = y_dan = None
    if with_da4ml:
        start = time.perf_counter()
        comb = trace_da4ml(model)
        trace_s = time.perf_counter() - start
        comb.predict(x[:100], n_threads=1)
        t_da1, y_da1 = timed(lambda: comb.predict(x, n_threads=1), args.repeat)
        rows.append(("da4ml CombLogic.predict, 1 thread", len(x), t_da1))
        t_dan, y_dan = timed(lambda: comb.predict(x, n_threads=0), args.repeat)
        rows.append(("da4ml CombLogic.predict, all threads", len(x), t_dan))

    run_np = numpy_float(model, softmax=model.layers[-1].kind == "softmax")
    t_np, y_np = timed(lambda: run_np(x), args.repeat)
    rows.append(("numpy float32 (not bit-exact)", len(x), t_np))

    def same(a: np.ndarray, b: np.ndarray) -> bool:
        a = np.asarray(a, np.float64).reshape(b.shape)
        return bool(np.array_equal(a.view(np.int64), b.view(np.int64)))

    same_hls = same(y_hls, y_em1[: len(hls_x)])
    same_da: bool | str = "n/a (softmax)"
    if y_da1 is not None:
        same_da = same(np.asarray(y_da1).reshape(y_em1.shape), y_em1) and same(
            np.asarray(y_dan).reshape(y_em1.shape), y_em1
        )
    same_threads = same(y_emn, y_em1)
    max_float_dev = float(np.max(np.abs(y_np - y_em1)))

    hls_rate = rows[0][1] / rows[0][2]
    hls_cpu_rate = rows[0][1] / CPU_SECONDS[0]
    da_rate = rows[3][1] / rows[3][2] if with_da4ml else float("nan")
    da_cpu_rate = rows[3][1] / CPU_SECONDS[3] if with_da4ml else float("nan")
    traced = f"  (da4ml trace took {trace_s:.1f} s)" if with_da4ml else ""
    chain = model._fused()
    engine = "layer by layer" if chain is None else f"{chain.engine} engine"
    print(f"\n## {name}: {' -> '.join(map(str, sizes))}, {engine}{traced}")
    print(
        f"{'peer':40s} {'events':>9s} {'median s':>9s} {'events/s':>12s} {'x hls4ml':>9s} "
        f"{'x da4ml(1t)':>11s} {'ev/CPU-s':>12s} {'CPU x hls4ml':>12s} {'CPU x da4ml':>11s}"
    )
    for (label, n, seconds), cpu_s in zip(rows, CPU_SECONDS, strict=True):
        rate = n / seconds
        cpu_rate = n / cpu_s
        print(
            f"{label:40s} {n:9d} {seconds:9.3f} {rate:12,.0f} {rate / hls_rate:9.1f} "
            f"{rate / da_rate:11.2f} {cpu_rate:12,.0f} {cpu_rate / hls_cpu_rate:12.1f} "
            f"{cpu_rate / da_cpu_rate:11.2f}"
        )
    print(
        f"identical bits: emulator vs hls4ml ({len(hls_x)} events) {same_hls}; "
        f"vs da4ml ({len(x)} events) {same_da}; 1 vs all threads {same_threads}; "
        f"float32 max |diff| {max_float_dev:.3g}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--hls-events", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", default="/tmp/l1sim_bench_nn")
    args = parser.parse_args()
    workdir = args.workdir
    peers = [("jet_tagger default config (fixed<16,6>, softmax)", compile_default(f"{workdir}/d"))]
    for name, sizes in [
        ("jet_tagger", [16, 64, 32, 32, 5]),
        ("autoencoder57", [57, 32, 8, 32, 57]),
    ]:
        keras_model = build_keras(sizes, seed=len(name))
        peers.append((f"{name} hand-picked", compile_hls(keras_model, f"{workdir}/{name}")))
    for name, hls_model in peers:
        bench(name, hls_model, args, with_da4ml="default" not in name)


if __name__ == "__main__":
    main()
