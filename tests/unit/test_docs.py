"""docs/indicators.md is generated from the registry and must be current."""
import importlib.util
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_indicator_doc_is_current():
    spec = importlib.util.spec_from_file_location("mkdoc", DOCS / "_make_indicators_md.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    text = (DOCS / "indicators.md").read_text(encoding="utf-8")
    assert text == mod.render(), "run: python docs/_make_indicators_md.py"
    for required in ("population_2022", "ageing_index_2022", "apl_mg_2023",
                     "share_pop_apl_mg_lt_2_5_2023", "density_gp_bpe2024", "poverty_rate_2021"):
        assert f"`{required}`" in text
