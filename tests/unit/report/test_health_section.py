"""Section 4 « État de santé de la population » on the fixture territory with tiny hand-made
health frames (no data file): the texts, the estimate rule and the small-number protection are
checked against values computed by hand in the comments."""
from __future__ import annotations

import pandas as pd
import pytest

from cpts_diag.report import blocks as B
from cpts_diag.report.sections import SECTIONS
from cpts_diag.report.sections.health_user import protect

from . import fixture

G65 = "Grippe 65 ans et plus"


def _vacc(annee, niveau, code, libelle, valeur):
    return {"annee": annee, "niveau": niveau, "code": code, "libelle": libelle, "indicateur": G65,
            "valeur": valeur, "unite": "%"}


def _inputs():
    vacc = pd.DataFrame([_vacc(2019, "departement", "42", "Loire", 47.0),
                         _vacc(2024, "departement", "42", "Loire", 51.9),
                         _vacc(2024, "region", "84", "Auvergne et Rhône-Alpes", 53.1),
                         _vacc(2024, "france", "FR", "France", 53.7)])
    unit = "décès pour 100 000 habitants (taux standardisé)"
    mort = pd.DataFrame({"annee": [2022, 2023, 2023], "departement": ["42", "42", "42"],
                         "sexe": ["Tous sexes"] * 3, "cause": ["Toutes causes", "Toutes causes", "2. Tumeurs"],
                         "valeur": [971.2, 911.6, 250.6], "unite": [unit] * 3})
    crude = pd.DataFrame({"niveau": ["epci", "departement"], "code": ["200000001", "42"],
                          "libelle": ["CC Fixture", "Loire"], "periode": ["2013-2018"] * 2,
                          "taux_mortalite_pour_1000": [10.7, 9.8]})
    # BV 99001 holds Alpha and Bêta (2 000 inhabitants, all in the CPTS); BV 99003 holds Gamma
    # (180) and the outside commune 99004 (20 000)
    communes = pd.DataFrame({"code_commune": ["99001", "99002", "99003", "99004"],
                             "bv2022": ["99001", "99001", "99003", "99003"],
                             "lib_bv2022": ["Alpha", "Alpha", "Gamma", "Gamma"],
                             "epci_siren": ["200000001"] * 4, "epci_nom": ["CC Fixture"] * 4})
    pop = pd.DataFrame({"code_commune": ["99001", "99002", "99003", "99004"],
                        "pop_2022": [1200.0, 800.0, 180.0, 20000.0]})
    carto = pd.DataFrame({"code_bv2022": ["99001", "99003"], "libelle_bv": ["Alpha", "Gamma"],
                          "part_ald_2024": [18.0, 24.0], "densite_mg_lib_2024": [9.0, 6.0],
                          "cellules_secret_statistique": [float("nan"), float("nan")]})
    stats = pd.DataFrame({"code_bv2022": ["99001", "99003"], "libelle_bv": ["Alpha", "Gamma"],
                          "deces_domicilies_2024": [20, 230]})
    return {"vaccination": vacc, "mortality": mort, "crude": crude, "cartosante": carto,
            "bv_stats": stats, "communes": communes, "population": pop}


def _text(blocks) -> str:
    return "\n".join(b.markdown for b in blocks if isinstance(b, (B.Text, B.Note))).replace("\u202f", " ")


def test_health_section_says_the_geography_and_estimates_by_hand():
    blocks = SECTIONS["sante"](fixture.context(health_inputs=_inputs()))
    assert isinstance(blocks[0], B.Heading) and blocks[0].text == "4. État de santé de la population"
    text = _text(blocks)
    # 51,9 % in 2024; 51,9 - 47,0 = +4,9 points over 5 years
    assert ("**51,9 %** des personnes de 65 ans ou plus étaient vaccinées contre la grippe dans le "
            "département (Loire), soit +4,9 points en 5 ans") in text
    assert "soit +4,9 points en 5 ans" in text and "France : 53,7 %" in text
    assert "Loire : **911,6**" in text and "ni la région ni la France" in text
    # ALD: (2 000 × 18 + 180 × 24) / 2 180 = 18,495… → 18,5 %; 2 000 / 2 180 = 91,7 % of the CPTS
    # lives in a bassin de vie mostly inside it (≥ 80 %: estimate given)
    assert "**18,5 %** de la population en ALD" in text
    assert "91,7 % de la population de la CPTS vit dans un bassin de vie majoritairement inclus" in text
    tables = {b.name: b for b in blocks if isinstance(b, B.Table)}
    bv = tables["sante_bassins_de_vie"].df.set_index("Bassin de vie")
    assert bv.loc["Alpha", "Part de la population de la CPTS (%)"] == pytest.approx(100 * 2000 / 2180)
    assert bv.loc["Gamma", "Part du bassin de vie dans la CPTS (%)"] == pytest.approx(100 * 180 / 20180)
    assert "Ce que les données ouvertes ne disent pas" in text and "médecin traitant" in text


def test_no_estimate_when_the_bassins_de_vie_lie_mostly_outside():
    inputs = _inputs()
    # Alpha and Bêta now in a bassin de vie of 100 000 inhabitants mostly outside the CPTS
    inputs["communes"].loc[inputs["communes"]["code_commune"] == "99004", "bv2022"] = "99001"
    inputs["population"].loc[inputs["population"]["code_commune"] == "99004", "pop_2022"] = 100000.0
    text = _text(SECTIONS["sante"](fixture.context(health_inputs=inputs)))
    assert "Pas d'estimation de la part en ALD" in text and "de la population en ALD en 2024" not in text


def test_missing_health_files_are_said_not_hidden():
    blocks = SECTIONS["sante"](fixture.context(health_inputs={}))
    assert "ne sont pas installés" in _text(blocks) and "n.d." in _text(blocks)


def test_user_tables_mask_small_counts_rates_and_the_revealing_part():
    vals = pd.DataFrame({"Indicateur": ["Patients sans médecin traitant", "Part sans médecin traitant"],
                         "Unité": ["patients", "%"], "Année": [2024, 2024],
                         "CPTS": [30.0, 12.5], "EPCI A": [27.0, 11.0], "EPCI B": [3.0, 40.0],
                         "France": [6_000_000.0, 11.0], "Source": ["CPAM", "CPAM"]})
    counts = vals.copy()
    counts.loc[1, ["CPTS", "EPCI A", "EPCI B", "France"]] = [30.0, 27.0, 3.0, 6_000_000.0]
    counts["Dénombrement"] = ["patients", "patients"]
    shown, notes = protect(vals, counts, "CPTS", ["EPCI A", "EPCI B"])
    assert shown.loc[0, "EPCI B"] == "<\u202f10"  # 3 patients
    assert shown.loc[0, "EPCI A"] == "masqué"  # 30 − 27 would give back the 3
    assert shown.loc[0, "CPTS"] == 30.0 and shown.loc[0, "France"] == 6_000_000.0
    assert shown.loc[1, "EPCI B"] == "masqué"  # a rate on 3 patients
    assert shown.loc[1, "EPCI A"] == 11.0  # a rate on 27 patients stays
    assert vals.loc[0, "EPCI B"] == 3.0  # the input is not changed
    assert any("entre 1 et 9" in n for n in notes) and any("Secret secondaire" in n for n in notes)


def test_user_tables_render_with_the_example_format(tmp_path):
    csv = tmp_path / "sante.csv"
    csv.write_text("indicateur,niveau,code,valeur,effectif,unite,annee,source\n"
                   "Patients sans médecin traitant,cpts,,4,4,patients,2024,CPAM de la Loire\n"
                   "Patients sans médecin traitant,departement,42,52000,52000,patients,2024,CPAM de la Loire\n",
                   encoding="utf-8")
    ctx = fixture.context(health_inputs={})
    ctx.health_tables = [str(csv)]
    blocks = SECTIONS["sante"](ctx)
    table = {b.name: b for b in blocks if isinstance(b, B.Table)}["sante_indicateurs_cpts"]
    row = table.df.iloc[0]
    assert row["CPTS Fixture"] == "<\u202f10" and row["Département 42"] == 52000.0
    assert "CPAM de la Loire" in table.source


def test_user_figures_reach_the_points_saillants_unless_masked(tmp_path):
    csv = tmp_path / "sante.csv"
    csv.write_text("indicateur,niveau,code,valeur,effectif,unite,annee,source\n"
                   "Part des patients sans médecin traitant,cpts,,12.5,300,%,2024,CPAM\n"
                   "Part des patients sans médecin traitant,france,,11.0,,%,2024,CPAM\n"
                   "Part des 17 ans ou plus en ALD diabète,cpts,,8.0,4,%,2024,CPAM\n"
                   "Part des 17 ans ou plus en ALD diabète,france,,6.0,,%,2024,CPAM\n",
                   encoding="utf-8")
    ctx = fixture.context(health_inputs={})
    ctx.health_tables = [str(csv)]
    text = _text(SECTIONS["synthese"](ctx))
    # 12,5 / 11,0 − 1 = +13,6 %: between 5 % and 15 % → « supérieure »
    assert ("Part des patients sans médecin traitant (2024, indicateur fourni par la CPTS) : 12,5 %, "
            "valeur supérieure à celle de la France (11,0 %).") in text
    assert "diabète" not in text  # a rate on 4 patients is masked, so it is not quoted
