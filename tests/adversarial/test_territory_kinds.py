"""Hostile or careless territory selectors on ``cpts-diag report`` (and ``indicators``):
``--epci``, ``--bv``, ``--dep``, ``--all-epci``/``--all-bv``/``--in-dep``, ``--communes``/``--name``.

Each case: exit code 2, a French message naming the selector (and the fix), no traceback, nothing
changed outside the workspace (every case passes --out inside it or is refused before any run)."""
from __future__ import annotations

import pytest

from tests.adversarial.conftest import assert_refused, run_cli

OUT = ["--out", "out"]
# (case id, argv, needles)
CASES = [
    ("epci-short-siren", ["report", "--epci", "123", *OUT], ["epci-123", "Correctif"]),
    ("epci-unknown-siren", ["report", "--epci", "200035732", *OUT], ["epci-200035732", "epci-200035731"]),
    ("epci-path", ["report", "--epci", "../../etc/passwd", *OUT], ["inconnue"]),
    ("epci-no-value", ["report", "--epci", *OUT], ["--epci"]),
    ("bv-name-not-code", ["report", "--bv", "Roanne", *OUT], ["bv-42187", "Roanne"]),
    ("dep-unknown", ["report", "--dep", "99", *OUT], ["dep-99", "Correctif"]),
    ("dep-shell", ["report", "--dep", "2A;rm -rf /", *OUT], ["inconnue"]),
    ("dep-one-bad-among-good", ["report", "--dep", "42", "00", *OUT], ["dep-00"]),
    ("all-epci-national", ["report", "--all-epci", *OUT], ["--in-dep", "rapports"]),
    ("all-bv-national", ["report", "--all-bv", *OUT], ["--in-dep", "rapports"]),
    ("all-bv-unknown-dep", ["report", "--all-bv", "--in-dep", "99", *OUT], ["dep-99"]),
    ("in-dep-alone", ["report", "--in-dep", "42", *OUT], ["--all-epci"]),
    ("communes-no-name", ["report", "--communes", "42187,42184", *OUT], ["--name"]),
    ("communes-blank-name", ["report", "--communes", "42187", "--name", "  ", *OUT], ["--name"]),
    ("communes-empty", ["report", "--communes", ",,", "--name", "X", *OUT], ["aucune commune"]),
    ("communes-unknown-code", ["report", "--communes", "42187,99999", "--name", "X", *OUT], ["99999"]),
    ("communes-postcode", ["report", "--communes", "42000", "--name", "X", *OUT], ["42000", "codes postaux"]),
    ("communes-duplicate", ["report", "--communes", "42187,42187", "--name", "X", *OUT], ["en double"]),
    ("communes-with-ids", ["report", "roannais-2024", "--communes", "42187", "--name", "X", *OUT],
     ["--communes"]),
    ("name-without-communes", ["report", "roannais-2024", "--name", "X", *OUT], ["--communes"]),
    ("indicators-unknown-epci", ["indicators", "epci-000000000"], ["epci-000000000"]),
]


@pytest.mark.parametrize("case, argv, needles", CASES, ids=[c[0] for c in CASES])
def test_bad_territory_selector_is_refused(workspace, capsys, case, argv, needles):
    code, out, err, changed = run_cli(workspace, argv, capsys)
    assert_refused(code, out, err, needles)
    assert not changed, changed
    assert not (workspace.out / "index.html").exists()
