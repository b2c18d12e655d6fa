"""``l1sim firmware``: build a menu's firmware and print its latency and resources.

``l1sim firmware [--menu FILE] --out DIR [--clock-mhz F] [--vhdl] [--yosys-limit LUTS]
[--force]`` calls
:func:`firmware.build` (cached: an unchanged menu rebuilds nothing) and prints one
line per seed: kind, latency in clock cycles and ns, and the LUT/FF/DSP counts
yosys found for its datapath. :func:`firmware_section` is what ``l1sim run
--firmware DIR`` puts into ``summary.json`` (and the report shows).
"""

# ruff: noqa: T201  (this is the command line: the table goes to stdout, progress to stderr)

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from l1sim import __version__
from l1sim._errors import UserError

if TYPE_CHECKING:
    from firmware import FirmwareDir

__all__ = [
    "add_parser",
    "firmware",
    "firmware_section",
    "open_firmware",
    "resources_of",
    "run",
]

RESOURCES_NAME = "resources.json"
_COUNTS = ("lut", "ff", "dsp")


def add_parser(
    commands: Any, parents: list[argparse.ArgumentParser], clock: Callable[[str], float]
) -> None:
    """Add the ``firmware`` subcommand (``clock``: the CLI's positive-float type)."""
    parser = commands.add_parser(
        "firmware",
        parents=parents,
        help="generate the menu's firmware: da4ml RTL per seed, the top module, hls4ml "
        "projects of the networks, manifest and resource estimates",
        description="Build the firmware directory of a menu (default: the built-in menu): "
        "rtl/ (Verilog), hls/ (hls4ml projects), resources.json (yosys and da4ml) and "
        "manifest.json. An unchanged menu rebuilds nothing.",
    )
    parser.add_argument("-o", "--out", type=Path, required=True, metavar="DIR")
    parser.add_argument(
        "--menu",
        type=Path,
        default=None,
        metavar="FILE",
        help="menu YAML or CMS uGT XML (its imported algorithms; default: the built-in menu)",
    )
    parser.add_argument(
        "--clock-mhz",
        type=clock,
        default=None,
        metavar="F",
        help="clock of the top module (default: the fastest clock the menu's seeds declare)",
    )
    parser.add_argument(
        "--vhdl",
        action="store_true",
        help="also write VHDL-2008 (every datapath, the templates and the top) in rtl/vhdl/",
    )
    parser.add_argument(
        "--yosys-limit",
        type=_yosys_limit,
        default=None,
        metavar="LUTS",
        help="datapaths da4ml estimates above LUTS keep da4ml's estimate only in "
        "resources.json ('none': synthesise them all; each network of the default menu "
        "takes yosys more than 7 CPU minutes; default: 10000)",
    )


def _yosys_limit(text: str) -> float | str:
    """``--yosys-limit``: a number of LUTs or ``"none"``."""
    if text.strip().lower() == "none":
        return "none"
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number of LUTs or 'none', got {text!r}"
        ) from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected at least 0 LUTs, got {text!r}")
    return value


def run(args: argparse.Namespace) -> int:
    """``l1sim firmware`` from parsed arguments."""
    return firmware(
        out=args.out,
        menu=args.menu,
        clock_mhz=args.clock_mhz,
        vhdl=args.vhdl,
        force=args.force,
        yosys_limit=args.yosys_limit,
    )


def open_firmware(directory: Path) -> FirmwareDir:
    """A firmware directory built by this l1sim version (UserError otherwise)."""
    from firmware import FirmwareDir, ManifestError  # noqa: PLC0415 - lazy: fast --help

    try:
        return FirmwareDir.open(directory, l1sim_version=__version__)
    except ManifestError as exc:
        raise UserError(str(exc)) from None


def resources_of(fw: FirmwareDir) -> dict[str, Any]:
    """The directory's ``resources.json`` (empty when it has none or cannot be read)."""
    path = fw.path / RESOURCES_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def firmware_section(fw: FirmwareDir) -> dict[str, Any]:
    """The ``firmware`` key of ``summary.json``: latency and resources per algorithm.

    ``{directory, top_module, clock_mhz, ii, latency_cycles, latency_ns, content_hash,
    algorithms: [{name, kind, latency_cycles, latency_ns, ii, hls_project, note,
    yosys: {lut, ff, dsp, carry, ...}, da4ml: {lut, ff}}], total: {yosys: {...}}}``.
    """
    m = fw.manifest
    resources = resources_of(fw)
    per_algorithm = resources.get("algorithms", {})
    algorithms = []
    for a in m.algorithms:
        counts = per_algorithm.get(a.seed, {})
        algorithms.append(
            {
                "name": a.seed,
                "kind": a.kind,
                "latency_cycles": a.latency_cycles,
                "latency_ns": a.latency_ns,
                "ii": a.ii,
                "hls_project": a.hls_project,
                "note": a.note,
                "yosys": counts.get("yosys"),
                "da4ml": counts.get("da4ml"),
            }
        )
    return {
        "directory": str(fw.path),
        "top_module": m.top_module,
        "clock_mhz": m.clock_mhz,
        "ii": m.ii,
        "latency_cycles": m.latency_cycles,
        "latency_ns": m.latency_ns,
        "content_hash": m.content_hash,
        "algorithms": algorithms,
        "total": {"yosys": resources.get("yosys", {}).get("total")},
    }


def _count(counts: dict[str, Any] | None, key: str) -> str:
    if not counts or key not in counts:
        return "-"
    return str(round(counts[key]))


def _table(section: dict[str, Any]) -> list[str]:
    """The per-seed table printed by ``l1sim firmware``."""
    rows: list[tuple[str, ...]] = [("seed", "kind", "cycles", "ns", "LUT", "FF", "DSP")]
    estimated = False
    for a in section["algorithms"]:
        counts = tuple(_count(a["yosys"], k) for k in _COUNTS)
        if not a["yosys"] and a["da4ml"]:  # not synthesised: da4ml's estimate, marked
            estimated = True
            counts = tuple(f"~{_count(a['da4ml'], k)}" if k in a["da4ml"] else "-" for k in _COUNTS)
        rows.append(
            (
                a["name"],
                a["kind"],
                str(a["latency_cycles"]),
                f"{a['latency_ns']:.1f}",
                *counts,
            )
        )
    total = section["total"]["yosys"]
    rows.append(
        (
            "top (yosys, without ~ seeds)" if estimated else "top (all seeds, GT logic)",
            "",
            str(section["latency_cycles"]),
            f"{section['latency_ns']:.1f}",
            *(_count(total, k) for k in _COUNTS),
        )
    )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for k, row in enumerate(rows):
        cells = [
            c.ljust(w) if i < 2 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if k == 0 or k == len(rows) - 2:
            lines.append("  ".join("-" * w for w in widths))
    if estimated:
        lines.append(
            "~ da4ml's estimate: datapath above the yosys limit (resources.json: not_synthesised)"
        )
    return lines


def firmware(
    *,
    out: Path,
    menu: Path | None,
    clock_mhz: float | None,
    vhdl: bool,
    force: bool,
    yosys_limit: float | str | None = None,
) -> int:
    """Build the firmware of ``menu`` (default: the built-in menu) into ``out``.

    ``yosys_limit``: LUTs (or ``"none"``) above which a datapath is not synthesised;
    None keeps :func:`firmware.build`'s default.
    """
    options: dict[str, Any] = {}
    if yosys_limit is not None:
        options["yosys_lut_limit"] = None if yosys_limit == "none" else float(yosys_limit)
    from emulator.menu import default_menu  # noqa: PLC0415 - lazy: fast --help
    from firmware import FirmwareError, build  # noqa: PLC0415
    from l1sim._inputs import read_menu  # noqa: PLC0415

    the_menu = default_menu() if menu is None else read_menu(menu)[0]
    started = time.perf_counter()
    print(f"l1sim: building the firmware of menu {the_menu.name!r} in {out}", file=sys.stderr)
    try:
        fw = build(
            the_menu,
            out,
            clock_mhz=clock_mhz,
            vhdl=vhdl,
            force=force,
            **options,
        )
    except FirmwareError as exc:
        raise UserError(str(exc).strip()) from None
    section = firmware_section(fw)
    for line in _table(section):
        print(line)
    if fw.manifest.vhdl_sources:
        print(
            f"l1sim: VHDL in {out / 'rtl' / 'vhdl'}: {len(fw.manifest.vhdl_sources)} files "
            "(analysis order: manifest.json vhdl_sources)",
            file=sys.stderr,
        )
    print(
        f"l1sim: {len(section['algorithms'])} seeds at {section['clock_mhz']:g} MHz, "
        f"II {section['ii']}, top latency {section['latency_cycles']} cycles "
        f"({section['latency_ns']:.1f} ns); {out} ready in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    return 0
