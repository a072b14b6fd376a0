"""No import circle in `assembly/`, and every import inside a function says why it is there.

The graph is read from the source (tests/import_graph.py): imports inside functions count as
much as those at the top, so a circle cannot hide behind a late import.
"""
from __future__ import annotations

from pathlib import Path

import pytest

import assembly
from tests.import_graph import cycles, describe, import_graph, local_imports, module_names

PACKAGE = Path(assembly.__file__).resolve().parent


def _edges(graph) -> dict[str, list[str]]:
    return {module: sorted({i.target for i in found}) for module, found in graph.items()}


def test_no_module_of_assembly_takes_part_in_an_import_circle():
    graph = import_graph(PACKAGE)
    loops = cycles(_edges(graph))
    assert not loops, "import circles (module (line of the import) -> …):\n" + "\n".join(
        describe(loop, graph) for loop in loops)


def test_the_graph_sees_imports_everywhere_a_module_makes_them():
    """A check of the reader on the real package, so that the circle test cannot pass on an
    empty graph: the composition root imports the views inside `create_app`, relatively
    written imports are resolved, and `from package import module` names the module."""
    modules = module_names(PACKAGE)
    assert {"assembly", "assembly.web", "assembly.proposals.views", "assembly.migrations.env"} <= set(modules)
    edges = _edges(import_graph(PACKAGE))
    assert "assembly.proposals.views" in edges["assembly"]  # inside a function
    assert "assembly.permissions" in edges["assembly.proposals.services"]  # from assembly import permissions
    assert "assembly" in edges["assembly.migrations.env"]  # from assembly import create_app (a name)
    assert sum(map(len, edges.values())) > 300


def test_every_import_inside_a_function_has_a_comment_saying_why():
    """Late imports are the exception (a circle must be broken by moving code, not by importing
    later); where one is needed, a comment on its line or just above says why."""
    unexplained = [f"{i.path.relative_to(PACKAGE.parent)}:{i.line}: {i.source}"
                   for i in local_imports(PACKAGE) if not i.explained]
    assert not unexplained, "imports inside functions without a comment saying why:\n" + "\n".join(unexplained)


# --- the reader and the cycle finder on small packages made for the test ---------------------------

def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    for name, source in {"__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    return root


def test_the_cycle_finder_finds_no_cycle_in_a_tree_and_a_diamond():
    assert cycles({"a": ["b", "c"], "b": ["d"], "c": ["d"], "d": []}) == []
    assert cycles({}) == []


@pytest.mark.parametrize(("graph", "expected"), [
    ({"a": ["b"], "b": ["a"]}, [["a", "b", "a"]]),
    ({"a": ["a"]}, [["a", "a"]]),
    ({"a": ["b"], "b": ["c"], "c": ["d", "a"], "d": []}, [["a", "b", "c", "a"]]),
    # Two separate circles, one of them with a shortcut: each is reported once, by its shortest loop.
    ({"a": ["b"], "b": ["c", "a"], "c": ["a"], "x": ["y"], "y": ["x", "a"]}, [["a", "b", "a"], ["x", "y", "x"]]),
])
def test_the_cycle_finder_reports_each_circle_by_a_shortest_loop(graph, expected):
    assert cycles(graph) == expected


def test_the_cycle_finder_handles_a_chain_deeper_than_the_recursion_limit():
    length = 5000
    chain = {f"m{n}": [f"m{n + 1}"] for n in range(length)}
    assert cycles({**chain, f"m{length}": []}) == []
    found = cycles({**chain, f"m{length}": ["m0"]})
    assert len(found) == 1 and len(found[0]) == length + 2


def test_a_circle_through_a_late_import_a_relative_import_and_a_submodule_is_found(tmp_path):
    root = _package(tmp_path, {
        "web.py": "from pkg import views\n",  # `views` is a module of its own
        "views.py": "from .domain import services\n",  # relative, then a module again
        "domain/__init__.py": "",
        "domain/services.py": "def send():\n    from ..web import helper  # late, and still an edge\n",
        "apart.py": "import json\nimport pkg.web\n",
    })
    graph = import_graph(root)
    loops = cycles(_edges(graph))
    assert loops == [["pkg.domain.services", "pkg.web", "pkg.views", "pkg.domain.services"]]
    assert describe(loops[0], graph) == ("pkg.domain.services (line 2) -> pkg.web (line 1) -> "
                                         "pkg.views (line 1) -> pkg.domain.services")


def test_a_package_importing_its_own_submodule_lazily_is_no_circle_unless_it_comes_back(tmp_path):
    root = _package(tmp_path, {"__init__.py": "def make():\n    from pkg import cli  # only for an app\n",
                               "cli.py": "from pkg.db import x\n", "db.py": "x = 1\n"})
    assert cycles(_edges(import_graph(root))) == []
    (root / "db.py").write_text("from pkg import make\n", encoding="utf-8")
    assert cycles(_edges(import_graph(root))) == [["pkg", "pkg.cli", "pkg.db", "pkg"]]


def test_late_imports_count_as_explained_only_with_a_real_comment(tmp_path):
    root = _package(tmp_path, {"m.py": (
        "import json\n"
        "\n"
        "def a():\n"
        "    import os  # the reason, on the line itself\n"
        "\n"
        "def b():\n"
        "    # the reason, above a run of imports\n"
        "    import os\n"
        "    import sys\n"
        "\n"
        "def c():\n"
        "    import os  # noqa: PLC0415\n"
        "\n"
        "def d():\n"
        "    x = 1  # a comment about something else\n"
        "    import os\n"
        "\n"
        "class K:\n"
        "    def e(self):\n"
        "        from json import (\n"
        "            dumps,  # the reason, inside the statement\n"
        "        )\n"
        "\n"
        "def f():\n"
        "    def g():\n"
        "        import os\n"
    )})
    found = {i.line: i.explained for i in local_imports(root)}
    assert found == {4: True, 8: True, 9: True, 12: False, 16: False, 20: True, 26: False}
