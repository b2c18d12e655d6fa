"""l1sim: bit-accurate Level-1 trigger emulation and firmware co-simulation."""

__version__ = "0.1.0"
