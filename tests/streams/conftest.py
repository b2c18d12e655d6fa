"""Fixtures shared by the streams tests: the real reference data, read in place."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

REFERENCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference"


def _reference_file(*parts: str) -> Path:
    path = REFERENCE.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"reference file not found: {path}")
    return path


@pytest.fixture
def reference_file() -> Callable[..., Path]:
    """``reference_file("events", "x.root")``: a reference file, skipping when it is missing."""
    return _reference_file
