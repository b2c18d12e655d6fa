"""HDF5 in the ADC2021 anomaly-detection challenge layout.

The dataset ``Particles`` has shape (N, 19, 4): row 0 is MET, rows 1-4 electrons,
5-8 muons, 9-18 jets, each (pT [GeV], η, φ, class) with class 1 = MET, 2 = electron,
3 = muon, 4 = jet and all-zero rows for missing objects. Electrons become ``egamma``.
The layout has no charge or isolation: both are unknown (0 and -1), so a menu's
charge or isolation cut fails on these objects instead of passing silently.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import h5py
import numpy as np
from numpy.typing import NDArray

from ._batch import EventBatch, Objects
from ._errors import StreamError
from ._kernels import unpack_particle_rows
from ._source import EventSource

__all__ = ["ADC2021_BLOCKS", "ADC2021Source"]

#: (collection, first row, rows, class id) of the ADC2021 particle table
ADC2021_BLOCKS: tuple[tuple[str, int, int, int], ...] = (
    ("egamma", 1, 4, 2),
    ("muon", 5, 4, 3),
    ("jet", 9, 10, 4),
)


class ADC2021Source(EventSource):
    """Events of an ADC2021-layout HDF5 file (``dataset=`` names another dataset)."""

    def __init__(
        self,
        path: Path,
        *,
        chunk_size: int = 100_000,
        progress: bool = False,
        dataset: str = "Particles",
    ) -> None:
        self.path = path
        self.dataset = dataset
        try:
            with h5py.File(path, "r") as fh:
                if dataset not in fh:
                    raise StreamError(
                        f"{path}: wrong schema: no dataset {dataset!r} "
                        f"(found {sorted(fh.keys())[:10]}); "
                        "ADC2021 files hold 'Particles' of shape (N, 19, 4)"
                    )
                node = fh[dataset]
                if not isinstance(node, h5py.Dataset):
                    raise StreamError(
                        f"{path}: wrong schema: {dataset!r} is a {type(node).__name__.lower()}, "
                        "not a dataset; ADC2021 files hold 'Particles' of shape (N, 19, 4)"
                    )
                shape = node.shape
                kind = node.dtype.kind
        except OSError as exc:
            raise StreamError(f"{path}: not a readable HDF5 file ({exc})") from exc
        if kind not in "fiu":
            raise StreamError(
                f"{path}: wrong schema: {dataset!r} has dtype kind {kind!r}; ADC2021 data are "
                "real numbers (float or integer), not strings, complex or compound values"
            )
        if len(shape) != 3 or shape[1:] != (19, 4):
            raise StreamError(
                f"{path}: wrong schema: {dataset!r} has shape {shape}, expected (N, 19, 4)"
            )
        super().__init__(str(path), int(shape[0]), chunk_size, progress=progress)

    @property
    def format(self) -> str:
        """``hdf5``."""
        return "hdf5"

    def _batches(self) -> Iterator[EventBatch]:
        return (batch for _, batch in self._pieces_from(0))

    def _pieces_from(self, first: int) -> Iterator[tuple[int, EventBatch]]:
        """Rows from ``first`` on, ``chunk_size`` at a time."""
        assert self.n_events is not None
        with h5py.File(self.path, "r") as fh:
            data = fh[self.dataset]
            for start in range(first, self.n_events, self.chunk_size):
                stop = min(start + self.chunk_size, self.n_events)
                try:
                    raw = np.asarray(data[start:stop], np.float32)
                except OSError as exc:
                    raise StreamError(
                        f"{self.path}: corrupt or truncated HDF5 data in rows "
                        f"{start}-{stop - 1} ({exc})"
                    ) from exc
                yield start, self._convert(raw, start)

    def _convert(self, raw: NDArray[np.float32], start: int) -> EventBatch:
        origin = str(self.path)
        raw = np.ascontiguousarray(raw)
        objects: dict[str, Objects] = {}
        for name, first, rows, class_id in (("met", 0, 1, 1), *ADC2021_BLOCKS):
            counts, pt, eta, phi, bad_row, bad_slot = unpack_particle_rows(
                raw, first, rows, class_id
            )
            if bad_row >= 0:
                values = raw[bad_row, bad_slot].tolist()
                raise StreamError(
                    f"{origin}: row {start + bad_row}: {name} slot {bad_slot} = {values} "
                    f"(pT must be finite and >= 0, angles finite, class {class_id} for {name})"
                )
            if name != "met":
                objects[name] = Objects.from_counts(counts, pt, eta, phi)
        batch = EventBatch.from_events(
            np.arange(start, start + raw.shape[0], dtype=np.int64),
            raw[:, 0, 0],
            raw[:, 0, 2],
            objects,
        )
        batch.validate(origin, start)
        return batch
