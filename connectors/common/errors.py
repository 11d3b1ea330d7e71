"""The base of every connector's user-facing error: its message already names the shop, key or file and the fix,
so the CLI shows it as one line instead of a traceback (orchestration/cli.py)."""

from __future__ import annotations


class ChannelError(RuntimeError):
    """A channel or source refused or could not be read for a reason the user must fix."""
