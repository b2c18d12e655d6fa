"""Read and validate menu YAML files.

Every problem is reported as a :class:`MenuError` naming the file, the seed and
the field, because menus are edited by hand and a vague error costs an afternoon.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml

from emulator.fixed import FixedType
from emulator.menu._model import (
    COLLECTIONS,
    NN_SCORES,
    HardwareTypes,
    Menu,
    MenuError,
    NNSpec,
    PairCuts,
    Seed,
    SeedKind,
)
from emulator.menu._nn import resolve_nn_seed
from emulator.rules import CMS_RULES, TriggerRule, prescale_factor_x100
from streams.slots import ADC2021, FIELDS, SlotLayout

__all__ = ["default_menu", "load_menu", "menu_from_dict"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MULTIPLICITY = {"single": 1, "double": 2, "triple": 3, "quad": 4}
_MET_SOURCES = ("objects", "event")

_COMMON_FIELDS = {
    "name",
    "kind",
    "prescale",
    "mask",
    "masked",
    "latency",
    "clock_mhz",
    "ii",
    "threshold_raw",
}
_KIND_FIELDS = {
    "objects": {"collection", "pt", "eta_max", "min_quality", "pair"},
    "ht": {"collection", "object_pt", "eta_max", "threshold"},
    "met": {"collections", "collection", "object_pt", "eta_max", "source", "threshold"},
    "nn": {
        "model",
        "score",
        "output",
        "threshold",
        "input_scale",
        "accum_type",
        "diff_type",
        "scale_type",
        "out_type",
        "time",
        "inputs",
    },
}
_PAIR_FIELDS = {f"{q}_{b}" for q in ("dr", "deta", "dphi", "mass") for b in ("min", "max")}
_TOP_FIELDS = {
    "name",
    "hardware",
    "trigger_rules",
    "upstream_latency_bx",
    "defaults",
    "seeds",
}
_HARDWARE_FIELDS = {
    "pt",
    "eta",
    "phi",
    "eta_lsb",
    "phi_lsb",
    "sum",
    "lut_fraction_bits",
    "quality",
    "slots",
}
_INPUT_FIELDS = {"met", "slots", "fields", "constant_fraction_bits"}
_DEFAULT_FIELDS = {"latency", "clock_mhz", "ii", "prescale"}

T = TypeVar("T")


class _Where:
    """Formats error locations: ``file: seed 'X': field 'y': message``."""

    def __init__(self, source: str, seed: str | None = None) -> None:
        self.source = source
        self.seed = seed

    def error(self, field: str, message: str) -> MenuError:
        seed = f"seed {self.seed!r}: " if self.seed is not None else ""
        return MenuError(f"{self.source}: {seed}field {field!r}: {message}")

    def get(
        self, data: Mapping[str, Any], field: str, convert: Callable[[Any], T], default: T
    ) -> T:
        if field not in data or data[field] is None:
            return default
        try:
            return convert(data[field])
        except MenuError:
            raise
        except (TypeError, ValueError) as exc:
            raise self.error(field, f"{data[field]!r} is not valid ({exc})") from None

    def check_fields(self, data: Mapping[str, Any], allowed: set[str], what: str) -> None:
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise self.error(unknown[0], f"unknown {what} field; allowed: {sorted(allowed)}")


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("expected a number")
    if not math.isfinite(value):
        raise ValueError("expected a finite number")
    return float(value)


def _non_negative(value: Any) -> float:
    number = _number(value)
    if number < 0:
        raise ValueError("expected a number >= 0")
    return number


def _positive(value: Any) -> float:
    number = _number(value)
    if number <= 0:
        raise ValueError("expected a number > 0")
    return number


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("expected an integer")
    if value < 0:
        raise ValueError("expected an integer >= 0")
    return value


def _positive_count(value: Any) -> int:
    count = _count(value)
    if count < 1:
        raise ValueError("expected an integer >= 1")
    return count


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError("expected true or false")
    return value


def _fixed_type(value: Any) -> FixedType:
    if not isinstance(value, str):
        raise TypeError("expected a type such as 'ap_ufixed<14,12,AP_TRN,AP_SAT>'")
    return FixedType.parse(value)


#: largest prescale: the global trigger's prescale counters are 32-bit
_MAX_PRESCALE = float(2**32 - 1)
#: clock range accepted for a seed's timing [MHz]
_CLOCK_RANGE = (1.0e-3, 1.0e5)
#: widest η/φ type: the lookup tables hold one entry per count (2^16 entries)
_MAX_ANGLE_BITS = 16
#: widest quality word: the quality sets are tables with one entry per value
_MAX_QUALITY_BITS = 16
#: widest pT type: m² = 2·pT·pT·cosh-table value must stay inside int64
_MAX_PT_BITS = 15


def _prescale(value: Any) -> float:
    number = _number(value)
    prescale_factor_x100(number)  # raises ValueError with the reason
    if number > _MAX_PRESCALE:
        raise ValueError(f"expected at most {_MAX_PRESCALE:.0f} (32-bit prescale counters)")
    return number


def _clock(value: Any) -> float:
    number = _positive(value)
    low, high = _CLOCK_RANGE
    if not low <= number <= high:
        raise ValueError(f"expected a clock between {low:g} and {high:g} MHz")
    return number


def _collection(value: Any) -> str:
    if value not in COLLECTIONS:
        raise ValueError(f"expected one of {list(COLLECTIONS)}")
    return str(value)


def _hardware(data: Any, where: _Where) -> HardwareTypes:
    if data is None:
        return HardwareTypes()
    if not isinstance(data, Mapping):
        raise where.error("hardware", "expected a mapping of type names")
    where.check_fields(data, _HARDWARE_FIELDS, "hardware")
    default = HardwareTypes()
    hardware = HardwareTypes(
        pt=where.get(data, "pt", _fixed_type, default.pt),
        eta=where.get(data, "eta", _fixed_type, default.eta),
        phi=where.get(data, "phi", _fixed_type, default.phi),
        eta_lsb=where.get(data, "eta_lsb", _positive, default.eta_lsb),
        phi_lsb=where.get(data, "phi_lsb", _positive, default.phi_lsb),
        sum=where.get(data, "sum", _fixed_type, default.sum),
        lut_fraction_bits=where.get(data, "lut_fraction_bits", _count, default.lut_fraction_bits),
        quality=where.get(data, "quality", _fixed_type, default.quality),
        slots=_slots(data.get("slots"), where),
    )
    for name in ("pt", "sum", "quality"):
        if getattr(hardware, name).signed:
            raise where.error(f"hardware.{name}", "must be an unsigned type (ap_ufixed/ap_uint)")
    if hardware.quality.frac != 0:
        raise where.error("hardware.quality", "must be an integer type (e.g. ap_uint<8>)")
    for name in ("eta", "phi"):
        fixed_type = getattr(hardware, name)
        if fixed_type.width != fixed_type.integer or not fixed_type.signed:
            raise where.error(f"hardware.{name}", "must be a signed integer type (ap_int<N>)")
        if fixed_type.width > _MAX_ANGLE_BITS:
            raise where.error(
                f"hardware.{name}",
                f"{fixed_type} is wider than {_MAX_ANGLE_BITS} bits (the angle lookup tables "
                "hold one entry per count)",
            )
    if hardware.quality.width > _MAX_QUALITY_BITS:
        raise where.error(
            "hardware.quality", f"{hardware.quality} is wider than {_MAX_QUALITY_BITS} bits"
        )
    if hardware.pt.width > _MAX_PT_BITS:
        raise where.error(
            "hardware.pt",
            f"{hardware.pt} is wider than {_MAX_PT_BITS} bits (the pair mass m² must fit "
            "in 64-bit integers)",
        )
    if hardware.sum.width > 32:
        raise where.error("hardware.sum", f"{hardware.sum} is wider than 32 bits")
    if not 0 <= hardware.lut_fraction_bits <= 16:
        raise where.error("hardware.lut_fraction_bits", "must be between 0 and 16")
    return hardware


def _slots(data: Any, where: _Where) -> tuple[tuple[str, int], ...]:
    """``slots: N`` (every collection) or ``slots: {jet: 12, muon: 8, ...}`` (others: 12)."""
    default = HardwareTypes().slots
    if data is None:
        return default
    if isinstance(data, Mapping):
        where.check_fields(data, set(COLLECTIONS), "hardware.slots")
        counts = {c: where.get(data, c, _positive_count, n) for c, n in default}
        return tuple(counts.items())
    count = where.get({"slots": data}, "hardware.slots", _positive_count, 0)
    return tuple((c, count) for c, _ in default)


def _input_layout(data: Any, where: _Where) -> tuple[SlotLayout, int | None]:
    """A network seed's ``inputs``: ``ADC2021`` or {met, slots, fields, constant_fraction_bits}."""
    if data is None or data == "ADC2021":
        return ADC2021, None
    if not isinstance(data, Mapping):
        raise where.error("inputs", "expected 'ADC2021' or a mapping {met, slots, fields}")
    where.check_fields(data, _INPUT_FIELDS, "inputs")
    slots = data.get("slots", {})
    if not isinstance(slots, Mapping):
        raise where.error("inputs.slots", "expected a mapping such as {jet: 4, muon: 2}")
    where.check_fields(slots, set(COLLECTIONS), "inputs.slots")
    blocks = tuple((str(c), where.get(slots, str(c), _positive_count, 1)) for c in slots)
    fields = data.get("fields", ["pt", "eta", "phi"])
    if (
        not isinstance(fields, list)
        or not fields
        or any(f not in FIELDS for f in fields)
        or len(set(fields)) != len(fields)
    ):
        raise where.error(
            "inputs.fields", f"expected a list of distinct fields from {list(FIELDS)}"
        )
    met = where.get(data, "met", _boolean, False)
    if not met and not blocks:
        raise where.error("inputs", "the layout has no slots (give 'slots' or met: true)")
    bits = where.get(data, "constant_fraction_bits", _count, None)
    if bits is not None and not 0 <= bits <= 30:
        raise where.error("inputs.constant_fraction_bits", "must be between 0 and 30")
    return SlotLayout("custom", blocks, met=met, fields=tuple(fields)), bits


def _rules(data: Any, where: _Where) -> tuple[TriggerRule, ...]:
    if data is None or data == "cms":
        return CMS_RULES
    if not isinstance(data, list):
        raise where.error("trigger_rules", "expected 'cms' or a list of {max_accepts, window_bx}")
    rules = []
    for i, item in enumerate(data):
        field = f"trigger_rules[{i}]"
        if not isinstance(item, Mapping) or set(item) != {"max_accepts", "window_bx"}:
            raise where.error(field, "expected {max_accepts: N, window_bx: W}")
        max_accepts = where.get(item, "max_accepts", _positive_count, 1)
        window = where.get(item, "window_bx", _positive_count, 1)
        rules.append(TriggerRule(max_accepts, window))
    return tuple(rules)


def _pair(data: Any, where: _Where) -> PairCuts | None:
    if data is None:
        return None
    if not isinstance(data, Mapping):
        raise where.error("pair", "expected a mapping such as {dr_min: 0.2, mass_max: 150}")
    where.check_fields(data, _PAIR_FIELDS, "pair")
    values = {name: where.get(data, name, _non_negative, None) for name in _PAIR_FIELDS}
    cuts = PairCuts(**values)
    for quantity in ("dr", "deta", "dphi", "mass"):
        low, high = values[f"{quantity}_min"], values[f"{quantity}_max"]
        if low is not None and high is not None and low > high:
            raise where.error(f"pair.{quantity}_min", f"{low} is above {quantity}_max {high}")
    return None if cuts.is_empty() else cuts


def _leg_thresholds(
    data: Mapping[str, Any], kind_text: str, multiplicity: int, where: _Where
) -> tuple[float, ...]:
    """The ``pt`` field: one number per leg; missing or null legs are errors, not 0 GeV."""
    if "pt" not in data or data["pt"] is None:
        raise where.error("pt", f"missing: a {kind_text} seed needs {multiplicity} pT threshold(s)")
    pts = data["pt"] if isinstance(data["pt"], list) else [data["pt"]]
    if len(pts) != multiplicity:
        raise where.error("pt", f"a {kind_text} seed needs {multiplicity} pT threshold(s)")
    for k, p in enumerate(pts):
        if p is None:
            raise where.error(f"pt[{k}]", "is null: give the leg's threshold in GeV")
    return tuple(where.get({"pt": p}, "pt", _non_negative, 0.0) for p in pts)


def _seed(
    data: Any, index: int, defaults: Mapping[str, Any], base: Path | None, source: str
) -> Seed:
    where = _Where(source, None)
    if not isinstance(data, Mapping):
        raise where.error(f"seeds[{index}]", "expected a mapping with at least name and kind")
    name = data.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise where.error(f"seeds[{index}].name", f"{name!r} is not a valid seed name")
    where = _Where(source, name)
    kind_text = data.get("kind")
    if kind_text in _MULTIPLICITY:
        kind_group = "objects"
    elif kind_text in ("ht", "met", "nn"):
        kind_group = str(kind_text)
    else:
        allowed = [*_MULTIPLICITY, "ht", "met", "nn"]
        raise where.error("kind", f"{kind_text!r} is not one of {allowed}")
    where.check_fields(data, _COMMON_FIELDS | _KIND_FIELDS[kind_group], f"{kind_text}-seed")

    common: dict[str, Any] = {
        "name": name,
        "prescale": where.get(data, "prescale", _prescale, defaults["prescale"]),
        "masked": where.get(data, "mask", _boolean, False)
        or where.get(data, "masked", _boolean, False),
        "latency_cycles": where.get(data, "latency", _count, defaults["latency"]),
        "clock_mhz": where.get(data, "clock_mhz", _clock, defaults["clock_mhz"]),
        "initiation_interval": where.get(data, "ii", _positive_count, defaults["ii"]),
        "threshold_raw_override": where.get(data, "threshold_raw", _count, None),
    }
    eta_max = where.get(data, "eta_max", _non_negative, None)
    if kind_group == "objects":
        multiplicity = _MULTIPLICITY[str(kind_text)]
        thresholds = _leg_thresholds(data, str(kind_text), multiplicity, where)
        if any(a < b for a, b in itertools.pairwise(thresholds)):
            raise where.error(
                "pt", f"thresholds must be in decreasing order, got {list(thresholds)}"
            )
        pair = _pair(data.get("pair"), where)
        if pair is not None and multiplicity != 2:
            raise where.error("pair", "pair conditions need a double seed")
        if "collection" not in data:
            raise where.error("collection", f"missing; one of {list(COLLECTIONS)}")
        return Seed(
            kind=SeedKind.OBJECTS,
            collections=(where.get(data, "collection", _collection, "jet"),),
            pt_thresholds=thresholds,
            eta_max=eta_max,
            min_quality=where.get(data, "min_quality", _count, 0),
            pair=pair,
            **common,
        )
    if "threshold" not in data and "threshold_raw" not in data:
        raise where.error("threshold", "missing (or give threshold_raw)")
    threshold = where.get(data, "threshold", _number, None)
    if kind_group == "ht":
        return Seed(
            kind=SeedKind.HT,
            collections=(where.get(data, "collection", _collection, "jet"),),
            object_pt_min=where.get(data, "object_pt", _non_negative, 0.0),
            eta_max=eta_max,
            threshold=threshold,
            **common,
        )
    if kind_group == "met":
        source = data.get("source", "objects")
        if source not in _MET_SOURCES:
            raise where.error("source", f"{source!r} is not one of {list(_MET_SOURCES)}")
        raw_collections = data.get("collections", data.get("collection", ["jet"]))
        if isinstance(raw_collections, str):
            raw_collections = [raw_collections]
        if not isinstance(raw_collections, list) or not raw_collections:
            raise where.error("collections", "expected a list of collections")
        collections = tuple(
            where.get({"collections": c}, "collections", _collection, "jet")
            for c in raw_collections
        )
        return Seed(
            kind=SeedKind.MET,
            collections=collections,
            object_pt_min=where.get(data, "object_pt", _non_negative, 0.0),
            eta_max=eta_max,
            met_source=str(source),
            threshold=threshold,
            **common,
        )
    # NN seed
    model = data.get("model")
    if not isinstance(model, str) or not model:
        raise where.error("model", "missing: path of the model file, relative to the menu file")
    model_path = Path(model)
    if not model_path.is_absolute() and base is not None:
        model_path = base / model_path
    score = data.get("score")
    if score not in NN_SCORES:
        raise where.error("score", f"{score!r} is not one of {list(NN_SCORES)}")
    spec = NNSpec(
        model_path=model_path,
        score=str(score),
        output=where.get(data, "output", _count, 0),
        input_scale=where.get(data, "input_scale", _positive, 1.0),
        accum_type=where.get(data, "accum_type", _fixed_type, None),
        diff_type=where.get(data, "diff_type", _fixed_type, None),
        scale_type=where.get(data, "scale_type", _fixed_type, None),
        out_type=where.get(data, "out_type", _fixed_type, None),
        time=where.get(data, "time", _number, 0.5),
        output_given=data.get("output") is not None,
    )
    layout, bits = _input_layout(data.get("inputs"), where)
    spec = replace(spec, inputs=layout)
    if bits is not None:
        spec = replace(spec, constant_fraction_bits=bits)
    if spec.score != "tagger" and spec.accum_type is None:
        raise where.error("accum_type", f"a {spec.score} score needs the accumulator type")
    return Seed(kind=SeedKind.NN, nn=spec, threshold=threshold, **common)


def menu_from_dict(
    data: Any, *, source: str = "<menu>", base: Path | None = None, resolve_models: bool = True
) -> Menu:
    """Build a :class:`Menu` from parsed YAML; ``base`` is where model paths are relative to.

    With ``resolve_models`` the NN seeds' model files are opened once, checked
    against the seed (input size, output element) and kept in the seed's
    :class:`NNSpec` with the score type; a missing file is a :class:`MenuError`.
    """
    where = _Where(source)
    if not isinstance(data, Mapping):
        raise MenuError(f"{source}: a menu must be a YAML mapping with a 'seeds' list")
    where.check_fields(data, _TOP_FIELDS, "menu")
    raw_defaults = data.get("defaults") or {}
    if not isinstance(raw_defaults, Mapping):
        raise where.error("defaults", "expected a mapping")
    where.check_fields(raw_defaults, _DEFAULT_FIELDS, "defaults")
    defaults = {
        "latency": where.get(raw_defaults, "latency", _count, 1),
        "clock_mhz": where.get(raw_defaults, "clock_mhz", _clock, 240.0),
        "ii": where.get(raw_defaults, "ii", _positive_count, 1),
        "prescale": where.get(raw_defaults, "prescale", _prescale, 1.0),
    }
    seeds_data = data.get("seeds")
    if not isinstance(seeds_data, list) or not seeds_data:
        raise where.error("seeds", "expected a non-empty list of seeds")
    seeds = [_seed(item, i, defaults, base, source) for i, item in enumerate(seeds_data)]
    if resolve_models:
        seeds = [
            resolve_nn_seed(seed, source) if seed.kind is SeedKind.NN else seed for seed in seeds
        ]
    name = data.get("name", Path(source).stem)
    hardware = _hardware(data.get("hardware"), where)
    rules = _rules(data.get("trigger_rules"), where)
    upstream = where.get(data, "upstream_latency_bx", _count, 0)
    try:
        return Menu(
            name=str(name),
            seeds=tuple(seeds),
            hardware=hardware,
            rules=rules,
            upstream_latency_bx=upstream,
            path=Path(source) if source != "<menu>" else None,
        )
    except MenuError as exc:
        message = str(exc)
        raise MenuError(message if message.startswith(source) else f"{source}: {message}") from None


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a key given twice in one mapping (YAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            try:
                first = seen.get(key)
            except TypeError:  # unhashable key: PyYAML reports it below
                continue
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} (first on line {first}; YAML would silently keep "
                    "only the last value)",
                    key_node.start_mark,
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path, what: str = "menu") -> Any:
    """Parse a YAML file strictly: UTF-8, no duplicate keys; errors name the file and line."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MenuError(f"{path}: cannot read the {what} ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise MenuError(
            f"{path}: line {line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the "
            f"{what} as UTF-8"
        ) from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise MenuError(f"{path}: {where}not valid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        message = " ".join(str(exc).split())
        raise MenuError(f"{path}: not valid YAML: {message}") from None


def load_menu(path: str | Path) -> Menu:
    """Read a menu YAML file; model paths in it are relative to the file."""
    path = Path(path)
    data = read_yaml(path)
    return menu_from_dict(data, source=str(path), base=path.resolve().parent)


def default_menu(*, with_nn: bool = True) -> Menu:
    """The menu shipped with the package (``emulator/menus/default.yaml``).

    With ``with_nn=False`` the NN seeds are left out (their model files are not
    opened), e.g. before the default networks have been trained.
    """
    resource = resources.files("emulator") / "menus" / "default.yaml"
    with resources.as_file(resource) as path:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not with_nn:
            data["seeds"] = [s for s in data["seeds"] if s.get("kind") != "nn"]
        return menu_from_dict(data, source=str(path), base=path.parent)
