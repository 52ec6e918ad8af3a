"""The house rules a reader relies on: no import cycle in simulator/, no library module that
imports the CLI, one registration per operation and per lifecycle kind, one dialect per
family."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import simulator
from simulator import catalog, errors, registry
from simulator.modelarts import lifecycle

PACKAGE = Path(simulator.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, name: str, known: set[str]) -> set[str]:
    """The simulator modules a module imports anywhere (functions included), except for type
    checking only."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {id(node) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and ast.unparse(block.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")
                   for node in ast.walk(block)}
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            for alias in node.names:
                sub = base + "." + alias.name
                found.add(sub if sub in known else base)
    return {m for m in found if m in known and m != name}


def import_graph() -> dict[str, set[str]]:
    paths = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    known = set(paths)
    return {name: _imports(path, name, known) for name, path in paths.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected parts of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = []
            while True:
                w = stack.pop()
                part.append(w)
                if w == v:
                    break
            if len(part) > 1:
                found.append(sorted(part))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_the_package():
    assert cycles(import_graph()) == []


def test_only_the_entry_point_imports_the_cli():
    importers = sorted(name for name, deps in import_graph().items() if "simulator.cli" in deps)
    assert importers == ["simulator.__main__"]


def test_the_walk_does_not_need_flask():
    """The generator runs calls in process through pipeline.perform: nothing on that path
    imports the HTTP front."""
    graph = import_graph()
    seen, todo = set(), ["simulator.pipeline"]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(graph[name])
    assert "simulator.app" not in seen and "simulator.dispatch" not in seen


def test_an_operation_has_one_handler():
    registry.load_all()
    taken = next(iter(registry.HANDLERS))
    with pytest.raises(KeyError, match="two handlers"):
        registry.handler(taken)(lambda ctx: None)


def test_a_lifecycle_kind_has_one_finder():
    registry.load_all()
    kind, (family, finder) = next(iter(lifecycle.KINDS.items()))
    with pytest.raises(KeyError, match="registered twice"):
        lifecycle.lifecycle_kind(kind, family)(lambda state, rid: None)
    assert lifecycle.KINDS[kind] == (family, finder)


def test_every_family_answers_in_a_dialect_of_the_table():
    dialects = {d.name: d for d in vars(errors).values() if isinstance(d, errors.Dialect)}
    for op in catalog.OPERATIONS:
        dialect = op.dialect
        assert isinstance(dialect, errors.Dialect), op.operation_id
        assert dialects[dialect.name].render is dialect.render, op.operation_id
