"""Data integrity beyond hashes, on tiny hand-made snapshots: safe `data install`, `data status`
without (or with a bad) SHA256SUMS, schemas and coverage on first load, a cache keyed to the
source's SHA-256 and checked on read."""
import hashlib
import json
import os

import pandas as pd
import pytest

from cpts_diag import loaders, store
from cpts_diag.cli import main
from cpts_diag.config import data_roots
from cpts_diag.errors import DataIntegrityError
from cpts_diag.schemas import PARTIAL_ENV, Schema, check_frame, code, commune, num
from cpts_diag.snapshot import install_snapshot
from cpts_diag.sources import SOURCES

HEADER = "code_commune,nom,dep,nom_dep,reg,nom_reg,epci_siren,epci_nom,epci_nature\n"
ROWS = ["42187,Roanne,42,Loire,84,Auvergne-Rhône-Alpes,200035731,CA Roannais Agglomération,CA\n",
        "42218,Saint-Étienne,42,Loire,84,Auvergne-Rhône-Alpes,244200770,Saint-Étienne Métropole,ME\n",
        "01001,L'Abergement-Clémenciat,01,Ain,84,Auvergne-Rhône-Alpes,200069193,CC de la Dombes,CC\n",
        "2A004,Ajaccio,2A,Corse-du-Sud,94,Corse,242010056,CA du Pays Ajaccien,CA\n"]
COMMUNES = HEADER + "".join(ROWS)


pytestmark = pytest.mark.adversarial  # hostile inputs (see tests/adversarial)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_files(root, files: dict[str, str], sums: dict[str, str] | None = None):
    """Write ``files`` under ``root`` and a SHA256SUMS listing them (or ``sums`` lines as given)."""
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    lines = sums if sums is not None else {rel: sha(t.encode()) for rel, t in files.items()}
    (root / "SHA256SUMS").write_text("".join(f"{h}  {rel}\n" for rel, h in lines.items()))


def everything_written(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) if root.exists() else []


@pytest.fixture
def partial(monkeypatch):
    monkeypatch.setenv(PARTIAL_ENV, "1")


@pytest.fixture
def strict(monkeypatch):
    monkeypatch.delenv(PARTIAL_ENV, raising=False)


# --- data install: no path outside the snapshot or the data roots -------------------------------

@pytest.mark.parametrize("rel", ["../evil.csv", "cog/../../evil.csv", "/evil.csv", "..\\evil.csv",
                                 "C:/evil.csv", "~/evil.csv", "cog/./x.csv", "cog//x.csv"])
def test_install_refuses_paths_leaving_the_snapshot(tmp_path, isolated_data, rel):
    src = tmp_path / "snap"
    (tmp_path / "evil.csv").write_text("x", encoding="utf-8")
    write_files(src, {"cog/communes.csv": COMMUNES},
                {"cog/communes.csv": sha(COMMUNES.encode()), rel: sha(b"x")})
    with pytest.raises(DataIntegrityError, match=r"ligne 2 : chemin « .* » refusé.*Correctif"):
        install_snapshot(src, progress=False)
    assert everything_written(isolated_data) == []  # nothing, not even the valid line
    assert (tmp_path / "evil.csv").read_text() == "x"
    assert main(["data", "install", "--from", str(src)]) == 2  # CLI: message, no traceback


def test_install_refuses_a_symlink_pointing_outside_the_snapshot(tmp_path, isolated_data):
    secret = tmp_path / "secret.txt"
    secret.write_text("secret", encoding="utf-8")
    src = tmp_path / "snap"
    write_files(src, {"cog/communes.csv": COMMUNES},
                {"cog/communes.csv": sha(COMMUNES.encode()), "insee/lien.csv": sha(b"secret")})
    (src / "insee").mkdir()
    (src / "insee" / "lien.csv").symlink_to(secret)
    with pytest.raises(DataIntegrityError, match=r"rien n'a été écrit : ligne 2 : insee/lien\.csv est "
                                                 r"un lien symbolique qui pointe hors du jeu"):
        install_snapshot(src, progress=False)
    assert everything_written(isolated_data) == []


def test_install_accepts_a_symlink_inside_the_snapshot(tmp_path, isolated_data):
    src = tmp_path / "snap"
    write_files(src, {"cog/vrai.csv": COMMUNES},
                {"cog/vrai.csv": sha(COMMUNES.encode()), "cog/communes.csv": sha(COMMUNES.encode())})
    (src / "cog" / "communes.csv").symlink_to(src / "cog" / "vrai.csv")
    install_snapshot(src, progress=False)
    assert (isolated_data / "cog" / "communes.csv").read_text(encoding="utf-8") == COMMUNES


def test_install_refuses_a_destination_resolving_outside_the_data_root(tmp_path, isolated_data):
    elsewhere = tmp_path / "ailleurs"
    elsewhere.mkdir()
    (isolated_data / "cog").symlink_to(elsewhere, target_is_directory=True)
    src = tmp_path / "snap"
    write_files(src, {"cog/communes.csv": COMMUNES})
    with pytest.raises(DataIntegrityError, match=r"ligne 1 : cog/communes\.csv serait écrit dans .*ailleurs, "
                                                 r"hors du dossier de données"):
        install_snapshot(src, progress=False)
    assert list(elsewhere.iterdir()) == []
    assert everything_written(isolated_data) == ["cog"]  # only the link the test made


def test_install_refuses_malformed_sums_line(tmp_path, isolated_data):
    src = tmp_path / "snap"
    write_files(src, {"cog/communes.csv": COMMUNES}, {"cog/communes.csv": "z" * 64})
    with pytest.raises(DataIntegrityError, match=r"SHA256SUMS, ligne 1 : ligne mal formée .*Correctif : restaurez"):
        install_snapshot(src, progress=False)
    assert everything_written(isolated_data) == []


# --- data status ------------------------------------------------------------------------------

def _every_source_file(root) -> dict[str, str]:
    files = {}
    for s in SOURCES.values():
        for rel in s.files.values():
            files[rel if s.kind == "tabular" else "geo/" + rel.split("/")[-1]] = f"contenu de {rel}\n"
    return files


def test_status_fails_without_or_with_a_bad_sha256sums(isolated_data, capsys):
    files = _every_source_file(isolated_data)
    write_files(isolated_data, files)
    assert main(["data", "status"]) == 0
    assert "présentes et intègres" in capsys.readouterr().out

    (isolated_data / "SHA256SUMS").unlink()
    for argv in (["data", "status"], ["data", "status", "--no-hash"]):
        assert main(argv) == 1
        out, err = capsys.readouterr()
        assert "intègres" not in out
        assert "intégrité non vérifiable : SHA256SUMS absent" in err
        assert "correctif : réinstallez le jeu avec cpts-diag data install --from ../shared/opendata" in err

    (isolated_data / "SHA256SUMS").write_text("pas une empreinte  cog/communes.csv\n")
    assert main(["data", "status"]) == 1
    assert "SHA256SUMS mal formé" in capsys.readouterr().err

    (isolated_data / "SHA256SUMS").write_text(f"{sha(b'x')}  ../../etc/passwd\n")
    assert main(["data", "status"]) == 1
    assert "chemin « ../../etc/passwd » refusé" in capsys.readouterr().err


def test_status_fails_when_a_file_is_not_listed(isolated_data, capsys):
    files = _every_source_file(isolated_data)
    sums = {rel: sha(t.encode()) for rel, t in files.items() if rel != "insee/population_communes_rp2022.csv"}
    write_files(isolated_data, files, sums)
    assert main(["data", "status"]) == 1
    out, err = capsys.readouterr()
    assert "insee/population_communes_rp2022.csv" in out and "!! non listé" in out
    assert "non listé(s) dans SHA256SUMS" in err


# --- schemas and coverage, on first load --------------------------------------------------------

def test_truncated_communes_with_matching_sums_is_refused(isolated_data, strict):
    write_files(isolated_data, {"cog/communes.csv": COMMUNES})  # 4 rows; SHA256SUMS matches
    with pytest.raises(DataIntegrityError) as err:
        loaders.load_communes()
    msg = str(err.value)
    assert "cog/communes.csv" in msg and "cog_communes" in msg
    assert "4 lignes au lieu de 34" in msg
    assert "département(s) absent(s) : 02, 03," in msg and "(93 sur 96)" in msg  # 01, 2A, 42 present
    assert "cpts-diag data install --from ../shared/opendata" in msg
    assert not (data_roots().cache / "cog_communes-2025.parquet").exists()  # nothing cached


def _departements(codes):
    return pd.DataFrame({"code": pd.array(codes, dtype="string"), "nom": [f"dép. {c}" for c in codes]})


# the 96 metropolitan départements, written out by hand
METRO = ([f"0{i}" for i in range(1, 10)] + [str(i) for i in range(10, 20)] + ["2A", "2B"]
         + [str(i) for i in range(21, 96)])


def test_departement_table_half_rows_is_refused(strict):
    assert len(METRO) == 96
    check_frame(_departements(METRO), "geo_departements", "departements.geojson")  # complete: passes
    half = METRO[:48]
    with pytest.raises(DataIntegrityError, match=r"departements\.geojson.*48 lignes au lieu de 96 "
                                                 r".*département\(s\) absent\(s\) : 48, 49, 50"):
        check_frame(_departements(half), "geo_departements", "departements.geojson")


def test_partial_mode_warns_on_coverage_but_keeps_schema_errors(partial):
    with pytest.warns(UserWarning, match="jeu partiel accepté.*48 lignes"):
        check_frame(_departements(METRO[:48]), "geo_departements", "d.geojson")
    with pytest.raises(DataIntegrityError, match="colonne code : 1 code\\(s\\) mal formé\\(s\\).*« 420 »"):
        check_frame(_departements(["42", "420"]), "geo_departements", "d.geojson")


SCHEMA = Schema((commune(), code("dep", r"^\d{2}$"), *num("pop")), rows=(3, 3), unique=("code_commune",))


@pytest.mark.parametrize("frame, needle", [
    (pd.DataFrame({"code_commune": ["42187", "42218", "1001"], "dep": ["42", "42", "01"], "pop": [1, 2, 3]}),
     "colonne code_commune : 1 code\\(s\\) mal formé\\(s\\) \\(attendu : 5 caractères.*« 1001 »"),
    (pd.DataFrame({"code_commune": [42187, 42218, 1001], "dep": ["42", "42", "01"], "pop": [1, 2, 3]}),
     "colonne code_commune : codes lus comme des nombres"),
    (pd.DataFrame({"code_commune": ["42187", "42218", "01001"], "dep": ["42", "42", "01"],
                   "pop": [1, "douze", 3]}),
     "colonne pop : valeurs non numériques \\(p. ex. « douze », ligne 3\\)"),
    (pd.DataFrame({"code_commune": ["42187", "42187", "01001"], "dep": ["42", "42", "01"], "pop": [1, 2, 3]}),
     "1 ligne\\(s\\) en double sur \\(code_commune\\), p. ex. 42187"),
    (pd.DataFrame({"code_commune": ["42187", None, "01001"], "dep": ["42", "42", "01"], "pop": [1, 2, 3]}),
     "colonne code_commune : 1 cellule\\(s\\) vide\\(s\\) \\(ligne 3\\)"),
    (pd.DataFrame({"code_commune": ["42187", "01001"], "dep": ["42", "01"], "pop": [1, 2]}),
     "2 lignes au lieu de 3"),
    (pd.DataFrame({"code_commune": ["42187"], "pop": [1]}), "colonne\\(s\\) absente\\(s\\) : dep"),
])
def test_schema_problems_are_named(frame, needle, strict):
    with pytest.raises(DataIntegrityError, match="f.csv \\(source « test »\\).*" + needle):
        check_frame(frame, "test", "f.csv", schema=SCHEMA)


def test_every_source_has_a_schema():
    from cpts_diag.schemas import SCHEMAS

    assert set(SCHEMAS) == set(SOURCES)
    assert SCHEMAS["cog_communes"].rows[0] <= 34_875 <= SCHEMAS["cog_communes"].rows[1]
    assert SCHEMAS["population"].rows[0] <= 34_739 <= SCHEMAS["population"].rows[1]
    assert SCHEMAS["apl_long"].rows[0] <= 661_167 <= SCHEMAS["apl_long"].rows[1]


# --- the parquet cache: keyed to the source's SHA-256, checked on read --------------------------

def test_cache_json_holds_both_hashes(isolated_data, partial):
    write_files(isolated_data, {"cog/communes.csv": COMMUNES})
    loaders.load_communes()
    cache = data_roots().cache
    meta = json.loads((cache / "cog_communes-2025.json").read_text())
    assert meta["source_sha256"] == sha(COMMUNES.encode())
    assert meta["parquet_sha256"] == sha((cache / "cog_communes-2025.parquet").read_bytes())


def test_tampered_parquet_is_detected_and_rebuilt(isolated_data, partial):
    write_files(isolated_data, {"cog/communes.csv": COMMUNES})
    assert loaders.load_communes().loc[0, "nom"] == "Roanne"
    pq = data_roots().cache / "cog_communes-2025.parquet"
    forged = pd.read_parquet(pq)
    forged.loc[0, "nom"] = "Falsifiée"
    forged.to_parquet(pq, index=False)  # a valid parquet, with another content
    store.clear_memory()
    with pytest.warns(UserWarning, match="cog_communes-2025.parquet modifié après son écriture"):
        df = loaders.load_communes()
    assert df.loc[0, "nom"] == "Roanne"  # rebuilt from the source file
    meta = json.loads((pq.with_suffix(".json")).read_text())
    assert meta["parquet_sha256"] == sha(pq.read_bytes())  # the rebuilt cache is trusted again
    store.clear_memory()
    pq.write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="modifié après son écriture"):
        assert loaders.load_communes().loc[1, "code_commune"] == "42218"


def test_cache_follows_the_source_sha256_not_only_size_and_mtime(isolated_data, partial):
    write_files(isolated_data, {"cog/communes.csv": COMMUNES})
    f = isolated_data / "cog/communes.csv"
    assert loaders.load_communes().loc[0, "nom"] == "Roanne"
    st = f.stat()
    changed = COMMUNES.replace("Roanne,", "Roanni,")  # same size
    write_files(isolated_data, {"cog/communes.csv": changed})
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size, same mtime: only the hash differs
    assert f.stat().st_size == st.st_size and f.stat().st_mtime_ns == st.st_mtime_ns
    store.clear_memory()
    assert loaders.load_communes().loc[0, "nom"] == "Roanni"


def test_unlisted_file_warns_that_integrity_is_not_verifiable(isolated_data, partial):
    write_files(isolated_data, {"cog/communes.csv": COMMUNES}, sums={})
    with pytest.warns(UserWarning, match="non vérifiable.*pas listé dans SHA256SUMS"):
        loaders.load_communes()
