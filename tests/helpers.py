"""Small helpers shared by the conftests (importable as ``tests.helpers``)."""
from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def set_env(values: dict) -> dict:
    """Set environment variables (None: unset); returns the previous values, for restoring."""
    import os

    old = {k: os.environ.get(k) for k in values}
    for k, v in values.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    return old


def od_pairs(tt) -> dict[tuple[str, str], float]:
    """``{(origin, destination): minutes}`` of a :class:`~cpts_diag.apl_inputs.TravelTimes`
    (asserting one row per pair)."""
    f = tt.to_frame()
    assert not f.duplicated(["origin", "destination"]).any()
    return {(str(o), str(d)): float(m) for o, d, m in f.itertuples(index=False)}


def write_text(tmp_path: Path, text: str, name: str = "od.csv") -> Path:
    """Write ``text`` to ``tmp_path / name`` (UTF-8) and return the path."""
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p
