"""The service manager, faked: systemctl, journalctl, launchctl and tail first on PATH,
each recording its argv and answering as a test says (`Tools`), in a HOME and an
XDG_CONFIG_HOME of the test's own (the fixtures `home` and `tools`), for the tests of
`service` and of `doctor`'s service check."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

UNIT = "agent-uploader.service"
LABEL = "local.agent-uploader"
NO_BUS = "Failed to connect to bus: No medium found\n"

FAKE_TOOL = """#!{python}
import json, sys
from pathlib import Path

here = Path(__file__).resolve().parent
words = [Path(sys.argv[0]).name, *sys.argv[1:]]
with open(here / "calls.jsonl", "a", encoding="utf-8") as calls:
    calls.write(json.dumps(words) + "\\n")
answers = here / "answers.json"
table = json.loads(answers.read_text(encoding="utf-8")) if answers.exists() else {{}}
answer = table.get(" ".join(words)) or table.get(words[0]) or {{}}
sys.stdout.write(answer.get("out", ""))
sys.stderr.write(answer.get("err", ""))
sys.exit(answer.get("rc", 0))
"""


class Tools:
    """Fake systemctl, journalctl, launchctl and tail in `bin`: each records its argv in
    calls.jsonl and answers as `answer` says (by its whole command line, else by its
    name; by default nothing, and exit 0)."""

    def __init__(self, bin: Path) -> None:
        self.bin = bin
        bin.mkdir()
        for name in ("systemctl", "journalctl", "launchctl", "tail"):
            tool = bin / name
            tool.write_text(FAKE_TOOL.format(python=sys.executable), encoding="utf-8")
            tool.chmod(0o755)
        self._answers: dict[str, dict[str, object]] = {}

    def answer(self, words: str, *, rc: int = 0, out: str = "", err: str = "") -> None:
        self._answers[words] = {"rc": rc, "out": out, "err": err}
        (self.bin / "answers.json").write_text(json.dumps(self._answers), encoding="utf-8")

    def calls(self) -> list[list[str]]:
        path = self.bin / "calls.jsonl"
        if not path.exists():
            return []
        lines = path.read_text(encoding="utf-8").splitlines()
        path.unlink()  # each check sees the calls made since the last one
        return [json.loads(line) for line in lines]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A HOME and an XDG_CONFIG_HOME of the test's own."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return home


@pytest.fixture
def tools(tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> Tools:
    tools = Tools(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{tools.bin}{os.pathsep}{os.environ['PATH']}")
    return tools
