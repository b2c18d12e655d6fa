"""Replay throughput on Dask against one process (issue 12).

The job is ``l1sim run`` of synthetic background through the default menu (NN seeds
included), no pile-up, ``--max-bx N``: one process, then a ``LocalCluster`` of 1 and
of 2 worker processes (one thread each). BX/s is the replay (decisions written, counts
merged; timed apart: the cluster's start-up and each process's warm-up replay, 20 000
BX in a plain process and one block of 28 orbits per Dask worker); "x one process"
is one process's replay time over each row's; CPU is the user + system time of the client and the workers
during the replay (on a machine shared with other work, the CPU column shows the
overhead better than wall time); peak memory per worker is each worker's
``VmHWM`` after the run (the client's own peak is given too). The summaries are checked identical.
The last row runs two plain processes (no Dask) side by side on half the BX each: what
this machine allows two processes at all.

Target: 2 workers >= 1.7x one process. Usage: ``python -P benchmarks/scale.py [--bx N]
[--rounds K]``: with K rounds every row runs K times, interleaved, and the table
gives medians (the VM's speed drifts by 10-20 % within minutes).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # one thread per process
# benchmarks/streams.py would shadow the streams package: drop this folder from the path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # (imports after the path fix above)
import json
import resource
import statistics
import tempfile
import time
from typing import Any

#: one run of a row: replay seconds, cluster start + warm-up seconds, peak memory per
#: process [MB], CPU seconds (None where the row has no cluster or no CPU measurement)
_Timing = tuple[float, float | None, list[float], float | None]


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited at exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return float(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _run(n_bx: int, directory: Path, client: Any = None) -> tuple[float, dict[str, Any]]:
    from l1sim import _pipeline

    job = _pipeline.Job(
        background=[f"synthetic:background?n={n_bx}&seed=1"], max_bx=n_bx, client=client
    )
    directory.mkdir()
    summary = _pipeline.execute(
        job, directory / "decisions.parquet", progress=False, say=lambda _: None
    )
    performance = summary.pop("performance")
    for key in ("created", "command"):
        summary.pop(key, None)
    return float(performance["replay_s"]), summary


def _plain(n_bx: int, seed: int, start: Any, directory: str) -> float:
    """One plain process (no Dask): warm up, wait at the ``start`` barrier, replay; its
    replay time."""
    from l1sim import _pipeline

    warm = _pipeline.Job(background=[f"synthetic:background?n=20000&seed={seed}"], max_bx=20_000)
    _pipeline.execute(warm, Path(directory) / f"warm{seed}.parquet", progress=False,
                      say=lambda _: None)  # fmt: skip
    start.wait()
    job = _pipeline.Job(background=[f"synthetic:background?n={n_bx}&seed={seed}"], max_bx=n_bx)
    summary = _pipeline.execute(job, Path(directory) / f"plain{seed}.parquet", progress=False,
                                say=lambda _: None)  # fmt: skip
    return float(summary["performance"]["replay_s"])


def _side_by_side(n_bx: int, directory: Path) -> float:
    """Two plain processes replaying half the BX each at the same time: the machine's
    own ceiling for two processes (shared caches and memory bandwidth), without Dask."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, ProcessPoolExecutor(2, mp_context=context) as pool:
        start = manager.Barrier(2)  # both warmed up (numba caches loaded), then both go
        futures = [pool.submit(_plain, n_bx // 2, seed, start, str(directory)) for seed in (1, 2)]
        return max(f.result() for f in futures)


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bx", type=int, default=10_000_000)
    parser.add_argument("--rounds", type=int, default=1,
                        help="repeat every row this many times, interleaved; medians")  # fmt: skip
    args = parser.parse_args()
    import distributed

    from l1sim._distributed import local_cluster  # what `l1sim run --workers N` starts
    from l1sim._pipeline import BLOCK_BX  # one task per worker

    rows: dict[str, list[_Timing]] = {}
    with tempfile.TemporaryDirectory(prefix="l1sim-scale-") as tmp:
        # warm up as every other row does (numba's cache loaded or, on a fresh checkout,
        # compiled): the first replay of a process is not the one timed
        _run(20_000, Path(tmp) / "warm")
        for round_ in range(args.rounds):
            here = Path(tmp) / f"round{round_}"
            here.mkdir()
            cpu = _cpu_s()
            single_s, reference = _run(args.bx, here / "single")
            rows.setdefault("one process", []).append(
                (single_s, None, [_peak_mb()], _cpu_s() - cpu)
            )
            plain_s = _side_by_side(args.bx, here)
            rows.setdefault("two plain processes, half the BX each (no Dask: the machine's "
                            "ceiling)", []).append((plain_s, None, [], None))  # fmt: skip
            for workers in (1, 2):
                started = time.perf_counter()
                with local_cluster(workers) as cluster, distributed.Client(cluster) as client:
                    # the workers warm up like the single process (numba caches, menu plan)
                    _run(BLOCK_BX * workers, here / f"warm{workers}", client)
                    start_s = time.perf_counter() - started
                    cpu = _cpu_s() + sum(client.run(_cpu_s).values())
                    replay_s, summary = _run(args.bx, here / f"dask{workers}", client)
                    cpu = _cpu_s() + sum(client.run(_cpu_s).values()) - cpu
                    peaks = list(client.run(_peak_mb).values())
                if json.dumps(summary, sort_keys=True) != json.dumps(reference, sort_keys=True):
                    raise SystemExit(f"{workers} worker(s): summary differs from one process")
                rows.setdefault(f"Dask, {workers} worker(s)", []).append(
                    (replay_s, start_s, peaks, cpu)
                )
    _print(args.bx, args.rounds, rows)


def _median(values: list[float | None]) -> str:
    """The median formatted, or "-" when the row does not measure it."""
    known = [v for v in values if v is not None]
    return f"{statistics.median(known):.1f}" if known else "-"


def _print(n_bx: int, rounds: int, rows: dict[str, list[_Timing]]) -> None:
    """Medians over the rounds; "x one process" is the median of each round's ratio."""
    single = [r[0] for r in rows["one process"]]
    print(f"{n_bx} BX of the default menu (NN seeds included), no pile-up, {rounds} "
          f"interleaved round(s), medians; client peak {_peak_mb():.0f} MB; summaries "
          "identical")  # fmt: skip
    print(
        "| | replay [s] | BX/s | x one process (each round) | CPU [s] (client + workers) "
        "| cluster start + warm-up [s] | peak memory per worker [MB] |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, runs in rows.items():
        seconds = statistics.median(r[0] for r in runs)
        ratios = [one / r[0] for one, r in zip(single, runs, strict=True)]
        each = " / ".join(f"{x:.2f}" for x in ratios)
        peaks = ", ".join(f"{p:.0f}" for p in runs[-1][2]) or "-"
        print(
            f"| {name} | {seconds:.1f} | {n_bx / seconds / 1e3:.0f} k | "
            f"{statistics.median(ratios):.2f} ({each}) | "
            f"{_median([r[3] for r in runs])} | {_median([r[1] for r in runs])} | {peaks} |"
        )


if __name__ == "__main__":
    main()
