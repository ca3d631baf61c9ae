"""The house rules of the layout, read from the source so a slip fails here rather than
in review: the core never imports a platform library, and one feature uses another
only through what its package exports (``bot/meetings/__init__.py``, …), so a
feature's modules can be rearranged without reaching into the others.

A feature is a package under ``bot/`` whose ``__init__`` offers ``register``; shared
packages (``bot/dates``, …) are not features and may be imported module by module.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOT = ROOT / "bot"
PLATFORMS = {"telegram", "discord"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """``(line, dotted name)`` for everything ``path`` imports, relative imports
    resolved, and ``from package import name`` giving ``package.name``."""
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path.parent)
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield node.lineno, base
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


def _features() -> dict[str, set[str]]:
    """Each feature, with the names its package exports (a function may share its
    module's name: ``from bot.copies import announce`` is the function)."""
    found = {}
    for init in BOT.glob("*/__init__.py"):
        names = {
            alias.asname or alias.name
            for node in ast.walk(ast.parse(init.read_text()))
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        } | {
            node.name
            for node in ast.parse(init.read_text()).body
            if isinstance(node, ast.FunctionDef)
        }
        if "register" in names:
            found[_module_name(init)] = names
    return found


def _is_module(dotted: str) -> bool:
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def test_the_features_are_found() -> None:
    assert {"bot.meetings", "bot.polls", "bot.alerts"} <= _features().keys()


def test_the_core_never_imports_a_platform() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in sorted(BOT.rglob("*.py"))
        for line, name in _imports(path)
        if name.split(".")[0] in PLATFORMS
    ]
    assert not found, "bot/ must not import a platform library:\n" + "\n".join(found)


def test_features_use_each_other_only_through_their_exports() -> None:
    features = _features()
    found = []
    for path in sorted(BOT.rglob("*.py")):
        own = _module_name(path)
        for line, name in _imports(path):
            for feature, exported in features.items():
                inside = own == feature or own.startswith(feature + ".")
                package, _, last = name.rpartition(".")
                if package == feature and last in exported:
                    continue
                if not inside and name.startswith(feature + ".") and _is_module(name):
                    found.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert not found, (
        "import other features from their package (export what is needed in its "
        "__init__.py):\n" + "\n".join(found)
    )


def test_benchmarks_and_harnesses_import_no_test_module() -> None:
    """``bench/`` and the harness packages may import the harnesses (``tests.fakes``,
    ``tests.support``), never a test module: those are pytest's to collect."""
    harnesses = ("tests.fakes", "tests.support")
    sources = [
        *sorted((ROOT / "bench").rglob("*.py")),
        *sorted((ROOT / "tests" / "fakes").rglob("*.py")),
        *sorted((ROOT / "tests" / "support").rglob("*.py")),
    ]
    found = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in sources
        for line, name in _imports(path)
        if name.startswith("tests.")
        and _is_module(name)
        and not any(name == h or name.startswith(h + ".") for h in harnesses)
    ]
    assert not found, "import only the harnesses from tests/:\n" + "\n".join(found)
