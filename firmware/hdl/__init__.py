"""HDL generators: a :class:`firmware._design.TopDesign` printed as Verilog (``verilog``)
and as VHDL-2008 (``vhdl``).

The templates they instantiate ship as package data in ``firmware/templates``.
"""

from firmware.hdl._templates import (
    TEMPLATE_MODULES,
    WAIVERS,
    template_file,
    template_text,
    vhdl_template_text,
)
from firmware.hdl.verilog import render_top, write_verilog
from firmware.hdl.vhdl import VHDL_DIR, render_vhdl_top, vhdl_sources, write_vhdl

__all__ = [
    "TEMPLATE_MODULES",
    "VHDL_DIR",
    "WAIVERS",
    "render_top",
    "render_vhdl_top",
    "template_file",
    "template_text",
    "vhdl_sources",
    "vhdl_template_text",
    "write_verilog",
    "write_vhdl",
]
