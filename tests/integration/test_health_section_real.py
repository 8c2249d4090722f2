"""Section 4 « État de santé » of the Roannais 2024 report on the real bundle: values read back
from the files (pandas, independently of the library) and the example health table masked."""
from __future__ import annotations

import pandas as pd
import pytest

from cpts_diag.report import Diagnostic
from cpts_diag.report import blocks as B
from tests.helpers import REPO

pytestmark = pytest.mark.integration
EXAMPLE = REPO / "docs" / "exemples" / "sante_roannais_2024.csv"


@pytest.fixture(scope="module")
def blocks():
    return Diagnostic("roannais-2024", display_outputs=False,
                      health_tables=[str(EXAMPLE)]).blocks("sante")


def _text(blocks) -> str:
    return "\n".join(b.markdown for b in blocks if isinstance(b, (B.Text, B.Note))).replace("\u202f", " ")


def test_vaccination_and_mortality_read_back_from_the_files(blocks, snapshot_dir):
    vacc = pd.read_csv(snapshot_dir / "sante" / "couverture_vaccinale_spf.csv", dtype={"code": str})
    flu = vacc[(vacc["code"] == "42") & (vacc["niveau"] == "departement")
               & (vacc["indicateur"].str.contains("65 ans et plus")) & vacc["indicateur"].str.contains("rippe")]
    last = flu[flu["annee"] == flu["annee"].max()]["valeur"].item()
    text = _text(blocks)
    assert (f"**{last:.1f} %** des personnes de 65 ans ou plus étaient vaccinées contre la grippe "
            "dans le département (Loire)").replace(".", ",") in text
    mort = pd.read_csv(snapshot_dir / "sante" / "mortalite_standardisee_departement.csv",
                       dtype={"departement": str})
    loire = mort[(mort["departement"] == "42") & (mort["annee"] == 2023) & (mort["cause"] == "Toutes causes")
                 & (mort["sexe"] == "Tous sexes")]["valeur"].item()
    assert loire == 911.6 and "Loire : **911,6**" in text


def test_ald_estimate_of_the_roannais(blocks, snapshot_dir):
    carto = pd.read_csv(snapshot_dir / "sante" / "cartosante_bassins_de_vie_2024.csv", dtype={"code_bv2022": str})
    assert carto.loc[carto["code_bv2022"] == "42187", "part_ald_2024"].item() == 19.8  # Roanne BV
    text = _text(blocks)
    assert "**19,8 %** de la population en ALD en 2024" in text
    table = {b.name: b for b in blocks if isinstance(b, B.Table)}["sante_bassins_de_vie"].df
    assert table["Part de la population de la CPTS (%)"].sum() == pytest.approx(100.0)


def test_example_table_masks_small_professional_counts(blocks):
    t = {b.name: b for b in blocks if isinstance(b, B.Table)}["sante_indicateurs_cpts"]
    row = t.df[t.df["Indicateur"].str.startswith("Adresses de sages-femmes")].iloc[0]
    assert row["CA Roannais Agglomération"] == 15.0  # shown: 15 ≥ 5
    assert row["CC Charlieu-Belmont"] == "<\u202f5"  # 4 addresses (BPE D278)
    assert row["Département 42"] == 95.0
    assert any("entre 1 et 4" in n for n in t.notes)


def test_perimeter_yaml_names_its_health_table(tmp_path):
    (tmp_path / "sante.csv").write_text(EXAMPLE.read_text(encoding="utf-8-sig"), encoding="utf-8")
    (tmp_path / "mon-roannais.yaml").write_text(
        'id: mon-roannais\nname: "Roannais (test)"\nmembers: {communes: ["42187", "42184"]}\n'
        'health_tables: ["sante.csv"]\n', encoding="utf-8")
    d = Diagnostic(str(tmp_path / "mon-roannais.yaml"), display_outputs=False)
    assert d.ctx.health_tables == [str((tmp_path / "sante.csv").resolve())]
    names = [b.name for b in d.blocks("sante") if isinstance(b, B.Table)]
    assert "sante_indicateurs_cpts" in names
