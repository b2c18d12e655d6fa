"""The one exception type the CLI turns into ``l1sim: error: ...`` and a non-zero exit.

Anything a user can cause (a missing file, a bad menu, an unknown seed, an empty
input) ends up here with a message that names the file, seed or field, so the CLI
can print it on one line without a traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem with what the user asked for, not a bug in l1sim."""
