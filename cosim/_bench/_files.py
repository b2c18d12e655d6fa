"""The bench's stimulus and output files, written and read with numpy (no per-row Python).

Port values travel as **arrays of uint64 words**: a port of ``width`` bits is an
array of shape ``(n_rows, ceil(width / 64))``, word 0 holding bits 63..0 (little-
endian word order). That keeps ports of a few hundred bits exact without Python
integers; :meth:`PortTrace.ints` gives Python ints where they are wanted and
:meth:`PortTrace.values` a flat uint64 array for ports of at most 64 bits.

Stimulus file: one binary record per clock, every input port padded to whole bytes,
first port first, each port big-endian (what Verilog's ``$fread`` reads into the
bench's record register). Output file: one text line per clock, one fixed-width hex
field per output port separated by spaces (what ``%h`` writes). Icarus prints
``x``/``z`` digits for unknown bits: they read as 0 and set the row's ``unknown``
flag of that port (Verilator is two-state and never sets it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from cosim._bench import DutSpec, Port

__all__ = ["PortTrace", "Stimulus", "port_words", "read_outputs", "words_to_ints", "write_stimulus"]

#: One port's values: a 1-D integer array (ports up to 64 bits), a 2-D uint64 word
#: array ``(n_rows, n_words)``, or a sequence of Python ints.
Stimulus = NDArray[np.integer] | Sequence[int]

# ASCII -> nibble; 16 marks x/z (unknown), 255 anything else.
_NIBBLE = np.full(256, 255, dtype=np.uint8)
for _i, _c in enumerate(b"0123456789abcdef"):
    _NIBBLE[_c] = _i
for _i, _c in enumerate(b"ABCDEF"):
    _NIBBLE[_c] = 10 + _i
for _c in b"xXzZ":
    _NIBBLE[_c] = 16


def _n_words(width: int) -> int:
    return (width + 63) // 64


@dataclass(frozen=True)
class PortTrace:
    """Recorded values of one output port, one row per clock cycle."""

    name: str
    width: int
    words: NDArray[np.uint64]
    unknown: NDArray[np.bool_]

    def values(self) -> NDArray[np.uint64]:
        """The values as a flat uint64 array (ports of at most 64 bits)."""
        if self.width > 64:
            raise ValueError(f"port {self.name!r} is {self.width} bits: use words or ints()")
        return self.words[:, 0].copy()

    def ints(self) -> list[int]:
        """The values as Python ints (any width)."""
        return words_to_ints(self.words)


def words_to_ints(words: NDArray[np.uint64]) -> list[int]:
    """Rows of little-endian uint64 words -> Python ints."""
    total = np.zeros(words.shape[0], dtype=object)
    for k in range(words.shape[1]):
        total += words[:, k].astype(object) << (64 * k)
    return [int(v) for v in total]


def port_words(values: Stimulus, port: Port) -> NDArray[np.uint64]:
    """One port's values as ``(n_rows, n_words)`` uint64 words, range-checked.

    Values are raw bit patterns: ``0 <= v < 2**width``; anything else is a clear
    error, never a silent wrap.
    """
    n_words = _n_words(port.width)
    where = f"stimulus for input port {port.name!r} ({port.width} bits)"
    if isinstance(values, np.ndarray):
        if not np.issubdtype(values.dtype, np.integer):
            raise ValueError(f"{where}: expected integers, got dtype {values.dtype}")
        if values.ndim == 1:
            if port.width > 64:
                raise ValueError(f"{where}: a 1-D array only fits ports of up to 64 bits")
            if np.issubdtype(values.dtype, np.signedinteger) and values.size and values.min() < 0:
                raise ValueError(f"{where}: negative value {int(values.min())}; give bit patterns")
            words = values.astype(np.uint64).reshape(-1, 1)
        elif values.ndim == 2 and values.shape[1] == n_words and values.dtype == np.uint64:
            words = np.ascontiguousarray(values)
        else:
            raise ValueError(
                f"{where}: expected shape (n,) or uint64 (n, {n_words}), "
                f"got {values.dtype} {values.shape}"
            )
    else:
        n_bytes = 8 * n_words
        try:
            raw = b"".join(int(v).to_bytes(n_bytes, "little") for v in values)
        except OverflowError:
            bad = next(int(v) for v in values if not 0 <= int(v) < 1 << (64 * n_words))
            raise ValueError(f"{where}: value {bad} is out of range") from None
        words = np.frombuffer(raw, dtype="<u8").astype(np.uint64).reshape(-1, n_words)
    top_bits = port.width - 64 * (n_words - 1)
    if top_bits < 64 and words.size and int(words[:, -1].max()) >> top_bits:
        row = int(np.argmax(words[:, -1] >> np.uint64(top_bits)))
        raise ValueError(f"{where}: row {row} does not fit in {port.width} bits")
    return words


def write_stimulus(spec: DutSpec, stimulus: Mapping[str, Stimulus], path: Path) -> int:
    """Write the binary stimulus of ``spec``'s inputs to ``path``; returns the row count."""
    names = {p.name for p in spec.inputs}
    missing = sorted(names - set(stimulus))
    extra = sorted(set(stimulus) - names)
    if missing or extra:
        raise ValueError(
            f"stimulus for top {spec.top!r}: missing input ports {missing}, unknown ports {extra}"
        )
    columns = []
    n_rows = -1
    for port in spec.inputs:
        words = port_words(stimulus[port.name], port)
        if n_rows < 0:
            n_rows = words.shape[0]
        elif words.shape[0] != n_rows:
            raise ValueError(
                f"stimulus for top {spec.top!r}: port {port.name!r} has {words.shape[0]} rows, "
                f"the first input has {n_rows}"
            )
        n_bytes = (port.width + 7) // 8
        # Most significant word first, each word big-endian: the port's big-endian bytes.
        big = words[:, ::-1].astype(">u8").view(np.uint8).reshape(n_rows, -1)
        columns.append(big[:, big.shape[1] - n_bytes :])
    if n_rows < 1:
        raise ValueError(f"stimulus for top {spec.top!r}: no rows")
    np.ascontiguousarray(np.concatenate(columns, axis=1)).tofile(path)
    return n_rows


def read_outputs(spec: DutSpec, path: Path, n_rows: int) -> dict[str, PortTrace]:
    """Read the bench's output file: ``n_rows`` rows of every output port."""
    digits = [(p.width + 3) // 4 for p in spec.outputs]
    line = sum(digits) + len(digits)  # fields, separators and the newline
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size != n_rows * line:
        raise ValueError(
            f"{path}: expected {n_rows} rows of {line} characters for top {spec.top!r}, "
            f"got {raw.size} bytes (simulation stopped early?)"
        )
    text = raw.reshape(n_rows, line)
    nibbles = _NIBBLE[text]
    traces = {}
    start = 0
    for port, n_digits in zip(spec.outputs, digits, strict=True):
        field = nibbles[:, start : start + n_digits]
        separator = text[:, start + n_digits]
        if np.any(field == 255) or np.any(separator != (10 if port is spec.outputs[-1] else 32)):
            raise ValueError(f"{path}: malformed field of output port {port.name!r}")
        unknown = np.any(field == 16, axis=1)
        field = np.where(field == 16, 0, field).astype(np.uint64)
        n_words = _n_words(port.width)
        padded = np.zeros((n_rows, 16 * n_words), dtype=np.uint64)
        padded[:, padded.shape[1] - n_digits :] = field
        shifts = np.arange(60, -4, -4, dtype=np.uint64)
        words = (padded.reshape(n_rows, n_words, 16) << shifts).sum(axis=2, dtype=np.uint64)
        traces[port.name] = PortTrace(
            port.name, port.width, np.ascontiguousarray(words[:, ::-1]), unknown
        )
        start += n_digits + 1
    return traces
