"""Write the report of a territory defined in Python with the same files as the batch.

::

    from cpts_diag.territory import Territory
    from cpts_diag.report import write_report
    t = Territory.from_codes(["42187", "42184"], id="roanne-riorges", name="Roanne et Riorges")
    write_report(t, out="outputs")          # outputs/roanne-riorges/rapport.html, figures/, tables/…

The territory is written as a perimeter YAML in a private temporary folder, added in front of
``$CPTS_DIAG_PERIMETERS`` for the batch (whose workers read it), then removed. An EPCI, bassin de
vie or département (``Territory.epci(…)``, ``.bassin_de_vie(…)``, ``.departement(…)``) needs no file:
its prefixed id (``epci-200035731``) is resolved from the COG by the workers. A territory whose id
starts with ``territoire-`` is called « le territoire » in the report (not « la CPTS »).
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from ..errors import CptsDiagError


def write_report(territory, out=None, *, pdf: bool = False, apl_year: int = 2023,
                 timeout: float = 600, progress: bool = True, force: bool = False,
                 parameters: dict | None = None) -> Path:
    """Produce ``<out>/<id>/rapport.html`` (and every file of a batch report) for ``territory``;
    returns the path of the HTML report. Raises :class:`CptsDiagError` if the report failed, or
    before anything runs if ``apl_year`` is not a year. ``force``: as :func:`cpts_diag.batch.run_batch`;
    ``parameters``: more notebook parameters (e.g. ``health_tables``)."""
    from ..batch import run_batch
    from ..door_checks import check_int, check_parameters
    from ..territory import Territory, known_cpts
    from ..territory_kinds import PREFIXED_KINDS, kind_of_id

    if not isinstance(territory, Territory):
        raise CptsDiagError("write_report attend un Territory (p. ex. Territory.from_codes([...], "
                            "id=\"mon-territoire\", name=\"…\")) ; pour une CPTS connue, utilisez "
                            "cpts-diag report <id>.")
    if territory.id in known_cpts():
        raise CptsDiagError(f"L'identifiant « {territory.id} » est déjà celui d'une CPTS connue. "
                            "Correctif : donnez un autre id à Territory.from_codes(..., id=\"…\").")
    params = check_parameters({**(parameters or {}),
                               "apl_year": check_int(apl_year, "apl_year", 2000, 2100, example=2023)})
    if territory.kind in PREFIXED_KINDS and kind_of_id(territory.id) == territory.kind:
        code = run_batch([territory.id], out=out, pdf=pdf, timeout=timeout, progress=progress,
                         parameters=params, force=force)  # resolved from the COG: no file
        return _result(territory, out, code)
    folder = Path(tempfile.mkdtemp(prefix="cpts-diag-perimetre-"))
    old = os.environ.get("CPTS_DIAG_PERIMETERS")
    try:
        (folder / f"{territory.id}.yaml").write_text(territory.to_yaml(), encoding="utf-8")
        os.environ["CPTS_DIAG_PERIMETERS"] = os.pathsep.join([str(folder), *([old] if old else [])])
        code = run_batch([territory.id], out=out, pdf=pdf, timeout=timeout, progress=progress,
                         parameters=params, force=force)
    finally:
        if old is None:
            os.environ.pop("CPTS_DIAG_PERIMETERS", None)
        else:
            os.environ["CPTS_DIAG_PERIMETERS"] = old
        shutil.rmtree(folder, ignore_errors=True)
    return _result(territory, out, code)


def _result(territory, out, code: int) -> Path:
    """The path of the HTML report, or a French error when the batch failed."""
    from ..batch import default_out_dir

    if code != 0:
        raise CptsDiagError(f"Le rapport de « {territory.name} » a échoué (voir le résumé ci-dessus).")
    return Path(out or default_out_dir()).expanduser().resolve() / territory.id / "rapport.html"
