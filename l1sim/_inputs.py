"""The job's inputs: menus, event files and specs, sample names, the filling scheme.

Every problem with an input becomes a :class:`~l1sim._errors.UserError` naming it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import streams
from l1sim._errors import UserError
from streams.timeline import FillingScheme

if TYPE_CHECKING:
    from emulator.menu import Menu, UgtImport

__all__ = ["filling_scheme", "input_label", "open_input", "read_menu", "signal_labels"]


def read_menu(
    path: str | Path, prescale_column: int | None = None
) -> tuple[Menu, UgtImport | None]:
    """The menu of a YAML file, or of a CMS uGT XML file (``.xml``) with its import.

    The import says which algorithms were emulated and which refused, and why; a bad
    or missing file is a UserError naming it.
    """
    from emulator.menu import MenuError, from_uGT_xml, load_menu  # noqa: PLC0415 - fast --help

    if not Path(path).is_file():
        raise UserError(f"{path}: no such menu file")
    try:
        if Path(path).suffix.lower() == ".xml":
            imported = from_uGT_xml(path, prescale_column=prescale_column)
            return imported.menu, imported
        return load_menu(path, prescale_column=prescale_column), None
    except MenuError as exc:
        raise UserError(str(exc)) from None


def filling_scheme(path: str | Path | None) -> FillingScheme:
    """The filling scheme file ``path``, or the default 2760-bunch scheme."""
    if path is None:
        return FillingScheme.default()
    if not Path(path).is_file():
        raise UserError(f"{path}: no such filling scheme file")
    try:
        return FillingScheme.load(path)
    except streams.StreamError as exc:
        raise UserError(str(exc)) from exc


def open_input(spec: str) -> streams.EventSource:
    """An event source for a path or synthetic spec; problems become UserErrors."""
    try:
        return streams.open(spec)
    except streams.UnknownFormatError as exc:
        raise UserError(
            f"{exc.path}: unknown event format (neither its extension nor its first bytes "
            f"say); name it with --format NAME (every input) or NAME:{exc.path} (this "
            f"one), NAME one of {', '.join(exc.known)}"
        ) from exc
    except streams.StreamError as exc:
        raise UserError(str(exc)) from exc


def input_label(spec: str) -> str:
    """Short name of an input for tables and legends (file stem or synthetic process)."""
    if spec.startswith("synthetic:"):
        return spec.removeprefix("synthetic:").split("?")[0]
    return Path(streams.split_format(spec)[1]).stem


def signal_labels(specs: Iterable[str]) -> list[str]:
    """A distinct name per signal sample: the file stem or synthetic process, made longer
    where two share it (``sigA/events`` and ``sigB/events``; ``A_4l?n=300&seed=1``).

    The same sample given twice is a UserError: its efficiencies would be counted twice.
    """
    specs = list(specs)
    keys = [_sample_key(spec) for spec in specs]
    for index, key in enumerate(keys):
        if key in keys[:index]:
            raise UserError(f"signal {specs[index]}: given twice (as {specs[keys.index(key)]})")
    short = [input_label(spec) for spec in specs]
    labels = list(short)
    for index, spec in enumerate(specs):
        if short.count(short[index]) == 1:
            continue
        if spec.startswith("synthetic:"):
            labels[index] = spec.removeprefix("synthetic:")
            continue
        twins = [keys[k] for k, label in enumerate(short) if label == short[index]]
        labels[index] = _shortest_distinct_tail(keys[index], twins)
    if len(set(labels)) != len(labels):
        twice = next(label for label in labels if labels.count(label) > 1)
        raise UserError(f"two signal samples would both be named {twice!r}: rename one file")
    return labels


def _sample_key(spec: str) -> str:
    """What identifies a sample: the resolved file, or the synthetic spec itself."""
    if spec.startswith("synthetic:"):
        return spec
    try:
        return str(Path(streams.split_format(spec)[1]).resolve())
    except (OSError, ValueError):
        return spec


def _shortest_distinct_tail(path: str, others: list[str]) -> str:
    """``parent/.../stem`` of ``path`` with as few parents as tell it from ``others``."""
    parts = Path(path).with_suffix("").parts
    for n in range(2, len(parts) + 1):
        tail = parts[-n:]
        if all(Path(o).with_suffix("").parts[-n:] != tail for o in others if o != path):
            return "/".join(tail)
    return path
