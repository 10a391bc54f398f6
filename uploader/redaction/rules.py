"""Redaction rules: the built-in table (default_rules.toml, kept as data) and a user's file.

A rules file is TOML:

    [[rules]]
    id = "acme-token"                 # kebab-case, shown in the marker [REDACTED:id:fingerprint]
    regex = 'acme_[a-z0-9]{32}'       # Python `re` syntax, matched on the bytes of one line
    secret_group = 0                  # optional: the group that is the secret (0: the match)
    keywords = ["acme_"]              # optional: the rule only applies to lines holding one
    ignore_case = false               # optional: regex and keywords ignore ASCII case
    prefilter = '...'                 # optional, advanced: a Hyperscan-friendly regex that
                                      # matches every line `regex` matches (default: regex)
    description = "..."               # optional

    [allowlist]
    regexes = ['EXAMPLE']             # a secret any of these finds (re.search) stays
    values = ["sk_test_known_fake"]   # a secret equal to one of these stays

A file adds its rules and allowlist entries to the built-in ones. Every problem is a
RulesError naming the file, the rule and what is wrong.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from uploader.core.errors import (
    RulesError as RulesError,  # raised here, for callers
    RulesFileUnreadable,
)

RULE_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,40}")
_RULE_KEYS = frozenset(
    {"id", "regex", "secret_group", "keywords", "ignore_case", "prefilter", "description"}
)
_ALLOW_KEYS = frozenset({"regexes", "values"})
_TOP_KEYS = frozenset({"rules", "allowlist"})
DEFAULT_RULES_NAME = "default_rules.toml"


@dataclass(frozen=True)
class Rule:
    """One kind of secret. `regex` runs on one line at a time (never across a newline);
    the `secret_group` of each match is what gets replaced."""

    id: str
    regex: str
    secret_group: int = 0
    keywords: tuple[str, ...] = ()
    ignore_case: bool = False
    prefilter: str | None = None
    description: str = ""


@dataclass(frozen=True)
class Allow:
    """An allowlist entry: secrets that `regex` finds (re.search), or exactly `value`.
    Both are compared with the secret as text (JSON escapes undone)."""

    regex: str | None = None
    value: str | None = None


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    allow: tuple[Allow, ...] = ()

    def __add__(self, other: RuleSet) -> RuleSet:
        return RuleSet(self.rules + other.rules, self.allow + other.allow)


@functools.cache
def default_rules() -> RuleSet:
    """The built-in rules: high-confidence provider formats only (see default_rules.toml)."""
    raw = resources.files(__name__.rpartition(".")[0]).joinpath(DEFAULT_RULES_NAME).read_bytes()
    return parse_rules(raw, DEFAULT_RULES_NAME)


def load_rules(path: Path | None) -> RuleSet:
    """The built-in rules, plus the rules and allowlist entries of `path` if given."""
    defaults = default_rules()
    if path is None:
        return defaults
    try:
        raw = Path(path).expanduser().read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise RulesFileUnreadable(str(path), reason) from None
    extra = parse_rules(raw, str(path), taken={r.id for r in defaults.rules})
    return defaults + extra


def parse_rules(raw: bytes, name: str, taken: set[str] | frozenset[str] = frozenset()) -> RuleSet:
    """The rules of the TOML document `raw` (`name` says where it came from in errors);
    ids in `taken` are already used."""
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise RulesError(name, f"{name}: not UTF-8 text (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        # tomllib says where: "Expected '=' after a key in a key/value pair (at line 3, column 5)"
        raise RulesError(name, f"{name}: invalid TOML: {exc}") from None
    _unknown(doc, _TOP_KEYS, name, "at the top level")
    rules_doc = doc.get("rules", [])
    if not isinstance(rules_doc, list):
        raise RulesError(name, f"{name}: 'rules' must be an array of tables ([[rules]])")
    rules: list[Rule] = []
    seen = set(taken)
    for number, item in enumerate(rules_doc, 1):
        rule = _rule(item, name, number)
        if rule.id in seen:
            where = "a built-in rule" if rule.id in taken else "an earlier rule"
            raise RulesError(
                name,
                f"{name}: rule {rule.id!r}: the id is already used by {where}",
                "give each rule an id of its own",
            )
        seen.add(rule.id)
        rules.append(rule)
    return RuleSet(tuple(rules), _allowlist(doc.get("allowlist", {}), name))


def _unknown(table: dict[str, Any], allowed: frozenset[str], name: str, where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise RulesError(
            name,
            f"{name}: unknown key {unknown[0]!r} {where}",
            f"the keys are: {', '.join(sorted(allowed))}",
        )


def _rule(item: Any, name: str, number: int) -> Rule:
    if not isinstance(item, dict):
        raise RulesError(name, f"{name}: rule #{number} is not a table")
    rid = item.get("id")
    label = f"rule {rid!r}" if isinstance(rid, str) else f"rule #{number}"
    _unknown(item, _RULE_KEYS, name, f"in {label}")
    if not isinstance(rid, str) or not RULE_ID.fullmatch(rid):
        raise RulesError(
            name,
            f"{name}: {label}: 'id' must be 1-41 characters of a-z, 0-9 and '-', "
            "starting with a letter or digit",
            'e.g. id = "acme-token"',
        )

    def fail(problem: str, hint: str | None = None) -> RulesError:
        return RulesError(name, f"{name}: rule {rid!r}: {problem}", hint)

    regex = item.get("regex")
    if not isinstance(regex, str) or not regex:
        raise fail("'regex' is missing or not a string", "e.g. regex = 'acme_[a-z0-9]{32}'")
    ignore_case = item.get("ignore_case", False)
    if not isinstance(ignore_case, bool):
        raise fail("'ignore_case' must be true or false")
    pattern = _compile(regex, ignore_case, fail, "regex")
    if pattern.fullmatch(b"") is not None:
        raise fail("'regex' matches an empty string", "make it match the secret itself")
    group = item.get("secret_group", 0)
    if not isinstance(group, int) or isinstance(group, bool) or group < 0:
        raise fail("'secret_group' must be a whole number, 0 or more")
    if group > pattern.groups:
        raise fail(
            f"'secret_group' is {group} but the regex has {pattern.groups} group(s)",
            "count the capturing groups '(...)' of the regex, or use 0 for the whole match",
        )
    keywords = item.get("keywords", [])
    if not isinstance(keywords, list) or not all(
        isinstance(k, str) and k and "\n" not in k for k in keywords
    ):
        raise fail("'keywords' must be a list of non-empty one-line strings")
    prefilter = item.get("prefilter")
    if prefilter is not None:
        if not isinstance(prefilter, str) or not prefilter:
            raise fail("'prefilter' must be a non-empty string")
        _compile(prefilter, ignore_case, fail, "prefilter")
    description = item.get("description", "")
    if not isinstance(description, str):
        raise fail("'description' must be a string")
    return Rule(rid, regex, group, tuple(keywords), ignore_case, prefilter, description)


def _compile(regex: str, ignore_case: bool, fail: Any, key: str) -> re.Pattern[bytes]:
    try:
        return re.compile(regex.encode(), re.IGNORECASE if ignore_case else 0)
    except re.error as exc:
        raise fail(
            f"{key!r} does not compile: {exc}",
            "it is a Python regular expression (module re); check its brackets and escapes",
        ) from None


def _allowlist(table: Any, name: str) -> tuple[Allow, ...]:
    if not isinstance(table, dict):
        raise RulesError(name, f"{name}: 'allowlist' must be a table ([allowlist])")
    _unknown(table, _ALLOW_KEYS, name, "in [allowlist]")
    out: list[Allow] = []
    for key in ("regexes", "values"):
        entries = table.get(key, [])
        if not isinstance(entries, list) or not all(isinstance(e, str) and e for e in entries):
            raise RulesError(name, f"{name}: allowlist {key!r} must be a list of non-empty strings")
        for entry in entries:
            if key == "values":
                out.append(Allow(value=entry))
                continue
            try:
                re.compile(entry.encode())
            except re.error as exc:
                raise RulesError(
                    name,
                    f"{name}: allowlist regex {entry!r} does not compile: {exc}",
                    "it is a Python regular expression (module re)",
                ) from None
            out.append(Allow(regex=entry))
    return tuple(out)
