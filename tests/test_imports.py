"""Imports point down, as ARCHITECTURE.md draws them: read from the source, so it stays true."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# ARCHITECTURE.md's wings, top to bottom; a module may import its own wing and any wing below it.
WINGS = [
    {"cli", "__main__"},
    {"jobs", "housekeeping", "explain", "warmup"},
    {"learn"},
    {"models"},
    {"data", "nets"},
    {
        "progress",
        "paths",
        "limits",
        "access",
        "owners",
        "errors",
        "messages",
        "markdown",
        "versions",
        "certificates",
        "serving",
    },
]
SIBLINGS_APART = {("data", "nets"), ("nets", "data")}  # the two lowest wings know nothing of each other


def wing(module: str) -> str:
    """'catbreed.models.store' -> 'models'; 'catbreed' (the package itself) -> ''."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def level(name: str) -> int:
    return next(i for i, names in enumerate(WINGS) if name in names)


def imports(path: Path) -> set[str]:
    """The catbreed modules a file imports, anywhere in it (imports inside functions count too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("catbreed"):
            found |= {node.module} if node.module != "catbreed" else {f"catbreed.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("catbreed")}
    return found


def upward_imports(root: Path) -> list[str]:
    wrong = []
    for path in sorted((root / "catbreed").rglob("*.py")):
        module = ".".join(path.relative_to(root).with_suffix("").parts)
        importer = wing(module)
        if importer in ("", "__init__"):
            continue
        for imported in sorted(imports(path)):
            target = wing(imported)
            if target == importer or not target:
                continue
            if level(target) < level(importer) or (importer, target) in SIBLINGS_APART:
                wrong.append(f"{module} imports {imported}")
    return wrong


def test_every_module_is_in_a_wing():
    wings = {wing(".".join(p.relative_to(ROOT).with_suffix("").parts)) for p in (ROOT / "catbreed").rglob("*.py")}
    assert wings - {"", "__init__"} <= set().union(*WINGS)


def test_imports_point_down():
    assert upward_imports(ROOT) == []


@pytest.mark.parametrize(
    ("file", "line", "expected"),
    [
        ("catbreed/nets/runtime.py", "from catbreed.learn.features import FeatureCache\n", "catbreed.nets.runtime"),
        ("catbreed/data/images.py", "from catbreed.nets import backbones\n", "catbreed.data.images"),
        ("catbreed/paths.py", "def f():\n    from catbreed.models import store\n", "catbreed.paths"),
    ],
)
def test_a_planted_upward_import_is_caught(tmp_path, file, line, expected):
    planted = tmp_path / "tree"
    for path in (ROOT / "catbreed").rglob("*.py"):
        copy = planted / path.relative_to(ROOT)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (planted / file).write_text((planted / file).read_text(encoding="utf-8") + "\n" + line, encoding="utf-8")
    assert [w for w in upward_imports(planted) if w.startswith(expected)]


def test_every_file_the_docs_name_exists():
    """README and ARCHITECTURE name modules as `models/store.py` (under catbreed/) or from the root
    (`pages/frame/shared.py`); bare names (`classify.py` in an export package) are not paths in the tree."""
    import re

    named = set()
    for doc in ("README.md", "ARCHITECTURE.md"):
        named |= set(re.findall(r"`([\w.-]+/[\w./-]+\.py)`", (ROOT / doc).read_text(encoding="utf-8")))
    missing = sorted(n for n in named if not (ROOT / n).exists() and not (ROOT / "catbreed" / n).exists())
    assert missing == []
