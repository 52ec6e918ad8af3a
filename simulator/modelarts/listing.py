"""List conventions the ModelArts APIs share: sorting with an order, and paging.

Two dialects exist in the old generation: models, services, conversions and pools take
``offset``/``limit``/``sort_by``/``order`` (offset a page index, order desc by default); the
training families take ``per_page``/``page``/``sortBy``/``order`` (order asc by default).
"""

from __future__ import annotations

from simulator.modelarts.validate import Checker, page


def ordered(items: list, query, chk: Checker, sort_keys: dict, default_sort: str, *,
            sort_param: str = "sort_by", default_order: str = "desc") -> list:
    """Items sorted by the key named in sort_param and by ``order``. Ties keep their original
    order (creation order), reversed when descending."""
    sort_by = query.get(sort_param) or default_sort
    if sort_by not in sort_keys:
        chk.fail("Parameter %s must be one of %s, not %r." % (
            sort_param, ", ".join(sort_keys), sort_by))
    order = query.get("order") or default_order
    if order not in ("asc", "desc"):
        chk.fail("Parameter order must be asc or desc, not %r." % order)
    key = sort_keys[sort_by]
    return [item for _, item in sorted(enumerate(items), key=lambda p: (key(p[1]), p[0]),
                                       reverse=order == "desc")]


def sorted_page(query, chk: Checker, items: list, sort_keys: dict, default_sort: str, *,
                default_limit: int, max_limit: int = 1000, offset_is_page: bool = True):
    """(total, one page of items), sorted by ``sort_by`` and ``order`` (default desc). In the
    old v1 lists ``offset`` is a page index: offset=2&limit=10 answers items 20-29."""
    offset, limit = page(query, chk, default_limit=default_limit, max_limit=max_limit)
    ranked = ordered(items, query, chk, sort_keys, default_sort)
    start = offset * limit if offset_is_page else offset
    return len(ranked), ranked[start:start + limit]


def v1_list(query, chk: Checker, items: list, key: str, view, sort_keys: dict,
            default_sort: str, *, default_limit: int = 1000) -> dict:
    """The old v1 list answer: {total_count, count, <key>: [...]}."""
    total, shown = sorted_page(query, chk, items, sort_keys, default_sort,
                               default_limit=default_limit)
    return {"total_count": total, "count": len(shown), key: [view(item) for item in shown]}


def fuzzy(value: str, wanted: str) -> bool:
    return wanted.lower() in value.lower()


def ownership(ctx) -> dict:
    """Who a resource belongs to, as the old v1 records say it."""
    return {"tenant": ctx.project.domain.id, "project": ctx.project.id,
            "owner": ctx.caller.user.id if ctx.caller else ""}
