"""Co-simulation layer: drives generated RTL (cocotb on Icarus/Verilator) and the HLS
C simulation with the emulator's stimulus and compares every output bit per BX.

Sits above :mod:`firmware`. No checker lives here yet: the co-simulation issue will
add ``cosim.check``; until then the package only holds the layer's place so the
import-linter contract covers it.
"""

__all__: list[str] = []
