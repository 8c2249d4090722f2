"""The report's sections, in reading order. Each is a module with one public function
``build(ctx) -> list[Block]``; :data:`SECTIONS` maps the section id (the notebook calls
``diag.show("demographie")``) to its builder. Titles and anchors: :mod:`._titles`."""
from __future__ import annotations

from . import (annex, apl, demography, health, hospitals, identity, interactive, scenario, socio,
               sources, summary, supply)
from ._titles import TITLES

SECTIONS = {
    "synthese": summary.build,
    "identite": identity.build,
    "demographie": demography.build,
    "socio": socio.build,
    "sante": health.build,
    "offre": supply.build,
    "apl": apl.build,
    "hopitaux": hospitals.build,
    "carte": interactive.build,
    "scenario": scenario.build,
    "sources": sources.build,
    "annexe": annex.build,
}
assert list(SECTIONS) == list(TITLES), "sections and titles must list the same ids in the same order"

__all__ = ["SECTIONS", "TITLES"]
