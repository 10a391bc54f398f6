"""The packages show the architecture: dependencies point one way (LAYERS), no import
cycle between our modules, and no module too long to read in one sitting.

The import graph is built from the source with `ast`, not by importing: every `import`
and `from ... import` of an `uploader` or `ui` module, at module level and inside
functions (a lazy import is still a dependency: it postpones a cycle to the first call,
it does not remove it). An import under `if TYPE_CHECKING:` is left out: it is for the
type checker and never runs. Any cycle between modules fails, named module by module.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("uploader", "ui")
#: Lines a module may have: past this it holds more than one job (the aim is ~400).
MAX_LINES = 450


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement that runs, wherever it is (TYPE_CHECKING blocks skipped)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (n for child in node.orelse for n in _imports_in(child))
            continue
        yield from _imports_in(node)


def _imports_in(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
    else:
        yield from _imports(node)


def _resolve(module: str, node: ast.ImportFrom) -> str:
    """The absolute name a `from` import names (relative ones resolved from `module`)."""
    if not node.level:
        return node.module or ""
    is_package = MODULES[module].name == "__init__.py"
    base = module.split(".")
    base = base[: len(base) - node.level + (1 if is_package else 0)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _own(name: str) -> str | None:
    """The module of ours that importing `name` runs: itself, else its nearest package."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def import_graph() -> dict[str, set[str]]:
    """module -> the modules of ours it imports. `from package import name` depends on
    `package.name` when that is a module, else on the package itself."""
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        edges: set[str] = set()
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = _resolve(module, node)
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                    for alias in node.names
                ]
            edges |= {own for target in targets if (own := _own(target)) and own != module}
        graph[module] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)):
            return cycle
    return None


def test_the_graph_sees_our_imports() -> None:
    """The graph is built right: it knows modules that are imported lazily or relatively."""
    graph = import_graph()
    assert "uploader.core.errors" in graph["uploader.stores"]
    assert "uploader.index.postgres" in graph["uploader.index"]  # inside open_index
    assert "ui.card" in graph["ui.chat"]  # from .card import Card
    assert "ui.render" in graph["ui.api"]  # from . import render


def test_the_cycle_finder_finds_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_no_module_is_too_long() -> None:
    long = {
        str(path.relative_to(ROOT)): count
        for path in MODULES.values()
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines (split them along a seam): " + ", ".join(
        f"{name} ({count})" for name, count in sorted(long.items())
    )


#: What each part may import (each package's docstring says the same, and why). Parts are
#: `uploader`'s sub-packages and top-level modules, and `ui`; the lower layers first.
#: A part missing here is a new one: add it, with what it may import.
LAYERS: dict[str, set[str]] = {
    "core": set(),
    "stores": {"core"},
    "agents": {"core"},
    "redaction": {"core"},
    "service": {"core"},
    "messages": {"core"},
    "storage": {"core", "stores", "agents"},
    "write": {"core", "stores", "agents", "storage", "redaction"},
    "read": {"core", "stores", "agents", "storage", "write"},
    "index": {"core", "stores", "agents", "storage", "write", "read"},
    "batch": {"core", "stores", "agents", "storage", "redaction", "write"},
    "api": {"core", "stores", "agents", "storage", "write", "read"},
    "__init__": {"core", "stores", "agents", "storage", "write", "read", "api"},
    "doctor": {
        "core", "stores", "agents", "storage", "write", "index", "service", "messages",
        "__init__",
    },
    "ui": {
        "core", "stores", "agents", "storage", "redaction", "write", "read", "index",
        "messages", "__init__",
    },
    "cli": set(),  # filled below: everything
    "__main__": {"cli"},
}  # fmt: skip
LAYERS["cli"] = set(LAYERS) - {"cli", "__main__"}


def part_of(module: str) -> str:
    """`uploader.write.segment` -> `write`, `uploader.api` -> `api`, `uploader` ->
    `__init__`, `ui.chat` -> `ui`."""
    top, _, rest = module.partition(".")
    return "ui" if top == "ui" else (rest.partition(".")[0] or "__init__")


def crossings(graph: dict[str, set[str]]) -> list[str]:
    """The imports of the graph that go where LAYERS does not allow."""
    return sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        for target in targets
        if part_of(target) != part_of(module)
        and part_of(target) not in LAYERS.get(part_of(module), set())
    )


def test_every_part_imports_only_the_layers_below_it() -> None:
    found = crossings(import_graph())
    assert not found, "imports across the layers (see LAYERS): " + ", ".join(found)


def test_the_layer_check_sees_a_crossing() -> None:
    assert part_of("uploader.write.segment") == "write"
    assert part_of("uploader") == "__init__"
    assert part_of("ui.api_lines") == "ui"
    graph = {
        "uploader.write.watch": {"uploader.index.background", "uploader.write.spool"},
        "uploader.index.background": {"uploader.write.live"},
        "uploader.core.units": {"ui.render"},
    }
    assert crossings(graph) == [
        "uploader.core.units -> ui.render",
        "uploader.write.watch -> uploader.index.background",
    ]
