"""The layout is a contract (issue 11): folders are the mail's journey, imports go one way.

Read from the source with :mod:`ast`, so an import added anywhere, even inside
a function, is seen.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("mailbot", "parsers", "store")
KERNEL = {"app", "clock", "errors", "logs", "faults", "__init__", "__main__"}
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts and "versions" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _owner(name: str) -> str | None:
    """The project module an imported name belongs to (``None`` outside the project)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str) -> Iterator[str]:
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                     for alias in node.names]
        else:
            continue
        for name in names:
            owner = _owner(name)
            if owner and owner != module:
                yield owner


GRAPH = {module: set(_imports(module)) for module in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _folder(module: str) -> str:
    """``mailbot.inbound.classify.base`` → ``mailbot.inbound``; kernel modules stay themselves."""
    parts = module.split(".")
    return ".".join(parts[:2])


def test_no_import_circle_between_modules() -> None:
    assert _cycles(GRAPH) == []


def test_no_import_circle_between_folders_of_mailbot() -> None:
    folders: dict[str, set[str]] = {}
    for module, imported in GRAPH.items():
        if not module.startswith("mailbot.") or module.split(".")[1] in KERNEL:
            continue
        for other in imported:
            if other.startswith("mailbot.") and other.split(".")[1] not in KERNEL \
                    and _folder(other) != _folder(module):
                folders.setdefault(_folder(module), set()).add(_folder(other))
        folders.setdefault(_folder(module), set())
    assert _cycles(folders) == []


@pytest.mark.parametrize(("lower", "forbidden"), [
    ("parsers", ("store", "mailbot")),
    ("store", ("mailbot", "parsers")),
])
def test_lower_layers_never_import_upper_ones(lower: str, forbidden: tuple[str, ...]) -> None:
    wrong = sorted(f"{module} → {other}" for module, imported in GRAPH.items()
                   if module.split(".")[0] == lower for other in imported
                   if other.split(".")[0] in forbidden)
    assert wrong == []


def test_transports_import_only_config_and_errors() -> None:
    allowed = ("mailbot.transports", "mailbot.config", "mailbot.errors")
    wrong = sorted(f"{module} → {other}" for module, imported in GRAPH.items()
                   if module.startswith("mailbot.transports") for other in imported
                   if other.startswith("mailbot") and not other.startswith(allowed))
    assert wrong == []


def test_config_imports_only_errors() -> None:
    wrong = sorted(f"{module} → {other}" for module, imported in GRAPH.items()
                   if module.startswith("mailbot.config") for other in imported
                   if other.startswith("mailbot") and not other.startswith(("mailbot.config",
                                                                             "mailbot.errors")))
    assert wrong == []


def test_only_kernel_modules_at_the_root_of_mailbot() -> None:
    loose = sorted(path.stem for path in (ROOT / "mailbot").glob("*.py"))
    assert [name for name in loose if name not in KERNEL] == []


def test_no_module_over_400_lines() -> None:
    paths = [*MODULES.values(), *(ROOT / "benchmarks").glob("*.py")]
    long = sorted(f"{path.relative_to(ROOT)} ({count})" for path in paths
                  if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES)
    assert long == []


def test_each_package_says_what_it_is_for_and_what_it_may_import() -> None:
    missing = []
    for module, path in MODULES.items():
        if path.name != "__init__.py" or "migrations" in path.parts:
            continue
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        first_two = doc.splitlines()[:2]
        if len(first_two) < 2 or not ("may import" in first_two[1].lower()
                                      or "import only" in first_two[1].lower()):
            missing.append(module)
    assert missing == []
