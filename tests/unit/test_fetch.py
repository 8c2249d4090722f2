"""Downloads from official publishers, on a local HTTP server serving the official-format fixtures.

No test here reaches the Internet: every URL points at 127.0.0.1 or a file:// path.
"""
from __future__ import annotations

import dataclasses
import functools
import gzip
import shutil
import threading
import time
from collections import Counter
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from cpts_diag import fetch, importers, store
from cpts_diag.errors import CptsDiagError, DataIntegrityError, DataNotInstalledError, OfflineError
from cpts_diag.snapshot import read_sums, sha256_file
from cpts_diag.sources import SOURCES

OFF = Path(__file__).resolve().parents[1] / "fixtures" / "official"
# official source id -> fixture file served in its place
SERVED = {
    "insee_cog_communes_2025": "v_commune_2025.csv",
    "insee_cog_departements_2025": "v_departement_2025.csv",
    "insee_cog_regions_2025": "v_region_2025.csv",
    "insee_epci_2025": "Intercommunalite_Metropole_au_01-01-2025.zip",
    "insee_rp2022_evol_struct_pop": "base-cc-evol-struct-pop-2022_csv.zip",
    "drees_apl_medecins_generalistes": "apl_medecins_generalistes.xlsx",
    "drees_apl_infirmieres": "apl_infirmieres.xlsx",
    "etalab_communes_100m_2025": "communes-100m.geojson",
    "etalab_communes_50m_2025": "communes-50m.geojson.gz",
}


@pytest.fixture
def server(tmp_path):
    """HTTP server on 127.0.0.1 serving the fixtures; ``hits`` counts GET requests per path."""
    root = tmp_path / "www"
    shutil.copytree(OFF, root)
    (root / "communes-50m.geojson.gz").write_bytes(gzip.compress((OFF / "communes-100m.geojson").read_bytes()))
    hits: Counter = Counter()

    class Handler(SimpleHTTPRequestHandler):
        def do_GET(self):
            hits[self.path] += 1
            super().do_GET()

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", hits
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    """An empty data root holding only the passage table (as after a partial snapshot install)."""
    root = tmp_path / "root"
    (root / "cog").mkdir(parents=True)
    shutil.copy(OFF / "passage_communes_extract.csv", root / "cog" / "passage_communes.csv")
    monkeypatch.setenv("CPTS_DIAG_DATA", str(root))
    monkeypatch.setenv("CPTS_DIAG_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("CPTS_DIAG_PARTIAL_DATA", "1")  # a few communes: coverage checks only warn
    store.clear_memory()
    yield root
    store.clear_memory()


def local_registry(base: str, ids=SERVED) -> dict[str, fetch.OfficialSource]:
    return {i: dataclasses.replace(fetch.REGISTRY[i], url=f"{base}/{SERVED[i]}") for i in ids}


def test_registry_is_consistent():
    assert len(fetch.REGISTRY) >= 12
    for s in fetch.REGISTRY.values():
        assert s.verified_url is False, s.id  # nothing could be checked from the build machine
        assert s.url.startswith("https://") and s.page.startswith("https://"), s.id
        assert s.importer is None or callable(getattr(importers, s.importer)), s.id
        assert all(o in SOURCES and o in fetch.BUILDERS for o in s.outputs), s.id
        assert all(d in fetch.REGISTRY for _, d in s.needs), s.id
        if s.outputs:  # the snapshot file it rebuilds exists for its vintage
            for o in s.outputs:
                SOURCES[o].file_for(s.vintage)
    assert {s.id for s in fetch.REGISTRY.values() if s.importer is None} == {"insee_bpe_2025",
                                                                               "finess_etablissements"}


def test_download_is_cached_and_force_downloads_again(server, data_root):
    base, hits = server
    src = local_registry(base)["insee_rp2022_evol_struct_pop"]
    first = fetch.download(src, progress=False)
    assert first.read_bytes() == (OFF / "base-cc-evol-struct-pop-2022_csv.zip").read_bytes()
    assert first.is_relative_to(data_root.parent / "cache" / "downloads")
    assert fetch.download(src, progress=False) == first
    assert hits["/base-cc-evol-struct-pop-2022_csv.zip"] == 1  # the second call used the cache
    fetch.download(src, force=True, progress=False)
    assert hits["/base-cc-evol-struct-pop-2022_csv.zip"] == 2


def test_known_hash_is_checked(server, data_root):
    base, _ = server
    src = local_registry(base)["drees_apl_infirmieres"]
    good = dataclasses.replace(src, sha256=sha256_file(OFF / "apl_infirmieres.xlsx"))
    assert fetch.download(good, progress=False).exists()
    bad = dataclasses.replace(src, id="apl_bad_hash", sha256="0" * 64)
    with pytest.raises(DataIntegrityError, match=r"Empreinte SHA-256 différente.*« apl_bad_hash ».*"
                                                 r"attendue 0{64}, obtenue [0-9a-f]{64}") as err:
        fetch.download(bad, progress=False)
    assert "mettez à jour le sha256 attendu dans cpts_diag/fetch_registry.py" in str(err.value)
    assert not (data_root.parent / "cache" / "downloads" / "apl_bad_hash" / bad.filename).exists()


def test_offline_fails_at_once_and_names_the_install_command(data_root):
    reg = {"insee_rp2022_evol_struct_pop": dataclasses.replace(
        fetch.REGISTRY["insee_rp2022_evol_struct_pop"], url="http://127.0.0.1:9/base-cc.zip")}
    t0 = time.monotonic()
    with pytest.raises(OfflineError, match="cpts-diag data install --from ../shared/opendata"):
        fetch.fetch_all(registry=reg, progress=False)
    assert time.monotonic() - t0 < 5
    with pytest.raises(OfflineError, match="cpts-diag data install"):  # without the probe too
        fetch.download(reg["insee_rp2022_evol_struct_pop"], progress=False, timeout=3)
    assert not (data_root / "insee").exists()


def test_file_url_mirror(data_root):
    src = dataclasses.replace(fetch.REGISTRY["insee_cog_regions_2025"],
                              url=(OFF / "v_region_2025.csv").as_uri())
    assert fetch.download(src, progress=False).read_text(encoding="utf-8").startswith("REG,CHEFLIEU")


def test_fetch_end_to_end_then_loaders_read_it(server, data_root):
    from cpts_diag import loaders

    base, hits = server
    reg = local_registry(base)
    written = fetch.fetch_all(registry=reg, progress=False)
    rels = {p.relative_to(data_root).as_posix() for p in written}
    assert rels == {"cog/communes.csv", "insee/population_age_rp2022_dep42_43.csv",
                    "insee/population_communes_rp2022.csv", "drees/apl_medecins_generalistes_2022_2023.xlsx",
                    "drees/apl_infirmieres_2022_2023.xlsx", "drees/apl_communes.csv",
                    "geo/communes_metro.geojson", "geo/communes_8dep.geojson"}
    sums = read_sums(data_root / "SHA256SUMS")
    assert all(sums[r] == sha256_file(data_root / r) for r in rels)
    copied = data_root / "drees/apl_infirmieres_2022_2023.xlsx"  # the original workbook, as downloaded
    assert copied.read_bytes() == (OFF / "apl_infirmieres.xlsx").read_bytes()

    com = loaders.load_communes().set_index("code_commune")
    assert len(com) == 8 and com.loc["42187", "epci_siren"] == "200035731"
    assert com.loc["2A004", "nom_dep"] == "Corse-du-Sud"
    age = loaders.load_population_age_insee().set_index("code_commune")
    assert age.index.tolist() == ["42084", "42187", "42217", "42218", "43157"]
    assert age.loc["42187", "P22_POP"] == pytest.approx(35364.0) and age.loc["42187", "LIBGEO"] == "Roanne"
    pop = loaders.load_population().set_index("code_commune")
    assert pop.loc["42218", "pop_2016"] == 171924 and pop["pop_65p"].isna().all()
    apl = loaders.load_apl()
    assert len(apl) == 60 and set(apl["source"]) == {"drees_xlsx_mg", "drees_xlsx_inf"}
    inf = loaders.load_apl_workbook("infirmier", 2023).set_index("code_commune")
    assert inf.loc["42187", "apl"] == pytest.approx(152.782)
    merged = loaders.load_apl_workbook("medecin_generaliste", 2023, harmonise=True).set_index("code_commune")
    assert merged.loc["42084", "pop_tot"] == 159 + 107 + 251
    assert loaders.load_commune_polygons(detail="8dep")["code_commune"].tolist() == ["42084", "42187", "42218",
                                                                                     "43157"]
    metro = loaders.load_commune_polygons(detail="metro").set_index("code_commune")
    assert metro.loc["42187", "surface_km2"] == pytest.approx(16.071, abs=0.002)

    # a second run downloads nothing and works offline-safe from the cache
    before = sum(hits.values())
    fetch.fetch_all(only=["population"], registry=reg, progress=False)
    assert sum(hits.values()) == before


def test_only_selection_and_errors(server, data_root, capsys):
    base, hits = server
    reg = {**local_registry(base), "insee_bpe_2025": fetch.REGISTRY["insee_bpe_2025"]}
    with pytest.raises(CptsDiagError, match="--only : source inconnue « nope ».*Correctif.*"
                                            "insee_rp2022_evol_struct_pop"):
        fetch.fetch_all(only=["nope"], registry=reg, progress=False)
    assert fetch.fetch_all(only=["insee_bpe_2025"], registry=reg, progress=False) == []
    assert "pas d'importeur" in capsys.readouterr().err
    # a snapshot source id selects every download it is built from
    assert [s.id for s in fetch._select(["apl_long"], fetch.REGISTRY)] == [
        "drees_apl_medecins_generalistes", "drees_apl_infirmieres", "drees_apl_kinesitherapeutes",
        "drees_apl_sages_femmes", "drees_apl_chirurgiens_dentistes"]
    (data_root / "cog" / "passage_communes.csv").unlink()
    with pytest.raises(DataNotInstalledError, match="passage_communes.csv"):
        fetch.fetch_all(only=["apl_long"], registry=reg, progress=False)
    assert sum(hits.values()) == 0  # refused before any download


def test_refuses_to_overwrite_the_reference_snapshot(monkeypatch, tmp_path):
    ref = tmp_path / "shared" / "opendata"
    ref.mkdir(parents=True)
    monkeypatch.setattr(fetch, "default_snapshot_dir", lambda: ref)
    monkeypatch.setenv("CPTS_DIAG_DATA", str(ref))
    with pytest.raises(CptsDiagError, match="instantané de référence .*l'écraserait"):
        fetch.fetch_all(progress=False)
    # a misspelt --only is named first, even on the reference snapshot
    with pytest.raises(CptsDiagError, match="source inconnue « inconnue »"):
        fetch.fetch_all(only=["inconnue"], progress=False)


def test_every_registry_url_is_documented_as_unverified():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "data_sources.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(" `"): line for line in doc.splitlines() if line.startswith("| `")}
    assert set(rows) == set(fetch.REGISTRY)
    for s in fetch.REGISTRY.values():
        assert s.url in rows[s.id] and rows[s.id].rstrip().endswith("| non |"), s.id
