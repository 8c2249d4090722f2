"""Size limits of the package (issue « Report v2 »): no module over 500 lines, no class over 300,
no function over 80 — so that a new section or fix goes into a new small piece, not a longer one."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "cpts_diag"
MAX_MODULE, MAX_CLASS, MAX_FUNCTION = 500, 300, 80


def _spans(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield node, node.end_lineno - node.lineno + 1


def shape_violations(root: Path = PACKAGE) -> list[str]:
    out = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root.parent)
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_MODULE:
            out.append(f"{rel}: module of {n} lines > {MAX_MODULE}")
        for node, length in _spans(path):
            limit = MAX_CLASS if isinstance(node, ast.ClassDef) else MAX_FUNCTION
            if length > limit:
                out.append(f"{rel}:{node.lineno} {node.name}: {length} lines > {limit}")
    return out


def test_package_respects_size_limits():
    assert shape_violations() == []


def test_the_check_catches_a_long_function(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION))
    (pkg / "m.py").write_text(f"def f():\n{body}\n", encoding="utf-8")
    assert shape_violations(pkg) == [f"pkg/m.py:1 f: {MAX_FUNCTION + 1} lines > {MAX_FUNCTION}"]
