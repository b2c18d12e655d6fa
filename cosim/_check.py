"""``cosim.check``: emulator, RTL and HLS C simulation on the same BX, every bit compared.

One call opens a firmware directory (its manifest must come from this l1sim
version), replays the stream through the emulator while packing the hardware
integers into the top's input words (:mod:`cosim._stimulus`), builds the RTL once
per content (the runner's cache) and runs it with the staged stimulus (no Python per
clock cycle), then compares every recorded output with the emulator
(:func:`cosim.compare.compare_rtl`). Network seeds that have an hls4ml project also
run their C simulation on the same raw input vectors and are compared with the
emulator's network outputs. Pattern-file mode (:func:`write_patterns`,
:func:`compare_patterns`) writes the same stimulus and expected outputs as EMP v2 or
APx files, and compares an output file captured elsewhere frame by frame.

Set-up problems (no simulator, not a firmware directory, a manifest from another
l1sim version, firmware of another menu) raise :class:`~cosim._errors.CosimError`
with exit code 2; disagreements are never exceptions, they are the report.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path

import numpy as np

from cosim._bench import DutSpec
from cosim._errors import CosimError
from cosim._report import write_reports
from cosim._stimulus import (
    Stimulus,
    expected_patterns,
    make_stimulus,
    output_delay,
    stimulus_patterns,
    traces_from_patterns,
)
from cosim.compare import AgreementReport, CheckGroup, OutputCheck, compare_rtl, compare_values
from emulator.menu import Menu, MenuError, default_menu, load_menu
from emulator.plan import MenuPlan, build_plan
from firmware._errors import FirmwareError
from firmware._manifest import FirmwareDir, Manifest, ManifestError
from firmware._seeds import MENU_FILE
from streams import EventBatch, StreamError
from streams import patterns as pattern_files

__all__ = [
    "MENU_FILE",
    "Prepared",
    "check",
    "compare_patterns",
    "dut_spec",
    "icarus_compatible",
    "open_firmware",
    "prepare",
    "write_patterns",
]

_HDL_SUFFIXES = (".v", ".sv")
_NOT_DATA = (".sdc", ".xdc", ".tcl", ".json", ".log", ".txt", ".md", ".vlt")


def _l1sim_version() -> str:
    try:
        return metadata.version("l1sim")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def open_firmware(firmware_dir: str | os.PathLike[str] | FirmwareDir) -> FirmwareDir:
    """The firmware directory with its manifest, checked against this l1sim version."""
    if isinstance(firmware_dir, FirmwareDir):
        return firmware_dir
    try:
        return FirmwareDir.open(Path(firmware_dir), l1sim_version=_l1sim_version())
    except ManifestError as exc:
        raise CosimError(str(exc)) from None


def _menu_for(fw: FirmwareDir, menu: Menu | None) -> Menu:
    """The menu given, the one stored beside the manifest, or the default menu by name."""
    if menu is None:
        stored = fw.path / MENU_FILE
        try:
            if stored.is_file():
                menu = load_menu(stored)
            elif fw.manifest.menu_name == default_menu().name:
                menu = default_menu()
            else:
                raise CosimError(
                    f"{fw.path}: built from menu {fw.manifest.menu_name!r} and holds no "
                    f"{MENU_FILE}: pass the menu it was built from (l1sim cosim --menu FILE)"
                )
        except MenuError as exc:
            raise CosimError(str(exc)) from None
    if menu.name != fw.manifest.menu_name:
        raise CosimError(f"{fw.path}: built from menu {fw.manifest.menu_name!r}, not {menu.name!r}")
    return menu


def _sources(fw: FirmwareDir) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """(Verilog sources, run-time data files) of the RTL the manifest lists.

    da4ml writes the same static modules beside each datapath: identical copies are
    compiled once, two different files of the same name are an error.
    """
    sources: dict[str, Path] = {}
    data: list[Path] = []
    for entry in fw.manifest.files:
        path = fw.file(entry.path)
        if not entry.path.startswith("rtl/"):
            continue
        if path.suffix in _HDL_SUFFIXES:
            seen = sources.get(path.name)
            if seen is None:
                sources[path.name] = path
            elif seen.read_bytes() != path.read_bytes():
                raise CosimError(
                    f"{fw.path}: two different Verilog files named {path.name}: "
                    f"{seen.relative_to(fw.path)} and {entry.path}"
                )
        elif path.suffix not in _NOT_DATA:
            data.append(path)
    if not sources:
        raise CosimError(f"{fw.path}: the manifest lists no Verilog files under rtl/")
    missing = [p for p in [*sources.values(), *data] if not p.is_file()]
    if missing:
        raise CosimError(f"{fw.path}: RTL file {missing[0].relative_to(fw.path)} is missing")
    return tuple(sources.values()), tuple(data)


def dut_spec(fw: FirmwareDir) -> DutSpec:
    """What the bench needs to drive and record the firmware's top module."""
    sources, data = _sources(fw)
    m = fw.manifest
    try:
        return DutSpec.from_ports(m.top_module, sources, m.ports, data_files=data)
    except ValueError as exc:
        raise CosimError(f"{fw.path}: {exc}") from None


#: a Verilog attribute whose value is a conditional expression, e.g. da4ml's
#: ``(* rom_style = (BW_IN <= 999) ? "distributed" : "block" *)``
_CONDITIONAL_ATTRIBUTE = re.compile(r"\(\*[^*]*\?[^*]*\*\)")


def icarus_compatible(spec: DutSpec, scratch: Path) -> DutSpec:
    """``spec`` with copies of sources that Icarus 11 cannot elaborate, made readable.

    Icarus 11 rejects an attribute whose value is a parameter expression (da4ml's
    ``lookup_table`` ROM-style hint). Attributes are synthesis hints with no meaning
    in simulation: such sources are copied into ``scratch`` without them (same file
    name, so the build cache still keys on their content); every other source and
    the logic itself are used as they are.
    """
    sources = []
    for path in spec.sources:
        text = path.read_text(encoding="utf-8", errors="replace")
        if _CONDITIONAL_ATTRIBUTE.search(text) is None:
            sources.append(path)
            continue
        copy = scratch / path.name
        copy.write_text(_CONDITIONAL_ATTRIBUTE.sub("", text), encoding="utf-8")
        sources.append(copy)
    return replace(spec, sources=tuple(sources))


@dataclass
class Prepared:
    """A firmware directory, its menu's plan and the stimulus with the expected outputs."""

    firmware: FirmwareDir
    plan: MenuPlan
    stimulus: Stimulus
    seconds: float


def _hls_seeds(fw: FirmwareDir) -> dict[str, Path]:
    return {a.seed: fw.path / a.hls_project for a in fw.manifest.algorithms if a.hls_project}


def prepare(
    firmware_dir: str | os.PathLike[str] | FirmwareDir,
    stream: Iterable[EventBatch],
    *,
    max_bx: int | None = None,
    menu: Menu | None = None,
) -> Prepared:
    """Open the firmware, check it matches the menu, replay and pack ``stream``."""
    fw = open_firmware(firmware_dir)
    plan = build_plan(_menu_for(fw, menu))
    for required in ("out_valid", "out_bx", "out_orbit", "decision", "prescaled", "l1a"):
        if not any(p.name == required for p in fw.manifest.ports):
            raise CosimError(f"{fw.path}: the top module has no output port {required!r}")
    start = time.perf_counter()
    try:
        stimulus = make_stimulus(
            stream, plan, fw.manifest, max_bx=max_bx, network_seeds=_hls_seeds(fw)
        )
    except StreamError as exc:
        raise CosimError(str(exc)) from None
    return Prepared(fw, plan, stimulus, time.perf_counter() - start)


def _drive(stimulus: Stimulus, latency: int) -> dict[str, np.ndarray]:
    """Every driven input per cycle, then ``latency`` empty cycles that flush the pipeline."""
    drive = stimulus.port_stimulus()
    out = {}
    for name, values in drive.items():
        pad = np.zeros((latency, *values.shape[1:]), values.dtype)
        out[name] = np.concatenate([values, pad])
    return out


def _hls_checks(prepared: Prepared) -> tuple[list[OutputCheck], list[str]]:
    """Each network seed's HLS C simulation against the emulator's network, same inputs."""
    from cosim._hls_csim import HlsCsim  # noqa: PLC0415  (ctypes load only when needed)

    checks: list[OutputCheck] = []
    notes: list[str] = []
    rows = np.flatnonzero(prepared.stimulus.valid).astype(np.int64)
    for seed, project in _hls_seeds(prepared.firmware).items():
        network = prepared.plan.seed(seed).nn
        assert network is not None  # make_stimulus checked it
        x = prepared.stimulus.network_inputs[seed]
        try:
            csim = HlsCsim(project)
            got = csim.predict_raw(x, input_is_raw=True)
        except FirmwareError as exc:
            raise CosimError(f"seed {seed!r}: {exc}") from None
        result = network.model.predict_raw(x, input_is_raw=True)
        pairs = result if isinstance(result, list) else [result]
        expected, expected_type = pairs[network.output if len(pairs) > 1 else 0]
        source = str(project.relative_to(prepared.firmware.path))
        if expected_type != csim.output_type or np.shape(expected) != got.shape:
            # a project that does not even have the network's output is a failure
            checks.append(
                OutputCheck(
                    f"hls/{seed}", CheckGroup.HLS, source, str(csim.output_type), 0, 0,
                    note=f"HLS output {csim.output_type} {got.shape} is not the emulator "
                    f"network's {expected_type} {np.shape(expected)}: nothing compared",
                )
            )  # fmt: skip
            continue
        checks.append(
            compare_values(
                f"hls/{seed}", CheckGroup.HLS, source, csim.output_type, np.asarray(expected),
                got, rows,
                note="network outputs of hls4ml's C simulation vs the emulator's network",
            )
        )  # fmt: skip
    without = [
        a.seed
        for a in prepared.firmware.manifest.algorithms
        if a.kind == "nn" and not a.hls_project
    ]
    if without:
        notes.append(f"network seeds without an hls4ml project (RTL only): {', '.join(without)}")
    return checks, notes


def _meta(prepared: Prepared) -> dict[str, object]:
    s = prepared.stimulus
    m = prepared.firmware.manifest
    return {
        "firmware": str(prepared.firmware.path),
        "top": m.top_module,
        "menu": m.menu_name,
        "bx": int(s.valid.sum()),
        "cycles": len(s),
        "latency_cycles": m.latency_cycles,
        "objects dropped by the slots": sum(s.dropped.values()),
    }


def _notes(fw: FirmwareDir) -> list[str]:
    changed = fw.verify_files()
    if not changed:
        return []
    shown = ", ".join(changed[:5]) + (", ..." if len(changed) > 5 else "")
    return [f"{len(changed)} file(s) changed since the firmware was built: {shown}"]


def check(
    firmware_dir: str | os.PathLike[str] | FirmwareDir,
    stream: Iterable[EventBatch],
    *,
    simulator: str = "verilator",
    max_bx: int | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    menu: Menu | None = None,
    cache_dir: Path | None = None,
    hls: bool = True,
    threads: int | None = None,
) -> AgreementReport:
    """Run ``stream`` through the emulator, the RTL and the HLS C simulations; compare.

    ``simulator`` is ``verilator`` (default) or ``icarus``; builds are cached in
    ``cache_dir`` (default ``~/.cache/l1sim/sim``) by content. With ``out_dir`` the
    text, JSON, JUnit XML and HTML reports are written there. ``menu`` defaults to
    the firmware's own (``menu.yaml`` beside the manifest, or the default menu).
    ``threads``: threads of the simulated model (Verilator only); None picks them
    with :func:`cosim.runner.auto_threads` (two for a large design on two CPUs).
    """
    from cosim.runner import auto_threads, get_runner  # noqa: PLC0415  (cocotb when simulating)

    fw = open_firmware(firmware_dir)
    spec = dut_spec(fw)
    if threads is None:
        threads = auto_threads(spec, simulator)
    # a missing simulator or a wrong thread count fails before the replay
    runner = get_runner(simulator, cache_dir=cache_dir, threads=threads)
    prepared = prepare(fw, stream, max_bx=max_bx, menu=menu)
    latency = output_delay(fw.manifest)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="l1sim-rtl-") as scratch:
        if runner.name == "icarus":
            spec = icarus_compatible(spec, Path(scratch))
        build = runner.build(spec)
    built = time.perf_counter() - start
    result = runner.test(build, _drive(prepared.stimulus, latency))
    checks = compare_rtl(prepared.stimulus, result.outputs, fw.manifest)
    notes = _notes(fw)
    if hls:
        hls_checks, hls_notes = _hls_checks(prepared)
        checks += hls_checks
        notes += hls_notes
    meta = _meta(prepared)
    meta.update(
        {
            "simulator": f"{runner.name} ({runner.version.splitlines()[0]}), "
            f"{threads} thread{'s' if threads > 1 else ''}",
            "build": f"{built:.1f} s" + ("" if build.compiled else " (cached)"),
            "simulation": f"{result.seconds:.2f} s, {result.cycles_per_second:,.0f} cycles/s",
        }
    )
    report = AgreementReport(f"co-simulation of {fw.manifest.top_module}", checks, meta, notes)
    if out_dir is not None:
        write_reports(report, Path(out_dir))
    return report


def write_patterns(
    firmware_dir: str | os.PathLike[str] | FirmwareDir,
    stream: Iterable[EventBatch],
    out_dir: str | os.PathLike[str],
    *,
    format: str = "empv2",
    max_bx: int | None = None,
    menu: Menu | None = None,
) -> tuple[Path, Path]:
    """Write ``stimulus.<ext>`` and ``expected.<ext>`` pattern files; returns their paths."""
    prepared = prepare(firmware_dir, stream, max_bx=max_bx, menu=menu)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ext = "txt"
    paths = (out / f"stimulus-{format}.{ext}", out / f"expected-{format}.{ext}")
    manifest = prepared.firmware.manifest
    files = (
        stimulus_patterns(prepared.stimulus, manifest),
        expected_patterns(prepared.stimulus, manifest),
    )
    for pf, path in zip(files, paths, strict=True):
        try:
            pattern_files.write(pf, path, format, allow_loss=format == "apx")
        except StreamError as exc:
            raise CosimError(str(exc)) from None
    return paths


def compare_patterns(
    firmware_dir: str | os.PathLike[str] | FirmwareDir,
    stream: Iterable[EventBatch],
    captured: str | os.PathLike[str],
    *,
    max_bx: int | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    menu: Menu | None = None,
) -> AgreementReport:
    """Compare an output pattern file captured elsewhere with the expected outputs.

    The file must have the layout :func:`write_patterns` gives the expected outputs
    (one frame per clock cycle after reset, one link per 64-bit word of each output
    port); it is compared frame by frame, latency included.
    """
    prepared = prepare(firmware_dir, stream, max_bx=max_bx, menu=menu)
    manifest: Manifest = prepared.firmware.manifest
    try:
        pf = pattern_files.read(captured)
    except StreamError as exc:
        raise CosimError(str(exc)) from None
    n_cycles = len(prepared.stimulus) + output_delay(manifest)
    traces = traces_from_patterns(pf, manifest, str(captured), n_cycles)
    checks = compare_rtl(prepared.stimulus, traces, manifest, group=CheckGroup.PATTERNS)
    meta = _meta(prepared)
    meta["captured"] = str(captured)
    report = AgreementReport(f"pattern comparison of {manifest.top_module}", checks, meta)
    if out_dir is not None:
        write_reports(report, Path(out_dir))
    return report
