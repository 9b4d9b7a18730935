"""No import cycles in recaug/ and ui/, the lazy ones (imports inside functions) included.

A lazy import hides a cycle from Python's import machinery but not from a reader: the two modules still depend on
each other, so neither can be understood, tested or moved alone. The graph is read statically from the source (the
AST), so every import counts wherever it stands; only ``if TYPE_CHECKING:`` blocks are left out, because they never
run. An import of ``a.b.c`` is an edge to ``a.b.c`` only (not to the packages ``a`` and ``a.b`` that Python runs on
the way): otherwise every package's ``__init__`` that registers its members would count as a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("recaug", "ui")

# Imports that close cycles which other work in progress removes (edge -> the issue that removes it). They are
# taken out of the graph before looking for cycles, so every other cycle fails the test; delete an entry when its
# import is gone.
PENDING: dict[tuple[str, str], str] = {}


def module_names(root: Path) -> dict[str, Path]:
    """{dotted module name: file} of every module under ``root`` (packages as their ``__init__``)."""
    names = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement of a module at any depth (functions, methods, branches), except TYPE_CHECKING blocks."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def dependencies(module: str, path: Path, known: set[str]) -> set[str]:
    """The recaug modules ``module`` imports: ``from a import b`` means ``a.b`` when that is a module, else ``a``."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in imports(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:  # relative: from the module's package, one level up per extra dot
            anchor = module.split(".") if is_package else module.split(".")[:-1]
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, *([base] if base else [])])
        for alias in node.names:
            found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return {name for name in found if name in known and name != module}


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules (of recaug and ui) it imports."""
    names = {name: path for package in PACKAGES for name, path in module_names(REPO / package).items()}
    known = set(names)
    return {module: dependencies(module, path, known) for module, path in names.items()}


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components with more than one module (Tarjan), i.e. every group of mutual imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[frozenset[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(frozenset(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_except_the_pending_ones() -> None:
    graph = import_graph()
    for importer, imported in PENDING:
        graph.get(importer, set()).discard(imported)
    found = [sorted(group) for group in cycles(graph)]
    assert found == [], f"import cycles (lazy imports count): {found}"


def test_the_augmenter_base_imports_one_way() -> None:
    """augment/base -> denoise -> ranking -> text/similarity -> base was a cycle (issue 21); it must stay gone."""
    graph = import_graph()
    assert "recaug.augment.base" not in graph["recaug.augment.ranking"]
    assert "recaug.augment.text.similarity" not in graph["recaug.augment.ranking"]
    assert not any("recaug.augment.base" in group for group in cycles(graph))


def test_the_detector_finds_lazy_and_relative_cycles(tmp_path: Path) -> None:
    """A cycle closed by a lazy, relative import inside a function is found; a TYPE_CHECKING import is not."""
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.sub import b\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from .. import a\n    return a\n")
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.a\n")
    (pkg / "d.py").write_text("import pkg.c\n")
    names = module_names(pkg)
    graph = {m: dependencies(m, p, set(names)) for m, p in names.items()}
    assert graph["pkg.a"] == {"pkg.sub.b"} and graph["pkg.sub.b"] == {"pkg.a"} and graph["pkg.c"] == set()
    assert cycles(graph) == [frozenset({"pkg.a", "pkg.sub.b"})]
