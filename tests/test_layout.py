"""The package structure: no import cycle, no import from the library into the commands, every package
installed, and every engine keeps the contract."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ROOT / "tryon_cli"
COMMANDS = ROOT / "commands"


def module_name(path: Path) -> str:
    if path.is_relative_to(COMMANDS):
        parts = ("tryon_cli", "commands") + path.relative_to(COMMANDS).with_suffix("").parts
    else:
        parts = ("tryon_cli",) + path.relative_to(LIBRARY).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, modules: set[str]) -> set[str]:
    """The project modules `path` imports, at any depth of the file (lazy imports count too)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            # the longest project module the import names (a name imported from a module is not a module)
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def project_graph() -> dict[str, set[str]]:
    files = [p for p in list(LIBRARY.rglob("*.py")) + list(COMMANDS.rglob("*.py")) if "__pycache__" not in p.parts]
    modules = {module_name(p) for p in files}
    return {module_name(p): imported_modules(p, modules) for p in files}


def test_the_library_never_imports_the_commands():
    graph = project_graph()
    offenders = {m: sorted(i for i in imports if i.startswith("tryon_cli.commands"))
                 for m, imports in graph.items()
                 if not m.startswith("tryon_cli.commands") and m != "tryon_cli.app"}
    assert not {m: i for m, i in offenders.items() if i}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A module-level import cycle, as the list of modules around it, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_no_import_cycle_between_modules():
    graph = project_graph()
    # a package's __init__ re-exporting its children is not a cycle of the design; none do today
    assert find_cycle(graph) is None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_every_package_is_installed():
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(setuptools["packages"])
    code = {module_name(p) for p in LIBRARY.rglob("__init__.py")} | {"tryon_cli.commands"}
    # folders of data only (no __init__.py) are packages too, with their files in package-data
    data = {name for name in setuptools["package-data"] if (ROOT / name.replace(".", "/")).is_dir()}
    assert code | data == listed
    assert all(any((ROOT / name.replace(".", "/")).glob(pattern)) for name in data
               for pattern in setuptools["package-data"][name])


@pytest.mark.parametrize("name", ["classical"])
def test_engines_keep_the_contract(name):
    from tryon_cli.render.contract import Engine
    from tryon_cli.render.options import EngineOptions
    from tryon_cli.render.registry import create_engine

    engine = create_engine(EngineOptions(name=name))
    assert isinstance(engine, Engine)


def test_an_engine_without_the_contract_is_refused():
    from tryon_cli.render.registry import _checked

    class NoStream:
        name = "broken"
        needs_normal_map = False

        def prepare(self, kind):
            pass

    with pytest.raises(TypeError, match="engine contract"):
        _checked(NoStream())
