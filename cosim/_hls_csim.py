"""hls4ml C simulation of a built HLS project, reloaded from its directory.

``firmware.build`` leaves each network seed's hls4ml project compiled (its C
simulation library ``firmware/<top>-<stamp>.so``) and described (``l1sim_hls.json``).
hls4ml has no call that reopens a compiled project without converting the model
again, but what its ``ModelGraph.predict`` does after ``compile()`` is small: it
loads that library with ctypes (``ModelGraph._compile``), takes the
``<top>_double`` bridge function (``_get_top_function``: float64 in, float64 out,
the double bridge DESIGN.md asks for) and calls it once per event with
C-contiguous arrays (``_predict``). :class:`HlsCsim` makes the same calls on the
same library, so no conversion, no compiler and no Keras are needed, and the
project directory may have moved since it was built.

The outputs come back as raw integers of the project's output type (the doubles
the bridge returns are exact multiples of its LSB; anything else is an error),
ready to compare with the emulator's ``predict_raw``.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from emulator.fixed import FixedType
from firmware._errors import FirmwareError
from firmware._hls import HlsProject, load_hls_project, raw_from_doubles

__all__ = ["HlsCsim", "run_hls_csim"]


class HlsCsim:
    """The compiled C simulation of one HLS project, callable event by event."""

    def __init__(self, project: HlsProject | str | os.PathLike[str]) -> None:
        self.project = project if isinstance(project, HlsProject) else load_hls_project(project)
        library = self.project.library
        if not library.is_file():
            raise FirmwareError(
                f"seed {self.project.seed}: {library} is missing; rebuild the project"
            )
        try:
            self._lib = ctypes.cdll.LoadLibrary(str(library.resolve()))
            function: Any = getattr(self._lib, f"{self.project.top_function}_double")
        except (OSError, AttributeError) as exc:
            raise FirmwareError(
                f"seed {self.project.seed}: cannot load the C simulation {library}: {exc}"
            ) from exc
        pointer = np.ctypeslib.ndpointer(ctypes.c_double, flags="C_CONTIGUOUS")
        function.argtypes = [pointer, pointer]
        function.restype = None
        self._function = function
        self.n_inputs = int(np.prod(self.project.input_shape))

    @property
    def output_type(self) -> FixedType:
        return self.project.output_type

    @property
    def input_type(self) -> FixedType:
        return self.project.input_type

    def _events(self, x: npt.ArrayLike, input_is_raw: bool) -> np.ndarray:
        arr = np.asarray(x)
        if input_is_raw:
            if not np.issubdtype(arr.dtype, np.integer):
                raise FirmwareError(
                    f"seed {self.project.seed}: raw inputs must be integers, got {arr.dtype}"
                )
            low, high = self.input_type.min_raw, self.input_type.max_raw
            if arr.size and (int(arr.min()) < low or int(arr.max()) > high):
                raise FirmwareError(
                    f"seed {self.project.seed}: raw inputs outside {self.input_type} "
                    f"([{low}, {high}])"
                )
            # exact: |raw| < 2**53 and the bridge's double -> input_t conversion is then exact
            arr = np.ldexp(arr.astype(np.float64), -self.input_type.frac)
        arr = np.asarray(arr, dtype=np.float64)
        if arr.size == 0 or arr.size % self.n_inputs:
            raise FirmwareError(
                f"seed {self.project.seed}: input of shape {arr.shape} does not hold whole "
                f"events of {self.n_inputs} values"
            )
        return np.ascontiguousarray(arr.reshape(-1, self.n_inputs))

    def predict_raw(self, x: npt.ArrayLike, *, input_is_raw: bool = False) -> np.ndarray:
        """Raw int64 outputs, shape (events, outputs), in :attr:`output_type`.

        ``x`` holds physics values (float64, converted by the bridge as hls4ml's
        ``predict`` does) or, with ``input_is_raw``, raw integers of the input type.
        """
        events = self._events(x, input_is_raw)
        out = np.zeros((events.shape[0], self.project.output_size), dtype=np.float64)
        for i in range(events.shape[0]):
            row = np.ascontiguousarray(events[i])
            result = np.zeros(self.project.output_size, dtype=np.float64)
            self._function(row, result)
            out[i] = result
        return raw_from_doubles(out, self.output_type, f"seed {self.project.seed} C simulation")

    def predict(self, x: npt.ArrayLike) -> np.ndarray:
        """float64 outputs as hls4ml's ``predict`` returns them, shape (events, outputs)."""
        return np.ldexp(self.predict_raw(x).astype(np.float64), -self.output_type.frac)


def run_hls_csim(
    project: HlsProject | str | os.PathLike[str], x: npt.ArrayLike, *, input_is_raw: bool = False
) -> tuple[np.ndarray, FixedType]:
    """Run a built project's C simulation on ``x``: (raw outputs, output type)."""
    csim = HlsCsim(project if isinstance(project, HlsProject) else Path(project))
    return csim.predict_raw(x, input_is_raw=input_is_raw), csim.output_type
