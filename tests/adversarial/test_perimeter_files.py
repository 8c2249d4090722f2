"""Hostile and careless perimeter files, through ``cpts-diag indicators`` and ``perimeters``.

Each case: the exit code, a French message naming the field (or file) and the fix, no traceback,
nothing changed outside the run's own files."""
from __future__ import annotations

import pytest

from tests.adversarial.conftest import assert_refused, run_cli

GOOD = """id: {cid}
name: "{name}"
source: "test"
members:
  communes: [{communes}]
  epcis: []
"""


def good(cid="t", name="Test", communes='"42187"'):
    return GOOD.format(cid=cid, name=name, communes=communes)


# (case id, file text, needles of the message)
REFUSED = [
    ("empty-file", "", ["dictionnaire"]),
    ("list-root", "- a\n- b\n", ["dictionnaire"]),
    ("scalar-root", "bonjour\n", ["dictionnaire"]),
    ("bad-yaml", "id: t\nname: [unclosed\n", ["ligne"]),
    ("tab-indent", "id: t\n\tname: x\n", ["ligne"]),
    ("python-tag", "id: !!python/object/apply:os.system ['true']\n", ["t.yaml"]),
    ("alias-bomb", "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                   "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                   "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
                   "g: [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n", ["alias"]),
    ("duplicate-key", "id: t\nid: t\nname: x\nmembers: {communes: ['42187']}\n", ["id"]),
    ("unknown-key", good() + "colour: red\n", ["colour"]),
    ("missing-members", 'id: t\nname: "x"\n', ["members"]),
    ("missing-name", 'id: t\nmembers: {communes: ["42187"]}\n', ["name"]),
    ("id-mismatch", good(cid="autre"), ["autre"]),
    ("communes-not-list", 'id: t\nname: x\nmembers: {communes: "42187"}\n', ["communes"]),
    ("members-empty", 'id: t\nname: x\nmembers: {communes: [], epcis: []}\n', ["commune"]),
    ("unknown-commune", good(communes='"42999"'), ["42999"]),
    ("short-code", good(communes='"4218"'), ["4218"]),
    ("int-code-lost-zero", good(communes="1004"), ["1004"]),
    ("letters-code", good(communes='"ABCDE"'), ["ABCDE"]),
    ("duplicate-commune", good(communes='"42187", "42187"'), ["42187"]),
    ("unknown-epci", 'id: t\nname: x\nmembers: {communes: [], epcis: ["200099999"]}\n', ["200099999"]),
    ("epci-bad-format", 'id: t\nname: x\nmembers: {communes: [], epcis: ["2000"]}\n', ["2000"]),
    ("impossible-date", good() + 'valid_from: "2024-02-30"\n', ["valid_from"]),
    ("month-13", good() + 'valid_from: "2024-13"\n', ["valid_from"]),
    ("date-as-bool", good() + "valid_from: yes\n", ["valid_from"]),
    ("valid-to-before-from", good() + 'valid_from: "2024-06"\nvalid_to: "2020-01"\n', ["valid_to"]),
    ("announced-negative", good() + "announced_population: {value: -5, source: x}\n",
     ["announced_population"]),
    ("announced-text", good() + "announced_population: {value: beaucoup, source: x}\n",
     ["announced_population"]),
    ("announced-bool", good() + "announced_population: {value: true, source: x}\n",
     ["announced_population"]),
    ("announced-float", good() + "announced_population: {value: 12.5, source: x}\n",
     ["announced_population"]),
    ("announced-no-source", good() + "announced_population: {value: 1200}\n", ["source"]),
    ("name-not-string", 'id: t\nname: [a, b]\nmembers: {communes: ["42187"]}\n', ["name"]),
    ("name-too-long", good(name="x" * 5000), ["name"]),
    ("health-tables-not-list", good() + "health_tables: 3\n", ["health_tables"]),
    ("health-tables-empty-path", good() + "health_tables: ['']\n", ["health_tables"]),
    ("binary-file", b"\x00\x01\x02\xff\xfe id: t", ["t.yaml"]),
    ("latin1-file", good(name="Forez").replace("Forez", "Forêt").encode("latin-1"), ["utf-8"]),
]


@pytest.mark.parametrize("case, text, needles", REFUSED, ids=[c[0] for c in REFUSED])
def test_bad_perimeter_is_refused_with_a_french_message(workspace, capsys, case, text, needles):
    workspace.perimeter("t", text)
    code, out, err, changed = run_cli(workspace, ["indicators", "t"], capsys)
    assert_refused(code, out, err, needles)
    assert "erreur" in err
    assert not changed, changed


def test_oversized_perimeter_file_is_refused_before_parsing(workspace, capsys):
    workspace.perimeter("t", good() + "notes: \"" + "x" * 3_000_000 + "\"\n")
    code, out, err, changed = run_cli(workspace, ["indicators", "t"], capsys)
    assert_refused(code, out, err, ["t.yaml"])
    assert not changed


def test_one_bad_file_never_hides_the_good_ones_in_perimeters(workspace, capsys):
    workspace.perimeter("bombe", REFUSED[6][1])
    workspace.perimeter("bon", good(cid="bon", name="Bon périmètre"))
    code, out, err, changed = run_cli(workspace, ["perimeters"], capsys)
    assert code == 0 and "Traceback" not in out + err
    assert "bon" in out and "bombe" in out + err
    assert not changed


# Valid but unusual: accepted, with a French warning where the data contract documents one.
ACCEPTED = [
    ("html-name", good(name="<img src=x onerror=alert(1)>"), "<img"),
    ("formula-name", good(name="=HYPERLINK(\\\"http://x\\\")"), "HYPERLINK"),
    ("dollar-name", good(name="CPTS $x^2$ & co"), "$x^2$"),
    ("merged-code", good(communes='"42002"'), None),
    ("plm-arrondissement", good(communes='"69381"'), None),
    ("commune-and-its-epci", 'id: t\nname: x\nmembers: {communes: ["42187"], epcis: ["244200770"]}\n', None),
    ("windows-line-ends", good().replace("\n", "\r\n"), None),
    ("bom", "\ufeff" + good(), None),
]


@pytest.mark.parametrize("case, text, shown", ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_unusual_but_valid_perimeter_gives_indicators(workspace, capsys, case, text, shown):
    workspace.perimeter("t", text)
    code, out, err, changed = run_cli(workspace, ["indicators", "t", "--json"], capsys)
    assert code == 0, err[-800:]
    assert "Traceback" not in out + err
    if shown:
        assert shown in out  # the name is data: kept as typed in the JSON
    assert not changed
