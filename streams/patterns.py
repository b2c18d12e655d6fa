"""Firmware pattern files: the EMP v1, EMP v2 and APx text formats of CMSSW.

These are the formats written by CMSSW's ``L1Trigger/DemonstratorTools`` and read by
the EMP and APx test benches. A :class:`PatternFile` holds, for ``n_links`` links and
``n_frames`` clock frames, the 64-bit ``data`` words and the per-frame flags as
(n_frames, n_links) arrays.

Formats (``format=`` names):

* ``emp`` (EMP v1): ``Board NAME``, ``Quad/Chan`` and ``Link`` header lines, then
  ``Frame 0000 :   1v0123456789abcdef`` per frame, an optional ``1s`` strobe before
  each word. Carries valid and strobe only.
* ``empv2``: ``ID: NAME``, ``Metadata: (strobe,) start of orbit, start of packet, end of
  packet, valid``, a blank line and a ``Link`` line, then ``Frame 0000    1101 …``: four
  flag bits (five with a leading strobe bit) and the word, per link.
* ``apx``: ``#Sideband ON``, ``#LinkLabel  LINK_00 …``, ``#BeginData``, then
  ``0x0000    0x03 0x…`` with a sideband byte: bit 0 valid, bit 1 start of packet,
  bit 3 end of packet.

Flags a format does not carry read as False (strobe reads as True). Reading keeps the
header lines, and writing a file back in the format it was read from reuses them, so
read → write is byte-identical for files in the canonical frame layout. Link packing
(events ↔ 64-bit words) lives in :mod:`streams.patterns` too: :class:`LinkField`,
:class:`LinkLayout`, :func:`pack_objects`, :func:`unpack_objects`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ._atomic import atomic_output
from ._errors import StreamError
from ._linkpack import LinkField, LinkLayout, pack_objects, unpack_objects

__all__ = [
    "FORMATS",
    "LinkField",
    "LinkLayout",
    "PatternFile",
    "detect_format",
    "pack_objects",
    "read",
    "unpack_objects",
    "write",
]

#: format names accepted by :func:`read` and :func:`write`
FORMATS: tuple[str, ...] = ("emp", "empv2", "apx")
FLAGS: tuple[str, ...] = ("valid", "start_of_orbit", "start_of_packet", "end_of_packet", "strobe")
_METADATA = "Metadata: (strobe,) start of orbit, start of packet, end of packet, valid"
#: largest link number the formats print (three digits in EMP headers)
MAX_LINK = 999

_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", np.uint8)
_HEX_DIGITS_UPPER = np.frombuffer(b"0123456789ABCDEF", np.uint8)
_HEX_VALUE = np.full(256, 255, np.uint8)
_HEX_VALUE[np.frombuffer(b"0123456789abcdef", np.uint8)] = np.arange(16)
_HEX_VALUE[np.frombuffer(b"ABCDEF", np.uint8)] = np.arange(10, 16)


@dataclass(frozen=True, eq=False)
class PatternFile:
    """Frames of several links: ``data`` (uint64) and flags, each (n_frames, n_links)."""

    #: link numbers, one per column
    links: NDArray[np.int64]
    data: NDArray[np.uint64]
    valid: NDArray[np.bool_]
    start_of_orbit: NDArray[np.bool_]
    start_of_packet: NDArray[np.bool_]
    end_of_packet: NDArray[np.bool_]
    strobe: NDArray[np.bool_]
    #: board / ID name written in the header
    board: str = "CMSSW"
    #: format the file was read from (None when built in memory)
    source_format: str | None = None
    #: header lines as read, reused verbatim when writing the same format
    header: tuple[str, ...] | None = field(default=None, repr=False)
    #: write hex digits in upper case (kept from files written that way)
    uppercase_hex: bool = False

    def __post_init__(self) -> None:
        links = np.asarray(self.links)
        if links.size and (int(links.min()) < 0 or int(links.max()) > MAX_LINK):
            raise ValueError(f"PatternFile.links must be in 0..{MAX_LINK}, got {links.tolist()}")
        if np.unique(links).size != links.size:
            raise ValueError(f"PatternFile.links must be distinct, got {links.tolist()}")
        shape = (self.data.shape[0], self.links.shape[0])
        for name in ("data", *FLAGS):
            if getattr(self, name).shape != shape:
                raise ValueError(
                    f"PatternFile.{name} has shape {getattr(self, name).shape}, expected {shape}"
                )

    @classmethod
    def empty(
        cls, n_frames: int, links: list[int] | NDArray[np.int64], *, board: str = "CMSSW"
    ) -> PatternFile:
        """All-zero, invalid frames (strobe set) for the given links."""
        link_arr = np.asarray(links, np.int64)
        shape = (n_frames, link_arr.shape[0])
        zeros = np.zeros(shape, np.bool_)
        return cls(
            link_arr,
            np.zeros(shape, np.uint64),
            zeros.copy(),
            zeros.copy(),
            zeros.copy(),
            zeros.copy(),
            np.ones(shape, np.bool_),
            board=board,
        )

    @property
    def n_frames(self) -> int:
        """Number of clock frames."""
        return int(self.data.shape[0])

    @property
    def n_links(self) -> int:
        """Number of links."""
        return int(self.links.shape[0])

    def same_frames(self, other: PatternFile, flags: tuple[str, ...] = FLAGS) -> bool:
        """Whether links, data and the named flags are identical."""
        return (
            np.array_equal(self.links, other.links)
            and np.array_equal(self.data, other.data)
            and all(np.array_equal(getattr(self, f), getattr(other, f)) for f in flags)
        )

    def with_packet_flags_from_valid(self) -> PatternFile:
        """Start/end of packet inferred from runs of valid frames (for EMP v1 input)."""
        v = self.valid
        before = np.vstack([np.zeros((1, self.n_links), np.bool_), v[:-1]])
        after = np.vstack([v[1:], np.zeros((1, self.n_links), np.bool_)])
        return replace(self, start_of_packet=v & ~before, end_of_packet=v & ~after)


def detect_format(first_lines: list[str]) -> str | None:
    """Pattern format from a file's first non-empty lines (None when unrecognised)."""
    lines = [ln.strip() for ln in first_lines if ln.strip()]
    if not lines:
        return None
    if lines[0].startswith(("#Sideband", "#LinkLabel", "#BeginData")):
        return "apx"
    if lines[0].startswith("ID:") or (len(lines) > 1 and lines[1].startswith("Metadata:")):
        return "empv2"
    if lines[0].startswith("Board"):
        return "emp"
    return None


def read(path: str | os.PathLike[str], format: str | None = None) -> PatternFile:
    """Read a pattern file; the format is detected from its first lines unless forced."""
    p = Path(path)
    if not p.is_file():
        raise StreamError(f"{p}: no such pattern file")
    try:
        lines = p.read_text(encoding="ascii").splitlines()
    except UnicodeDecodeError as exc:
        raise StreamError(f"{p}: not a text pattern file (byte {exc.start} is not ASCII)") from exc
    fmt = format or detect_format(lines[:4])
    if fmt is None:
        raise StreamError(f"{p}: line 1: unknown pattern format {lines[0][:40] if lines else ''!r}")
    if fmt not in FORMATS:
        raise StreamError(f"{p}: unknown pattern format {fmt!r}; known: {FORMATS}")
    reader = {"emp": _read_emp_v1, "empv2": _read_emp_v2, "apx": _read_apx}[fmt]
    return reader(p, lines)


def _hex_words(
    tokens: list[str], where: list[tuple[int, int]], p: Path, width: int = 16
) -> NDArray[np.uint64]:
    """Decode fixed-width hex tokens to uint64, naming the line of the first bad one."""
    lengths = np.fromiter(map(len, tokens), np.int64, len(tokens))
    if (lengths != width).any():
        i = int(np.flatnonzero(lengths != width)[0])
        raise StreamError(
            f"{p}: line {where[i][0]}: link column {where[i][1]}: "
            f"word {tokens[i]!r} is not {width} hex digits"
        )
    chars = np.frombuffer("".join(tokens).encode("ascii"), np.uint8).reshape(-1, width)
    nibbles = _HEX_VALUE[chars]
    if (nibbles == 255).any():
        i = int(np.flatnonzero((nibbles == 255).any(axis=1))[0])
        raise StreamError(
            f"{p}: line {where[i][0]}: link column {where[i][1]}: {tokens[i]!r} is not hexadecimal"
        )
    words = np.zeros(chars.shape[0], np.uint64)
    for k in range(width):
        words = (words << np.uint64(4)) | nibbles[:, k].astype(np.uint64)
    return words


def _has_upper(tokens: list[str]) -> bool:
    """Whether hex words were written with upper-case digits."""
    return any(c in token for token in tokens for c in "ABCDEF")


def _frame_rows(
    p: Path, lines: list[str], start: int, prefix: str, per_link: int, n_links: int
) -> tuple[list[str], list[tuple[int, int]], int]:
    """Split frame lines into tokens (``per_link`` per link) after checking the frame index."""
    tokens: list[str] = []
    where: list[tuple[int, int]] = []
    n = 0
    for lineno, line in enumerate(lines[start:], start + 1):
        if not line.strip():
            continue
        parts = line.split()
        head = 3 if prefix == "emp" else 2
        label_ok = parts[:1] == ["Frame"] and (prefix != "emp" or parts[2:3] == [":"])
        if not label_ok or len(parts) != head + per_link * n_links:
            raise StreamError(
                f"{p}: line {lineno}: malformed frame line (expected 'Frame NNNN' and "
                f"{n_links} link entries): {line[:60]!r}"
            )
        if not parts[1].isdigit() or int(parts[1]) != n:
            raise StreamError(f"{p}: line {lineno}: frame number {parts[1]!r}, expected {n}")
        tokens.extend(parts[head:])
        where.extend((lineno, k // per_link) for k in range(per_link * n_links))
        n += 1
    return tokens, where, n


def _read_emp_v1(p: Path, lines: list[str]) -> PatternFile:
    if len(lines) < 3 or not lines[0].startswith("Board") or "Link" not in lines[2]:
        raise StreamError(
            f"{p}: line 1-3: EMP v1 needs 'Board', 'Quad/Chan' and 'Link :' header lines"
        )
    links = _link_numbers(p, 3, lines[2].split(":", 1)[-1])
    tokens, where, n = _frame_rows(p, lines, 3, "emp", 1, len(links))
    strobe = np.ones(len(tokens), np.bool_)
    valid = np.zeros(len(tokens), np.bool_)
    words: list[str] = []
    for i, tok in enumerate(tokens):
        body = tok
        if len(tok) == 20 and tok[1] == "s":
            if tok[0] not in "01":
                raise StreamError(f"{p}: line {where[i][0]}: bad strobe in {tok!r}")
            strobe[i] = tok[0] == "1"
            body = tok[2:]
        if len(body) != 18 or body[1] != "v" or body[0] not in "01":
            raise StreamError(
                f"{p}: line {where[i][0]}: link column {where[i][1]}: "
                f"expected '1v<16 hex>', got {tok!r}"
            )
        valid[i] = body[0] == "1"
        words.append(body[2:])
    shape = (n, len(links))
    data = _hex_words(words, where, p).reshape(shape)
    none = np.zeros(shape, np.bool_)
    return PatternFile(
        np.asarray(links, np.int64),
        data,
        valid.reshape(shape),
        none,
        none.copy(),
        none.copy(),
        strobe.reshape(shape),
        board=lines[0][len("Board") :].strip(),
        source_format="emp",
        header=tuple(lines[:3]),
        uppercase_hex=_has_upper(words),
    )


def _link_numbers(p: Path, lineno: int, text: str) -> list[int]:
    tokens = text.split()
    if not tokens or not all(t.isascii() and t.isdigit() for t in tokens):
        raise StreamError(
            f"{p}: line {lineno}: link header must list link numbers, got {text.strip()[:60]!r}"
        )
    return _checked_links(p, lineno, [int(t) for t in tokens])


def _checked_links(p: Path, lineno: int, links: list[int]) -> list[int]:
    """Link numbers of a header: each in 0..MAX_LINK and listed once."""
    seen: set[int] = set()
    for link in links:
        if link > MAX_LINK:
            raise StreamError(f"{p}: line {lineno}: link {link} is above {MAX_LINK}")
        if link in seen:
            raise StreamError(f"{p}: line {lineno}: link {link} is listed twice")
        seen.add(link)
    return links


def _read_emp_v2(p: Path, lines: list[str]) -> PatternFile:
    link_line = next((i for i, ln in enumerate(lines[:6]) if ln.strip().startswith("Link")), None)
    if link_line is None or not lines[0].startswith(("ID:", "Board")):
        raise StreamError(f"{p}: line 1-4: EMP v2 needs 'ID:', 'Metadata:' and 'Link' header lines")
    metadata = next(
        (i for i, ln in enumerate(lines[:link_line]) if ln.startswith("Metadata")), None
    )
    if metadata is not None and " ".join(lines[metadata].split()) != _METADATA:
        raise StreamError(
            f"{p}: line {metadata + 1}: unknown EMP v2 metadata {lines[metadata][:80]!r}; "
            f"expected {_METADATA!r}"
        )
    links = _link_numbers(p, link_line + 1, lines[link_line].strip()[len("Link") :])
    tokens, where, n = _frame_rows(p, lines, link_line + 1, "empv2", 2, len(links))
    flag_tokens = tokens[0::2]
    flag_where = where[0::2]
    shape = (n, len(links))
    width = len(flag_tokens[0]) if flag_tokens else 4
    if width not in (4, 5):
        raise StreamError(
            f"{p}: line {flag_where[0][0]}: flag field {flag_tokens[0]!r} must have 4 or 5 bits"
        )
    lengths = np.fromiter(map(len, flag_tokens), np.int64, len(flag_tokens))
    bits = (
        np.frombuffer("".join(flag_tokens).encode("ascii"), np.uint8)
        if flag_tokens
        else np.zeros(0, np.uint8)
    )
    if (lengths != width).any() or ((bits != ord("0")) & (bits != ord("1"))).any():
        bad_len = np.flatnonzero(lengths != width)
        i = (
            int(bad_len[0])
            if bad_len.size
            else int(
                np.flatnonzero(
                    ((bits != ord("0")) & (bits != ord("1"))).reshape(-1, width).any(axis=1)
                )[0]
            )
        )
        raise StreamError(
            f"{p}: line {flag_where[i][0]}: link column {flag_where[i][1]}: "
            f"bad flag field {flag_tokens[i]!r}"
        )
    flags = (bits == ord("1")).reshape(shape[0], shape[1], width)
    strobe = flags[:, :, 0] if width == 5 else np.ones(shape, np.bool_)
    soo, sop, eop, valid = (flags[:, :, width - 4 + k] for k in range(4))
    data = _hex_words(tokens[1::2], where[1::2], p).reshape(shape)
    board = (
        lines[0].split(":", 1)[1].strip()
        if lines[0].startswith("ID:")
        else lines[0][len("Board") :].strip()
    )
    return PatternFile(
        np.asarray(links, np.int64),
        data,
        np.ascontiguousarray(valid),
        np.ascontiguousarray(soo),
        np.ascontiguousarray(sop),
        np.ascontiguousarray(eop),
        np.ascontiguousarray(strobe),
        board=board,
        source_format="empv2",
        header=tuple(lines[: link_line + 1]),
        uppercase_hex=_has_upper(tokens[1::2]),
    )


def _read_apx(p: Path, lines: list[str]) -> PatternFile:
    try:
        begin = next(i for i, ln in enumerate(lines) if ln.strip() == "#BeginData")
    except StopIteration:
        raise StreamError(f"{p}: APx file has no '#BeginData' line") from None
    sideband = any(ln.strip() == "#Sideband ON" for ln in lines[:begin])
    label = next((ln for ln in lines[:begin] if ln.startswith("#LinkLabel")), None)
    if label is None:
        raise StreamError(f"{p}: APx file has no '#LinkLabel' line")
    links: list[int] = []
    for tok in label.split()[1:]:
        if not tok.startswith("LINK_") or not (tok[5:].isascii() and tok[5:].isdigit()):
            raise StreamError(f"{p}: '#LinkLabel' entry {tok!r} is not LINK_<number>")
        links.append(int(tok[5:]))
    _checked_links(p, lines.index(label) + 1, links)
    per_link = 2 if sideband else 1
    tokens: list[str] = []
    where: list[tuple[int, int]] = []
    n = 0
    for lineno, line in enumerate(lines[begin + 1 :], begin + 2):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 1 + per_link * len(links) or not all(t.startswith("0x") for t in parts):
            raise StreamError(f"{p}: line {lineno}: malformed APx data line {line[:60]!r}")
        try:
            frame = int(parts[0], 16)
        except ValueError:
            frame = -1
        if frame != n:
            raise StreamError(f"{p}: line {lineno}: frame number {parts[0]!r}, expected {n:#06x}")
        tokens.extend(t[2:] for t in parts[1:])
        where.extend((lineno, k // per_link) for k in range(per_link * len(links)))
        n += 1
    shape = (n, len(links))
    data = _hex_words(tokens[per_link - 1 :: per_link], where[per_link - 1 :: per_link], p).reshape(
        shape
    )
    if sideband:
        side = _hex_words(tokens[0::2], where[0::2], p, width=2).reshape(shape)
        unknown = side & ~np.uint64(0b1011)
        if unknown.any():
            f, k = (int(v) for v in np.argwhere(unknown)[0])
            raise StreamError(
                f"{p}: line {where[0::2][f * len(links) + k][0]}: sideband {int(side[f, k]):#04x} "
                "sets bits other than valid (0), start of packet (1), end of packet (3)"
            )
        valid = (side & np.uint64(1)) != 0
        sop = (side & np.uint64(2)) != 0
        eop = (side & np.uint64(8)) != 0
    else:
        valid = np.ones(shape, np.bool_)
        sop = np.zeros(shape, np.bool_)
        eop = np.zeros(shape, np.bool_)
    return PatternFile(
        np.asarray(links, np.int64),
        data,
        valid,
        np.zeros(shape, np.bool_),
        sop,
        eop,
        np.ones(shape, np.bool_),
        board="APx",
        source_format="apx",
        header=tuple(lines[: begin + 1]),
        uppercase_hex=_has_upper(tokens),
    )


def _hex_text(words: NDArray[np.uint64], digits: int, *, upper: bool = False) -> NDArray[np.uint8]:
    """ASCII hex of each word, (…, digits) uint8."""
    shifts = np.arange(digits - 1, -1, -1, dtype=np.uint64) * np.uint64(4)
    nibbles = (words[..., None] >> shifts) & np.uint64(0xF)
    table = _HEX_DIGITS_UPPER if upper else _HEX_DIGITS
    result: NDArray[np.uint8] = table[nibbles.astype(np.intp)]
    return result


def _bit_text(*flags: NDArray[np.bool_]) -> NDArray[np.uint8]:
    return (np.stack(flags, axis=-1).astype(np.uint8) + np.uint8(ord("0"))).astype(np.uint8)


def _render(prefixes: list[str], entries: NDArray[np.uint8]) -> str:
    """Join per-frame prefixes with the (n_frames, width) ASCII entry block."""
    body = [
        prefix + row.tobytes().decode("ascii")
        for prefix, row in zip(prefixes, entries, strict=True)
    ]
    return "\n".join(body)


def _entries(parts: list[NDArray[np.uint8] | bytes], shape: tuple[int, int]) -> NDArray[np.uint8]:
    """Concatenate per-link pieces (arrays (F, L, w) or constant bytes) into (F, L·W) text."""
    blocks = []
    for part in parts:
        if isinstance(part, bytes):
            blocks.append(np.broadcast_to(np.frombuffer(part, np.uint8), (*shape, len(part))))
        else:
            blocks.append(part)
    return np.concatenate(blocks, axis=-1).reshape(shape[0], -1)


def _write_text(pf: PatternFile, fmt: str) -> str:
    shape = (pf.n_frames, pf.n_links)
    reuse = pf.header is not None and pf.source_format == fmt
    with_strobe = not bool(pf.strobe.all())
    hexes = _hex_text(pf.data, 16, upper=pf.uppercase_hex)
    if fmt == "emp":
        header = (
            list(pf.header)
            if reuse and pf.header
            else [
                f"Board {pf.board}",
                " Quad/Chan :"
                + "".join(f"         q{k // 4:02d}c{k % 4}       " for k in pf.links),
                "      Link :" + "".join(f"          {k:03d}        " for k in pf.links),
            ]
        )
        strobe_part: NDArray[np.uint8] | bytes = (
            np.concatenate(
                [_bit_text(pf.strobe), np.full((*shape, 1), ord("s"), np.uint8)], axis=-1
            )
            if with_strobe
            else b"  "
        )
        entries = _entries([b" ", strobe_part, _bit_text(pf.valid), b"v", hexes], shape)
        prefixes = [f"Frame {i:04d} :" for i in range(pf.n_frames)]
    elif fmt == "empv2":
        width = 5 if with_strobe else 4
        header = (
            list(pf.header)
            if reuse and pf.header
            else [
                f"ID: {pf.board}",
                _METADATA,
                "",
                "      Link  " + "".join(f"{' ' * (width + 8)}{k:03d}        " for k in pf.links),
            ]
        )
        flag_arrays = [pf.start_of_orbit, pf.start_of_packet, pf.end_of_packet, pf.valid]
        if with_strobe:
            flag_arrays.insert(0, pf.strobe)
        entries = _entries([b"  ", _bit_text(*flag_arrays), b" ", hexes], shape)
        prefixes = [f"Frame {i:04d}  " for i in range(pf.n_frames)]
    else:
        lossy = [f for f in ("start_of_orbit",) if getattr(pf, f).any()] + (
            ["strobe"] if with_strobe else []
        )
        if lossy:
            raise StreamError(f"APx cannot carry {', '.join(lossy)}: write EMP v2 to keep them")
        header = (
            list(pf.header)
            if reuse and pf.header
            else [
                "#Sideband ON",
                "#LinkLabel" + "".join(f"                LINK_{k:02d}" for k in pf.links),
                "#BeginData",
            ]
        )
        side = pf.valid.astype(np.uint64) | (pf.start_of_packet.astype(np.uint64) << np.uint64(1))
        side |= pf.end_of_packet.astype(np.uint64) << np.uint64(3)
        entries = _entries(
            [b"    0x", _hex_text(side, 2, upper=pf.uppercase_hex), b" 0x", hexes], shape
        )
        prefixes = [f"0x{i:04x}" for i in range(pf.n_frames)]
    return "\n".join([*header, _render(prefixes, entries)]) + "\n"


def write(
    pattern_file: PatternFile,
    path: str | os.PathLike[str],
    format: str = "emp",
    *,
    allow_loss: bool = False,
) -> None:
    """Write ``pattern_file`` as ``emp`` (v1), ``empv2`` or ``apx`` through a temp file + rename.

    EMP v1 cannot carry packet/orbit flags and APx neither orbit flags nor strobe:
    writing flags a format would drop raises :class:`StreamError` rather than losing
    them silently, unless ``allow_loss=True``.
    """
    if format not in FORMATS:
        raise StreamError(f"{path}: unknown pattern format {format!r}; known: {FORMATS}")
    if allow_loss:
        none = np.zeros_like(pattern_file.valid)
        if format == "emp":
            pattern_file = replace(
                pattern_file, start_of_orbit=none, start_of_packet=none, end_of_packet=none
            )
        elif format == "apx":
            pattern_file = replace(
                pattern_file, start_of_orbit=none, strobe=np.ones_like(pattern_file.valid)
            )
    if format == "emp":
        lost = [
            f
            for f in ("start_of_orbit", "start_of_packet", "end_of_packet")
            if getattr(pattern_file, f).any()
        ]
        if lost:
            raise StreamError(
                f"{path}: EMP v1 cannot carry {', '.join(lost)}: write 'empv2' to keep them"
            )
    try:
        text = _write_text(pattern_file, format)
    except StreamError as exc:
        raise StreamError(f"{path}: {exc}") from exc
    with atomic_output(path) as tmp:
        tmp.write_text(text, encoding="ascii")
