"""Link packing: physics objects ↔ 64-bit link words with a declared bit layout.

A :class:`LinkLayout` is a list of :class:`LinkField` (name, least significant bit,
width, signedness, scale = physical units per count). It converts physical values to
raw integers (floor, like ``ap_fixed`` truncation, with saturation or an error on
overflow), packs raw fields into uint64 words and unpacks them again. It is described
without the emulator's FixedType so the bottom layer stays independent.

:func:`pack_objects` lays the objects of each event out as one packet per event on
``n_links`` links (object ``j`` of an event goes to link ``j % n_links``, frame
``j // n_links`` of the packet); :func:`unpack_objects` reads them back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._batch import EventBatch, Objects
from ._errors import StreamError

if TYPE_CHECKING:
    from .patterns import PatternFile

__all__ = ["LinkField", "LinkLayout", "pack_objects", "unpack_objects"]

_OBJECT_FIELDS = ("pt", "eta", "phi", "quality")


@dataclass(frozen=True)
class LinkField:
    """One field of a link word: bits ``lsb … lsb + width - 1``, value = raw · scale."""

    name: str
    lsb: int
    width: int
    signed: bool = False
    scale: float = 1.0

    def __post_init__(self) -> None:
        if self.width < 1 or self.lsb < 0 or self.lsb + self.width > 64:
            raise ValueError(
                f"field {self.name!r}: bits {self.lsb}+{self.width} do not fit a 64-bit word"
            )
        if not self.scale > 0:
            raise ValueError(f"field {self.name!r}: scale must be > 0, got {self.scale}")

    @property
    def raw_min(self) -> int:
        """Smallest raw value."""
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def raw_max(self) -> int:
        """Largest raw value."""
        return (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1

    def quantize(self, values: ArrayLike, *, overflow: str = "saturate") -> NDArray[np.int64]:
        """Raw integers floor(value / scale), saturated (or ``overflow="error"``)."""
        x = np.asarray(values, np.float64)
        if not np.isfinite(x).all():
            raise StreamError(f"field {self.name!r}: non-finite value to quantize")
        raw = np.floor(x / self.scale)
        out_of_range = (raw < self.raw_min) | (raw > self.raw_max)
        if out_of_range.any() and overflow == "error":
            i = int(np.flatnonzero(out_of_range)[0])
            raise StreamError(
                f"field {self.name!r}: value {x[i]!r} (entry {i}) outside "
                f"[{self.raw_min * self.scale}, {self.raw_max * self.scale}]"
            )
        return np.clip(raw, self.raw_min, self.raw_max).astype(np.int64)


@dataclass(frozen=True)
class LinkLayout:
    """Fields of one 64-bit link word (non-overlapping, unique names)."""

    fields: tuple[LinkField, ...]

    def __post_init__(self) -> None:
        used = 0
        names: set[str] = set()
        for f in self.fields:
            mask = ((1 << f.width) - 1) << f.lsb
            if used & mask:
                raise ValueError(f"field {f.name!r} overlaps another field")
            if f.name in names:
                raise ValueError(f"field {f.name!r} declared twice")
            used |= mask
            names.add(f.name)

    def field(self, name: str) -> LinkField:
        """The field called ``name``."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def pack(self, raw: Mapping[str, ArrayLike]) -> NDArray[np.uint64]:
        """Words from raw field values (missing fields are 0); out-of-range raw is an error."""
        words: NDArray[np.uint64] | None = None
        for f in self.fields:
            if f.name not in raw:
                continue
            r = np.asarray(raw[f.name], np.int64)
            bad = (r < f.raw_min) | (r > f.raw_max)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise StreamError(
                    f"field {f.name!r}: raw value {int(r[i])} (entry {i}) "
                    f"does not fit {f.width} bits"
                )
            bits = (r.astype(np.uint64) & np.uint64((1 << f.width) - 1)) << np.uint64(f.lsb)
            words = bits if words is None else words | bits
        if words is None:
            raise ValueError("pack needs at least one field value")
        return words

    def unpack(self, words: ArrayLike) -> dict[str, NDArray[np.int64]]:
        """Raw (sign-extended) integer of every field."""
        w = np.asarray(words, np.uint64)
        out: dict[str, NDArray[np.int64]] = {}
        for f in self.fields:
            raw = ((w >> np.uint64(f.lsb)) & np.uint64((1 << f.width) - 1)).astype(np.int64)
            if f.signed:
                raw = np.where(raw > f.raw_max, raw - (1 << f.width), raw)
            out[f.name] = raw
        return out

    def quantize(
        self, values: dict[str, ArrayLike], *, overflow: str = "saturate"
    ) -> dict[str, NDArray[np.int64]]:
        """Raw integers of every field present in ``values``."""
        return {
            f.name: f.quantize(values[f.name], overflow=overflow)
            for f in self.fields
            if f.name in values
        }

    def to_physical(self, raw: dict[str, NDArray[np.int64]]) -> dict[str, NDArray[np.float64]]:
        """Physical values raw · scale."""
        return {name: np.asarray(raw[name] * self.field(name).scale, np.float64) for name in raw}


def pack_objects(
    batch: EventBatch,
    collection: str,
    layout: LinkLayout,
    *,
    n_links: int = 1,
    frames_per_event: int = 1,
    gap_frames: int = 0,
    links: list[int] | None = None,
    overflow: str = "saturate",
) -> PatternFile:
    """One packet of ``frames_per_event`` frames per event, objects spread over links.

    Layout field names must be object attributes (pt, eta, phi, quality). Leading
    objects fill ``n_links · frames_per_event`` slots (the rest are dropped); empty slots
    are zero words. Frames of a packet are valid, the first has start of packet (and
    start of orbit for the very first), the last end of packet; ``gap_frames`` invalid
    frames follow each packet.
    """
    from .patterns import PatternFile  # noqa: PLC0415 - patterns imports this module

    unknown = [f.name for f in layout.fields if f.name not in _OBJECT_FIELDS]
    if unknown:
        raise ValueError(f"layout fields {unknown} are not object attributes {_OBJECT_FIELDS}")
    coll = batch.objects[collection]
    n = len(batch)
    slots = n_links * frames_per_event
    rank = np.arange(int(coll.offsets[-1])) - np.repeat(coll.offsets[:-1], coll.counts())
    kept = rank < slots
    event = np.repeat(np.arange(n), coll.counts())[kept]
    rank = rank[kept]
    raw = layout.quantize({f: getattr(coll, f)[kept] for f in _OBJECT_FIELDS}, overflow=overflow)
    words = layout.pack(raw)
    period = frames_per_event + gap_frames
    link_ids = np.arange(n_links, dtype=np.int64) if links is None else np.asarray(links, np.int64)
    pf = PatternFile.empty(n * period, link_ids)
    frame = event * period + rank // n_links
    pf.data[frame, rank % n_links] = words
    in_packet = (np.arange(n * period) % period) < frames_per_event
    pf.valid[in_packet] = True
    pf.start_of_packet[0::period] = True
    pf.end_of_packet[frames_per_event - 1 :: period] = True
    if n:
        pf.start_of_orbit[0] = True
    return pf


def unpack_objects(
    pattern: PatternFile,
    layout: LinkLayout,
    *,
    frames_per_event: int = 1,
    gap_frames: int = 0,
) -> tuple[Objects, dict[str, NDArray[np.int64]]]:
    """Objects back from :func:`pack_objects` frames (non-zero words are objects).

    Returns the collection in physical units and the raw field values, flat in the
    collection's order.
    """
    period = frames_per_event + gap_frames
    if pattern.n_frames % period:
        raise StreamError(
            f"{pattern.n_frames} frames is not a whole number of {period}-frame packets"
        )
    n = pattern.n_frames // period
    n_links = pattern.n_links
    block = pattern.data.reshape(n, period, n_links)[:, :frames_per_event, :]
    flat = block.reshape(n, frames_per_event * n_links)  # slot j = frame j // L, link j % L
    present = flat != 0
    raw = layout.unpack(flat[present])
    phys = layout.to_physical(raw)
    counts = present.sum(axis=1)
    zeros = np.zeros(int(counts.sum()))
    objects = Objects.from_counts(
        counts,
        phys.get("pt", zeros),
        phys.get("eta", zeros),
        phys.get("phi", zeros),
        raw.get("quality", zeros.astype(np.int64)),
        sort=False,
    )
    return objects, raw
