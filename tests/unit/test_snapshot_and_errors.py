"""Snapshot installation, status, and the error paths of the loaders (on a tiny fake snapshot)."""
import hashlib
import os

import pytest

from cpts_diag import loaders, store
from cpts_diag.cli import main
from cpts_diag.config import data_roots
from cpts_diag.errors import (DataIntegrityError, DataNotInstalledError, VintageError,
                               WorkbookFormatError)
from cpts_diag.snapshot import install_snapshot, status

COMMUNES = ("code_commune,nom,dep,nom_dep,reg,nom_reg,epci_siren,epci_nom,epci_nature,bv2022,"
            "lib_bv2022,ze2020,aav2020,uu2020,arr,can\n"
            "42187,Roanne,42,Loire,84,Auvergne-Rhône-Alpes,200035731,CA Roannais Agglomération,CA,"
            "42187,Roanne,8404,092,42701,421,4218\n")


def write_snapshot(root, files: dict[str, str]):
    lines = []
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
        lines.append(f"{hashlib.sha256(text.encode()).hexdigest()}  {rel}")
    (root / "SHA256SUMS").write_text("\n".join(lines) + "\n")


def test_not_installed_names_the_fix(isolated_data):
    with pytest.raises(DataNotInstalledError, match="cpts-diag data install --from"):
        loaders.load_communes()


def test_unknown_vintage_lists_available(isolated_data):
    with pytest.raises(VintageError, match=r"2019.*disponibles : 2025"):
        loaders.load_communes(cog=2019)
    with pytest.raises(VintageError, match="2016, 2018, 2022, 2023"):
        loaders.load_apl(year=2020)


def test_corrupt_file_fails_hash_check(isolated_data):
    write_snapshot(isolated_data, {"cog/communes.csv": COMMUNES})
    (isolated_data / "cog/communes.csv").write_text(COMMUNES.replace("Roanne", "Roane"))
    with pytest.raises(DataIntegrityError, match="SHA-256.*cpts-diag data install"):
        loaders.load_communes()


def test_unparseable_file_named(isolated_data):
    write_snapshot(isolated_data, {"drees/apl_medecins_generalistes_2022_2023.xlsx": "not excel"})
    with pytest.raises(WorkbookFormatError, match=r"apl_medecins_generalistes_2022_2023\.xlsx n'est pas un "
                                                  r"classeur Excel lisible.*Correctif"):
        loaders.load_apl_workbook()


def test_cache_is_used_and_invalidated(isolated_data, monkeypatch):
    monkeypatch.setenv("CPTS_DIAG_PARTIAL_DATA", "1")  # one commune: the coverage check only warns
    write_snapshot(isolated_data, {"cog/communes.csv": COMMUNES})
    df = loaders.load_communes()
    assert df.loc[0, "code_commune"] == "42187" and df.loc[0, "ze2020"] == "8404"
    assert df.attrs["source"]["vintage"] == 2025 and df.attrs["source"]["publisher"] == "Insee"
    assert (data_roots().cache / "cog_communes-2025.parquet").exists()
    store.clear_memory()
    again = loaders.load_communes()  # from parquet
    assert again.equals(df)
    # the source file changes (and its sums with it): the cache is rebuilt, not reused
    write_snapshot(isolated_data, {"cog/communes.csv": COMMUNES.replace("Roanne,42", "Roanne-X,42")})
    os.utime(isolated_data / "cog/communes.csv", ns=(1, 1))
    store.clear_memory()
    assert loaders.load_communes().loc[0, "nom"] == "Roanne-X"


def test_install_verifies_then_copies(tmp_path, isolated_data):
    src = tmp_path / "snap"
    write_snapshot(src, {"cog/communes.csv": COMMUNES, "geo/x.geojson": "{}"})
    installed = install_snapshot(src, progress=False)
    roots = data_roots()
    assert (roots.tabular / "cog/communes.csv").read_text() == COMMUNES
    assert (roots.geo / "x.geojson").exists()
    assert len(installed) == 2
    assert not list(roots.tabular.rglob("*.tmp-*"))


def test_install_refuses_corrupt_snapshot_and_writes_nothing(tmp_path, isolated_data):
    src = tmp_path / "snap"
    write_snapshot(src, {"cog/communes.csv": COMMUNES})
    (src / "cog/communes.csv").write_text("tampered")
    with pytest.raises(DataIntegrityError, match="empreinte SHA-256 différente : cog/communes.csv. Rien n'a été installé"):
        install_snapshot(src, progress=False)
    assert not (data_roots().tabular / "cog").exists()


def test_install_missing_folder(tmp_path, isolated_data):
    with pytest.raises(DataNotInstalledError, match="--from"):
        install_snapshot(tmp_path / "nowhere", progress=False)


def test_status_and_cli_exit_codes(tmp_path, isolated_data, capsys):
    rows = {r.source: r for r in status()}
    assert rows["cog_communes"].hash_state == "absent" and not rows["cog_communes"].ok
    assert main(["data", "status"]) == 1
    write_snapshot(isolated_data, {"cog/communes.csv": COMMUNES})
    rows = {r.source: r for r in status()}
    assert rows["cog_communes"].hash_state == "ok"
    (isolated_data / "cog/communes.csv").write_text("x")
    assert {r.source: r for r in status()}["cog_communes"].hash_state == "altéré"
    # unknown vintage through the CLI: exit 2 with the message, no traceback
    assert main(["data", "install", "--from", str(tmp_path / "nowhere")]) == 2
    assert "--from" in capsys.readouterr().err


def test_python_api_arguments_are_refused_in_french():
    from cpts_diag.errors import ArgumentError

    assert issubclass(ArgumentError, ValueError)  # callers catching ValueError still do
    with pytest.raises(ArgumentError, match=r"detail = 'x' : valeur inconnue\. Correctif : donnez "
                                            r"detail='8dep' ou detail='metro'"):
        loaders.load_commune_polygons(detail="x")
    with pytest.raises(ArgumentError, match=r"profession = 'dentiste' : profession inconnue\. "
                                            r"Correctif : donnez l'une de : medecin_generaliste"):
        loaders.load_apl(profession="dentiste")
    with pytest.raises(VintageError, match=r"profession = 'dentiste' : pas de classeur original"):
        loaders.load_apl_workbook("dentiste")
