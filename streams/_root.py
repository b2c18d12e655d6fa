"""ROOT files through uproot: CMS NanoAOD, the CMS HEP-tutorial tree, flat di-muon trees.

* **NanoAOD** (tree ``Events``): ``{Electron,Muon,Tau,Jet}_{pt,eta,phi}``, ``MET_pt/phi``,
  ``event`` (unsigned 64-bit: kept as uint64, so ids >= 2**63 are exact), ``Pileup_nTrueInt`` → true_interactions, ``PV_npvs`` → n_vertices,
  ``{Electron,Muon,Tau}_charge`` → charge.
* **tutorial** (tree ``events``, CMS 2012 HEP tutorial): ``{Electron,Muon,Jet}_{Px,Py,Pz,E}``
  converted to pT/η/φ, ``MET_px/py``, ``NPrimaryVertices`` → n_vertices,
  ``{Electron,Muon}_Charge`` → charge.
* **dimuon** (tree ``events`` with ``pt1, eta1, phi1, pt2, …``, e.g. uproot-Zmumu):
  two muons per event, ``Event`` as id, ``Q1``/``Q2`` as charges, no MET (0).

Charges missing from a file (jets, photons) are unknown (0); none of these formats
carries the hardware isolation word, so isolation is unknown (-1): a menu's charge or
isolation cut fails on such objects rather than passing silently.

Electrons feed ``egamma``; photons join them only with ``photons=True`` (they often
duplicate electrons). Pile-up values are exposed unchanged. Needs ``l1sim[root]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._batch import EventBatch, Objects, event_ids
from ._errors import StreamError
from ._optional import require
from ._source import EventSource

__all__ = ["RootSource", "open_root"]

_NANO = {"egamma": "Electron", "muon": "Muon", "tau": "Tau", "jet": "Jet"}
_TUTORIAL = {"egamma": "Electron", "muon": "Muon", "jet": "Jet"}


def _flat(array: Any) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    ak = require("awkward")
    counts = np.asarray(ak.num(array, axis=1), np.int64)
    values = np.asarray(ak.to_numpy(ak.flatten(array, axis=1)), np.float64)
    return counts, values


def _charge(
    arrays: Any, branch: str, fields: set[str]
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """(counts, charges) of a jagged charge branch; 0 (unknown) when the branch is absent."""
    if branch in fields:
        return _flat(arrays[branch])
    prefix = branch.rsplit("_", 1)[0]
    candidates = [f for f in fields if f.startswith(prefix + "_")]
    counts, _ = _flat(arrays[min(candidates)])
    return counts, np.zeros(int(counts.sum()), np.float64)


def _checked_charge(values: NDArray[np.float64]) -> NDArray[np.int8]:
    """Charges as ±1 (0 unknown); anything else (a corrupt branch) becomes unknown."""
    return np.where(np.isin(values, (-1.0, 1.0)), values, 0.0).astype(np.int8)


def _pt_eta_phi(
    px: NDArray[np.float64], py: NDArray[np.float64], pz: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    pt = np.hypot(px, py)
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = np.where(pt > 0, np.arcsinh(pz / np.where(pt > 0, pt, 1.0)), 0.0)
    return pt, eta, np.arctan2(py, px)


class RootSource(EventSource):
    """Events of one TTree, read ``chunk_size`` entries at a time with uproot."""

    def __init__(
        self,
        path: Path,
        tree_name: str,
        flavour: str,
        n_events: int,
        *,
        chunk_size: int,
        progress: bool,
        photons: bool,
    ) -> None:
        super().__init__(str(path), n_events, chunk_size, progress=progress)
        self.path = path
        self.tree_name = tree_name
        self.flavour = flavour
        self.photons = photons

    @property
    def format(self) -> str:
        """``root``."""
        return "root"

    def describe(self) -> dict[str, Any]:
        """Summary with tree and flavour."""
        return {**super().describe(), "tree": self.tree_name, "flavour": self.flavour}

    def _branches(self, available: set[str]) -> list[str]:
        if self.flavour == "nanoaod":
            wanted = ["event", "MET_pt", "MET_phi", "Pileup_nTrueInt", "PV_npvs"]
            prefixes = [*_NANO.values(), *(["Photon"] if self.photons else [])]
            wanted += [f"{p}_{f}" for p in prefixes for f in ("pt", "eta", "phi", "charge")]
        elif self.flavour == "tutorial":
            wanted = ["MET_px", "MET_py", "NPrimaryVertices"]
            prefixes = [*_TUTORIAL.values(), *(["Photon"] if self.photons else [])]
            wanted += [f"{p}_{f}" for p in prefixes for f in ("Px", "Py", "Pz", "Charge")]
        else:
            wanted = ["Event", *(f"{v}{i}" for i in (1, 2) for v in ("pt", "eta", "phi", "Q"))]
        return [b for b in wanted if b in available]

    def _convert(self, arrays: Any, start: int) -> EventBatch:
        n = len(arrays)
        fields = set(arrays.fields)
        objects: dict[str, Objects] = {}
        true_int: NDArray[np.float32] | None = None
        n_vtx: NDArray[np.int32] | None = None
        if self.flavour == "nanoaod":
            ids = (
                event_ids(np.asarray(arrays["event"]), f"{self.path}: branch 'event'")
                if "event" in fields
                else np.arange(start, start + n, dtype=np.int64)
            )
            met_pt = np.asarray(arrays["MET_pt"], np.float32)
            met_phi = np.asarray(arrays["MET_phi"], np.float32)
            if "Pileup_nTrueInt" in fields:
                true_int = np.asarray(arrays["Pileup_nTrueInt"], np.float32)
            if "PV_npvs" in fields:
                n_vtx = np.asarray(arrays["PV_npvs"], np.int32)
            for collection, prefix in _NANO.items():
                prefixes = [prefix] + (
                    ["Photon"] if collection == "egamma" and self.photons else []
                )
                parts = [
                    [_flat(arrays[f"{p}_{f}"]) for f in ("pt", "eta", "phi")]
                    + [_charge(arrays, f"{p}_charge", fields)]
                    for p in prefixes
                    if f"{p}_pt" in fields
                ]
                objects[collection] = self._merge(parts, n)
        elif self.flavour == "tutorial":
            ids = np.arange(start, start + n, dtype=np.int64)
            mx = np.asarray(arrays["MET_px"], np.float64)
            my = np.asarray(arrays["MET_py"], np.float64)
            met_pt, met_phi = (
                np.hypot(mx, my).astype(np.float32),
                np.arctan2(my, mx).astype(np.float32),
            )
            if "NPrimaryVertices" in fields:
                n_vtx = np.asarray(arrays["NPrimaryVertices"], np.int32)
            for collection, prefix in _TUTORIAL.items():
                prefixes = [prefix] + (
                    ["Photon"] if collection == "egamma" and self.photons else []
                )
                parts = []
                for p in prefixes:
                    if f"{p}_Px" not in fields:
                        continue
                    counts, px = _flat(arrays[f"{p}_Px"])
                    _, py = _flat(arrays[f"{p}_Py"])
                    _, pz = _flat(arrays[f"{p}_Pz"])
                    pt, eta, phi = _pt_eta_phi(px, py, pz)
                    charge = _charge(arrays, f"{p}_Charge", fields)
                    parts.append([(counts, pt), (counts, eta), (counts, phi), charge])
                objects[collection] = self._merge(parts, n)
        else:
            ids = (
                event_ids(np.asarray(arrays["Event"]), f"{self.path}: branch 'Event'")
                if "Event" in fields
                else np.arange(start, start + n, dtype=np.int64)
            )
            met_pt = np.zeros(n, np.float32)
            met_phi = np.zeros(n, np.float32)
            pt = np.stack([np.asarray(arrays[f"pt{i}"], np.float64) for i in (1, 2)], axis=1)
            eta = np.stack([np.asarray(arrays[f"eta{i}"], np.float64) for i in (1, 2)], axis=1)
            phi = np.stack([np.asarray(arrays[f"phi{i}"], np.float64) for i in (1, 2)], axis=1)
            charges = (
                np.stack([np.asarray(arrays[f"Q{i}"], np.float64) for i in (1, 2)], axis=1)
                if {"Q1", "Q2"} <= fields
                else np.zeros((n, 2))
            )
            objects["muon"] = Objects.from_counts(
                np.full(n, 2),
                pt.ravel(),
                eta.ravel(),
                phi.ravel(),
                charge=_checked_charge(charges.ravel()),
            )
        batch = EventBatch.from_events(
            ids, met_pt, met_phi, objects, true_interactions=true_int, n_vertices=n_vtx
        )
        batch.validate(f"{self.path}:{self.tree_name}", start)
        return batch

    @staticmethod
    def _merge(parts: list[list[tuple[NDArray[np.int64], NDArray[np.float64]]]], n: int) -> Objects:
        """Merge per-prefix (counts, values) of pt, eta, phi, charge into one sorted collection."""
        if not parts:
            return Objects.empty(n)
        counts = sum((p[0][0] for p in parts), np.zeros(n, np.int64))
        if len(parts) == 1:
            (c, pt), (_, eta), (_, phi), (_, charge) = parts[0]
            return Objects.from_counts(c, pt, eta, phi, charge=_checked_charge(charge))
        event = np.concatenate([np.repeat(np.arange(n), p[0][0]) for p in parts])
        order = np.argsort(event, kind="stable")
        values = [np.concatenate([p[k][1] for p in parts])[order] for k in range(4)]
        return Objects.from_counts(counts, *values[:3], charge=_checked_charge(values[3]))

    def _batches(self) -> Iterator[EventBatch]:
        return (batch for _, batch in self._pieces_from(0))

    def _pieces_from(self, start: int) -> Iterator[tuple[int, EventBatch]]:
        """Entries from ``start`` on (uproot reads only the baskets it needs)."""
        uproot = require("uproot")
        try:
            with uproot.open(self.path) as fh:
                tree = fh[self.tree_name]
                branches = self._branches(set(tree.keys()))
                for arrays in tree.iterate(
                    branches, step_size=self.chunk_size, entry_start=start, library="ak"
                ):
                    yield start, self._convert(arrays, start)
                    start += len(arrays)
        except StreamError:
            raise
        except Exception as exc:  # uproot raises many types for damaged files
            raise StreamError(
                f"{self.path}: corrupt or truncated ROOT data in tree {self.tree_name!r} "
                f"near entry {start} ({type(exc).__name__}: {exc})"
            ) from exc


def open_root(
    path: Path,
    *,
    chunk_size: int = 100_000,
    progress: bool = False,
    tree: str | None = None,
    photons: bool = False,
) -> RootSource:
    """Open a ROOT file, find its event tree and recognise its flavour (see module doc)."""
    uproot = require("uproot")
    try:
        with uproot.open(path) as fh:
            names = [k.split(";")[0] for k in fh.keys(recursive=False)]
            candidates = [tree] if tree else [n for n in ("Events", "events") if n in names]
            if not candidates or candidates[0] not in names:
                raise StreamError(
                    f"{path}: no event tree {tree or 'Events/events'!r} (found {names[:10]})"
                )
            name = candidates[0]
            ttree = fh[name]
            branches = set(ttree.keys())
            n_events = int(ttree.num_entries)
    except StreamError:
        raise
    except Exception as exc:  # uproot raises many types for damaged files
        raise StreamError(
            f"{path}: not a readable ROOT file ({type(exc).__name__}: {exc})"
        ) from exc
    if {"MET_pt", "MET_phi"} <= branches:
        flavour = "nanoaod"
    elif {"MET_px", "MET_py"} <= branches:
        flavour = "tutorial"
    elif {"pt1", "eta1", "phi1", "pt2", "eta2", "phi2"} <= branches:
        flavour = "dimuon"
    else:
        raise StreamError(
            f"{path}: wrong schema: tree {name!r} is neither NanoAOD (MET_pt, Muon_pt, …), "
            "the CMS tutorial layout (MET_px, Muon_Px, …) "
            "nor a flat di-muon tree (pt1, eta1, …)"
        )
    return RootSource(
        path, name, flavour, n_events, chunk_size=chunk_size, progress=progress, photons=photons
    )
