"""``l1sim cosim``: the firmware engineer's check that emulator, RTL and HLS agree.

``l1sim cosim --firmware DIR [INPUT...]`` replays INPUT (default: the synthetic
background with pile-up that ``l1sim demo`` uses) through the emulator and the
firmware's RTL (and each network seed's HLS C simulation), and prints the agreement
report; ``--out DIR`` also writes it as text, JSON, JUnit XML and HTML. Pattern-file
mode: ``--write-patterns`` writes the stimulus and the expected outputs as EMP v2 (or
APx) files into ``--out``; ``--compare-patterns CAPTURED`` compares an output pattern
file captured elsewhere with the expected one.

Exit status: 0 every output agrees, 1 a mismatch, 2 a set-up error (no simulator,
not a firmware directory, a manifest from another l1sim version, an unreadable
input), with one line on stderr. Argument parsing stays light: the co-simulation
modules are imported only when the command runs.
"""

# ruff: noqa: T201  (this is the command line: the report goes to stdout)

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["SETUP_EXIT", "add_parser", "run"]

#: exit status of a set-up error (cosim.ExitCode.SETUP, without importing cosim here)
SETUP_EXIT = 2
#: bunch crossings of the default synthetic background when no --max-bx is given
DEFAULT_MAX_BX = 10_000


def _auto_or(count: Callable[[str], int]) -> Callable[[str], int | None]:
    """An argument type: ``auto`` (None) or a count."""

    def auto_or_count(text: str) -> int | None:
        if text == "auto":
            return None
        try:
            return count(text)
        except argparse.ArgumentTypeError:
            raise argparse.ArgumentTypeError(
                f"expected an integer >= 1 or 'auto', got {text!r}"
            ) from None

    return auto_or_count


def add_parser(
    commands: Any,
    parents: list[argparse.ArgumentParser],
    count: Callable[[str], int],
    mu: Callable[[str], float],
) -> None:
    """Add the ``cosim`` subcommand (``count``/``mu``: the CLI's argument types)."""
    cosim = commands.add_parser(
        "cosim",
        parents=parents,
        help="check that the firmware's RTL (and HLS C simulation) agrees with the emulator "
        "on every output bit of every BX",
        description="Replay INPUT (default: synthetic background with pile-up, as l1sim demo) "
        "through the emulator and the RTL of a firmware directory in an HDL simulator, and "
        "compare every output of every BX. Exit 0: all agree; 1: a mismatch; 2: set-up error.",
    )
    cosim.add_argument("inputs", nargs="*", metavar="INPUT", help="event source(s)")
    cosim.add_argument(
        "--firmware", type=Path, required=True, metavar="DIR", help="firmware directory"
    )
    cosim.add_argument(
        "--menu",
        type=Path,
        default=None,
        metavar="FILE",
        help="menu YAML (or uGT XML) the firmware was built from (default: the firmware "
        "directory's menu.yaml, else the built-in default menu)",
    )
    cosim.add_argument(
        "--max-bx",
        type=count,
        default=None,
        metavar="N",
        help=f"bunch crossings to simulate (default: {DEFAULT_MAX_BX} without INPUT, else all)",
    )
    cosim.add_argument(
        "--pileup",
        type=mu,
        default=None,
        metavar="MU",
        help="overlay Poisson(MU) minimum-bias interactions (default without INPUT: the "
        "demo's levelled fill)",
    )
    cosim.add_argument(
        "--sim",
        choices=("verilator", "icarus"),
        default="verilator",
        help="HDL simulator (default: %(default)s)",
    )
    cosim.add_argument(
        "--sim-threads",
        type=_auto_or(count),
        default=None,
        metavar="N|auto",
        help="threads of the simulated model, Verilator only: give it N idle cores "
        "(default: auto, two for a large design such as the default menu when two CPUs "
        "are free, else one)",
    )
    cosim.add_argument("-o", "--out", type=Path, default=None, metavar="DIR",
                       help="write text, JSON, JUnit XML and HTML reports (and patterns) here")  # fmt: skip
    cosim.add_argument(
        "--write-patterns",
        action="store_true",
        help="write the stimulus and the expected outputs as pattern files into --out",
    )
    cosim.add_argument(
        "--pattern-format",
        choices=("empv2", "apx"),
        default="empv2",
        help="pattern file format (default: %(default)s)",
    )
    cosim.add_argument(
        "--compare-patterns",
        type=Path,
        default=None,
        metavar="CAPTURED",
        help="compare an output pattern file captured elsewhere with the expected outputs",
    )
    cosim.add_argument("--random-seed", type=int, default=2026, metavar="S",
                       help="random seed of the synthetic input and pile-up (default: %(default)s)")  # fmt: skip
    cosim.add_argument("--no-hls", action="store_true",
                       help="skip the HLS C simulation of network seeds")  # fmt: skip


def _stream(args: argparse.Namespace) -> Iterator[Any]:
    """The BX stream: INPUT on the default filling scheme, or the demo's background.

    Pile-up is overlaid as ``l1sim run`` and ``l1sim demo`` do (same minimum-bias
    sample and seeds for the same ``--random-seed``).
    """
    import streams  # noqa: PLC0415
    from l1sim import _pipeline  # noqa: PLC0415

    pileup: Any = args.pileup
    max_bx = args.max_bx
    specs = list(args.inputs)
    if not specs:
        demo = _pipeline.demo_job(max_bx=max_bx or DEFAULT_MAX_BX, random_seed=args.random_seed)
        specs, max_bx = demo.background, demo.max_bx
        if pileup is None:
            pileup = demo.pileup
    source = streams.chain(*[streams.open(spec) for spec in specs])
    placed = streams.timeline.place(source, streams.timeline.FillingScheme.default(),
                                    max_bx=max_bx)  # fmt: skip
    if pileup is None:
        return placed
    minimum_bias = streams.synthetic.generate("minbias", 100_000,
                                              seed=args.random_seed + 999_983)  # fmt: skip
    return streams.pileup.overlay(placed, minimum_bias, pileup, seed=args.random_seed)


def _say(message: str) -> None:
    print(f"l1sim: {message}", file=sys.stderr)


def _menu(path: Path | None) -> Any:
    """The menu named on the command line (None: let cosim find the firmware's own)."""
    if path is None:
        return None
    import cosim  # noqa: PLC0415
    from l1sim._errors import UserError  # noqa: PLC0415
    from l1sim._inputs import read_menu  # noqa: PLC0415

    try:
        return read_menu(path)[0]  # a CMS uGT XML menu: its imported algorithms
    except UserError as exc:  # a set-up error of the co-simulation (exit 2)
        raise cosim.CosimError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    """Run ``l1sim cosim``; returns the exit status (0 agree, 1 mismatch, 2 set-up error)."""
    import cosim  # noqa: PLC0415
    import streams  # noqa: PLC0415
    from l1sim._errors import UserError  # noqa: PLC0415
    from l1sim._outdir import staged_directory  # noqa: PLC0415

    try:
        if args.write_patterns and args.compare_patterns is not None:
            raise cosim.CosimError("give --write-patterns or --compare-patterns, not both")
        if args.write_patterns and args.out is None:
            raise cosim.CosimError("--write-patterns needs --out DIR for the pattern files")
        protect = [Path(p) for p in args.inputs if Path(p).exists()]
        if args.menu is not None:
            protect.append(args.menu)
        if args.compare_patterns is not None:
            protect.append(args.compare_patterns)
        if args.write_patterns:
            with staged_directory(args.out, protect=protect) as staging:
                paths = cosim.write_patterns(args.firmware, _stream(args), staging,
                                             format=args.pattern_format,
                                             menu=_menu(args.menu))  # fmt: skip
            for path in paths:
                _say(f"wrote {args.out / path.name}")
            return 0
        if args.compare_patterns is not None:
            report = cosim.compare_patterns(args.firmware, _stream(args), args.compare_patterns,
                                            menu=_menu(args.menu))  # fmt: skip
        else:
            report = cosim.check(args.firmware, _stream(args), simulator=args.sim,
                                 hls=not args.no_hls, menu=_menu(args.menu),
                                 threads=args.sim_threads)  # fmt: skip
        print(cosim.text_report(report), end="")
        if args.out is not None:
            with staged_directory(args.out, protect=protect) as staging:
                cosim.write_reports(report, staging)
            _say(f"reports written to {args.out / cosim.REPORT_FILES['html']}")
        return int(report.exit_code)
    except (cosim.CosimError, UserError, streams.StreamError, OSError, ValueError) as exc:
        # every way the run cannot start or finish is a set-up error (2), never a mismatch (1)
        message = str(exc).strip().splitlines()
        print(f"l1sim: error: {message[0] if message else type(exc).__name__}", file=sys.stderr)
        for line in message[1:]:
            print(f"  {line}", file=sys.stderr)
        return SETUP_EXIT
