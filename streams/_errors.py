"""The one exception type of the streams layer.

Every reader, writer and validator raises :class:`StreamError` for bad input, with a
message that names the file and, where it applies, the row (event) or line. It is a
``ValueError`` so callers that only care about "bad value" can catch that.
"""

from __future__ import annotations

__all__ = ["StreamError", "UnknownFormatError"]


class StreamError(ValueError):
    """Bad input data: missing file, unknown format, wrong schema, corrupt or malformed content."""


class UnknownFormatError(StreamError):
    """A file whose format neither its extension nor its first bytes reveal.

    ``path`` is the file and ``known`` the format names ``streams.open(format=...)``
    accepts, so an application can say how its own users name the format.
    """

    def __init__(self, message: str, path: str, known: list[str]) -> None:
        super().__init__(message)
        self.path = path
        self.known = known
