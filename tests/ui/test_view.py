"""The conversation view (ui/chat.py, ui/markup.py, ui/diffs.py, ui/images.py): Markdown
that cannot carry markup, edits as diffs, images served with their type and size checked,
a tool call with its result and exit status in one card across page boundaries, context
folded, usage once per message, permalinks, subagents; on every real transcript of every
agent, no empty card and no id twice on a page; and `export`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from tests.support.cli import run_cli
from tests.support.real_sessions import RealSession, write_real_sessions
from tests.support.session_factory import write_session
from tests.support.uiclient import TestClient
from tests.support.view_sessions import (
    CODEX_VIEW_SID,
    PI_VIEW_SID,
    VIEW_SID,
    claude_view_lines,
    codex_view_lines,
    pi_view_lines,
    png,
)
from ui import chat, diffs, images, markup, page_cards, tokens
from ui.app import UIConfig, create_app
from ui.card import shown_lines, walk
from ui.security import CSP
from ui.service import Reading, Sessions
from uploader.agents.transcript import parse_line, parse_lines
from uploader.stores.local import LocalStore

PARENT = "258c7280-ae70-4798-800f-63464d01a85d"
SUBAGENT = f"{PARENT}-agent-a881341"


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[RealSession]]:
    root = tmp_path_factory.mktemp("ui-view") / "store"
    store = LocalStore(root)
    write_session(store, VIEW_SID, claude_view_lines(), agent="claude")
    write_session(store, CODEX_VIEW_SID, codex_view_lines(), agent="codex")
    write_session(store, PI_VIEW_SID, pi_view_lines(), agent="pi")
    return root, write_real_sessions(store)


@pytest.fixture(scope="module")
def client(stored: tuple[Path, list[RealSession]]) -> Iterator[TestClient]:
    with TestClient(create_app(Sessions(LocalStore(stored[0])), UIConfig())) as c:
        yield c


def page_of(client: TestClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.text[:500]
    text: str = response.text
    return text


def card(page: str, anchor: str) -> str:
    """The card (article or one-line div) whose id is `anchor`."""
    found = re.search(rf'<(article|div) class="[^"]*" id="{re.escape(anchor)}"', page)
    assert found is not None, anchor
    end = "</article>" if found.group(1) == "article" else "</div>"
    return page[found.start() : page.index(end, found.end())]


# -- Markdown ---------------------------------------------------------------------------------


def test_markdown_tables_fences_and_no_markup_from_the_transcript() -> None:
    html = str(
        markup.markdown("| a | b |\n|---|---|\n| 1 | **2** |\n\n<b>x</b> <script>y</script>")
    )
    assert "<table>" in html and "<td><strong>2</strong></td>" in html
    assert "&lt;b&gt;x&lt;/b&gt; &lt;script&gt;y&lt;/script&gt;" in html
    assert "<script" not in html and "<b>" not in html
    fence = str(markup.markdown("```python\ndef f(): return '<b>'\n```"))
    assert '<span class="k">def</span>' in fence and "'&lt;b&gt;'" in fence
    assert "style=" not in fence  # classes only: the CSP has no 'unsafe-inline'
    unknown = str(markup.markdown("```nosuchlang\n<x>\n```"))
    assert "&lt;x&gt;" in unknown


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "JavaScript:alert(1)", "java&#x09;script:alert(1)",
     "data:text/html,<script>", "vbscript:x", "file:///etc/passwd", "/api/sessions",
     "//evil.example"],
)  # fmt: skip
def test_markdown_links_that_are_not_http_stay_text(url: str) -> None:
    for text in (f"[click]({url})", f"<{url}>", f"![pic]({url})"):
        html = str(markup.markdown(text))
        assert "<a " not in html and "<img" not in html, html


def test_markdown_http_and_mailto_links_are_links_and_images_are_not_loaded() -> None:
    html = str(
        markup.markdown("[d](https://example.com/x) <mailto:a@example.com> ![p](http://e.x/p.png)")
    )
    assert '<a href="https://example.com/x" rel="nofollow noopener noreferrer">d</a>' in html
    assert 'href="mailto:a@example.com"' in html
    assert "<img" not in html and "[image: p]</a>" in html


def test_assistant_markdown_on_the_page(client: TestClient) -> None:
    page = page_of(client, f"/s/{VIEW_SID}")
    answer = card(page, "L6")
    assert "k-assistant" in answer and '<div class="md">' in answer
    assert "<table>" in answer and "<th>Endpoint</th>" in answer
    assert "<td><code>/orders</code></td>" in answer and "<strong>50</strong>" in answer
    assert "&lt;script&gt;alert('md')&lt;/script&gt;" in answer
    assert "<script>alert" not in page and 'href="javascript:' not in page
    assert '<a href="https://example.com/d" rel="nofollow noopener noreferrer">docs</a>' in answer
    assert '<span class="k">def</span>' in answer  # the fence, highlighted


# -- diffs -------------------------------------------------------------------------------------


def test_edits_are_diffs(client: TestClient) -> None:
    edit = card(page_of(client, f"/s/{VIEW_SID}"), "L7")
    assert '<code class="tool">Edit</code>' in edit and "+1</span> <span" in edit
    assert '<span class="d-del">-LIMIT = 20</span>' in edit
    assert '<span class="d-add">+LIMIT = 50</span>' in edit
    assert '<span class="d-ctx"> MAX = 100</span>' in edit
    assert "old_string" not in edit  # not the JSON arguments
    codex = card(page_of(client, f"/s/{CODEX_VIEW_SID}"), "L5")
    assert '<code class="tool">apply_patch</code>' in codex
    assert '<span class="d-file">src/app.py</span>' in codex
    assert '<span class="d-del">-    run(1)</span>' in codex
    assert '<span class="d-add">+    run(2)</span>' in codex
    assert '<span class="d-file">NOTES.md (new file)</span>' in codex
    assert '<span class="d-add">+hello</span>' in codex
    assert '<span class="ok">exit 0</span>' in codex
    pi = card(page_of(client, f"/s/{PI_VIEW_SID}"), "L2-2")
    assert '<span class="d-del">-red</span>' in pi and '<span class="d-add">+blue</span>' in pi


def test_diffs_of_every_edit_tool() -> None:
    write = diffs.tool_diff("Write", '{"file_path": "a.py", "content": "x = 1\\ny = 2\\n"}')
    assert write is not None and write.lines == [("file", "a.py (written whole)"), ("add", "x = 1"),
                                                 ("add", "y = 2")]  # fmt: skip
    multi = diffs.tool_diff(
        "MultiEdit",
        '{"file_path": "b.py", "edits": [{"old_string": "a", "new_string": "b"},'
        ' {"old_string": "c", "new_string": "d"}]}',
    )
    assert multi is not None and (multi.added, multi.removed) == (2, 2)
    assert ("hunk", "…") in multi.lines
    heredoc = diffs.tool_diff(
        "shell",
        '{"command": ["bash", "-lc", "apply_patch <<\'PATCH\'\\n*** Begin Patch\\n'
        '*** Delete File: old.txt\\n*** End Patch\\nPATCH"]}',
    )
    assert heredoc is not None and heredoc.lines == [("file", "old.txt (deleted)")]
    assert diffs.tool_diff("Read", '{"file_path": "a.py"}') is None
    assert diffs.tool_diff("Bash", '{"command": "ls"}') is None


# -- images ------------------------------------------------------------------------------------


def test_images_are_shown_inline(client: TestClient) -> None:
    user = card(page_of(client, f"/s/{VIEW_SID}"), "L3")
    # The generation is in the URL: a line's bytes never change within one.
    assert f'<img src="/api/sessions/{VIEW_SID}/lines/3/images/0?generation=1"' in user
    assert f'<img src="/api/sessions/{VIEW_SID}/lines/3/images/1?generation=1"' in user
    assert "[image]" not in user and "Here is the screenshot of the bug" in user
    # A type that is never served (SVG) gets no <img>; its placeholder stays.
    bash = card(page_of(client, f"/s/{VIEW_SID}"), "L9")
    assert "/lines/10/images/0" not in bash and "[image]" in bash
    codex = card(page_of(client, f"/s/{CODEX_VIEW_SID}"), "L3")
    assert f'<img src="/api/sessions/{CODEX_VIEW_SID}/lines/3/images/0?' in codex
    pi = card(page_of(client, f"/s/{PI_VIEW_SID}"), "L1")
    assert f'<img src="/api/sessions/{PI_VIEW_SID}/lines/1/images/0?' in pi


@pytest.mark.parametrize(("sid", "line"), [(VIEW_SID, 3), (CODEX_VIEW_SID, 3), (PI_VIEW_SID, 1)])
def test_image_route_serves_the_bytes_with_their_type(
    client: TestClient, sid: str, line: int
) -> None:
    response = client.get(f"/api/sessions/{sid}/lines/{line}/images/0")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content == png()
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == CSP


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("lines/10/images/0", 400, "image/svg+xml"),  # never served: SVG can hold scripts
        ("lines/10/images/1", 400, "its bytes are not"),  # says PNG, is HTML
        ("lines/3/images/2", 404, "holds 2 image(s)"),
        ("lines/0/images/0", 404, "holds 0 image(s)"),
        ("lines/99/images/0", 404, "has no line 99"),
        ("lines/3/images/x", 400, "not a number"),
    ],
)
def test_image_route_refuses_what_is_not_a_shown_image(
    client: TestClient, path: str, status: int, words: str
) -> None:
    response = client.get(f"/api/sessions/{VIEW_SID}/{path}")
    assert response.status_code == status, response.text
    assert words in response.json()["error"]
    assert response.headers["content-security-policy"] == CSP


def test_image_route_refuses_a_too_large_image(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(images, "MAX_BYTES", len(png()) - 1)
    response = client.get(f"/api/sessions/{VIEW_SID}/lines/3/images/0")
    assert response.status_code == 413
    assert "more than" in response.json()["error"]


# -- tool calls --------------------------------------------------------------------------------


def test_a_failed_command_is_one_card_marked_failed(client: TestClient) -> None:
    page = page_of(client, f"/s/{CODEX_VIEW_SID}")
    run = card(page, "L8")
    assert 'class="entry k-tool_call is-error"' in run and '<span class="bad">exit 2</span>' in run
    assert "pytest" in run and '<span class="key">workdir</span> /w' in run
    assert "E boom" in run and "result · line 10" in run
    # The call's output and its exec_command_end are in the card, not cards of their own.
    assert 'id="L9"' in run and 'id="L10"' not in page and "exec_command_end" not in page
    claude = card(page_of(client, f"/s/{VIEW_SID}"), "L9")
    assert (
        'class="entry k-tool_call is-error"' in claude
        and '<span class="bad">error</span>' in claude
    )
    assert '<span class="subtitle">Run the tests</span>' in claude


def test_a_call_and_its_result_across_a_page_boundary(client: TestClient) -> None:
    first = page_of(client, f"/s/{VIEW_SID}?limit=8")  # lines 0-7: the Edit call is the last
    edit = card(first, "L7")
    assert "result · line 9<span" in edit and "on the next page" in edit and "updated" in edit
    second = page_of(client, f"/s/{VIEW_SID}?limit=8&start=8")  # its result first
    again = card(second, "L8")
    assert "called on line 8, on the page before" in again
    assert '<span class="d-add">+LIMIT = 50</span>' in again and "updated" in again


def test_pairing_reads_only_a_bounded_number_of_lines_past_the_page() -> None:
    call = b'{"type":"assistant","sessionId":"s","uuid":"u","message":{"role":"assistant",' \
           b'"content":[{"type":"tool_use","id":"t9","name":"Bash","input":{}}]}}\n'  # fmt: skip
    filler = b'{"type":"user","sessionId":"s","uuid":"u","message":{"role":"user","content":"x"}}\n'
    result = b'{"type":"user","sessionId":"s","uuid":"u","message":{"role":"user","content":' \
             b'[{"type":"tool_result","tool_use_id":"t9","content":"done"}]}}\n'  # fmt: skip
    asked: list[tuple[int, int]] = []

    def lines_of(body: list[bytes]) -> Any:
        def read(start: int, n: int) -> list[tuple[int, bytes]]:
            asked.append((start, n))
            return [(i, body[i]) for i in range(start, min(len(body), start + n))]

        return read

    near = [call, *[filler] * 10, result]
    page = chat.read_page(lines_of(near), "claude", 0, 1, len(near))
    assert [e.call_id for e in page.after] == ["t9"] and asked == [(0, 1), (1, 11)]
    far = [call, *[filler] * 60, result]
    assert chat.read_page(lines_of(far), "claude", 0, 1, len(far)).after == []


# -- context, commands, reasoning, usage ---------------------------------------------------


def test_context_is_folded_and_commands_are_commands(client: TestClient) -> None:
    page = page_of(client, f"/s/{VIEW_SID}")
    assert 'class="entry k-context"' in card(page, "L0")
    command = card(page, "L1")
    assert '<code class="command">/model</code> <code class="command-args">opus</code>' in command
    assert "k-user" not in command and "command-name" not in command
    output = card(page, "L2")
    assert "Set model to opus" in output and "\x1b" not in output
    codex = page_of(client, f"/s/{CODEX_VIEW_SID}")
    group = codex[codex.index('<details class="group g-context">') :]
    group = group[: group.index("</article>\n</details>")]
    assert "Context · session, permissions instructions, AGENTS.md" in group
    for line in (0, 1, 2):
        assert f'id="L{line}"' in group


def test_reasoning_encrypted_and_empty_text(client: TestClient) -> None:
    page = page_of(client, f"/s/{VIEW_SID}")
    assert "reasoning (encrypted)" in card(page, "L4")
    assert 'id="L5"' not in page  # "\n\n": no card at all
    assert page.count("reasoning (encrypted)") == 1
    codex = page_of(client, f"/s/{CODEX_VIEW_SID}")
    assert "reasoning (encrypted)" in card(codex, "L4")


def test_usage_once_per_message_and_cost_in_dollars(client: TestClient) -> None:
    page = page_of(client, f"/s/{VIEW_SID}")
    assert page.count("out 300") == 1  # msg_A spans lines 4-7: its usage once
    assert "out 300" in card(page, "L7")  # on its last card
    pi = page_of(client, f"/s/{PI_VIEW_SID}")
    assert "$0.0970" in pi and "0.09700774999999999" not in pi
    assert tokens.cost(0.09700774999999999) == "$0.0970" and tokens.cost(12.5) == "$12.50"
    codex = page_of(client, f"/s/{CODEX_VIEW_SID}")
    assert "in 900 · out 40 · total 940" in card(codex, "L11")  # after the answer it counts
    assert '<dd id="totals">in 900 · out 40 · total 940</dd>' in codex


# -- ids, permalinks, subagents -------------------------------------------------------------


def test_line_permalink_redirects_to_its_page(client: TestClient) -> None:
    response = client.get(f"/s/{PARENT}?line=450&view=raw", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/s/{PARENT}?view=raw&start=400#L450"
    response = client.get(f"/s/{PARENT}?line=450&limit=100", follow_redirects=False)
    assert response.headers["location"] == f"/s/{PARENT}?limit=100&start=400#L450"
    response = client.get(f"/s/{PARENT}?line=99999", follow_redirects=False)
    assert response.headers["location"] == f"/s/{PARENT}?start=1800#L99999"
    page = page_of(client, f"/s/{PARENT}?start=400")
    assert f'<a class="ln" href="/s/{PARENT}?start=400#L408"' in page


def test_subagents_under_their_parent_and_linked_back(client: TestClient) -> None:
    parent = page_of(client, f"/s/{PARENT}")
    listed = parent[parent.index('<details class="subagents"') :]
    listed = listed[: listed.index("</details>")]
    assert "2 subagents" in listed
    assert (
        f'<a href="/s/{SUBAGENT}">' in listed and f'<a href="/s/{PARENT}-agent-acompact' in listed
    )
    child = page_of(client, f"/s/{SUBAGENT}")
    assert f'<dd id="parent"><a href="/s/{PARENT}">Implement spotter-gqc</a>' in child
    task = page_of(client, f"/s/{PARENT}?start=1400")
    assert f'Ran as a subagent: <a href="/s/{SUBAGENT}">' in task


def bare_cards(page: str) -> Iterator[str]:
    """The kinds of the cards that show nothing but their header (and usage)."""
    for found in re.finditer(r'<article class="entry k-(\w+)', page):
        body = page[page.index("</header>", found.end()) : page.index("</article>", found.end())]
        body = re.sub(r"<footer>.*?</footer>", "", body[len("</header>") :], flags=re.S)
        if not body.strip():
            yield found.group(1)


def _pages(client: TestClient, sid: str, total: int) -> Iterator[tuple[int, str]]:
    for start in range(0, total, 200):
        yield start, page_of(client, f"/s/{sid}?start={start}")


def test_every_real_transcript_page_has_unique_ids_and_no_empty_cards(
    client: TestClient, stored: tuple[Path, list[RealSession]]
) -> None:
    for s in stored[1]:
        for start, page in _pages(client, s.sid, len(s.lines())):
            where = f"{s.path.name} from line {start}"
            ids = re.findall(r' id="([^"]+)"', page)
            assert len(ids) == len(set(ids)), (where, [i for i in ids if ids.count(i) > 1])
            for empty in (r'<div class="md">\s*</div>', r'<pre class="(text|code)"></pre>',
                          r"<summary></summary>"):  # fmt: skip
                assert not re.search(empty, page), (where, empty)
            # A card with only its header: a slash command, whose chip is the header.
            assert set(bare_cards(page)) <= {"command"}, where
            assert "not a type this viewer knows" not in page, where
            assert 'class="entry k-raw' not in page, where


def test_every_real_transcript_line_is_shown_or_hidden_as_bookkeeping(
    stored: tuple[Path, list[RealSession]],
) -> None:
    for s in stored[1]:
        lines = s.lines()

        def read(start: int, n: int, lines: list[bytes] = lines) -> list[tuple[int, bytes]]:
            return [(i, lines[i]) for i in range(start, min(len(lines), start + n))]

        for start in range(0, len(lines), 200):
            page = chat.read_page(read, s.agent, start, 200, len(lines))
            cards = page_cards.cards(page.entries, before=page.before, after=page.after)
            shown = shown_lines(cards)
            for e in page.entries:
                if e.kind == "usage" or page_cards.hidden(e):
                    continue
                assert e.line in shown, (s.path.name, e)
            # Nothing shown as a line type the viewer does not know, or as unreadable.
            unknown = [c.entry for c in walk(cards) if c.kind in ("event", "raw")]
            assert unknown == [], (s.path.name, unknown)


# -- the parsers' new fields --------------------------------------------------------------------


def test_parsers_carry_what_the_view_needs() -> None:
    claude = list(parse_lines(enumerate(claude_view_lines()), "claude"))
    user = next(e for e in claude if e.line == 3)
    assert [(im.index, im.media_type) for im in user.images] == [(0, "image/png"), (1, "image/png")]
    assert [e.message for e in claude if e.line in (4, 6)] == ["msg_A", "msg_A", "msg_A"]
    command = next(e for e in claude if e.line == 1)
    assert (command.title, command.name, command.arguments) == ("command", "/model", "opus")
    codex = list(parse_lines(enumerate(codex_view_lines()), "codex"))
    output = next(e for e in codex if e.line == 9)
    assert (output.kind, output.exit_code, output.is_error) == ("tool_result", 2, True)
    end = next(e for e in codex if e.line == 10)
    assert (end.title, end.call_id, end.exit_code, end.is_error) == (
        "exec_command_end",
        "c2",
        2,
        True,
    )
    assert next(e for e in codex if e.line == 4).title == "encrypted"


def test_damaged_lines_are_read_with_a_note() -> None:
    stray = b'/speci{"type":"session","version":3,"id":"x","cwd":"/app"}\n'
    note, session = parse_line(stray, 0, "openclaw")
    assert (note.kind, note.title) == ("meta", "damaged line") and "'/speci'" in note.text
    assert session.title == "session"
    joined = b'{"type":"model_change","modelId":"a"}{"type":"model_change","modelId":"b"}\n'
    entries = parse_line(joined, 4, "pi")
    assert [e.title for e in entries] == ["damaged line", "model_change a", "model_change b"]
    assert [e.kind for e in parse_line(b'{"type":"user"}{"broken\n', 0, "claude")] == ["raw"]


# -- export ------------------------------------------------------------------------------------


def test_export_html_is_standalone(stored: tuple[Path, list[RealSession]], tmp_path: Path) -> None:
    out = tmp_path / "view.html"
    done = run_cli("export", VIEW_SID, "--store", f"file://{stored[0]}", "--format", "html",
                   "--to", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "exported" in done.stderr and out.stat().st_mode & 0o077 == 0
    html = out.read_text()
    assert "<script" not in html.lower()
    assert "<link" not in html and "/static/" not in html  # the CSS is inside
    style = html[html.index("<style>") : html.index("</style>")]
    assert ".entry {" in style and ".hl .k," in style
    assert "<table>" in html and '<span class="d-add">+LIMIT = 50</span>' in html
    assert '<img src="data:image/png;base64,' in html and "/api/sessions" not in html
    assert 'href="#L6"' in html and "Tokens in all:" in html
    again = run_cli("export", VIEW_SID, "--store", f"file://{stored[0]}", "--format", "html",
                    "--to", str(out))  # fmt: skip
    assert again.returncode != 0 and "exists" in again.stderr


def test_export_markdown(stored: tuple[Path, list[RealSession]]) -> None:
    done = run_cli("export", CODEX_VIEW_SID, "--store", f"file://{stored[0]}")
    assert done.returncode == 0, done.stderr
    md = done.stdout
    assert md.startswith("# Fix the run count")
    assert "**Tool `apply_patch` · exit 0** · line 6 · 2026-03-21 09:00:00\n" in md
    assert "```diff\n### src/app.py\n@@ def main():\n-    run(1)\n+    run(2)\n" in md
    assert "**Tool `exec_command` · exit 2 (failed)** · line 9" in md
    assert "```sh\npytest -q\n```" in md and "_[image: image/png]_" in md
    assert "**Fixed**, but `pytest` fails." in md
    assert "<details><summary>Context: permissions instructions (line 2)</summary>" in md
    assert "Tokens in all: in 900 · out 40 · total 940" in md


def test_export_prices_with_the_table_it_is_given(
    stored: tuple[Path, list[RealSession]], tmp_path: Path
) -> None:
    """`--prices FILE` (or the config file's `prices`) replaces the list prices of the
    estimate; a file that is not a price table stops the command and names it."""
    store = f"file://{stored[0]}"
    # 16 input, 309 output, 1,000 cache-read tokens of Opus 4.5 and 4.6 ($5, $25, $0.50).
    plain = run_cli("export", VIEW_SID, "--store", store)
    assert plain.returncode == 0, plain.stderr
    assert "≈ $0.0083 at list prices" in plain.stdout
    own = tmp_path / "prices.toml"
    own.write_text(
        "".join(
            f'[models."{model}"]\ninput = 4000\noutput = 4000\ncache_read = 4000\n'
            for model in ("claude-opus-4-6", "claude-opus-4-5")
        )
    )
    given = run_cli("export", VIEW_SID, "--store", store, "--prices", str(own))
    assert given.returncode == 0, given.stderr
    assert "≈ $5.30 at list prices" in given.stdout  # 1,325 tokens at $4,000 a million
    config = tmp_path / "config.toml"
    config.write_text('prices = "prices.toml"\n')  # beside the config file
    configured = run_cli("export", VIEW_SID, "--store", store, "--config", str(config))
    assert "≈ $5.30 at list prices" in configured.stdout, configured.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text('[models."x"]\ninput = "cheap"\n')
    refused = run_cli("export", VIEW_SID, "--store", store, "--prices", str(bad))
    assert refused.returncode == 1 and not refused.stdout
    assert "bad.toml" in refused.stderr and "models.x.input" in refused.stderr


def test_export_of_every_real_transcript(stored: tuple[Path, list[RealSession]]) -> None:
    from ui import export

    store = LocalStore(stored[0])
    for s in stored[1]:
        summary = Sessions(store).open(s.sid).summary
        lines = list(enumerate(s.lines()))
        md = "".join(export.markdown(summary, iter(lines)))
        rendered = MarkdownIt("commonmark").render(md)
        assert "<p>Tokens in all:" in rendered or "Tokens" not in md, s.path.name  # fences closed
        html = "".join(export.html(summary, iter(lines)))
        assert "<script" not in html.lower() and html.rstrip().endswith("</html>")


def test_fences_cannot_be_closed_by_the_text_inside() -> None:
    from ui.export import fence

    assert fence("a ``` b") == "````\na ``` b\n````\n\n"
    assert fence("plain", "sh") == "```sh\nplain\n```\n\n"


def test_session_totals_sum_every_line_once_and_read_only_new_lines(
    stored: tuple[Path, list[RealSession]], monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = Sessions(LocalStore(stored[0]))
    r = sessions.open(PARENT)
    lines = next(s for s in stored[1] if s.sid == PARENT).lines()
    expected = tokens.totals(parse_lines(enumerate(lines), "claude"))
    assert chat.session_totals(sessions, r) == expected and expected["output"] > 0
    read: list[int] = []
    original = sessions.iter_lines

    def iter_lines(r: Reading, start: int, n: int) -> Iterator[tuple[int, bytes]]:
        read.append(start)
        return original(r, start, n)

    monkeypatch.setattr(sessions, "iter_lines", iter_lines)
    assert chat.session_totals(sessions, r) == expected
    assert read == []  # remembered: nothing read again
    monkeypatch.setattr(chat, "TOTALS_MAX_BYTES", 10)
    assert chat.session_totals(sessions, sessions.open(VIEW_SID)) is None  # too large to sum
