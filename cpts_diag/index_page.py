"""The index page of a report folder: ``<out>/index.html`` links every report present and compares
the territories, one table per kind (CPTS, EPCI, bassins de vie, départements, listes de communes;
one row each, France métropolitaine last in each table as reference), with French numbers, and
under each table of two territories or more a map of their GP APL (:mod:`cpts_diag.index_map`;
« Carte non disponible : … » when it cannot be drawn — the map never breaks the index).

Rewritten atomically by :func:`write_index` after each batch (:mod:`cpts_diag.batch`). Values come
from each report's ``indicators.json``; a report folder without it (or without ``rapport.html``)
is not listed, nor a build in progress (``.build-*``). An ``index.html`` that cpts-diag did not
write is never overwritten (:func:`write_index`).

Every name (territory name and id from the report folders) is HTML-escaped; links are relative
(``<id>/…``, the id percent-encoded: a ``:`` is ``%3A``) so a folder name can never become a
``javascript:`` URL; the
page runs no script and its Content-Security-Policy forbids any (and any network access).
"""
from __future__ import annotations

import datetime as _dt
import html
import json
from pathlib import Path
from urllib.parse import quote

from .apl_params import APL_GP_CLASS_LABELS

#: Columns of the comparison table: (French header, unit, indicator id, decimals).
INDEX_COLUMNS = [
    ("Communes", "", "n_communes", 0),
    ("Population 2022", "hab.", "population_2022", 0),
    ("Évolution annuelle 2016–2022", "% par an", "pop_growth_2016_2022", 2),
    ("Densité de population 2022", "hab./km²", "density_2022", 1),
    ("Indice de vieillissement 2022", "65 ans ou plus pour 100 moins de 20 ans", "ageing_index_2022", 1),
    ("Part des 75 ans ou plus 2022", "%", "share_75p_2022", 1),
    ("APL médecins généralistes 2023", "consultations/an/hab. std", "apl_mg_2023", 2),
    (f"Population en APL médecins généralistes {APL_GP_CLASS_LABELS[0]} (2023)", "%",
     "share_pop_apl_mg_lt_2_5_2023", 1),
    ("Lieux d'exercice de médecins généralistes (BPE) 2024", "pour 10 000 hab.", "density_gp_bpe2024", 1),
    ("Lieux d'exercice d'infirmiers (BPE) 2024", "pour 10 000 hab.", "density_nurse_bpe2024", 1),
]


def _reports(out_dir: Path):
    """``(folder, catalogue)`` of every report in ``out_dir`` (indicators.json + rapport.html)."""
    for d in sorted(p for p in Path(out_dir).iterdir() if p.is_dir() and not p.name.startswith(".")):
        ij = d / "indicators.json"
        if not (ij.is_file() and (d / "rapport.html").is_file()):
            continue
        try:
            yield d, json.loads(ij.read_text(encoding="utf-8"))
        except ValueError:
            continue


def _value(cat: dict, iid: str, level: str = "territory") -> tuple[object, dict | None]:
    """``(value, indicator entry)`` of ``iid`` at ``level`` in a catalogue; ``(None, None)`` if absent."""
    ind = next((i for i in cat.get("indicators", []) if i.get("id") == iid), None)
    return (None, None) if ind is None else (ind["values"].get(level), ind)


def reference_row(cat: dict) -> dict:
    """France métropolitaine values of the index columns, from one report's catalogue."""
    cells = [(None if iid == "n_communes" else _value(cat, iid, "france_metro")[0], dec, None, None)
             for _, _, iid, dec in INDEX_COLUMNS]
    return {"id": None, "name": "France métropolitaine (référence)", "cells": cells}


def _replaced_by(cpts_id: str) -> str | None:
    """``replaced_by`` of a known perimeter (a historical CPTS perimeter), else None."""
    from .errors import CptsDiagError
    from .territory import perimeter_files, read_perimeter_yaml

    try:
        path = perimeter_files().get(cpts_id)
        return read_perimeter_yaml(path).get("replaced_by") if path else None
    except CptsDiagError:  # a broken perimeter file must not break the index
        return None


def _caption(iid: str) -> str | None:
    """« Insee, RP 2022 »: the short source of an indicator (derivations: in each report)."""
    from .indicators import INDICATORS
    from .report.text import caption_of

    return caption_of(INDICATORS[iid]) if iid in INDICATORS else None


def index_row(folder: Path, cat: dict) -> dict:
    """One row of the index: the territory (``kind``: a key of
    :data:`cpts_diag.territory_kinds.KINDS`; ``communes``: its COG 2025 codes), its values (with
    source and vintage), the report date and, for a historical perimeter, the id of the perimeter
    that replaced it."""
    from .territory_kinds import kind_of_id

    terr = cat.get("territory", {})
    row = {"id": folder.name, "name": terr.get("name") or folder.name, "kind": kind_of_id(folder.name),
           "communes": [str(c) for c in terr.get("communes", [])],
           "replaced_by": _replaced_by(folder.name), "pdf": (folder / "rapport.pdf").is_file(),
           "generated": _dt.datetime.fromtimestamp((folder / "rapport.html").stat().st_mtime)
           .strftime("%d/%m/%Y %H:%M"), "cells": []}
    for _, _, iid, dec in INDEX_COLUMNS:
        val, ind = _value(cat, iid)
        if val is None and iid == "n_communes":
            val = len(terr.get("communes", [])) or None
        row["cells"].append((val, dec, _caption(iid) if ind else None, None))
    return row


#: Seconds to wait for another process writing the same index (it takes well under a second).
INDEX_LOCK_WAIT = 30

#: The index page's Content-Security-Policy: no script, no network, inline styles only.
INDEX_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def _href(cpts_id: str, file: str) -> str:
    """A relative link to a report file, safe in an ``href`` whatever the folder name
    (``cpts-a`` → ``cpts-a/rapport.html``; ``javascript:x`` → ``javascript%3Ax/rapport.html``)."""
    return html.escape(f"{quote(str(cpts_id), safe='')}/{file}", quote=True)


def _kind(row: dict) -> str:
    """Kind of a row (``kind`` of :func:`index_row` when it is a key of ``KINDS``, else from its id)."""
    from .territory_kinds import KINDS, kind_of_id

    return row["kind"] if row.get("kind") in KINDS else kind_of_id(row.get("id") or "")


def _first_header(kind: str) -> str:
    """« CPTS », « EPCI », « Bassin de vie »…: the first column header of a kind's table."""
    from .territory_kinds import KINDS

    noun = KINDS[kind].noun
    return noun[:1].upper() + noun[1:]


def _table(rows: list[dict], reference: dict | None, kind: str) -> str:
    """One kind's table: its territories, then the France métropolitaine reference row."""
    from .fmt import fmt_number

    esc = html.escape
    present = [i for i, _ in enumerate(INDEX_COLUMNS) if any(r["cells"][i][0] is not None for r in rows)]
    head = "".join(f"<th>{esc(INDEX_COLUMNS[i][0])}"
                   + (f"<br><small>{esc(INDEX_COLUMNS[i][1])}</small>" if INDEX_COLUMNS[i][1] else "")
                   + "</th>" for i in present)
    body = []
    for r in rows:
        tds = "".join(f'<td class="num">{esc(fmt_number(r["cells"][i][0], r["cells"][i][1]))}</td>'
                      for i in present)
        status = " <small>(périmètre historique)</small>" if r.get("replaced_by") else ""
        pdf = f'<a href="{_href(r["id"], "rapport.pdf")}">PDF</a> · ' if r.get("pdf") else ""
        body.append(f'<tr><td><a href="{_href(r["id"], "rapport.html")}">{esc(r["name"])}</a>{status}'
                    f'<br><small>{esc(r["id"])}</small></td>{tds}'
                    f'<td>{pdf}<a href="{_href(r["id"], "tableaux.xlsx")}">tableaux</a> · '
                    f'<a href="{_href(r["id"], "indicators.json")}">indicateurs</a></td>'
                    f'<td><small>{esc(r["generated"])}</small></td></tr>')
    if reference:
        tds = "".join(f'<td class="num">{esc(fmt_number(reference["cells"][i][0], reference["cells"][i][1]))}</td>'
                      if reference["cells"][i][0] is not None else '<td class="num"></td>' for i in present)
        body.append(f'<tr class="ref"><td>{esc(reference["name"])}</td>{tds}<td></td><td></td></tr>')
    return (f'<div class="wrap"><table><thead><tr><th>{esc(_first_header(kind))}</th>{head}'
            f'<th>Fichiers</th><th>Produit le</th></tr></thead>\n<tbody>{"".join(body)}</tbody></table></div>')


def _map_html(entry) -> str:
    """The map block of a kind: ``(SelectionMap | None, note | None)`` of
    :func:`cpts_diag.index_map.selection_map_or_note` → a figure, a note, or nothing."""
    import base64

    esc = html.escape
    smap, note = entry if entry else (None, None)
    if smap is not None:
        data = base64.b64encode(smap.png).decode("ascii")
        return (f'<figure class="map"><img src="data:image/png;base64,{data}" width="{smap.width}" '
                f'height="{smap.height}" alt="Carte de l&#39;APL médecins généralistes 2023 des territoires '
                f'de ce tableau"><figcaption>{esc(smap.caption)}</figcaption></figure>')
    return f'<p class="note">{esc(note)}</p>' if note else ""


def _sections(rows: list[dict], reference: dict | None, maps: dict | None) -> str:
    """One ``<h2>`` + table (+ map) per kind present, in the order of ``KINDS``."""
    from .territory_kinds import KINDS

    out = []
    for kind in KINDS:
        group = [r for r in rows if _kind(r) == kind]
        if group:
            heading = KINDS[kind].plural
            out.append(f'<h2>{html.escape(heading)} ({len(group)})</h2>\n{_table(group, reference, kind)}\n'
                       f'{_map_html((maps or {}).get(kind))}')
    return "\n".join(out)


def _counts(rows: list[dict]) -> dict[str, int]:
    """Number of rows of each kind present, in the order of the tables."""
    from .territory_kinds import KINDS

    kinds = [_kind(r) for r in rows]
    return {k: kinds.count(k) for k in KINDS if k in kinds}


def render_index(rows: list[dict], reference: dict | None = None, maps: dict | None = None) -> str:
    """The French HTML index page (self-contained: inline CSS, no script): one table per kind of
    territory (headed by :attr:`cpts_diag.territory_kinds.Kind.plural`); ``reference``: the France métropolitaine row
    (:func:`reference_row`), last in each table; ``maps``: kind → result of
    :func:`cpts_diag.index_map.selection_map_or_note` (:func:`kind_maps`), drawn under its table."""
    esc = html.escape
    sources = sorted({f"{c[2]} ({c[3]})" if c[3] else str(c[2]) for r in rows for c in r["cells"] if c[2]})
    src_html = "".join(f"<li>{esc(s)}</li>" for s in sources)
    empty = "" if rows else "<p>Aucun rapport n'a encore été produit dans ce dossier.</p>"
    from .territory_kinds import KINDS

    counts = ", ".join(f"{n} {esc(KINDS[k].plural)}" for k, n in _counts(rows).items())
    return f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{INDEX_CSP}">
<meta name="generator" content="cpts-diag">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Diagnostics territoriaux</title>
<style>
body{{font-family:"DejaVu Sans","Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:24px auto;max-width:1280px;
 padding:0 20px;color:#1f1f1f}}
h1{{color:#1b6ca8;border-bottom:3px solid #1b6ca8;padding-bottom:6px}}
h2{{color:#1b6ca8;margin-top:28px;font-size:1.3em}}
.wrap{{overflow-x:auto}}
table{{border-collapse:collapse;font-size:12.5px;margin-top:10px}}
th,td{{border:1px solid #d5dde5;padding:5px 8px;vertical-align:top}}
th{{background:#eef3f8;text-align:left;vertical-align:bottom}}
td.num{{text-align:right;white-space:nowrap}}
td:first-child{{min-width:190px}}
tr.ref td{{background:#f6f6f6;font-style:italic}}
small{{color:#555}}
.note{{font-size:12.5px;color:#444;max-width:1000px}}
figure.map{{margin:16px 0 8px 0}}
figure.map img{{max-width:100%;height:auto;border:1px solid #d5dde5}}
figure.map figcaption{{font-size:12px;color:#444;max-width:860px;margin-top:4px}}
</style></head><body>
<h1>Diagnostics territoriaux</h1>
<p>{len(rows)} rapport(s){f" ({counts})" if counts else ""}. Chaque rapport présente la démographie,
la situation socio-économique, l'état de santé (données départementales et par bassin de vie), l'offre de
soins et l'accessibilité (APL) du territoire, comparés au département, à la région et à la France.</p>
{empty}
{_sections(rows, reference, maps)}
<p class="note">n.d. : donnée non disponible. Valeurs du territoire entier, calculées par cpts-diag à partir
des données ouvertes ; dernière ligne de chaque tableau : France métropolitaine, pour comparaison.
Sources des indicateurs :</p>
<ul class="note">{src_html}</ul>
</body></html>
"""


def kind_maps(rows: list[dict]) -> dict:
    """Kind → :func:`cpts_diag.index_map.selection_map_or_note` of its rows (the territories'
    communes coloured by their GP APL 2023), for every kind with a map or a note to show."""
    from .index_map import MAP_INDICATOR_ID, selection_map_or_note
    from .territory_kinds import KINDS

    col = next(i for i, c in enumerate(INDEX_COLUMNS) if c[2] == MAP_INDICATOR_ID)
    out = {}
    for kind in KINDS:
        terrs = [{"id": r["id"], "name": r["name"], "communes": r.get("communes") or [],
                  "value": r["cells"][col][0]} for r in rows if _kind(r) == kind]
        entry = selection_map_or_note(terrs, KINDS[kind].noun)
        if entry != (None, None):
            out[kind] = entry
    return out


def write_index(out_dir: Path, force: bool = False) -> Path:
    """(Re)write ``<out_dir>/index.html`` atomically from the reports present, under the lock
    ``<out_dir>/.lock-index``. An ``index.html`` that cpts-diag did not write (no
    ``<meta name="generator" content="cpts-diag…">``) is not replaced:
    :class:`cpts_diag.outputs.OutputOwnershipError`, or with ``force`` it is renamed
    ``index.html.avant-cpts-diag`` (:func:`cpts_diag.outputs.claim_index`)."""
    from .atomic import write_atomic
    from .outputs import claim_index, locked

    path = Path(out_dir) / "index.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    with locked(Path(out_dir), "index", wait=INDEX_LOCK_WAIT):
        claim_index(path, force)
        reports = list(_reports(Path(out_dir)))
        rows = [index_row(d, cat) for d, cat in reports]
        page = render_index(rows, reference_row(reports[0][1]) if reports else None, kind_maps(rows))
        write_atomic(path, page)
    return path


def try_write_index(out_dir: Path, force: bool = False) -> str | None:
    """:func:`write_index`; the French text of its error instead of raising (the reports are
    done, the batch reports the index apart)."""
    from .errors import CptsDiagError

    try:
        write_index(out_dir, force=force)
    except CptsDiagError as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - say what failed
        return f"{exc.__class__.__name__}: {exc}"
    return None
