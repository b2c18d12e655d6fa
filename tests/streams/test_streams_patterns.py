"""Pattern files: the real CMSSW / l1tk files round-trip exactly; link packing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from streams import StreamError, patterns, synthetic
from streams.patterns import LinkField, LinkLayout, PatternFile

GTT = {
    "emp": ("cmssw_gtt", "example_vertex_emp.txt"),
    "empv2": ("cmssw_gtt", "example_vertex_empV2.txt"),
    "apx": ("cmssw_gtt", "example_vertex_apx.txt"),
}
REFERENCE_FILES = [
    (("cmssw_gtt", "example_vertex_emp.txt"), "emp", (172, 1)),
    (("cmssw_gtt", "example_vertex_empV2.txt"), "empv2", (172, 1)),
    (("cmssw_gtt", "example_vertex_apx.txt"), "apx", (172, 1)),
    (("l1tk_kf", "in.txt"), "empv2", (156, 4)),
    (("l1tk_kf", "out.txt"), "empv2", (162, 4)),
    (("l1tk_dr", "in.txt"), "empv2", (972, 96)),
    (("l1tk_dr", "out.txt"), "empv2", (972, 96)),
]
PACKET_FLAGS = ("valid", "start_of_packet", "end_of_packet")


def _ref(reference_file: Callable[..., Path], parts: tuple[str, str]) -> Path:
    return reference_file("patterns", *parts)


def test_the_three_gtt_files_decode_to_the_same_frames(reference_file: Callable[..., Path]) -> None:
    files = {fmt: patterns.read(_ref(reference_file, parts)) for fmt, parts in GTT.items()}
    assert {f.source_format for f in files.values()} == {"emp", "empv2", "apx"}
    emp, v2, apx = files["emp"], files["empv2"], files["apx"]
    assert emp.data.any()
    np.testing.assert_array_equal(emp.data, v2.data)
    np.testing.assert_array_equal(emp.data, apx.data)
    np.testing.assert_array_equal(emp.valid, v2.valid)
    np.testing.assert_array_equal(emp.valid, apx.valid)
    assert v2.same_frames(apx, (*PACKET_FLAGS, "strobe"))
    # EMP v1 carries no packet flags; inferred from valid runs they match the other two
    assert not emp.start_of_packet.any()
    assert emp.with_packet_flags_from_valid().same_frames(v2, PACKET_FLAGS)
    # the orbit start is carried by EMP v2 only
    assert v2.start_of_orbit.sum() == 1
    assert not apx.start_of_orbit.any()


@pytest.mark.parametrize(("parts", "fmt", "shape"), REFERENCE_FILES)
def test_reference_files_read_back_exactly(
    reference_file: Callable[..., Path],
    tmp_path: Path,
    parts: tuple[str, str],
    fmt: str,
    shape: tuple[int, int],
) -> None:
    path = _ref(reference_file, parts)
    pf = patterns.read(path)
    assert pf.source_format == fmt
    assert pf.data.shape == shape
    assert pf.data.dtype == np.uint64
    np.testing.assert_array_equal(pf.links, np.arange(shape[1]))
    # every word and flag against the text itself, token by token
    lines = [ln for ln in path.read_text().splitlines() if ln.startswith(("Frame", "0x"))]
    for frame in (0, shape[0] // 2, shape[0] - 1, *np.flatnonzero(pf.data.any(axis=1))[:5]):
        tokens = lines[frame].split()
        words = [t for t in tokens if len(t.removeprefix("0x").split("v")[-1]) == 16]
        assert [int(w.removeprefix("0x").split("v")[-1], 16) for w in words] == pf.data[
            frame
        ].tolist()
    out = tmp_path / "again.txt"
    patterns.write(pf, out, fmt)
    assert out.read_bytes() == path.read_bytes()  # byte-identical re-writing
    assert patterns.read(out).same_frames(pf)


@pytest.mark.parametrize("parts", [parts for parts, _, _ in REFERENCE_FILES])
def test_conversion_between_formats_keeps_what_each_carries(
    reference_file: Callable[..., Path], tmp_path: Path, parts: tuple[str, str]
) -> None:
    pf = patterns.read(_ref(reference_file, parts))
    v2 = tmp_path / "v2.txt"
    patterns.write(pf, v2, "empv2")
    assert patterns.read(v2).same_frames(pf)  # EMP v2 carries everything
    for other, kept in (("apx", PACKET_FLAGS), ("emp", ("valid", "strobe"))):
        out = tmp_path / f"{other}.txt"
        patterns.write(pf, out, other, allow_loss=True)
        back = patterns.read(out)
        assert back.source_format == other
        assert back.same_frames(pf, kept)


def test_writing_flags_a_format_cannot_carry_is_an_error(
    reference_file: Callable[..., Path], tmp_path: Path
) -> None:
    pf = patterns.read(_ref(reference_file, GTT["empv2"]))
    with pytest.raises(StreamError, match="EMP v1 cannot carry start_of_orbit, start_of_packet"):
        patterns.write(pf, tmp_path / "x.txt", "emp")
    with pytest.raises(StreamError, match="APx cannot carry start_of_orbit"):
        patterns.write(pf, tmp_path / "y.txt", "apx")
    assert list(tmp_path.iterdir()) == []


def _random_pattern(n_frames: int, links: list[int], seed: int, *, strobe: bool) -> PatternFile:
    rng = np.random.default_rng(seed)
    shape = (n_frames, len(links))
    pf = PatternFile.empty(n_frames, links, board="TEST")
    pf.data[:] = rng.integers(0, 2**63, shape, dtype=np.uint64) * np.uint64(2) + rng.integers(
        0, 2, shape
    ).astype(np.uint64)
    pf.valid[:] = rng.random(shape) < 0.7
    pf.start_of_packet[:] = rng.random(shape) < 0.1
    pf.end_of_packet[:] = rng.random(shape) < 0.1
    pf.start_of_orbit[0] = True
    if strobe:
        pf.strobe[:] = rng.random(shape) < 0.8
    return pf


@pytest.mark.parametrize("strobe", [False, True])
def test_canonical_writers_round_trip_many_links(tmp_path: Path, strobe: bool) -> None:
    pf = _random_pattern(300, [0, 1, 2, 5, 17, 120], seed=4, strobe=strobe)
    out = tmp_path / "v2.txt"
    patterns.write(pf, out, "empv2")
    back = patterns.read(out)
    assert back.same_frames(pf)
    assert back.board == "TEST"
    patterns.write(back, tmp_path / "v2b.txt", "empv2")
    assert (tmp_path / "v2b.txt").read_bytes() == out.read_bytes()
    patterns.write(pf, tmp_path / "v1.txt", "emp", allow_loss=True)
    assert patterns.read(tmp_path / "v1.txt").same_frames(pf, ("valid", "strobe"))
    if not strobe:
        patterns.write(pf, tmp_path / "apx.txt", "apx", allow_loss=True)
        assert patterns.read(tmp_path / "apx.txt").same_frames(pf, PACKET_FLAGS)


VALID_V2 = [
    "ID: T",
    "Metadata: (strobe,) start of orbit, start of packet, end of packet, valid",
    "",
    "      Link              000                    001",
    "Frame 0000    0001 0000000000000001  0001 00000000000000ff",
    "Frame 0001    0001 0000000000000002  0001 00000000000000fe",
]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "Frame 0002    0001 00000000000000zz  0001 0000000000000000",
            r"line 7: link column 0: .* is not hexadecimal",
        ),
        ("Frame 0002    0001 0000000000000000", r"line 7: malformed frame line"),
        (
            "Frame 0003    0001 0000000000000000  0001 0000000000000000",
            r"line 7: frame number '0003', expected 2",
        ),
        (
            "Frame 0002    0021 0000000000000000  0001 0000000000000000",
            r"line 7: link column 0: bad flag field '0021'",
        ),
        (
            "Frame 0002    0001 000000000000000  0001 0000000000000000",
            r"line 7: link column 0: word .* not 16 hex",
        ),
    ],
)
def test_malformed_emp_v2_lines_are_named(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("\n".join([*VALID_V2, line]) + "\n")
    with pytest.raises(StreamError, match=rf"bad\.txt: {message}"):
        patterns.read(path)


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (
            [
                "Board X",
                " Quad/Chan : q00c0",
                "      Link : 000",
                "Frame 0000 :   2v0000000000000000",
            ],
            r"line 4: link column 0: expected '1v",
        ),
        (
            [
                "Board X",
                " Quad/Chan : q00c0",
                "      Link : 000",
                "Frame 0000 :   1v00000000000000g0",
            ],
            r"line 4: .* is not hexadecimal",
        ),
        (
            [
                "#Sideband ON",
                "#LinkLabel LINK_00",
                "#BeginData",
                "0x0000    0x04 0x0000000000000000",
            ],
            r"line 4: sideband 0x04 sets bits",
        ),
        (
            ["#Sideband ON", "#LinkLabel LINK_00", "#BeginData", "0x0000    0x01"],
            r"line 4: malformed APx data line",
        ),
        (["#Sideband ON", "#LinkLabel LINK_00"], r"APx file has no '#BeginData' line"),
        (["hello"], r"line 1: unknown pattern format"),
    ],
)
def test_malformed_emp_v1_and_apx(tmp_path: Path, lines: list[str], message: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(StreamError, match=rf"bad\.txt: {message}"):
        patterns.read(path)


def test_missing_non_ascii_and_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(StreamError, match="no such pattern file"):
        patterns.read(tmp_path / "none.txt")
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(StreamError, match="not ASCII"):
        patterns.read(binary)
    with pytest.raises(StreamError, match="unknown pattern format 'xml'"):
        patterns.write(PatternFile.empty(1, [0]), tmp_path / "x.txt", "xml")


def test_link_layout_validation_and_signed_round_trip() -> None:
    with pytest.raises(ValueError, match="overlaps"):
        LinkLayout((LinkField("a", 0, 8), LinkField("b", 7, 4)))
    with pytest.raises(ValueError, match="do not fit"):
        LinkField("c", 60, 8)
    eta = LinkField("eta", 14, 10, signed=True, scale=np.pi / 720)
    layout = LinkLayout((LinkField("pt", 0, 14, scale=0.25), eta))
    raw = {"pt": np.array([0, 1, 16383]), "eta": np.array([-512, -1, 511])}
    words = layout.pack(raw)
    back = layout.unpack(words)
    np.testing.assert_array_equal(back["pt"], raw["pt"])
    np.testing.assert_array_equal(back["eta"], raw["eta"])
    assert int(words[1]) == 1 | (0x3FF << 14)
    with pytest.raises(StreamError, match=r"raw value 512 .* does not fit 10 bits"):
        layout.pack({"eta": np.array([0, 512])})
    np.testing.assert_array_equal(eta.quantize([-10.0, 0.001, 10.0]), [-512, 0, 511])
    with pytest.raises(StreamError, match="outside"):
        eta.quantize([10.0], overflow="error")


def test_objects_pack_to_links_and_back_bit_exact(tmp_path: Path) -> None:
    batch = next(iter(synthetic.generate("background", 500, seed=6)))
    layout = LinkLayout(
        (
            LinkField("pt", 0, 16, scale=0.25),
            LinkField("eta", 16, 12, signed=True, scale=np.pi / 720),
            LinkField("phi", 28, 11, signed=True, scale=np.pi / 720),
        )
    )
    pf = patterns.pack_objects(batch, "jet", layout, n_links=3, frames_per_event=2, gap_frames=1)
    assert pf.data.shape == (1500, 3)
    path = tmp_path / "jets.txt"
    patterns.write(pf, path, "empv2")
    read_back = patterns.read(path)
    assert read_back.same_frames(pf)
    objects, raw = patterns.unpack_objects(read_back, layout, frames_per_event=2, gap_frames=1)
    jets = batch.objects["jet"]
    kept = np.arange(jets.pt.shape[0]) - np.repeat(jets.offsets[:-1], jets.counts()) < 6
    expected = layout.quantize({"pt": jets.pt[kept], "eta": jets.eta[kept], "phi": jets.phi[kept]})
    for name in ("pt", "eta", "phi"):
        np.testing.assert_array_equal(raw[name], expected[name])
    np.testing.assert_array_equal(objects.counts(), np.minimum(jets.counts(), 6))
    np.testing.assert_array_equal(objects.pt, expected["pt"] * 0.25)
    # packet structure: start of orbit once, one packet per event
    assert pf.start_of_orbit.sum() == 3
    assert pf.start_of_packet[:, 0].sum() == 500
    assert pf.valid[:, 0].sum() == 1000


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (
            [
                "Board X",
                " Quad/Chan : q00c0 q00c1",
                "      Link : 003 003",
                "Frame 0000 :   1v0000000000000000 1v0000000000000000",
            ],
            r"line 3: link 3 is listed twice",
        ),
        (
            [
                "#Sideband ON",
                "#LinkLabel LINK_01 LINK_01",
                "#BeginData",
                "0x0000    0x01 0x0000000000000000 0x01 0x0000000000000000",
            ],
            r"line 2: link 1 is listed twice",
        ),
        (
            [
                "ID: X",
                "Metadata: whatever the file says",
                "",
                "      Link  000",
                "Frame 0000    0001 0000000000000000",
            ],
            r"line 2: unknown EMP v2 metadata",
        ),
    ],
)
def test_duplicate_links_and_junk_metadata_are_refused(
    tmp_path: Path, lines: list[str], message: str
) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(StreamError, match=rf"bad\.txt: {message}"):
        patterns.read(path)


@pytest.mark.parametrize("links", [[-3], [1, 1], [1000]])
def test_pattern_file_refuses_links_no_reader_accepts(links: list[int]) -> None:
    """A link number the readers would reject is refused when the frames are built."""
    with pytest.raises(ValueError, match=r"PatternFile\.links"):
        PatternFile.empty(2, links)
