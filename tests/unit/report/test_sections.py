"""One test per report section, on the fixture territory (tests/unit/report/fixture.py): no data
file, no notebook. Expected values are the fixture's hand-set numbers."""
from __future__ import annotations

import pandas as pd
import pytest

from cpts_diag.report import blocks as B
from cpts_diag.report.sections import SECTIONS, TITLES

from . import fixture


@pytest.fixture(scope="module")
def ctx():
    return fixture.context()


def _text(blocks) -> str:
    text = "\n".join(b.markdown for b in blocks if isinstance(b, (B.Text, B.Note)))
    return text.replace("\u202f", " ")  # narrow no-break spaces of French numbers


def _tables(blocks) -> dict[str, B.Table]:
    return {b.name: b for b in blocks if isinstance(b, B.Table)}


def _figures(blocks) -> dict[str, B.Figure]:
    return {b.name: b for b in blocks if isinstance(b, B.Figure)}


def test_every_section_starts_with_its_heading(ctx):
    for sid, build in SECTIONS.items():
        blocks = build(ctx)
        if sid == "scenario":
            assert blocks == []  # off without a scenario
            continue
        if sid == "carte":  # one HTML block, heading included (not printed in the PDF)
            assert f'<a id="carte"></a>{TITLES[sid][0]}' in blocks[0].html
            continue
        heads = [b for b in blocks if isinstance(b, B.Heading)]
        assert heads, sid
        if sid != "synthese":
            assert heads[0].text == TITLES[sid][0] and heads[0].anchor == TITLES[sid][1]


def test_synthese_orders_points_by_gap_to_france_and_counts_them(ctx):
    blocks = SECTIONS["synthese"](ctx)
    text = _text(blocks)
    points = [line for line in text.splitlines() if line.startswith("- ") and " est " in line]
    assert 5 <= len(points) <= 8
    # 55 % vs 16 % (gap +244 %) stands furthest from France: first
    assert "moins de 2,5 (55,0" in points[0] and "nettement supérieure" in points[0]
    # APL 2,6 vs 3,7 (−30 %): « nettement inférieure »
    apl = next(p for p in points if "(APL) aux médecins généralistes (2,60)" in p)
    assert "nettement inférieure à celle de la France métropolitaine (3,70)" in apl
    assert "[1. Carte d'identité du territoire](#identite)" in text  # table of contents
    assert "chiffres_cles" in _tables(blocks)


def test_identity_names_communes_and_epci(ctx):
    blocks = SECTIONS["identite"](ctx)
    text = _text(blocks)
    assert "**3 communes**" in text and "1 EPCI" in text
    epci = _tables(blocks)["epci"].df
    assert epci.iloc[0]["Communes dans la CPTS"] == 3 and epci.iloc[0]["Communes de l'EPCI"] == 5
    assert "carte_identite_epci" in _figures(blocks)


def test_demography_flags_a_small_commune_quoted_as_an_extreme(ctx):
    text = _text(SECTIONS["demographie"](ctx))
    assert "871,4 (Gamma, 180 habitants : valeur fragile)" in text
    assert "Parmi les communes de 500 habitants ou plus, il va de 80,0 (Alpha) à 120,0 (Bêta)" in text


def test_socio_compares_poverty_on_the_same_basis(ctx):
    blocks = SECTIONS["socio"](ctx)
    text = _text(blocks)
    assert "1 commune sur 3, 55,0 % de la population" in text
    assert "Loire : 13,0 %" in text and "France métropolitaine : 9,0 %" in text  # same basis
    t = _tables(blocks)["socio_economie"].df
    same = t[t["Indicateur"].str.endswith("communes où la donnée est publiée")].iloc[0]
    pub = t[t["Indicateur"].str.endswith("toute la population")].iloc[0]
    assert same["Loire"] == 13.0 and pub["Loire"] == 12.0 and pd.isna(pub["CPTS"])
    assert same["Couverture (CPTS)"].startswith("1 commune sur 3")


def test_supply_names_bpe_counts_places_of_practice(ctx):
    blocks = SECTIONS["offre"](ctx)
    text = _text(blocks)
    assert "lieux d'exercice de médecins généralistes" in text
    assert "lieux d'exercice d'infirmiers" in text
    assert "pas des praticiens" in text


def test_apl_one_convention_in_text_table_legend_and_map(ctx):
    """Communes at 1,9 / exactly 2,5 / exactly 4,0: one per DREES class, everywhere."""
    from cpts_diag.apl_params import APL_GP_CLASS_LABELS

    blocks = SECTIONS["apl"](ctx)
    text = _text(blocks)
    assert "1 commune sur 3 est dans ce cas" in text  # only 1,9 is under 2,5
    classes = _tables(blocks)["apl_classes"].df
    assert list(classes["Classe d'APL"]) == list(APL_GP_CLASS_LABELS)
    assert list(classes["Communes"]) == [1, 1, 1]
    assert list(classes["Population 2022"]) == [1200.0, 800.0, 180.0]
    rec = _figures(blocks)["carte_apl_mg"].record
    assert rec["labels"] == list(APL_GP_CLASS_LABELS) and rec["counts"] == [1, 1, 1]
    assert rec["breaks"] == [2.5, 4.0] and rec["n_missing"] == 0


def test_hospitals_keep_care_establishments_only(ctx):
    blocks = SECTIONS["hopitaux"](ctx)
    assert "**1 établissement de soins**" in _text(blocks)
    assert list(_tables(blocks)["hopitaux"].df["Établissement"]) == ["CENTRE HOSPITALIER ALPHA"]
    assert _figures(blocks)["carte_hopitaux"].record["n_in_territory"] == 1


def test_interactive_map_is_marked_not_printed(ctx):
    blocks = SECTIONS["carte"](ctx)
    html = next(b for b in blocks if isinstance(b, B.Html))
    assert html.css_class == "cpts-interactive" and "<iframe" in html.html
    assert "choisissez l&#x27;indicateur" in html.html  # the help goes away with the map in print


def test_sources_and_conventions(ctx):
    blocks = SECTIONS["sources"](ctx)
    assert "de 2,5 à moins de 4" in _text(blocks)
    assert len(_tables(blocks)["sources"].df) >= 5


def test_annex_marks_small_communes(ctx):
    df = _tables(SECTIONS["annexe"](ctx))["communes"].df
    assert list(df["Moins de 500 hab."]) == ["", "", "oui"]
    assert list(df["APL médecins généralistes 2023"]) == [1.9, 2.5, 4.0]


def test_a_hostile_name_is_escaped_everywhere(tmp_path):
    """A perimeter name with HTML, Markdown and mathtext characters is shown as text."""
    from cpts_diag.report import Renderer

    evil = 'CPTS <img src=x onerror=alert(1)> *gras* $x$'
    ctx = fixture.context(name=evil)
    r = Renderer(tmp_path, display=False)
    shown = r.render(SECTIONS["synthese"](ctx) + SECTIONS["identite"](ctx))
    md = " ".join(str(o.data) for o in shown if isinstance(o.data, str))
    assert "<img" not in md and "&lt;img" in md and r"\*gras\*" in md
    assert (tmp_path / "figures" / "carte_identite_epci.png").stat().st_size > 1000  # $ did not break matplotlib
