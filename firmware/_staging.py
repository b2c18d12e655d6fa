"""A firmware directory appears complete or not at all, and never costs a user a file.

:func:`staged_build` yields a hidden staging directory beside the target
(``.NAME.partial-PID-…``); the build writes everything there, and only when the
block succeeds do its entries move into the target. On any exception the staging
directory is removed, so a failed build leaves nothing behind.

The target may be absent, empty, or an earlier firmware build. An earlier build
is recognised by its ``manifest.json``; its own entries (:data:`OWN_ENTRIES`) are
replaced, and only when every file under them is one its manifest lists: a file a
user added inside ``rtl/`` or ``hls/`` is never deleted (the build refuses and
names it). A directory holding other files is refused unless ``force``; even then
those files are left untouched, and an entry of the user's that has the name of
one of the build's own entries is never replaced.

This is the firmware layer's own small version of ``l1sim``'s output handling
(``firmware`` cannot import ``l1sim``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from firmware._errors import FirmwareError
from firmware._manifest import MANIFEST_NAME, FirmwareDir, ManifestError
from firmware._seeds import MENU_FILE
from streams import STAGING_PATTERN, move_entries_into, remove_dead_staging

__all__ = ["OWN_ENTRIES", "earlier_build", "staged_build"]

#: top-level names a firmware build writes (manifest, resources, Verilog/VHDL, HLS projects,
#: the menu as YAML)
OWN_ENTRIES = (MANIFEST_NAME, "resources.json", "rtl", "hls", MENU_FILE)


def earlier_build(target: Path) -> FirmwareDir | None:
    """The firmware build in ``target``, or None when it holds none (or an unreadable one)."""
    if not (target / MANIFEST_NAME).is_file():
        return None
    try:
        return FirmwareDir.open(target)
    except ManifestError:
        return None


def _own_entries(target: Path, earlier: FirmwareDir | None) -> list[str]:
    """The entries of ``target`` the build may replace; refuse what it must not touch."""
    present = {entry.name for entry in target.iterdir() if not STAGING_PATTERN.match(entry.name)}
    if earlier is None:
        clash = sorted(present & set(OWN_ENTRIES))
        if clash:
            raise FirmwareError(
                f"output directory {target} is not a firmware build but holds "
                f"{', '.join(clash)}; the build never replaces them: choose another --out"
            )
        return []
    listed = {entry.path for entry in earlier.manifest.files} | {MANIFEST_NAME}
    own = sorted(present & set(OWN_ENTRIES))
    for name in own:
        root = target / name
        files = [root] if not root.is_dir() else [p for p in root.rglob("*") if not p.is_dir()]
        for path in files:
            relative = path.relative_to(target).as_posix()
            if relative not in listed:
                raise FirmwareError(
                    f"{path} is not a file of the earlier firmware build in {target}; the "
                    "build would replace it: move it elsewhere or choose another --out"
                )
    return own


def _check_target(target: Path, force: bool) -> list[str]:
    """Refuse an unusable target; the names of the earlier build's entries to replace."""
    if not target.exists():
        return []
    if not target.is_dir():
        raise FirmwareError(f"output directory {target} exists and is not a directory")
    earlier = earlier_build(target)
    own = _own_entries(target, earlier)
    foreign = sorted(
        entry.name
        for entry in target.iterdir()
        if entry.name not in own and not STAGING_PATTERN.match(entry.name)
    )
    if foreign and not force:
        shown = ", ".join(foreign[:5]) + (
            f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        )
        raise FirmwareError(
            f"output directory {target} holds files that are not a firmware build ({shown}); "
            "choose another --out, or add --force to write beside them (left untouched)"
        )
    return own


@contextlib.contextmanager
def staged_build(target: Path, *, force: bool = False) -> Iterator[Path]:
    """A fresh staging directory whose entries become ``target``'s when the block succeeds.

    See the module docstring for what ``target`` may hold. On any exception the
    staging directory (and parents created for it) are removed.
    """
    target = Path(target).absolute()
    remove_dead_staging(target.parent, target.name)
    _check_target(target, force)
    created: list[Path] = []
    parent = target.parent
    while not parent.exists():
        created.append(parent)
        parent = parent.parent
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(
            tempfile.mkdtemp(prefix=f".{target.name}.partial-{os.getpid()}-", dir=target.parent)
        )
    except OSError as exc:
        raise FirmwareError(f"cannot create output directory {target}: {exc.strerror}") from exc
    try:
        staging.chmod(0o777 & ~_umask())  # mkdtemp makes 0700; the result is a normal directory
        yield staging
        old = _check_target(target, force)  # the directory may have changed meanwhile
        if target.exists():
            move_entries_into(staging, target, old)
        else:
            staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if not target.exists():
            for directory in created:  # innermost first; only while empty
                with contextlib.suppress(OSError):
                    directory.rmdir()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
