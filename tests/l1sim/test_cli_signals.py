"""The CLI under SIGTERM/SIGHUP, a closed pipe and unexpected errors: no traceback, no leftovers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from l1sim import cli


def _l1sim(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from l1sim.cli import main; sys.exit(main())", *args]


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_signal_mid_run_cleans_up(tmp_path: Path, signum: int, status: int) -> None:
    """A batch system's SIGTERM mid-replay: exit 128+N, no staging directory left."""
    out = tmp_path / "o"
    process = subprocess.Popen(
        _l1sim("run", "synthetic:background?n=3000000&seed=1", "--out", str(out)),
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # wait until the run has started writing
        if any(p.name.startswith(".o.partial-") for p in tmp_path.iterdir()):
            break
        time.sleep(0.2)
    time.sleep(3.0)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == status, stderr
    assert "Traceback" not in stderr
    assert signal.Signals(signum).name in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_broken_pipe_exits_quietly(tmp_path: Path) -> None:
    """``l1sim --help | head -1`` style: the reader goes away, l1sim says nothing."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    completed = subprocess.run(
        _l1sim("rates", str(tmp_path / "missing")),
        stdout=write_end,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    os.close(write_end)
    assert "Broken pipe" not in completed.stderr
    assert "Traceback" not in completed.stderr


def test_unexpected_exception_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def explode(_args: object) -> int:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(cli, "_dispatch", explode)
    assert cli.main(["report", "x"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "internal error (ZeroDivisionError" in err
    assert "--debug" in err
    assert cli.main(["report", "x", "--debug"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_force_option_is_offered() -> None:
    parser = cli.build_parser()
    args = parser.parse_args(["run", "x.parquet", "--out", "o", "--force"])
    assert args.force is True
