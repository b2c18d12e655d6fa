"""HDL generators: a :class:`firmware._design.TopDesign` printed as Verilog (``verilog``).

The templates they instantiate ship as package data in ``firmware/templates``.
"""

from firmware.hdl._templates import TEMPLATE_MODULES, WAIVERS, template_file, template_text
from firmware.hdl.verilog import render_top, write_verilog

__all__ = [
    "TEMPLATE_MODULES",
    "WAIVERS",
    "render_top",
    "template_file",
    "template_text",
    "write_verilog",
]
