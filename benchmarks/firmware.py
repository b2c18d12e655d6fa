"""Firmware generation: build time, latency and resources (yosys and da4ml) per case.

Cases: the default menu, its cut seeds alone, the reference jet tagger
(``KERAS_3layer`` of ``../shared/reference/models`` converted with hls4ml, then
``emulator.nn.from_hls4ml``) as a tagger seed, and the default autoencoder alone.
Prints a Markdown table for the README. Run::

    .venv/bin/python -P benchmarks/firmware.py [--case NAME ...] [--yosys-limit LUTS|none]

(``-P``: benchmarks/streams.py would otherwise shadow the ``streams`` package.)
Each case synthesises with an empty yosys cache (``L1SIM_YOSYS_CACHE`` points at a
fresh directory), so "build" is a cold build; "cached" is the content-hash hit.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from emulator.menu import Menu, default_menu, menu_from_dict

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "models"


def _cut_seeds() -> Menu:
    return default_menu(with_nn=False)


def _autoencoder() -> Menu:
    menu = default_menu()
    seeds = tuple(s for s in menu.seeds if s.name == "L1_ADT_Autoencoder")
    return dataclasses.replace(menu, name="autoencoder", seeds=seeds)


def _jet_tagger(work: Path) -> Menu:
    from hls4ml.converters import keras_v2_to_hls  # type: ignore[import-untyped]

    from emulator.nn import from_hls4ml

    # The tagger's softmax has no exact da4ml form (firmware refuses it): the seed
    # scores the first class's logit instead, the same network up to that layer.
    logits = work / "KERAS_3layer_logits.json"
    text = (REFERENCE / "KERAS_3layer.json").read_text(encoding="utf-8")
    logits.write_text(text.replace('"activation": "softmax"', '"activation": "linear"'))
    hls_model = keras_v2_to_hls({
        "KerasJson": str(logits),
        "KerasH5": str(REFERENCE / "KERAS_3layer_weights.h5"),
        "OutputDir": str(work / "hls"),
        "ProjectName": "tagger",
        "IOType": "io_parallel",
        "Backend": "Vitis",
        "HLSConfig": {"Model": {"Precision": "fixed<16,6>", "ReuseFactor": 1, "Strategy": "Latency"}},
    })  # fmt: skip
    model_path = work / "models" / "tagger.npz"
    from_hls4ml(hls_model).save(model_path)
    data = {
        "name": "jet-tagger",
        "seeds": [
            {
                "name": "L1_JetTagger",
                "kind": "nn",
                "model": "models/tagger.npz",
                "score": "tagger",
                "output": 0,
                "input_scale": 0.03125,
                "inputs": {"met": False, "slots": {"jet": 4}, "fields": ["pt", "eta", "phi", "quality"]},
                "threshold": 0.5,
            }
        ],
    }  # fmt: skip
    return menu_from_dict(data, source="jet-tagger benchmark", base=work)


CASES: dict[str, Callable[[Path], Menu]] = {
    "default menu": lambda _work: default_menu(),
    "cut seeds": lambda _work: _cut_seeds(),
    "jet tagger (KERAS_3layer, logit)": _jet_tagger,
    "default autoencoder": lambda _work: _autoencoder(),
}


def _limit(text: str) -> float | str:
    return "none" if text.strip().lower() == "none" else float(text)


def _run(name: str, make: Callable[[Path], Menu], limit: float | str | None) -> dict[str, Any]:
    import firmware

    options: dict[str, Any] = {}
    if limit is not None:
        options["yosys_lut_limit"] = None if limit == "none" else limit

    with tempfile.TemporaryDirectory(prefix="l1sim-bench-fw-") as scratch:
        work = Path(scratch)
        menu = make(work)
        os.environ["L1SIM_YOSYS_CACHE"] = str(work / "yosys-cache")
        started = time.perf_counter()
        try:
            fw = firmware.build(menu, work / "fw", **options)
        except firmware.FirmwareError as exc:
            return {"case": name, "error": str(exc)}
        seconds = time.perf_counter() - started
        resources = json.loads((fw.path / "resources.json").read_text())
        cached = time.perf_counter()
        firmware.build(menu, work / "fw", **options)
        cache_seconds = time.perf_counter() - cached
    total = resources.get("yosys", {}).get("total", {})
    da4ml = sum(a.get("da4ml", {}).get("lut", 0) for a in resources["algorithms"].values())
    skipped = len(resources.get("yosys", {}).get("not_synthesised", {}))
    return {
        "case": name,
        "seeds": len(fw.manifest.algorithms),
        "seconds": seconds,
        "cache_seconds": cache_seconds,
        "latency": fw.manifest.latency_cycles,
        "latency_ns": fw.manifest.latency_ns,
        "lut": total.get("lut", 0),
        "ff": total.get("ff", 0),
        "dsp": total.get("dsp", 0),
        "da4ml_lut": da4ml,
        "skipped": skipped,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--case", action="append", choices=list(CASES), default=[])
    parser.add_argument(
        "--yosys-limit",
        type=_limit,
        default=None,
        metavar="LUTS",
        help="leave datapaths above this many da4ml LUTs to da4ml's estimate "
        "('none': synthesise every datapath; default: the build's default)",
    )
    args = parser.parse_args()
    print(
        "| case | seeds | build | cached | top latency | yosys LUT | FF | DSP | da4ml LUT "
        "| not synthesised |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|", flush=True)
    for name in args.case or list(CASES):
        r = _run(name, CASES[name], args.yosys_limit)
        if "error" in r:
            print(f"| {name} | build failed: {r['error']} |||||||||", flush=True)
            continue
        print(
            f"| {r['case']} | {r['seeds']} | {r['seconds']:.0f} s | {r['cache_seconds']:.2f} s "
            f"| {r['latency']} cycles ({r['latency_ns']:.0f} ns) | {r['lut']} | {r['ff']} "
            f"| {r['dsp']} | {r['da4ml_lut']:.0f} | {r['skipped']} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
