"""Read a CMS uGT menu ("tmxsd" XML of the L1 menu editor) into the l1sim menu model.

:func:`from_uGT_xml` imports every algorithm it can express exactly and lists the
others with the reason (:class:`UgtImport`). What is imported:

* object requirements ``MU``, ``EG``, ``TAU``, ``JET`` with a ``.ge.`` threshold in
  GeV and their cuts: η windows (``ETA``, several per object), φ windows
  (``PHI``), quality sets (``QLTY``), isolation sets (``ISO``);
* ``comb{...}`` of 2-4 objects (distinct objects of one type), ``dist{...}[cut]``
  with Δη / Δφ / ΔR / mass limits (``DETA``, ``DPHI``, ``DR``, ``MASS``);
* energy sums ``HTT``, ``HTM`` (jets with pT >= 30 GeV and |η| <= 2.4, l1sim's
  definition of the layer-2 jet sums) and ``ETM`` (the event's missing ET);
* ``AND``, ``OR``, ``NOT`` and parentheses.

Refused, with the reason: external conditions (``EXT_...``: BPTX and BRIL signals
are not in the event streams), ``ETT`` (the calorimeter's tower sum, which no
stream carries), objects in another bunch crossing (``bx_offset``), and any
condition or cut the grammar above does not cover.

Hardware types of the imported menu follow the 2016 uGT scales: pT and sums in
0.5 GeV steps (``ap_ufixed<12,11>`` objects, ``ap_ufixed<13,12>`` sums, so
``.ge. 3.5`` is raw 7); η in steps of 0.010875 (the muon step, a quarter of the
calorimeter step 0.0435); φ in steps of 2π/576 (the muon step); 8 muon and 12
e/gamma, tau and jet slots. A window edge becomes "at least" / "at most" on that grid.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from emulator.fixed import FixedType
from emulator.menu._expr import ExpressionError, parse_expression
from emulator.menu._model import (
    ChargeCorrelation,
    Condition,
    HardwareTypes,
    Leg,
    Menu,
    MenuError,
    PairCuts,
    Seed,
    SeedKind,
)
from emulator.rules import CMS_RULES

__all__ = ["UGT_HARDWARE", "UgtAlgorithm", "UgtImport", "from_uGT_xml", "read_prescales"]

#: the imported menu's hardware types (2016 uGT scales, see the module docstring)
UGT_HARDWARE = HardwareTypes(
    pt=FixedType.parse("ap_ufixed<12,11,AP_TRN,AP_SAT>"),
    eta=FixedType.parse("ap_int<10>"),
    phi=FixedType.parse("ap_int<10>"),
    eta_lsb=0.010875,
    phi_lsb=2 * math.pi / 576,
    sum=FixedType.parse("ap_ufixed<13,12,AP_TRN,AP_SAT>"),
    slots=(("egamma", 12), ("muon", 8), ("tau", 12), ("jet", 12)),
)

_TYPES = {"MU": "muon", "EG": "egamma", "TAU": "tau", "JET": "jet"}
_OBJECT = re.compile(r"^(MU|EG|TAU|JET)(\d+(?:p\d+)?)(?:\[([^\]]*)\])?$")
_SUM = re.compile(r"^(HTT|HTM|ETT|ETM)(\d+(?:p\d+)?)$")
_GROUP = re.compile(r"^(comb|dist)\{(.*)\}(?:\[([^\]]*)\])?$")
#: jets entering HTT / HTM
_HT_JET_PT, _HT_JET_ETA = 30.0, 2.4


@dataclass(frozen=True)
class UgtAlgorithm:
    """One algorithm of the XML: imported (``seed``) or refused (``reason``)."""

    name: str
    index: int
    expression: str
    seed: Seed | None = None
    reason: str | None = None


@dataclass(frozen=True)
class UgtImport:
    """The result of an import: the menu of imported seeds and every algorithm's fate."""

    menu: Menu
    algorithms: tuple[UgtAlgorithm, ...] = field(default=())

    @property
    def imported(self) -> tuple[UgtAlgorithm, ...]:
        """Algorithms in the menu, in XML order."""
        return tuple(a for a in self.algorithms if a.seed is not None)

    @property
    def refused(self) -> tuple[UgtAlgorithm, ...]:
        """Algorithms left out, with the reason."""
        return tuple(a for a in self.algorithms if a.seed is None)

    def table(self) -> str:
        """A text table: index, name, imported or the reason, and the expression."""
        lines = [f"{'index':>5}  {'algorithm':<55} status"]
        for a in sorted(self.algorithms, key=lambda a: a.index):
            status = "imported" if a.seed is not None else f"refused: {a.reason}"
            lines.append(f"{a.index:>5}  {a.name:<55} {status}")
        lines.append(
            f"{len(self.imported)} of {len(self.algorithms)} algorithms imported, "
            f"{len(self.refused)} refused"
        )
        return "\n".join(lines)


class _Refused(Exception):
    """An algorithm l1sim cannot express exactly; the message is the reason."""


def _number(text: str) -> float:
    return float(text.replace("p", "."))


def _tokens(expression: str) -> list[str]:
    """Split an expression into atoms, keywords and parentheses (braces kept whole)."""
    tokens: list[str] = []
    current = ""
    depth = 0
    for char in expression:
        if char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
        if depth == 0 and char in " ()":
            if current:
                tokens.append(current)
            current = ""
            if char != " ":
                tokens.append(char)
            continue
        current += char
    if current:
        tokens.append(current)
    return tokens


class _Algorithm:
    """Converts one <algorithm> element."""

    def __init__(self, element: ET.Element) -> None:
        self.name = element.findtext("name", "").strip()
        self.expression = " ".join(element.findtext("expression", "").split())
        self.cuts = {c.findtext("name", ""): c for c in element.findall("cut")}
        for requirement in element.findall("object_requirement"):
            if requirement.findtext("bx_offset", "0").strip() not in ("0", "+0"):
                raise _Refused("an object in another bunch crossing (bx_offset)")
            if requirement.findtext("comparison_operator", ".ge.").strip() != ".ge.":
                raise _Refused("a comparison other than .ge.")
        self.conditions: list[Condition] = []

    def _cut(self, name: str, kind: str) -> ET.Element:
        cut = self.cuts.get(name)
        if cut is None:
            raise _Refused(f"cut {name!r} is not defined in the algorithm")
        if cut.findtext("type", "").strip() != kind:
            raise _Refused(f"cut {name!r} of type {cut.findtext('type')} where {kind} expected")
        return cut

    def _window(self, cut: ET.Element) -> tuple[float, float]:
        return float(cut.findtext("minimum", "0")), float(cut.findtext("maximum", "0"))

    def _words(self, cut: ET.Element) -> tuple[int, ...]:
        data = cut.findtext("data", "").strip()
        return tuple(sorted({int(v) for v in data.split(",") if v.strip()}))

    def leg(self, atom: str) -> Leg:
        match = _OBJECT.match(atom)
        if match is None:
            raise _Refused(f"object {atom!r} is not a MU/EG/TAU/JET requirement")
        kind, threshold, cut_list = match.groups()
        eta: list[tuple[float, float]] = []
        phi: list[tuple[float, float]] = []
        quality = isolation = None
        for name in filter(None, (c.strip() for c in (cut_list or "").split(","))):
            cut = self.cuts.get(name)
            cut_type = cut.findtext("type", "").strip() if cut is not None else ""
            if cut is None:
                raise _Refused(f"cut {name!r} is not defined in the algorithm")
            if cut_type == "ETA":
                eta.append(self._window(cut))
            elif cut_type == "PHI":
                lo, hi = self._window(cut)
                phi.append((_wrap(lo), _wrap(hi)))
            elif cut_type == "QLTY":
                quality = self._words(cut)
            elif cut_type == "ISO":
                isolation = self._words(cut)
            else:
                raise _Refused(f"object cut {name!r} of type {cut_type} is not supported")
        return Leg(
            collection=_TYPES[kind],
            pt=_number(threshold),
            eta=tuple(eta),
            phi=tuple(phi),
            quality=quality,
            isolation=isolation,
        )

    def condition(self, atom: str) -> str:
        """Convert one atom to a named condition; returns its name."""
        name = f"c{len(self.conditions) + 1}"
        group = _GROUP.match(atom)
        if atom.startswith("EXT_"):
            raise _Refused(f"external condition {atom} (BPTX/BRIL signals are not in the input)")
        if group is not None:
            kind, inner, cut_list = group.groups()
            legs = tuple(self.leg(a.strip()) for a in _split(inner))
            if not 2 <= len(legs) <= 4 or len({leg.collection for leg in legs}) != 1:
                raise _Refused(f"{kind}{{}} of {len(legs)} objects of different types")
            pair = None
            correlation = ChargeCorrelation.ANY
            if kind == "dist":
                if len(legs) != 2:
                    raise _Refused("dist{} of more than two objects")
                pair, correlation = self._correlation(cut_list or "")
            elif cut_list:
                raise _Refused(f"cuts on comb{{}}: {cut_list}")
            self.conditions.append(
                Condition(name=name, legs=legs, pair=pair, charge_correlation=correlation)
            )
            return name
        total = _SUM.match(atom)
        if total is not None:
            self.conditions.append(Condition(name=name, seed=_sum_seed(self.name, name, total)))
            return name
        self.conditions.append(Condition(name=name, legs=(self.leg(atom),)))
        return name

    def _correlation(self, cut_list: str) -> tuple[PairCuts, ChargeCorrelation]:
        limits: dict[str, float] = {}
        correlation = ChargeCorrelation.ANY
        for name in filter(None, (c.strip() for c in cut_list.split(","))):
            cut = self.cuts.get(name)
            if cut is None:
                raise _Refused(f"cut {name!r} is not defined in the algorithm")
            cut_type = cut.findtext("type", "").strip()
            lo, hi = self._window(cut)
            key = {"DETA": "deta", "DPHI": "dphi", "DR": "dr", "MASS": "mass"}.get(cut_type)
            if cut_type == "CHGCOR":
                data = cut.findtext("data", "").strip().lower()
                correlation = {"ls": ChargeCorrelation.LIKE, "os": ChargeCorrelation.OPPOSITE}[data]
                continue
            if key is None:
                raise _Refused(f"correlation cut {name!r} of type {cut_type} is not supported")
            limits[f"{key}_min"], limits[f"{key}_max"] = lo, hi
        return PairCuts(
            **{k: (v if v > 0 or k.endswith("max") else None) for k, v in limits.items()}
        ), correlation

    def seed(self) -> Seed:
        if not self.expression:
            raise _Refused("empty expression")
        tokens = _tokens(self.expression)
        text = []
        for token in tokens:
            if token in ("(", ")") or token.upper() in ("AND", "OR", "NOT"):
                text.append(token.upper() if token not in "()" else token)
            else:
                text.append(self.condition(token))
        try:
            expression = parse_expression(" ".join(text))
        except ExpressionError as exc:
            raise _Refused(f"expression does not parse ({exc})") from None
        return Seed(
            name=_seed_name(self.name),
            kind=SeedKind.EXPRESSION,
            expression=expression,
            conditions=tuple(self.conditions),
        )


def _wrap(phi: float) -> float:
    """uGT φ in [0, 2π) → l1sim φ in [-π, π]."""
    return phi - 2 * math.pi if phi > math.pi else phi


def _split(inner: str) -> list[str]:
    """Split ``a[x,y],b[z]`` at the commas outside brackets."""
    parts, current, depth = [], "", 0
    for char in inner:
        depth += char == "["
        depth -= char == "]"
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def _seed_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return cleaned if re.match(r"^[A-Za-z_]", cleaned) else f"L1_{cleaned}"


def _sum_seed(algorithm: str, name: str, match: re.Match[str]) -> Seed:
    kind, threshold = match.group(1), _number(match.group(2))
    inner_name = f"{_seed_name(algorithm)}__{name}"
    if kind == "ETT":
        raise _Refused("ETT (the calorimeter's total tower ET is not in the event streams)")
    if kind == "ETM":
        # collections: unused for the event's MET; ("jet",) is what the YAML reader gives
        return Seed(
            name=inner_name,
            kind=SeedKind.MET,
            collections=("jet",),
            met_source="event",
            threshold=threshold,
        )
    common = {"object_pt_min": _HT_JET_PT, "eta_max": _HT_JET_ETA, "threshold": threshold}
    if kind == "HTT":
        return Seed(name=inner_name, kind=SeedKind.HT, collections=("jet",), **common)  # type: ignore[arg-type]
    return Seed(name=inner_name, kind=SeedKind.MET, collections=("jet",), **common)  # type: ignore[arg-type]


def read_prescales(path: Path, column: int) -> dict[int, float]:
    """Prescale per uGT algorithm index from a uGT prescale CSV, column labelled ``column``.

    The row with algorithm id -1 labels the columns (e.g. -3, -2, 1, 2, ...); the
    column whose label is ``column`` is taken. Errors name the file and line.
    """
    labels: list[int] | None = None
    rows: dict[int, list[float]] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MenuError(f"{path}: cannot read the prescale table ({exc})") from None
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            values = [float(v) for v in line.split(",")]
        except ValueError:
            raise MenuError(f"{path}: line {lineno}: expected comma-separated numbers") from None
        if int(values[0]) == -1:
            labels = [int(v) for v in values[1:]]
        else:
            rows[int(values[0])] = values[1:]
    if labels is None:
        raise MenuError(f"{path}: no column-label row (algorithm id -1)")
    if column not in labels:
        raise MenuError(f"{path}: no prescale column {column}; columns: {labels}")
    k = labels.index(column)
    return {index: values[k] for index, values in rows.items() if k < len(values)}


def from_uGT_xml(path: str | Path, *, prescale_column: int | None = None) -> UgtImport:
    """Import a uGT XML menu; with ``prescale_column``, prescales from the CSV beside it.

    The CSV is ``prescale_L1TGlobal.csv`` in the menu's directory. Refused algorithms
    are listed in the result, never silently dropped.
    """
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise MenuError(f"{path}: not a readable uGT XML menu ({exc})") from None
    prescales = (
        read_prescales(path.parent / "prescale_L1TGlobal.csv", prescale_column)
        if prescale_column is not None
        else {}
    )
    algorithms = []
    seeds = []
    for element in root.iter("algorithm"):
        name = element.findtext("name", "").strip()
        index = int(element.findtext("index", "-1"))
        expression = " ".join(element.findtext("expression", "").split())
        try:
            seed = _Algorithm(element).seed()
            prescale = prescales.get(index, 1.0)
            seed = Seed(**{**vars(seed), "prescale": prescale})
            menu_seed = Menu(name="check", seeds=(seed,), hardware=UGT_HARDWARE).seeds[0]
        except _Refused as exc:
            algorithms.append(UgtAlgorithm(name, index, expression, reason=str(exc)))
            continue
        except MenuError as exc:
            algorithms.append(UgtAlgorithm(name, index, expression, reason=str(exc)))
            continue
        algorithms.append(UgtAlgorithm(name, index, expression, seed=menu_seed))
        seeds.append(menu_seed)
    if not seeds:
        raise MenuError(f"{path}: no algorithm could be imported")
    menu_name = root.findtext("name", path.stem).strip() or path.stem
    menu = Menu(
        name=menu_name, seeds=tuple(seeds), hardware=UGT_HARDWARE, rules=CMS_RULES, path=path
    )
    return UgtImport(menu=menu, algorithms=tuple(algorithms))
