"""Network seed -> hls4ml project, proven equal to the emulator model before it is written.

:func:`build_hls_project` converts a network's recorded source (:mod:`firmware._hls_source`:
Keras-v2 JSON + weights + hls4ml configuration) with hls4ml's Vitis backend
(``io_parallel``, Latency strategy), writes the full project and compiles its C
simulation with g++, all in a temporary directory beside the target. Before
anything appears under the target name it proves two things:

* **structure**: the converted graph, read back with ``emulator.nn.from_hls4ml``,
  has exactly the emulator model's layers, raw weights and resolved precisions;
* **behaviour**: the compiled C simulation's ``predict()`` (float64 input, hls4ml's
  double bridge) equals the emulator model's raw outputs on a sample spanning the
  input type (random values, rounding ties, saturation, zeros), every bit.

Only then is the temporary directory renamed onto the target. On any failure it is
removed and a :class:`FirmwareError` naming the seed says what differed; nothing is
left behind. A model without a recorded source gets :class:`RtlOnly` back.

The written project is deterministic: hls4ml's random library stamp is replaced
by one derived from the inputs, weights are compiled in (no ``WEIGHTS_DIR`` path
baked into the library), and ``hls4ml_config.yml`` holds paths relative to the
project, so the same source gives byte-identical files wherever it is built.
``l1sim_hls.json`` in the project describes it for :func:`load_hls_project`
(and ``cosim``'s C-simulation runner): top function, library, types, proof.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from emulator.fixed import FixedType
from emulator.nn import Dense, Input, Model, from_hls4ml
from firmware._errors import FirmwareError
from firmware._hls_source import ModelSource, read_model_source

__all__ = [
    "HLS_BACKEND",
    "PROJECT_FILE",
    "HlsProject",
    "ProofResult",
    "RtlOnly",
    "build_hls_project",
    "check_model_source",
    "load_hls_project",
    "proof_inputs",
    "raw_from_doubles",
]

#: hls4ml backend, I/O type and strategy of every project (the emulator follows these).
HLS_BACKEND = "Vitis"
IO_TYPE = "io_parallel"
STRATEGY = "Latency"
#: The project description ``build_hls_project`` writes and ``load_hls_project`` reads.
PROJECT_FILE = "l1sim_hls.json"
PROJECT_FORMAT = "l1sim.hls-project"
PROJECT_VERSION = 1
#: Inputs in the build-time proof.
DEFAULT_SAMPLES = 2000
_SOURCE_DIR = "source"


@dataclass(frozen=True)
class ProofResult:
    """Outcome of the build-time proof: samples compared and how many differed."""

    n_samples: int
    mismatches: int
    hls4ml_version: str
    structure_differences: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return self.mismatches == 0 and not self.structure_differences


@dataclass(frozen=True)
class HlsProject:
    """A written, compiled and proven hls4ml project of one network seed."""

    seed: str
    directory: Path
    project_name: str
    top_function: str
    library: Path
    part: str
    clock_mhz: float
    input_shape: tuple[int, ...]
    input_type: FixedType
    output_size: int
    output_type: FixedType
    precisions: dict[str, dict[str, str]]
    proof: ProofResult
    source_origin: str
    backend: str = HLS_BACKEND
    io_type: str = IO_TYPE
    strategy: str = STRATEGY
    build_seconds: float | None = field(default=None, compare=False)

    @property
    def files(self) -> list[Path]:
        """Every file of the project, sorted (relative to ``directory``)."""
        return sorted(
            p.relative_to(self.directory) for p in self.directory.rglob("*") if p.is_file()
        )


@dataclass(frozen=True)
class RtlOnly:
    """A network seed that gets RTL only, and why (for the manifest's note)."""

    seed: str
    reason: str


# ---------------------------------------------------------------------------- helpers


def _hls4ml(seed: str) -> Any:
    """hls4ml, imported lazily (replay never needs it)."""
    try:
        import hls4ml  # type: ignore[import-untyped]  # noqa: PLC0415 - optional, heavy
    except ModuleNotFoundError as exc:
        raise FirmwareError(
            f"seed {seed}: hls4ml is needed for the HLS project; install it with: "
            "pip install 'l1sim[firmware]'"
        ) from exc
    return hls4ml


def _project_name(seed: str) -> str:
    """A C identifier for the top function: the seed name with other characters as ``_``."""
    name = re.sub(r"\W", "_", seed, flags=re.ASCII)
    return name if re.match(r"[A-Za-z_]", name) else f"nn_{name}"


def _single_io(model: Model, seed: str) -> tuple[Input, Any]:
    first = model.layers[0]
    assert isinstance(first, Input)
    if len(model.outputs) != 1:
        raise FirmwareError(f"seed {seed}: networks with several outputs are not built as HLS")
    return first, model.output_types[0]


def proof_inputs(input_type: FixedType, n_inputs: int, n: int, seed: int = 0) -> np.ndarray:
    """``n`` float64 events of ``n_inputs`` values spanning ``input_type`` and beyond.

    A quarter each: uniform over 1.5x the range (saturation both ways), small
    Gaussian values (the typical region), exact grid values and rounding ties
    (raw ± 1/2 LSB), and edge values per element (min, max, max - LSB, min - LSB,
    ±LSB/2, 0, ±1e6), the last quarter opening with an all-zero, an all-max and an
    all-min event. The same arguments give the same events.
    """
    if n < 4:
        raise ValueError("the proof needs at least 4 samples")
    rng = np.random.default_rng(seed)
    lsb = input_type.lsb
    top, low = input_type.max_value, input_type.min_value
    span = max(top - low, lsb)
    quarter = n // 4
    grid = rng.integers(input_type.min_raw - 4, input_type.max_raw + 5, size=(quarter, n_inputs))
    ties = (
        rng.integers(0, 2, size=(quarter, n_inputs))
        * 0.5
        * np.sign(rng.standard_normal((quarter, n_inputs)))
    )
    edges = np.array([low, top, top - lsb, low - lsb, lsb / 2, -lsb / 2, 0.0, 1e6, -1e6])
    parts = [
        rng.uniform(low - span / 4, top + span / 4, size=(quarter, n_inputs)),
        rng.normal(0.0, span / 32, size=(quarter, n_inputs)),
        (grid + ties) * lsb,
    ]
    rest = n - 3 * quarter
    tail = rng.choice(edges, size=(rest, n_inputs))
    tail[0], tail[1], tail[2] = 0.0, top, low
    parts.append(tail)
    return np.ascontiguousarray(np.concatenate(parts), dtype=np.float64)


def raw_from_doubles(values: np.ndarray, t: FixedType, where: str) -> np.ndarray:
    """Raw integers of ``t`` from the exact doubles hls4ml's bridge returns.

    A value that is not an integer multiple of the LSB, or lies outside the type,
    cannot come from ``t``: a clear error instead of a silent rounding.
    """
    scaled = np.ldexp(np.asarray(values, dtype=np.float64), t.frac)
    raw = np.rint(scaled)
    if (
        not np.array_equal(raw, scaled)
        or raw.min(initial=0) < t.min_raw
        or raw.max(initial=0) > t.max_raw
    ):
        raise FirmwareError(f"{where}: outputs are not values of {t}")
    return raw.astype(np.int64)


def _model_differences(expected: Model, got: Model, limit: int = 8) -> list[str]:
    """How the graph hls4ml resolved (``got``) differs from the emulator model
    (``expected``): layer names, kinds, inputs, types and raw arrays."""
    got_names = [layer.name for layer in got.layers]
    expected_names = [layer.name for layer in expected.layers]
    if got_names != expected_names:
        return [f"hls4ml has layers {got_names}, the emulator model {expected_names}"]
    found: list[str] = []
    for a, b in zip(expected.layers, got.layers, strict=True):
        if type(a) is not type(b):
            found.append(f"layer {a.name}: hls4ml has a {b.kind} layer, the emulator a {a.kind}")
            continue
        for f in fields(a):
            va, vb = getattr(a, f.name), getattr(b, f.name)
            if f.name in a.arrays:
                va, vb = np.asarray(va), np.asarray(vb)
                if va.shape != vb.shape:
                    found.append(
                        f"layer {a.name} {f.name}: hls4ml has shape {vb.shape}, "
                        f"the emulator {va.shape}"
                    )
                elif not np.array_equal(va, vb):
                    where = tuple(int(i) for i in np.argwhere(va != vb)[0])
                    found.append(
                        f"layer {a.name} {f.name}: {int((va != vb).sum())} raw values differ, "
                        f"first at {where}: hls4ml {int(vb[where])}, emulator {int(va[where])}"
                    )
            elif va != vb:
                found.append(f"layer {a.name} {f.name}: hls4ml {vb}, emulator {va}")
    if expected.outputs != got.outputs:
        found.append(f"outputs: hls4ml {got.outputs}, emulator {expected.outputs}")
    return found[:limit]


def _precisions(model: Model) -> dict[str, dict[str, str]]:
    """Per layer, the resolved types of its result (and weight, bias, accumulator)."""
    table: dict[str, dict[str, str]] = {}
    for layer in model.layers:
        entry = {"result": str(layer.result_type)}
        if isinstance(layer, Dense):
            entry.update(
                weight=str(layer.weight_type),
                bias=str(layer.bias_type),
                accum=str(layer.accum_type),
            )
        table[layer.name] = entry
    return table


@contextlib.contextmanager
def _quiet(log: io.StringIO) -> Iterator[None]:
    """hls4ml prints progress; keep it for error messages instead of the terminal."""
    with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        yield


def _tail(log: io.StringIO, lines: int = 15) -> str:
    text = log.getvalue().strip().splitlines()
    return "\n".join(text[-lines:])


# ---------------------------------------------------------------------------- building


def _convert(
    hls4ml: Any, source: ModelSource, build: Path, project: str, clock_mhz: float, part: str | None
) -> Any:
    """Copy the source into ``build/source`` and convert it there with hls4ml."""
    source_dir = build / _SOURCE_DIR
    source_dir.mkdir()
    for file in source.files:
        shutil.copyfile(file, source_dir / file.name)
    config = hls4ml.utils.config.create_config(
        output_dir=str(build),
        project_name=project,
        backend=HLS_BACKEND,
        part=part,
        clock_period=1000.0 / clock_mhz,
        io_type=IO_TYPE,
        write_weights_txt=False,  # weights compiled in: no build path baked into the library
    )
    hls_config = json.loads(json.dumps(source.hls_config))
    hls_config.setdefault("Model", {})["Strategy"] = STRATEGY
    config["HLSConfig"] = hls_config
    config["KerasJson"] = str(source_dir / source.keras_json.name)
    config["KerasH5"] = str(source_dir / source.keras_h5.name)
    return hls4ml.converters.keras_v2_to_hls(config)


def _write_and_compile(hls4ml: Any, hls_model: Any, stamp: str) -> None:
    """Write the project with a stamp derived from its inputs, then compile it.

    ``ModelGraph.compile`` would write through hls4ml's writer flow, whose first pass
    draws a random stamp; running the backend's writer pass directly keeps ours.
    """
    hls_model.config.config["Stamp"] = stamp
    hls4ml.model.optimizer.get_optimizer(f"{HLS_BACKEND.lower()}:write_hls").transform(hls_model)
    hls_model._compile()  # ModelGraph.compile() is write() (random stamp) + _compile()


def _relative_config(build: Path, source: ModelSource, seed: str) -> None:
    """Make ``hls4ml_config.yml`` hold paths relative to the project (relocatable, deterministic)."""
    path = build / "hls4ml_config.yml"
    try:
        config = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise FirmwareError(
            f"seed {seed}: {path.name} written by hls4ml is not plain YAML: {exc}"
        ) from exc
    config["OutputDir"] = "."
    config["KerasJson"] = f"{_SOURCE_DIR}/{source.keras_json.name}"
    config["KerasH5"] = f"{_SOURCE_DIR}/{source.keras_h5.name}"
    path.write_text(yaml.safe_dump(config, sort_keys=True))


def _stamp(source: ModelSource, project: str, clock_mhz: float, part: str, version: str) -> str:
    """Eight hex digits that change whenever anything the library is built from changes."""
    digest = hashlib.sha256()
    for file in source.files:
        digest.update(file.read_bytes())
    digest.update(json.dumps([project, clock_mhz, part, version, HLS_BACKEND]).encode())
    return digest.hexdigest()[:8]


def _prove(
    hls_model: Any, model: Model, input_type: FixedType, output_type: FixedType, n_samples: int
) -> tuple[int, str | None]:
    """Compare ``hls_model.predict`` with the emulator on ``n_samples`` events (raw integers)."""
    x = proof_inputs(input_type, model.layers[0].size, n_samples)
    got = np.asarray(hls_model.predict(x), dtype=np.float64).reshape(n_samples, -1)
    got_raw = raw_from_doubles(got, output_type, "hls4ml predict()")
    result = model.predict_raw(x)
    assert isinstance(result, tuple)
    expected_raw = result[0]
    expected = np.ldexp(expected_raw.astype(np.float64), -output_type.frac)
    differing = (got_raw != expected_raw).any(axis=1) | (
        got.view(np.int64) != expected.view(np.int64)
    ).any(axis=1)
    rows = np.flatnonzero(differing)
    if not rows.size:
        return 0, None
    first = int(rows[0])
    column = int(np.flatnonzero(got_raw[first] != expected_raw[first])[0])
    return int(rows.size), (
        f"first at sample {first}, output {column}: C simulation raw {int(got_raw[first, column])}, "
        f"emulator raw {int(expected_raw[first, column])}"
    )


def _project_record(project: HlsProject, source: ModelSource) -> dict[str, Any]:
    return {
        "format": PROJECT_FORMAT,
        "version": PROJECT_VERSION,
        "seed": project.seed,
        "project_name": project.project_name,
        "top_function": project.top_function,
        "library": str(project.library.relative_to(project.directory)),
        "backend": project.backend,
        "io_type": project.io_type,
        "strategy": project.strategy,
        "part": project.part,
        "clock_mhz": project.clock_mhz,
        "input": {"shape": list(project.input_shape), "type": str(project.input_type)},
        "output": {"size": project.output_size, "type": str(project.output_type)},
        "precisions": project.precisions,
        "proof": {
            "n_samples": project.proof.n_samples,
            "mismatches": project.proof.mismatches,
            "structure": "identical",
            "hls4ml": project.proof.hls4ml_version,
        },
        "source": {
            "descriptor": f"{_SOURCE_DIR}/{source.path.name}",
            "origin": source.origin,
            "sha256": source.digests,
        },
    }


def build_hls_project(
    model_source: ModelSource | str | os.PathLike[str] | None,
    emulator_model: Model | str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    clock_mhz: float,
    part: str | None = None,
    seed: str | None = None,
    n_samples: int = DEFAULT_SAMPLES,
) -> HlsProject | RtlOnly:
    """Build the hls4ml project of one network seed into ``out_dir`` (which must not exist).

    ``model_source`` is a recorded source (or the path of its ``*_hls4ml.json``);
    None gives :class:`RtlOnly`. ``emulator_model`` is the model the project must
    equal (a ``Model`` or its ``.npz``). ``seed`` names the seed in messages and is
    the top function's name (default: the model's file stem or ``network``).
    """
    if seed is None:
        seed = Path(emulator_model).stem if not isinstance(emulator_model, Model) else "network"
    if model_source is None:
        return RtlOnly(seed, "no recorded Keras/hls4ml source for its model: RTL only")
    started = time.perf_counter()
    model = (
        emulator_model if isinstance(emulator_model, Model) else _load_model(emulator_model, seed)
    )
    source = (
        model_source if isinstance(model_source, ModelSource) else _read_source(model_source, seed)
    )
    if not clock_mhz > 0:
        raise FirmwareError(f"seed {seed}: clock_mhz must be positive, got {clock_mhz!r}")
    if source.io_type != IO_TYPE:
        raise FirmwareError(
            f"seed {seed}: {source.path}: io_type {source.io_type!r} is not {IO_TYPE}"
        )
    out = Path(out_dir)
    if out.exists():
        raise FirmwareError(
            f"seed {seed}: {out} already exists; the HLS project is never written over"
        )
    if shutil.which("g++") is None:
        raise FirmwareError(f"seed {seed}: g++ not found on PATH; hls4ml's C simulation needs it")
    hls4ml = _hls4ml(seed)
    version = str(hls4ml.__version__)
    input_layer, output_type = _single_io(model, seed)
    project = _project_name(seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    log = io.StringIO()
    try:
        try:
            with _quiet(log):
                hls_model = _convert(hls4ml, source, build, project, clock_mhz, part)
        except Exception as exc:
            raise FirmwareError(
                f"seed {seed}: hls4ml cannot convert {source.path.name}: {exc}\n{_tail(log)}"
            ) from exc
        resolved = _resolved(hls_model, seed)
        differences = _model_differences(model, resolved)
        chosen_part = str(hls_model.config.get_config_value("Part"))
        try:
            with _quiet(log):
                _write_and_compile(
                    hls4ml, hls_model, _stamp(source, project, clock_mhz, chosen_part, version)
                )
        except Exception as exc:
            raise FirmwareError(
                f"seed {seed}: compiling the C simulation with g++ failed: {exc}\n{_tail(log)}"
            ) from exc
        mismatches, first = _prove(
            hls_model, model, input_layer.result_type, output_type, n_samples
        )
        if differences or mismatches:
            lines = [
                f"seed {seed}: the hls4ml project does not equal the emulator model; nothing written"
            ]
            lines += [f"  structure: {d}" for d in differences]
            if mismatches:
                lines.append(f"  predict(): {mismatches} of {n_samples} samples differ ({first})")
            raise FirmwareError("\n".join(lines))
        library = build / "firmware" / f"{project}-{hls_model.config.get_config_value('Stamp')}.so"
        result = HlsProject(
            seed=seed,
            directory=out,
            project_name=project,
            top_function=project,
            library=out / library.relative_to(build),
            part=chosen_part,
            clock_mhz=float(clock_mhz),
            input_shape=tuple(input_layer.shape),
            input_type=input_layer.result_type,
            output_size=int(np.prod(model.layers[-1].shape)),
            output_type=output_type,
            precisions=_precisions(resolved),
            proof=ProofResult(n_samples, 0, version),
            source_origin=source.origin,
        )
        _relative_config(build, source, seed)
        record = _project_record(result, source)
        (build / PROJECT_FILE).write_text(json.dumps(record, indent=1) + "\n")
        build.chmod(0o755)
        try:
            build.rename(out)
        except OSError as exc:
            raise FirmwareError(
                f"seed {seed}: {out} appeared while the project was being built; left as it is"
            ) from exc
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    return _with_time(result, time.perf_counter() - started)


def check_model_source(
    model_source: ModelSource | str | os.PathLike[str],
    emulator_model: Model | str | os.PathLike[str],
    *,
    seed: str = "network",
) -> list[str]:
    """Convert a recorded source with hls4ml (no compilation) and list how its resolved
    graph differs from the emulator model (layers, raw weights, precisions); empty
    when identical. The quick half of the proof :func:`build_hls_project` makes."""
    model = (
        emulator_model if isinstance(emulator_model, Model) else _load_model(emulator_model, seed)
    )
    source = (
        model_source if isinstance(model_source, ModelSource) else _read_source(model_source, seed)
    )
    hls4ml = _hls4ml(seed)
    log = io.StringIO()
    with tempfile.TemporaryDirectory(prefix="l1sim-hls-check-") as scratch:
        try:
            with _quiet(log):
                hls_model = _convert(
                    hls4ml, source, Path(scratch), _project_name(seed), 200.0, None
                )
        except Exception as exc:
            raise FirmwareError(
                f"seed {seed}: hls4ml cannot convert {source.path.name}: {exc}\n{_tail(log)}"
            ) from exc
        return _model_differences(model, _resolved(hls_model, seed))


def _resolved(hls_model: Any, seed: str) -> Model:
    """The emulator's reading of a converted graph (its resolved precisions and weights)."""
    try:
        return from_hls4ml(hls_model)
    except ValueError as exc:
        raise FirmwareError(f"seed {seed}: the converted graph is not emulated: {exc}") from exc


def _with_time(project: HlsProject, seconds: float) -> HlsProject:
    values = {f.name: getattr(project, f.name) for f in fields(project)}
    values["build_seconds"] = round(seconds, 2)
    return HlsProject(**values)


def _load_model(path: str | os.PathLike[str], seed: str) -> Model:
    try:
        return Model.load(path)
    except (OSError, ValueError) as exc:
        raise FirmwareError(f"seed {seed}: cannot read the emulator model {path}: {exc}") from exc


def _read_source(path: str | os.PathLike[str], seed: str) -> ModelSource:
    try:
        return read_model_source(path)
    except FirmwareError as exc:
        raise FirmwareError(f"seed {seed}: {exc}") from exc


# ---------------------------------------------------------------------------- reading


def load_hls_project(directory: str | os.PathLike[str]) -> HlsProject:
    """Read a project written by :func:`build_hls_project` (no hls4ml needed)."""
    directory = Path(directory)
    path = directory / PROJECT_FILE
    try:
        record = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise FirmwareError(f"{path}: cannot read the HLS project description: {exc}") from exc
    if record.get("format") != PROJECT_FORMAT or record.get("version") != PROJECT_VERSION:
        raise FirmwareError(
            f"{path}: format {record.get('format')!r} version {record.get('version')!r} is not "
            f"{PROJECT_FORMAT} version {PROJECT_VERSION}"
        )
    try:
        proof = record["proof"]
        library = directory / record["library"]
        if not library.is_file():
            raise FirmwareError(f"{path}: the compiled C simulation {library} is missing")
        return HlsProject(
            seed=record["seed"],
            directory=directory,
            project_name=record["project_name"],
            top_function=record["top_function"],
            library=library,
            part=record["part"],
            clock_mhz=float(record["clock_mhz"]),
            input_shape=tuple(int(s) for s in record["input"]["shape"]),
            input_type=FixedType.parse(record["input"]["type"]),
            output_size=int(record["output"]["size"]),
            output_type=FixedType.parse(record["output"]["type"]),
            precisions=record["precisions"],
            proof=ProofResult(int(proof["n_samples"]), int(proof["mismatches"]), proof["hls4ml"]),
            source_origin=record["source"]["origin"],
            backend=record["backend"],
            io_type=record["io_type"],
            strategy=record["strategy"],
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, FirmwareError):
            raise
        raise FirmwareError(f"{path}: malformed HLS project description: {exc!r}") from exc
