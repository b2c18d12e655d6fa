"""Trigger menus: seeds with thresholds, prescales, masks and timing, read from YAML.

``load_menu(path)`` reads a menu file (YAML, or a CMS uGT XML menu through
``from_uGT_xml``), ``default_menu()`` the one shipped with the
package (``emulator/menus/default.yaml``). Both validate everything and raise
:class:`MenuError` naming the file, the seed and the field. ``write_menu(menu, path)``
writes any menu back as YAML that reloads to the same menu model.
"""

from emulator.menu._expr import And, Expr, Not, Or, Ref, format_expression, parse_expression
from emulator.menu._load import default_menu, load_menu, menu_from_dict
from emulator.menu._model import (
    COLLECTIONS,
    DEFAULT_SLOTS,
    ETAPHI_LSB,
    NN_SCORES,
    NO_CANDIDATE,
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
    raw_at_least,
    raw_at_most,
)
from emulator.menu._nn import as_fixed, resolve_nn_seed
from emulator.menu._ugt import UGT_HARDWARE, UgtAlgorithm, UgtImport, from_uGT_xml, read_prescales
from emulator.menu._yaml_writer import menu_to_dict, menu_to_yaml, write_menu

__all__ = [
    "COLLECTIONS",
    "DEFAULT_SLOTS",
    "ETAPHI_LSB",
    "NN_SCORES",
    "NO_CANDIDATE",
    "UGT_HARDWARE",
    "And",
    "ChargeCorrelation",
    "Condition",
    "Expr",
    "HardwareTypes",
    "Leg",
    "Menu",
    "MenuError",
    "NNSpec",
    "Not",
    "Or",
    "PairCuts",
    "Ref",
    "Seed",
    "SeedKind",
    "UgtAlgorithm",
    "UgtImport",
    "as_fixed",
    "default_menu",
    "format_expression",
    "from_uGT_xml",
    "load_menu",
    "menu_from_dict",
    "menu_to_dict",
    "menu_to_yaml",
    "parse_expression",
    "raw_at_least",
    "raw_at_most",
    "read_prescales",
    "resolve_nn_seed",
    "write_menu",
]
