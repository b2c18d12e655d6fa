"""Trigger menus: seeds with thresholds, prescales, masks and timing, read from YAML.

``load_menu(path)`` reads a menu file, ``default_menu()`` the one shipped with the
package (``emulator/menus/default.yaml``). Both validate everything and raise
:class:`MenuError` naming the file, the seed and the field.
"""

from emulator.menu._load import default_menu, load_menu, menu_from_dict
from emulator.menu._model import (
    COLLECTIONS,
    ETAPHI_LSB,
    NN_SCORES,
    NO_CANDIDATE,
    HardwareTypes,
    Menu,
    MenuError,
    NNSpec,
    PairCuts,
    Seed,
    SeedKind,
)

__all__ = [
    "COLLECTIONS",
    "ETAPHI_LSB",
    "NN_SCORES",
    "NO_CANDIDATE",
    "HardwareTypes",
    "Menu",
    "MenuError",
    "NNSpec",
    "PairCuts",
    "Seed",
    "SeedKind",
    "default_menu",
    "load_menu",
    "menu_from_dict",
]
