"""The root of the one error tree, and its user branch: every error agent-uploader raises
on purpose is an UploaderError; what the user can act on is a UserError.

Imports nothing of agent-uploader.
"""

from __future__ import annotations


class UploaderError(Exception):
    """Root of the tree. `message` says what failed, with what value; `hint` what to do,
    in words that hold for every caller (or None)."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UserError(UploaderError):
    """A problem with the user's input, data or machine, shown as `Error: ... / Hint: ...`."""
