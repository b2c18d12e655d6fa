"""What each ``l1sim`` subcommand does, once argv is parsed (see :mod:`l1sim.cli`)."""

# ruff: noqa: T201  (this is the command line: tables go to stdout, progress to stderr)

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import streams
from emulator.analysis import CL_68
from emulator.replay import MANIFEST_NAME
from l1sim import _pipeline, _rates_text
from l1sim._errors import UserError
from l1sim._format import format_rate
from l1sim._outdir import staged_directory, staged_files
from l1sim._report import write_report
from l1sim._summary import read_summary, write_summary

SUMMARY_NAME = "summary.json"
DECISIONS_NAME = "decisions.parquet"


def _say(message: str) -> None:
    """A progress line on stderr (stdout stays clean for tables)."""
    print(f"l1sim: {message}", file=sys.stderr)


def report(directory: Path, *, label: str | None = None, com_tev: float | None = None) -> int:
    """Re-render the plots and ``report.html`` of ``directory`` from its ``summary.json``.

    Rendering happens in a temporary directory first; files are moved in only when
    every plot and the HTML were produced. ``label`` and ``com_tev``: the plots' CMS
    label text and √s (see :func:`l1sim._report.write_report`).
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise UserError(f"{directory}: no such directory")
    summary = read_summary(directory / SUMMARY_NAME)
    with staged_files(directory) as staging:
        write_report(summary, staging, label=label, com_tev=com_tev)
    _say(f"report written to {directory / 'report.html'}")
    return 0


def run(
    *,
    inputs: Sequence[str],
    out: Path,
    menu: Path | None,
    pileup: float | None,
    scheme: Path | None,
    max_bx: int | None,
    signals: Sequence[str],
    target_mu: float,
    random_seed: int,
    argv: Sequence[str],
    force: bool = False,
    minimum_bias: bool | None = None,
    prescale_column: int | None = None,
    input_format: str | None = None,
    workers: int | None = None,
    dask_address: str | None = None,
    firmware_dir: Path | None = None,
) -> int:
    """Replay ``inputs`` through the menu and write decisions, summary, plots and report.

    ``minimum_bias`` declares the background an unbiased sample (None: l1sim infers
    it, see :func:`l1sim._pipeline.minimum_bias`). ``prescale_column`` picks the
    prescale column of a uGT XML menu. ``input_format`` names the format of every
    input file not given as ``FORMAT:path`` (``--format``). ``workers`` / ``dask_address``
    replay on Dask (a local cluster of that many processes / a running scheduler).
    ``firmware_dir`` takes seed timing from a firmware manifest (``--firmware``).
    """
    inputs = _with_format(inputs, input_format)
    signals = _with_format(signals, input_format)
    job = _pipeline.Job(
        background=list(inputs),
        signals=list(signals),
        menu_path=menu,
        pileup=pileup,
        scheme_path=scheme,
        max_bx=max_bx,
        target_mu=target_mu,
        random_seed=random_seed,
        command=" ".join(argv),
        minimum_bias=minimum_bias,
        prescale_column=prescale_column,
        workers=workers,
        dask_address=dask_address,
        firmware_dir=firmware_dir,
    )
    files = [Path(streams.split_format(p)[1]) for p in [*inputs, *signals]]
    inputs_on_disk = [p for p in files if p.exists()]
    for extra in (menu, scheme):
        if extra is not None:
            inputs_on_disk.append(Path(extra))
    return _execute(job, out, force=force, protect=inputs_on_disk)


def _with_format(specs: Sequence[str], input_format: str | None) -> list[str]:
    """``specs`` with ``FORMAT:`` put before each file spec that names no format itself."""
    if input_format is None:
        return list(specs)
    name = streams.ALIASES.get(input_format.lower(), input_format.lower())
    if name not in streams.FORMATS or name == "synthetic":
        known = sorted({*streams.FORMATS, *streams.ALIASES} - {"synthetic"})
        raise UserError(f"--format {input_format}: unknown format; known: {', '.join(known)}")
    return [
        spec
        if spec.startswith("synthetic:") or streams.split_format(spec)[0] is not None
        else f"{name}:{spec}"
        for spec in specs
    ]


def demo(out: Path, *, max_bx: int | None, random_seed: int, force: bool = False) -> int:
    """The main job on the built-in default (see :func:`l1sim._pipeline.demo_job`)."""
    job = _pipeline.demo_job(max_bx=max_bx, random_seed=random_seed)
    return _execute(job, out, force=force)


def _execute(
    job: _pipeline.Job, out: Path, *, force: bool = False, protect: Sequence[Path] = ()
) -> int:
    """Run ``job`` into a staged directory whose files reach ``out`` only when everything worked."""
    with staged_directory(out, force=force, protect=protect) as staging:
        summary = _pipeline.execute(job, staging / DECISIONS_NAME, progress=True, say=_say)
        write_summary(staging / SUMMARY_NAME, summary)
        _say("drawing plots and report")
        write_report(summary, staging)
    rates = summary["rates"]
    accept = format_rate(rates["l1_accept"]["rate_hz"], rates["l1_accept"]["error_hz"])
    total = format_rate(rates["total"]["rate_hz"])
    if rates.get("minimum_bias", True):
        _say(
            f"L1 accept {accept} (limit 750 kHz), final OR {total}, deadtime "
            f"{100 * (rates.get('deadtime_fraction') or 0.0):.3g} %"
        )
    else:
        _say(
            f"final OR {total} of a sample that is not minimum bias: the L1 accept rate, "
            "deadtime and 750 kHz limit do not apply (see the report)"
        )
    _say(f"report written to {Path(out) / 'report.html'}")
    return 0


def _decisions_of(source: Path) -> tuple[Path, int | None, bool | None]:
    """The decisions file (or dataset) of ``source``, and its run's colliding bunches and
    minimum-bias flag (from the summary.json beside it; None without one).
    """
    source = Path(source)
    dataset = source.is_dir() and (source / MANIFEST_NAME).is_file()  # a partitioned dataset
    path = source / DECISIONS_NAME if source.is_dir() and not dataset else source
    if not path.exists():
        raise UserError(f"{path}: no such file")
    summary_path = path.parent / SUMMARY_NAME
    n_colliding = None
    minimum_bias = None
    if summary_path.is_file():  # the run's filling scheme normalises its rates
        run_summary = read_summary(summary_path)
        n_colliding = run_summary.get("normalisation", {}).get("colliding_bunches")
        minimum_bias = run_summary.get("inputs", {}).get("minimum_bias")
    return path, n_colliding, minimum_bias


def rates_table(
    source: Path, *, order: str | list[str], cl: float | None, table_format: str
) -> int:
    """Print the menu rate table of a run's decisions (``l1sim rates --table``)."""
    path, n_colliding, minimum_bias = _decisions_of(source)
    table = _rates_text.menu_table(
        path,
        order=order,
        cl=CL_68 if cl is None else cl,
        n_colliding=n_colliding,
    )
    print(_rates_text.table_text(table, table_format=table_format, minimum_bias=minimum_bias))
    return 0


def rates(source: Path, *, seeds: Sequence[str], target_rates: Sequence[float]) -> int:
    """Print seed rates from a run's decisions, and thresholds for target rates."""
    path, n_colliding, minimum_bias = _decisions_of(source)
    targets = list(target_rates) * len(seeds) if len(target_rates) == 1 else list(target_rates)
    print(
        _rates_text.rates_text(
            path,
            seeds=list(seeds),
            target_rates=targets,
            n_colliding=n_colliding,
            minimum_bias=minimum_bias,
        )
    )
    return 0
