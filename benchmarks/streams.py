"""Streams throughput: every reader beside the raw library read, the generator, the clock.

Run: ``.venv/bin/python benchmarks/streams.py [--events 1000000] [--reps 3]``.

The same synthetic background events are written once per format into a temporary
folder (Parquet, Arrow IPC, ADC2021 HDF5, a NanoAOD-like ROOT tree, Dark Machines CSV
on ``--csv-events``). Each is then read to the end

- with ``streams.open`` (validated, sorted :class:`EventBatch` chunks), and
- with its library alone (pyarrow ``read_table``, h5py ``[:]``, uproot ``arrays``,
  a plain ``str.split`` loop for the CSV): the peer, which does no conversion.

Also: the generator, :func:`streams.timeline.place` (BX/s), ``place`` + pile-up
overlay at μ = 200 from a 100 000-event minimum-bias pool, ``to_slots``, and reading /
writing the 96-link l1tk duplicate-removal pattern file (64-bit words per second).
Prints medians of ``--reps`` runs: events (or BX) per second, and peer time / l1sim time
(above 1: l1sim is faster; below 1: the peer, which converts nothing, is faster).
Reading the real NanoAOD reference file (200 events) is reported separately.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # before numba is imported
# This script is called streams.py: drop its own folder from the import path so that
# `import streams` finds the package, not this file.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

import h5py
import numpy as np
import pyarrow.ipc
import pyarrow.parquet as pq

import streams
from streams import synthetic
from streams.pileup import overlay
from streams.timeline import place

REFERENCE = Path(__file__).resolve().parents[1] / ".." / "shared" / "reference"


def median_seconds(fn: Callable[[], Any], reps: int) -> float:
    """Median wall time of ``reps`` calls (after one warm-up call)."""
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def drain(source: Any) -> int:
    """Iterate a stream to the end; return the record count."""
    return sum(len(batch) for batch in source)


def write_inputs(folder: Path, n_events: int, n_csv: int) -> dict[str, Path]:
    """The same background events in every format."""
    source = synthetic.generate("background", n_events, seed=1)
    paths = {"parquet": folder / "ev.parquet", "arrow": folder / "ev.arrow"}
    streams.write_parquet(source, paths["parquet"])
    streams.write_arrow(source, paths["arrow"])
    batch = streams.concat_batches(list(source))
    # ADC2021 HDF5: the 57 slot features plus the class column
    feats = streams.to_slots(batch).reshape(-1, 19, 3)
    classes = np.array([1] + [2] * 4 + [3] * 4 + [4] * 10, np.float32)
    table = np.concatenate(
        [feats, np.broadcast_to(classes[None, :, None], (len(batch), 19, 1))], axis=2
    )
    table[:, :, 3] *= feats[:, :, 0] > 0
    paths["hdf5"] = folder / "ev.h5"
    with h5py.File(paths["hdf5"], "w") as fh:
        fh.create_dataset("Particles", data=table, chunks=(10_000, 19, 4))
    paths["root"] = folder / "ev.root"
    write_nanoaod_like(paths["root"], batch)
    paths["darkmachines"] = folder / "ev.csv"
    write_csv(paths["darkmachines"], batch.slice(0, n_csv))
    return paths


def write_nanoaod_like(path: Path, batch: streams.EventBatch) -> None:
    """A NanoAOD-style tree (Muon_pt …, MET_pt/phi, event) written with uproot."""
    import awkward as ak
    import uproot

    branches: dict[str, Any] = {
        "event": batch.event_id,
        "MET_pt": batch.met_pt,
        "MET_phi": batch.met_phi,
    }
    for name, prefix in (("egamma", "Electron"), ("muon", "Muon"), ("tau", "Tau"), ("jet", "Jet")):
        coll = batch.objects[name]
        counts = coll.counts()
        branches[prefix] = ak.zip(
            {f: ak.unflatten(getattr(coll, f), counts) for f in ("pt", "eta", "phi")}
        )
    with uproot.recreate(path) as fh:
        fh["Events"] = branches


def write_csv(path: Path, batch: streams.EventBatch) -> None:
    """Dark Machines CSV lines (MeV) for the batch."""
    codes = {"jet": "j", "egamma": "e-", "muon": "m+"}
    with path.open("w") as fh:
        for i in range(len(batch)):
            parts = [
                str(batch.event_id[i]),
                "bkg",
                "1",
                f"{batch.met_pt[i] * 1e3:.3f}",
                f"{batch.met_phi[i]:.5f}",
            ]
            for name, code in codes.items():
                coll = batch.objects[name]
                for j in range(coll.offsets[i], coll.offsets[i + 1]):
                    pt = coll.pt[j] * 1e3
                    parts.append(
                        f"{code},{pt * np.cosh(coll.eta[j]):.3f},{pt:.3f},{coll.eta[j]:.5f},{coll.phi[j]:.5f}"
                    )
            fh.write(";".join(parts) + ";\n")


def raw_csv(path: Path) -> int:
    """Peer for the CSV: split every line and field, convert the numbers, nothing else."""
    n = 0
    with path.open() as fh:
        for line in fh:
            for field in line.rstrip().rstrip(";").split(";")[3:]:
                [float(v) for v in field.split(",")[1:]] if "," in field else float(field)
            n += 1
    return n


def raw_root(path: Path) -> int:
    import uproot

    branches = ["event", "MET_pt", "MET_phi"] + [
        f"{p}_{f}" for p in ("Electron", "Muon", "Tau", "Jet") for f in ("pt", "eta", "phi")
    ]
    with uproot.open(path) as fh:
        return len(fh["Events"].arrays(branches, library="ak"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--csv-events", type=int, default=100_000)
    parser.add_argument("--bx", type=int, default=1_000_000, help="BX for timeline / pile-up rows")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    n, reps = args.events, args.reps
    rows: list[tuple[str, int, float, str, float | None]] = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_inputs(Path(tmp), n, args.csv_events)
        readers: list[tuple[str, int, Callable[[], Any], str, Callable[[], Any]]] = [
            (
                "parquet",
                n,
                lambda: drain(streams.open(paths["parquet"])),
                "pyarrow read_table",
                lambda: pq.read_table(paths["parquet"]),
            ),
            (
                "arrow",
                n,
                lambda: drain(streams.open(paths["arrow"])),
                "pyarrow ipc read_all",
                lambda: pyarrow.ipc.open_file(str(paths["arrow"])).read_all(),
            ),
            (
                "hdf5 (ADC2021)",
                n,
                lambda: drain(streams.open(paths["hdf5"])),
                "h5py dataset[:]",
                lambda: h5py.File(paths["hdf5"], "r")["Particles"][:],
            ),
            (
                "root (NanoAOD-like)",
                n,
                lambda: drain(streams.open(paths["root"])),
                "uproot same branches",
                lambda: raw_root(paths["root"]),
            ),
            (
                "darkmachines csv",
                args.csv_events,
                lambda: drain(streams.open(paths["darkmachines"])),
                "str.split + float",
                lambda: raw_csv(paths["darkmachines"]),
            ),
        ]
        for name, count, ours, peer_name, peer in readers:
            t_ours = median_seconds(ours, reps)
            t_peer = median_seconds(peer, reps)
            rows.append((f"read {name}", count, count / t_ours, peer_name, t_peer / t_ours))
    gen = median_seconds(lambda: drain(synthetic.generate("background", n, seed=2)), reps)
    rows.append(("generate background", n, n / gen, "-", None))
    gen_sig = median_seconds(lambda: drain(synthetic.generate("h_tautau", n, seed=2)), reps)
    rows.append(("generate h_tautau", n, n / gen_sig, "-", None))
    n_bx = args.bx
    n_ev = n_bx  # enough events for every colliding BX
    events = list(synthetic.generate("background", n_ev, seed=3))
    t_place = median_seconds(lambda: drain(place(events, max_bx=n_bx)), reps)
    rows.append(("timeline place (BX)", n_bx, n_bx / t_place, "-", None))
    minbias = list(synthetic.generate("minbias", 100_000, seed=4))
    t_pu = median_seconds(
        lambda: drain(overlay(place(events, max_bx=n_bx), minbias, mu=200.0, seed=5)), reps
    )
    rows.append(("place + pile-up mu=200 (BX)", n_bx, n_bx / t_pu, "place alone", t_place / t_pu))
    placed = list(place(events, max_bx=n_bx))
    t_slots = median_seconds(lambda: [streams.to_slots(b) for b in placed], reps)
    rows.append(("to_slots ADC2021 (BX)", n_bx, n_bx / t_slots, "-", None))
    nano = REFERENCE / "events" / "nanoAOD_2015_CMS_Open_Data_ttbar.root"
    if nano.is_file():
        import uproot

        def raw_nano() -> int:
            with uproot.open(nano) as fh:
                tree = fh["Events"]
                wanted = ["event", "MET_pt", "MET_phi", "Pileup_nTrueInt", "PV_npvs"] + [
                    f"{p}_{f}"
                    for p in ("Electron", "Muon", "Tau", "Jet")
                    for f in ("pt", "eta", "phi")
                ]
                return len(tree.arrays(wanted, library="ak"))

        t_nano = median_seconds(lambda: drain(streams.open(nano)), reps)
        t_raw = median_seconds(raw_nano, reps)
        rows.append(
            (
                "read real NanoAOD (200 ev)",
                200,
                200 / t_nano,
                "uproot same branches",
                t_raw / t_nano,
            )
        )

    dr = REFERENCE / "patterns" / "l1tk_dr" / "in.txt"
    if dr.is_file():
        from streams import patterns

        pf = patterns.read(dr)
        words = pf.n_frames * pf.n_links
        t_read = median_seconds(lambda: patterns.read(dr), reps)
        rows.append(("pattern read EMPv2 (words)", words, words / t_read, "-", None))
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "out.txt"
            t_write = median_seconds(lambda: patterns.write(pf, out, "empv2"), reps)
        rows.append(("pattern write EMPv2 (words)", words, words / t_write, "-", None))

    print(
        f"{'operation':32s} {'records':>10s} {'records/s':>12s}  {'peer':22s} {'peer time / ours':>16s}"
    )
    for name, count, rate, peer_name, ratio in rows:
        ratio_text = f"{ratio:16.2f}" if ratio is not None else f"{'-':>16s}"
        print(f"{name:32s} {count:10d} {rate:12.3g}  {peer_name:22s} {ratio_text}")


if __name__ == "__main__":
    main()
