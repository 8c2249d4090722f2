"""Unusual but valid perimeters give a report (issue « Reliability and security », item 4): overseas
communes without contours, Corsica, several régions, all of France, a perimeter that raises the
documented warnings."""
from __future__ import annotations

import warnings

import pytest

from cpts_diag.report import blocks as B

pytestmark = pytest.mark.integration


def _diag(codes, name, **kw):
    from cpts_diag.report import Diagnostic
    from cpts_diag.territory import Territory

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Diagnostic(Territory.from_codes(codes, id="test", name=name), display_outputs=False, **kw)


def _text(blocks) -> str:
    return "\n".join(b.markdown for b in blocks if isinstance(b, (B.Text, B.Note))).replace("\u202f", " ")


def _communes(dep: str) -> list[str]:
    from cpts_diag.loaders import load_communes

    com = load_communes()
    return com.loc[com["dep"] == dep, "code_commune"].tolist()


def test_mayotte_has_no_contours_maps_say_so(snapshot_dir, tmp_path):
    codes = _communes("976")
    assert len(codes) == 17  # the 17 communes of Mayotte (COG 2025)
    d = _diag(codes, "Mayotte", output_dir=tmp_path)
    for sid in ("synthese", "identite", "demographie", "apl", "hopitaux", "carte", "annexe"):
        d.show(sid)  # no exception
    text = _text(d.blocks("apl"))
    assert "non disponible : le jeu de données ne contient pas les contours" in text
    assert "ne publie l'APL aux médecins généralistes pour aucune commune" in text
    assert not list((tmp_path / "figures").glob("carte_apl*.png"))
    assert "Aucune commune ne compte moins de 1 000" not in _text(d.blocks("identite"))  # populations unknown


def test_corsica_and_several_regions(snapshot_dir):
    corse = _diag(_communes("2A") + _communes("2B"), "Corse")
    assert any(isinstance(b, B.Figure) and b.name == "carte_apl_mg" for b in corse.blocks("apl"))
    multi = _diag(["42187", "71014", "03190"], "Trois régions")  # Loire, Saône-et-Loire, Allier
    assert {c for c, _ in multi.ctx.regions} == {"84", "27"}
    table = next(b for b in multi.blocks("synthese") if isinstance(b, B.Table)).df
    assert {"Loire", "Saône-et-Loire", "Allier", "Auvergne-Rhône-Alpes", "Bourgogne-Franche-Comté"} <= set(table.columns)


def test_all_of_france_compares_with_france_only(snapshot_dir):
    from cpts_diag.loaders import load_communes

    d = _diag(load_communes()["code_commune"].tolist(), "France entière")
    assert d.ctx.deps == [] and d.ctx.regions == [] and not d.ctx.has_dep
    text = _text(d.blocks("synthese"))
    assert "Comparaison de la CPTS avec la France métropolitaine" in text
    annex = next(b for b in d.blocks("annexe") if isinstance(b, B.Table))
    assert not annex.in_page and len(annex.df) > 34_000  # in the workbook, not in the page
    assert any(isinstance(b, B.Note) and "au-delà de 1500 communes" in b.markdown for b in d.blocks("carte"))


def test_perimeter_warnings_let_the_report_through_without_paths(snapshot_dir, tmp_path):
    """A merged code, a commune also listed through its EPCI: warned, shown, no machine path."""
    from cpts_diag.report import Diagnostic

    p = tmp_path / "avertie.yaml"
    # 42109 and 42252 merged into Solore-en-Forez (42084) in 2025; 42187 Roanne is in CA Roannais Agglomération
    p.write_text('id: avertie\nname: "CPTS avertie"\nmembers:\n  communes: ["42109", "42187"]\n'
                 '  epcis: ["200035731"]\n', encoding="utf-8")
    d = Diagnostic(str(p), display_outputs=False)
    assert len(d.ctx.perimeter_warnings) >= 2
    notes = [b.markdown for b in d.blocks("synthese") if isinstance(b, B.Note)]
    assert any("42109" in n for n in notes) and any("42187" in n for n in notes)
    assert not any(str(tmp_path) in n or "/" + "tmp/" in n for n in notes)
    assert any("avertie.yaml" in n for n in notes)  # the file is named, without its folder
