"""Unit tests of :mod:`cpts_diag.health_tables` on tiny CSV texts written in ``tmp_path``.

One test per validation rule: each asserts the French message names the file, the spreadsheet
line (header = line 1) and the column. Expected values of the happy paths are the numbers written
in the CSV texts themselves.
"""
from __future__ import annotations

import math

import pandas as pd
import pytest

from cpts_diag import health_tables as ht
from cpts_diag.errors import CptsDiagError
from cpts_diag.health_tables import (HealthTableError, comparison_counts, comparison_frame,
                                     count_kind, health_tables_for, read_health_table)

HEADER = "indicateur,niveau,code,valeur,effectif,unite,annee,source\n"
GOOD = "Vaccination grippe 65+,departement,42,52.3,,%,2023,SPF\n"


def _write(tmp_path, text, name="sante.csv", encoding="utf-8"):
    p = tmp_path / name
    p.write_text(text, encoding=encoding)
    return p


def _refused(tmp_path, body, *, header=HEADER, name="sante.csv"):
    """The message of the refusal of ``header + body``."""
    with pytest.raises(HealthTableError) as info:
        read_health_table(_write(tmp_path, header + body, name))
    msg = str(info.value)
    assert name in msg and "Correctif" in msg
    return msg


# --- reading ----------------------------------------------------------------------------------

def test_reads_a_valid_table(tmp_path):
    t = read_health_table(_write(tmp_path, HEADER + GOOD + "Médecins,cpts,,12,12,médecins,2024,ARS\n"))
    f = t.frame
    assert list(f.columns) == list(ht.COLUMNS) + ["fichier", "ligne"]
    assert f["valeur"].tolist() == [52.3, 12.0]
    assert math.isnan(f["effectif"].iloc[0]) and f["effectif"].iloc[1] == 12
    assert f["annee"].tolist() == [2023, 2024]
    assert f["ligne"].tolist() == [2, 3]
    assert t.indicators == ("Vaccination grippe 65+", "Médecins")
    assert t.years == (2023, 2024)


def test_semicolon_decimal_comma_and_bom(tmp_path):
    text = ("indicateur;niveau;code;valeur;effectif;unite;annee;source\n"
            "ALD;region;84;18,7;1 234;%;2023;Rézone CPTS\n")
    t = read_health_table(_write(tmp_path, text, encoding="utf-8-sig"))
    assert t.frame["valeur"].iloc[0] == pytest.approx(18.7)
    assert t.frame["effectif"].iloc[0] == 1234
    assert t.frame["code"].iloc[0] == "84"


def test_effectif_column_is_optional_and_headers_are_folded(tmp_path):
    text = "Indicateur,Niveau,Code,Valeur,Unité,Année,Source\nALD,France,,17.5,%,2023,CNAM\n"
    t = read_health_table(_write(tmp_path, text))
    assert t.frame["niveau"].iloc[0] == "france"
    assert math.isnan(t.frame["effectif"].iloc[0])


def test_empty_valeur_stays_nan(tmp_path):
    t = read_health_table(_write(tmp_path, HEADER + "ALD,region,84,,,%,2023,CNAM\n"))
    assert math.isnan(t.frame["valeur"].iloc[0])


def test_blank_line_keeps_spreadsheet_line_numbers(tmp_path):
    msg = _refused(tmp_path, GOOD + "\nALD,commune,42218,3,,%,2023,X\n")
    assert "ligne 4" in msg and "« niveau »" in msg


def test_codes_accepted_per_level(tmp_path):
    body = "".join(f"A,{lv},{code},1,,%,2023,S\n" for lv, code in
                   [("departement", "01"), ("departement", "2A"), ("departement", "971"),
                    ("region", "84"), ("epci", "200035731")])
    assert read_health_table(_write(tmp_path, HEADER + body)).frame["code"].tolist() == [
        "01", "2A", "971", "84", "200035731"]


# --- refusals, one per rule -------------------------------------------------------------------

def test_unknown_column(tmp_path):
    msg = _refused(tmp_path, GOOD.rstrip("\n") + ",x\n", header=HEADER.rstrip("\n") + ",commentaire\n")
    assert "ligne 1" in msg and "« commentaire »" in msg


def test_missing_column(tmp_path):
    msg = _refused(tmp_path, "ALD,region,84,1,,%,2023\n",
                   header="indicateur,niveau,code,valeur,effectif,unite,annee\n")
    assert "ligne 1" in msg and "« source »" in msg


def test_unknown_level(tmp_path):
    msg = _refused(tmp_path, GOOD + "ALD,commune,42218,3,,%,2023,X\n")
    assert "ligne 3" in msg and "« niveau »" in msg and "« commune »" in msg


def test_missing_code_where_required(tmp_path):
    msg = _refused(tmp_path, "ALD,epci,,3,,%,2023,X\n")
    assert "ligne 2" in msg and "« code »" in msg and "cellule vide" in msg


@pytest.mark.parametrize("level,code", [("departement", "4"), ("departement", "420"),
                                        ("region", "842"), ("epci", "20003573")])
def test_code_of_wrong_form(tmp_path, level, code):
    msg = _refused(tmp_path, GOOD + f"ALD,{level},{code},3,,%,2023,X\n")
    assert "ligne 3" in msg and "« code »" in msg and f"« {code} »" in msg


def test_non_numeric_value(tmp_path):
    msg = _refused(tmp_path, GOOD + "ALD,region,84,secret,,%,2023,X\n")
    assert "ligne 3" in msg and "« valeur »" in msg and "« secret »" in msg


@pytest.mark.parametrize("value", ["100.5", "-1"])
def test_rate_outside_0_100(tmp_path, value):
    msg = _refused(tmp_path, f"ALD,region,84,{value},,%,2023,X\n")
    assert "ligne 2" in msg and "« valeur »" in msg


def test_rate_bound_does_not_apply_to_other_units(tmp_path):
    t = read_health_table(_write(tmp_path, HEADER + "Décès,region,84,812.4,,pour 100 000,2023,X\n"))
    assert t.frame["valeur"].iloc[0] == pytest.approx(812.4)


def test_negative_count(tmp_path):
    msg = _refused(tmp_path, GOOD + "ALD,region,84,3,-2,%,2023,X\n")
    assert "ligne 3" in msg and "« effectif »" in msg and "négatif" in msg


def test_non_integer_count(tmp_path):
    msg = _refused(tmp_path, "ALD,region,84,3,\"2,5\",%,2023,X\n")
    assert "ligne 2" in msg and "« effectif »" in msg and "entier" in msg


@pytest.mark.parametrize("year", ["1989", "2101", "2023.5", "vingt"])
def test_bad_year(tmp_path, year):
    msg = _refused(tmp_path, GOOD + f"ALD,region,84,3,,%,{year},X\n")
    assert "ligne 3" in msg and "« annee »" in msg


def test_duplicate_rows(tmp_path):
    msg = _refused(tmp_path, GOOD + "ALD,region,84,3,,%,2023,X\n" + GOOD.replace("52.3", "50"))
    assert "ligne 2" in msg and "ligne 4" in msg and "indicateur « Vaccination grippe 65+ »" in msg


def test_duplicate_cpts_rows_ignore_code(tmp_path):
    msg = _refused(tmp_path, "MG,cpts,a,3,,médecins,2023,X\nMG,cpts,b,4,,médecins,2023,X\n")
    assert "ligne 2" in msg and "ligne 3" in msg and "niveau « cpts »" in msg


def test_missing_source(tmp_path):
    msg = _refused(tmp_path, GOOD + "ALD,region,84,3,,%,2023,\n")
    assert "ligne 3" in msg and "« source »" in msg


def test_two_units_for_one_indicator(tmp_path):
    msg = _refused(tmp_path, GOOD + "Vaccination grippe 65+,region,84,3,,nombre,2023,X\n")
    assert "ligne 2" in msg and "ligne 3" in msg and "« unite »" in msg


def test_empty_file(tmp_path):
    with pytest.raises(HealthTableError, match="sante.csv.*vide"):
        read_health_table(_write(tmp_path, ""))


def test_header_without_rows(tmp_path):
    with pytest.raises(HealthTableError, match="sante.csv.*aucune ligne de données"):
        read_health_table(_write(tmp_path, HEADER))


def test_missing_file(tmp_path):
    with pytest.raises(HealthTableError, match="absent.csv.*introuvable"):
        read_health_table(tmp_path / "absent.csv")


def test_oversized_file_refused_before_parsing(tmp_path, monkeypatch):
    p = _write(tmp_path, HEADER + GOOD * 3)
    monkeypatch.setattr(ht, "MAX_BYTES", len(HEADER) + len(GOOD))

    def _no_parse(*_a, **_k):
        raise AssertionError("the file was parsed")
    monkeypatch.setattr(ht, "read_table", _no_parse)
    with pytest.raises(HealthTableError, match="sante.csv.*Mo.*Correctif"):
        read_health_table(p)


def test_errors_are_cpts_diag_errors():
    assert issubclass(HealthTableError, CptsDiagError)


# --- several files --------------------------------------------------------------------------

def test_two_files_with_the_same_figure(tmp_path):
    a = _write(tmp_path, HEADER + "ALD,region,84,3,,%,2023,X\n" + GOOD, "a.csv")
    b = _write(tmp_path, HEADER + GOOD.replace("52.3", "51"), "b.csv")
    with pytest.raises(HealthTableError) as info:
        health_tables_for([a, b])
    msg = str(info.value)
    assert "a.csv ligne 3" in msg and "b.csv ligne 2" in msg and "« Vaccination grippe 65+ »" in msg


def test_several_files_and_none(tmp_path):
    a = _write(tmp_path, HEADER + GOOD, "a.csv")
    b = _write(tmp_path, HEADER + "ALD,region,84,3,,%,2023,X\n", "b.csv")
    assert [t.path.name for t in health_tables_for([a, b])] == ["a.csv", "b.csv"]
    assert health_tables_for(None) == [] and health_tables_for([]) == []
    assert len(health_tables_for(str(a))) == 1


# --- comparison frame ------------------------------------------------------------------------

COMPARE = (HEADER
           + "MG,cpts,,12,12,médecins,2024,Projet de santé\n"
           + "MG,epci,244200820,2,2,médecins,2024,RPPS\n"
           + "MG,france,,99000,99000,médecins,2024,RPPS\n"
           + "Grippe,departement,42,52.3,,%,2023,SPF\n"
           + "Grippe,departement,42,51.9,,%,2024,SPF\n"
           + "Grippe,region,84,53.3,,%,2023,SPF\n"
           + "Grippe,france,,54.0,,%,2023,SPF 2023\n")


def test_comparison_frame_latest_year(tmp_path):
    t = read_health_table(_write(tmp_path, COMPARE))
    f = comparison_frame(t, "CPTS du Roannais", epci_names={"244200820": "CC du Pays d'Urfé"})
    assert list(f.columns) == ["Indicateur", "Unité", "Année", "CPTS du Roannais",
                               "CC du Pays d'Urfé", "Département 42", "France", "Source"]
    mg, grippe = f.iloc[0], f.iloc[1]
    assert (mg["Indicateur"], mg["Unité"], mg["Année"]) == ("MG", "médecins", 2024)
    assert (mg["CPTS du Roannais"], mg["CC du Pays d'Urfé"], mg["France"]) == (12, 2, 99000)
    assert math.isnan(mg["Département 42"])
    assert mg["Source"] == "Projet de santé ; RPPS"
    # 2024 is the latest year of « Grippe »: only the département has a 2024 figure, so the
    # 2023-only « Région 84 » gets no column and France (always shown) is empty
    assert grippe["Année"] == 2024 and grippe["Département 42"] == pytest.approx(51.9)
    assert math.isnan(grippe["France"]) and math.isnan(grippe["CPTS du Roannais"])


def test_comparison_frame_given_year_and_default_labels(tmp_path):
    t = read_health_table(_write(tmp_path, COMPARE))
    f = comparison_frame(t, "", year=2023)
    assert f["Indicateur"].tolist() == ["Grippe"]
    assert list(f.columns)[3:-1] == ["CPTS", "Département 42", "Région 84", "France"]
    assert f[["Département 42", "Région 84", "France"]].iloc[0].tolist() == [52.3, 53.3, 54.0]
    with pytest.raises(CptsDiagError, match="2019"):
        comparison_frame(t, "", year=2019)


def test_comparison_counts(tmp_path):
    t = read_health_table(_write(tmp_path, COMPARE))
    c = comparison_counts(t, "X")
    assert c["Dénombrement"].tolist() == ["professionnels", "patients"]
    assert c.loc[0, "244200820"] == 2 and math.isnan(c.loc[1, "Département 42"])


def test_count_kind():
    assert count_kind("médecins") == "professionnels"
    assert count_kind("adresses") == "professionnels"
    assert count_kind("Sages-femmes") == "professionnels"
    assert count_kind("chirurgiens-dentistes") == "professionnels"
    assert count_kind("patients sans médecin traitant") == "patients"
    assert count_kind("%") == "patients" and count_kind("patients") == "patients"
    assert set(ht.COUNT_KINDS) == {"patients", "professionnels"}


def test_comparison_frame_of_several_tables(tmp_path):
    a = _write(tmp_path, HEADER + "MG,cpts,,12,12,médecins,2024,A\n", "a.csv")
    b = _write(tmp_path, HEADER + "MG,france,,99000,,médecins,2024,B\n", "b.csv")
    f = comparison_frame(health_tables_for([a, b]), "CPTS")
    assert f.loc[0, ["CPTS", "France"]].tolist() == [12, 99000] and f.loc[0, "Source"] == "A ; B"
    assert isinstance(f, pd.DataFrame)
