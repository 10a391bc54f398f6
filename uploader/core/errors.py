"""Errors a user can act on: what failed, with what value, and what to do."""

from __future__ import annotations


class UserError(Exception):
    """A problem with the user's input or environment, shown as `Error: ... / Hint: ...`."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(UserError):
    """A malformed flag or value (exit code 2, like click's own usage errors)."""

    exit_code = 2
