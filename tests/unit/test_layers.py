"""The package's layers: imports run one way, down; no cycles; no private names across modules.

Layers, bottom to top (a module may import its own layer or lower ones):
  0 base      errors, codes, progress, display, schemas.contract
  1 parts     spec, domain, stats, schemas, engine.periods, engine.partials (the engine-neutral partial type)
  2 plan, io  compile, io, plot
  3 result    result (combine, targets, groupings, the result, the diagnostics ledger)
  4 engine    engine (the pandas engine: runs a plan, feeds the ledger, produces partials)
  5 verbs     api, validate, check, synthetic, catalog_doc
  6 report    report
  7 top       cli, the package itself
"""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "qcindicators"
LAYERS = [
    ("errors", "codes", "progress", "display", "schemas.contract"),
    ("spec", "domain", "stats", "schemas", "engine.periods", "engine.partials", "data"),
    ("compile", "io", "plot"),
    ("result",),
    ("engine",),
    ("api", "validate", "check", "synthetic", "synthetic_staff", "catalog_doc", "drugs"),
    ("report",),
    ("cli", "demo", "docgen", ""),
]
# dependencies that are optional extras: imported where they are used, so the core installs without them
OPTIONAL = {"dask", "distributed", "sqlalchemy", "psycopg", "duckdb", "fsspec", "nbclient", "nbformat", "nbconvert",
            # matplotlib is a core dependency, but half a second to import: only a figure (or a report) loads it
            "matplotlib"}
# our own modules that stand for one of those: the database sources (SQLAlchemy), the figures and reports (matplotlib)
OPTIONAL_OWN = {"io.database", "result.sql", "plot", "report", "report.scorecard", "report.stewardship",
                "report.stewardship_write"}


def modules() -> dict[str, Path]:
    out = {}
    for f in PACKAGE.rglob("*.py"):
        rel = f.relative_to(PACKAGE).with_suffix("")
        parts = [p for p in rel.parts if p != "__init__"]
        out[".".join(parts)] = f
    return out


def layer(mod: str) -> int:
    best, depth = None, -1
    for i, names in enumerate(LAYERS):
        for n in names:
            if (mod == n or mod.startswith(n + ".") or n == "") and len(n) > depth:
                best, depth = i, len(n)
    assert best is not None, f"module {mod} has no layer"
    return best


def imports(mod: str, path: Path):
    """(imported module, names, inside a function?) for every import of the package's own modules."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = mod.split(".") if path.name == "__init__.py" else mod.split(".")[:-1]
    funcs = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) for n in ast.walk(f)}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
                if not target.startswith("qcindicators"):
                    yield ("ext:" + target, [a.name for a in node.names], id(node) in funcs)
                    continue
                target = target.removeprefix("qcindicators").lstrip(".")
            yield (target, [a.name for a in node.names], id(node) in funcs)
        elif isinstance(node, ast.Import):
            for a in node.names:
                yield ("ext:" + a.name, [], id(node) in funcs)


MODULES = modules()


def own(target: str, names: list[str]) -> list[str]:
    """The package modules an import statement names (a `from pkg import module` names the module)."""
    subs = [f"{target}.{n}".lstrip(".") for n in names if f"{target}.{n}".lstrip(".") in MODULES]
    return subs or ([target] if target in MODULES and target != "" else [])      # `from . import __version__`


def test_imports_run_down_the_layers():
    wrong = []
    for mod, path in MODULES.items():
        for target, names, _ in imports(mod, path):
            if target.startswith("ext:"):
                continue
            for t in own(target, names):
                if layer(t) > layer(mod):
                    wrong.append(f"{mod} (layer {layer(mod)}) imports {t} (layer {layer(t)})")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles():
    graph = {m: set() for m in MODULES}
    for mod, path in MODULES.items():
        for target, names, _ in imports(mod, path):
            if not target.startswith("ext:"):
                graph[mod] |= {t for t in own(target, names) if t != mod and not mod.startswith(t + ".") and t != ""}
    seen, stack, cycles = set(), [], []

    def visit(m):
        if m in stack:
            cycles.append(" → ".join(stack[stack.index(m):] + [m]))
            return
        if m in seen:
            return
        seen.add(m)
        stack.append(m)
        for n in sorted(graph[m]):
            visit(n)
        stack.pop()

    for m in sorted(graph):
        visit(m)
    assert not cycles, "\n".join(cycles)


def test_no_private_names_across_modules():
    wrong = [f"{mod} imports {n} from {target}" for mod, path in MODULES.items()
             for target, names, _ in imports(mod, path) if not target.startswith("ext:")
             for n in names if n.startswith("_") and n != "__version__"]
    assert not wrong, "\n".join(wrong)


def test_imports_inside_functions_only_for_optional_dependencies():
    wrong = [f"{mod} imports {target.removeprefix('ext:')} inside a function" for mod, path in MODULES.items()
             for target, names, inside in imports(mod, path)
             if inside and not any(target.removeprefix("ext:").startswith(o) for o in OPTIONAL)
             and not (set(own(target, names)) & OPTIONAL_OWN)]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("mod", ["engine.partials", "engine.periods"])
def test_the_partial_type_is_engine_neutral(mod):
    """Another engine produces the same partials without importing the pandas engine."""
    targets = {t for t, names, _ in imports(mod, MODULES[mod]) if not t.startswith("ext:")}
    assert targets <= {"engine.periods", "engine.partials"}, targets
