"""The Python example in README.md runs as written and prints what it promises."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


@pytest.mark.slow
def test_readme_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = python_blocks(README.read_text(encoding="utf-8"))
    assert blocks, "README.md lost its Python example"
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(blocks[0], str(README), "exec"), namespace)  # noqa: S102 - our own README
    assert (tmp_path / "decisions.parquet").is_file()
    assert namespace["raw"].tolist() == [0, 89, 16383]  # type: ignore[attr-defined]
    l1a = namespace["summary"]["accepts"]["l1a"]  # type: ignore[index]
    assert 0 < l1a["rate_hz"] < 40e6
    assert l1a["n_bx"] == 50_000  # the input's events; the padding of the last orbit never counts
