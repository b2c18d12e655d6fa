"""The HDL templates shipped as package data (``firmware/templates/*.v`` and ``*.vhd``).

Each template is one small parameterised module with a comment saying what it
implements, in Verilog (``<module>.v``) and in VHDL-2008 (``<module>.vhd``, the
same behaviour bit for bit); the top instantiates them with parameters /
generics, never by editing their text. ``waivers.vlt`` lists the Verilator lint
warnings that are expected, each with the reason.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

from firmware._design import BlockKind
from firmware._errors import FirmwareError

__all__ = [
    "TEMPLATE_MODULES",
    "WAIVERS",
    "template_file",
    "template_text",
    "vhdl_template_text",
]

#: the template module (and file stem) behind each block kind; DATAPATH comes from da4ml
TEMPLATE_MODULES: dict[BlockKind, str] = {
    BlockKind.DELAY: "delay_line",
    BlockKind.PRESCALE: "prescale",
    BlockKind.OR: "final_or",
    BlockKind.RULES: "trigger_rules",
    BlockKind.BX_COUNTER: "bx_counter",
}

#: Verilator configuration file with the explained lint waivers
WAIVERS = "waivers.vlt"


def template_file(name: str) -> Traversable:
    """The packaged file ``name`` (``"prescale.v"``, ``"prescale.vhd"``, ``"waivers.vlt"``)."""
    path = resources.files("firmware").joinpath("templates", name)
    if not path.is_file():
        raise FirmwareError(f"template {name!r} is missing from the installed l1sim package")
    return path


def template_text(module: str) -> str:
    """The Verilog text of template ``module``."""
    return template_file(f"{module}.v").read_text(encoding="utf-8")


def vhdl_template_text(module: str) -> str:
    """The VHDL text of template ``module``."""
    return template_file(f"{module}.vhd").read_text(encoding="utf-8")
