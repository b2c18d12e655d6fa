"""Write any :class:`Menu` as a menu YAML file that reloads to the same menu model.

A menu imported from a CMS uGT XML file (:func:`emulator.menu.from_uGT_xml`) or built
in code becomes a file a user can read and edit: :func:`menu_to_dict` gives the
mapping the YAML reader takes (:func:`emulator.menu.menu_from_dict`), :func:`menu_to_yaml`
its text, :func:`write_menu` the file (written next to the target and renamed into
place, so a failure leaves nothing half-written; an existing file is refused unless
``overwrite``).

Numbers are written with Python's shortest round-trip representation, so every cut
reloads to the same float and therefore to the same hardware integers. Timing fields
and prescales equal to the menu's most common value go into ``defaults``. Object
conditions whose legs share every cut but pT are written in the short form
(``kind: double, collection: muon, pt: [10, 3.5], quality: [...]``), the others as a
``legs`` list. Network model paths are written relative to the file when the model
lies beside or below it, else absolute.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import yaml

from emulator.menu._expr import format_expression
from emulator.menu._model import (
    COLLECTIONS,
    ChargeCorrelation,
    Condition,
    HardwareTypes,
    Leg,
    Menu,
    MenuError,
    NNSpec,
    PairCuts,
    Seed,
    SeedKind,
)
from emulator.rules import CMS_RULES
from streams.slots import ADC2021

__all__ = ["menu_to_dict", "menu_to_yaml", "write_menu"]

_MULTIPLICITY = {1: "single", 2: "double", 3: "triple", 4: "quad"}
#: the YAML reader's default ``constant_fraction_bits`` of a network's inputs
_DEFAULT_CONSTANT_BITS = 16
#: (YAML key, Seed attribute) of the fields ``defaults`` can hold
_DEFAULTABLE = (
    ("latency", "latency_cycles"),
    ("clock_mhz", "clock_mhz"),
    ("ii", "initiation_interval"),
    ("prescale", "prescale"),
)


def _number(value: float) -> float | int:
    """An integer-valued float as int (``22`` rather than ``22.0``), else the float."""
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else float(value)


def _defaults(seeds: Sequence[Seed]) -> dict[str, Any]:
    """The most common value of each defaultable field among the seeds."""
    return {
        key: Counter(getattr(seed, attr) for seed in seeds).most_common(1)[0][0]
        for key, attr in _DEFAULTABLE
    }


def _common(seed: Seed, defaults: dict[str, Any]) -> dict[str, Any]:
    """Prescale, mask, timing and raw threshold, where they differ from the defaults."""
    data: dict[str, Any] = {}
    for key, attr in _DEFAULTABLE:
        value = getattr(seed, attr)
        if value != defaults[key]:
            data[key] = _number(value) if isinstance(value, float) else value
    if seed.masked:
        data["mask"] = True
    if seed.threshold_raw_override is not None:
        data["threshold_raw"] = seed.threshold_raw_override
    return data


def _pair(pair: PairCuts | None) -> dict[str, Any] | None:
    if pair is None or pair.is_empty():
        return None
    values = {f.name: getattr(pair, f.name) for f in fields(pair)}
    return {name: _number(value) for name, value in values.items() if value is not None}


def _windows(windows: tuple[tuple[float, float], ...]) -> list[list[float | int]]:
    return [[_number(lo), _number(hi)] for lo, hi in windows]


def _leg_cuts(leg: Leg) -> dict[str, Any]:
    """A leg's cuts other than pT and collection (absent cuts are left out)."""
    data: dict[str, Any] = {}
    if leg.eta:
        data["eta"] = _windows(leg.eta)
    if leg.phi:
        data["phi"] = _windows(leg.phi)
    if leg.quality is not None:
        data["quality"] = list(leg.quality)
    if leg.min_quality:
        data["min_quality"] = leg.min_quality
    if leg.isolation is not None:
        data["isolation"] = list(leg.isolation)
    if leg.charge:
        data["charge"] = leg.charge
    return data


def _object_condition(condition: Condition) -> dict[str, Any]:
    legs = condition.legs
    first = legs[0]
    shared = all(replace(leg, pt=first.pt) == first for leg in legs)
    data: dict[str, Any]
    if shared:
        pts = [_number(leg.pt) for leg in legs]
        data = {
            "kind": _MULTIPLICITY[len(legs)],
            "collection": first.collection,
            "pt": pts[0] if len(pts) == 1 else pts,
            **_leg_cuts(first),
        }
    else:
        data = {
            "legs": [
                {"collection": leg.collection, "pt": _number(leg.pt), **_leg_cuts(leg)}
                for leg in legs
            ]
        }
    pair = _pair(condition.pair)
    if pair is not None:
        data["pair"] = pair
    if condition.charge_correlation is not ChargeCorrelation.ANY:
        data["charge_correlation"] = condition.charge_correlation.value
    return data


def _model_path(path: Path, base: Path | None) -> str:
    """``path`` relative to ``base`` when it lies inside it, else absolute (as given)."""
    if base is not None:
        try:
            return path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            pass
    return str(path if path.is_absolute() else path.resolve())


def _network(spec: NNSpec, base: Path | None) -> dict[str, Any]:
    data: dict[str, Any] = {"model": _model_path(spec.model_path, base), "score": spec.score}
    if spec.output_given or spec.output:
        data["output"] = spec.output
    if spec.input_scale != 1.0:
        data["input_scale"] = _number(spec.input_scale)
    for name in ("accum_type", "diff_type", "scale_type", "out_type"):
        fixed_type = getattr(spec, name)
        if fixed_type is not None:
            data[name] = str(fixed_type)
    if spec.time != 0.5:
        data["time"] = _number(spec.time)
    if spec.inputs != ADC2021 or spec.constant_fraction_bits != _DEFAULT_CONSTANT_BITS:
        layout = spec.inputs
        data["inputs"] = {
            "met": layout.met,
            "slots": dict(layout.slots),
            "fields": list(layout.fields),
            "constant_fraction_bits": spec.constant_fraction_bits,
        }
    return data


def _seed_body(seed: Seed, base: Path | None, defaults: dict[str, Any]) -> dict[str, Any]:
    """The kind-specific fields of a seed (no name, no common fields)."""
    if seed.kind is SeedKind.OBJECTS:
        pts = [_number(p) for p in seed.pt_thresholds]
        data: dict[str, Any] = {
            "kind": _MULTIPLICITY[len(pts)],
            "collection": seed.collections[0],
            "pt": pts[0] if len(pts) == 1 else pts,
        }
        if seed.eta_max is not None:
            data["eta_max"] = _number(seed.eta_max)
        if seed.min_quality:
            data["min_quality"] = seed.min_quality
        pair = _pair(seed.pair)
        if pair is not None:
            data["pair"] = pair
        return data
    if seed.kind is SeedKind.EXPRESSION:
        assert seed.expression is not None  # a resolved expression seed has one
        return {
            "kind": "expression",
            "expression": format_expression(seed.expression),
            "conditions": {c.name: _condition(c, base, defaults) for c in seed.conditions},
        }
    if seed.kind is SeedKind.NN:
        assert seed.nn is not None  # a resolved network seed has its spec
        data = {"kind": "nn", **_network(seed.nn, base)}
    elif seed.kind is SeedKind.HT:
        data = {"kind": "ht", "collection": seed.collections[0]}
    else:
        data = {"kind": "met", "source": seed.met_source}
        if list(seed.collections) != ["jet"]:
            data["collections"] = list(seed.collections)
    if seed.kind in (SeedKind.HT, SeedKind.MET):
        if seed.object_pt_min:
            data["object_pt"] = _number(seed.object_pt_min)
        if seed.eta_max is not None:
            data["eta_max"] = _number(seed.eta_max)
    if seed.threshold is not None:
        data["threshold"] = _number(seed.threshold)
    return data


def _condition(condition: Condition, base: Path | None, defaults: dict[str, Any]) -> dict[str, Any]:
    """An object condition, or a sum/network condition (the reader gives it the defaults)."""
    if condition.seed is None:
        return _object_condition(condition)
    inner = condition.seed
    return {**_seed_body(inner, base, defaults), **_common(inner, defaults)}


def _hardware(hardware: HardwareTypes) -> dict[str, Any]:
    return {
        "pt": str(hardware.pt),
        "eta": str(hardware.eta),
        "phi": str(hardware.phi),
        "eta_lsb": hardware.eta_lsb,
        "phi_lsb": hardware.phi_lsb,
        "sum": str(hardware.sum),
        "lut_fraction_bits": hardware.lut_fraction_bits,
        "quality": str(hardware.quality),
        "slots": {c: hardware.slot_count(c) for c in COLLECTIONS},
    }


def menu_to_dict(menu: Menu, *, base: Path | None = None) -> dict[str, Any]:
    """The YAML mapping of ``menu`` (model paths relative to ``base`` when inside it)."""
    defaults = _defaults(menu.seeds)
    seeds = [
        {"name": seed.name, **_seed_body(seed, base, defaults), **_common(seed, defaults)}
        for seed in menu.seeds
    ]
    rules: str | list[dict[str, int]] = (
        "cms"
        if menu.rules == CMS_RULES
        else [{"max_accepts": r.max_accepts, "window_bx": r.window_bx} for r in menu.rules]
    )
    return {
        "name": menu.name,
        "hardware": _hardware(menu.hardware),
        "trigger_rules": rules,
        "upstream_latency_bx": menu.upstream_latency_bx,
        "defaults": {key: _number(v) if isinstance(v, float) else v for key, v in defaults.items()},
        "seeds": seeds,
    }


class _Dumper(yaml.SafeDumper):
    """Safe YAML, keys in insertion order; lists of numbers and small flat mappings inline."""


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    inline = all(not isinstance(item, dict | list) for item in data) or all(
        isinstance(item, list) and all(not isinstance(x, dict | list) for x in item)
        for item in data
    )
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=inline)


def _represent_dict(dumper: yaml.SafeDumper, data: dict[str, Any]) -> yaml.Node:
    inline = len(data) <= _INLINE_FIELDS and all(
        not isinstance(item, dict | list) for item in data.values()
    )
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=inline)


#: mappings of at most this many plain values are written on one line
_INLINE_FIELDS = 6

_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(dict, _represent_dict)


def menu_to_yaml(menu: Menu, *, base: Path | None = None, header: str | None = None) -> str:
    """The menu as YAML text; ``header`` (lines) goes on top as ``#`` comments."""
    text = yaml.dump(
        menu_to_dict(menu, base=base),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )
    if header:
        comment = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
        text = comment + text
    return text


def write_menu(
    menu: Menu, path: str | Path, *, header: str | None = None, overwrite: bool = False
) -> Path:
    """Write ``menu`` to ``path`` as YAML; returns the path.

    The text is written to a temporary file beside ``path`` and renamed into place,
    so ``path`` is either complete or untouched. An existing ``path`` is a
    :class:`MenuError` unless ``overwrite``.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise MenuError(f"{path}: exists already (choose another name or allow overwriting)")
    if path.is_dir():
        raise MenuError(f"{path}: is a directory")
    text = menu_to_yaml(menu, base=path.parent, header=header)
    directory = path.parent if str(path.parent) else Path()
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise MenuError(f"{path}: cannot write the menu ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
