"""Write-then-rename: the one way every l1sim writer produces a file.

A reader never sees a half-written file: the data goes to a uniquely named
temporary file beside the target, which replaces the target only when the
writing code finished without an exception; otherwise it is removed.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path to write; on success it is renamed onto ``path``.

    The temporary file lives in the target's directory (so the rename is atomic on
    POSIX), is named ``.NAME.PID-RANDOM.tmp`` and is removed if the body raises. An
    ``OSError`` while writing (a full disk: ENOSPC, a quota, a read-only file system)
    is re-raised naming ``path``, since writers such as pyarrow's do not.
    """
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        yield temporary
        temporary.replace(target)
    except OSError as exc:
        named = exc.filename is not None and Path(str(exc.filename)) not in {temporary, target}
        if named:  # about another file (an input being read): its own message names it
            raise
        # a full disk, a quota, a read-only file system: name the file being written
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise OSError(exc.errno, f"cannot write ({reason})", str(target)) from exc
    finally:
        temporary.unlink(missing_ok=True)
