"""The one exception type of the co-simulation layer and its exit codes.

``l1sim cosim`` exits 0 when every output agrees, 1 on a mismatch and 2 on a
set-up error (no simulator, a design that does not build, not a firmware
directory). :class:`CosimError` carries the exit code that its cause deserves, so
the command line maps an exception to a status without guessing.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["CosimError", "ExitCode"]


class ExitCode(IntEnum):
    """Process status of ``l1sim cosim``."""

    AGREE = 0
    MISMATCH = 1
    SETUP = 2


class CosimError(RuntimeError):
    """Co-simulation cannot go on; the message names the simulator, file or port.

    ``exit_code`` is :attr:`ExitCode.SETUP` unless the raiser says otherwise.
    """

    def __init__(self, message: str, exit_code: ExitCode = ExitCode.SETUP) -> None:
        super().__init__(message)
        self.exit_code = exit_code
