"""Data integrity on the real snapshot: every source passes its schema and coverage; a truncated
copy of the real population file with a regenerated SHA256SUMS is refused; `data status` on a
copy without SHA256SUMS fails; one bad perimeter file does not hide the others."""
import hashlib
import warnings

import pytest

from cpts_diag import loaders, store
from cpts_diag.cli import main
from cpts_diag.errors import DataIntegrityError
from cpts_diag.fmt import fmt_number
from cpts_diag.sources import SOURCES

POP = "insee/population_communes_rp2022.csv"


@pytest.fixture
def tmp_snapshot(isolated_data, monkeypatch):
    """An empty data root and cache (tests/conftest.py), strict mode (no partial data)."""
    monkeypatch.delenv("CPTS_DIAG_PARTIAL_DATA", raising=False)
    return isolated_data


def test_truncated_population_with_regenerated_sums_is_refused(snapshot_dir, tmp_snapshot):
    lines = (snapshot_dir / POP).read_text(encoding="utf-8").splitlines(keepends=True)
    n_rows = len(lines) - 1
    assert n_rows == 34_739  # data contract §3.6
    kept = lines[: 1 + n_rows // 2]  # header + half the rows
    data = "".join(kept).encode("utf-8")
    (tmp_snapshot / "insee").mkdir()
    (tmp_snapshot / POP).write_bytes(data)
    (tmp_snapshot / "SHA256SUMS").write_text(f"{hashlib.sha256(data).hexdigest()}  {POP}\n")
    with pytest.raises(DataIntegrityError) as err:
        loaders.load_population()
    msg = str(err.value)
    assert POP in msg and "« population »" in msg
    assert f"{fmt_number(n_rows // 2)} lignes au lieu de" in msg
    assert "département(s) absent(s)" in msg and "total de pop_2022" in msg
    assert "cpts-diag data install --from ../shared/opendata" in msg


def test_status_without_sha256sums_fails(snapshot_dir, tmp_snapshot, capsys):
    for s in SOURCES.values():  # the real files, linked, but no SHA256SUMS
        for rel in set(s.files.values()):
            dst = tmp_snapshot / (rel if s.kind == "tabular" else "geo/" + rel.split("/")[-1])
            dst.parent.mkdir(parents=True, exist_ok=True)
            if not dst.exists():
                dst.symlink_to(snapshot_dir / rel)
    assert main(["data", "status", "--no-hash"]) == 1
    out, err = capsys.readouterr()
    assert "intègres" not in out and "intégrité non vérifiable : SHA256SUMS absent" in err
    (tmp_snapshot / "SHA256SUMS").symlink_to(snapshot_dir / "SHA256SUMS")
    assert main(["data", "status"]) == 0
    assert "présentes et intègres" in capsys.readouterr().out


def test_every_real_source_passes_its_schema(tmp_path, monkeypatch):
    monkeypatch.setenv("CPTS_DIAG_CACHE", str(tmp_path / "cache"))  # cold: every check runs
    monkeypatch.delenv("CPTS_DIAG_PARTIAL_DATA", raising=False)
    store.clear_memory()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "non vérifiable", no partial-data warning
        assert len(loaders.load_communes()) == 34_875
        assert len(loaders.load_passage()) == 39_161
        assert len(loaders.load_population()) == 34_739
        assert len(loaders.load_socio()) == 34_739
        assert len(loaders.load_territory_aggregates()) == 110
        assert len(loaders.load_bpe_health()) == 76_506
        assert len(loaders.load_population_age_insee()) == 577
        assert len(loaders.load_hospitals()) == 5_368
        assert len(loaders.load_cpts_sources()) == 76
        assert len(loaders.load_apl()) == 661_167
        assert len(loaders.load_apl_workbook("infirmier", 2023)) > 34_000
        assert len(loaders.load_commune_polygons(detail="8dep")) == 3_033
        assert len(loaders.load_departement_polygons()) == 96
    store.clear_memory()


BOMB = ('a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
        + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n"
                  for i in range(9)))


def test_one_bad_perimeter_file_never_stops_the_others(tmp_path, monkeypatch):
    from cpts_diag.territory import known_cpts, perimeters_report

    (tmp_path / "bombe.yaml").write_text(BOMB, encoding="utf-8")
    (tmp_path / "gros.yaml").write_text("id: gros\nnotes: '" + "x" * 1_100_000 + "'\n", encoding="utf-8")
    (tmp_path / "etiquette.yaml").write_text(
        "id: etiquette\nname: !!python/object/apply:os.getcwd []\nmembers: {communes: ['42187']}\n",
        encoding="utf-8")
    (tmp_path / "ma-cpts.yaml").write_text(
        'id: ma-cpts\nname: Ma CPTS\nmembers:\n  communes: ["42187", "42218"]\n', encoding="utf-8")
    monkeypatch.setenv("CPTS_DIAG_PERIMETERS", str(tmp_path))
    assert {"bombe", "gros", "etiquette", "ma-cpts", "ondaine-forez"} <= set(known_cpts())
    rep = perimeters_report()
    rows = {line.split()[0]: line for line in rep.splitlines() if line and not line.startswith(("-", " "))}
    assert "ma-cpts" in rows and " 2 " in rows["ma-cpts"] and "ondaine-forez" in rows
    assert "fichier ignoré (bombe.yaml)" in rep and "« bombe » d'alias" in rep
    assert "fichier ignoré (gros.yaml)" in rep and "trop volumineux" in rep
    assert "fichier ignoré (etiquette.yaml)" in rep and "étiquette YAML non autorisée" in rep
