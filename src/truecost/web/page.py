"""What the calculator page shows beyond the report's fragments: the page's sensitivity analysis,
the assumptions that move the answer most, and the scenario fields' descriptions (labels and
tooltips). Kept apart from `app.py`, which handles requests and limits."""

from __future__ import annotations

from functools import cache
from typing import Any

PAGE_SOBOL_N = 256  # base samples of the page's sensitivity analysis: ranks inputs in ~0.2 s


def page_sensitivity(est: Any) -> dict[str, Any] | None:
    """The tornado and Sobol indices of the scenario's uncertain inputs (None without any)."""
    from ..analysis.sensitivity import sensitivity
    from ..uncertainty import find_distributions

    if not find_distributions(est.inputs):
        return None
    try:
        return sensitivity(est.inputs, None, PAGE_SOBOL_N, 0)
    except ValueError:  # no cost to explain: the page shows the rest
        return None


def ranked_table(est: Any) -> str:
    """The ten assumptions that move the deepest cost most (+-10% each), as an HTML table."""
    from ..analysis.assumptions import rank_assumptions
    from ..fmt import value
    from ..report import html as rhtml

    output, rows = rank_assumptions(est.inputs, est.assumptions)
    if not output or not rows:
        return ""
    return rhtml.join(
        [
            rhtml.tag("p", f"Each input moved by 10% alone: how much {output} moves.", class_="note"),
            rhtml.table(
                ["input", "value", "moves the result by"],
                ([r.field, value(r.value, r.unit), r.change_text()] for r in rows[:10]),
                cls="ranked",
                numeric=(1, 2),
            ),
        ]
    )


@cache
def field_help() -> dict[str, str]:
    """Description of every scenario field by dotted name (fleet pools and staff as fleet.count),
    for the form's labels and tooltips."""
    from ..scenario import Scenario

    schema = Scenario.model_json_schema()
    defs = schema.get("$defs", {})
    out: dict[str, str] = {}

    def walk(node: dict[str, Any], prefix: str, depth: int) -> None:
        if depth > 4:
            return
        for name, prop in (node.get("properties") or {}).items():
            path = f"{prefix}{name}"
            if prop.get("description"):
                out.setdefault(path, str(prop["description"]))
            for sub in [prop, *prop.get("anyOf", []), prop.get("items") or {}]:
                ref = sub.get("$ref") or (sub.get("items") or {}).get("$ref")
                if ref:
                    walk(defs.get(ref.rsplit("/", 1)[-1], {}), path + ".", depth + 1)

    walk(schema, "", 0)
    return out
