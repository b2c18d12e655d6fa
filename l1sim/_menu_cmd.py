"""``l1sim menu``: look at a trigger menu and convert it to the YAML format.

* ``l1sim menu show FILE [--prescale-column N] [--expressions]``: for a CMS uGT XML
  menu, every algorithm with its index, prescale and whether l1sim emulates it (or
  why not); for a YAML menu, its seeds with their cuts, prescales and masks.
* ``l1sim menu convert FILE --out menu.yaml [--prescale-column N] [--force]``: the
  menu written as YAML (:func:`emulator.menu.write_menu`) that reloads to the same
  menu; a converted XML menu lists the refused algorithms in its header comment. An
  existing ``--out`` is replaced only with ``--force``, and never when it is FILE.
"""

# ruff: noqa: T201  (this is the command line: tables go to stdout, progress to stderr)

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from l1sim import __version__
from l1sim._errors import UserError

if TYPE_CHECKING:
    from emulator.menu import Condition, Leg, Menu, Seed, UgtImport

__all__ = ["add_parser", "describe_seed", "run"]


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Add the ``menu`` subcommand with its ``show`` and ``convert`` actions."""
    parser = commands.add_parser(
        "menu",
        parents=parents,
        help="show a trigger menu (YAML or CMS uGT XML) or convert it to YAML",
        description="Show what l1sim emulates of a menu file, or write it as an editable "
        "menu YAML.",
    )
    actions = parser.add_subparsers(dest="menu_action", metavar="ACTION", required=True)
    column = argparse.ArgumentParser(add_help=False)
    column.add_argument(
        "--prescale-column",
        type=int,
        default=None,
        metavar="N",
        help="uGT XML menus: the prescale column (label of prescale_L1TGlobal.csv beside "
        "the XML) to take the prescales from (default: all prescales 1)",
    )
    show = actions.add_parser(
        "show",
        parents=[*parents, column],
        help="the algorithms imported and refused (XML) or the seeds (YAML)",
        description="Print the menu: for a uGT XML file every algorithm, emulated or "
        "refused with the reason; for a YAML file every seed and its cuts.",
    )
    show.add_argument("file", type=Path, metavar="FILE")
    show.add_argument(
        "--expressions", action="store_true", help="XML: also print each algorithm's expression"
    )
    convert = actions.add_parser(
        "convert",
        parents=[*parents, column],
        help="write the menu as YAML (that reloads to the same menu)",
        description="Write FILE (uGT XML or YAML) as a menu YAML a user can edit; it "
        "reloads to the same menu. Refused XML algorithms are listed in its header.",
    )
    convert.add_argument("file", type=Path, metavar="FILE")
    convert.add_argument("-o", "--out", type=Path, required=True, metavar="FILE.yaml")
    convert.add_argument("--force", action="store_true", help="replace an existing --out file")


def run(args: argparse.Namespace) -> int:
    """``l1sim menu`` from parsed arguments."""
    if args.menu_action == "show":
        print(show(args.file, prescale_column=args.prescale_column, expressions=args.expressions))
        return 0
    return convert(args.file, args.out, prescale_column=args.prescale_column, force=args.force)


def _import(path: Path, prescale_column: int | None) -> tuple[Menu, UgtImport | None]:
    """The menu of ``path`` and, for an XML file, the import with every algorithm's fate."""
    from l1sim._inputs import read_menu  # noqa: PLC0415 - fast --help

    return read_menu(path, prescale_column)


def _g(value: float) -> str:
    return f"{value:g}"


def _windows(name: str, windows: tuple[tuple[float, float], ...]) -> str:
    return " or ".join(f"{name} in [{lo:g}, {hi:g}]" for lo, hi in windows)


def _leg(leg: Leg) -> str:
    parts = [f"{leg.collection} pT>={_g(leg.pt)}"]
    if leg.eta:
        parts.append(_windows("η", leg.eta))
    if leg.phi:
        parts.append(_windows("φ", leg.phi))
    if leg.quality is not None:
        parts.append(f"quality {set(leg.quality)}")
    if leg.min_quality:
        parts.append(f"quality>={leg.min_quality}")
    if leg.isolation is not None:
        parts.append(f"isolation {set(leg.isolation)}")
    if leg.charge:
        parts.append(f"charge {leg.charge:+d}")
    return " ".join(parts)


def _pair_text(pair: Any) -> str:
    if pair is None or pair.is_empty():
        return ""
    cuts = [f"{k}={v:g}" for k, v in vars(pair).items() if v is not None]
    return f" pair({', '.join(cuts)})"


def _condition(condition: Condition) -> str:
    if condition.seed is not None:
        return describe_seed(condition.seed)
    text = " + ".join(_leg(leg) for leg in condition.legs) + _pair_text(condition.pair)
    if condition.charge_correlation.value != "any":
        text += f" charges {condition.charge_correlation.value}"
    return text


def describe_seed(seed: Seed) -> str:
    """One line saying what a seed selects, in physics units."""
    kind = seed.kind.value
    if kind == "objects":
        eta = f" |η|<={seed.eta_max:g}" if seed.eta_max is not None else ""
        quality = f" quality>={seed.min_quality}" if seed.min_quality else ""
        pts = ", ".join(_g(p) for p in seed.pt_thresholds)
        return f"{seed.multiplicity} {seed.collections[0]} pT>=({pts}) GeV{eta}{quality}" + (
            _pair_text(seed.pair)
        )
    threshold = seed.threshold if seed.threshold is not None else float("nan")
    if kind == "ht":
        return f"HT(jets pT>={seed.object_pt_min:g}, |η|<={seed.eta_max}) >= {threshold:g} GeV"
    if kind == "met":
        if seed.met_source == "event":
            return f"event MET >= {threshold:g} GeV"
        collections = "+".join(seed.collections)
        return (
            f"MHT({collections} pT>={seed.object_pt_min:g}, |η|<={seed.eta_max}) "
            f">= {threshold:g} GeV"
        )
    if kind == "nn":
        score = seed.nn.score if seed.nn is not None else "score"
        model = seed.nn.model_path.name if seed.nn is not None else "?"
        return f"{score}({model}) >= {threshold:g}"
    from emulator.menu import format_expression  # noqa: PLC0415 - fast --help

    assert seed.expression is not None  # an expression seed has one
    conditions = "; ".join(f"{c.name} = {_condition(c)}" for c in seed.conditions)
    return f"{format_expression(seed.expression)}  where {conditions}"


def _seed_table(menu: Menu) -> list[str]:
    width = max([len("seed"), *(len(s.name) for s in menu.seeds)])
    lines = [f"{'seed':<{width}}  {'prescale':>8}  selection"]
    for seed in menu.seeds:
        mask = "  (masked)" if seed.masked else ""
        lines.append(f"{seed.name:<{width}}  {seed.prescale:>8g}  {describe_seed(seed)}{mask}")
    lines.append(f"{len(menu.seeds)} seeds in menu {menu.name!r}")
    return lines


def _algorithm_table(imported: UgtImport, expressions: bool) -> list[str]:
    width = max(len(a.name) for a in imported.algorithms)
    lines = [f"{'index':>5}  {'algorithm':<{width}}  {'prescale':>8}  status"]
    for a in sorted(imported.algorithms, key=lambda a: a.index):
        prescale = f"{a.seed.prescale:g}" if a.seed is not None else "-"
        status = "emulated" if a.seed is not None else f"refused: {a.reason}"
        lines.append(f"{a.index:>5}  {a.name:<{width}}  {prescale:>8}  {status}")
        if expressions:
            lines.append(f"{'':>5}  {a.expression}")
    lines.append(import_line(imported))
    return lines


def import_line(imported: UgtImport) -> str:
    """``175 of 227 algorithms emulated, 52 refused`` for a uGT import."""
    return (
        f"{len(imported.imported)} of {len(imported.algorithms)} algorithms emulated, "
        f"{len(imported.refused)} refused"
    )


def show(path: Path, *, prescale_column: int | None = None, expressions: bool = False) -> str:
    """The text ``l1sim menu show`` prints."""
    path = Path(path)
    menu, imported = _import(path, prescale_column)
    lines = _seed_table(menu) if imported is None else _algorithm_table(imported, expressions)
    return "\n".join(lines)


def convert(
    path: Path, out: Path, *, prescale_column: int | None = None, force: bool = False
) -> int:
    """Write the menu of ``path`` as YAML to ``out`` (see the module docstring)."""
    from emulator.menu import MenuError, write_menu  # noqa: PLC0415 - fast --help

    path, out = Path(path), Path(out)
    menu, imported = _import(path, prescale_column)
    if out.exists() and out.resolve() == path.resolve():
        raise UserError(f"{out}: is the menu being converted; choose another --out")
    if out.exists() and not force:
        raise UserError(f"{out}: exists already (use --force to replace it)")
    column = f", prescale column {prescale_column}" if prescale_column is not None else ""
    header = [f"converted by l1sim {__version__} from {path}{column}"]
    if imported is not None:
        header.append(import_line(imported) + "; the refused ones are not in this file:")
        header += [f"  {a.index:>4} {a.name}: {a.reason}" for a in imported.refused]
    try:
        write_menu(menu, out, header="\n".join(header), overwrite=force)
    except MenuError as exc:
        raise UserError(str(exc)) from None
    print(f"l1sim: {len(menu.seeds)} seeds of menu {menu.name!r} written to {out}", file=sys.stderr)
    return 0
