"""The README and docs/ as a reader meets them.

- Nothing in the repository refers to notes kept outside it.
- Every relative link in README.md and docs/*.md opens a file of the repository, and every
  `#anchor` names a heading of the page it points to (GitHub's slugs). Repository paths
  in code spans (`uploader/...`, `bench/...`) exist. README.md stays short and links
  every docs/ page.
- The `sh` examples work. A line that runs `agent-uploader` (or `./agent-uploader.sh`,
  `python -m uploader`) is run for real when it can be, offline and read-only: `--help`,
  `--version`, and `ls`, `replay`, `verify` or `scan` against a store and agent folders
  made in a temporary HOME. Every other example (watch, host, anything that writes, needs
  a network or a file that is not there) is run with `--help` appended: the command must
  exist, and each flag it uses must be one that command lists.
- JSON examples parse, Python examples compile and use only the public API, and a
  redaction rules file shown is one that `--redact-rules` accepts.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from uploader.agents.prices import parse_prices
from uploader.core.settings import BY_NAME

ROOT = Path(__file__).resolve().parent.parent
THIS = Path(__file__).resolve()
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]

# Notes that live outside the repository: a reader of the project cannot open them.
# Spelled in pieces, so that this file does not name them itself.
OUTSIDE = (
    *(f"{name}.md" for name in ("DESIGN", "FORMATS", "STORES")),
    "../" + "shared",
    "/work/" + "shared",
)

README_LIMIT = 8 * 1024  # a newcomer reads it in five minutes: the rest is in docs/

# The sessions the examples name: a Claude Code transcript at the path the README uses,
# uploaded to the temporary HOME's default store and labelled as the docs label it.
SID = "5b1e0c7a-2f4d-4c55-9a61-0d2e8b7f1c3a"
LABEL = "orders pagination"
TRANSCRIPT = f".claude/projects/-home-me-shop/{SID}.jsonl"


def _claude_line(n: int, kind: str, **fields: object) -> str:
    line = {
        "parentUuid": None if n == 1 else f"00000000-0000-4000-8000-{n - 1:012d}",
        "sessionId": SID,
        "uuid": f"00000000-0000-4000-8000-{n:012d}",
        "cwd": "/home/me/shop",
        "gitBranch": "main",
        "type": kind,
        "timestamp": f"2026-03-14T09:12:{n:02d}.000Z",
        **fields,
    }
    return json.dumps(line) + "\n"


def _transcript() -> str:
    return "".join(
        [
            _claude_line(1, "user", message={"role": "user", "content": "Add pagination"}),
            _claude_line(
                2,
                "assistant",
                requestId="req_1",
                message={
                    "id": "msg_1",
                    "role": "assistant",
                    "content": [{"type": "text", "text": "Looking at the router."}],
                    "usage": {"input_tokens": 12, "output_tokens": 8},
                },
            ),
            _claude_line(
                3,
                "system",
                subtype="compact_boundary",
                content="Conversation compacted",
                compactMetadata={"trigger": "auto", "preTokens": 155210},
            ),
            _claude_line(
                4,
                "user",
                isCompactSummary=True,
                message={"role": "user", "content": "This session is being continued."},
            ),
            _claude_line(5, "user", message={"role": "user", "content": "Now add tests"}),
        ]
    )


# -- reading the pages ---------------------------------------------------------------------

_FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*([\w+-]*)")


@dataclass
class Block:
    page: Path
    lang: str
    start: int  # line number of the first line inside the fence
    lines: list[str] = field(default_factory=list)


def blocks(page: Path) -> list[Block]:
    """The fenced code blocks of a Markdown page."""
    found: list[Block] = []
    current: Block | None = None
    marker = ""
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        fence = _FENCE.match(line)
        if current is None:
            if fence:
                marker, current = fence.group(1), Block(page, fence.group(2).lower(), number + 1)
        elif fence and fence.group(1).startswith(marker) and not fence.group(2):
            found.append(current)
            current = None
        else:
            current.lines.append(line)
    assert current is None, (
        f"{page.name}: a code block opened at line {current.start - 1} never closes"
    )
    return found


def prose(page: Path, *, blank_code: bool = True) -> list[tuple[int, str]]:
    """The lines outside code blocks, with inline code spans blanked out (or kept: a
    heading's anchor is made of them)."""
    out = []
    inside, marker = False, ""
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        fence = _FENCE.match(line)
        if fence and (not inside or fence.group(1).startswith(marker)):
            inside, marker = (not inside), fence.group(1)
            continue
        if not inside:
            out.append((number, re.sub(r"(`+).*?\1", "``", line) if blank_code else line))
    return out


def slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it: the text as rendered, lower case, without
    punctuation other than '-' and '_', each space a '-'."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link: its text
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").replace("*", "")
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


@functools.cache
def anchors(page: Path) -> frozenset[str]:
    """The anchors of a page's headings; a repeated heading gets -1, -2, ..."""
    seen: dict[str, int] = {}
    out = set()
    for _, line in prose(page, blank_code=False):
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not heading:
            continue
        base = slug(heading.group(1))
        count = seen.get(base, 0)
        seen[base] = count + 1
        out.add(base if count == 0 else f"{base}-{count}")
    return frozenset(out)


_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REF = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$")
_HTML = re.compile(r"""\b(?:src|href)\s*=\s*["']([^"']+)["']""")


def links(page: Path) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for number, line in prose(page):
        for pattern in (_LINK, _REF, _HTML):
            out.extend((number, m.group(1)) for m in pattern.finditer(line))
    return out


# -- (a) nothing refers outside the repository ----------------------------------------------


def repository_files() -> list[Path]:
    """Tracked files, and untracked ones that are not ignored."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"not a git checkout: {exc}")
    names = sorted({name for name in listed.decode("utf-8", "replace").split("\0") if name})
    return [ROOT / name for name in names]


def test_nothing_refers_to_notes_outside_the_repository() -> None:
    offenders = []
    for path in repository_files():
        if path.resolve() == THIS or not path.is_file():  # this file; or deleted meanwhile
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:  # an image or other binary file
            continue
        for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            for name in OUTSIDE:
                if name in line:
                    rel = path.relative_to(ROOT)
                    offenders.append(f"  {rel}:{number}: {name!r} in: {line.strip()[:120]}")
    if offenders:
        pytest.fail(
            f"{len(offenders)} reference(s) to files outside the repository; a reader cannot "
            "open them. Say it in the repository's own docs (docs/*.md) instead:\n"
            + "\n".join(offenders),
            pytrace=False,
        )


# -- (b) links -------------------------------------------------------------------------------


def test_pages_exist() -> None:
    names = {p.name for p in PAGES}
    for name in ("watch.md", "stores.md", "dashboard.md", "restore.md", "sweep-import.md",
                 "storage-format.md", "design.md", "formats.md", "security.md",
                 "benchmarks.md"):  # fmt: skip
        assert name in names, f"docs/{name} is missing"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_resolve(page: Path) -> None:
    broken = []
    for number, target in links(page):
        where = f"{page.relative_to(ROOT)}:{number}: {target}"
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.\-]*:", target):  # https:, mailto:, ...
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        try:
            dest.relative_to(ROOT)
        except ValueError:
            broken.append(f"{where}: points outside the repository")
            continue
        if not dest.exists():
            broken.append(f"{where}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            known = ", ".join(sorted(anchors(dest)))
            broken.append(f"{where}: no heading #{anchor} in {dest.name} (it has: {known})")
    if broken:
        pytest.fail("broken links:\n  " + "\n  ".join(broken), pytrace=False)


_REPO_PATH = re.compile(
    r"(?:\./)?(?:uploader|ui|tests|bench|scripts|docs|templates|static|\.ci)/[\w./-]+"
)


@pytest.mark.parametrize(
    "page", [*PAGES, ROOT / "bench" / "README.md"], ids=lambda p: str(p.relative_to(ROOT))
)
def test_paths_named_in_code_spans_exist(page: Path) -> None:
    """`uploader/...`, `tests/...`, `bench/...` in the text name files of the repository:
    when one moves (tests/support/ helpers, say), the page must follow; bench/README.md
    too, which names the test helpers the benchmarks share."""
    missing = []
    for number, line in prose(page, blank_code=False):
        for span in re.findall(r"`([^`]+)`", line):
            if _REPO_PATH.fullmatch(span) and not (ROOT / span).exists():
                missing.append(f"{page.relative_to(ROOT)}:{number}: {span}")
    if missing:
        pytest.fail(
            "paths that are not in the repository:\n  " + "\n  ".join(missing), pytrace=False
        )


def test_readme_links_every_docs_page() -> None:
    linked = {(README.parent / target.partition("#")[0]).resolve() for _, target in links(README)}
    missing = [p.name for p in PAGES[1:] if p.resolve() not in linked]
    assert not missing, f"README.md does not link docs/ pages: {missing}"


def test_readme_stays_short() -> None:
    size = len(README.read_bytes())
    assert size <= README_LIMIT, (
        f"README.md is {size} bytes, over {README_LIMIT}: move the detail to a docs/ page"
    )


def test_readme_keeps_the_two_commands() -> None:
    commands = [line for b in blocks(README) if b.lang == "sh" for line in b.lines]
    assert any(line.startswith("./agent-uploader.sh watch --file ") for line in commands)
    assert "./test.sh" in commands


# -- (c) the examples ------------------------------------------------------------------------

PROGRAMS = (["agent-uploader"], ["./agent-uploader.sh"], ["python", "-m", "uploader"])
SHELL_LANGS = {"sh", "bash", "shell", "console"}
STOP = {"|", "||", "&&", ";", "&", ">", ">>", "<", "2>", "2>&1"}
READ_ONLY = {"ls", "replay", "verify", "scan"}
FOREVER = {"--follow", "-f", "--interval-minutes", "--jobs"}
REMOTE_FLAGS = {
    "--s3-endpoint-url", "--s3-region", "--supabase-url", "--supabase-key",
    "--supabase-key-file", "--bucket", "--upload-url", "--nexus-url", "--nexus-key",
}  # fmt: skip
REMOTE_URL = re.compile(r"^(s3|supabase|https?)://")


@dataclass
class Example:
    page: Path
    line: int
    text: str
    words: list[str]  # after the program: the command, its flags and arguments
    env: list[str]  # NAME=value words before the program

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def command(self) -> str | None:
        return next((w for w in self.words if not w.startswith("-")), None)

    @property
    def flags(self) -> list[str]:
        out = []
        for word in self.words:
            if word == "--":
                break
            if re.match(r"^--?[A-Za-z]", word):
                out.append(word.split("=", 1)[0])
        return out


def _split(text: str) -> list[str]:
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = ""  # '#' starts a comment only as a word of its own (URLs keep theirs)
    words = []
    for word in lexer:
        if word.startswith("#"):
            break
        words.append(word)
    return words


def shell_lines(page: Path) -> list[tuple[int, str]]:
    """The lines of a page's shell blocks, continuation lines joined."""
    out = []
    for block in blocks(page):
        if block.lang not in SHELL_LANGS:
            continue
        pending, first = "", 0
        for offset, line in enumerate(block.lines):
            if not pending:
                first = block.start + offset
            stripped = line.rstrip()
            if stripped.endswith("\\"):
                pending += stripped[:-1] + " "
                continue
            text = (pending + stripped).strip()
            pending = ""
            if text.startswith("$ "):
                text = text[2:]
            if text:
                out.append((first, text))
    return out


def examples() -> list[Example]:
    found = []
    for page in PAGES:
        for number, text in shell_lines(page):
            words = _split(text)
            cut = next((i for i, w in enumerate(words) if w in STOP), len(words))
            words = words[:cut]
            env = []
            while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
                env.append(words.pop(0))
            for program in PROGRAMS:
                if words[: len(program)] == program:
                    found.append(Example(page, number, text, words[len(program) :], env))
                    break
    return found


EXAMPLES = examples()


def _env(home: Path | None) -> dict[str, str]:
    """The environment of a run: no store, agent or collector settings of the machine the
    tests run on, and HOME in a temporary folder."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AGENT_", "SUPABASE_", "AWS_", "NEXUS_")) and k != "CODEX_HOME"
    }
    env.update(NO_COLOR="1", COLUMNS="120", PYTHONDONTWRITEBYTECODE="1")
    if home is not None:
        env["HOME"] = str(home)
    return env


def _uploader(args: list[str], home: Path | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "uploader", *args],
        cwd=ROOT,
        env=_env(home),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _said(proc: subprocess.CompletedProcess[str]) -> str:
    return f"exit {proc.returncode}\nstdout: {proc.stdout[-1500:]}\nstderr: {proc.stderr[-1500:]}"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A HOME with a Claude Code transcript in its agent folder, uploaded to the default
    local store and labelled: what the examples name."""
    home = tmp_path_factory.mktemp("home")
    transcript = home / TRANSCRIPT
    transcript.parent.mkdir(parents=True)
    transcript.write_text(_transcript(), encoding="utf-8")
    store = home / ".agent-uploader" / "store"
    seed = (
        "import sys, uploader\n"
        "store = uploader.open_store(sys.argv[1])\n"
        "sys.exit(0 if uploader.snapshot(store, sys.argv[2], sys.argv[3]) else 1)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", seed, f"file://{store}", str(transcript), SID],
        cwd=ROOT,
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, f"could not seed the store: {_said(proc)}"
    proc = _uploader(["label", "--sid", SID[:8], LABEL], home)
    assert proc.returncode == 0, f"could not label the session: {_said(proc)}"
    return home


def _expand(word: str, home: Path) -> str:
    if word == "~" or word.startswith("~/"):
        return str(home) + word[1:]
    return word


def _missing_file(words: list[str], home: Path) -> str | None:
    """A word that names a file or folder which is not there (a real agent file, a rules
    file of the reader's own), or None."""
    for word in words:
        if word.startswith("-"):
            continue
        if "/" in word or word.endswith((".jsonl", ".json", ".toml")):
            path = Path(_expand(word, home))
            if not (path if path.is_absolute() else ROOT / path).exists():
                return word
    return None


def runs_for_real(example: Example, home: Path) -> str | None:
    """Why the example is only checked for its flags, or None when it is run as written."""
    words = example.words
    if any(w in ("--help", "-h", "--version") for w in words):
        return None
    if example.env:
        return "it sets variables"
    if example.command not in READ_ONLY:
        return f"`{example.command}` writes, serves or runs until stopped"
    if set(example.flags) & FOREVER:
        return "it runs until stopped"
    if set(example.flags) & REMOTE_FLAGS or any(REMOTE_URL.match(w) for w in words):
        return "it needs a network"
    missing = _missing_file(words, home)
    if missing:
        return f"{missing} is not a file here"
    return None


def test_examples_cover_every_command() -> None:
    assert len(EXAMPLES) >= 20, f"only {len(EXAMPLES)} examples found: is the parser broken?"
    listed = _uploader(["--help"], None)
    assert listed.returncode == 0, _said(listed)
    commands = re.findall(r"^  (\w[\w-]*)  ", listed.stdout.split("Commands:", 1)[1], re.M)
    shown = {e.command for e in EXAMPLES}
    missing = sorted(set(commands) - shown)
    assert commands and not missing, f"commands without an example in the docs: {missing}"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.id)
def test_example(example: Example, home: Path) -> None:
    why_not = runs_for_real(example, home)
    if why_not is None:
        args = [_expand(w, home) for w in example.words]
        proc = _uploader(args, home)
        assert proc.returncode == 0, f"{example.id}: `{example.text}` failed: {_said(proc)}"
        assert "Traceback" not in proc.stderr, f"{example.id}: {_said(proc)}"
        return
    # Not run as written: the same command with --help must parse (an unknown flag is exit
    # 2), and each flag it uses must be one that the command lists.
    proc = _uploader([*example.words, "--help"], home)
    assert proc.returncode == 0, (
        f"{example.id}: `{example.text}` ({why_not}) does not parse: {_said(proc)}"
    )
    unknown = [
        f
        for f in example.flags
        if not re.search(rf"(?<![\w-]){re.escape(f)}(?![\w-])", proc.stdout)
    ]
    assert not unknown, f"{example.id}: `{example.text}` uses flags its --help lacks: {unknown}"


def test_the_readme_examples_run_for_real(home: Path) -> None:
    """The examples a newcomer tries first (`ls`, `replay`) are among those run as written."""
    ran = {e.command for e in EXAMPLES if e.page == README and runs_for_real(e, home) is None}
    assert {"ls", "replay"} <= ran, f"README examples run as written: {sorted(ran, key=str)}"


# -- other blocks ----------------------------------------------------------------------------


def _blocks_of(lang: str) -> list[Block]:
    return [b for page in PAGES for b in blocks(page) if b.lang == lang]


@pytest.mark.parametrize(
    "block", _blocks_of("json"), ids=lambda b: f"{b.page.relative_to(ROOT)}:{b.start}"
)
def test_json_examples_parse(block: Block) -> None:
    parsed = json.loads("\n".join(block.lines))
    assert isinstance(parsed, dict | list), "an example of a JSON object or array"


@pytest.mark.parametrize(
    "block", _blocks_of("python"), ids=lambda b: f"{b.page.relative_to(ROOT)}:{b.start}"
)
def test_python_examples_compile_and_name_the_api(block: Block) -> None:
    import uploader

    source = "\n".join(block.lines)
    compile(source, f"{block.page.name}:{block.start}", "exec")
    used = set(re.findall(r"\buploader\.(\w+)", source))
    assert used <= set(uploader.__all__), f"not in uploader.__all__: {used - set(uploader.__all__)}"


def test_scripts_named_in_examples_exist() -> None:
    missing = []
    for page in PAGES:
        for number, text in shell_lines(page):
            for word in _split(text):
                script = re.fullmatch(r"(\./)?[\w.\-]+(/[\w.\-]+)*\.(py|sh)", word)
                if script and "/" in word and not (ROOT / word).exists():
                    missing.append(f"{page.relative_to(ROOT)}:{number}: {word}")
    assert not missing, "scripts that do not exist:\n  " + "\n  ".join(missing)


def _is_config(text: str) -> bool:
    """Is this TOML a config file (docs/config.md): are its keys settings?"""
    try:
        keys = set(tomllib.loads(text))
    except tomllib.TOMLDecodeError:
        return False
    return bool(keys) and keys <= set(BY_NAME)


@pytest.mark.parametrize(
    "block", _blocks_of("toml"), ids=lambda b: f"{b.page.relative_to(ROOT)}:{b.start}"
)
def test_rules_examples_are_accepted(block: Block, home: Path, tmp_path: Path) -> None:
    """A rules file shown in the docs is one that `--redact-rules` accepts (a bad one is
    exit 2). A price file (`[models."…"]`) is one the price table accepts. A config file
    (its keys are settings) is one that every command reads (`config show`)."""
    text = "\n".join(block.lines) + "\n"
    if any(line.startswith("[models.") for line in block.lines):
        assert parse_prices(text.encode(), str(block.page)), block.start
        return
    if _is_config(text):
        config = tmp_path / "config.toml"
        config.write_text(text, encoding="utf-8")
        config.chmod(0o600)
        proc = _uploader(["config", "show", "--config", str(config)], home)
        assert proc.returncode == 0, _said(proc)
        return
    rules = tmp_path / "rules.toml"
    rules.write_text("\n".join(block.lines) + "\n", encoding="utf-8")
    proc = _uploader(["scan", "--redact-rules", str(rules), str(home / TRANSCRIPT)], home)
    assert proc.returncode == 0, _said(proc)
