"""Lazy imports of optional dependencies (uproot, awkward).

The ROOT reader needs uproot and awkward; the rest of the package must import without
them. Import them only through :func:`require`, which names the install command.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["require"]

#: optional module -> the extra that provides it
_EXTRAS: dict[str, str] = {"uproot": "root", "awkward": "root"}


def require(module: str) -> ModuleType:
    """Import ``module`` or raise ModuleNotFoundError telling how to install it."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        extra = _EXTRAS.get(module, "all")
        raise ModuleNotFoundError(
            f"{module} is needed for this input; install it with: pip install 'l1sim[{extra}]'"
        ) from exc
