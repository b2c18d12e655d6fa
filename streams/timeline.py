"""The LHC bunch-crossing clock: orbits, filling schemes and placing events on BX.

An orbit has :data:`BX_PER_ORBIT` bunch slots 25 ns apart; a :class:`FillingScheme`
says which slots hold colliding bunches. :func:`place` turns a stream of events into a
stream of BX records: every BX of every orbit is a record, colliding BX take the next
event, empty BX carry none.

The abort gap (:data:`ABORT_GAP`, the last 120 slots = 3 µs, kept free for the beam
dump kicker rise) may hold no colliding bunch.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._atomic import atomic_output
from ._batch import COLLECTIONS, EventBatch, Objects, as_id_dtype, concat_batches
from ._errors import StreamError

__all__ = [
    "ABORT_GAP",
    "BX_CLOCK_HZ",
    "BX_PER_ORBIT",
    "BX_SPACING_NS",
    "DEFAULT_N_COLLIDING",
    "REVOLUTION_HZ",
    "FillingScheme",
    "place",
]

#: bunch slots per LHC orbit
BX_PER_ORBIT = 3564
#: LHC revolution frequency [Hz]
REVOLUTION_HZ = 11245.6
#: bunch clock frequency [Hz] (BX_PER_ORBIT x REVOLUTION_HZ, rounded as quoted by the LHC)
BX_CLOCK_HZ = 40.079e6
#: spacing between bunch slots [ns]
BX_SPACING_NS = 25.0
#: the slots of the abort gap: the last 120 BX (3 µs) of the orbit
ABORT_GAP = range(BX_PER_ORBIT - 120, BX_PER_ORBIT)
#: colliding bunches of the default scheme (CMS Phase-2 rate normalisation)
DEFAULT_N_COLLIDING = 2760

#: BX per output chunk of :func:`place` by default: 28 orbits ≈ 10^5 BX
DEFAULT_CHUNK_BX = 28 * BX_PER_ORBIT


@dataclass(frozen=True)
class FillingScheme:
    """Which of the 3564 bunch slots collide. Build with the classmethods (validated)."""

    #: bool[3564], True where bunches collide
    colliding: NDArray[np.bool_] = field(repr=False)
    name: str = "custom"

    def __post_init__(self) -> None:
        if self.colliding.shape != (BX_PER_ORBIT,) or self.colliding.dtype != np.bool_:
            raise StreamError(
                f"filling scheme {self.name!r}: colliding must be bool[{BX_PER_ORBIT}], "
                f"got {self.colliding.dtype}{list(self.colliding.shape)}"
            )
        in_gap = np.flatnonzero(self.colliding[ABORT_GAP.start :])
        if in_gap.size:
            raise StreamError(
                f"filling scheme {self.name!r}: colliding bunch at BX "
                f"{ABORT_GAP.start + in_gap[0]} "
                f"inside the abort gap (BX {ABORT_GAP.start}-{ABORT_GAP.stop - 1})"
            )
        self.colliding.setflags(write=False)

    @property
    def n_colliding(self) -> int:
        """Number of colliding bunch pairs."""
        return int(np.count_nonzero(self.colliding))

    @property
    def colliding_bx(self) -> NDArray[np.int64]:
        """Slots with colliding bunches, ascending."""
        return np.flatnonzero(self.colliding).astype(np.int64)

    @property
    def collision_rate_hz(self) -> float:
        """Bunch-crossing rate with collisions: REVOLUTION_HZ x n_colliding."""
        return REVOLUTION_HZ * self.n_colliding

    @classmethod
    def from_bx_list(cls, bxs: Iterable[int], *, name: str = "custom") -> FillingScheme:
        """Scheme with collisions exactly at ``bxs`` (0..3563, no duplicates)."""
        values = np.asarray(list(bxs), np.int64)
        bad = np.flatnonzero((values < 0) | (values >= BX_PER_ORBIT))
        if bad.size:
            raise StreamError(
                f"filling scheme {name!r}: BX {values[bad[0]]} (entry {bad[0]}) "
                f"outside 0..{BX_PER_ORBIT - 1}"
            )
        uniq, counts = np.unique(values, return_counts=True)
        if (counts > 1).any():
            raise StreamError(f"filling scheme {name!r}: BX {uniq[counts > 1][0]} listed twice")
        colliding = np.zeros(BX_PER_ORBIT, np.bool_)
        colliding[values] = True
        return cls(colliding, name)

    @classmethod
    def from_trains(
        cls, trains: Sequence[tuple[int, int]], *, first_bx: int = 0, name: str = "trains"
    ) -> FillingScheme:
        """Consecutive trains: each ``(bunches, empty_after)`` with 25 ns spacing.

        Example: ``[(72, 8), (72, 38)]`` is two 72-bunch trains separated by 8 empty
        slots, followed by 38 empty slots.
        """
        bxs: list[int] = []
        if not 0 <= first_bx < BX_PER_ORBIT:
            raise StreamError(
                f"filling scheme {name!r}: first_bx {first_bx} outside 0..{BX_PER_ORBIT - 1}"
            )
        bx = first_bx
        for index, (bunches, gap) in enumerate(trains):
            if bunches < 0 or gap < 0:
                raise StreamError(
                    f"filling scheme {name!r}: negative train entry ({bunches}, {gap})"
                )
            if bx + bunches > BX_PER_ORBIT:  # checked before any list is built: no huge trains
                raise StreamError(
                    f"filling scheme {name!r}: train {index} ({bunches} bunches from BX {bx}) "
                    f"runs past the orbit's {BX_PER_ORBIT} slots"
                )
            bxs.extend(range(bx, bx + bunches))
            bx = min(bx + bunches + gap, BX_PER_ORBIT)
        return cls.from_bx_list(bxs, name=name)

    @classmethod
    def default(cls) -> FillingScheme:
        """Realistic 25 ns scheme, 2760 colliding bunches, abort gap at the orbit's end.

        Injections of three 72-bunch trains (8 empty slots between trains, 37 between
        injections — the injection kicker rise time), one injection of two trains and a
        final 24-bunch train: 12·216 + 144 + 24 = 2760 bunches, ending before the
        120-slot abort gap.
        """
        trains: list[tuple[int, int]] = []
        for _ in range(12):
            trains += [(72, 8), (72, 8), (72, 37)]
        trains += [(72, 8), (72, 37), (24, 0)]
        return cls.from_trains(trains, first_bx=0, name=f"25ns_{DEFAULT_N_COLLIDING}b")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> FillingScheme:
        """Read a scheme from JSON or text.

        JSON: ``{"name": ..., "colliding_bx": [...]}`` or ``{"trains": [[72, 8], ...],
        "first_bx": 0}``. Text: colliding BX numbers separated by spaces, commas or
        newlines; ``#`` starts a comment. Errors name the file (and line for text).
        """
        p = Path(path)
        if not p.is_file():
            raise StreamError(f"{p}: no such filling-scheme file")
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise StreamError(
                f"{p}: not UTF-8 text (byte {exc.start}); a filling scheme is JSON or a "
                "list of BX numbers"
            ) from None
        except OSError as exc:
            raise StreamError(f"{p}: cannot read ({exc.strerror or exc})") from None
        name = p.stem
        if text.lstrip().startswith("{"):
            try:
                doc = json.loads(text)
            except json.JSONDecodeError as exc:
                raise StreamError(f"{p}: line {exc.lineno}: invalid JSON ({exc.msg})") from exc
            except RecursionError:
                raise StreamError(f"{p}: invalid JSON (nested too deeply)") from None
            try:
                name = str(doc.get("name", name))
                if "colliding_bx" in doc:
                    values = _json_list(doc["colliding_bx"], "colliding_bx")
                    listed = [
                        _json_int(b, f"colliding_bx[{i}]", BX_PER_ORBIT - 1)
                        for i, b in enumerate(values)
                    ]
                    return cls.from_bx_list(listed, name=name)
                if "trains" in doc:
                    trains = []
                    for i, train in enumerate(_json_list(doc["trains"], "trains")):
                        pair = _json_list(train, f"trains[{i}]")
                        if len(pair) != 2:
                            raise StreamError(
                                f"field 'trains[{i}]' is {json.dumps(pair)[:40]}, expected "
                                "[bunches, empty slots after]"
                            )
                        trains.append(
                            (
                                _json_int(pair[0], f"trains[{i}][0]", BX_PER_ORBIT),
                                _json_int(pair[1], f"trains[{i}][1]", BX_PER_ORBIT),
                            )
                        )
                    first = _json_int(doc.get("first_bx", 0), "first_bx", BX_PER_ORBIT - 1)
                    return cls.from_trains(trains, first_bx=first, name=name)
            except StreamError as exc:
                raise StreamError(f"{p}: {exc}") from exc
            except (AttributeError, TypeError, ValueError) as exc:
                raise StreamError(f"{p}: malformed filling scheme ({exc})") from exc
            raise StreamError(f"{p}: JSON needs a 'colliding_bx' or 'trains' key")
        bxs: list[int] = []
        for lineno, line in enumerate(text.splitlines(), 1):
            for token in re.split(r"[\s,;]+", line.split("#", 1)[0].strip()):
                if not token:
                    continue
                if not token.isdigit():
                    raise StreamError(f"{p}: line {lineno}: {token!r} is not a BX number")
                if int(token) >= BX_PER_ORBIT:
                    raise StreamError(f"{p}: line {lineno}: BX {token} >= {BX_PER_ORBIT}")
                bxs.append(int(token))
        try:
            return cls.from_bx_list(bxs, name=name)
        except StreamError as exc:
            raise StreamError(f"{p}: {exc}") from exc

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write as JSON (``colliding_bx``), through a temporary file and a rename."""
        with atomic_output(path) as tmp:
            tmp.write_text(
                json.dumps({"name": self.name, "colliding_bx": self.colliding_bx.tolist()})
            )


def _json_list(value: object, field: str) -> list[object]:
    if not isinstance(value, list):
        raise StreamError(f"field {field!r} is {json.dumps(value)[:40]}, expected a list")
    return value


def _json_int(value: object, field: str, largest: int) -> int:
    """A JSON number that is a whole number in 0..``largest`` (a StreamError naming ``field``)."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    if number is None or not 0 <= number <= largest:
        raise StreamError(
            f"field {field!r} is {json.dumps(value)[:40]}, expected a whole number in 0..{largest}"
        )
    return number


class _EventBuffer:
    """Pulls unplaced events from an iterator on demand and hands out exact counts."""

    def __init__(self, events: Iterable[EventBatch], origin: str | None = None) -> None:
        self._it = iter(events)
        self._pending: list[EventBatch] = []
        self._held = 0
        self.exhausted = False
        self.origin = origin
        #: dtype of the stream's event ids, fixed by its first event (int64 until then),
        #: so that every placed chunk carries ids of one type
        self.id_dtype: np.dtype[Any] | None = None

    def fill(self, wanted: int) -> int:
        """Buffer at least ``wanted`` events if the source has them; return how many are held."""
        while self._held < wanted and not self.exhausted:
            try:
                batch = next(self._it)
            except StopIteration:
                self.exhausted = True
                break
            if len(batch):
                if (batch.orbit >= 0).any():
                    where = f"{self.origin}: " if self.origin else "place(): "
                    raise StreamError(
                        f"{where}the records are already placed on the bunch clock "
                        "(orbit/bx columns >= 0); give events without a placement "
                        "(orbit = bx = -1, or no orbit/bx/colliding columns): events are "
                        "placed on the filling scheme at replay"
                    )
                if self.id_dtype is None:
                    self.id_dtype = batch.event_id.dtype
                elif batch.event_id.dtype != self.id_dtype:
                    batch = replace(
                        batch,
                        event_id=as_id_dtype(
                            batch.event_id, self.id_dtype, self.origin or "place()"
                        ),
                    )
                self._pending.append(batch)
                self._held += len(batch)
        return self._held

    def take(self, n: int) -> EventBatch:
        """The next ``n`` buffered events (``n`` <= held, > 0)."""
        merged = concat_batches(self._pending)
        rest = merged.slice(n, len(merged))
        self._pending = [rest] if len(rest) else []
        self._held -= n
        return merged.slice(0, n)


def _lay_out(
    g0: int,
    length: int,
    first_orbit: int,
    colliding: NDArray[np.bool_],
    events: EventBatch | None,
    id_dtype: np.dtype[Any] | None,
) -> EventBatch:
    """BX records ``g0 … g0+length-1``; the first colliding BX take ``events`` in order.

    BX without an event get ``has_event`` False and the id -1 (2**64 - 1, the same
    64 bits, for unsigned ids).
    """
    g = np.arange(g0, g0 + length, dtype=np.int64)
    bx = (g % BX_PER_ORBIT).astype(np.int32)
    slots = np.flatnonzero(colliding)
    m = 0 if events is None else len(events)
    hosts = slots[:m]
    dtype = np.dtype(np.int64) if id_dtype is None else id_dtype
    # no event: -1, or 2**64 - 1 for unsigned ids (the same 64 bits)
    event_id = np.full(length, np.iinfo(dtype).max if dtype == np.uint64 else -1, dtype)
    has_event = np.zeros(length, np.bool_)
    true_int = np.where(colliding, np.float32(np.nan), np.float32(0)).astype(np.float32)
    n_vtx = np.where(colliding, -1, 0).astype(np.int32)
    met_pt = np.zeros(length, np.float32)
    met_phi = np.zeros(length, np.float32)
    objects: dict[str, Objects] = {}
    if events is not None:
        event_id[hosts] = events.event_id
        has_event[hosts] = events.has_event
        true_int[hosts] = events.true_interactions
        n_vtx[hosts] = events.n_vertices
        met_pt[hosts] = events.met_pt
        met_phi[hosts] = events.met_phi
        for name, coll in events.objects.items():
            counts = np.zeros(length, np.int64)
            counts[hosts] = coll.counts()
            offsets = np.zeros(length + 1, np.int64)
            np.cumsum(counts, out=offsets[1:])
            objects[name] = Objects(
                offsets, coll.pt, coll.eta, coll.phi, coll.quality, coll.charge, coll.isolation
            )
    else:
        objects = {name: Objects.empty(length) for name in COLLECTIONS}
    return EventBatch(
        orbit=first_orbit + g // BX_PER_ORBIT,
        bx=bx,
        colliding=colliding.copy(),
        event_id=event_id,
        true_interactions=true_int,
        n_vertices=n_vtx,
        met_pt=met_pt,
        met_phi=met_phi,
        objects=objects,
        has_event=has_event,
    )


def place(
    events: Iterable[EventBatch],
    scheme: FillingScheme | None = None,
    *,
    first_orbit: int = 0,
    max_bx: int | None = None,
    chunk_bx: int = DEFAULT_CHUNK_BX,
    end: str = "orbit",
    origin: str | None = None,
) -> Iterator[EventBatch]:
    """Lay events on the bunch clock: yield BX records in chunks of ``chunk_bx``.

    Records start at BX 0 of ``first_orbit`` and cover every slot. Colliding slots
    (per ``scheme``, default :meth:`FillingScheme.default`) take the next event in order;
    empty slots carry no event (``has_event`` False, event_id -1 (2**64 - 1 if unsigned),
    no objects, MET 0, 0 interactions and 0 vertices). Every event that goes in comes
    out exactly once, in order, with its id unchanged whatever its sign, unless
    ``max_bx`` stops the stream first. ``origin`` (a file name) prefixes errors.

    The stream stops after ``max_bx`` records, or when the events run out:
    ``end="orbit"`` (default) completes the orbit holding the last event (its later
    colliding slots carry no event: ``has_event`` False, true_interactions NaN, so
    orbits stay whole for timing studies; select ``has_event`` to count only filled
    BX); ``end="event"`` stops right after the BX that took the last event.
    """
    if end not in {"orbit", "event"}:
        raise ValueError(f"end must be 'orbit' or 'event', got {end!r}")
    if chunk_bx < 1:
        raise ValueError(f"chunk_bx must be >= 1, got {chunk_bx}")
    scheme = scheme or FillingScheme.default()
    if scheme.n_colliding == 0:
        raise StreamError(f"filling scheme {scheme.name!r} has no colliding bunches")
    buffer = _EventBuffer(events, origin)
    buffer.fill(1)  # the first event fixes the ids' dtype before any chunk is laid out
    stop = max_bx
    last_event_g: int | None = None
    g0 = 0
    while stop is None or g0 < stop:
        length = chunk_bx if stop is None else min(chunk_bx, stop - g0)
        colliding = scheme.colliding[(np.arange(g0, g0 + length) % BX_PER_ORBIT)]
        wanted = int(np.count_nonzero(colliding))
        m = min(wanted, buffer.fill(wanted))
        if m:
            last_event_g = g0 + int(np.flatnonzero(colliding)[m - 1])
        if m < wanted:
            if last_event_g is None:
                return
            if end == "orbit":
                run_out = (last_event_g // BX_PER_ORBIT + 1) * BX_PER_ORBIT
            else:
                run_out = last_event_g + 1
            stop = run_out if stop is None else min(stop, run_out)
            length = min(length, stop - g0)
            if length <= 0:
                return
            colliding = colliding[:length]
        yield _lay_out(
            g0, length, first_orbit, colliding, buffer.take(m) if m else None, buffer.id_dtype
        )
        g0 += length
