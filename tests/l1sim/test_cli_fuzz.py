"""Random bytes and random mutations of valid inputs never give a traceback (issue 11).

Every input format (Parquet, HDF5, Dark Machines CSV, ROOT, pattern files), menus and
filling schemes are damaged by hypothesis — random bytes, flipped, deleted and inserted
bytes, truncation — and given to ``l1sim run`` in-process. Whatever happens: exit 0 or
1, no traceback and no "internal error" line, no partial output (on failure the output
directory does not exist; nothing hidden is left beside it), and the user's other files
are untouched. Pattern files are not an ``l1sim run`` input: they go through
:func:`streams.patterns.read`, which must raise :class:`streams.StreamError` or succeed.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import streams
from l1sim.cli import main
from streams import synthetic

MENU = """\
name: fuzz
seeds:
  - name: L1_SingleMu22
    kind: single
    collection: muon
    pt: 22
    eta_max: 2.4
  - name: L1_HTT290
    kind: ht
    collection: jet
    object_pt: 30
    eta_max: 2.4
    threshold: 290
"""
SCHEME = '{"name": "fuzz", "trains": [[72, 8], [72, 38], [24, 0]], "first_bx": 10}'
CSV = "".join(
    f"{i};proc;1.0;{15000 + i};0.3;j,60000,{50000 + i},0.5,0.1;m+,30000,25000,-1.0,2.0;\n"
    for i in range(30)
)
PATTERN = """\
ID: fuzz
Metadata: (strobe,) start of orbit, start of packet, end of packet, valid

      Link  000     001
Frame 0000  1001 0000000000000001  1001 0000000000000002
Frame 0001  0001 0000000000000003  0001 0000000000000004
Frame 0002  0011 0000000000000005  0011 0000000000000006
"""

SETTINGS = settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def valid(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The bytes of one small valid file per input kind."""
    directory = tmp_path_factory.mktemp("valid")
    events = list(synthetic.generate("background", 40, seed=2))
    files: dict[str, bytes] = {}
    streams.write_parquet(events, directory / "e.parquet")
    files["parquet"] = (directory / "e.parquet").read_bytes()
    particles = np.zeros((40, 19, 4), np.float32)
    particles[:, 0] = (20.0, 0.0, 0.5, 1.0)
    particles[:, 5] = (25.0, 0.3, -1.0, 3.0)
    particles[:, 9] = (40.0, -0.7, 2.0, 4.0)
    with h5py.File(directory / "e.h5", "w") as fh:
        fh["Particles"] = particles
    files["h5"] = (directory / "e.h5").read_bytes()
    files["csv"] = CSV.encode()
    uproot = pytest.importorskip("uproot")
    ak = pytest.importorskip("awkward")
    with uproot.recreate(directory / "e.root") as fh:
        fh["Events"] = {
            "event": np.arange(20, dtype=np.uint64),
            "MET_pt": np.full(20, 12.0, np.float32),
            "MET_phi": np.zeros(20, np.float32),
            "Muon_pt": ak.Array([[30.0, 10.0]] * 20),
            "Muon_eta": ak.Array([[0.5, 0.1]] * 20),
            "Muon_phi": ak.Array([[0.25, 1.0]] * 20),
        }
    files["root"] = (directory / "e.root").read_bytes()
    files["yaml"] = MENU.encode()
    files["json"] = SCHEME.encode()
    files["txt"] = PATTERN.encode()
    return files


@st.composite
def damaged(draw: st.DrawFn, original: bytes) -> bytes:
    """Random bytes, or ``original`` with a few bytes flipped, deleted or inserted, or cut."""
    if draw(st.integers(0, 4)) == 0:
        return draw(st.binary(max_size=300))
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        where = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "delete", "insert", "truncate", "digit"]))
        if action == "flip":
            data[where] ^= 1 << draw(st.integers(0, 7))
        elif action == "delete":
            del data[where : where + draw(st.integers(1, 16))]
        elif action == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=8))
        elif action == "truncate":
            del data[where:]
        else:  # a digit becomes another, or a sign or exponent appears: plausible text damage
            data[where : where + 1] = draw(st.sampled_from([b"9", b"-", b"e9", b"1e30", b".", b""]))
    return bytes(data)


def _digest(directory: Path) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@contextlib.contextmanager
def _workspace() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="l1sim-fuzz-"))
    try:
        (directory / "notes.txt").write_text("the user's own file")
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _run_cli(directory: Path, argv: list[str]) -> None:
    """Run ``l1sim`` and check every promise of the module docstring."""
    before = _digest(directory)
    out = directory / "out"
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = main([*argv, "--out", str(out)])
    text = err.getvalue()
    assert status in (0, 1), text
    assert "Traceback" not in text, text
    assert "internal error" not in text, text
    if status == 1:
        assert not out.exists(), text
        errors = [line for line in text.splitlines() if line.startswith("l1sim: error:")]
        assert len(errors) == 1, text
    else:
        assert (out / "summary.json").is_file()
    hidden = [p.name for p in directory.iterdir() if p.name.startswith(".")]
    assert hidden == [], hidden
    after = _digest(directory)
    for name, digest in before.items():
        assert after.get(name) == digest, f"{name} changed"


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["parquet", "h5", "csv", "root"])
@SETTINGS
@given(data=st.data())
def test_damaged_event_files(valid: dict[str, bytes], kind: str, data: st.DataObject) -> None:
    content = data.draw(damaged(valid[kind]))
    with _workspace() as directory:
        path = directory / f"events.{kind}"
        path.write_bytes(content)
        _run_cli(directory, ["run", str(path), "--max-bx", "3564"])


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["yaml", "json"])
@SETTINGS
@given(data=st.data())
def test_damaged_menus_and_schemes(valid: dict[str, bytes], kind: str, data: st.DataObject) -> None:
    content = data.draw(damaged(valid[kind]))
    with _workspace() as directory:
        path = directory / f"input.{kind}"
        path.write_bytes(content)
        option = "--menu" if kind == "yaml" else "--scheme"
        argv = ["run", "synthetic:background?n=500&seed=1", option, str(path), "--max-bx", "3564"]
        _run_cli(directory, argv)


@SETTINGS
@given(data=st.data())
def test_damaged_pattern_files(valid: dict[str, bytes], data: st.DataObject) -> None:
    content = data.draw(damaged(valid["txt"]))
    with _workspace() as directory:
        path = directory / "patterns.txt"
        path.write_bytes(content)
        with contextlib.suppress(streams.StreamError):
            streams.patterns.read(path)
