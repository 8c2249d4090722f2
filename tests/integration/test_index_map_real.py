"""The index page's map of a selection, on the real commune polygons: fake report folders with
hand-written GP APL values on both sides of 2,5, communes read from the COG 2025."""
from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

from PIL import Image

from cpts_diag.apl_params import APL_GP_CLASS_COLORS
from cpts_diag.index_page import write_index
from cpts_diag.territory_kinds import territory_for

ROANNE = "200035731"      # CA Roannais Agglomération (Loire)
VALS_AIX = "244200614"    # CC des Vals d'Aix et Isable (Loire)
CHARLIEU = "200035202"    # CC Charlieu-Belmont (Loire)
GRAND_PARIS = "200054781"  # Métropole du Grand Paris: outside the 8 detailed départements


def _report(out: Path, siren: str, apl) -> list[str]:
    terr = territory_for("epci", siren)
    d = out / f"epci-{siren}"
    d.mkdir(parents=True)
    (d / "rapport.html").write_text("<html></html>", encoding="utf-8")
    inds = [{"id": "apl_mg_2023", "label": "APL", "unit": "", "source": "DREES", "vintage": "2023",
             "values": {"territory": apl, "france_metro": 3.73}}]
    (d / "indicators.json").write_text(json.dumps(
        {"territory": {"id": d.name, "name": terr.name, "communes": list(terr.communes)},
         "indicators": inds}), encoding="utf-8")
    return list(terr.communes)


def _rgb(hex_color: str) -> tuple[int, int, int]:
    return tuple(int(hex_color[i:i + 2], 16) for i in (1, 3, 5))


def _bundle_surfaces(snapshot_dir: Path) -> dict[str, float]:
    feats = json.loads((snapshot_dir / "geo" / "communes_8dep.geojson").read_text(encoding="utf-8"))["features"]
    return {f["properties"]["code_commune"]: f["properties"]["surface_km2"] for f in feats}


def test_epci_map_colours_each_epci_by_its_drees_class(tmp_path, snapshot_dir):
    roanne = _report(tmp_path, ROANNE, 3.11)     # 2,5 ≤ APL < 4 → orange
    vals = _report(tmp_path, VALS_AIX, 2.49)     # < 2,5 → red
    _report(tmp_path, CHARLIEU, None)            # missing → hatched grey, « n.d. »
    page = write_index(tmp_path).read_text(encoding="utf-8")
    assert "<h2>EPCI (3)</h2>" in page and "Carte non disponible" not in page
    imgs = re.findall(r'<img src="data:image/png;base64,([^"]+)"', page)
    assert len(imgs) == 1
    img = Image.open(io.BytesIO(base64.b64decode(imgs[0])))
    assert img.format == "PNG" and 400 <= img.width <= 900
    assert f'width="{img.width}" height="{img.height}"' in page
    caption = re.search(r"<figcaption>([^<]*)</figcaption>", page).group(1)
    assert caption.startswith("APL 2023 : DREES / ANCT ; contours : IGN Admin Express (codes COG 2025)")
    assert "simplifiés" not in caption  # every commune is in the detailed layer
    rgb = img.convert("RGB")
    counts = {c: n for n, c in rgb.getcolors(maxcolors=1 << 16)}
    red, orange, grey = (counts.get(_rgb(c), 0) for c in (*APL_GP_CLASS_COLORS[:2], "#d9d9d9"))
    assert orange > 1000 and red > 1000 and grey > 200
    # areas drawn in proportion of the bundle's own surfaces (legend patches are ~150 px each)
    surf = _bundle_surfaces(snapshot_dir)
    ratio = sum(surf[c] for c in roanne) / sum(surf[c] for c in vals)
    assert 0.75 * ratio < orange / red < 1.25 * ratio


def test_communes_outside_the_8_departements_are_said_simplified(tmp_path, snapshot_dir):
    _report(tmp_path, ROANNE, 3.11)
    _report(tmp_path, GRAND_PARIS, 2.7)
    page = write_index(tmp_path).read_text(encoding="utf-8")
    caption = re.search(r"<figcaption>([^<]*)</figcaption>", page).group(1)
    deps = sorted({c[:2] for c in _bundle_surfaces(snapshot_dir)})
    assert deps == ["03", "07", "38", "42", "43", "63", "69", "71"]
    assert f"départements {', '.join(deps)} ; contours simplifiés (COGiter) hors de ces 8 départements" in caption
    img = Image.open(io.BytesIO(base64.b64decode(re.search(r"base64,([^\"]+)", page).group(1))))
    assert img.width <= 900
