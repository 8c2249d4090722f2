"""Write docs/indicators.md from the indicator registry (cpts_diag/indicators.yaml).

Run: python docs/_make_indicators_md.py   (tests/unit/test_docs.py checks the file is current)
"""
from pathlib import Path

from cpts_diag.indicators import registry_markdown

HEADER = ("# Indicateurs de cpts-diag\n\n"
          "Généré depuis `cpts_diag/indicators.yaml` (source unique, reprise par les rapports) par "
          "`python docs/_make_indicators_md.py`. Ne pas modifier à la main.\n\n")


def render() -> str:
    return HEADER + registry_markdown() + "\n"


if __name__ == "__main__":
    out = Path(__file__).resolve().parent / "indicators.md"
    out.write_text(render(), encoding="utf-8")
    print(f"écrit : {out.name}")
