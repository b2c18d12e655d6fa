"""The firmware directory's ``manifest.json``: what was built, from what, and how fast.

A firmware directory is what :func:`firmware.build` writes and what ``cosim`` and
``l1sim run --firmware`` read. Its manifest records the top module and its ports
(with the bit layout of every field), per algorithm the latency in clock cycles and
ns and its initiation interval, the clock, the files written (with their SHA-256),
the versions of the tools that wrote them, and a content hash of the inputs (menu,
models, l1sim version, build options). Builds are cached by that hash.

The format carries its own version string: a reader refuses a manifest written by
another format or another l1sim version with a clear :class:`ManifestError`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "MANIFEST_FORMAT",
    "MANIFEST_NAME",
    "AlgorithmEntry",
    "FieldEntry",
    "FileEntry",
    "FirmwareDir",
    "Manifest",
    "ManifestError",
    "PortEntry",
    "content_hash",
    "file_digest",
]

#: File name of the manifest inside a firmware directory.
MANIFEST_NAME = "manifest.json"
#: Version of the manifest layout (bump when a field changes meaning).
MANIFEST_FORMAT = "l1sim-firmware/1"


class ManifestError(ValueError):
    """A directory is not a firmware directory, or its manifest cannot be used."""


@dataclass(frozen=True)
class FieldEntry:
    """One field of a packed port: bits ``[lsb, lsb + width)`` hold ``name`` in ``type``."""

    name: str
    lsb: int
    width: int
    type: str


@dataclass(frozen=True)
class PortEntry:
    """A port of the top module; ``fields`` describe its bit layout (LSB first)."""

    name: str
    direction: str
    width: int
    fields: tuple[FieldEntry, ...] = ()
    doc: str = ""


@dataclass(frozen=True)
class AlgorithmEntry:
    """One seed's datapath: how long it takes and where it came from."""

    seed: str
    kind: str
    module: str
    latency_cycles: int
    clock_mhz: float
    ii: int
    files: tuple[str, ...] = ()
    hls_project: str | None = None
    note: str = ""

    @property
    def latency_ns(self) -> float:
        """Latency in ns at the algorithm's clock."""
        return self.latency_cycles * 1000.0 / self.clock_mhz


@dataclass(frozen=True)
class FileEntry:
    """A file written by the build, relative to the firmware directory."""

    path: str
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """Everything ``manifest.json`` holds (see the module docstring)."""

    l1sim_version: str
    content_hash: str
    menu_name: str
    top_module: str
    clock_mhz: float
    ii: int
    latency_cycles: int
    ports: tuple[PortEntry, ...]
    algorithms: tuple[AlgorithmEntry, ...]
    files: tuple[FileEntry, ...] = ()
    tools: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    format: str = MANIFEST_FORMAT
    #: the VHDL files (``--vhdl``) in analysis order, relative to the directory; empty
    #: for a Verilog-only build
    vhdl_sources: tuple[str, ...] = ()

    @property
    def latency_ns(self) -> float:
        """Latency of the whole top module (input word to L1 accept) in ns."""
        return self.latency_cycles * 1000.0 / self.clock_mhz

    def algorithm(self, seed: str) -> AlgorithmEntry:
        """The entry of one seed (ManifestError when the build has none)."""
        for entry in self.algorithms:
            if entry.seed == seed:
                return entry
        raise ManifestError(f"the firmware has no algorithm for seed {seed!r}")

    def port(self, name: str) -> PortEntry:
        """One port of the top module by name."""
        for port in self.ports:
            if port.name == name:
                return port
        raise ManifestError(f"the top module {self.top_module!r} has no port {name!r}")

    def seed_timings(self) -> dict[str, dict[str, Any]]:
        """Per seed ``latency_cycles``, ``clock_mhz`` and ``ii``, for ``emulator.timing.with_timing``."""
        return {
            a.seed: {"latency_cycles": a.latency_cycles, "clock_mhz": a.clock_mhz, "ii": a.ii}
            for a in self.algorithms
        }

    def to_json(self) -> str:
        """The manifest as indented, key-sorted JSON text (deterministic)."""
        data = asdict(self)
        data["tools"] = dict(sorted(self.tools.items()))
        data["latency_ns"] = self.latency_ns
        for entry, algorithm in zip(data["algorithms"], self.algorithms, strict=True):
            entry["latency_ns"] = algorithm.latency_ns
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str = "manifest.json") -> Manifest:
        """Parse and validate manifest text; errors name ``source`` and the field."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ManifestError(f"{source}: not JSON ({exc})") from None
        if not isinstance(data, dict):
            raise ManifestError(f"{source}: expected a JSON object")
        fmt = data.get("format")
        if fmt != MANIFEST_FORMAT:
            raise ManifestError(
                f"{source}: field 'format': {fmt!r} is not {MANIFEST_FORMAT!r} "
                "(written by another tool or another l1sim version; rebuild the firmware)"
            )
        try:
            ports = tuple(
                PortEntry(
                    name=str(p["name"]),
                    direction=str(p["direction"]),
                    width=int(p["width"]),
                    fields=tuple(FieldEntry(**f) for f in p.get("fields", ())),
                    doc=str(p.get("doc", "")),
                )
                for p in data["ports"]
            )
            algorithms = tuple(
                AlgorithmEntry(
                    seed=str(a["seed"]),
                    kind=str(a["kind"]),
                    module=str(a["module"]),
                    latency_cycles=int(a["latency_cycles"]),
                    clock_mhz=float(a["clock_mhz"]),
                    ii=int(a["ii"]),
                    files=tuple(str(f) for f in a.get("files", ())),
                    hls_project=a.get("hls_project"),
                    note=str(a.get("note", "")),
                )
                for a in data["algorithms"]
            )
            return cls(
                l1sim_version=str(data["l1sim_version"]),
                content_hash=str(data["content_hash"]),
                menu_name=str(data["menu_name"]),
                top_module=str(data["top_module"]),
                clock_mhz=float(data["clock_mhz"]),
                ii=int(data["ii"]),
                latency_cycles=int(data["latency_cycles"]),
                ports=ports,
                algorithms=algorithms,
                files=tuple(FileEntry(**f) for f in data.get("files", ())),
                tools={str(k): str(v) for k, v in dict(data.get("tools", {})).items()},
                notes=tuple(str(n) for n in data.get("notes", ())),
                vhdl_sources=tuple(str(f) for f in data.get("vhdl_sources", ())),
            )
        except KeyError as exc:
            raise ManifestError(f"{source}: missing field {exc.args[0]!r}") from None
        except (TypeError, ValueError) as exc:
            raise ManifestError(f"{source}: malformed field ({exc})") from None


@dataclass(frozen=True)
class FirmwareDir:
    """A firmware directory on disk and its parsed manifest."""

    path: Path
    manifest: Manifest

    @classmethod
    def open(cls, path: str | Path, *, l1sim_version: str | None = None) -> FirmwareDir:
        """Read ``path/manifest.json``; with ``l1sim_version``, refuse another version's build."""
        root = Path(path)
        manifest_path = root / MANIFEST_NAME
        if not root.is_dir():
            raise ManifestError(f"{root}: no such firmware directory")
        if not manifest_path.is_file():
            raise ManifestError(
                f"{root}: not a firmware directory (no {MANIFEST_NAME}; build one with "
                "'l1sim firmware --out DIR')"
            )
        try:
            text = manifest_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ManifestError(f"{manifest_path}: cannot read ({exc})") from None
        manifest = Manifest.from_json(text, str(manifest_path))
        if l1sim_version is not None and manifest.l1sim_version != l1sim_version:
            raise ManifestError(
                f"{manifest_path}: field 'l1sim_version': built by l1sim "
                f"{manifest.l1sim_version}, this is {l1sim_version}; rebuild the firmware"
            )
        return cls(root, manifest)

    def file(self, relative: str) -> Path:
        """Absolute path of a file the manifest lists."""
        return self.path / relative

    def verify_files(self) -> list[str]:
        """Relative paths whose content no longer matches the manifest (empty: all intact)."""
        changed = []
        for entry in self.manifest.files:
            target = self.path / entry.path
            if not target.is_file() or file_digest(target) != entry.sha256:
                changed.append(entry.path)
        return changed


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def content_hash(parts: Iterable[tuple[str, bytes]]) -> str:
    """SHA-256 over named byte strings (menu text, model files, versions, options).

    Each part is hashed with its name and length, so reordering or moving bytes
    between parts changes the hash.
    """
    digest = hashlib.sha256()
    for name, blob in sorted(parts, key=lambda item: item[0]):
        encoded = name.encode("utf-8")
        digest.update(len(encoded).to_bytes(8, "little") + encoded)
        digest.update(len(blob).to_bytes(8, "little") + blob)
    return digest.hexdigest()
