"""environment.yml (conda-forge) and pyproject.toml must list the same dependencies."""
import re
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def _name(spec: str) -> str:
    return re.split(r"[<>=!~ \[]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_matches_pyproject():
    py = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    py_deps = {_name(d) for d in py["dependencies"]} | {_name(d) for d in py["optional-dependencies"]["test"]}
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    conda = {_name(d) for d in env["dependencies"] if isinstance(d, str)} - {"python", "pip"}
    assert conda == py_deps, (
        f"only in environment.yml: {sorted(conda - py_deps)}; only in pyproject: {sorted(py_deps - conda)}")
    assert "conda-forge" in env["channels"]


def test_python_version_floor_agrees():
    py = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    assert py["requires-python"] == ">=3.11"
    assert "python>=3.11" in env["dependencies"]


def test_console_script_declared():
    py = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert py["scripts"]["cpts-diag"] == "cpts_diag.cli:main"


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    m = re.search(r"```(?:bash|sh)?\n(make test)\n```", readme)
    assert m, "README must show the test command in its own code block"
    assert re.search(r"^make test$", ci, re.M)
