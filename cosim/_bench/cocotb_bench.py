"""The cocotb test that runs inside the simulator: start the clock, wait for ``done``.

The Verilog bench (``bench.sv.in``) reads the stimulus, sequences reset and writes
the outputs itself, so no Python runs per clock cycle. With the plusarg
``+l1sim_cocotb_clock`` the top is ``l1sim_bench`` and cocotb drives its clock
(a GPI clock, implemented in C, not a Python loop); without it the top is
``l1sim_clocked``, whose clock runs in the HDL, and cocotb only waits.
"""

from __future__ import annotations

import cocotb
from cocotb.clock import Clock
from cocotb.handle import HierarchyObject, LogicObject
from cocotb.triggers import RisingEdge

#: Clock period of the bench in ns (matches ``#5`` half periods in the HDL clock).
PERIOD_NS = 10


@cocotb.test()
async def drive_and_record(dut: HierarchyObject) -> None:
    """Run the bench until it has recorded every requested cycle."""
    done = dut.done
    if not isinstance(done, LogicObject):
        raise TypeError(f"bench top has no 'done' signal (got {type(done).__name__})")
    if "l1sim_cocotb_clock" in cocotb.plusargs:
        clk = dut.clk
        if not isinstance(clk, LogicObject):
            raise TypeError(f"bench top has no 'clk' signal (got {type(clk).__name__})")
        Clock(clk, PERIOD_NS, unit="ns").start(start_high=False)
    await RisingEdge(done)
