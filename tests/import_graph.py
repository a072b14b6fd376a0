"""The import graph of a package, read from the source with `ast` (nothing is imported or run).

Every `import` and `from … import …` counts, wherever it stands: at the top of a module, inside
a function, under `if TYPE_CHECKING:`. Relative imports are resolved against the importing
module, and `from package import name` points at `package.name` when that is a module of its
own. Only imports of modules of the package itself are kept.
"""
from __future__ import annotations

import ast
import io
import tokenize
from collections import deque
from dataclasses import dataclass
from pathlib import Path

PRAGMA_PREFIXES = ("noqa", "type:", "pragma:", "pylint:", "fmt:", "isort:")


@dataclass(frozen=True)
class Import:
    """One import statement of `module`, at `line`, of the package's module `target`."""

    module: str
    target: str
    line: int


@dataclass(frozen=True)
class LocalImport:
    """An import inside a function, and whether a comment says why it is there."""

    module: str
    path: Path
    line: int
    source: str
    explained: bool


def module_names(root: Path) -> dict[str, Path]:
    """Every module under `root` (a package directory) by its dotted name."""
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _base(module: str, path: Path, level: int) -> str:
    """The package a relative import of `level` dots starts from."""
    parts = module.split(".") if _is_package(path) else module.split(".")[:-1]
    if level > 1:
        parts = parts[: len(parts) - (level - 1)]
    return ".".join(parts)


def _known(name: str, modules: dict[str, Path]) -> str | None:
    """`name` or its longest prefix that is a module of the package (None if outside it)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> list[Import]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            origin = node.module or ""
            if node.level:
                base = _base(module, path, node.level)
                origin = f"{base}.{origin}" if origin and base else (origin or base)
            targets = [f"{origin}.{alias.name}" if f"{origin}.{alias.name}" in modules else origin
                       for alias in node.names]
        else:
            continue
        for name in targets:
            target = _known(name, modules)
            if target is not None and target != module:
                found.append(Import(module, target, node.lineno))
    return found


def import_graph(root: Path) -> dict[str, list[Import]]:
    """module → the imports it makes of other modules of the package rooted at `root`."""
    modules = module_names(root)
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """One shortest loop through each strongly connected group of modules (Tarjan), each as
    [a, b, …, a]; a module importing itself counts. Empty when the graph has no cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    counter = 0

    def edges(node: str) -> list[str]:
        return graph.get(node, [])

    for start in sorted(graph):
        if start in index:
            continue
        # An iterative Tarjan: the package's graph may be deeper than Python's recursion limit.
        work = [(start, iter(edges(start)))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            advanced = False
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = counter
                    counter += 1
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(edges(successor))))
                    advanced = True
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1 or node in edges(node):
                    groups.append(sorted(group))
    return [_shortest_loop(graph, group) for group in sorted(groups)]


def _shortest_loop(graph: dict[str, list[str]], group: list[str]) -> list[str]:
    """The shortest path from the group's first module back to itself, inside the group."""
    start, members = group[0], set(group)
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for successor in sorted(set(graph.get(node, []))):
            if successor not in members:
                continue
            if successor == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [start, *reversed(path[:-1]), start] if node != start else [start, start]
            if successor not in came_from:
                came_from[successor] = node
                queue.append(successor)
    raise AssertionError(f"{group} is not a cycle")  # a strongly connected group always has a loop


def describe(loop: list[str], graph: dict[str, list[Import]]) -> str:
    """`a (line 3) -> b (line 12) -> a`: where each module of the loop imports the next."""
    steps = []
    for module, target in zip(loop, loop[1:]):
        lines = sorted({i.line for i in graph[module] if i.target == target})
        steps.append(f"{module} (line {', '.join(map(str, lines))})")
    return " -> ".join([*steps, loop[-1]])


# --- imports inside functions -----------------------------------------------------------------------

def _comments(source: str) -> dict[int, str]:
    """line number → the text of the comment on it, pragmas (noqa, type: …) left out."""
    found = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            words = token.string.lstrip("#").strip()
            if words and not words.lower().startswith(PRAGMA_PREFIXES):
                found[token.start[0]] = words
    return found


def local_imports(root: Path) -> list[LocalImport]:
    """Every import statement inside a function of the package, and whether it is explained: a
    comment on its own line(s), or on the line above it or above the run of imports it opens."""
    found = []
    for module, path in module_names(root).items():
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        comments = _comments(source)
        tree = ast.parse(source, filename=str(path))
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            for node in ast.walk(function):
                if not isinstance(node, (ast.Import, ast.ImportFrom)):
                    continue
                own = range(node.lineno, (node.end_lineno or node.lineno) + 1)
                above = node.lineno - 1
                while above >= 1 and lines[above - 1].strip().startswith(("import ", "from ")):
                    above -= 1  # one comment line may explain a run of imports
                explained = (any(line in comments for line in own)
                             or (above in comments and lines[above - 1].strip().startswith("#")))
                found.append(LocalImport(module, path, node.lineno, lines[node.lineno - 1].strip(), explained))
    # A function inside a function is walked twice: count each statement once.
    return sorted(set(found), key=lambda i: (str(i.path), i.line))
