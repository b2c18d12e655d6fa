"""Replay throughput of the default menu, with and without NN seeds, against reading Parquet.

Peers run side by side in one process on the same BX records: the synthetic
background placed on the default filling scheme (empty bunch slots included),
written once to Parquet. Rows:

* read Parquet: iterate ``streams.open(file)`` to the end (the I/O baseline);
* replay, cut seeds: ``emulator.run`` of the default menu without NN seeds on the
  records already in memory;
* replay, all seeds: the same with the NN seeds — the trained default networks
  when ``emulator/menus/models`` has them, else stand-in networks of the same
  interface (57 → 32 → 8 → 32 → 57 autoencoder, 58 → 32 → 57 CNF), said in the table;
* read + replay: the replay fed straight from the Parquet reader.

Target: the replay is never slower than reading the events (ratio <= 1).
Usage: ``python benchmarks/replay.py [--events N] [--repeat R]``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # single process, single thread
# benchmarks/streams.py would shadow the streams package: drop this folder from the path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # (imports after the path fix above)
import statistics
import tempfile
import time
from collections.abc import Callable

import numpy as np

import streams
from emulator import run
from emulator.menu import Menu, default_menu, load_menu
from emulator.nn import Activation, Dense, Input, Model
from streams import synthetic, timeline


def _median_seconds(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _drain(iterable: object) -> None:
    for _ in iterable:  # type: ignore[attr-defined]
        pass


def _stand_in_model(n_in: int, sizes: list[int], seed: int) -> Model:
    rng = np.random.default_rng(seed)
    layers: list[object] = [
        Input(name="x", result_type="ap_fixed<16,10,AP_TRN,AP_SAT>", shape=(n_in,))
    ]
    width = n_in
    for i, size in enumerate(sizes):
        layers.append(Dense(
            name=f"d{i}", result_type="ap_fixed<16,8,AP_TRN,AP_SAT>",
            weight=rng.integers(-24, 24, (width, size)), weight_type="ap_fixed<8,2>",
            bias=rng.integers(-8, 8, size), bias_type="ap_fixed<8,2>", accum_type="ap_fixed<32,16>",
        ))  # fmt: skip
        if i < len(sizes) - 1:
            layers.append(
                Activation(
                    name=f"r{i}", result_type="ap_fixed<16,8,AP_TRN,AP_SAT>", activation="relu"
                )
            )
        width = size
    return Model(layers)  # type: ignore[arg-type]


def _menu_with_nn(folder: Path) -> tuple[Menu, str]:
    try:
        return default_menu(), "trained default networks"
    except ValueError:
        pass
    source = (
        Path(__file__).resolve().parents[1] / "emulator" / "menus" / "default.yaml"
    ).read_text()
    (folder / "models").mkdir(exist_ok=True)
    _stand_in_model(57, [32, 8, 32, 57], 1).save(folder / "models" / "autoencoder.npz")
    _stand_in_model(58, [32, 57], 2).save(folder / "models" / "cnf.npz")
    (folder / "menu.yaml").write_text(source)
    return load_menu(folder / "menu.yaml"), "stand-in networks (default models not trained yet)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        events = synthetic.generate("background", args.events, seed=1)
        parquet = folder / "bx.parquet"
        n_bx = streams.write_parquet(timeline.place(events, chunk_bx=28 * 3564), parquet)
        in_memory = list(streams.open(parquet))
        cuts = default_menu(with_nn=False)
        full, nn_note = _menu_with_nn(folder)
        _drain(run(in_memory[:1], cuts))  # compile the kernels outside the timing
        _drain(run(in_memory[:1], full))

        rows = [
            ("read Parquet", _median_seconds(lambda: _drain(streams.open(parquet)), args.repeat)),
            (
                "replay, cut seeds",
                _median_seconds(lambda: _drain(run(in_memory, cuts)), args.repeat),
            ),
            (
                "replay, all seeds",
                _median_seconds(lambda: _drain(run(in_memory, full)), args.repeat),
            ),
            (
                "read + replay, cut seeds",
                _median_seconds(lambda: _drain(run(streams.open(parquet), cuts)), args.repeat),
            ),
        ]
    read_seconds = rows[0][1]
    print(f"{n_bx} BX ({args.events} events on the default filling scheme), "
          f"median of {args.repeat}; NN seeds: {nn_note}")  # fmt: skip
    print(f"{'':28} {'seconds':>9} {'BX/s':>12} {'time / read':>12}")
    for label, seconds in rows:
        print(f"{label:28} {seconds:9.3f} {n_bx / seconds:12,.0f} {seconds / read_seconds:12.2f}")


if __name__ == "__main__":
    main()
