"""Check 1: the config file: where it is, whether it parses, and that a file holding a
secret is readable by its owner only.
"""

from __future__ import annotations

from uploader.core.settings import CONFIG
from uploader.doctor.checks.outcome import FAIL, OK, Check, ConfigFound, home_path, shown_error


def config(found: ConfigFound) -> Check:
    """Where the config file is (none at the default place is fine), whether it parses, and
    that one holding a secret is private: the config layer's own checks, as every
    command runs them."""
    path = found.located.path
    if found.error is not None:
        check = shown_error("config", found.error)
        return Check(
            "config", FAIL, f"{check.detail} (the other checks ran without it)", check.hint
        )
    if found.file is None:
        return Check(
            "config",
            OK,
            f"no config file at {home_path(path)}: flags, the environment and the defaults apply",
        )
    named_by = {"given": "named by --config", "environment": f"named by {CONFIG.env}"}
    entries = found.file.entries
    written = [name for name, entry in entries.items() if entry.setting.secret and not entry.via]
    named = [name for name, entry in entries.items() if entry.setting.secret and entry.via]
    origin = named_by.get(found.located.named_by)
    facts = [home_path(path) + (f" ({origin})" if origin else ""), f"{len(entries)} setting(s)"]
    if written:
        try:
            mode = f"mode {path.stat().st_mode & 0o777:04o}"
        except OSError:
            mode = "its mode unknown"
        facts.append(f"secrets written in it ({', '.join(written)}), private to its owner ({mode})")
    if named:
        facts.append(f"secrets named by env or file ({', '.join(named)})")
    if not written and not named:
        facts.append("no secrets in it")
    return Check("config", OK, ", ".join(facts))
