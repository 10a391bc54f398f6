"""Usage errors: a malformed value, a contradiction, a rules or config file that cannot
be used (exit code 2).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from uploader.core.errors.base import UserError


class UsageError(UserError):
    """A malformed flag or value (exit code 2, like click's own usage errors)."""

    exit_code = 2


class InvalidSetting(UsageError):
    """A setting's value that cannot be used. `setting` is its name in
    `uploader.core.settings` (the command line names its flag instead), `value` the value as
    it may be shown, `problem` what is wrong, starting with that value; `needs`: other
    settings that would make it usable."""

    def __init__(
        self,
        setting: str,
        value: str,
        problem: str,
        hint: str | None = None,
        *,
        needs: Sequence[str] = (),
    ) -> None:
        super().__init__(f"{setting} {problem}", hint)
        self.setting, self.value, self.problem = setting, value, problem
        self.needs = tuple(needs)


class UnknownScheme(InvalidSetting):
    """A store URL of a kind no store has (`scheme`)."""

    def __init__(self, url: str, scheme: str) -> None:
        super().__init__(
            "store",
            url,
            f"{url!r}: unknown scheme {scheme!r}",
            "supported stores: file:///dir, s3://bucket/prefix, supabase://bucket "
            "(and an upload URL, for a plain HTTP PUT target)",
        )
        self.scheme = scheme


class ConflictingSettings(UsageError):
    """Settings that exclude each other were both given (names as in uploader.core.settings)."""

    def __init__(self, settings: Sequence[str], hint: str | None = None) -> None:
        super().__init__(f"both {' and '.join(settings)} were given", hint)
        self.settings = tuple(settings)


class SessionNotNamed(UsageError):
    """A command that acts on one session got none (`both` False), or an id and a label."""

    def __init__(self, *, both: bool) -> None:
        super().__init__(
            "both a session id and a label were given" if both else "name one session",
            "give a session id (or the first characters of it) or a label",
        )
        self.both = both


class Ambiguous(UsageError):
    """An id prefix or a label that matches several sessions (`matches`, sorted)."""

    def __init__(self, query: str, matches: list[str]) -> None:
        shown = ", ".join(matches[:10]) + (" …" if len(matches) > 10 else "")
        super().__init__(
            f"{query!r} matches {len(matches)} sessions: {shown}",
            "give more characters of the id, or the whole id",
        )
        self.query, self.matches = query, matches


class EmptyLabel(UsageError):
    """A label that is empty once its spaces are collapsed."""

    def __init__(self) -> None:
        super().__init__("the label is empty", "give some text")


class WrongGeneration(UsageError):
    """A checkpoint was asked for together with a generation it is not in."""

    def __init__(self, checkpoint: str, generation: int, asked: int) -> None:
        super().__init__(
            f"checkpoint {checkpoint} belongs to generation {generation}, not {asked}",
            "a checkpoint says which generation it is in",
        )
        self.checkpoint, self.generation, self.asked = checkpoint, generation, asked


#: The advice for a rules file whose content breaks the format (the command line points at
#: `scan --help`, which shows it).
RULES_FORMAT = (
    "a rules file is TOML: [[rules]] tables (id, regex, and optionally secret_group, "
    "keywords, ignore_case, prefilter, description) and one [allowlist] (regexes, values)"
)


class RulesError(UsageError):
    """A redaction rules file that cannot be used: `file` names it, the message says which
    rule or key and what is wrong. `about_format`: the fix is to follow the file format.

    Exit code 2, like a malformed flag: it is never mistaken for `scan`'s "secrets found"."""

    def __init__(self, file: str, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint or RULES_FORMAT)
        self.file = file
        self.about_format = hint is None


class RulesFileUnreadable(RulesError):
    """The rules file cannot be read at all (`reason`: the system's words)."""

    def __init__(self, file: str, reason: str) -> None:
        super().__init__(
            file,
            f"cannot read the rules file {file}: {reason}",
            "check the path and its permissions",
        )
        self.reason = reason


class ConfigError(UsageError):
    """A config file (`file`) that cannot be used, at `line` (1-based; 0: not known) and
    `key` (a setting's name; "" for the file as a whole). `problem` says what is wrong,
    starting with the value where it may be shown (never a secret's).

    Exit code 2, like a malformed flag."""

    def __init__(
        self, file: Path, line: int, key: str, problem: str, hint: str | None = None
    ) -> None:
        where = f"{file}:{line}" if line else str(file)
        super().__init__(f"{where}: {key} {problem}" if key else f"{where}: {problem}", hint)
        self.file, self.line, self.key, self.problem = file, line, key, problem


class ConfigUnreadable(ConfigError):
    """The config file cannot be read at all, or is not TOML (`reason`)."""

    def __init__(self, file: Path, reason: str, hint: str | None = None) -> None:
        super().__init__(file, 0, "", reason, hint or "check the path and its permissions")
        self.reason = reason
