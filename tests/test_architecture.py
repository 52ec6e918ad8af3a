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


def _imported(path: Path, name: str, known: set[str]) -> set[str]:
    """Every module a module imports anywhere (functions included), except for type checking
    only: simulator's by their module name, others by their top-level package."""
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
    return {m if m in known else m.split(".")[0] for m in found if m != name}


def _all_imports() -> dict[str, set[str]]:
    paths = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    known = set(paths)
    return {name: _imported(path, name, known) for name, path in paths.items()}


def import_graph() -> dict[str, set[str]]:
    """simulator module -> the simulator modules it imports."""
    everything = _all_imports()
    return {name: {m for m in deps if m in everything} for name, deps in everything.items()}


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


def test_the_walk_does_not_need_the_http_front():
    """The generator runs calls in process through pipeline.perform: nothing on that path
    imports the HTTP front, Flask, werkzeug or waitress."""
    everything = _all_imports()
    seen, todo = set(), ["simulator.pipeline"]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(m for m in everything[name] if m in everything)
    used = set().union(*(everything[name] for name in seen))
    assert not seen & {"simulator.app", "simulator.dispatch", "simulator.server"}
    assert not used & {"flask", "werkzeug", "waitress"}, sorted(
        (name, sorted(everything[name] & {"flask", "werkzeug", "waitress"})) for name in seen
        if everything[name] & {"flask", "werkzeug", "waitress"})


def test_running_calls_in_process_loads_no_http_front():
    """What the static walk above cannot see: the families the registry imports at run time,
    and package __init__ files. A fresh interpreter loads the walk and every handler the way
    the generator does, and holds no HTTP module afterwards."""
    import subprocess
    import sys
    script = ("import sys\n"
              "from simulator import pipeline, registry\n"
              "registry.load_all()\n"
              "import simulator.generate.engine\n"
              "print(sorted(m for m in sys.modules if m.split('.')[0] in "
              "('flask', 'werkzeug', 'waitress') or m in "
              "('simulator.app', 'simulator.dispatch', 'simulator.server')))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=PACKAGE.parent, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


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


# family -> its dialect: name, code prefix, bad-body code, throttling code, scope refusal code,
# read-only refusal code (None: the walk does not check the role). The error bodies each
# family's tests compare whole, and the 429 codes of modelarts-api.md 1.2 (API Gateway's for
# the rest)
_MA = ("ModelArts", "ModelArts.0101")
_OTHER = ("APIGW.0308", "ModelArts.0210", "ModelArts.0108")
EXPECTED_DIALECTS = {
    "datasets": ("modelarts", *_MA, "ModelArts.4395", "ModelArts.0210", "ModelArts.0108"),
    "devenviron": ("devenviron", *_MA, *_OTHER),
    "training_jobs": ("is_success", *_MA, "ModelArts.2799", "ModelArts.0210",
                      "ModelArts.0108"),
    "training_configs": ("is_success", *_MA, *_OTHER),
    "visualization_jobs": ("is_success", *_MA, *_OTHER),
    "models": ("modelarts", *_MA, *_OTHER),
    "conversions": ("modelarts", *_MA, *_OTHER),
    "services": ("modelarts", *_MA, *_OTHER),
    "authorizations": ("modelarts", *_MA, *_OTHER),
    "clusters": ("modelarts", *_MA, *_OTHER),
    "notebooks": ("modelarts", *_MA, *_OTHER),
    "training_v2": ("training_v2", "ModelArts", "ModelArts.2788", "ModelArts.2799",
                    "ModelArts.0210", "ModelArts.0108"),
    "services_v2": ("modelarts", *_MA, *_OTHER),
    "pools": ("modelarts", *_MA, *_OTHER),
    "cts": ("cts", "CTS", "CTS.0003", "APIGW.0308", "CTS.0002", "CTS.0013"),
    "iam": ("iam", "IAM", "IAM.0003", "APIGW.0308", "CTS.0002", None),
    "obs": ("obs", "OBS", None, "APIGW.0308", "ModelArts.0210", None),
}


def _described(d: errors.Dialect) -> tuple:
    return (d.name, d.prefix, d.bad_body, d.throttled[0], d.scope_refused[0],
            d.read_only_refused[0] if d.read_only_refused else None)


def test_every_family_answers_in_its_dialect():
    assert {family: _described(d) for family, d in catalog.FAMILIES.items()} \
        == EXPECTED_DIALECTS
    for op in catalog.OPERATIONS:
        assert op.dialect is catalog.FAMILIES[op.family], op.operation_id


def test_each_dialect_words_an_error_its_own_way():
    err = errors.ApiError(404, "X.0001", "gone", solution="look elsewhere")
    bodies = {d.name: d.body(err, "req-1") for d in vars(errors).values()
              if isinstance(d, errors.Dialect) and d.name != "obs"}
    assert bodies == {
        "modelarts": {"error_code": "X.0001", "error_msg": "gone"},
        "devenviron": {"error_code": "X.0001", "error_message": "gone"},
        "is_success": {"is_success": False, "error_code": "X.0001", "error_message": "gone"},
        "training_v2": {"error_code": "X.0001", "error_msg": "gone",
                        "error_solution": "look elsewhere"},
        "cts": {"error_code": "X.0001", "error_msg": "gone"},
        "iam": {"error": {"code": 404, "message": "gone", "title": "Not Found"},
                "error_code": "X.0001", "error_msg": "gone"},
        "apig": {"error_code": "X.0001", "error_msg": "gone", "request_id": "req-1"},
    }
