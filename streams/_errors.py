"""The one exception type of the streams layer.

Every reader, writer and validator raises :class:`StreamError` for bad input, with a
message that names the file and, where it applies, the row (event) or line. It is a
``ValueError`` so callers that only care about "bad value" can catch that.
"""

from __future__ import annotations

__all__ = ["StreamError"]


class StreamError(ValueError):
    """Bad input data: missing file, unknown format, wrong schema, corrupt or malformed content."""
