"""Scale-out on Dask: the same replay over chunks of whole orbits, identical to one process.

``l1sim run ... --workers N`` starts a :class:`distributed.LocalCluster` (N worker
processes, one thread each: the kernels are numba), ``--dask ADDRESS`` uses a
running scheduler, and the Python API takes a :class:`distributed.Client`. There is
no scheduler of our own: tasks, retries and data placement are Dask's.

How a run is cut, and why the result does not depend on it:

* The timeline is cut into blocks of :data:`~l1sim._pipeline.BLOCK_BX` BX (28
  orbits). A task is a few consecutive blocks and the range of input events their
  colliding slots take (the client counts them from the filling scheme and the
  input's event count, without reading it). The task carries only these positions
  and the opened source: the worker reads its own range
  (:meth:`streams.EventSource.events`: Parquet row groups, ROOT baskets, HDF5 rows,
  synthetic blocks) and lays it on the bunch clock from the task's first orbit, so
  no event travels between processes and Dask can re-run a task anywhere after a
  worker dies. Orbit and BX numbers are those of one process; a worker checks that
  its range filled exactly its colliding slots.
* A worker overlays the pile-up of each block from the block's own random stream
  (:func:`~l1sim._pipeline.block_seed`: the run's seed, the sample and the block's
  position — the single-process run uses the same streams) and replays the task
  with :func:`emulator.replay.run`. Scores, raw decisions and dropped objects
  depend on the BX alone.
* Prescale counters and trigger rules depend on everything before. The client
  runs them in BX order over the tasks' ``fired`` bits
  (:class:`emulator.replay.SequentialState`, the same state objects as one
  process; one bit per seed and BX travels), so each task's counters start from
  the state a single process would have at its first BX, and the rules see the
  accepts of the preceding 240 BX across task boundaries: deadtime is identical.
* The worker completes its decisions with them, writes them as one part file of
  the decisions dataset (atomically) and returns the integer counts of the
  analysis (:class:`emulator.analysis.DecisionCounts`), which the client merges
  exactly. Nothing of a task's BX comes back but bits and counts.
* Every task must come back exactly once with the rows it was given; the part
  files must follow each other in BX. Otherwise the run fails (exit 1) and the
  staged output directory is removed: never a silently partial rate.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import pickle
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

import emulator
import streams
from emulator.analysis import CountsAccumulator, DecisionCounts
from emulator.menu import Menu
from emulator.plan import MenuPlan, build_plan
from emulator.replay import (
    DatasetPart,
    DecisionBatch,
    SequentialState,
    pack_bits,
    unpack_bits,
    with_sequential_decisions,
    write_decisions,
    write_manifest,
)
from l1sim._errors import UserError
from l1sim._pipeline import BLOCK_BX, Counting, Job, Replayed, overlay_blocks, placed_stream
from streams.timeline import BX_PER_ORBIT, FillingScheme

__all__ = [
    "BLOCKS_PER_TASK",
    "DistributedReplay",
    "dask_client",
    "local_cluster",
    "replay_distributed",
    "replay_job",
]

#: placed blocks (28 orbits each) per task by default: ~4 x 10^5 BX
BLOCKS_PER_TASK = 4
#: tasks in flight per worker (each holds its decisions on a worker until finished)
_IN_FLIGHT_PER_WORKER = 2
#: Dask priority of the short fired-bits and finish tasks: a worker runs them before the
#: next queued score task, so the client's sequential pass (which waits on the oldest
#: task's fired bits) is not held up behind a whole score task
_AHEAD_OF_SCORING = 10


def _distributed() -> Any:
    """The ``distributed`` package, or a UserError saying how to install it."""
    try:
        import distributed  # noqa: PLC0415  (an optional dependency, imported on use)
    except ModuleNotFoundError:
        raise UserError(
            "--workers and --dask need dask.distributed: pip install 'l1sim[dask]'"
        ) from None
    return distributed


@contextlib.contextmanager
def dask_client(*, workers: int | None = None, address: str | None = None) -> Iterator[Any]:
    """A client of a new local cluster of ``workers`` processes, or of the scheduler at ``address``."""
    distributed = _distributed()
    if address is not None:
        try:
            client = distributed.Client(address, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise UserError(f"--dask {address}: cannot reach the Dask scheduler ({exc})") from exc
        with client:
            yield client
        return
    with local_cluster(workers or 1) as cluster, distributed.Client(cluster) as client:
        yield client


#: Dask configuration of a local cluster's worker processes. glibc's own malloc tuning:
#: Dask's default MALLOC_TRIM_THRESHOLD_=65536 also turns off glibc's adaptive mmap
#: threshold, so every large numpy temporary is a fresh mmap whose pages fault in again
#: (measured: 20-30 % of a worker's CPU on a replay). One numba thread per worker, set
#: in the worker process only: ``pre-spawn-environ`` is also written into this process's
#: environment, where numba refuses a thread count changed after its threads started.
WORKER_CONFIG: dict[str, Any] = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    "distributed.nanny.environ.NUMBA_NUM_THREADS": "1",
}


@contextlib.contextmanager
def local_cluster(workers: int) -> Iterator[Any]:
    """A :class:`distributed.LocalCluster` of ``workers`` single-threaded worker processes."""
    import dask  # noqa: PLC0415  (with distributed)

    distributed = _distributed()
    with (
        dask.config.set(WORKER_CONFIG),
        distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
    ):
        yield cluster


# ------------------------------------------------------------------------------ worker side

#: menu plans built on this worker, by a hash of the menu (a plan takes a while to build)
_PLANS: dict[str, MenuPlan] = {}


def _plan(token: str, menu: Menu) -> MenuPlan:
    plan = _PLANS.get(token)
    if plan is None:
        _PLANS.clear()
        plan = _PLANS[token] = build_plan(menu)
    return plan


@dataclass(frozen=True)
class _Task:
    """One chunk of the timeline: whole blocks of one sample and the events they take.

    BX ``first_bx`` (a block boundary) to ``first_bx + n_bx - 1`` take the input events
    ``first_event`` to ``first_event + n_events - 1``; the last task of a sample may
    end earlier, where the events run out (the orbit of the last event is completed,
    as in one process).
    """

    index: int
    salt: int
    first_bx: int
    n_bx: int
    first_event: int
    n_events: int
    last: bool


def _task_plan(
    source: streams.EventSource,
    scheme: FillingScheme,
    max_bx: int | None,
    salt: int,
    blocks_per_task: int,
    n_workers: int = 1,
) -> list[_Task]:
    """The tasks of one sample: chunks of whole blocks and the event range of each.

    Colliding slots take the next event in order (:func:`streams.timeline.place`), so a
    chunk starting on an orbit boundary takes as many events as it has colliding slots.
    Tasks take ``blocks_per_task`` blocks while many are left and fewer towards the end
    (:func:`_task_sizes`), so the workers finish together.
    """
    if source.n_events is None:
        raise UserError(f"{source.name}: a distributed replay needs inputs that know their size")
    per_orbit = scheme.colliding.astype(np.int64).cumsum()
    blocks: list[tuple[int, int, int, int]] = []  # first BX, BX, first event, events
    first_bx = first_event = 0
    while first_event < source.n_events and (max_bx is None or first_bx < max_bx):
        n_bx = BLOCK_BX if max_bx is None else min(BLOCK_BX, max_bx - first_bx)
        orbits, rest = divmod(n_bx, BX_PER_ORBIT)
        colliding = orbits * int(per_orbit[-1]) + (int(per_orbit[rest - 1]) if rest else 0)
        n_events = min(colliding, source.n_events - first_event)
        blocks.append((first_bx, n_bx, first_event, n_events))
        first_bx += n_bx
        first_event += n_events
    tasks: list[_Task] = []
    start = 0
    for size in _task_sizes(len(blocks), blocks_per_task, n_workers):
        group = blocks[start : start + size]
        start += size
        tasks.append(
            _Task(
                len(tasks),
                salt,
                group[0][0],
                sum(b[1] for b in group),
                group[0][2],
                sum(b[3] for b in group),
                last=start == len(blocks),
            )
        )
    return tasks


def _task_sizes(n_blocks: int, most: int, n_workers: int) -> list[int]:
    """Blocks per task, in order: ``most`` while many blocks are left, then fewer.

    Guided self-scheduling: a task takes at most a ``2 * n_workers``-th of what is
    left, down to one block, so the last tasks are short and no worker replays a
    long task alone at the end (with 25 equal tasks on 2 workers, one worker idled
    for a whole task: ~10 % of the run).
    """
    sizes: list[int] = []
    left = n_blocks
    while left > 0:
        size = max(1, min(most, -(-left // (2 * n_workers))))
        sizes.append(size)
        left -= size
    return sizes


def _score_task(
    token: str,
    job: Job,
    menu: Menu,
    source: streams.EventSource,
    label: str,
    scheme: FillingScheme,
    task: _Task,
) -> list[DecisionBatch]:
    """Read, place, pile up and replay one task (prescale and rule decisions provisional).

    The decisions stay in the replay's chunks: one copy of the whole task would cost
    more than the Parquet writing (measured: ~8 % of a worker's CPU)."""
    events = source.events(task.first_event, task.first_event + task.n_events)
    placed = placed_stream(
        job, events, scheme, task.n_bx, label, first_orbit=task.first_bx // BX_PER_ORBIT
    )
    batches = list(emulator.run(overlay_blocks(job, placed, task.salt), _plan(token, menu)))
    taken = sum(int(np.count_nonzero(batch.has_event)) for batch in batches)
    if taken != task.n_events:
        raise ValueError(
            f"task {task.index}: {taken} events laid on BX {task.first_bx}+ where "
            f"{task.n_events} were planned"
        )
    return batches


def _fired_bits(
    batches: list[DecisionBatch],
) -> tuple[int, int, tuple[NDArray[np.uint8], tuple[int, ...]]]:
    """First absolute BX, rows and raw decisions (as bits) of a scored task."""
    if not batches:
        return -1, 0, pack_bits(np.zeros((0, 0), np.bool_))
    global_bx = np.concatenate([batch.global_bx() for batch in batches])
    if (np.diff(global_bx) != 1).any():
        raise ValueError("a task's BX are not consecutive")
    fired = np.concatenate([batch.fired for batch in batches])
    return int(global_bx[0]), len(global_bx), pack_bits(fired)


def _finish_task(
    job: Job,
    batches: list[DecisionBatch],
    sequential: dict[str, tuple[NDArray[np.uint8], tuple[int, ...]]],
    part: str | None,
    count_mu: bool,
) -> tuple[DecisionCounts, DatasetPart | None]:
    """Complete a task's decisions, write its part file, and count them."""
    from emulator.replay import SequentialDecisions  # noqa: PLC0415  (worker-side import)

    decisions = {key: unpack_bits(bits) for key, bits in sequential.items()}
    counting = Counting(job, pileup_mu=count_mu)
    completed: list[DecisionBatch] = []
    start = 0
    for scored in batches:
        stop = start + len(scored)
        completed.append(
            with_sequential_decisions(
                scored, SequentialDecisions(**{k: v[start:stop] for k, v in decisions.items()})
            )
        )
        start = stop
    finished = list(counting.through(completed))
    counts = counting.result()
    if counts is None:
        raise ValueError("a task came back without decisions")
    if part is None:
        return counts, None
    rows = write_decisions(finished, part)
    first_bx = int(finished[0].global_bx()[0])
    last_bx = int(finished[-1].global_bx()[-1])
    return counts, DatasetPart(Path(part).name, rows, first_bx, last_bx)


# ------------------------------------------------------------------------------ client side


@dataclass
class DistributedReplay:
    """What a distributed replay of one sample returns."""

    counts: DecisionCounts | None
    n_rows: int
    n_tasks: int
    parts: list[DatasetPart]


def replay_distributed(
    client: Any,
    job: Job,
    menu: Menu,
    source: streams.EventSource,
    scheme: FillingScheme,
    *,
    label: str,
    max_bx: int | None,
    salt: int,
    out: Path | None,
    count_mu: bool,
    blocks_per_task: int | None = None,
) -> DistributedReplay:
    """Replay one sample (``source`` on ``scheme``, at most ``max_bx`` BX) on the cluster.

    ``out``: the directory of the partitioned decisions dataset (parts and manifest),
    or None to only count (signals). ``count_mu``: count each BX's μ of the job's
    overlay (the background's pile-up variable).
    """
    token = uuid.uuid4().hex[:12]  # task keys of this replay
    menu_key = hashlib.sha256(pickle.dumps(menu)).hexdigest()[:16]  # the workers' plan cache
    n_workers = max(1, len(client.scheduler_info().get("workers", {})))
    window = _IN_FLIGHT_PER_WORKER * n_workers + 1
    state = SequentialState(menu)
    plan = _task_plan(
        source,
        scheme,
        max_bx,
        salt,
        blocks_per_task or job.blocks_per_task or BLOCKS_PER_TASK,
        n_workers,
    )
    tasks = iter(plan)
    scoring: deque[tuple[_Task, Any]] = deque()
    finishing: dict[Any, _Task] = {}
    results = _Returned()
    rows: dict[int, int] = {}
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)

    def collect(block: bool) -> None:
        done = list(finishing) if block else [f for f in finishing if f.done()]
        for future in done:
            task = finishing.pop(future)
            results.add(task.index, *_result(future, task))
            future.release()

    exhausted = False
    while True:
        # Only score tasks count against the window: finish tasks are short, run ahead of
        # scoring, and must not keep the workers waiting for new work while the client
        # blocks on the oldest task's fired bits.
        while not exhausted and len(scoring) < window:
            task = next(tasks, None)
            if task is None:
                exhausted = True
                break
            future = client.submit(
                _score_task,
                menu_key,
                job,
                menu,
                source,
                label,
                scheme,
                task,
                key=f"l1sim-score-{token}-{salt}-{task.index}",
                pure=False,
            )
            scoring.append((task, future))
        if not scoring:
            break
        task, scored = scoring.popleft()
        first_bx, n_rows, fired = _result(
            client.submit(
                _fired_bits,
                scored,
                key=f"l1sim-fired-{token}-{salt}-{task.index}",
                priority=_AHEAD_OF_SCORING,
            ),
            task,
        )
        if first_bx != task.first_bx or not (
            n_rows == task.n_bx or (task.last and 0 < n_rows <= task.n_bx)
        ):
            raise UserError(
                f"task {task.index}: {n_rows} BX from BX {first_bx} came back for "
                f"{task.n_bx} BX from BX {task.first_bx} sent"
            )
        rows[task.index] = n_rows
        global_bx = first_bx + np.arange(n_rows, dtype=np.int64)
        decisions = state.apply(global_bx, unpack_bits(fired))
        packed = {
            key: pack_bits(getattr(decisions, key))
            for key in ("prescaled", "final_or", "accept", "dead")
        }
        part = None if out is None else str(out / f"part-{task.index:05d}.parquet")
        finished = client.submit(
            _finish_task,
            job,
            scored,
            packed,
            part,
            count_mu,
            key=f"l1sim-finish-{token}-{salt}-{task.index}",
            priority=_AHEAD_OF_SCORING,
        )
        finishing[finished] = task
        scored.release()
        collect(block=False)
    collect(block=True)
    return _merge(results, rows, out, len(plan))


def _result(future: Any, task: _Task) -> Any:
    """A task's result; a task Dask gave up on (its workers kept dying) fails the run."""
    try:
        return future.result()
    except (UserError, streams.StreamError):
        raise
    except Exception as exc:
        raise UserError(
            f"task {task.index} (BX {task.first_bx} to {task.first_bx + task.n_bx - 1}) "
            f"failed on Dask: {type(exc).__name__}: {exc}; nothing was written"
        ) from exc


class _Returned:
    """The finished tasks: their counts merged as they come back (so the client's merging
    overlaps the workers' replay instead of following it), rows counted, part files."""

    def __init__(self) -> None:
        self.accumulator = CountsAccumulator()
        self.counted: dict[int, int] = {}
        self.parts: dict[int, DatasetPart] = {}

    def add(self, index: int, counts: DecisionCounts, part: DatasetPart | None) -> None:
        """Task ``index`` came back with ``counts`` (and its part file, if written)."""
        if index in self.counted:
            raise UserError(f"task {index} came back twice: the run is not trusted")
        self.counted[index] = counts.n_rows
        self.accumulator.add_counts(counts)
        if part is not None:
            self.parts[index] = part


def _merge(
    results: _Returned, rows: dict[int, int], out: Path | None, n_planned: int
) -> DistributedReplay:
    """Check that every task came back once with its rows, write the manifest."""
    missing = sorted(set(range(n_planned)) - set(results.counted))
    if missing:
        raise UserError(f"tasks {missing[:10]} never came back: the run is incomplete")
    for index, counted in sorted(results.counted.items()):
        if counted != rows[index]:
            raise UserError(f"task {index}: {counted} BX counted of {rows[index]} replayed")
    parts = [results.parts[index] for index in sorted(results.parts)]
    if out is not None:
        try:
            write_manifest(out, parts)
        except ValueError as exc:
            raise UserError(str(exc)) from exc
    return DistributedReplay(
        results.accumulator.result(), sum(results.counted.values()), len(results.counted), parts
    )


def replay_job(
    job: Job,
    menu: Menu,
    scheme: FillingScheme,
    background: streams.EventSource,
    signal_sources: dict[str, streams.EventSource],
    decisions_path: Path,
    say: Callable[[str], None],
) -> Replayed:
    """Replay a job's background (decisions to ``decisions_path`` as a dataset) and signals."""
    portable = replace(job, client=None)  # what travels to the workers
    with contextlib.ExitStack() as stack:
        client = job.client
        if client is None:
            client = stack.enter_context(dask_client(workers=job.workers, address=job.dask_address))
        n_workers = len(client.scheduler_info().get("workers", {}))
        say(f"on Dask: {n_workers} worker(s) at {client.scheduler.address}")
        started = time.perf_counter()
        label = ", ".join(job.background)
        try:
            replayed = replay_distributed(
                client,
                portable,
                menu,
                background,
                scheme,
                label=label,
                max_bx=job.max_bx,
                salt=0,
                out=decisions_path,
                count_mu=True,
            )
        except streams.StreamError as exc:
            raise UserError(str(exc)) from exc
        if replayed.counts is None or not replayed.counts.n_colliding_slots:
            raise UserError(f"{label}: no colliding bunch crossing was replayed")
        replay_s = time.perf_counter() - started
        say(
            f"{replayed.n_rows} BX replayed in {replay_s:.1f} s in {replayed.n_tasks} tasks "
            f"({replayed.n_rows / replay_s / 1e3:.0f} kBX/s); "
            f"{len(signal_sources)} signal sample(s) next"
        )
        started = time.perf_counter()
        signals: dict[str, DecisionCounts] = {}
        for index, (name, source) in enumerate(signal_sources.items(), start=1):
            try:
                result = replay_distributed(
                    client,
                    portable,
                    menu,
                    source,
                    scheme,
                    label=f"signal {name}",
                    max_bx=None,
                    salt=index,
                    out=None,
                    count_mu=False,
                )
            except streams.StreamError as exc:
                raise UserError(str(exc)) from exc
            if result.counts is None or result.counts.n_counted == 0:
                raise UserError(f"signal {name}: no events to replay (the input is empty)")
            signals[name] = result.counts
        signals_s = time.perf_counter() - started
    return Replayed(
        replayed.counts,
        signals,
        replayed.n_rows,
        replay_s,
        signals_s,
        distributed={
            "workers": n_workers,
            "tasks": replayed.n_tasks,
            "bx_processed": replayed.n_rows,
            "parts": len(replayed.parts),
        },
    )
