"""Hostile and careless use of the Python API, of the data roots and of the caches.

Python API: the right exception type with a French message naming the argument and the fix.
Data roots: the CLI exits 2 with a French message; nothing outside the run's files changes."""
from __future__ import annotations

import math

import pytest

from tests.adversarial.conftest import assert_refused, run_cli

API_REFUSED = [
    ("codes-none", dict(codes=None), ["commune"]),
    ("codes-empty", dict(codes=[]), ["commune"]),
    ("codes-short", dict(codes=["4218"]), ["4218"]),
    ("codes-float", dict(codes=[42187.0]), ["42187"]),
    ("codes-bool", dict(codes=[True]), ["True"]),
    ("codes-unknown", dict(codes=["42999"]), ["42999"]),
    ("codes-int-lost-zero", dict(codes=[1004]), ["1004"]),
    ("codes-nested", dict(codes=[["42187"]]), ["42187"]),
    ("id-path", dict(codes=["42187"], id="../evil"), ["../evil"]),
    ("id-empty", dict(codes=["42187"], id=""), ["id"]),
    ("date-impossible", dict(codes=["42187"], valid_from="2023-02-29"), ["2023-02-29"]),
    ("date-text", dict(codes=["42187"], valid_from="hier"), ["hier"]),
    ("epci-unknown", dict(codes=[], epcis=["200099999"]), ["200099999"]),
    ("name-too-long", dict(codes=["42187"], name="n" * 1000), ["name"]),
]


@pytest.mark.parametrize("case, kwargs, needles", API_REFUSED, ids=[c[0] for c in API_REFUSED])
def test_from_codes_refuses_bad_arguments(case, kwargs, needles):
    from cpts_diag.errors import TerritoryError
    from cpts_diag.territory import Territory

    codes = kwargs.pop("codes")
    with pytest.raises(TerritoryError) as exc:
        Territory.from_codes(codes, **kwargs)
    msg = str(exc.value)
    for n in needles:
        assert n.lower() in msg.lower(), msg


@pytest.mark.parametrize("cid", ["../data/cpts/roannais-2024", "", "ROANNAIS-2024", "roannais 2024",
                                 "/etc/passwd", "nul\x00"])
def test_load_refuses_ids_that_are_not_perimeters(cid):
    from cpts_diag.errors import TerritoryError
    from cpts_diag.territory import Territory

    with pytest.raises(TerritoryError, match="inconnue|invalide"):
        Territory.load(cid)


def test_single_string_code_is_one_commune_not_five_characters():
    from cpts_diag.territory import Territory

    t = Territory.from_codes("42187", name="Roanne seule")
    assert list(t.communes) == ["42187"]


def test_mayotte_alone_gives_missing_values_not_zeros():
    """Mayotte (976) has no population by age, APL or BPE rows in the bundle: its figures are
    missing (NaN in the catalogue, « n.d. » when rendered), never 0."""
    from cpts_diag.catalogue import catalogue
    from cpts_diag.territory import Territory

    cat = catalogue(Territory.from_codes(["97611"], name="Mamoudzou"))
    values = {r["id"]: r["values"]["territory"] for r in cat["indicators"]}
    assert values, "no indicator at all"
    assert not any(v == 0 for v in values.values() if isinstance(v, (int, float))), values
    missing = [k for k, v in values.items() if v is None or (isinstance(v, float) and math.isnan(v))]
    assert "population_2022" in missing and "ageing_index_2022" in missing and "apl_mg_2023" in missing
    assert values["count_gp_bpe2024"] >= 1  # the BPE does cover Mayotte


# --- data roots and caches, through the CLI ----------------------------------------------------

def test_data_root_that_does_not_exist(workspace, capsys, monkeypatch):
    monkeypatch.setenv("CPTS_DIAG_DATA", str(workspace.root / "absent"))
    code, out, err, changed = run_cli(workspace, ["indicators", "roannais-2024"], capsys)
    assert_refused(code, out, err, ["data install"])
    assert not changed


def test_data_root_that_is_a_file(workspace, capsys, monkeypatch):
    f = workspace.file("donnees.txt", "pas un dossier")
    monkeypatch.setenv("CPTS_DIAG_DATA", str(f))
    code, out, err, changed = run_cli(workspace, ["indicators", "roannais-2024"], capsys)
    assert_refused(code, out, err, ["donnees.txt"])
    assert not changed


def test_empty_data_root_status_fails(workspace, capsys, monkeypatch):
    (workspace.root / "vide").mkdir()
    monkeypatch.setenv("CPTS_DIAG_DATA", str(workspace.root / "vide"))
    code, out, err, changed = run_cli(workspace, ["data", "status", "--no-hash"], capsys)
    assert_refused(code, out, err, ["SHA256SUMS"], expect_code=1)
    assert not changed


def test_cache_root_that_is_a_file(workspace, capsys, monkeypatch):
    f = workspace.file("cache.txt", "pas un dossier")
    monkeypatch.setenv("CPTS_DIAG_CACHE", str(f))
    from cpts_diag import store

    store.clear_memory()
    code, out, err, changed = run_cli(workspace, ["indicators", "roannais-2019"], capsys)
    assert "Traceback" not in out + err
    # either refused with a message naming the cache, or done without the cache: never a crash
    assert code == 0 or "cache" in err.lower(), err
    assert not changed


def test_perimeter_folder_that_is_a_file(workspace, capsys, monkeypatch):
    f = workspace.file("per.txt", "pas un dossier")
    monkeypatch.setenv("CPTS_DIAG_PERIMETERS", str(f))
    code, out, err, changed = run_cli(workspace, ["perimeters"], capsys)
    assert code == 0 and "Traceback" not in out + err
    assert "roannais-2024" in out  # the repository's perimeters are still listed
    assert not changed


def test_commune_without_data_is_counted_in_the_cli_and_the_json(workspace, capsys):
    """69114 Porte des Pierres Dorées is absent from the RP 2022 file (data contract §3.8): the
    CPTS total leaves it out, and both outputs say so (it used to vanish from the CLI)."""
    import json

    workspace.perimeter("trou", 'id: trou\nname: "Trou"\nmembers: {communes: ["69114", "42187"]}\n')
    code, out, err, changed = run_cli(workspace, ["indicators", "trou"], capsys)
    assert code == 0 and not changed
    assert "Population municipale 2022 — * CPTS : couverture : 1 commune sur 2" in out
    code, out, err, _ = run_cli(workspace, ["indicators", "trou", "--json"], capsys)
    row = next(r for r in json.loads(out)["indicators"] if r["id"] == "population_2022")
    assert row["coverage"]["territory"]["communes_missing"] == 1
    assert row["values"]["territory"] == 35_365  # Roanne alone: 42187,35365.0 in the RP 2022 file
