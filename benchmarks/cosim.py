"""Co-simulation throughput: BX/s through cocotb on Verilator and Icarus, against the
native Verilator ceiling and the emulator itself, on the same firmware and stimulus.

Rows (one BX per clock cycle, the stimulus staged in a file, outputs recorded by the
bench; build time excluded, simulator start-up included):

* emulator: ``emulator.run`` of the menu on the same BX records, in memory;
* cocotb + Verilator on 1 and on 2 threads of the model (clock in the HDL, cocotb waits
  for done); the row of ``--sim-threads auto``, l1sim's default, says so;
* cocotb + Verilator, cocotb clock: cocotb's GPI clock toggles the bench clock;
* native Verilator on 1 and 2 threads: a plain C++ main toggling the clock (no Python,
  no VPI): the ceiling of the cocotb row on as many threads;
* cocotb + Icarus and native Icarus (``vvp``): fewer BX (Icarus is slow on big designs);
* cosim.check end to end: emulator + packing + simulation + comparison.

Each rate is given per wall second and per CPU second of the simulator process (the
machine may be shared). Targets: cocotb on Verilator >= 50 000 BX/s and >= half of
the native ceiling.

``--variants`` also times the native Verilator bench built with other settings of
:class:`cosim.runner.VerilatorRunner` (``$fread``/``$fwrite`` instead of the DPI-C
file access; Verilator's ``-O3``/X/assert flags with the C++ at ``-O2``), in
interleaved rounds in this one process, with each build's wall and CPU time.

Usage: ``python benchmarks/cosim.py [--firmware DIR] [--menu FILE] [--bx N] [--icarus-bx N]
[--simulators verilator,icarus] [--rounds N] [--variants]``. Without ``--firmware`` the default
menu is built with ``firmware.build`` into ``~/.cache/l1sim/bench-firmware`` (cached
by content). The load average is printed with the tables: on a shared machine the
CPU-second rates are the ones to compare.
"""

from __future__ import annotations

import sys
from pathlib import Path

# benchmarks/streams.py would shadow the streams package: drop this folder from the path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # (imports after the path fix above)
import os
import resource
import statistics
import tempfile
import time
from typing import Any

import numpy as np

import cosim
import emulator
import firmware
import streams
from cosim._check import Prepared, dut_spec, icarus_compatible, prepare
from cosim._stimulus import output_delay
from cosim.runner import (
    ClockDriver,
    Runner,
    SimBuild,
    SimResult,
    VerilatorRunner,
    auto_threads,
    get_runner,
)
from emulator.menu import default_menu, load_menu
from firmware._manifest import FirmwareDir
from streams.timeline import place


def _stream(n_bx: int, seed: int = 2026) -> list[streams.EventBatch]:
    """The synthetic background with pile-up 60 on the default filling scheme, in memory."""
    source = streams.open(f"synthetic:background?n={n_bx}&seed={seed}")
    minimum_bias = streams.synthetic.generate("minbias", 50_000, seed=seed + 1)
    return list(streams.pileup.overlay(place(source, max_bx=n_bx), minimum_bias, 60.0, seed=seed))


def _drive(prepared: Prepared, n_bx: int) -> dict[str, np.ndarray]:
    """``n_bx`` cycles of the prepared stimulus (repeated when longer), then the flush."""
    delay = output_delay(prepared.firmware.manifest)
    drive = {}
    for name, values in prepared.stimulus.port_stimulus().items():
        reps = -(-n_bx // values.shape[0])
        part = np.concatenate([values] * reps)[:n_bx]
        drive[name] = np.concatenate([part, np.zeros((delay, *part.shape[1:]), part.dtype)])
    return drive


#: cycles of the short run that measures the simulator's start-up
_SHORT = 2_000


def _build(prepared: Prepared, simulator: str, *, native: bool, clock: ClockDriver,
           threads: int) -> tuple[Runner, SimBuild, float]:  # fmt: skip
    """(runner, build, build seconds) of one simulator set-up."""
    runner = get_runner(simulator, clock=clock, threads=threads)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        spec = dut_spec(prepared.firmware)
        if simulator == "icarus":
            spec = icarus_compatible(spec, Path(scratch))
        build = runner.build(spec, native=native)
    return runner, build, time.perf_counter() - start


#: native Verilator variants of ``--variants``: class attributes of VerilatorRunner
VARIANTS: dict[str, dict[str, Any]] = {
    "default (DPI-C file access)": {},
    "$fread/$fwrite (before)": {"DPI_FILES": False},
    "DPI-C + -O3 X-fast noassert, C++ -O2": {
        "OPT_FLAGS": VerilatorRunner.FAST_OPT_FLAGS,
        "MAKE_VARS": VerilatorRunner.FAST_MAKE_VARS,
    },
}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _variants(prepared: Prepared, n_bx: int, rounds: int = 3) -> None:
    """Native Verilator with each variant's settings, interleaved rounds (median)."""
    spec = dut_spec(prepared.firmware)
    built = {}
    for label, settings in VARIANTS.items():
        cls = type("Variant", (VerilatorRunner,), settings)
        runner = cls()
        start, cpu = time.perf_counter(), _children_cpu()
        build = runner.build(spec, native=True)
        seconds = (time.perf_counter() - start, _children_cpu() - cpu)
        built[label] = (runner, build, seconds)
    drive = _drive(prepared, n_bx)
    rates: dict[str, list[tuple[float, float]]] = {label: [] for label in built}
    for _ in range(rounds):
        for label, (runner, build, _s) in built.items():
            r = runner.test(build, drive)
            rates[label].append((r.cycles_per_second, r.cycles_per_cpu_second))
    print(f"\nnative Verilator variants, {n_bx:,} cycles x {rounds} interleaved rounds (median); "
          f"load average {_load()}\n")  # fmt: skip
    print(
        "| settings | build wall / CPU (s) | compiled now | BX/s (wall) | BX/s (CPU) | CPU rate / default |"
    )
    print("|---|---:|---|---:|---:|---:|")
    first = statistics.median(c for _w, c in next(iter(rates.values())))
    for label, (_runner, build, (wall, cpu)) in built.items():
        w = statistics.median(x for x, _c in rates[label])
        c = statistics.median(y for _w, y in rates[label])
        print(f"| {label} | {wall:.0f} / {cpu:.0f} | {build.compiled} | {w:,.0f} | {c:,.0f} | "
              f"{c / first:.2f} |")  # fmt: skip


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def _row(name: str, bx: int, wall: float, cpu: float | None, note: str = "",
         marginal: tuple[float, float] | None = None) -> dict[str, Any]:  # fmt: skip
    return {"name": name, "bx": bx, "wall": bx / wall, "cpu": None if cpu is None else bx / cpu,
            "note": note, "marginal": marginal}  # fmt: skip


def _firmware(args: argparse.Namespace) -> tuple[FirmwareDir, Any]:
    menu = load_menu(args.menu) if args.menu else default_menu()
    if args.firmware is not None:
        return FirmwareDir.open(args.firmware), menu
    out = Path.home() / ".cache" / "l1sim" / "bench-firmware"
    print(f"building the firmware of menu {menu.name!r} into {out} ...", file=sys.stderr)
    return firmware.build(menu, out), menu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firmware", type=Path, default=None)
    parser.add_argument("--menu", type=Path, default=None)
    parser.add_argument("--bx", type=int, default=100_000, help="BX replayed and packed")
    parser.add_argument("--sim-bx", type=int, default=1_000_000,
                        help="cycles per Verilator run (the stimulus repeated)")  # fmt: skip
    parser.add_argument("--icarus-bx", type=int, default=20_000)
    parser.add_argument(
        "--simulators",
        default="verilator,icarus",
        help="comma-separated simulators to time (default: %(default)s)",
    )
    parser.add_argument("--cocotb-clock", action="store_true",
                        help="also time cocotb's GPI clock (one more Verilator build)")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=3,
                        help="interleaved timed runs of each simulator set-up; the table "
                        "gives the median run (default: %(default)s)")  # fmt: skip
    parser.add_argument("--variants", action="store_true",
                        help="also time native Verilator builds without each speed setting")  # fmt: skip
    parser.add_argument("--variant-bx", type=int, default=200_000,
                        help="cycles per run of --variants (default: %(default)s)")  # fmt: skip
    args = parser.parse_args()
    fw, menu = _firmware(args)
    records = _stream(args.bx)
    prepared = prepare(fw, records, menu=menu)
    n = len(prepared.stimulus)
    if args.variants:
        _variants(prepared, args.variant_bx)
    rows = []

    start = time.perf_counter()
    cpu = time.process_time()
    for _ in emulator.run(records, menu):
        pass
    rows.append(_row("emulator (emulator.run)", n, time.perf_counter() - start,
                     time.process_time() - cpu))  # fmt: skip

    builds = []
    hdl = ClockDriver.HDL
    default = auto_threads(dut_spec(fw))
    mark = " (l1sim's default here)"
    setups = [
        ("cocotb + Verilator, 1 thread" + mark * (default == 1), "verilator", False, hdl,
         args.sim_bx, 1),
        ("native Verilator, 1 thread (C++ main, ceiling)", "verilator", True, hdl, args.sim_bx,
         1),
        ("cocotb + Verilator, 2 threads" + mark * (default == 2), "verilator", False, hdl,
         args.sim_bx, 2),
        ("native Verilator, 2 threads (ceiling)", "verilator", True, hdl, args.sim_bx, 2),
        ("cocotb + Icarus", "icarus", False, hdl, args.icarus_bx, 1),
        ("native Icarus (vvp)", "icarus", True, hdl, args.icarus_bx, 1),
    ]  # fmt: skip
    if args.cocotb_clock:
        setups.insert(1, ("cocotb + Verilator (cocotb clock), 1 thread", "verilator", False,
                          ClockDriver.COCOTB, args.sim_bx, 1))  # fmt: skip
    wanted = set(args.simulators.split(","))
    ready = []
    kinds = {}  # label -> (simulator, native, clock, threads), to pair cocotb and native rows
    for label, simulator, native, clock, n_bx, threads in setups:
        if simulator not in wanted:
            continue
        try:
            runner, build, built = _build(prepared, simulator, native=native, clock=clock,
                                          threads=threads)  # fmt: skip
        except cosim.CosimError as exc:
            rows.append({"name": label, "bx": n_bx, "wall": None, "cpu": None,
                         "note": str(exc).splitlines()[0], "marginal": None})  # fmt: skip
            continue
        builds.append(f"{label}: build {built:.1f} s")
        short = runner.test(build, _drive(prepared, _SHORT))
        ready.append((label, runner, build, _drive(prepared, n_bx), short))
        kinds[label] = (simulator, native, clock, threads)
    # interleaved rounds: the VM's speed drifts, and two spinning threads on a 2-core
    # machine lose whole time slices whenever anything else runs
    results: dict[str, list[SimResult]] = {label: [] for label, *_ in ready}
    for _ in range(args.rounds):
        for label, runner, build, drive, _short in ready:
            results[label].append(runner.test(build, drive))
    for label, *_, short in ready:
        runs = results[label]
        result = sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]  # the median run
        extra = result.cycles - short.cycles
        marginal = (extra / max(result.seconds - short.seconds, 1e-9),
                    extra / max(result.cpu_seconds - short.cpu_seconds, 1e-9))  # fmt: skip
        spread = ", ".join(f"{r.cycles_per_second / 1e3:.0f}k" for r in runs)
        note = f"start-up {short.seconds:.2f} s wall; rounds (BX/s): {spread}"
        rows.append(_row(label, result.cycles, result.seconds, result.cpu_seconds, note,
                         marginal) | {"kind": kinds[label]})  # fmt: skip

    if "verilator" not in wanted:
        _print(fw, menu, n, rows, builds)
        return
    start = time.perf_counter()
    report = cosim.check(fw, records, menu=menu)
    rows.append(_row("cosim.check end to end (Verilator)", n, time.perf_counter() - start, None,
                     "agree" if report.agrees else "MISMATCH"))  # fmt: skip

    _print(fw, menu, n, rows, builds)


def _print(fw: FirmwareDir, menu: Any, n: int, rows: list[dict[str, Any]],
           builds: list[str]) -> None:  # fmt: skip
    print(f"\nfirmware {fw.path} (top {fw.manifest.top_module}, latency "
          f"{fw.manifest.latency_cycles} cycles, menu {menu.name}), {n} BX with pile-up 60; "
          f"load average {_load()}\n")  # fmt: skip
    print("| run | BX | BX/s (wall) | BX/s (CPU) | BX/s after start-up (wall / CPU) | note |")
    print("|---|---:|---:|---:|---:|---|")
    for r in rows:
        wall = "-" if r["wall"] is None else f"{r['wall']:,.0f}"
        cpu_rate = "-" if r["cpu"] is None else f"{r['cpu']:,.0f}"
        m = r["marginal"]
        after = "-" if m is None else f"{m[0]:,.0f} / {m[1]:,.0f}"
        print(f"| {r['name']} | {r['bx']:,} | {wall} | {cpu_rate} | {after} | {r['note']} |")
    # each cocotb + Verilator row (HDL clock) against the native row on as many threads
    natives = {r["kind"][3]: r for r in rows if r.get("kind", ())[:2] == ("verilator", True)}
    print()
    for r in rows:
        if r.get("kind", ())[:3] != ("verilator", False, ClockDriver.HDL):
            continue
        native = natives.get(r["kind"][3])
        ratio = "" if native is None else f", {r['wall'] / native['wall']:.2f} of native"
        print(f"{r['name']}: {r['wall']:,.0f} BX/s{ratio}")
    print("targets: >= 50 000 BX/s through cocotb and >= 0.5 of the native ceiling")
    print("\n" + "; ".join(builds))


if __name__ == "__main__":
    main()
