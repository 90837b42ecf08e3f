"""The layering in DESIGN.md holds: imports point one way only.

presentation (cli, render, report, web) -> analysis -> chain/result -> stages -> scenario ->
catalog / foundation (units, errors, fmt, defaults, architecture). uncertainty is a utility of the
chain and analysis. A test walks every module's imports (including those inside functions).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "truecost"

# Layer of each top-level part of the package; a module may import its own layer or lower ones.
LAYERS: dict[str, int] = {
    "units": 0,
    "errors": 0,
    "fmt": 0,
    "defaults": 0,
    "dates": 0,
    "files": 0,
    "architecture": 0,
    "catalog": 1,
    "scenario": 2,
    "stages": 3,
    "uncertainty": 4,
    "result": 4,
    "chain": 5,
    "analysis": 6,
    "render": 7,
    "export": 7,
    "report": 7,
    "web": 7,
    "cli": 8,
    "__init__": 9,
    "presets": 0,
    "__version__": 0,  # `from .. import __version__`: a constant of the package root
}
PRESENTATION = {"render", "report", "web", "cli"}


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Absolute names of the truecost modules `path` imports, anywhere in the file."""
    mod = _module_name(path)
    package = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("truecost"):
                if target != "truecost":  # `from .. import defaults` imports truecost.defaults only
                    out.add(target)
                for alias in node.names:  # `from . import fleet` imports the module truecost.fleet
                    out.add(f"{target}.{alias.name}")
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("truecost"))
    return out


def _part(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


MODULES = sorted(p for p in SRC.rglob("*.py"))


def test_every_part_has_a_layer() -> None:
    parts = {_part(_module_name(p)) for p in MODULES}
    assert parts <= set(LAYERS), f"give these a layer: {parts - set(LAYERS)}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_point_down(path: Path) -> None:
    mine = _part(_module_name(path))
    bad = []
    for target in _imports(path):
        theirs = _part(target)
        if theirs not in LAYERS or theirs == mine:
            continue
        if LAYERS[theirs] > LAYERS[mine]:
            bad.append(target)
    assert not bad, f"{_module_name(path)} ({mine}) imports higher layers: {sorted(bad)}"


def test_stages_import_no_chain_analysis_or_presentation() -> None:
    for path in (SRC / "stages").rglob("*.py"):
        for target in _imports(path):
            assert _part(target) not in {"chain", "result", "analysis", *PRESENTATION}, (path, target)


def test_catalog_and_scenario_import_no_stage() -> None:
    for part in ("catalog", "scenario"):
        for path in (SRC / part).rglob("*.py"):
            for target in _imports(path):
                assert _part(target) != "stages", (path, target)


def test_no_stage_reads_a_later_stage() -> None:
    """Stages import only stages before them in the chain (and the shared `base`)."""
    order = ["base", "model", "flops", "perf", "energy", "run", "pricing", "fleet", "lab", "views", "carbon"]
    for path in (SRC / "stages").rglob("*.py"):
        mine = _module_name(path).split(".")
        if len(mine) < 3:
            continue
        me = mine[2]
        if me not in order:
            continue
        for target in _imports(path):
            t = target.split(".")
            if len(t) >= 3 and t[1] == "stages" and t[2] in order:
                assert order.index(t[2]) <= order.index(me), f"{'.'.join(mine)} imports later stage {target}"


def test_no_import_cycles_between_modules() -> None:
    """No cycle among module-level imports (imports inside functions are lazy and allowed)."""
    graph: dict[str, set[str]] = {}
    names = {_module_name(p): p for p in MODULES}
    for name, path in names.items():
        deps = set()
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ImportFrom | ast.Import):
                if isinstance(node, ast.ImportFrom) and node.level:
                    pkg = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
                    base = pkg.split(".")
                    base = base[: len(base) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                    cands = [target] + [f"{target}.{a.name}" for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    cands = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
                else:
                    cands = [a.name for a in node.names]
                deps.update(c for c in cands if c in names and c != name)
        graph[name] = deps
    # A package importing its own submodules (re-exports) is not a cycle of layers.
    seen: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> None:
        seen[n] = 1
        stack.append(n)
        for d in graph[n]:
            if n.startswith(d + ".") or d.startswith(n + "."):
                continue  # parent package <-> its own submodule
            if seen.get(d) == 1:
                cycle = stack[stack.index(d) :] + [d]
                raise AssertionError(f"import cycle: {' -> '.join(cycle)}")
            if d not in seen:
                visit(d)
        stack.pop()
        seen[n] = 2

    for n in graph:
        if n not in seen:
            visit(n)
