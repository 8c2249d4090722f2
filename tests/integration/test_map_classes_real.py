"""The fixed map classes of map_classes.yaml against the real snapshot (pandas on the raw CSVs)."""
from __future__ import annotations

import json
import math
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def entries():
    text = resources.files("cpts_diag").joinpath("map_classes.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)["indicators"]


@pytest.fixture(scope="module")
def communes(snapshot_dir):
    """Metropolitan communes of the raw snapshot: RP 2022 counts and IGN surfaces."""
    pop = pd.read_csv(snapshot_dir / "insee" / "population_communes_rp2022.csv", dtype={"code_commune": str})
    cog = pd.read_csv(snapshot_dir / "cog" / "communes.csv", usecols=["code_commune", "dep"], dtype=str)
    geo = snapshot_dir / "geo" / "communes_metro.geojson"
    if not geo.exists():
        geo = REPO / "geo" / "communes_metro.geojson"
    gj = json.loads(geo.read_text(encoding="utf-8"))
    area = pd.Series({f["properties"]["code_commune"]: f["properties"]["surface_km2_ign"]
                      for f in gj["features"]}, dtype=float, name="area")
    metro = set(cog.loc[~cog["dep"].str.startswith("97"), "code_commune"])
    d = pop[pop["code_commune"].isin(metro)].set_index("code_commune").join(area)
    return d


def _sig2_half_unit(q: float) -> float:
    """Half a unit of the second significant digit of ``q`` (the stated rounding)."""
    return 0.5 * 10 ** (math.floor(math.log10(abs(q))) - 1)


@pytest.mark.parametrize("iid", ["ageing_index_2022", "density_2022"])
def test_quintile_breaks_are_the_rounded_national_quintiles(communes, entries, iid):
    c = communes
    if iid == "ageing_index_2022":
        v = 100 * c["pop_65p"] / c["pop_0_19"].where(c["pop_0_19"] > 0)
    else:
        v = c["pop_2022"] / c["area"].where(c["area"] > 0)
    v = v.replace([np.inf, -np.inf], np.nan).dropna()
    assert len(v) > 34000
    q = np.percentile(v, [20, 40, 60, 80])
    spec = entries[iid]
    assert "quintiles" in spec["method"] and "deux chiffres significatifs" in spec["method"]
    for b, x in zip(spec["breaks"], q):
        assert abs(b - x) <= _sig2_half_unit(x) + 1e-9, (iid, b, x)


def test_diverging_centres_are_the_france_values(snapshot_dir, entries):
    """Centre = France métropolitaine APL: Σ apl × pop_std / Σ pop_std over metropolitan rows."""
    apl = pd.read_csv(snapshot_dir / "drees" / "apl_communes.csv",
                      usecols=["code_commune_cog2025", "annee", "profession", "apl", "pop_std"],
                      dtype={"code_commune_cog2025": str})
    apl = apl[~apl["code_commune_cog2025"].str.startswith("97")].dropna(subset=["apl", "pop_std"])
    prof = {"inf": "infirmier", "kine": "masseur_kinesitherapeute", "sf": "sage_femme",
            "dent": "chirurgien_dentiste"}
    checked = 0
    for iid, spec in entries.items():
        if spec.get("centre_level") != "france_metro":
            continue
        _, p, year = iid.split("_")
        d = apl[(apl["annee"] == int(year)) & (apl["profession"] == prof[p])]
        france = float((d["apl"] * d["pop_std"]).sum() / d["pop_std"].sum())
        assert spec["centre"] == pytest.approx(france, abs=0.005 + 1e-9), iid
        checked += 1
    assert checked == 8


def test_growth_scale_is_centred_on_zero_and_mentions_france(entries):
    spec = entries["pop_growth_2016_2022"]
    assert spec["centre"] == 0.0 and 0.0 in spec["breaks"] and "centre_level" not in spec
    assert "0,35" in spec["method"]


def test_centres_match_the_library_france_values(entries):
    """The centres are also the France métropolitaine values of the report's comparators."""
    from cpts_diag import indicators as ind

    t = ind.national_data().tidy
    checked = 0
    for iid, spec in entries.items():
        if spec.get("centre_level") != "france_metro":
            continue
        v = t[(t["indicator_id"] == iid) & (t["level"] == "france_metro")]["value"].iloc[0]
        assert spec["centre"] == pytest.approx(v, abs=0.005 + 1e-9), iid
        checked += 1
    assert checked == 8  # 4 professions × 2 vintages, as in test_diverging_centres_are_the_france_values
