"""Emulator inputs → per-BX port words of the top module, and the outputs it must give.

One pass over a BX stream produces both sides of a co-simulation:

* the **stimulus**: per clock cycle the packed word of every ``in_*`` port, laid out
  field by field as the manifest says (``pt[3]`` of ``in_jet`` at its ``lsb``), from
  the emulator's own hardware integers (:func:`emulator.seeds.hardware_slots`: the
  quantization and the truncation to the firmware's object slots happen there and
  nowhere else; the charge and isolation fields a menu's expression seeds cut on
  as :mod:`firmware._trace_expr_fields` lays them out), plus the ``valid`` and
  ``colliding`` strobes;
* the **expected outputs** from :func:`emulator.run` on the same batches: per BX each
  seed's raw score and decision bit, the prescaled bits, final OR, dead flag and L1
  accept.

Cycle numbering follows the top module: BX labels count cycles since reset, so row 0
is the first cycle after reset. A stream placed on the bunch clock starts at the
beginning of its first orbit (leading BX without a record become invalid cycles) so
that ``out_bx`` equals the record's BX; a gap in the BX numbers becomes invalid
cycles too, exactly as the emulator's trigger rules see it. Records that are not
placed (``orbit == -1``) are consecutive BX from row 0.

Pattern files (:func:`stimulus_patterns`, :func:`expected_patterns`) carry the same
words through :mod:`streams.patterns`: one link per 64-bit word of each port.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

import emulator
from cosim._bench._files import PortTrace
from cosim._errors import CosimError
from emulator.fixed import FixedType
from emulator.plan import BxSlots, MenuPlan, network_input
from emulator.plan import Field as SlotField
from emulator.replay import DecisionBatch
from emulator.seeds import hardware_slots
from firmware._manifest import FieldEntry, Manifest, PortEntry
from firmware._trace_expr_fields import extra_fields, extra_values
from streams import EventBatch
from streams.patterns import PatternFile
from streams.timeline import BX_PER_ORBIT

__all__ = [
    "CONTROL_PORTS",
    "Expected",
    "Stimulus",
    "data_ports",
    "expected_outputs",
    "expected_patterns",
    "extract_field",
    "field_ints",
    "make_stimulus",
    "output_delay",
    "pack_fields",
    "stimulus_patterns",
    "traces_from_patterns",
]

#: Input ports the bench or the stimulus drives besides the ``in_*`` data words.
CONTROL_PORTS = ("clk", "rst", "valid", "colliding")
_FIELD_NAME = re.compile(r"(?P<name>[a-z_]+)\[(?P<slot>\d+)\]\Z")
_SLOT_FIELDS = {"pt": SlotField.PT, "eta": SlotField.ETA, "phi": SlotField.PHI}
_SLOT_FIELDS["quality"] = SlotField.QUALITY
#: the per-slot presence bit an object port may carry besides the four fields
_VALID_FIELD = "valid"
_BIT = FixedType(1, 1, signed=False)
#: name of the event MET word among the data ports
MET_PORT = "in_met"


def data_ports(manifest: Manifest) -> tuple[PortEntry, ...]:
    """The ``in_*`` data input ports of the top module, in manifest order."""
    return tuple(p for p in manifest.ports if p.direction == "input" and p.name.startswith("in_"))


def _n_words(width: int) -> int:
    return (width + 63) // 64


def pack_fields(
    port: PortEntry, values: dict[str, NDArray[np.int64]], n_rows: int
) -> NDArray[np.uint64]:
    """One port's words, shape (n_rows, ceil(width/64)), from raw field values.

    Every field of the port must be given; a value is stored as its two's-complement
    bit pattern of the field's width (a value that does not fit is an error naming
    the port and field, never a silent wrap).
    """
    words = np.zeros((n_rows, _n_words(port.width)), np.uint64)
    for f in port.fields:
        try:
            raw = np.asarray(values[f.name], np.int64)
        except KeyError:
            raise CosimError(f"port {port.name!r}: no value for field {f.name!r}") from None
        fixed = FixedType.parse(f.type)
        if raw.size and (int(raw.min()) < fixed.min_raw or int(raw.max()) > fixed.max_raw):
            bad = int(np.flatnonzero((raw < fixed.min_raw) | (raw > fixed.max_raw))[0])
            raise CosimError(
                f"port {port.name!r} field {f.name!r}: value {int(raw[bad])} at row {bad} "
                f"does not fit {f.type}"
            )
        _or_field(words, f, raw)
    return words


def _or_field(words: NDArray[np.uint64], f: FieldEntry, raw: NDArray[np.int64]) -> None:
    """OR one field's bit patterns into the (n, n_words) word array."""
    if f.width > 64:
        raise CosimError(f"field {f.name!r}: fields wider than 64 bits are not supported")
    mask = np.uint64((1 << f.width) - 1) if f.width < 64 else np.uint64(0xFFFF_FFFF_FFFF_FFFF)
    bits = raw.astype(np.uint64) & mask
    word, offset = divmod(f.lsb, 64)
    words[:, word] |= bits << np.uint64(offset)
    if offset + f.width > 64:
        words[:, word + 1] |= bits >> np.uint64(64 - offset)


def extract_field(words: NDArray[np.uint64], lsb: int, width: int) -> NDArray[np.uint64]:
    """Bits ``[lsb, lsb + width)`` of each row of (n, n_words) words, as uint64 (width <= 64)."""
    if width > 64:
        raise ValueError(f"a field of {width} bits does not fit one uint64")
    word, offset = divmod(lsb, 64)
    value = words[:, word] >> np.uint64(offset)
    if offset + width > 64 and word + 1 < words.shape[1]:
        value = value | (words[:, word + 1] << np.uint64(64 - offset))
    if width < 64:
        value = value & np.uint64((1 << width) - 1)
    return np.ascontiguousarray(value, np.uint64)


def field_ints(bits: NDArray[np.uint64], fixed: FixedType) -> NDArray[np.int64]:
    """Bit patterns of ``fixed``'s width → raw int64 values (sign-extended when signed)."""
    values = bits.astype(np.int64)
    if fixed.signed and fixed.width < 64:
        top = np.int64(1 << (fixed.width - 1))
        values = np.where(values >= top, values - 2 * top, values)
    return values


@dataclass
class Expected:
    """What the emulator says the top module outputs, one row per BX row (cycle)."""

    seed_names: tuple[str, ...]
    score_types: tuple[FixedType, ...]
    #: (n_rows, n_seeds) raw scores and bits; rows without a BX record hold zeros
    scores: NDArray[np.int64]
    fired: NDArray[np.bool_]
    prescaled: NDArray[np.bool_]
    final_or: NDArray[np.bool_]
    dead: NDArray[np.bool_]
    l1a: NDArray[np.bool_]


@dataclass
class Stimulus:
    """Per-cycle input words of the top module and the expected outputs of the same rows.

    Row t is the t-th cycle after reset. ``words`` maps every data port to its
    (n_rows, n_words) uint64 words; ``valid`` marks the rows that carry a BX record.
    """

    ports: tuple[PortEntry, ...]
    words: dict[str, NDArray[np.uint64]]
    valid: NDArray[np.bool_]
    colliding: NDArray[np.bool_]
    #: orbit and BX of each row as the emulator labels them, and the event id (-1: none)
    orbit: NDArray[np.int64]
    bx: NDArray[np.int64]
    event_id: NDArray[np.int64]
    #: whether the row holds an input event (``EventBatch.has_event``: any id sign is real)
    has_event: NDArray[np.bool_]
    expected: Expected
    #: per network seed: its raw input vectors on the valid rows (n_valid, n_inputs)
    network_inputs: dict[str, NDArray[np.int64]] = field(default_factory=dict)
    #: objects beyond the slots, per collection, over all BX (the truncation at work)
    dropped: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.valid.shape[0])

    def port_stimulus(self) -> dict[str, NDArray[np.uint64] | NDArray[np.int64]]:
        """Every input port the bench drives (data words and strobes), per row."""
        drive: dict[str, NDArray[np.uint64] | NDArray[np.int64]] = dict(self.words)
        drive["valid"] = self.valid.astype(np.int64)
        drive["colliding"] = self.colliding.astype(np.int64)
        return drive

    def input_hex(self, row: int) -> dict[str, str]:
        """Every input of one row for mismatch reports: strobes as 0/1, each data port
        as raw hex and, under ``"<port> values"``, its occupied slots decoded (raw
        integers, pT also in GeV-like units of its type)."""
        out = {"valid": str(int(self.valid[row])), "colliding": str(int(self.colliding[row]))}
        for port in self.ports:
            value = 0
            for k, w in enumerate(self.words[port.name][row]):
                value |= int(w) << (64 * k)
            out[port.name] = f"{value:0{(port.width + 3) // 4}x}"
            out[f"{port.name} values"] = _decode(port, value)
        return out


def _decode(port: PortEntry, value: int) -> str:
    """``#slot name=raw ...`` for every slot with a non-zero field (empty: ``empty``)."""
    slots: dict[str, list[str]] = {}
    for f in port.fields:
        match = _FIELD_NAME.match(f.name)
        name, slot = (match["name"], match["slot"]) if match else (f.name, "")
        fixed = FixedType.parse(f.type)
        raw = int(field_ints(np.array([value >> f.lsb & ((1 << f.width) - 1)], np.uint64),
                            fixed)[0])  # fmt: skip
        text = f"{name}={raw}"
        if fixed.frac:
            text += f" ({raw * 2.0**-fixed.frac:g})"
        slots.setdefault(slot, []).append(text)
    shown = [
        f"#{slot} " + " ".join(parts)
        for slot, parts in slots.items()
        if any(not p.split("=")[1].startswith("0") for p in parts)
    ]
    return "; ".join(shown) if shown else "empty"


def _collection_of(port: PortEntry, plan: MenuPlan) -> str | None:
    """The collection a data port carries (None: the MET word)."""
    if port.name == MET_PORT:
        return None
    for slot in plan.slots:
        if "in_" + re.sub(r"[^A-Za-z0-9_]", "_", slot.collection) == port.name:
            return slot.collection
    raise CosimError(
        f"input port {port.name!r}: no collection of menu {plan.menu.name!r} is called that "
        f"(collections: {', '.join(s.collection for s in plan.slots)})"
    )


def _extra_type(plan: MenuPlan, collection: str | None, name: str) -> FixedType | None:
    """Type of a charge / isolation field of the collection's slots (None: not carried)."""
    if collection is None:
        return None
    return dict(extra_fields(plan).get(collection, ())).get(name)


def _field_type(plan: MenuPlan, collection: str | None, name: str) -> FixedType:
    if name == _VALID_FIELD:
        return _BIT
    extra = _extra_type(plan, collection, name)
    if extra is not None:
        return extra
    if collection is None:
        return plan.met_type if name == "pt" else plan.phi_type
    return (plan.pt_type, plan.eta_type, plan.phi_type, plan.quality_type)[_SLOT_FIELDS[name]]


def check_layout(manifest: Manifest, plan: MenuPlan) -> None:
    """Every data port field exists in the plan with the same type (else CosimError).

    The firmware and the emulator must agree on what an input word means before any
    bit is compared: a different type or slot count is a set-up error, not a mismatch.
    """
    for port in data_ports(manifest):
        collection = _collection_of(port, plan)
        count = 1 if collection is None else plan.slot_count(collection)
        for f in port.fields:
            match = _FIELD_NAME.match(f.name)
            known = match is not None and (
                match["name"] in _SLOT_FIELDS
                or (match["name"] == _VALID_FIELD and collection is not None)
                or _extra_type(plan, collection, match["name"]) is not None
            )
            if match is None or not known:
                raise CosimError(f"input port {port.name!r}: unknown field {f.name!r}")
            slot = int(match["slot"])
            if slot >= count:
                raise CosimError(
                    f"input port {port.name!r} field {f.name!r}: the menu gives "
                    f"{collection or 'met'} only {count} slots"
                )
            want = _field_type(plan, collection, match["name"])
            if FixedType.parse(f.type) != want:
                raise CosimError(
                    f"input port {port.name!r} field {f.name!r} is {f.type}, the emulator "
                    f"computes with {want}: firmware and menu do not match"
                )


def _field_values(
    port: PortEntry, slots: BxSlots, collection: str | None
) -> dict[str, NDArray[np.int64]]:
    values = {}
    for f in port.fields:
        match = _FIELD_NAME.match(f.name)
        assert match is not None  # check_layout ran first
        slot = int(match["slot"])
        if match["name"] == _VALID_FIELD:
            assert collection is not None
            values[f.name] = slots.collections[collection].valid[:, slot].astype(np.int64)
            continue
        if match["name"] not in _SLOT_FIELDS:  # charge / isolation (check_layout knows them)
            assert collection is not None
            c = slots.collections[collection]
            values[f.name] = extra_values(c, match["name"], slot, FixedType.parse(f.type))
            continue
        which = _SLOT_FIELDS[match["name"]]
        if collection is None:
            values[f.name] = slots.raw("met", 0, which)
        else:
            values[f.name] = slots.collections[collection].field(which)[:, slot]
    return values


class _Tap:
    """Passes batches to the emulator and keeps the last one for the stimulus."""

    def __init__(self, stream: Iterable[EventBatch], max_bx: int | None) -> None:
        self._stream = stream
        self._left = max_bx
        self.last: EventBatch | None = None

    def __iter__(self) -> Iterator[EventBatch]:
        for whole in self._stream:
            batch = whole
            if self._left is not None:
                if self._left <= 0:
                    return
                if len(batch) > self._left:
                    batch = whole.slice(0, self._left)
                self._left -= len(batch)
            if len(batch) == 0:
                continue
            self.last = batch
            yield batch


def _global_bx(batch: EventBatch, next_unplaced: int) -> NDArray[np.int64]:
    orbit = np.asarray(batch.orbit, np.int64)
    if (orbit >= 0).all():
        return orbit * BX_PER_ORBIT + np.asarray(batch.bx, np.int64)
    if (orbit >= 0).any():
        raise CosimError("a chunk mixes records placed on a timeline with unplaced ones")
    return next_unplaced + np.arange(len(batch), dtype=np.int64)


@dataclass
class _Chunk:
    rows: NDArray[np.int64]
    words: dict[str, NDArray[np.uint64]]
    colliding: NDArray[np.bool_]
    event_id: NDArray[np.int64]
    has_event: NDArray[np.bool_]
    decisions: DecisionBatch
    network_inputs: dict[str, NDArray[np.int64]]
    dropped: dict[str, int]


def make_stimulus(
    stream: Iterable[EventBatch],
    plan: MenuPlan,
    manifest: Manifest,
    *,
    max_bx: int | None = None,
    network_seeds: Iterable[str] = (),
) -> Stimulus:
    """Run ``stream`` (at most ``max_bx`` records) through the emulator and pack its inputs.

    ``network_seeds`` names the network seeds whose raw input vectors are kept for
    the HLS C simulation. The decision port's fields must be the menu's seeds in
    menu order.
    """
    check_layout(manifest, plan)
    seeds = plan.seed_names
    decision = manifest.port("decision")
    if tuple(f.name for f in decision.fields) != seeds:
        raise CosimError(
            f"the firmware decides seeds {[f.name for f in decision.fields]}, menu "
            f"{plan.menu.name!r} has {list(seeds)}: firmware built from another menu"
        )
    ports = data_ports(manifest)
    collections = {p.name: _collection_of(p, plan) for p in ports}
    networks = {name: plan.seed(name).nn for name in network_seeds}
    tap = _Tap(stream, max_bx)
    chunks: list[_Chunk] = []
    first: int | None = None
    next_unplaced = 0
    for decisions in emulator.run(tap, plan):
        batch = tap.last
        assert batch is not None
        g = _global_bx(batch, next_unplaced)
        if (batch.orbit < 0).all():
            next_unplaced += len(batch)
        if first is None:
            # placed streams start at the beginning of their first orbit: out_bx == bx
            first = int(g[0]) - int(g[0]) % BX_PER_ORBIT if (batch.orbit >= 0).all() else 0
        rows = g - first
        if (chunks and rows[0] <= chunks[-1].rows[-1]) or np.any(np.diff(rows) <= 0):
            raise CosimError("the stream's BX numbers do not increase: cannot lay them on cycles")
        slots = hardware_slots(batch, plan)
        words = {p.name: pack_fields(p, _field_values(p, slots, collections[p.name]), len(batch))
                 for p in ports}  # fmt: skip
        inputs = {}
        for name, network in networks.items():
            if network is None:
                raise CosimError(f"seed {name!r} is not a network seed")
            inputs[name] = network_input(network, slots)
        chunks.append(
            _Chunk(rows, words, np.asarray(batch.colliding, np.bool_),
                   np.asarray(batch.event_id, np.int64), np.asarray(batch.has_event, np.bool_),
                   decisions, inputs, slots.dropped())
        )  # fmt: skip
    if not chunks:
        raise CosimError("the input stream holds no bunch crossings")
    return _assemble(chunks, ports, plan, first or 0)


def _assemble(
    chunks: list[_Chunk], ports: tuple[PortEntry, ...], plan: MenuPlan, first: int
) -> Stimulus:
    n = int(chunks[-1].rows[-1]) + 1
    n_seeds = len(plan.seeds)
    rows = np.concatenate([c.rows for c in chunks])
    valid = np.zeros(n, np.bool_)
    valid[rows] = True
    colliding = np.zeros(n, np.bool_)
    event_id = np.full(n, -1, np.int64)
    has_event = np.zeros(n, np.bool_)
    words = {p.name: np.zeros((n, _n_words(p.width)), np.uint64) for p in ports}
    scores = np.zeros((n, n_seeds), np.int64)
    fired, prescaled = (np.zeros((n, n_seeds), np.bool_) for _ in range(2))
    final_or, dead, l1a = (np.zeros(n, np.bool_) for _ in range(3))
    dropped: dict[str, int] = {}
    for c in chunks:
        colliding[c.rows] = c.colliding
        event_id[c.rows] = c.event_id
        has_event[c.rows] = c.has_event
        for name, w in c.words.items():
            words[name][c.rows] = w
        d = c.decisions
        scores[c.rows] = d.scores
        fired[c.rows] = d.fired
        prescaled[c.rows] = d.prescaled
        final_or[c.rows] = d.final_or
        dead[c.rows] = d.dead
        l1a[c.rows] = d.l1a
        for k, v in c.dropped.items():
            dropped[k] = dropped.get(k, 0) + v
    network_inputs = {
        name: np.concatenate([c.network_inputs[name] for c in chunks])
        for name in chunks[0].network_inputs
    }
    g = first + np.arange(n, dtype=np.int64)
    expected = Expected(
        seed_names=plan.seed_names,
        score_types=tuple(s.score_type for s in plan.seeds),
        scores=scores,
        fired=fired,
        prescaled=prescaled,
        final_or=final_or,
        dead=dead,
        l1a=l1a,
    )
    return Stimulus(
        ports=ports,
        words=words,
        valid=valid,
        colliding=colliding,
        orbit=g // BX_PER_ORBIT,
        bx=g % BX_PER_ORBIT,
        event_id=event_id,
        has_event=has_event,
        expected=expected,
        network_inputs=network_inputs,
        dropped=dropped,
    )


def output_delay(manifest: Manifest) -> int:
    """Rows from a BX's stimulus row to the row of its outputs in a recording: latency + 1.

    The stimulus of row t is sampled at clock edge t (the first edge after reset is
    edge 0) and its outputs are readable after edge ``t + latency``; the bench (and
    the pattern files) record each cycle's outputs just before its edge, so they are
    in row ``t + latency + 1``.
    """
    return manifest.latency_cycles + 1


def expected_outputs(stimulus: Stimulus, manifest: Manifest) -> dict[str, NDArray[np.uint64]]:
    """Every output port's expected words per recorded cycle: (len + delay, n_words) uint64.

    Row r holds what the top outputs just before clock edge r, so BX row t sits at
    row ``t + delay`` (:func:`output_delay`) and the rows before are 0.
    Values the emulator does not define (a score in a cycle without a BX record, the
    dead flag in a gap) are 0 here and are not compared.
    """
    n, latency = len(stimulus), output_delay(manifest)
    exp = stimulus.expected
    valid = stimulus.valid
    index = {s: i for i, s in enumerate(exp.seed_names)}
    out: dict[str, NDArray[np.uint64]] = {}
    for port in manifest.ports:
        if port.direction != "output":
            continue
        words = np.zeros((n + latency, _n_words(port.width)), np.uint64)
        body = words[latency:]
        scalar: NDArray[np.int64] | None = None
        if port.name == "out_valid":
            scalar = valid.astype(np.int64)
        elif port.name == "out_colliding":
            scalar = stimulus.colliding.astype(np.int64)
        elif port.name == "out_bx":
            scalar = stimulus.bx
        elif port.name == "out_orbit":
            scalar = stimulus.orbit - stimulus.orbit[0]
        elif port.name in ("final_or", "l1a", "dead"):
            scalar = (getattr(exp, port.name) & valid).astype(np.int64)
        if scalar is not None:
            _or_field(body, FieldEntry(port.name, 0, port.width, ""), scalar)
        for f in port.fields:
            i = index.get(f.name)
            if i is None:
                continue
            if port.name == "decision":
                _or_field(body, f, (exp.fired[:, i] & valid).astype(np.int64))
            elif port.name == "prescaled":
                _or_field(body, f, (exp.prescaled[:, i] & valid).astype(np.int64))
            elif port.name.startswith("score_"):
                _or_field(body, f, np.where(valid, exp.scores[:, i], 0))
        out[port.name] = words
    return out


# ------------------------------------------------------------------ pattern files


def _links(ports: Iterable[PortEntry]) -> list[tuple[str, int]]:
    """(port, word) of each link: one link per 64-bit word of each port, in port order."""
    return [(p.name, k) for p in ports for k in range(_n_words(p.width))]


def _pattern(
    columns: list[NDArray[np.uint64]], valid: NDArray[np.bool_], orbit_start: NDArray[np.bool_]
) -> PatternFile:
    n_links = len(columns)
    pf = PatternFile.empty(valid.shape[0], list(range(n_links)), board="l1sim-cosim")
    pf.data[:] = np.stack(columns, axis=1)
    flags = np.repeat(valid[:, None], n_links, axis=1)
    pf.valid[:] = flags
    pf.start_of_packet[:] = flags
    pf.end_of_packet[:] = flags
    pf.start_of_orbit[:] = flags & orbit_start[:, None]
    return pf


def stimulus_patterns(stimulus: Stimulus, manifest: Manifest) -> PatternFile:
    """The stimulus as frames: one link per 64-bit word of each ``in_*`` port, then a
    control link (bit 0 valid, bit 1 colliding); one frame per clock cycle, followed by
    ``latency + 1`` empty frames that flush the pipeline."""
    n, latency = len(stimulus), output_delay(manifest)
    columns = []
    for name, k in _links(stimulus.ports):
        column = np.zeros(n + latency, np.uint64)
        column[:n] = stimulus.words[name][:, k]
        columns.append(column)
    control = np.zeros(n + latency, np.uint64)
    control[:n] = stimulus.valid.astype(np.uint64) | (stimulus.colliding.astype(np.uint64) << 1)
    columns.append(control)
    valid = np.zeros(n + latency, np.bool_)
    valid[:n] = stimulus.valid
    starts = np.zeros(n + latency, np.bool_)
    starts[:n] = stimulus.bx == 0
    return _pattern(columns, valid, starts)


def _output_ports(manifest: Manifest) -> list[PortEntry]:
    return [p for p in manifest.ports if p.direction == "output"]


def expected_patterns(stimulus: Stimulus, manifest: Manifest) -> PatternFile:
    """The expected outputs as frames, one per clock cycle after reset (latency included):
    one link per 64-bit word of each output port, frames valid where ``out_valid`` is."""
    words = expected_outputs(stimulus, manifest)
    ports = _output_ports(manifest)
    columns = [words[name][:, k] for name, k in _links(ports)]
    valid = words["out_valid"][:, 0].astype(np.bool_)
    starts = valid & (words["out_bx"][:, 0] == 0)
    return _pattern(columns, valid, starts)


def traces_from_patterns(
    pf: PatternFile, manifest: Manifest, source: str, n_cycles: int
) -> dict[str, PortTrace]:
    """Output port traces from an output pattern file laid out as :func:`expected_patterns`.

    A file with other links or fewer than ``n_cycles`` frames is a set-up error naming it.
    """
    ports = _output_ports(manifest)
    links = _links(ports)
    if pf.n_links != len(links) or list(pf.links) != list(range(len(links))):
        raise CosimError(
            f"{source}: {pf.n_links} links {list(pf.links)[:8]}..., the outputs of top "
            f"{manifest.top_module!r} need links 0-{len(links) - 1} (one per 64-bit word of "
            f"{', '.join(p.name for p in ports)})"
        )
    if pf.n_frames < n_cycles:
        raise CosimError(
            f"{source}: {pf.n_frames} frames, the expected outputs have {n_cycles} "
            "(BX plus latency): capture every cycle from the first after reset"
        )
    traces = {}
    column = 0
    for port in ports:
        count = _n_words(port.width)
        words = np.ascontiguousarray(pf.data[:n_cycles, column : column + count], np.uint64)
        traces[port.name] = PortTrace(port.name, port.width, words, np.zeros(n_cycles, np.bool_))
        column += count
    return traces
