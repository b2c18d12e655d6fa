"""Write-then-rename: the one way every l1sim writer produces a file.

A reader never sees a half-written file: the data goes to a uniquely named
temporary file beside the target, which replaces the target only when the
writing code finished without an exception; otherwise it is removed.

Whole output directories (l1sim's run outputs, firmware builds) are staged in
hidden directories named ``.NAME.partial-PID-…`` (and ``.NAME.old-PID-…`` while
replacing): :data:`STAGING_PATTERN` recognises them and
:func:`remove_dead_staging` removes those whose process no longer exists (a run
killed with SIGKILL or by the out-of-memory killer cannot clean up itself).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path to write; on success it is renamed onto ``path``.

    The temporary file lives in the target's directory (so the rename is atomic on
    POSIX), is named ``.NAME.PID-RANDOM.tmp`` and is removed if the body raises. An
    ``OSError`` while writing (a full disk: ENOSPC, a quota, a read-only file system)
    is re-raised naming ``path``, since writers such as pyarrow's do not.
    """
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        yield temporary
        temporary.replace(target)
    except OSError as exc:
        named = exc.filename is not None and Path(str(exc.filename)) not in {temporary, target}
        if named:  # about another file (an input being read): its own message names it
            raise
        # a full disk, a quota, a read-only file system: name the file being written
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise OSError(exc.errno, f"cannot write ({reason})", str(target)) from exc
    finally:
        temporary.unlink(missing_ok=True)


#: names of staging directories: ``.NAME.partial-PID-…`` or ``.NAME.old-PID-…``
STAGING_PATTERN = re.compile(r"^\.(?P<name>.+)\.(?:partial|old)-(?P<pid>\d+)-[^/]*$")


def _pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (a reused id counts as alive: keep its files)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_dead_staging(directory: Path, name: str | None = None) -> list[Path]:
    """Remove staging directories in ``directory`` whose writing process is gone.

    Only entries matching :data:`STAGING_PATTERN` (optionally for one ``name``) are
    considered, never symlinks, and only when no process ``PID`` exists. Returns what
    was removed.
    """
    removed: list[Path] = []
    if not directory.is_dir():
        return removed
    for entry in directory.iterdir():
        match = STAGING_PATTERN.match(entry.name)
        if match is None or not entry.is_dir() or entry.is_symlink():
            continue
        if name is not None and match["name"] != name:
            continue
        if _pid_alive(int(match["pid"])):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


def move_entries_into(
    staging: Path,
    target: Path,
    old: Iterable[str],
    *,
    finish: Callable[[list[str]], None] | None = None,
) -> None:
    """Replace the ``old`` entries of ``target`` by every entry of ``staging``, or nothing.

    The old entries are first moved aside into a hidden ``.NAME.old-PID-…`` directory
    inside ``target``; then the staged entries are moved in and ``finish`` (given the
    new names) runs. If any step fails, the new entries go back to ``staging`` and the
    old ones back into ``target``. Entries of ``target`` not named in ``old`` are never
    touched. The moved-aside directory is removed at the end, success or not.
    """
    new = sorted(entry.name for entry in staging.iterdir())
    old = sorted(old)
    retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-{os.getpid()}-", dir=target))
    moved: list[str] = []
    try:
        for name in old:
            (target / name).rename(retired / name)
        for name in new:
            (staging / name).rename(target / name)
            moved.append(name)
        if finish is not None:
            finish(new)
    except BaseException:
        for name in moved:
            with contextlib.suppress(OSError):
                (target / name).rename(staging / name)
        for name in old:
            with contextlib.suppress(OSError):
                (retired / name).rename(target / name)
        raise
    finally:
        shutil.rmtree(retired, ignore_errors=True)
