"""Handlers register here under their catalog operation id: one row, one handler."""

from __future__ import annotations

from dataclasses import dataclass, field

from simulator import catalog

HANDLERS: dict[str, object] = {}


@dataclass
class Reply:
    """What a handler answers: status and body, and the resource it touched (for the trace)."""
    status: int = 200
    body: object = None  # JSON-able; None means an empty body
    resource_id: str | None = None
    resource_name: str | None = None
    headers: dict = field(default_factory=dict)
    # a call about several resources (DELETE .../services/id1,id2) leaves one trace for each
    resources: list[tuple[str, str]] | None = None
    # False when the call turned out not to be the audited operation (deleting an agency
    # authorization on the path that deletes access keys)
    audited: bool = True
    # an injected fault closes the connection without an answer (the call left no trace)
    dropped: bool = False

    @classmethod
    def of(cls, resource, body=None, status: int = 200) -> "Reply":
        """An answer about one resource, named by its trace_id and trace_name
        (simulator/modelarts/resources.py)."""
        return cls(status, body, resource.trace_id, resource.trace_name)


def handler(operation_id: str):
    if operation_id not in catalog.BY_ID:
        raise KeyError(f"{operation_id} is not in simulator/catalog.py")

    def register(fn):
        if operation_id in HANDLERS:
            raise KeyError(f"{operation_id} has two handlers")
        HANDLERS[operation_id] = fn
        return fn

    return register


def implemented(operation_id: str) -> bool:
    """Served by a handler, or recorded by a family on its own (its SYSTEM_OPERATIONS)."""
    load_all()
    if operation_id in HANDLERS:
        return True
    import importlib
    others = [importlib.import_module(name) for name in _RECORDERS]
    return any(operation_id in getattr(m, "SYSTEM_OPERATIONS", ())
               for m in family_modules() + others)


_OTHER_MODULES = ("simulator.cts.api", "simulator.cts.trackers", "simulator.cts.notifications",
                  "simulator.identity.iam")
_RECORDERS = ("simulator.obs.datatraces",)  # modules that record operations served elsewhere


def family_modules() -> list:
    """Every module of simulator/modelarts that declares FAMILY (one API family each)."""
    import importlib
    import pkgutil

    import simulator.modelarts as package
    found = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module("simulator.modelarts." + info.name)
        if hasattr(module, "FAMILY"):
            found.append(module)
    return found


def load_all() -> None:
    import importlib
    family_modules()
    for name in _OTHER_MODULES:
        importlib.import_module(name)
