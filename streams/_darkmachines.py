"""The Dark Machines unsupervised-challenge CSV format.

One event per line, fields separated by ``;``::

    event ID; process ID; weight; MET; METphi; obj1,E1,pt1,eta1,phi1; obj2,...;

Energies and momenta are in MeV (converted to GeV here). Object codes: ``j`` jet,
``b`` b-jet (quality 1), ``e-``/``e+`` electron and ``g`` photon (both ``egamma``),
``m-``/``m+`` muon. Electrons and muons carry their charge (the sign of the code);
jets and photons have none (0, unknown), and no object has an isolation word (-1).
Event ids that are not integers are rejected with the line named.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ._batch import EventBatch, Objects
from ._errors import StreamError
from ._source import EventSource

__all__ = ["DarkMachinesSource"]

_MEV = 1e-3
#: object code -> (collection, quality, charge; 0 = none)
_CODES: dict[str, tuple[str, int, int]] = {
    "j": ("jet", 0, 0),
    "b": ("jet", 1, 0),
    "e-": ("egamma", 0, -1),
    "e+": ("egamma", 0, 1),
    "g": ("egamma", 0, 0),
    "m-": ("muon", 0, -1),
    "m+": ("muon", 0, 1),
}


class _Chunk:
    """Parsed values of up to ``chunk_size`` lines."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        #: file line number of each event (for error messages)
        self.lines: list[int] = []
        self.met: list[float] = []
        self.met_phi: list[float] = []
        self.counts: dict[str, list[int]] = {"egamma": [], "muon": [], "jet": []}
        self.values: dict[str, list[tuple[float, float, float, int, int]]] = {
            "egamma": [],
            "muon": [],
            "jet": [],
        }


class DarkMachinesSource(EventSource):
    """Events of a Dark Machines CSV file, parsed ``chunk_size`` lines at a time."""

    def __init__(self, path: Path, *, chunk_size: int = 100_000, progress: bool = False) -> None:
        self.path = path
        try:
            with path.open("rb") as fh:
                n = sum(1 for line in fh if line.strip())
        except OSError as exc:
            raise StreamError(f"{path}: cannot read ({exc})") from exc
        super().__init__(str(path), n, chunk_size, progress=progress)

    @property
    def format(self) -> str:
        """``darkmachines``."""
        return "darkmachines"

    def _parse_line(self, line: str, lineno: int, chunk: _Chunk) -> None:
        fields = [f.strip() for f in line.strip().rstrip(";").split(";")]
        if len(fields) < 5:
            raise StreamError(
                f"{self.path}: line {lineno}: expected 'event ID; process ID; weight; MET; METphi; "
                f"objects…', got {len(fields)} field(s)"
            )
        try:
            met = float(fields[3]) * _MEV
            met_phi = float(fields[4])
        except ValueError as exc:
            raise StreamError(f"{self.path}: line {lineno}: bad MET field ({exc})") from exc
        chunk.ids.append(self._event_id(fields[0], lineno))
        chunk.lines.append(lineno)
        chunk.met.append(met)
        chunk.met_phi.append(met_phi)
        counts = dict.fromkeys(chunk.counts, 0)
        for position, obj in enumerate(fields[5:], 6):
            parts = obj.split(",")
            if len(parts) != 5:
                raise StreamError(
                    f"{self.path}: line {lineno}: field {position} {obj!r}: "
                    "expected 'type,E,pt,eta,phi'"
                )
            code = parts[0].strip()
            if code not in _CODES:
                raise StreamError(
                    f"{self.path}: line {lineno}: field {position}: unknown object type {code!r} "
                    f"(known: {sorted(_CODES)})"
                )
            collection, quality, charge = _CODES[code]
            try:
                pt, eta, phi = float(parts[2]) * _MEV, float(parts[3]), float(parts[4])
            except ValueError as exc:
                raise StreamError(f"{self.path}: line {lineno}: field {position}: {exc}") from exc
            chunk.values[collection].append((pt, eta, phi, quality, charge))
            counts[collection] += 1
        for collection, count in counts.items():
            chunk.counts[collection].append(count)

    def _event_id(self, text: str, lineno: int) -> int:
        """The event ID field as a signed 64-bit integer (an error naming the line otherwise)."""
        if not text.isascii() or not text.lstrip("-").isdigit():
            raise StreamError(
                f"{self.path}: line {lineno}: field 1 (event ID): {text!r} is not an integer"
            )
        value = int(text)
        if not -(2**63) <= value < 2**63:
            raise StreamError(
                f"{self.path}: line {lineno}: field 1 (event ID): {text} does not fit in 64 bits"
            )
        return value

    def _finish(self, chunk: _Chunk) -> EventBatch:
        objects: dict[str, Objects] = {}
        for collection, rows in chunk.values.items():
            table = np.array(rows, np.float64).reshape(-1, 5)
            objects[collection] = Objects.from_counts(
                chunk.counts[collection],
                table[:, 0],
                table[:, 1],
                table[:, 2],
                table[:, 3],
                charge=table[:, 4],
            )
        batch = EventBatch.from_events(chunk.ids, chunk.met, chunk.met_phi, objects)
        try:
            batch.validate(str(self.path), 0)
        except StreamError as exc:
            # rows are lines here: re-issue with the line number (1-based)
            message = str(exc).split(": row ", 1)[1]
            row, rest = message.split(":", 1)
            raise StreamError(f"{self.path}: line {chunk.lines[int(row)]}:{rest}") from exc
        return batch

    def _batches(self) -> Iterator[EventBatch]:
        chunk = _Chunk()
        with self.path.open(encoding="utf-8", errors="replace") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                self._parse_line(line, lineno, chunk)
                if len(chunk.ids) == self.chunk_size:
                    yield self._finish(chunk)
                    chunk = _Chunk()
        if chunk.ids:
            yield self._finish(chunk)
