"""Generated transcripts of any size, seeded, for the tests and the benchmarks alike
(bench/ imports them as it imports every test helper, with `tests/` on sys.path).

- `big_session_lines`: Codex-like lines from a small fixed vocabulary, fast and the same
  on every machine; what tests and the store/reload/redaction benchmarks that need
  volume, not realism, use.
- `TranscriptGen` (with a `Corpus`): Codex and Claude Code turns in the agents' own shapes,
  filled with code and prose from the standard library's sources, so their line sizes and
  compression ratio are those of real transcripts; what `bench_watch.py` and
  `bench_watch_redaction.py` measure `watch` on.

Small hand-written sessions of each agent are in `session_factory.py`.
"""

from __future__ import annotations

import base64
import functools
import json
import math
import random
import re
import sysconfig
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any

from session_factory import _exec_output, _j

CWD = "/home/dev/shop-api"
MB = 1_000_000


# -- a fast stream of Codex-like lines --------------------------------------------------

_VOCAB_TEXT = (
    "def return self import from orders page limit offset None True False async await "
    "query session commit rollback int str list dict for in if else elif raise ValueError "
    "src/orders.py tests/test_orders.py PASSED FAILED assert response status_code 200 404 "
    "json client get post cursor SELECT FROM WHERE ORDER BY id created_at user_id total "
    "price quantity = == != -> ( ) [ ] { } : , . + - * / # @router.get('/orders') "
    "db.query(Order) .limit(limit) .offset(offset) .all() logger.info('%s', x) "
    "Traceback (most recent call last): File line module error warning INFO DEBUG "
    "http://localhost:8000/orders?limit=50 diff --git a/src b/src @@ -1,4 +1,6 @@"
)
_VOCAB = _VOCAB_TEXT.split()
_BREAKS = ("\n", "\n    ", "\n        ", "\n\n")


@functools.lru_cache(maxsize=4)
def _corpus(seed: int) -> str:
    """About 1.5 MB of code- and log-like text to cut tool outputs and messages from."""
    rng = random.Random(seed)
    population = [*_VOCAB, *_BREAKS]
    weights = [1.0] * len(_VOCAB) + [3.0] * len(_BREAKS)
    words = rng.choices(population, weights, k=260_000)
    return " ".join(words)


def big_session_lines(total_bytes: int, seed: int = 0) -> Iterator[bytes]:
    """Codex-like lines until at least `total_bytes` have been yielded (the last line may
    overshoot), the same for the same arguments. Lines are 200 B to 20 KB, with a 200 KB
    tool output now and then (about one in 60 calls) and a remote compaction (a
    `compacted` line of ~100 KB, then `context_compacted`) every 16 MiB."""
    emitted = 0
    for line in _codex_stream(seed):
        if emitted >= total_bytes:
            return
        emitted += len(line)
        yield line


def _codex_stream(seed: int) -> Iterator[bytes]:
    rng = random.Random(seed)
    corpus = _corpus(seed)
    t = datetime(2026, 3, 14, 9, 0, tzinfo=UTC)
    sid = f"019ce1a2-0000-7000-8000-{seed % 10**12:012d}"
    cwd = "/home/dev/shop-api"
    call_no = 0
    emitted = 0
    next_compaction = 16 << 20

    def stamp() -> str:
        nonlocal t
        t += timedelta(milliseconds=rng.randint(20, 4000))
        return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

    def text(size: int) -> str:
        start = rng.randrange(0, len(corpus) - size)
        return corpus[start : start + size]

    def size(median: float = 7.0) -> int:
        return int(min(17_000, max(60, rng.lognormvariate(median, 1.0))))

    def line(kind: str, payload: dict[str, Any]) -> bytes:
        nonlocal emitted
        data = _j({"timestamp": stamp(), "type": kind, "payload": payload})
        emitted += len(data)
        return data

    def blob(n: int) -> str:
        return "gAAAAAB" + base64.b64encode(rng.randbytes(n * 3 // 4)).decode()

    meta = {"id": sid, "timestamp": "2026-03-14T09:00:00.000Z", "cwd": cwd,
            "originator": "codex_cli_rs", "cli_version": "0.112.0", "source": "cli",
            "model_provider": "openai",
            "git": {"commit_hash": "a1b2c3d", "branch": "main"}}  # fmt: skip
    context = {"cwd": cwd, "approval_policy": "on-request", "model": "gpt-5-codex",
               "sandbox_policy": {"type": "workspace-write", "network_access": False},
               "effort": "medium", "summary": "auto"}  # fmt: skip
    yield line("session_meta", meta)
    yield line("turn_context", context)
    total_tokens = 12_000
    while True:
        ask = text(size(5.8))
        yield line("response_item", {"type": "message", "role": "user",
                                     "content": [{"type": "input_text", "text": ask}]})  # fmt: skip
        yield line("event_msg", {"type": "user_message", "message": ask, "images": []})
        for _ in range(rng.randint(1, 8)):
            call_no += 1
            call_id = f"call_{call_no:08d}"
            if rng.random() < 0.5:
                yield line("response_item", {"type": "reasoning", "content": None,
                                             "summary": [{"type": "summary_text",
                                                          "text": text(size(4.5))}],
                                             "encrypted_content": blob(size(7.3))})  # fmt: skip
            command = json.dumps({"command": ["bash", "-lc", text(rng.randint(60, 300))]})
            yield line("response_item", {"type": "function_call", "name": "shell",
                                         "arguments": command, "call_id": call_id})  # fmt: skip
            big = rng.random() < 1 / 60
            output = _exec_output(text(200_000 if big else size()), rng.choice((0, 0, 0, 1)))
            yield line("response_item", {"type": "function_call_output", "call_id": call_id,
                                         "output": output})  # fmt: skip
            total_tokens += rng.randint(500, 9000)
            usage = {"input_tokens": total_tokens, "cached_input_tokens": total_tokens // 2,
                     "output_tokens": total_tokens // 40, "total_tokens": total_tokens}  # fmt: skip
            yield line("event_msg", {"type": "token_count", "rate_limits": None,
                                     "info": {"total_token_usage": usage,
                                              "model_context_window": 272000}})  # fmt: skip
        answer = text(size(6.5))
        content = [{"type": "output_text", "text": answer}]
        yield line("response_item", {"type": "message", "role": "assistant", "content": content})
        yield line("event_msg", {"type": "agent_message", "message": answer})
        if emitted >= next_compaction:
            next_compaction += 16 << 20
            history = [{"type": "compaction", "encrypted_content": blob(100_000)}]
            yield line("compacted", {"message": "", "replacement_history": history})
            yield line("event_msg", {"type": "context_compacted"})
            total_tokens = 12_000


# -- a realistic transcript -------------------------------------------------------------


class Corpus:
    """Code and prose to fill lines with: a seeded pick of the standard library's sources
    (the "repository" the agent works on) and sentences from their docstrings."""

    SKIP = frozenset({"test", "tests", "idlelib", "site-packages", "__pycache__", "lib2to3"})
    AGENT_PHRASES = (
        "I'll start by looking at how the router is wired up.",
        "Let me check the existing tests before changing anything.",
        "The failure comes from the offset being computed before the header is parsed.",
        "Now I'll run the test suite to make sure nothing else broke.",
        "That fixed the first case; the second one still fails on an empty page.",
        "I need to see where this function is called from.",
        "All tests pass. Summary of the change:",
        "**Inspecting the pagination helper**",
        "**Planning the refactor of the storage layer**",
    )

    def __init__(self, rng: Random, n_files: int = 120) -> None:
        root = Path(sysconfig.get_paths()["stdlib"])
        files = sorted(
            p for p in root.rglob("*.py") if not self.SKIP & set(p.relative_to(root).parts)
        )
        self.files: list[tuple[str, list[str]]] = []
        sentences: list[str] = []
        for p in rng.sample(files, min(n_files, len(files))):
            text = p.read_text(encoding="utf-8", errors="replace")
            lines = text.splitlines()
            if len(lines) < 20:
                continue
            self.files.append(("src/" + p.relative_to(root).as_posix(), lines))
            for doc in re.findall(r'"""(.+?)"""', text, re.S):
                flat = " ".join(doc.split())
                sentences += [s for s in re.split(r"(?<=[.!?])\s+", flat) if 20 <= len(s) <= 300]
            sentences += [ln.strip()[2:] for ln in lines if ln.strip().startswith("# ")]
        self.sentences = sentences or list(self.AGENT_PHRASES)
        self.idents = sorted(
            {w for _, ls in self.files for w in re.findall(r"def (\w+)", "\n".join(ls))}
        )


class TranscriptGen:
    """Seeded NDJSON lines in the agents' own shapes (docs/formats.md): Codex and Claude Code turns
    (messages, reasoning with encrypted_content, tool calls and outputs, token_count
    events, file snapshots) and now and then a compaction."""

    def __init__(self, seed: int, corpus: Corpus) -> None:
        self.rng = Random(seed)
        self.c = corpus
        self.sid = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        self.t = datetime(2026, 3, 14, 9, 0, 0, tzinfo=UTC)
        self.tokens = 12_000
        self.parent: str | None = None

    # small pieces

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def ts(self) -> str:
        self.t += timedelta(seconds=self.rng.expovariate(1 / 2.5))
        return self.t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{self.t.microsecond // 1000:03d}Z"

    def token(self, prefix: str, n: int = 24) -> str:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        return prefix + "".join(self.rng.choice(alphabet) for _ in range(n))

    def blob(self, lo: int, hi: int) -> str:
        """An encrypted_content-like blob (Fernet-style urlsafe base64): incompressible."""
        return (
            "gAAAAAB"
            + base64.urlsafe_b64encode(self.rng.randbytes(self.rng.randint(lo, hi))).decode()
        )

    def prose(self, n: int) -> str:
        out: list[str] = []
        size = 0
        while size < n:
            s = self.rng.choice(
                self.c.sentences if self.rng.random() < 0.85 else self.c.AGENT_PHRASES
            )
            out.append(s)
            size += len(s) + 1
            if self.rng.random() < 0.15:
                out.append("\n\n")
        return " ".join(out).replace(" \n\n ", "\n\n")

    def out_size(self, cap: int) -> int:
        """Tool output size: log-normal, median ~1.5 KB, clipped so that no line exceeds
        ~200 KB (Codex escapes the output twice, Claude Code stores it twice)."""
        return max(40, min(cap, int(self.rng.lognormvariate(math.log(1500), 1.5))))

    def code(self, n: int) -> tuple[str, int, list[str]]:
        """About n characters of consecutive source lines: (path, first line number, lines).
        Most reads hit a dozen "hot" files, as an agent's do."""
        hot = self.rng.random() < 0.6
        path, lines = self.rng.choice(self.c.files[:12] if hot else self.c.files)
        start = self.rng.randrange(max(1, len(lines) - 10))
        picked: list[str] = []
        size = 0
        i = start
        while size < n:
            if i >= len(lines):
                path2, lines2 = self.rng.choice(self.c.files)  # `cat a b`: the next file
                picked.append(f"# ---- {path2} ----")
                lines, i = lines2, 0
            picked.append(lines[i])
            size += len(lines[i]) + 1
            i += 1
        return path, start + 1, picked

    # tool outputs

    def tool_output(self, n: int) -> tuple[str, str]:
        """(shell command, its output) of about n characters."""
        kind = self.rng.choices(["sed", "rg", "pytest", "diff", "build", "ls"], [5, 3, 2, 2, 2, 1])[
            0
        ]
        if kind == "sed":
            path, first, lines = self.code(n)
            return f"sed -n '{first},{first + len(lines)}p' {path}", "\n".join(lines)
        if kind == "rg":
            ident = self.rng.choice(self.c.idents or ["main"])
            out, size = [], 0
            while size < n:
                path, first, lines = self.code(200)
                s = f"{path}:{first}:{lines[0]}"
                out.append(s)
                size += len(s) + 1
            return f"rg -n {ident} src tests", "\n".join(out)
        if kind == "pytest":
            out = [
                "============================= test session starts =============================",
                "platform linux -- Python 3.12.3, pytest-8.3.4, pluggy-1.5.0",
                f"rootdir: {CWD}",
                "configfile: pyproject.toml",
                "",
            ]
            size, k = 0, 0
            while size < n:
                ident = self.rng.choice(self.c.idents or ["case"])
                ok = self.rng.random() > 0.04
                name = ident.strip("_")
                outcome = "PASSED" if ok else "FAILED"
                s = f"tests/test_{name}.py::test_{name}_{k} {outcome} [{min(99, k)}%]"
                out.append(s)
                size += len(s) + 1
                if not ok:
                    path, first, lines = self.code(self.rng.randint(300, 3000))
                    out += [f"    {ln}" for ln in lines]
                    out.append(f"E       AssertionError: assert {k} == {self.rng.randint(0, 99)}")
                    out.append(f"{path}:{first + len(lines)}: AssertionError")
                    size += sum(len(ln) + 5 for ln in lines)
                k += 1
            secs = self.rng.uniform(0.5, 40)
            out.append(f"{'=' * 24} {k} passed in {secs:.2f}s {'=' * 24}")
            return "pytest -q -x", "\n".join(out)
        if kind == "diff":
            out, size = [], 0
            while size < n:
                path, first, lines = self.code(self.rng.randint(300, 2500))
                out += [
                    f"diff --git a/{path} b/{path}",
                    f"index {self.token('', 7).lower()}..{self.token('', 7).lower()} 100644",
                    f"--- a/{path}",
                    f"+++ b/{path}",
                    f"@@ -{first},{len(lines)} +{first},{len(lines) + 1} @@",
                ]
                for ln in lines:
                    r = self.rng.random()
                    out.append(("-" if r < 0.08 else "+" if r < 0.16 else " ") + ln)
                size += sum(len(ln) + 1 for ln in lines)
            return "git diff", "\n".join(out)
        if kind == "build":  # install/compile logs: templated, very repetitive
            out, size, total = [], 0, max(5, n // 60)
            for i in range(1, total + 1):
                name = self.rng.choice(self.c.idents or ["pkg"]).strip("_").replace("_", "-")
                ver = f"{self.rng.randint(0, 4)}.{self.rng.randint(0, 30)}.{self.rng.randint(0, 9)}"
                s = self.rng.choice(
                    (
                        f"  Downloaded {name} v{ver}",
                        f"   Compiling {name} v{ver}",
                        f"[{i}/{total}] Building CXX object src/CMakeFiles/{name}.dir/{name}.cc.o",
                        f"npm WARN deprecated {name}@{ver}: This package is no longer supported.",
                        f"Collecting {name}=={ver}\n  Using cached {name}-{ver}-py3-none-any.whl",
                    )
                )
                out.append(s)
                size += len(s) + 1
                if size >= n:
                    break
            return "make build 2>&1 | tail -n 400", "\n".join(out)
        paths = [
            p for p, _ in self.rng.sample(self.c.files, min(len(self.c.files), max(3, n // 40)))
        ]
        return "git ls-files src", "\n".join(paths)

    # Codex

    def codex(self, typ: str, payload: dict[str, Any]) -> dict[str, Any]:
        return {"timestamp": self.ts(), "type": typ, "payload": payload}

    def token_count(self) -> dict[str, Any]:
        last = self.rng.randint(2000, 30000)
        self.tokens += last

        def usage(t: int) -> dict[str, int]:
            return {
                "input_tokens": t,
                "cached_input_tokens": int(t * 0.8),
                "output_tokens": t // 30,
                "reasoning_output_tokens": t // 60,
                "total_tokens": t + t // 30,
            }

        return self.codex(
            "event_msg",
            {
                "type": "token_count",
                "info": {
                    "total_token_usage": usage(self.tokens),
                    "last_token_usage": usage(last),
                    "model_context_window": 272000,
                },
                "rate_limits": {
                    "primary": {
                        "used_percent": round(self.rng.uniform(0, 90), 1),
                        "window_minutes": 300,
                        "resets_in_seconds": self.rng.randint(0, 18000),
                    },
                    "secondary": {
                        "used_percent": round(self.rng.uniform(0, 50), 1),
                        "window_minutes": 10080,
                        "resets_in_seconds": self.rng.randint(0, 604800),
                    },
                },
            },
        )

    def codex_turn(self) -> Iterator[dict[str, Any]]:
        yield self.codex(
            "turn_context",
            {
                "cwd": CWD,
                "approval_policy": "on-request",
                "sandbox_policy": {"type": "workspace-write", "network_access": False},
                "model": "gpt-5-codex",
                "effort": "medium",
                "summary": "auto",
            },
        )
        ask = self.prose(self.rng.randint(40, 1200))
        yield self.codex(
            "response_item",
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": ask}]},
        )
        yield self.codex("event_msg", {"type": "user_message", "message": ask, "images": []})
        for _ in range(self.rng.randint(1, 10)):
            summary = self.prose(self.rng.randint(30, 500))
            yield self.codex(
                "response_item",
                {
                    "type": "reasoning",
                    "summary": [{"type": "summary_text", "text": summary}],
                    "content": None,
                    "encrypted_content": self.blob(400, 4500),
                },
            )
            yield self.codex("event_msg", {"type": "agent_reasoning", "text": summary})
            call_id = self.token("call_")
            if self.rng.random() < 0.15:  # apply_patch
                path, _, lines = self.code(self.rng.randint(200, 4000))
                patch = "\n".join(
                    ["*** Begin Patch", f"*** Update File: {path}", "@@"]
                    + [
                        ("-" if i % 7 == 3 else "+" if i % 7 == 4 else " ") + ln
                        for i, ln in enumerate(lines)
                    ]
                    + ["*** End Patch"]
                )
                yield self.codex(
                    "response_item",
                    {
                        "type": "custom_tool_call",
                        "status": "completed",
                        "call_id": call_id,
                        "name": "apply_patch",
                        "input": patch,
                    },
                )
                out = json.dumps(
                    {
                        "output": f"Success. Updated the following files:\nM {path}\n",
                        "metadata": {"exit_code": 0, "duration_seconds": 0.0},
                    }
                )
                yield self.codex(
                    "response_item",
                    {"type": "custom_tool_call_output", "call_id": call_id, "output": out},
                )
            else:
                cmd, text = self.tool_output(self.out_size(160_000))
                args = json.dumps(
                    {"command": ["bash", "-lc", cmd], "workdir": CWD, "timeout_ms": 120000}
                )
                yield self.codex(
                    "response_item",
                    {
                        "type": "function_call",
                        "name": "shell",
                        "arguments": args,
                        "call_id": call_id,
                    },
                )
                out = json.dumps(
                    {
                        "output": text + "\n",
                        "metadata": {
                            "exit_code": 0 if self.rng.random() < 0.9 else 1,
                            "duration_seconds": round(self.rng.uniform(0.01, 30), 1),
                        },
                    }
                )
                yield self.codex(
                    "response_item",
                    {"type": "function_call_output", "call_id": call_id, "output": out},
                )
            for _ in range(self.rng.choice((1, 1, 1, 2))):  # token_count is re-emitted
                yield self.token_count()
        answer = self.prose(self.rng.randint(100, 3000))
        if self.rng.random() < 0.4:
            path, _, lines = self.code(self.rng.randint(200, 3000))
            answer += f"\n\nIn `{path}`:\n\n```python\n" + "\n".join(lines) + "\n```\n"
        yield self.codex(
            "response_item",
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": answer}],
            },
        )
        yield self.codex("event_msg", {"type": "agent_message", "message": answer})
        yield self.codex("event_msg", {"type": "task_complete", "last_agent_message": answer[:400]})

    # Claude Code

    def claude(self, typ: str, message: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
        me = self.uuid()
        line: dict[str, Any] = {
            "parentUuid": self.parent,
            "isSidechain": False,
            "userType": "external",
            "cwd": CWD,
            "sessionId": self.sid,
            "version": "2.1.72",
            "gitBranch": "main",
            "type": typ,
        }
        if message is not None:
            line["message"] = message
        line.update(extra)
        line["uuid"] = me
        line["timestamp"] = self.ts()
        self.parent = me
        return line

    def claude_usage(self) -> dict[str, Any]:
        return {
            "input_tokens": self.rng.randint(3, 40),
            "cache_creation_input_tokens": self.rng.randint(0, 9000),
            "cache_read_input_tokens": self.rng.randint(10000, 150000),
            "output_tokens": self.rng.randint(20, 2500),
            "service_tier": "standard",
        }

    def claude_turn(self) -> Iterator[dict[str, Any]]:
        yield self.claude(
            "user", {"role": "user", "content": self.prose(self.rng.randint(40, 1200))}
        )
        for _ in range(self.rng.randint(1, 10)):
            msg_id, req_id = self.token("msg_01", 22), self.token("req_011C", 20)
            base = {
                "id": msg_id,
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4-5-20250929",
            }
            if self.rng.random() < 0.6:
                thinking = {
                    "type": "thinking",
                    "thinking": self.prose(self.rng.randint(100, 3000)),
                    "signature": base64.b64encode(
                        self.rng.randbytes(self.rng.randint(200, 700))
                    ).decode(),
                }
                yield self.claude(
                    "assistant",
                    {
                        **base,
                        "content": [thinking],
                        "stop_reason": None,
                        "usage": self.claude_usage(),
                    },
                    requestId=req_id,
                )
            tool_id = self.token("toolu_01", 22)
            kind = self.rng.choices(["Read", "Bash", "Edit", "Grep"], [5, 4, 2, 2])[0]
            n = self.out_size(90_000)
            if kind == "Read":
                path, first, lines = self.code(n)
                tool_input: dict[str, Any] = {"file_path": f"{CWD}/{path}"}
                result = "\n".join(f"{first + i:>6}\u2192{ln}" for i, ln in enumerate(lines))
                extra: dict[str, Any] = {
                    "type": "text",
                    "file": {
                        "filePath": f"{CWD}/{path}",
                        "content": "\n".join(lines),
                        "numLines": len(lines),
                        "startLine": first,
                        "totalLines": first + len(lines) + self.rng.randint(0, 400),
                    },
                }
            elif kind == "Edit":
                path, first, lines = self.code(min(n, 6000))
                cut = max(1, len(lines) // 3)
                tool_input = {
                    "file_path": f"{CWD}/{path}",
                    "old_string": "\n".join(lines[:cut]),
                    "new_string": "\n".join(lines[:cut]).replace("self", "this", 2),
                }
                result = (
                    f"The file {CWD}/{path} has been updated. Here's the result of running "
                    "`cat -n` on a snippet of the edited file:\n"
                    + "\n".join(f"{first + i:>6}\u2192{ln}" for i, ln in enumerate(lines))
                )
                extra = {
                    "filePath": f"{CWD}/{path}",
                    "oldString": tool_input["old_string"],
                    "newString": tool_input["new_string"],
                    "userModified": False,
                    "replaceAll": False,
                }
            else:
                cmd, result = self.tool_output(n)
                if kind == "Grep":
                    tool_input = {
                        "pattern": self.rng.choice(self.c.idents or ["main"]),
                        "path": "src",
                        "output_mode": "content",
                        "-n": True,
                    }
                else:
                    tool_input = {"command": cmd, "description": "Run " + cmd.split()[0]}
                extra = {"stdout": result, "stderr": "", "interrupted": False, "isImage": False}
            yield self.claude(
                "assistant",
                {
                    **base,
                    "content": [
                        {"type": "tool_use", "id": tool_id, "name": kind, "input": tool_input}
                    ],
                    "stop_reason": "tool_use",
                    "usage": self.claude_usage(),
                },
                requestId=req_id,
            )
            if kind == "Bash":  # small, frequent lines while a command runs
                for k in range(self.rng.choice((0, 0, 1, 3, 8))):
                    yield self.claude(
                        "progress",
                        None,
                        data={
                            "type": "bash_progress",
                            "output": self.rng.choice(result.splitlines() or [""])[:200],
                            "elapsedTimeSeconds": k + 1,
                            "totalLines": (k + 1) * self.rng.randint(1, 40),
                        },
                        toolUseID=tool_id,
                        parentToolUseID=tool_id,
                    )
            yield self.claude(
                "user",
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": tool_id,
                            "content": result,
                            "is_error": False,
                        }
                    ],
                },
                toolUseResult=extra,
            )
        answer = self.prose(self.rng.randint(100, 3000))
        yield self.claude(
            "assistant",
            {
                "id": self.token("msg_01", 22),
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4-5-20250929",
                "content": [{"type": "text", "text": answer}],
                "stop_reason": "end_turn",
                "usage": self.claude_usage(),
            },
            requestId=self.token("req_011C", 20),
        )
        if self.rng.random() < 0.3:
            mid = self.uuid()
            backups = {
                f"{CWD}/{p}": {
                    "backupFileName": f"{self.token('', 16).lower()}@v{v}",
                    "version": v,
                    "backupTime": self.ts(),
                }
                for v, (p, _) in enumerate(self.rng.sample(self.c.files, 4), 1)
            }
            yield {
                "type": "file-history-snapshot",
                "messageId": mid,
                "snapshot": {
                    "messageId": mid,
                    "trackedFileBackups": backups,
                    "timestamp": self.ts(),
                },
                "isSnapshotUpdate": False,
            }

    # compaction

    def compaction(self, codex: bool, small: bool = False) -> Iterator[dict[str, Any]]:
        if codex:
            history: list[dict[str, Any]] = [
                {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": self.prose(300)}],
                }
                for _ in range(self.rng.randint(1, 4))
            ]
            history.append(
                {
                    "type": "compaction",
                    "encrypted_content": self.blob(2000, 4000)
                    if small
                    else self.blob(20_000, 120_000),
                }
            )
            yield self.codex("compacted", {"message": "", "replacement_history": history})
            yield self.codex("event_msg", {"type": "context_compacted"})
        else:
            yield self.claude(
                "system",
                None,
                subtype="compact_boundary",
                content="Conversation compacted",
                level="info",
                compactMetadata={"trigger": "auto", "preTokens": self.rng.randint(150000, 190000)},
            )
            if not small:
                yield self.claude(
                    "user",
                    {
                        "role": "user",
                        "content": "This session is being continued from a "
                        "previous conversation that ran out of context. Summary:\n"
                        + self.prose(self.rng.randint(3000, 10000)),
                    },
                    isCompactSummary=True,
                    isVisibleInTranscriptOnly=True,
                )

    def lines(self, limit: int, end_with_compaction: bool = True) -> Iterator[bytes]:
        """Lines until `limit` bytes; a compaction every 5-12 MB, and (by default) one as
        the last line, so the last segment closes by itself as a checkpoint."""

        def enc(obj: dict[str, Any]) -> bytes:
            return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"

        first = self.codex(
            "session_meta",
            {
                "id": self.sid,
                "timestamp": self.ts(),
                "cwd": CWD,
                "originator": "codex_cli_rs",
                "cli_version": "0.112.0",
                "source": "cli",
                "model_provider": "openai",
                "git": {"commit_hash": "a1b2c3d", "branch": "main"},
            },
        )
        size = 0
        next_compaction = self.rng.uniform(5, 12) * MB
        for obj in [first]:
            b = enc(obj)
            size += len(b)
            yield b
        while size < limit:
            codex = self.rng.random() < 0.5
            turn = self.codex_turn() if codex else self.claude_turn()
            for obj in turn:
                b = enc(obj)
                size += len(b)
                yield b
            if size >= next_compaction:
                next_compaction += self.rng.uniform(5, 12) * MB
                for obj in self.compaction(codex):
                    b = enc(obj)
                    size += len(b)
                    yield b
        if end_with_compaction:
            for obj in self.compaction(codex=False, small=True):
                yield enc(obj)


def write_transcript(path: Path, gen: TranscriptGen, limit: int) -> list[int]:
    sizes = []
    with open(path, "wb") as f:
        for line in gen.lines(limit):
            f.write(line)
            sizes.append(len(line))
    return sizes
