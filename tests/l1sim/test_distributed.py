"""A replay on a Dask LocalCluster (2 worker processes) is identical to one process.

``summary.json`` may differ only in timing and host fields; the partitioned decisions
read back row for row as the single file; a worker killed in the middle of a run
costs nothing but time (Dask re-runs its tasks).
"""

from __future__ import annotations

import json
import math
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from emulator.replay import MANIFEST_NAME, read_decisions, read_manifest
from l1sim import _pipeline
from l1sim._summary import write_summary

distributed = pytest.importorskip("distributed")

REFERENCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "events"
#: fields that say when, where and how fast a run ran: everything else must be identical
_RUN_FIELDS = {"created", "performance", "command"}

#: a cut-only menu with fractional and integer prescales and the CMS trigger rules:
#: cheap to replay, and every stateful part of the global trigger is exercised
_MENU = """\
name: scale-out-test
trigger_rules: cms
seeds:
  - {name: L1_SingleJet60, kind: single, collection: jet, pt: 60}
  - {name: L1_HTT150, kind: ht, collection: jet, object_pt: 20, threshold: 150}
  - {name: L1_SingleMu5, kind: single, collection: muon, pt: 5, prescale: 2.5}
  - {name: L1_SingleJet20, kind: single, collection: jet, pt: 20, prescale: 7}
  - {name: L1_SingleEG5_masked, kind: single, collection: egamma, pt: 5, masked: true}
"""


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    from l1sim._distributed import local_cluster

    before = os.environ.get("NUMBA_NUM_THREADS")
    with local_cluster(2) as cluster, distributed.Client(cluster) as dask_client:
        # the workers' numba setting stays theirs: numba in this process refuses a
        # thread count that changes after its threads started (it broke later tests)
        assert os.environ.get("NUMBA_NUM_THREADS") == before
        threads = dask_client.run(lambda: os.environ.get("NUMBA_NUM_THREADS"))
        assert set(threads.values()) == {"1"}
        yield dask_client


def _strip(summary: Any) -> Any:
    if isinstance(summary, dict):
        return {k: _strip(v) for k, v in summary.items() if k not in _RUN_FIELDS}
    if isinstance(summary, list):
        return [_strip(v) for v in summary]
    if isinstance(summary, float) and math.isnan(summary):
        return "nan"
    return summary


def _run(job: _pipeline.Job, out: Path) -> dict[str, Any]:
    out.mkdir(parents=True)
    summary = _pipeline.execute(job, out / "decisions.parquet", progress=False, say=lambda _: None)
    write_summary(out / "summary.json", summary)
    loaded: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return loaded


def _both(job: _pipeline.Job, client: Any, tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    single = _run(job, tmp_path / "single")
    job.client = client
    spread = _run(job, tmp_path / "dask")
    return single, spread


def _menu_file(tmp_path: Path) -> Path:
    path = tmp_path / "menu.yaml"
    path.write_text(_MENU)
    return path


@pytest.mark.slow
def test_pileup_and_prescales_over_several_chunks(client: Any, tmp_path: Path) -> None:
    job = _pipeline.Job(
        background=["synthetic:background?n=250000&seed=5"],
        signals=["synthetic:A_4l?n=2000&seed=6"],
        menu_path=_menu_file(tmp_path),
        pileup=25.0,
        blocks_per_task=1,  # 4 blocks of 28 orbits: 4 tasks
    )
    single, spread = _both(job, client, tmp_path)
    assert spread["performance"]["distributed"]["tasks"] == 4
    assert spread["performance"]["distributed"]["bx_processed"] == single["normalisation"]["n_bx"]
    assert _strip(spread) == _strip(single)
    # the partitioned decisions are the single file's, row for row
    dataset = tmp_path / "dask" / "decisions.parquet"
    assert (dataset / MANIFEST_NAME).is_file()
    assert len(read_manifest(dataset)) == 4
    one, parts = read_decisions(tmp_path / "single" / "decisions.parquet"), read_decisions(dataset)
    for name in ("orbit", "bx", "colliding", "event_id", "true_interactions", "n_vertices",
                 "scores", "fired", "prescaled", "final_or", "dead", "vetoed", "l1a", "dropped"):  # fmt: skip
        np.testing.assert_array_equal(getattr(parts, name), getattr(one, name), err_msg=name)
    assert parts.metadata == one.metadata
    assert 0 < int(one.prescaled[:, 2].sum()) < int(one.fired[:, 2].sum())  # prescaled seed
    assert one.dead.any()  # the trigger rules act across task boundaries too


@pytest.mark.slow
@pytest.mark.parametrize(
    ("background", "signals"),
    [("uproot-HZZ.root", ["ww.root"]), ("nanoAOD_2015_CMS_Open_Data_ttbar.root", [])],
)
def test_reference_files(client: Any, tmp_path: Path, background: str, signals: list[str]) -> None:
    paths = [REFERENCE / name for name in [background, *signals]]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        pytest.skip(f"reference events not found: {missing[0]}")
    job = _pipeline.Job(background=[str(paths[0])], signals=[str(p) for p in paths[1:]])
    single, spread = _both(job, client, tmp_path)
    assert _strip(spread) == _strip(single)


@pytest.mark.slow
def test_a_worker_killed_mid_run_costs_only_time(client: Any, tmp_path: Path) -> None:
    job = _pipeline.Job(
        background=["synthetic:background?n=250000&seed=8"],
        menu_path=_menu_file(tmp_path),
        pileup=40.0,
        blocks_per_task=1,
    )
    single = _run(job, tmp_path / "single")
    pids = client.run(os.getpid)
    killed: list[str] = []

    def kill_a_busy_worker() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            for address, keys in client.processing().items():
                if any("l1sim-score" in str(key) for key in keys) and address in pids:
                    os.kill(pids[address], signal.SIGKILL)
                    killed.append(address)
                    return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_a_busy_worker)
    killer.start()
    job.client = client
    spread = _run(job, tmp_path / "dask")
    killer.join()
    assert killed, "no worker was busy to be killed"
    assert spread["performance"]["distributed"]["bx_processed"] == single["normalisation"]["n_bx"]
    assert _strip(spread) == _strip(single)
    client.wait_for_workers(2, timeout=60)  # the nanny restarted it


def test_a_missing_or_duplicated_chunk_fails_the_run(tmp_path: Path) -> None:
    from emulator import run, write_decisions
    from emulator.analysis import DecisionCounts
    from emulator.replay import DatasetPart, write_manifest
    from l1sim._distributed import _merge, _Returned
    from l1sim._errors import UserError
    from streams import synthetic, timeline

    menu = tmp_path / "menu.yaml"
    menu.write_text(_MENU)
    from emulator.menu import load_menu

    batches = list(
        run(timeline.place(synthetic.generate("background", 3000, seed=1)), load_menu(menu))
    )
    batch = batches[0]
    rows = write_decisions([batch], tmp_path / "part-00000.parquet")
    bx = batch.global_bx()
    part = DatasetPart("part-00000.parquet", rows, int(bx[0]), int(bx[-1]))
    with pytest.raises(ValueError, match="duplicated or out of order"):
        write_manifest(tmp_path, [part, part])
    with pytest.raises(ValueError, match="rows"):
        write_manifest(tmp_path, [DatasetPart(part.file, rows + 1, part.first_bx, part.last_bx)])
    returned = _Returned()
    returned.add(0, DecisionCounts.of(batch), None)
    with pytest.raises(UserError, match=r"tasks \[1\] never came back"):
        _merge(returned, {0: rows}, None, 2)
    with pytest.raises(UserError, match="counted of"):
        _merge(returned, {0: rows + 5}, None, 1)
    with pytest.raises(UserError, match="came back twice"):
        returned.add(0, DecisionCounts.of(batch), None)
    assert not (tmp_path / MANIFEST_NAME).exists()


@pytest.mark.parametrize(
    ("n_events", "max_bx", "blocks_per_task"),
    [(150_000, None, 1), (150_000, 250_000, 1), (300_000, None, 2), (71_000, 99_792, 1)],
)
def test_task_plan_matches_one_placement(
    n_events: int, max_bx: int | None, blocks_per_task: int
) -> None:
    """Each task's event range is what the single-process placement lays on its BX."""
    from l1sim._distributed import _task_plan
    from streams import synthetic, timeline
    from streams.timeline import FillingScheme

    source = synthetic.generate("background", n_events, seed=5)
    scheme = FillingScheme.default()
    plan = _task_plan(source, scheme, max_bx, 0, blocks_per_task, n_workers=2)
    placed = list(timeline.place(source, scheme, max_bx=max_bx))
    has_event = np.concatenate([b.has_event for b in placed])
    event_id = np.concatenate([b.event_id for b in placed])
    assert [t.index for t in plan] == list(range(len(plan)))
    assert [t.last for t in plan] == [False] * (len(plan) - 1) + [True]
    for task in plan:
        window = slice(task.first_bx, task.first_bx + task.n_bx)
        ids = event_id[window][has_event[window]]
        assert list(ids) == list(range(task.first_event, task.first_event + task.n_events))
    last = plan[-1]
    assert last.first_bx < len(has_event) <= last.first_bx + last.n_bx


@pytest.mark.parametrize(
    ("n_blocks", "most", "n_workers"), [(101, 4, 2), (7, 4, 1), (1, 4, 8), (40, 1, 2)]
)
def test_tasks_get_shorter_towards_the_end(n_blocks: int, most: int, n_workers: int) -> None:
    """Task sizes cover every block once, never exceed the maximum, only shrink, and
    end with single blocks so the workers finish together."""
    from l1sim._distributed import _task_sizes

    sizes = _task_sizes(n_blocks, most, n_workers)
    assert sum(sizes) == n_blocks
    assert max(sizes) <= most
    assert sizes == sorted(sizes, reverse=True)
    assert sizes[-min(n_workers, len(sizes)) :] == [1] * min(n_workers, len(sizes))


def test_readme_gives_batch_workers_the_local_workers_settings() -> None:
    """The Dask configuration README gives for batch workers is ``--workers``' own."""
    import yaml

    from l1sim._distributed import WORKER_CONFIG

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("```yaml\n", 1)[1].split("```", 1)[0]

    def flat(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
        items: dict[str, Any] = {}
        for key, value in tree.items():
            if isinstance(value, dict):
                items |= flat(value, f"{prefix}{key}.")
            else:
                items[f"{prefix}{key}"] = None if value is None else str(value)
        return items

    assert flat(yaml.safe_load(block)) == WORKER_CONFIG
