"""Read and validate menu YAML files.

Every problem is reported as a :class:`MenuError` naming the file, the seed and
the field, because menus are edited by hand and a vague error costs an afternoon.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from emulator.menu._expr import Ref
from emulator.menu._fields import (
    _MAX_ANGLE_BITS,
    _MAX_PT_BITS,
    _MAX_QUALITY_BITS,
    Where,
    _boolean,
    _clock,
    _collection,
    _count,
    _fixed_type,
    _leg_thresholds,
    _non_negative,
    _number,
    _pair,
    _positive,
    _positive_count,
    _prescale,
)
from emulator.menu._model import (
    COLLECTIONS,
    NN_SCORES,
    HardwareTypes,
    Menu,
    MenuError,
    NNSpec,
    Seed,
    SeedKind,
)
from emulator.menu._nn import resolve_nn_seed
from emulator.menu._ugt import from_uGT_xml
from emulator.menu._yaml_conditions import EXTENDED_FIELDS, expression_seed, plain_condition
from emulator.rules import CMS_RULES, TriggerRule
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
    "expression": {"expression", "conditions"},
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


def _hardware(data: Any, where: Where) -> HardwareTypes:
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


def _slots(data: Any, where: Where) -> tuple[tuple[str, int], ...]:
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


def _input_layout(data: Any, where: Where) -> tuple[SlotLayout, int | None]:
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


def _rules(data: Any, where: Where) -> tuple[TriggerRule, ...]:
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


def _seed(
    data: Any, index: int, defaults: Mapping[str, Any], base: Path | None, source: str
) -> Seed:
    where = Where(source, None)
    if not isinstance(data, Mapping):
        raise where.error(f"seeds[{index}]", "expected a mapping with at least name and kind")
    name = data.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise where.error(f"seeds[{index}].name", f"{name!r} is not a valid seed name")
    where = Where(source, name)
    kind_text = data.get("kind")
    if kind_text in _MULTIPLICITY:
        kind_group = "objects"
    elif kind_text in ("ht", "met", "nn", "expression"):
        kind_group = str(kind_text)
    else:
        allowed = [*_MULTIPLICITY, "ht", "met", "nn", "expression"]
        raise where.error("kind", f"{kind_text!r} is not one of {allowed}")
    extended = kind_group == "objects" and bool(EXTENDED_FIELDS & set(data))
    allowed_fields = _COMMON_FIELDS | _KIND_FIELDS[kind_group]
    where.check_fields(
        data, allowed_fields | (EXTENDED_FIELDS if extended else set()), f"{kind_text}-seed"
    )
    if (extended or kind_group == "expression") and "threshold_raw" in data:
        raise where.error(
            "threshold_raw", "not available for seeds with conditions: give the thresholds in GeV"
        )

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
    if kind_group == "expression":
        return expression_seed(
            data,
            common,
            where,
            lambda inner: _seed(inner, index, defaults, base, source),
        )
    if extended:
        cut = {k: v for k, v in data.items() if k == "kind" or k not in _COMMON_FIELDS}
        condition = plain_condition("cut", cut, "", where)
        return Seed(
            kind=SeedKind.EXPRESSION, expression=Ref("cut"), conditions=(condition,), **common
        )
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


def _resolve_models(seed: Seed, source: str) -> Seed:
    """Open the networks of an NN seed or of an expression seed's network conditions."""
    if seed.kind is SeedKind.NN:
        return resolve_nn_seed(seed, source)
    if seed.kind is not SeedKind.EXPRESSION:
        return seed
    conditions = tuple(
        replace(c, seed=resolve_nn_seed(c.seed, source))
        if c.seed is not None and c.seed.kind is SeedKind.NN
        else c
        for c in seed.conditions
    )
    return replace(seed, conditions=conditions)


def menu_from_dict(
    data: Any, *, source: str = "<menu>", base: Path | None = None, resolve_models: bool = True
) -> Menu:
    """Build a :class:`Menu` from parsed YAML; ``base`` is where model paths are relative to.

    With ``resolve_models`` the NN seeds' model files are opened once, checked
    against the seed (input size, output element) and kept in the seed's
    :class:`NNSpec` with the score type; a missing file is a :class:`MenuError`.
    """
    where = Where(source)
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
        seeds = [_resolve_models(seed, source) for seed in seeds]
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


def load_menu(path: str | Path, *, prescale_column: int | None = None) -> Menu:
    """Read a menu file; model paths in it are relative to the file.

    A ``.xml`` file is read as a CMS uGT menu (:func:`emulator.menu.from_uGT_xml`:
    the algorithms it can express; ``prescale_column`` picks a column of the
    ``prescale_L1TGlobal.csv`` beside it); anything else as the YAML menu format.
    """
    path = Path(path)
    if path.suffix.lower() == ".xml":
        return from_uGT_xml(path, prescale_column=prescale_column).menu
    if prescale_column is not None:
        raise MenuError(f"{path}: --prescale-column applies to uGT XML menus only")
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
