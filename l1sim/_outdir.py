"""Output directories that appear complete or not at all, and never cost a user a file.

Everything an l1sim command writes is built in a hidden staging directory
(``.NAME.partial-PID-…``) and moved into place at the very end, so a failed or
interrupted run never leaves a half-written report behind.

Re-running into an existing directory replaces only what l1sim itself wrote
there: every output directory carries a ledger (``.l1sim-output.json``) listing
its own files. A directory holding anything else is refused unless the user
says ``--force``, and even then the other files are left untouched; an input of
the current run is never replaced or removed. Staging directories left behind by
a process that no longer exists (killed with SIGKILL, out of memory) are removed
by the next run that finds them.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from l1sim._errors import UserError
from streams import STAGING_PATTERN, atomic_output, move_entries_into, remove_dead_staging

#: the ledger of the files l1sim wrote into an output directory
LEDGER_NAME = ".l1sim-output.json"
#: names an l1sim output directory written before ledgers existed may hold
_LEGACY_OUTPUTS = frozenset({"summary.json", "decisions.parquet", "report.html"})


def read_ledger(directory: Path) -> frozenset[str] | None:
    """The names l1sim wrote into ``directory``, or None when it has no ledger."""
    path = directory / LEDGER_NAME
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        names = data["files"]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise TypeError("'files' is not a list of names")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(
            f"{path}: unreadable ledger of l1sim's own files ({exc}); remove it by hand "
            "if this directory is not an l1sim output"
        ) from None
    return frozenset(n for n in names if "/" not in n and n not in {"", ".", ".."})


def owned_files(directory: Path) -> frozenset[str]:
    """Names in ``directory`` that l1sim wrote (ledger, or the legacy output names)."""
    ledger = read_ledger(directory)
    present = {entry.name for entry in directory.iterdir()}
    if ledger is not None:
        return frozenset(ledger & present)
    if present & _LEGACY_OUTPUTS:
        legacy = {n for n in present if n in _LEGACY_OUTPUTS or n.endswith(".png")}
        return frozenset(legacy)
    return frozenset()


def _foreign_files(directory: Path) -> list[str]:
    """Entries of ``directory`` that l1sim did not write (staging leftovers excluded)."""
    owned = owned_files(directory) | {LEDGER_NAME}
    return sorted(
        entry.name
        for entry in directory.iterdir()
        if entry.name not in owned and not STAGING_PATTERN.match(entry.name)
    )


def _check_target(target: Path, force: bool, protect: Iterable[Path]) -> None:
    """Refuse a target that is a file, holds foreign files (without force) or holds an input."""
    if not target.exists():
        return
    if not target.is_dir():
        raise UserError(f"output directory {target} exists and is not a directory")
    foreign = _foreign_files(target)
    if foreign and not force:
        shown = ", ".join(foreign[:5]) + (
            f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        )
        raise UserError(
            f"output directory {target} holds files l1sim did not write ({shown}); choose "
            "another --out, or add --force to write beside them (they are left untouched)"
        )
    replaced = {(target / name).resolve() for name in owned_files(target)}
    for path in protect:
        resolved = Path(path).resolve()
        if resolved in replaced:
            raise UserError(
                f"{path} is an input of this run and an earlier output in {target}; "
                "copy it elsewhere or choose another --out"
            )


def _write_ledger(directory: Path, names: Iterable[str]) -> None:
    text = json.dumps({"files": sorted(set(names))}, indent=1) + "\n"
    with atomic_output(directory / LEDGER_NAME) as temporary:
        temporary.write_text(text, encoding="utf-8")


def _make_staging(parent: Path, name: str, kind: str) -> Path:
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.{kind}-{os.getpid()}-", dir=parent))
    staging.chmod(0o777 & ~_umask())  # mkdtemp makes 0700; the result is a normal directory
    return staging


def _move_into(staging: Path, target: Path) -> None:
    """Move every entry of ``staging`` into ``target``, replacing l1sim's own older files.

    :func:`streams.move_entries_into` moves the older own files aside, the new ones in,
    and puts everything back if a step (the ledger included) fails; the ledger then
    lists the new files.
    """
    move_entries_into(
        staging, target, owned_files(target), finish=lambda new: _write_ledger(target, new)
    )


@contextlib.contextmanager
def staged_directory(
    target: Path, *, force: bool = False, protect: Iterable[Path] = ()
) -> Iterator[Path]:
    """Yield a fresh staging directory whose contents become ``target`` when the block succeeds.

    ``target`` may be absent, empty, or an earlier l1sim output (its own files are
    replaced, see the module docstring). A directory holding other files is refused
    unless ``force``; ``protect`` lists the run's inputs, which are never replaced.
    On any exception (including SIGTERM turned into one by the CLI) the staging
    directory and any parent directories created for it are removed.
    """
    target = Path(target).absolute()
    protect = list(protect)
    remove_dead_staging(target.parent, target.name)
    _check_target(target, force, protect)
    created_parents: list[Path] = []
    parent = target.parent
    while not parent.exists():
        created_parents.append(parent)
        parent = parent.parent
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = _make_staging(target.parent, target.name, "partial")
    except OSError as exc:
        raise UserError(f"cannot create output directory {target}: {exc.strerror}") from exc
    try:
        yield staging
        _check_target(target, force, protect)  # the directory may have changed meanwhile
        if target.exists():
            _move_into(staging, target)
        else:
            _write_ledger(staging, [entry.name for entry in staging.iterdir()])
            staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if not target.exists():
            for created in created_parents:  # innermost first; only if still empty
                with contextlib.suppress(OSError):
                    created.rmdir()


@contextlib.contextmanager
def staged_files(directory: Path) -> Iterator[Path]:
    """Stage files to add to an existing l1sim output ``directory`` (e.g. a re-rendered report).

    Yields a staging directory inside ``directory``; on success its files replace
    l1sim's own files of the same names and l1sim's older files that were not
    re-written (stale plots) are removed; the user's files are never touched.
    """
    directory = Path(directory)
    remove_dead_staging(directory)
    staging = _make_staging(directory, "report", "partial")
    try:
        yield staging
        keep = owned_files(directory)
        new = {entry.name for entry in staging.iterdir()}
        stale = [n for n in keep - new if n.endswith(".png") or n == "report.html"]
        for name in sorted(new):
            (staging / name).replace(directory / name)
        for name in stale:
            (directory / name).unlink(missing_ok=True)
        _write_ledger(directory, (keep - set(stale)) | new)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


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
