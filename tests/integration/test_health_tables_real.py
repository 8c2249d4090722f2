"""The example health table ``docs/exemples/sante_roannais_2024.csv`` loads, and each of its figures
equals the bundle file it was copied from, read back independently here with pandas."""
from __future__ import annotations

import pandas as pd
import pytest

from cpts_diag.health_tables import comparison_counts, comparison_frame, read_health_table
from tests.helpers import REPO

EXAMPLE = REPO / "docs" / "exemples" / "sante_roannais_2024.csv"
VACCINATION = "Couverture vaccinale grippe 65 ans et plus"
SPF_LABEL = "Grippe 65 ans et plus"
MIDWIVES = "Adresses de sages-femmes libérales (BPE D278)"


@pytest.fixture(scope="module")
def table():
    return read_health_table(EXAMPLE)


def test_example_loads(table):
    assert set(table.frame["niveau"]) == {"cpts", "epci", "departement", "region", "france"}
    assert table.years == (2023, 2024)
    assert table.frame["source"].notna().all()


def test_vaccination_rows_equal_the_spf_file(table, snapshot_dir):
    spf = pd.read_csv(snapshot_dir / "sante" / "couverture_vaccinale_spf.csv", dtype=str)
    spf = spf[spf["indicateur"] == SPF_LABEL]
    rows = table.frame[table.frame["indicateur"] == VACCINATION]
    assert len(rows) == 6
    for r in rows.itertuples():
        code = "FR" if r.niveau == "france" else r.code
        ref = spf[(spf["niveau"] == r.niveau) & (spf["code"] == code)
                  & (spf["annee"] == str(r.annee))]
        assert len(ref) == 1, (r.niveau, code, r.annee)
        assert r.valeur == pytest.approx(float(ref["valeur"].iloc[0]), abs=1e-9)
        assert ref["unite"].iloc[0] == r.unite == "%"


def test_midwife_addresses_equal_the_bpe(table, snapshot_dir):
    communes = pd.read_csv(snapshot_dir / "cog" / "communes.csv", dtype=str)
    bpe = pd.read_csv(snapshot_dir / "insee" / "bpe2024_sante.csv", dtype={"code_commune": str})
    bpe = bpe[bpe["typequ"] == "D278"]
    typequ = pd.read_csv(snapshot_dir / "insee" / "bpe2024_typequ.csv", dtype=str).set_index("typequ")
    rows = table.frame[table.frame["indicateur"] == MIDWIVES]
    for r in rows.itertuples():
        if r.niveau == "epci":
            members = communes.loc[communes["epci_siren"] == r.code, "code_commune"]
            expected = bpe.loc[bpe["code_commune"].isin(members), "nb"].sum()
        else:
            col = {"departement": "nb_loire_42", "france": "nb_france"}[r.niveau]
            expected = int(typequ.loc["D278", col])
        assert r.valeur == r.effectif == expected, (r.niveau, r.code)
    # at least one real count below the professionals' threshold of 5, to be masked in the report
    assert (rows["effectif"] < 5).any()


def test_example_comparison(table):
    f = comparison_frame(table, "CPTS du Roannais")
    vacc = f[f["Indicateur"] == VACCINATION].iloc[0]
    assert vacc["Année"] == 2024 and pd.isna(vacc["CPTS du Roannais"])
    assert f.loc[f["Indicateur"] == "Médecins généralistes, périmètre 2019 (SNDS, projet de santé)", "CPTS du Roannais"].item() == 101
    counts = comparison_counts(table, "CPTS du Roannais")
    assert counts.loc[counts["Indicateur"] == MIDWIVES, "Dénombrement"].item() == "professionnels"
