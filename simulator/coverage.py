"""The coverage table, derived from the catalog: what is served, what is audited, and how sure
we are of each fact. `modelarts-sim coverage` prints it; docs/coverage.md is this output."""

from __future__ import annotations

from simulator import catalog, registry

HEADER = ("# Coverage\n\n"
          "Generated from `simulator/catalog.py` by `modelarts-sim coverage --markdown`; "
          "a test fails when this file and the catalog disagree.\n\n"
          "Source: **seed** = the trace name is in the CTS key-operations list for ModelArts; "
          "**documented** = path and body from Huawei's API reference; **inferred** = no public "
          "source, a shape the simulator chose.\n\n")


def rows() -> list[dict]:
    registry.load_all()
    out = []
    for op in catalog.OPERATIONS:
        out.append({
            "operation": op.operation_id,
            "family": op.family,
            "method_path": "%s %s" % (op.method, op.path) if op.method else (
                "(OBS object call)" if op.family == "obs" else "(system event)"),
            "trace_name": op.trace_name or "",
            "resource_type": op.resource_type or "",
            "seed_row": op.seed_row,
            "implemented": registry.implemented(op.operation_id),
            "source": op.source + ("; " + op.note if op.note else ""),
        })
    return out


def markdown() -> str:
    lines = [HEADER,
             "| operation | family | method + path | trace name | resource type | seed row "
             "| implemented | source |",
             "|---|---|---|---|---|---|---|---|"]
    table = rows()
    for r in table:
        lines.append("| %s | %s | `%s` | %s | %s | %s | %s | %s |" % (
            r["operation"], r["family"], r["method_path"],
            "`%s`" % r["trace_name"] if r["trace_name"] else "(not audited)",
            r["resource_type"], r["seed_row"] or "", "yes" if r["implemented"] else "not yet",
            r["source"]))
    done = {r["seed_row"] for r in table if r["seed_row"] and r["implemented"]}
    total = {r["seed_row"] for r in table if r["seed_row"]}
    lines.append("")
    lines.append("Seed rows implemented: %d of %d." % (len(done), len(total)))
    return "\n".join(lines) + "\n"


def text() -> str:
    out = []
    for r in rows():
        out.append("%-34s %-60s %-34s %-24s %-8s %s" % (
            r["operation"], r["method_path"], r["trace_name"] or "-", r["resource_type"],
            "yes" if r["implemented"] else "no", r["source"]))
    return "\n".join(out) + "\n"
