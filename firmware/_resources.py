"""Resource estimates with open tools: yosys ``synth_xilinx`` and da4ml's own estimate.

No vendor tool runs here. :func:`yosys_resources` synthesises any Verilog top with
Debian's yosys (``synth_xilinx -noiopad``, out of context, hierarchy kept) and parses
its ``stat -json`` report into LUT, FF, DSP and carry counts per module, both a
module's own cells and its totals with every submodule instance included.
:func:`synthesise_units` does the same as separate yosys processes run in parallel
(each datapath on its own, the top with the datapaths as black boxes), merges the
reports, and caches each run's report under a hash of its inputs and the yosys
version (``~/.cache/l1sim/yosys``; ``L1SIM_YOSYS_CACHE`` moves or disables it).
:func:`da4ml_estimate` reads da4ml's estimate of a traced datapath (``cost``, in
LUTs, and for a pipeline its register bits). :func:`resources_document` puts both
into the ``resources.json`` dictionary of a firmware directory.

Cell types are grouped as Vivado reports them: ``LUT1``..``LUT6`` are LUTs,
``FD*`` flip-flops, ``CARRY4``/``CARRY8`` carry chains, ``DSP48E1``/``DSP48E2``
DSPs, ``SRL*`` shift registers, ``RAM*`` (distributed) LUT RAM, ``RAMB*`` block
RAM, ``MUXF*`` wide muxes. Anything else (``BUFG``, ``GND``, ``VCC``) is listed in
``cells`` only.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from firmware._errors import FirmwareError

__all__ = [
    "CACHE_ENV",
    "RESOURCES_FORMAT",
    "SUBMODULE_COMMAND",
    "SYNTH_COMMAND",
    "Da4mlEstimate",
    "ModuleResources",
    "SynthesisUnit",
    "UnitsResult",
    "YosysResources",
    "da4ml_estimate",
    "default_cache_dir",
    "read_stat_report",
    "resources_document",
    "synthesise_units",
    "yosys_resources",
    "yosys_version",
]

#: Version of the ``resources.json`` layout.
RESOURCES_FORMAT = "l1sim-resources/1"
#: The synthesis command of every yosys run (``family``, ``top`` filled in).
SYNTH_COMMAND = "synth_xilinx -family {family} -top {top} -noiopad"
#: ... of a unit synthesised out of context as a submodule: no clock buffer either
SUBMODULE_COMMAND = SYNTH_COMMAND + " -noclkbuf"
_FLOW_ONE = "one yosys run over the top, hierarchy kept"
_FLOW_SPLIT = (
    "one yosys process per unit in 'runs' (each datapath out of context, the top with the "
    "datapaths as black boxes), hierarchy kept, module counts merged; ABC's LUT mapping "
    "can differ by about a percent from one run over the whole top"
)
#: The counted categories, in report order.
CATEGORIES = ("lut", "ff", "dsp", "carry", "srl", "lutram", "bram", "muxf")
_YOSYS_HINT = "install yosys (Debian: apt-get install yosys)"
_LOG_TAIL = 30
#: where the top-level values of a stat report start (see :func:`read_stat_report`)
_STAT_KEY = {
    key: re.compile(rf'^ {{0,4}}"{key}"\s*:\s*', re.MULTILINE) for key in ("creator", "modules")
}


def _category(cell: str) -> str | None:
    """The resource category of a Xilinx primitive, or None for anything else."""
    prefixes = (
        ("LUT", "lut"),
        ("FD", "ff"),
        ("CARRY", "carry"),
        ("DSP48", "dsp"),
        ("SRL", "srl"),
        ("RAMB", "bram"),
        ("RAM", "lutram"),
        ("MUXF", "muxf"),
    )
    for prefix, category in prefixes:
        if cell.startswith(prefix):
            return category
    return None


@dataclass(frozen=True)
class ModuleResources:
    """Counts of one module: ``own`` cells, and ``total`` with its submodules included."""

    name: str
    own: dict[str, int]
    total: dict[str, int]
    cells: dict[str, int]
    instances: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class YosysResources:
    """A ``synth_xilinx`` run: per-module counts and the top's totals."""

    top: str
    family: str
    version: str
    modules: dict[str, ModuleResources]

    @property
    def total(self) -> dict[str, int]:
        """The top module's counts, every submodule instance included."""
        return self.modules[self.top].total


def _find_yosys() -> str:
    path = shutil.which("yosys")
    if path is None:
        raise FirmwareError(f"yosys not found: no 'yosys' on PATH; {_YOSYS_HINT}")
    return path


def yosys_version() -> str:
    """``yosys -V``, e.g. ``Yosys 0.23 (git sha1 7ce5011c24b)``."""
    done = subprocess.run(
        [_find_yosys(), "-V"], capture_output=True, text=True, check=False, timeout=60
    )
    return done.stdout.strip()


def _module_name(raw: str) -> str:
    """yosys escapes plain identifiers with a backslash; drop it."""
    return raw.removeprefix("\\")


def read_stat_report(text: str) -> dict[str, Any]:
    """The JSON of a yosys ``stat -json`` report, also as yosys 0.23 writes it.

    With ``-top`` (which ``synth_xilinx`` sets), yosys 0.23 prints the design
    hierarchy as plain text between the ``"modules"`` object and the ``"design"``
    totals, so the file is not JSON. The values this module needs (``creator``
    and ``modules``) are then decoded where they start; a report without them is
    a :class:`FirmwareError`.
    """
    try:
        report = json.loads(text)
    except json.JSONDecodeError as exc:
        report = {}
        decoder = json.JSONDecoder()
        for key in ("creator", "modules"):
            start = _STAT_KEY[key].search(text)
            if start is None:
                continue
            with contextlib.suppress(json.JSONDecodeError):
                report[key], _ = decoder.raw_decode(text, start.end())
        if "modules" not in report:
            raise FirmwareError(f"yosys stat -json: unreadable report ({exc})") from None
    if not isinstance(report, dict):
        raise FirmwareError("yosys stat -json: the report is not a JSON object")
    return report


def _parse_stat(report: Mapping[str, Any], top: str, family: str, version: str) -> YosysResources:
    """Per-module counts from yosys ``stat -json`` (own cells, then hierarchical totals)."""
    raw_modules = report.get("modules")
    if not isinstance(raw_modules, dict):
        raise FirmwareError("yosys stat -json: no 'modules' object in the report")
    try:
        cells_of = {
            _module_name(str(name)): {
                str(k): int(v) for k, v in dict(body["num_cells_by_type"]).items()
            }
            for name, body in raw_modules.items()
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise FirmwareError(
            f"yosys stat -json: a module without integer cell counts ({type(exc).__name__}: {exc})"
        ) from None
    if top not in cells_of:
        raise FirmwareError(f"yosys: top module {top!r} not in the synthesised design")
    totals: dict[str, dict[str, int]] = {}

    def total(name: str, stack: tuple[str, ...]) -> dict[str, int]:
        if name in totals:
            return totals[name]
        if name in stack:
            raise FirmwareError(f"yosys: module {name!r} instantiates itself")
        counts = dict.fromkeys(CATEGORIES, 0)
        for cell, n in cells_of[name].items():
            if cell in cells_of:
                for kind, m in total(cell, (*stack, name)).items():
                    counts[kind] += n * m
            elif (category := _category(cell)) is not None:
                counts[category] += n
        totals[name] = counts
        return counts

    modules = {}
    for name, cells in cells_of.items():
        own = dict.fromkeys(CATEGORIES, 0)
        instances = {}
        for cell, n in cells.items():
            if cell in cells_of:
                instances[cell] = n
            elif (category := _category(cell)) is not None:
                own[category] += n
        primitives = {cell: n for cell, n in cells.items() if cell not in cells_of}
        modules[name] = ModuleResources(name, own, total(name, ()), primitives, instances)
    return YosysResources(top, family, version, modules)


def _synth_script(sources: Sequence[Path], command: str, stat_file: Path) -> str:
    reads = "\n".join(f"read_verilog -sv {json.dumps(str(Path(s).resolve()))}" for s in sources)
    return f"{reads}\n{command}\ntee -q -o {stat_file} stat -json\n"


def _stat_report(
    sources: Sequence[Path],
    top: str,
    family: str,
    cwd: Path,
    timeout: float | None,
    command: str = SYNTH_COMMAND,
) -> dict[str, Any]:
    """One yosys run over ``sources`` with top ``top`` in ``cwd``: its ``stat -json`` report."""
    yosys = _find_yosys()
    if not sources:
        raise FirmwareError(f"yosys resources of {top!r}: no source files")
    # The temporary directory's name has no blanks, so the stat file needs no quoting.
    with tempfile.TemporaryDirectory(prefix="l1sim-yosys-") as tmp:
        stat_file = Path(tmp) / "stat.json"
        script = Path(tmp) / "synth.ys"
        script.write_text(
            _synth_script(sources, command.format(family=family, top=top), stat_file),
            encoding="utf-8",
        )
        try:
            done = subprocess.run(
                [yosys, "-q", "-s", str(script)],
                cwd=cwd,
                capture_output=True,
                text=True,
                check=False,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            raise FirmwareError(
                f"yosys synth_xilinx of {top!r} took more than {timeout} s"
            ) from None
        if done.returncode != 0 or not stat_file.is_file():
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-_LOG_TAIL:])
            raise FirmwareError(
                f"yosys synth_xilinx of {top!r} failed (exit {done.returncode}):\n{tail}"
            )
        return read_stat_report(stat_file.read_text(encoding="utf-8", errors="replace"))


def yosys_resources(
    sources: Sequence[Path],
    top: str,
    *,
    family: str = "xc7",
    workdir: Path | None = None,
    timeout: float | None = None,
) -> YosysResources:
    """Synthesise ``sources`` (Verilog) for Xilinx ``family`` with yosys; count per module.

    ``workdir`` is where yosys runs (relative ``$readmemh`` files resolve there;
    default: the first source's directory). A missing yosys or a failed
    synthesis is a :class:`FirmwareError` naming the top.
    """
    _find_yosys()
    if not sources:
        raise FirmwareError(f"yosys resources of {top!r}: no source files")
    cwd = workdir if workdir is not None else Path(sources[0]).resolve().parent
    report = _stat_report(sources, top, family, cwd, timeout)
    return _parse_stat(report, top, family, str(report.get("creator", yosys_version())))


# ----------------------------------------------------------------------------- per unit


#: environment variable naming the synthesis cache directory (``off``: no cache)
CACHE_ENV = "L1SIM_YOSYS_CACHE"


def default_cache_dir() -> Path | None:
    """Where synthesis results are cached: ``$L1SIM_YOSYS_CACHE`` if set (``off`` or
    empty: no cache, every unit is synthesised), else ``~/.cache/l1sim/yosys``."""
    chosen = os.environ.get(CACHE_ENV)
    if chosen is None:
        return Path.home() / ".cache" / "l1sim" / "yosys"
    if chosen.strip().lower() in ("", "off"):
        return None
    return Path(chosen).expanduser()


@dataclass(frozen=True)
class SynthesisUnit:
    """One yosys run: Verilog ``sources`` with module ``top`` as the root.

    ``data_files`` are copied into the run's directory (``$readmemh`` tables,
    read by relative name). A module the sources only declare as a
    ``(* blackbox *)`` stub stays a cell of the unit, to be filled in from the
    unit that synthesises it (:func:`synthesise_units`). A ``submodule`` unit is
    a module another unit instantiates: synthesised without a clock buffer
    (:data:`SUBMODULE_COMMAND`), as it would be inside its parent.
    """

    top: str
    sources: tuple[Path, ...]
    data_files: tuple[Path, ...] = ()
    submodule: bool = False

    @property
    def command(self) -> str:
        """The synthesis command template of this unit."""
        return SUBMODULE_COMMAND if self.submodule else SYNTH_COMMAND

    def cache_key(self, family: str, version: str) -> str:
        """SHA-256 over the yosys version, the script and every input's name and bytes."""
        digest = hashlib.sha256()
        header = {"format": RESOURCES_FORMAT, "yosys": version, "top": self.top}
        header["command"] = self.command.format(family=family, top=self.top)
        digest.update(json.dumps(header, sort_keys=True).encode())
        for group, paths in (("source", self.sources), ("data", self.data_files)):
            for path in paths:
                blob = Path(path).read_bytes()
                digest.update(f"{group}:{Path(path).name}:{len(blob)}:".encode())
                digest.update(blob)
        return digest.hexdigest()

    def size(self) -> int:
        """Bytes of Verilog: runs start biggest first, so the longest is not last."""
        return sum(Path(p).stat().st_size for p in self.sources)


def _unit_report(
    unit: SynthesisUnit,
    family: str,
    version: str,
    cache_dir: Path | None,
    timeout: float | None,
) -> tuple[dict[str, Any], bool]:
    """The stat report of one unit, from the cache when an identical run is stored there.

    Returns the report and whether it came from the cache. A cache entry is
    written through a temporary file and a rename, so a reader never sees half.
    """
    key = unit.cache_key(family, version)
    entry = cache_dir / f"{key}.json" if cache_dir is not None else None
    if entry is not None and entry.is_file():
        with contextlib.suppress(OSError, json.JSONDecodeError):
            cached = json.loads(entry.read_text(encoding="utf-8"))
            if isinstance(cached, dict) and isinstance(cached.get("modules"), dict):
                return cached, True
    with tempfile.TemporaryDirectory(prefix="l1sim-yosys-run-") as run:
        cwd = Path(run)
        for data in unit.data_files:
            shutil.copyfile(data, cwd / Path(data).name)
        report = _stat_report(unit.sources, unit.top, family, cwd, timeout, unit.command)
    kept = {"creator": report.get("creator", version), "modules": report["modules"]}
    if entry is not None:
        with contextlib.suppress(OSError):
            entry.parent.mkdir(parents=True, exist_ok=True)
            temporary = entry.with_name(f".{entry.name}.{os.getpid()}.tmp")
            temporary.write_text(json.dumps(kept, sort_keys=True), encoding="utf-8")
            temporary.replace(entry)
    return kept, False


@dataclass(frozen=True)
class UnitsResult:
    """:func:`synthesise_units`: the merged counts and which units came from the cache."""

    resources: YosysResources
    cached: tuple[str, ...]
    #: per unit (its top module) the synthesis command it ran
    commands: dict[str, str] = field(default_factory=dict)


def synthesise_units(
    units: Sequence[SynthesisUnit],
    top: str,
    *,
    family: str = "xc7",
    workers: int | None = None,
    cache_dir: Path | None = None,
    timeout: float | None = None,
) -> UnitsResult:
    """Synthesise ``units`` as separate yosys processes, in parallel; count per module.

    The same ``synth_xilinx`` as :func:`yosys_resources` (hierarchy kept, so a
    module's counts do not depend on the run it is in): the reports' modules are
    merged and ``top``'s totals include every unit it instantiates. ``workers``
    defaults to the number of CPUs; ``cache_dir`` (None: no cache) keeps each
    unit's report under a hash of the yosys version, the script and its inputs.
    """
    if not any(unit.top == top for unit in units):
        raise FirmwareError(f"yosys: no synthesis unit has the top module {top!r}")
    version = yosys_version()
    ordered = sorted(units, key=lambda u: (-u.size(), u.top))
    n_workers = max(1, min(len(ordered), workers or os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=n_workers) as pool:
        reports = list(
            pool.map(lambda u: _unit_report(u, family, version, cache_dir, timeout), ordered)
        )
    modules: dict[str, Any] = {}
    for report, _ in reports:
        for name, body in report["modules"].items():
            modules.setdefault(name, body)
    merged = {"creator": reports[0][0].get("creator", version), "modules": modules}
    cached = tuple(sorted(u.top for u, (_, hit) in zip(ordered, reports, strict=True) if hit))
    commands = {
        u.top: u.command.format(family=family, top=u.top)
        for u in sorted(units, key=lambda u: u.top)
    }
    return UnitsResult(_parse_stat(merged, top, family, str(merged["creator"])), cached, commands)


class _Da4mlLogic(Protocol):
    """What da4ml's ``CombLogic`` and ``Pipeline`` share: a LUT cost estimate."""

    @property
    def cost(self) -> float: ...


@dataclass(frozen=True)
class Da4mlEstimate:
    """da4ml's own estimate of a datapath: LUTs (``cost``) and register bits."""

    lut: float
    ff: int
    pipelined: bool


def da4ml_estimate(logic: _Da4mlLogic) -> Da4mlEstimate:
    """da4ml's estimate of a ``CombLogic`` (combinational, no registers) or ``Pipeline``.

    ``cost`` is da4ml's LUT estimate (its RTL model prints it as "Estimated cost:
    N LUTs"); a pipeline's ``reg_bits`` count the bits of its stage registers.
    """
    reg_bits = getattr(logic, "reg_bits", None)
    return Da4mlEstimate(
        lut=float(logic.cost),
        ff=int(reg_bits) if reg_bits is not None else 0,
        pipelined=reg_bits is not None,
    )


def resources_document(
    yosys: YosysResources | None,
    da4ml: Mapping[str, Da4mlEstimate] | None = None,
    *,
    algorithms: Mapping[str, str] | None = None,
    runs: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The ``resources.json`` dictionary of a firmware directory.

    ``algorithms`` maps an algorithm (seed) name to its module, whose yosys totals
    (submodules included) are reported for that algorithm beside ``da4ml``'s
    estimate under the same name. ``yosys=None`` records da4ml's estimates alone.
    ``runs`` (from :func:`synthesise_units`) maps each separate yosys run's top
    module to its command; without it the counts come from one run over the top.
    """
    document: dict[str, Any] = {"format": RESOURCES_FORMAT}
    if yosys is not None:
        document["yosys"] = {
            "version": yosys.version,
            "command": SYNTH_COMMAND.format(family=yosys.family, top=yosys.top),
            "flow": _FLOW_SPLIT if runs else _FLOW_ONE,
            "top": yosys.top,
            "total": yosys.total,
            "modules": {
                name: {"own": m.own, "total": m.total, "cells": m.cells, "instances": m.instances}
                for name, m in sorted(yosys.modules.items())
            },
        }
        if runs:
            document["yosys"]["runs"] = dict(sorted(runs.items()))
    estimates = dict(da4ml or {})
    per_algorithm: dict[str, Any] = {}
    for name, module in sorted((algorithms or {}).items()):
        entry: dict[str, Any] = {"module": module}
        if yosys is not None:
            if module not in yosys.modules:
                raise FirmwareError(
                    f"resources: algorithm {name!r}: module {module!r} not in the synthesised design"
                )
            entry["yosys"] = yosys.modules[module].total
        if name in estimates:
            entry["da4ml"] = _estimate_dict(estimates[name])
        per_algorithm[name] = entry
    for name, estimate in sorted(estimates.items()):
        per_algorithm.setdefault(name, {"da4ml": _estimate_dict(estimate)})
    document["algorithms"] = per_algorithm
    return document


def _estimate_dict(estimate: Da4mlEstimate) -> dict[str, Any]:
    return {"lut": round(estimate.lut), "ff": estimate.ff, "pipelined": estimate.pipelined}
