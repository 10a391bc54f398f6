"""One error tree (uploader.core.errors), in the engine's words; the command line's words
(flags, commands, exit codes) are added at its boundary (uploader.messages.explain), which
the dashboard shares."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import ui
import uploader
from uploader.core import errors as e
from uploader.messages import Shown, explain
from uploader.stores import StoreOptions, open_store, resolve_store_url

ROOT = Path(__file__).resolve().parents[2]
#: Exceptions that are signals, not errors: they unwind a loop (a retry told to stop, a
#: transcript line to show raw) and never reach a user. By name: the agents' code moves.
SIGNALS = {"Stopped", "Malformed", "_Malformed"}
#: The packages below the command line: their words hold for every caller.
ENGINE = ["storage", "read", "write", "batch", "redaction", "stores", "core", "api.py"]
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
COMMAND = re.compile(r"agent-uploader(?![/\w.-])")  # `agent-uploader ls`, not ~/.agent-uploader/


def _modules() -> list[str]:
    names = []
    for package in (uploader, ui):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not info.name.endswith("__main__"):
                names.append(info.name)
    return names


def test_every_exception_is_in_the_one_tree() -> None:
    loose = []
    for name in _modules():
        try:
            module = importlib.import_module(name)
        except ImportError:  # an optional dependency (hyperscan) that is not installed
            continue
        for cls_name, cls in vars(module).items():
            if (
                inspect.isclass(cls)
                and issubclass(cls, BaseException)
                and cls.__module__ == name
                and not issubclass(cls, e.UploaderError)
                and cls_name not in SIGNALS
            ):
                loose.append(f"{name}.{cls_name}")
    assert not loose, f"exceptions outside uploader.core.errors' tree: {loose}"


def test_the_public_names_are_the_trees() -> None:
    assert uploader.UserError is e.UserError and uploader.UsageError is e.UsageError
    assert uploader.StorageError is e.StorageError and uploader.UploaderError is e.UploaderError
    assert uploader.Damaged is e.Damaged and uploader.NotFound is e.NotFound
    for branch in (e.UserError, e.StorageError):
        assert issubclass(branch, e.UploaderError)
    for branch in (e.UsageError, e.NotFound, e.Damaged, e.Conflict, e.LocalError):
        assert issubclass(branch, e.UserError)
    assert not issubclass(e.StorageError, e.UserError)  # `except UserError` as before
    assert issubclass(e.BadJSON, ValueError) and issubclass(e.Corrupt, ValueError)


def _engine_files() -> list[Path]:
    files: list[Path] = []
    for part in ENGINE:
        path = ROOT / "uploader" / part
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    settings = ROOT / "uploader" / "core" / "settings"  # the flags' own declarations
    return [f for f in files if not f.is_relative_to(settings)]


def _strings(path: Path) -> list[tuple[int, str]]:
    """The string constants of a module that are not docstrings."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        if id(node) not in docstrings
    ]


def test_the_engine_names_no_flag_and_no_command() -> None:
    """Messages, hints and log lines below the command line hold for the Python API too;
    advice that names a flag or a command belongs in uploader.messages."""
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text[:80]!r}"
        for path in _engine_files()
        for line, text in _strings(path)
        if FLAG.search(text) or COMMAND.search(text)
    ]
    assert not found, "\n".join(found)


# -- the boundary: the command line's words, as they were before the tree -------------------

WHERE = Path("/tmp/x.jsonl")


@pytest.mark.parametrize(
    ("error", "message", "hint", "code"),
    [
        (
            e.InvalidSetting("sid", "a/b", "'a/b' is not a safe session id", "use letters"),
            "--sid 'a/b' is not a safe session id",
            "use letters, or --sid auto",
            2,
        ),
        (
            e.ConflictingSettings(("store", "upload_url"), "name one store: drop one of them"),
            "both --store and --upload-url were given",
            "name one store: drop one of them",
            2,
        ),
        (
            e.UnknownScheme("ftp://x", "ftp"),
            "--store 'ftp://x': unknown scheme 'ftp'",
            "supported stores: file:///dir, s3://bucket/prefix, supabase://bucket; "
            "for a plain HTTP PUT target use --upload-url",
            2,
        ),
        (
            e.SessionNotNamed(both=True),
            "both --sid and --label were given",
            "pass --sid ID (or the first characters of it) or --label TEXT",
            2,
        ),
        (
            e.WrongGeneration("cp1", 2, 1),
            "checkpoint cp1 belongs to generation 2, not 1",
            "drop --generation: a checkpoint says which generation it is in",
            2,
        ),
        (
            e.RulesError("r.toml", "r.toml: bad"),
            "r.toml: bad",
            "see `agent-uploader scan --help` for the rules file format",
            2,
        ),
        (
            e.RulesFileUnreadable("r.toml", "No such file or directory"),
            "cannot read the rules file r.toml: No such file or directory",
            "check --redact-rules",
            2,
        ),
        (e.EmptyLabel(), "the label is empty", "give some text, or --clear to remove a label", 2),
        (
            e.SessionNotFound("abc", "file:///s"),
            "no session 'abc' in file:///s",
            "list the sessions with `agent-uploader ls`",
            3,
        ),
        (
            e.EmptySession("abc"),
            "session abc holds no lines yet",
            "nothing to restore; see `agent-uploader ls`",
            3,
        ),
        (
            e.DamagedSession(
                "session abc: segment 2 is a truncated gzip",
                "an earlier checkpoint may still restore",
                sid="abc",
                seq=2,
            ),
            "session abc: segment 2 is a truncated gzip",
            "run `agent-uploader verify`; an earlier checkpoint may still restore",
            1,
        ),
        (
            e.SpoolLocked(Path("/s"), "pid 7"),
            "spool /s is already in use by pid 7",
            "stop the other `agent-uploader watch`, or give this one its own --spool-dir",
            1,
        ),
        (
            e.SessionInUse("abc", Path("/s")),
            "session abc is being written by a running `agent-uploader watch` on this machine "
            "(spool /s)",
            "stop that watch first (Ctrl+C), then delete the session",
            1,
        ),
        (
            e.LabelTaken("fix", "abc"),
            "the label 'fix' is already on session abc",
            "labels are unique in a store: choose another, or clear it there with "
            "`agent-uploader label --sid abc --clear`",
            1,
        ),
        (
            e.TargetExists(WHERE),
            f"{WHERE} already exists",
            "pass --force to replace it, or --to another path",
            1,
        ),
        (
            e.TargetNotAFile(WHERE, "a link"),
            f"{WHERE} is a link: only a regular file is replaced",
            "give --to the path of the file to write",
            1,
        ),
        (
            e.TargetUnwritable(WHERE, "No space left on device", full=True),
            f"cannot write {WHERE}: No space left on device; nothing was changed there",
            "free some space there, or restore elsewhere with --to",
            1,
        ),
        (
            e.SpoolUnwritable(Path("/s"), "Permission denied"),
            "cannot create spool folder /s: Permission denied",
            "choose a writable place with --spool-dir (and --state-dir)",
            1,
        ),
        (
            e.StoreCheckFailed("s3://b", e.BucketNotFound("bucket 'b' does not exist")),
            "store s3://b: bucket 'b' does not exist",
            "create it, or fix --store",
            1,
        ),
        (
            e.StoreCheckFailed("s3://b", e.StorageAuthError("403")),
            "store s3://b refused our credentials: 403",
            "check the key: SUPABASE_KEY for Supabase, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY"
            " / AWS_PROFILE for S3, the folder's permissions for a file store",
            1,
        ),
        (
            e.StorageUnavailable("GET x: 503"),
            "the store failed: GET x: 503",
            "the store did not answer; check the network and try again",
            1,
        ),
        (
            e.WriteOnlyStore("http://up"),
            "the store failed: http://up can only be written; this needs a store that can be "
            "read (--store file://..., s3://... or supabase://...)",
            "check --store and try again",
            1,
        ),
    ],
)
def test_the_command_line_words_an_error_as_before(
    error: e.UploaderError, message: str, hint: str, code: int
) -> None:
    assert explain(error) == Shown(message, hint, code)


def test_the_engine_words_hold_for_every_caller() -> None:
    with pytest.raises(e.InvalidSetting) as info:
        open_store("file://relative")
    assert info.value.message == "store 'file://relative': a file store needs an absolute path"
    assert explain(info.value).message.startswith("--store 'file://relative'")
    with pytest.raises(e.InvalidSetting) as info:
        open_store("supabase://sessions", StoreOptions())
    assert explain(info.value).hint == (
        "pass --supabase-url and --supabase-key (or set SUPABASE_URL and SUPABASE_KEY)"
    )
    with pytest.raises(e.ConflictingSettings):
        resolve_store_url("file:///x", StoreOptions(upload_url="https://up"))


def test_an_error_without_a_row_is_shown_as_it_is() -> None:
    error = e.Conflict("labels.json kept changing while it was written", "try again")
    assert explain(error) == Shown(error.message, "try again", 1)
