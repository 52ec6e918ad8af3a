"""A family's resources as its calls find them and its traces name them.

A resource is named in a trace by ``trace_id`` and ``trace_name``: its ``id`` and ``name``
(Named), unless its class says otherwise (a pool is named by its metadata name and its display
name). Reply.of and Checker.of read them.
"""

from __future__ import annotations

from simulator.modelarts.validate import Checker


class Named:
    """A resource its traces name by its id and name."""
    __slots__ = ()

    @property
    def trace_id(self):
        return self.id

    @property
    def trace_name(self):
        return self.name


def update_given(resource, **fields) -> None:
    """Set the fields an update call gave (None: it did not give that one)."""
    for name, value in fields.items():
        if value is not None:
            setattr(resource, name, value)


def find(ctx, table: dict, param: str, code: str, message: str, status: int = 400, *,
         owner: Named | None = None, checker: type[Checker] = Checker):
    """The resource whose id the path parameter `param` gives, from the family's table; else
    the family's not-found refusal (raised by its `checker` class): `message`, {} standing for
    the id, naming the id asked for, or `owner` where the resource belongs to one (a dataset's
    version names its dataset)."""
    resource_id = ctx.params[param]
    found = table.get(resource_id)
    if found is None:
        if owner is not None:
            checker.of(owner, code, status).fail(message.format(resource_id))
        checker(code, status, resource_id).fail(message.format(resource_id))
    return found
