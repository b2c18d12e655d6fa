"""Event sources: re-iterable producers of unplaced :class:`EventBatch` chunks.

:func:`open` is the single entry point: it detects the format of a path (extension
first, then the file's first bytes) or parses a ``synthetic:PROCESS?n=N&seed=S``
spec, and returns an :class:`EventSource`. Readers are imported lazily so that
optional dependencies (uproot) are only needed for the formats that use them.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from ._batch import EventBatch, concat_batches
from ._errors import StreamError, UnknownFormatError

__all__ = [
    "ALIASES",
    "FORMATS",
    "ChainSource",
    "EventSource",
    "chain",
    "open",
    "rechunk",
    "split_format",
]

#: format name -> file extensions recognised for it
FORMATS: dict[str, tuple[str, ...]] = {
    "parquet": (".parquet", ".pq"),
    "arrow": (".arrow", ".feather", ".ipc"),
    "hdf5": (".h5", ".hdf5", ".hdf"),
    "root": (".root",),
    "darkmachines": (".csv",),
    "synthetic": (),
}

#: other accepted spellings of ``format=``
ALIASES: dict[str, str] = {
    "csv": "darkmachines",
    "h5": "hdf5",
    "adc2021": "hdf5",
    "feather": "arrow",
    "ipc": "arrow",
    "nanoaod": "root",
    "pq": "parquet",
}

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PAR1", "parquet"),
    (b"ARROW1", "arrow"),
    (b"\x89HDF\r\n\x1a\n", "hdf5"),
    (b"root", "root"),
)


class EventSource(ABC):
    """A re-iterable stream of unplaced :class:`EventBatch` chunks.

    Iterating starts again from the first event each time. ``n_events`` is the total
    when the source knows it up front (None otherwise); ``name`` is a short label for
    reports and ``describe()`` a JSON-able summary. ``progress=True`` shows a tqdm bar.
    """

    #: short label for reports and error messages (usually the file path or spec)
    name: str
    #: total number of events when known up front
    n_events: int | None
    #: records per batch the source yields (the last batch may be shorter)
    chunk_size: int
    #: whether iterating shows a tqdm progress bar
    progress: bool

    def __init__(
        self, name: str, n_events: int | None, chunk_size: int, *, progress: bool = False
    ) -> None:
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        self.name = name
        self.n_events = n_events
        self.chunk_size = int(chunk_size)
        self.progress = progress

    @property
    def format(self) -> str:
        """Format name (one of :data:`FORMATS`)."""
        return "chain"

    @abstractmethod
    def _batches(self) -> Iterator[EventBatch]:
        """Yield the batches from the start (subclasses implement this)."""

    def _pieces_from(self, start: int) -> Iterator[tuple[int, EventBatch]]:
        """(row of its first event, batch) from a batch holding event ``start`` on.

        Formats with random access override this to skip what lies before ``start``;
        this default reads through the stream from the first event.
        """
        row = 0
        for batch in self._batches():
            if row + len(batch) > start:
                yield row, batch
            row += len(batch)

    def events(self, start: int, stop: int) -> Iterator[EventBatch]:
        """Events ``start`` to ``stop - 1`` in order, in batches of at most ``chunk_size``.

        The random access of parallel readers: each task of a distributed replay reads
        its own range of the input, so events never travel between processes.
        """
        if not 0 <= start <= stop:
            raise ValueError(f"need 0 <= start <= stop, got {start}, {stop}")
        if start == stop:
            return

        def window() -> Iterator[EventBatch]:
            for row, batch in self._pieces_from(start):
                if row >= stop:
                    return
                yield batch.slice(max(start - row, 0), min(stop - row, len(batch)))

        yield from rechunk(window(), self.chunk_size)

    def __iter__(self) -> Iterator[EventBatch]:
        if not self.progress:
            yield from self._batches()
            return
        from tqdm.auto import tqdm  # noqa: PLC0415 - only on demand

        with tqdm(total=self.n_events, unit="ev", desc=Path(self.name).name) as bar:
            for batch in self._batches():
                bar.update(len(batch))
                yield batch

    def describe(self) -> dict[str, Any]:
        """JSON-able summary for reports: name, format and event count."""
        return {"name": self.name, "format": self.format, "n_events": self.n_events}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} n_events={self.n_events}>"


class ChainSource(EventSource):
    """Several sources one after the other (event ids are kept as each source gives them)."""

    def __init__(self, sources: Sequence[EventSource], *, progress: bool = False) -> None:
        if not sources:
            raise ValueError("chain() needs at least one source")
        counts = [s.n_events for s in sources]
        total = None if any(c is None for c in counts) else sum(c for c in counts if c is not None)
        name = " + ".join(s.name for s in sources)
        super().__init__(name, total, max(s.chunk_size for s in sources), progress=progress)
        self.sources = tuple(sources)

    def _batches(self) -> Iterator[EventBatch]:
        for source in self.sources:
            yield from source

    def _pieces_from(self, start: int) -> Iterator[tuple[int, EventBatch]]:
        if self.n_events is None:  # a part of unknown length: read through from the start
            yield from super()._pieces_from(start)
            return
        first = 0
        for source in self.sources:
            assert source.n_events is not None
            if first + source.n_events > start:
                for row, batch in source._pieces_from(max(start - first, 0)):
                    yield first + row, batch
            first += source.n_events

    def describe(self) -> dict[str, Any]:
        """Summary including each part."""
        return {**super().describe(), "parts": [s.describe() for s in self.sources]}


def chain(*sources: EventSource | str | os.PathLike[str], progress: bool = False) -> ChainSource:
    """Concatenate sources (or paths/specs, opened with default options)."""
    opened = [s if isinstance(s, EventSource) else open(s) for s in sources]
    return ChainSource(opened, progress=progress)


def rechunk(batches: Iterable[EventBatch], chunk_size: int) -> Iterator[EventBatch]:
    """Re-cut a stream of batches into batches of exactly ``chunk_size`` (last may be short)."""
    pending: list[EventBatch] = []
    held = 0
    for batch in batches:
        pending.append(batch)
        held += len(batch)
        if held < chunk_size:
            continue
        merged = concat_batches(pending)
        start = 0
        while held - start >= chunk_size:
            yield merged.slice(start, start + chunk_size)
            start += chunk_size
        pending = [merged.slice(start, held)] if start < held else []
        held -= start
    if held:
        yield concat_batches(pending)


def _detect_format(path: Path) -> str:
    suffix = path.suffix.lower()
    for name, suffixes in FORMATS.items():
        if suffix in suffixes:
            return name
    with path.open("rb") as fh:
        head = fh.read(4096)
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    first_line = head.split(b"\n", 1)[0]
    if first_line.count(b";") >= 4:
        return "darkmachines"
    known = sorted(f for f in FORMATS if f != "synthetic")
    raise UnknownFormatError(
        f"{path}: unknown event format (extension {suffix!r}, no known signature); "
        f"pass format= one of {known}",
        str(path),
        known,
    )


def split_format(spec: str) -> tuple[str | None, str]:
    """``(format, path)`` of a ``FORMAT:path`` spec (e.g. ``csv:events.txt``), else ``(None, spec)``.

    ``FORMAT`` is one of :data:`FORMATS` or :data:`ALIASES` (case-insensitive; not
    ``synthetic``, whose specs are ``synthetic:PROCESS?...``). A file whose own name
    has that shape (it exists as given) is taken as a file.
    """
    head, sep, rest = spec.partition(":")
    name = ALIASES.get(head.lower(), head.lower())
    if not sep or not rest or name not in FORMATS or name == "synthetic" or _exists(spec):
        return None, spec
    return name, rest


def _exists(path: str) -> bool:
    try:
        return Path(path).exists()
    except (OSError, ValueError):  # a name the OS cannot hold (NUL byte, too long)
        return False


def _open_synthetic(
    spec: str, chunk_size: int, progress: bool, options: dict[str, Any]
) -> EventSource:
    from . import synthetic  # noqa: PLC0415 - avoid an import cycle

    body = spec.split(":", 1)[1]
    process, _, query = body.partition("?")
    params: dict[str, Any] = dict(options)
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError as exc:
        raise StreamError(f"{spec}: malformed synthetic spec ({exc})") from exc
    for key, value in pairs:
        if key not in {"n", "n_events", "seed"}:
            raise StreamError(f"{spec}: unknown synthetic parameter {key!r} (use n, seed)")
        if not value.lstrip("-").isdigit():
            raise StreamError(f"{spec}: {key}={value!r} is not an integer")
        params["seed" if key == "seed" else "n_events"] = int(value)
    return synthetic.generate(
        process or "background", chunk_size=chunk_size, progress=progress, **params
    )


def open(
    path_or_spec: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    format: str | None = None,
    chunk_size: int = 100_000,
    progress: bool = False,
    **options: Any,
) -> EventSource:
    """Open an event file, a list of files, or a ``synthetic:PROCESS?n=N&seed=S`` spec.

    ``format`` forces a reader (one of :data:`FORMATS` or :data:`ALIASES`), as does a
    ``FORMAT:path`` spec (:func:`split_format`); otherwise the format is detected from
    the extension, then the file's first bytes. Extra ``options`` go to the reader
    (e.g. ``tree=`` for ROOT). Raises :class:`StreamError` for a missing file or an
    unknown format, naming the path.
    """
    if not isinstance(path_or_spec, (str, os.PathLike)):
        parts = [open(p, format=format, chunk_size=chunk_size, **options) for p in path_or_spec]
        return ChainSource(parts, progress=progress)
    text = os.fspath(path_or_spec)
    prefixed, text = split_format(text)
    format = format if prefixed is None else prefixed
    if format is not None:
        format = ALIASES.get(format.lower(), format.lower())
    if format == "synthetic" or (format is None and text.startswith("synthetic:")):
        spec = text if text.startswith("synthetic:") else f"synthetic:{text}"
        return _open_synthetic(spec, chunk_size, progress, options)
    path = Path(text)
    if not path.is_file():
        raise StreamError(f"{path}: no such file")
    fmt = format or _detect_format(path)
    if fmt not in FORMATS:
        known = sorted(f for f in FORMATS if f != "synthetic")
        raise UnknownFormatError(
            f"{path}: unknown format {fmt!r}; known: {known} (or an alias: {sorted(ALIASES)})",
            str(path),
            known,
        )
    reader = _reader_class(fmt)
    source: EventSource = reader(path, chunk_size=chunk_size, progress=progress, **options)
    return source


def _reader_class(fmt: str) -> Any:
    """Import the reader module for ``fmt`` on demand and return its source class."""
    if fmt in {"parquet", "arrow"}:
        from ._parquet import ArrowSource, ParquetSource  # noqa: PLC0415 - loaded on demand

        return ParquetSource if fmt == "parquet" else ArrowSource
    if fmt == "hdf5":
        from ._hdf5 import ADC2021Source  # noqa: PLC0415 - loaded on demand

        return ADC2021Source
    if fmt == "root":
        from ._root import open_root  # noqa: PLC0415 - loaded on demand

        return open_root
    from ._darkmachines import DarkMachinesSource  # noqa: PLC0415 - loaded on demand

    return DarkMachinesSource
