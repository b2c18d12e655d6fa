"""Output directories that appear complete or not at all.

Everything an l1sim command writes is built in a hidden temporary directory next to
the target and renamed into place at the very end, so a failed or interrupted run
never leaves a half-written report behind. Files written on their own (a report
re-rendered into an existing directory) go through a temporary file and a rename.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from l1sim._errors import UserError
from streams import atomic_output

#: a directory holding one of these is recognised as an earlier l1sim output
_OUTPUT_MARKERS = ("summary.json", "decisions.parquet", "report.html")


def _is_replaceable(path: Path) -> bool:
    """Whether ``path`` may be replaced: absent, an empty directory or an l1sim output."""
    if not path.exists():
        return True
    if not path.is_dir():
        return False
    entries = {entry.name for entry in path.iterdir()}
    return not entries or any(marker in entries for marker in _OUTPUT_MARKERS)


@contextlib.contextmanager
def staged_directory(target: Path) -> Iterator[Path]:
    """Yield a fresh temporary directory that becomes ``target`` when the block succeeds.

    An existing ``target`` is replaced only when it is empty or an earlier l1sim
    output (so ``l1sim demo`` can be re-run); anything else is refused rather than
    deleted. On any exception the temporary directory, and any parent directories
    created for it, are removed and the exception propagates.
    """
    target = Path(target).absolute()
    if not _is_replaceable(target):
        raise UserError(
            f"output directory {target} exists and is not an l1sim output; "
            "choose another --out or remove it"
        )
    created_parents: list[Path] = []
    parent = target.parent
    while not parent.exists():
        created_parents.append(parent)
        parent = parent.parent
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
        staging.chmod(0o777 & ~_umask())  # mkdtemp makes 0700; the result is a normal directory
    except OSError as exc:
        raise UserError(f"cannot create output directory {target}: {exc.strerror}") from exc
    try:
        yield staging
        if target.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            target.rename(retired / "old")
            staging.rename(target)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for created in created_parents:  # innermost first
            with contextlib.suppress(OSError):
                created.rmdir()
        raise


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory and a rename.

    The temporary name is unique and opened exclusively; permissions follow the umask.
    """
    with atomic_output(path) as temporary, temporary.open("xb") as handle:
        handle.write(data)


def _umask() -> int:
    """The process umask (read by setting and restoring it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
