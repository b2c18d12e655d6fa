"""Peak memory of ``l1sim run`` and ``l1sim rates`` against the replay alone (issue 11).

Each measurement runs in a fresh child process; its peak resident set comes from
``os.wait4`` (the kernel's ``ru_maxrss``, as ``/usr/bin/time -v`` reports it). Rows:

* replay alone: synthetic background laid on the default scheme, replayed through
  the default menu (NN seeds included) and written to Parquet, as ``l1sim run``
  does it, without any analysis;
* ``l1sim run``: the whole command (replay, streaming analysis, summary, plots, report);
* ``l1sim rates``: the rate table of that run's decisions, read chunk by chunk.

Target: ``l1sim run`` and ``l1sim rates`` within 1.5x of the replay alone at 10^7 BX.
Usage: ``python benchmarks/memory.py [--bx 100000 1000000 10000000]``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # single process, single thread
# benchmarks/streams.py would shadow the streams package: drop this folder from the path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # (imports after the path fix above)
import subprocess
import tempfile
import time


def _child(mode: str, n_bx: int, directory: Path) -> None:
    """One measurement, inside the child process."""
    if mode == "replay":
        import streams
        from emulator import run, write_decisions
        from emulator.menu import default_menu

        events = streams.open(f"synthetic:background?n={n_bx}&seed=1")
        placed = streams.timeline.place(events, max_bx=n_bx)
        write_decisions(run(placed, default_menu()), directory / "replay.parquet")
        return
    from l1sim.cli import main

    spec = f"synthetic:background?n={n_bx}&seed=1"
    argv = (
        ["run", spec, "--max-bx", str(n_bx), "--out", str(directory / "run"), "--force"]
        if mode == "run"
        else ["rates", str(directory / "run")]
    )
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115, PTH123  (the rate table is not measured)
    status = main(argv)
    if status:
        raise SystemExit(status)


def _measure(mode: str, n_bx: int, directory: Path) -> tuple[float, float]:
    """Peak resident memory [MB] and wall time [s] of one child run."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", mode, str(n_bx), str(directory)],
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise RuntimeError(f"{mode} on {n_bx} BX failed with status {process.returncode}")
    return usage.ru_maxrss / 1024.0, time.perf_counter() - started


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bx", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, n_bx, directory = args.child
        _child(mode, int(n_bx), Path(directory))
        return
    print("| BX | replay alone [MB] | l1sim run [MB] (x replay) | l1sim rates [MB] (x replay) "
          "| run time [s] |")  # fmt: skip
    print("|---|---|---|---|---|")
    for n_bx in args.bx:
        with tempfile.TemporaryDirectory(prefix="l1sim-memory-") as tmp:
            directory = Path(tmp)
            replay, _ = _measure("replay", n_bx, directory)
            run_mb, run_s = _measure("run", n_bx, directory)
            rates_mb, _ = _measure("rates", n_bx, directory)
        print(
            f"| {n_bx:.0e} | {replay:.0f} | {run_mb:.0f} ({run_mb / replay:.2f}x) | "
            f"{rates_mb:.0f} ({rates_mb / replay:.2f}x) | {run_s:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
