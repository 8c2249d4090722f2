"""COG harmonisation on a hand-made passage table (closed-form answers)."""
import warnings

import numpy as np
import pandas as pd
import pytest

from cpts_diag.cog import harmonise_to_cog2025
from cpts_diag.errors import HarmonisationError

# A and B merged into A in 2019; C unchanged; D's territory was split in 2024 between D and E.
PASSAGE = pd.DataFrame({
    "code_commune_source": ["42001", "42002", "42003", "42004", "42005"],
    "code_commune_cog2025": ["42001", "42001", "42003", "42004", "42005"],
    "scission_communes_cog2025": [None, None, None, "42004;42005", None],
    "scission_date": [None, None, None, "2024-01-01", None],
})


def frame(**cols):
    base = {"code_commune": ["42001", "42002", "42003"], "pop": [100.0, 300.0, 50.0],
            "rate": [10.0, 20.0, 5.0]}
    base.update(cols)
    return pd.DataFrame(base)


def test_counts_summed_and_rates_weighted():
    out, rep = harmonise_to_cog2025(frame(), PASSAGE, counts=["pop"], rates={"rate": "pop"})
    out = out.set_index("code_commune")
    assert list(out.index) == ["42001", "42003"]
    assert out.loc["42001", "pop"] == 400.0
    # (10*100 + 20*300) / 400 = 17.5
    assert out.loc["42001", "rate"] == pytest.approx(17.5)
    assert out.loc["42003", "rate"] == 5.0
    assert rep.recoded == {"42002": "42001"}
    assert rep.merged_into == {"42001": ["42001", "42002"]}
    assert rep.n_rows_in == 3 and rep.n_rows_out == 2
    # nothing lost: totals are preserved
    assert out["pop"].sum() == frame()["pop"].sum()


def test_missing_part_makes_result_missing_not_zero():
    out, _ = harmonise_to_cog2025(frame(rate=[10.0, np.nan, 5.0], pop=[100.0, np.nan, 50.0]),
                                  PASSAGE, counts=["pop"], rates={"rate": "pop"})
    out = out.set_index("code_commune")
    assert np.isnan(out.loc["42001", "pop"])  # partial sum would be an undercount
    assert out.loc["42003", "pop"] == 50.0


def test_secret_rate_with_positive_weight_stays_missing():
    out, _ = harmonise_to_cog2025(frame(rate=[10.0, np.nan, 5.0]), PASSAGE,
                                  counts=["pop"], rates={"rate": "pop"})
    assert np.isnan(out.set_index("code_commune").loc["42001", "rate"])


def test_unknown_code_raises_or_is_reported():
    df = frame(code_commune=["42001", "42999", "42003"])
    with pytest.raises(HarmonisationError, match="42999"):
        harmonise_to_cog2025(df, PASSAGE, counts=["pop"])
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out, rep = harmonise_to_cog2025(df, PASSAGE, counts=["pop"], errors="warn")
    assert rep.unplaced == ["42999"] and not rep.ok
    assert any("42999" in str(x.message) for x in w)
    assert set(out["code_commune"]) == {"42001", "42003"}


def test_duplicate_codes_refused():
    df = frame(code_commune=["42001", "42001", "42003"])
    with pytest.raises(HarmonisationError, match=r"Lignes en double pour code_commune.*42001.*Correctif : agrégez"):
        harmonise_to_cog2025(df, PASSAGE, counts=["pop"])


def test_groups_kept_apart():
    df = pd.DataFrame({"code_commune": ["42001", "42002", "42001", "42002"],
                       "annee": [2022, 2022, 2023, 2023], "n": [1.0, 2.0, 10.0, 20.0]})
    out, _ = harmonise_to_cog2025(df, PASSAGE, counts=["n"], by=["annee"])
    assert out.set_index("annee")["n"].to_dict() == {2022: 3.0, 2023: 30.0}


def test_split_territories_reported_by_vintage():
    df = pd.DataFrame({"code_commune": ["42004"], "n": [7.0]})
    _, rep = harmonise_to_cog2025(df, PASSAGE, counts=["n"], from_cog=2023)
    assert rep.split_territories == {"42004": "42004;42005"}
    _, rep = harmonise_to_cog2025(df, PASSAGE, counts=["n"], from_cog=2024)
    assert rep.split_territories == {}


def test_bad_arguments_are_refused_in_french():
    df = frame().head(1)
    with pytest.raises(HarmonisationError, match=r"Colonne\(s\) absente_col absente\(s\).*Correctif"):
        harmonise_to_cog2025(df, PASSAGE, counts=["absente_col"])
    with pytest.raises(HarmonisationError, match=r"errors = 'ignore' : valeur inconnue.*errors=\"warn\""):
        harmonise_to_cog2025(df, PASSAGE, counts=["pop"], errors="ignore")
    _, report = harmonise_to_cog2025(df, PASSAGE, counts=["pop"])
    assert report.summary().startswith("1 lignes → 1 communes du COG 2025 ; 0 codes recodés")
