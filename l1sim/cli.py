"""The ``l1sim`` command line: ``demo``, ``run``, ``rates`` and ``report``.

This is the only place that reads argv (and, through the pipeline, files named on
it). Every error a user can cause — a missing file, a bad menu, an unknown seed, an
empty input — prints one line ``l1sim: error: ...`` on stderr and exits with status
1 (2 for bad command-line syntax, as argparse does); ``-v`` adds the traceback.
Output directories are built next to the target and renamed into place at the end,
so a failed run leaves nothing behind.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from l1sim import __version__, _cosim_cmd, _firmware_cmd
from l1sim._errors import UserError
from l1sim._menu_cmd import add_parser as add_menu_parser
from l1sim._menu_cmd import run as run_menu

_EPILOG = """\
examples:
  l1sim demo --out demo-output
  l1sim run events.parquet --out my-run --pileup 60 --max-bx 500000
  l1sim run bkg.h5 --signal sig_A4l.h5 --menu my_menu.yaml --out my-run
  l1sim rates my-run --seed L1_SingleMu22 --target-rate 10000
  l1sim rates my-run --table --order rate --cl 95
  l1sim report my-run
"""


def _positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def _non_negative_float(text: str) -> float:
    """argparse type: a finite float >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text}")
    return value


def _positive_float(text: str) -> float:
    """argparse type: a finite float > 0."""
    value = _non_negative_float(text)
    if value == 0:
        raise argparse.ArgumentTypeError("expected a number > 0, got 0")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with its four subcommands."""
    parser = argparse.ArgumentParser(
        prog="l1sim",
        description="Bit-accurate Level-1 trigger emulation: replay events bunch crossing "
        "by bunch crossing through a trigger menu and report rates, pile-up dependence, "
        "signal efficiencies and timing.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"l1sim {__version__}")
    verbosity = argparse.ArgumentParser(add_help=False)
    verbosity.add_argument(
        "-v",
        "--verbose",
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,  # keep a -v given before the subcommand
        help="more output; tracebacks on errors",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        "--debug",
        action="store_true",
        help="more output; tracebacks on errors",
    )
    overwrite = argparse.ArgumentParser(add_help=False)
    overwrite.add_argument(
        "--force",
        action="store_true",
        help="write into an --out directory that also holds files l1sim did not write "
        "(those files are left untouched; l1sim's own earlier files are replaced)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = commands.add_parser(
        "demo",
        parents=[verbosity, overwrite],
        help="the main job on the built-in default: synthetic background with pile-up, "
        "ADC2021-like signals, default menu, full report",
        description="Replay synthetic background with pile-up on the default filling scheme "
        "and the ADC2021-like signals through the default menu, and write the full report.",
    )
    demo.add_argument(
        "-o",
        "--out",
        type=Path,
        default=Path("demo-output"),
        help="output directory (default: %(default)s)",
    )
    demo.add_argument(
        "--max-bx",
        type=_positive_int,
        default=None,
        metavar="N",
        help="bunch crossings of background to replay (default: about 60 orbits)",
    )
    demo.add_argument(
        "--random-seed",
        type=int,
        default=2026,
        metavar="S",
        help="random seed of the generator (default: %(default)s)",
    )

    run = commands.add_parser(
        "run",
        parents=[verbosity, overwrite],
        help="replay event files through a menu and write decisions, summary and report",
        description="Replay INPUT files (Parquet, ADC2021 HDF5, NanoAOD/tutorial ROOT, "
        "Dark Machines CSV, or a synthetic spec) bunch crossing by bunch crossing.",
    )
    run.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="background event source(s): a file, FORMAT:FILE, or synthetic:PROCESS?n=N",
    )
    run.add_argument(
        "--format",
        default=None,
        metavar="NAME",
        help="format of every input file not given as FORMAT:FILE, for files whose "
        "extension and first bytes do not say (parquet, arrow, hdf5, root, csv)",
    )
    run.add_argument("-o", "--out", type=Path, required=True, help="output directory")
    run.add_argument(
        "--menu",
        type=Path,
        default=None,
        metavar="FILE",
        help="menu YAML or CMS uGT XML (default: the built-in default menu)",
    )
    run.add_argument(
        "--prescale-column",
        type=int,
        default=None,
        metavar="N",
        help="uGT XML menus: take the prescales from column N of the prescale_L1TGlobal.csv "
        "beside the XML (default: every prescale 1)",
    )
    run.add_argument(
        "--pileup",
        type=_non_negative_float,
        default=None,
        metavar="MU",
        help="overlay Poisson(MU) synthetic minimum-bias interactions on each colliding BX "
        "(refused for inputs whose events carry their own pile-up)",
    )
    run.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        metavar="N",
        help="replay on a local Dask cluster of N worker processes (results identical to "
        "one process; decisions written as a partitioned dataset)",
    )
    run.add_argument(
        "--dask",
        default=None,
        metavar="ADDRESS",
        help="replay on the running Dask scheduler at ADDRESS (e.g. tcp://host:8786); "
        "--out must be on a file system the workers share",
    )
    run.add_argument(
        "--firmware",
        type=Path,
        default=None,
        metavar="DIR",
        help="a firmware directory built from this menu by 'l1sim firmware': seed timing "
        "comes from its manifest, and the report gains its latency and resources",
    )
    run.add_argument(
        "--minimum-bias",
        action="store_true",
        default=None,
        help="the inputs are an unbiased (zero- or minimum-bias) sample: only then are the "
        "L1 accept rate, deadtime and 750 kHz check meaningful (synthetic background is "
        "minimum bias by construction; files are not unless declared)",
    )
    run.add_argument(
        "--scheme",
        type=Path,
        default=None,
        metavar="FILE",
        help="filling scheme file (default: the built-in 2760-bunch 25 ns scheme)",
    )
    run.add_argument(
        "--max-bx",
        type=_positive_int,
        default=None,
        metavar="N",
        help="stop after N bunch crossings",
    )
    run.add_argument(
        "--signal",
        nargs="+",
        action="extend",
        default=[],
        metavar="INPUT",
        help="signal sample(s) for efficiencies and score distributions",
    )
    run.add_argument(
        "--target-mu",
        type=_positive_float,
        default=200.0,
        metavar="MU",
        help="pile-up to extrapolate the rate fit to (default: %(default)g)",
    )
    run.add_argument(
        "--random-seed",
        type=int,
        default=2026,
        metavar="S",
        help="random seed for pile-up overlay (default: %(default)s)",
    )

    rates = commands.add_parser(
        "rates",
        parents=[verbosity],
        help="rates (and thresholds for target rates) from a run's decisions",
        description="Print seed rates from DIR/decisions.parquet; with --seed and "
        "--target-rate, the threshold giving each target rate.",
    )
    rates.add_argument("source", type=Path, metavar="DIR|decisions.parquet")
    rates.add_argument(
        "--seed",
        action="append",
        default=[],
        metavar="S",
        help="seed to scan (repeatable; pairs with --target-rate in order)",
    )
    rates.add_argument(
        "--target-rate",
        type=_positive_float,
        action="append",
        default=[],
        metavar="HZ",
        help="target rate in Hz for the matching --seed (one value applies to all seeds)",
    )
    rates.add_argument(
        "--table",
        action="store_true",
        help="the menu table instead: per seed the rate before and after prescale, the "
        "pure rate and the cumulative rate, with uncertainties (zero counts as upper limits)",
    )
    rates.add_argument(
        "--order",
        default=None,
        metavar="menu|rate|S1,S2,...",
        help="order of the cumulative column (implies --table): menu order (default), "
        "highest rate after prescale first, or the seeds listed first (the rest in menu order)",
    )
    rates.add_argument(
        "--cl",
        type=int,
        choices=(68, 95),
        default=None,
        help="confidence level in %% of the upper limits of zero counts (implies --table; "
        "default 68)",
    )
    rates.add_argument(
        "--table-format",
        choices=("text", "json", "csv"),
        default=None,
        help="print the table as text (default), JSON or CSV (implies --table)",
    )

    report = commands.add_parser(
        "report",
        parents=[verbosity],
        help="re-render the plots and report.html of an output directory",
        description="Re-draw the PNG plots and the self-contained report.html of DIR "
        "from its summary.json.",
    )
    report.add_argument("directory", type=Path, metavar="DIR")
    report.add_argument(
        "--label",
        default=None,
        metavar="TEXT",
        help='the plots\' label after "CMS Simulation" (default: Private work)',
    )
    report.add_argument(
        "--com",
        type=_positive_float,
        default=None,
        metavar="TEV",
        help="centre-of-mass energy shown on the plots (default: from the inputs' names)",
    )
    add_menu_parser(commands, [verbosity])
    _cosim_cmd.add_parser(commands, [verbosity], _positive_int, _non_negative_float)
    _firmware_cmd.add_parser(commands, [verbosity, overwrite], _positive_float)
    return parser


def _table_order(text: str | None) -> str | list[str]:
    """``--order``: ``menu``, ``rate`` or comma-separated seed names."""
    if text is None or text in ("menu", "rate"):
        return text or "menu"
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise UserError(f"--order {text!r}: give menu, rate or seed names separated by commas")
    return names


def _dispatch(args: argparse.Namespace) -> int:
    """Run the chosen subcommand (imports the heavy modules only when needed)."""
    if args.command == "menu":
        return run_menu(args)
    if args.command == "cosim":
        return _cosim_cmd.run(args)
    if args.command == "firmware":
        return _firmware_cmd.run(args)
    from l1sim import _commands  # noqa: PLC0415  (keeps --help and --version fast)

    if args.command == "demo":
        return _commands.demo(
            args.out, max_bx=args.max_bx, random_seed=args.random_seed, force=args.force
        )
    if args.command == "run":
        return _commands.run(
            inputs=args.inputs,
            out=args.out,
            menu=args.menu,
            prescale_column=args.prescale_column,
            input_format=args.format,
            pileup=args.pileup,
            scheme=args.scheme,
            max_bx=args.max_bx,
            signals=args.signal,
            target_mu=args.target_mu,
            random_seed=args.random_seed,
            argv=args.argv,
            force=args.force,
            minimum_bias=args.minimum_bias,
            workers=args.workers,
            dask_address=args.dask,
            firmware_dir=args.firmware,
        )
    if args.command == "rates":
        if len(args.target_rate) > 1 and len(args.target_rate) != len(args.seed):
            raise UserError(
                f"{len(args.target_rate)} --target-rate values for {len(args.seed)} --seed "
                "values: give one target for all seeds or one per seed"
            )
        if args.target_rate and not args.seed:
            raise UserError("--target-rate needs at least one --seed")
        table = args.table or any(x is not None for x in (args.order, args.cl, args.table_format))
        if table:
            if args.seed or args.target_rate:
                raise UserError("--table prints every seed: it takes no --seed or --target-rate")
            return _commands.rates_table(
                args.source,
                order=_table_order(args.order),
                cl=0.95 if args.cl == 95 else None,
                table_format=args.table_format or "text",
            )
        return _commands.rates(args.source, seeds=args.seed, target_rates=args.target_rate)
    if args.command == "report":
        return _commands.report(args.directory, label=args.label, com_tev=args.com)
    raise AssertionError(args.command)  # argparse guarantees a known command


class Terminated(BaseException):
    """SIGTERM or SIGHUP, raised like KeyboardInterrupt so every staging area is cleaned up."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


#: the signal that asked this process to stop (an exception raised inside a numba
#: kernel may reach us wrapped in a SystemError, so the signal is remembered here)
_stop_signal: list[int] = []


def _raise_terminated(signum: int, _frame: object) -> None:
    _stop_signal.append(signum)
    raise Terminated(signum)


def _install_signal_handlers() -> None:
    """Batch systems stop jobs with SIGTERM (and a closed terminal sends SIGHUP)."""
    for signum in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError, OSError):  # not in the main thread
            signal.signal(signum, _raise_terminated)


def _error_line(exc: BaseException) -> str:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, OSError) and exc.filename is not None and str(exc.filename) not in message:
        message = f"{exc.filename}: {message}"
    return message


def _quiet_stdout() -> None:
    """After a closed pipe (``l1sim ... | head``), send what is left to /dev/null."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``l1sim`` console script; returns the process exit status.

    Exit status: 0 success, 1 an error (one line on stderr; ``--debug`` adds the
    traceback), 2 bad command-line syntax, 130 interrupted (Ctrl-C), 128 + N on
    signal N (SIGTERM 143, SIGHUP 129), 141 when stdout was closed (a pipe into
    ``head``): quietly, as Unix tools do.
    """
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(arguments)
    args.argv = ["l1sim", *arguments]
    previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}
    _install_signal_handlers()
    _stop_signal.clear()
    try:
        return _dispatch(args)
    except BaseException as exc:  # noqa: BLE001  (signals, Ctrl-C and errors: one line each)
        if _stop_signal and not isinstance(exc, SystemExit):
            print(f"l1sim: stopped by {signal.Signals(_stop_signal[0]).name}", file=sys.stderr)
            return 128 + _stop_signal[0]
        return _report_failure(exc, verbose=bool(args.verbose))
    finally:
        for signum, handler in previous.items():
            with contextlib.suppress(ValueError, OSError, TypeError):
                signal.signal(signum, handler)


def _report_failure(exc: BaseException, *, verbose: bool) -> int:
    """One line on stderr for ``exc`` and the exit status (see :func:`main`)."""
    try:
        raise exc
    except KeyboardInterrupt:
        print("l1sim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        _quiet_stdout()
        return 141
    except (UserError, OSError, ValueError, KeyError, LookupError) as error:
        if verbose:
            traceback.print_exc()
        print(f"l1sim: error: {_error_line(error)}", file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001  (the last line of defence: no traceback reaches a user)
        if verbose:
            traceback.print_exc()
        print(
            f"l1sim: error: internal error ({type(error).__name__}: {_error_line(error)}); "
            "rerun with --debug for the traceback and report it",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
