"""CPTS perimeters: YAML definitions, validation, expansion to COG 2025 communes.

A perimeter is a YAML file ``<id>.yaml`` in one of the folders of ``data_roots().perimeters``
(``data/cpts/`` of the repository, then ``$CPTS_DIAG_PERIMETERS`` if set; a later folder overrides
an earlier one, with a warning). Format (read with ``yaml.safe_load`` only)::

    id: ondaine-forez                 # must equal the file name (without .yaml)
    name: CPTS Ondaine-Forez          # French name
    source: "Communiqué de presse ARS …"
    valid_from: 2023-12-13            # date of validity: YYYY, YYYY-MM or YYYY-MM-DD
    valid_to: 2024-12                 # optional
    supersedes: roannais-2019         # optional: id of the previous vintage of the same CPTS
    replaced_by: roannais-2024        # optional: id of the next vintage (the perimeter is historical)
    notes: "…"                        # optional, free text
    announced_population:             # optional: the population the CPTS itself publishes
      value: 84466                    #   a whole number of inhabitants
      source: "Projet de santé …"     #   where it is published (required)
      year: 2023                      #   optional: year of the figure
      definition: totale              #   optional: municipale | totale | non précisée
    members:
      communes: ["42001", "42031"]    # COG commune codes, QUOTED (YAML reads 01001 as an octal number)
      epcis: ["200035731"]            # EPCI SIRENs, expanded to their COG 2025 communes at load time

Python: :meth:`Territory.load` (by id), :meth:`Territory.from_yaml` (a file),
:meth:`Territory.from_codes` (a list of commune codes). Codes of communes that no longer exist
(merged communes, arrondissements municipaux) are mapped to their COG 2025 commune with a
``warnings.warn``; every other problem raises :class:`~cpts_diag.errors.TerritoryError` with the
fix.
"""
from __future__ import annotations

import difflib
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from .config import data_roots
from .errors import CptsDiagError, TerritoryError
from .fmt import fold
from .perimeter_spec import (_COMMUNE_RE, _SIREN_RE, _norm_codes, _norm_date,  # noqa: F401
                             POPULATION_DEFINITIONS, read_perimeter_yaml, validate_perimeter_spec)

__all__ = ["Territory", "known_cpts", "perimeter_files", "perimeters_report", "resolve_members",
           "COMMUNE_FRAME_COLUMNS"]

COMMUNE_FRAME_COLUMNS = ["code_commune", "nom", "dep", "nom_dep", "reg", "nom_reg", "epci_siren",
                         "epci_nom"]


# --- the model ----------------------------------------------------------------------------------

@dataclass
class Territory:
    """A set of COG 2025 communes (a CPTS or any user-defined perimeter).

    ``communes`` is the sorted list of COG 2025 codes after EPCI expansion and recoding of old
    codes; ``members`` is the membership as declared (``{"communes": [...], "epcis": [...]}``);
    ``recoded`` maps each declared old code to its COG 2025 code.
    """

    id: str
    name: str
    communes: list[str]
    members: dict[str, list[str]]
    epcis: list[str] = field(default_factory=list)
    departements: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    source: str | None = None
    valid_from: str | None = None
    valid_to: str | None = None
    supersedes: str | None = None
    replaced_by: str | None = None
    notes: str | None = None
    path: Path | None = None
    recoded: dict[str, str] = field(default_factory=dict)
    announced_population: dict | None = None
    health_tables: list[str] = field(default_factory=list)  # user CSVs (absolute paths)
    kind: str = "cpts"  # a key of territory_kinds.KINDS: how the report names the territory

    # -- constructors --------------------------------------------------------------------------
    @classmethod
    def load(cls, cpts_id: str) -> "Territory":
        """The CPTS ``cpts_id`` from its YAML file (see the module docstring), else the EPCI,
        bassin de vie or département of a prefixed id (``epci-SIREN``, ``bv-CODE``, ``dep-CODE``:
        :mod:`cpts_diag.territory_kinds`)."""
        from .territory_kinds import parse_kind_id, territory_for

        files = perimeter_files()
        if cpts_id not in files and parse_kind_id(cpts_id):
            return territory_for(*parse_kind_id(cpts_id))
        if cpts_id not in files:
            known = sorted(files)
            close = difflib.get_close_matches(str(cpts_id), known, n=3, cutoff=0.5)
            hint = f" Vouliez-vous dire : {', '.join(close)} ?" if close else ""
            raise TerritoryError(
                f"CPTS inconnue : « {cpts_id} ».{hint} CPTS connues : "
                f"{', '.join(known) if known else '(aucune)'}. Correctif : utilisez l'un de ces "
                "identifiants, ou ajoutez un fichier <id>.yaml dans "
                f"{', '.join(str(p) for p in data_roots().perimeters)} "
                "(ou dans le dossier de $CPTS_DIAG_PERIMETERS)."
            )
        return cls.from_yaml(files[cpts_id])

    @classmethod
    def epci(cls, siren: str) -> "Territory":
        """Every COG 2025 commune of the EPCI ``siren`` (id ``epci-<siren>``)."""
        from .territory_kinds import territory_for
        return territory_for("epci", siren)

    @classmethod
    def bassin_de_vie(cls, code: str) -> "Territory":
        """Every COG 2025 commune of the bassin de vie 2022 ``code`` (id ``bv-<code>``)."""
        from .territory_kinds import territory_for
        return territory_for("bv", code)

    @classmethod
    def departement(cls, code: str) -> "Territory":
        """Every COG 2025 commune of the département ``code`` (id ``dep-<code>``)."""
        from .territory_kinds import territory_for
        return territory_for("dep", code)

    @classmethod
    def from_yaml(cls, path: str | Path) -> "Territory":
        """Read and validate one perimeter file."""
        path = Path(path)
        spec = read_perimeter_yaml(path)
        return cls._build(spec, origin=str(path), path=path)

    @classmethod
    def from_codes(cls, codes, id: str = "perimetre-personnalise", name: str | None = None, *,
                   epcis=(), source: str | None = "défini par l'utilisateur",
                   valid_from: str | None = None) -> "Territory":
        """A territory from a list of commune codes (and optionally EPCI SIRENs), checked like a
        perimeter file (:func:`~cpts_diag.perimeter_spec.validate_perimeter_spec`): id, name,
        dates and code formats; the codes are then resolved against the COG."""
        where = f"périmètre « {id} » (défini en Python)"
        members = {}
        for key, vals in (("communes", codes), ("epcis", epcis)):
            if vals is None:
                vals = []
            if isinstance(vals, (str, int)):
                vals = [vals]
            try:
                members[key] = list(vals)
            except TypeError:
                raise TerritoryError(f"{where} : {key} doit être une liste de codes, pas "
                                     f"{type(vals).__name__}. Correctif : [\"42187\", …].") from None
        spec = validate_perimeter_spec(
            {"id": id, "name": id if name is None else name, "source": source,
             "valid_from": valid_from, "members": members}, where)
        return cls._build(spec, origin=f"périmètre « {id} » (défini en Python)", path=None)

    @classmethod
    def _build(cls, spec: dict, origin: str, path: Path | None) -> "Territory":
        from .loaders import load_communes, load_passage
        from .territory_kinds import kind_of_id

        com = load_communes()
        communes, recoded, msgs = resolve_members(
            spec["members"]["communes"], spec["members"]["epcis"], com, load_passage(), origin)
        for m in msgs:
            warnings.warn(m, UserWarning, stacklevel=3)
        sub = com[com["code_commune"].isin(communes)]
        return cls(
            id=spec["id"], name=spec["name"], communes=communes,
            members={k: list(v) for k, v in spec["members"].items()},
            epcis=sorted(set(sub["epci_siren"].dropna())),
            departements=sorted(set(sub["dep"].dropna())),
            regions=sorted(set(sub["reg"].dropna())),
            source=spec.get("source"), valid_from=spec.get("valid_from"),
            valid_to=spec.get("valid_to"), supersedes=spec.get("supersedes"),
            replaced_by=spec.get("replaced_by"), notes=spec.get("notes"), path=path,
            recoded=recoded, announced_population=spec.get("announced_population"),
            health_tables=[str((path.parent / p).resolve()) if path is not None else p
                           for p in spec.get("health_tables") or []],
            kind="communes" if kind_of_id(spec["id"]) == "communes" else "cpts",
        )

    # -- views ---------------------------------------------------------------------------------
    @property
    def is_current(self) -> bool:
        """False for a historical vintage (``replaced_by`` set)."""
        return not self.replaced_by

    def communes_frame(self) -> pd.DataFrame:
        """One row per commune: code_commune, nom, dep, nom_dep, reg, nom_reg, epci_siren, epci_nom."""
        from .loaders import load_communes

        com = load_communes()
        out = (com.loc[com["code_commune"].isin(self.communes), COMMUNE_FRAME_COLUMNS]
               .sort_values("code_commune").reset_index(drop=True))
        out.attrs = {"source": com.attrs.get("source"), "territory": self.id}
        return out

    def __len__(self) -> int:
        return len(self.communes)

    def __repr__(self) -> str:
        return (f"Territory(id={self.id!r}, name={self.name!r}, {len(self.communes)} communes, "
                f"deps={self.departements}, epcis={len(self.epcis)})")

    def to_spec(self) -> dict:
        """The perimeter as a YAML-ready mapping (its COG 2025 communes listed one by one), so a
        territory built in Python can be written as ``<id>.yaml`` and reloaded by the batch."""
        spec = {"id": self.id, "name": self.name, "members": {"communes": list(self.communes)}}
        for k in ("source", "valid_from", "valid_to", "supersedes", "replaced_by", "notes",
                  "announced_population", "health_tables"):
            v = getattr(self, k)
            if v not in (None, "", {}, []):
                spec[k] = v
        return spec

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_spec(), allow_unicode=True, sort_keys=False)

    def _repr_html_(self) -> str:
        """Notebook display: name, id, communes, départements, EPCI, validity, source (escaped)."""
        import html

        from .fmt import fmt_number

        rows = [("Identifiant", self.id), ("Communes (COG 2025)", fmt_number(len(self.communes), 0)),
                ("Départements", ", ".join(self.departements)), ("EPCI", fmt_number(len(self.epcis), 0)),
                ("En vigueur depuis", self.valid_from or "non précisé"),
                ("Source du périmètre", self.source or "non précisée")]
        if self.replaced_by:
            rows.append(("Périmètre historique, remplacé par", self.replaced_by))
        body = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
                       f"<td style='text-align:left'>{html.escape(str(v))}</td></tr>" for k, v in rows)
        return f"<b>{html.escape(self.name)}</b><table>{body}</table>"


# --- YAML ---------------------------------------------------------------------------------------

def perimeter_files() -> dict[str, Path]:
    """``{id: path}`` of every ``*.yaml``/``*.yml`` of the perimeter folders (file name = id).

    A later folder overrides an earlier one (warning). Files are not parsed here, so one bad file
    never hides the others; a problem with the folders themselves (two files with the same id in
    one folder: the ``.yaml`` one is used; an unreadable folder; a non-file entry) is a warning.
    """
    found, problems = _scan_perimeters()
    for msg in problems:
        warnings.warn(msg, UserWarning, stacklevel=2)
    return found


def _scan_perimeters() -> tuple[dict[str, Path], list[str]]:
    """``({id: path}, [French problem messages])`` of the perimeter folders (nothing parsed)."""
    found: dict[str, Path] = {}
    problems: list[str] = []
    for folder in data_roots().perimeters:
        try:
            if not folder.is_dir():
                continue
            entries = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
        except OSError as exc:
            problems.append(f"Dossier de périmètres {folder} illisible ({exc.strerror or exc}) : "
                            "ignoré. Correctif : vérifiez ses droits.")
            continue
        here: dict[str, Path] = {}
        for p in entries:
            if not p.is_file():
                problems.append(f"{p} n'est pas un fichier : ignoré.")
            elif p.stem in here:
                problems.append(f"Deux fichiers définissent la CPTS « {p.stem} » dans {folder} : "
                                f"{here[p.stem].name} (utilisé) et {p.name} (ignoré). Correctif : "
                                "n'en gardez qu'un.")
            else:
                here[p.stem] = p
        for k, p in here.items():
            if k in found:
                problems.append(f"La CPTS « {k} » est définie dans {found[k]} et dans {p} : "
                                f"la définition de {p} est utilisée.")
            found[k] = p
    return found, problems


def known_cpts() -> list[str]:
    """Sorted ids of every perimeter file found (files are not parsed)."""
    return sorted(perimeter_files())


def _suggest_communes(value: str, com: pd.DataFrame, n: int = 5) -> str:
    names = dict(zip(com["code_commune"], com["nom"]))
    if _COMMUNE_RE.match(value) or value.isdigit():
        same_dep = [c for c in names if c[:2] == value[:2]] or list(names)
        close = difflib.get_close_matches(value, same_dep, n=n, cutoff=0.6)
        return ", ".join(f"{c} ({names[c]})" for c in close)
    simple = {c: fold(nm) for c, nm in names.items()}
    by_name: dict[str, list[str]] = {}
    for c, s in simple.items():
        by_name.setdefault(s, []).append(c)
    close = difflib.get_close_matches(fold(value), list(by_name), n=n, cutoff=0.6)
    return ", ".join(f"{names[c]} ({c})" for s in close for c in by_name[s][:3])


def resolve_members(communes: list[str], epcis: list[str], com: pd.DataFrame,
                    passage: pd.DataFrame, origin: str) -> tuple[list[str], dict[str, str], list[str]]:
    """Validate declared members and return ``(sorted COG 2025 codes, recoded, warnings)``.

    ``com`` is the COG 2025 commune table, ``passage`` the passage table. Raises
    :class:`TerritoryError` for an empty perimeter, a duplicate, an unknown commune code or an
    unknown EPCI SIREN; old codes are mapped to COG 2025 (a message is returned for each).
    """
    if not communes and not epcis:
        raise TerritoryError(f"{origin} : périmètre vide (aucune commune ni aucun EPCI). "
                             "Correctif : renseignez members.communes et/ou members.epcis.")
    _refuse_duplicates(communes, epcis, origin)
    final, recoded, msgs = _recode_communes(communes, com, passage, origin)
    if epcis:
        expanded = _expand_epcis(epcis, com, origin)
        both = sorted(final & expanded)
        if both:
            msgs.append(f"{origin} : commune(s) listée(s) à la fois seule(s) et via leur EPCI : "
                        f"{', '.join(both)} (comptées une fois).")
        final |= expanded
    return sorted(final), recoded, msgs


def _refuse_duplicates(communes: list[str], epcis: list[str], origin: str) -> None:
    for kind, vals in (("code commune", communes), ("SIREN d'EPCI", epcis)):
        seen, dups = set(), []
        for v in vals:
            (dups.append(v) if v in seen else seen.add(v))
        if dups:
            raise TerritoryError(f"{origin} : {kind} en double : {', '.join(sorted(set(dups)))}. "
                                 "Correctif : ne listez chaque code qu'une fois.")


def _recode_message(c: str, row, new: str, names: dict, origin: str) -> str:
    event, date, split = row.get("evenement"), row.get("date_effet"), row.get("scission_communes_cog2025")
    msg = (f"{origin} : le code {c} n'est plus une commune du COG 2025 "
           f"({event if isinstance(event, str) else 'changement de code'}"
           f"{' le ' + date if isinstance(date, str) else ''}) : remplacé par {new} "
           f"({names.get(new, '?')}).")
    if isinstance(split, str):
        msg += (f" Attention : ce territoire a ensuite été scindé entre {split.replace(';', ', ')} ;"
                " ajoutez les autres communes si elles font partie du périmètre.")
    return msg + " Correctif : remplacez le code dans la définition du périmètre."


def _recode_communes(communes, com, passage, origin) -> tuple[set[str], dict[str, str], list[str]]:
    """COG 2025 codes of the declared communes (old codes recoded, with a message each)."""
    valid = set(com["code_commune"])
    msgs: list[str] = []
    recoded: dict[str, str] = {}
    unknown = []
    table = passage.set_index("code_commune_source")
    names = dict(zip(com["code_commune"], com["nom"]))
    final: set[str] = set()
    for c in communes:
        if c in valid:
            final.add(c)
        elif not _COMMUNE_RE.match(c) or c not in table.index:
            unknown.append(c)
        else:
            row = table.loc[c]
            new = str(row["code_commune_cog2025"])
            recoded[c] = new
            final.add(new)
            msgs.append(_recode_message(c, row, new, names, origin))
    if unknown:
        parts = []
        for c in unknown:
            fmt_hint = "" if _COMMUNE_RE.match(c) else " (format attendu : 5 caractères, p. ex. \"42218\" ou \"2A004\")"
            sugg = _suggest_communes(c, com)
            parts.append(f"« {c} »{fmt_hint}" + (f" — communes proches : {sugg}" if sugg else ""))
        raise TerritoryError(
            f"{origin} : code(s) commune inconnu(s) du COG 2025 et de l'historique des communes : "
            + " ; ".join(parts) + ". Correctif : corrigez ces codes (codes Insee du COG 2025, "
            "pas des codes postaux).")
    merged = [c for c in communes if c in recoded and list(recoded.values()).count(recoded[c]) > 1]
    if merged:
        msgs.append(f"{origin} : les anciens codes {', '.join(merged)} sont réunis dans une même "
                    "commune du COG 2025 ; elle n'est comptée qu'une fois.")
    return final, recoded, msgs


def _expand_epcis(epcis: list[str], com: pd.DataFrame, origin: str) -> set[str]:
    """The COG 2025 communes of the EPCIs (unknown SIRENs refused, with close matches)."""
    known_epci = com.drop_duplicates("epci_siren").set_index("epci_siren")["epci_nom"]
    bad = [e for e in epcis if e not in known_epci.index]
    if bad:
        parts = []
        for e in bad:
            if _SIREN_RE.match(e):
                close = difflib.get_close_matches(e, list(known_epci.index), n=3, cutoff=0.7)
            else:
                simple = {fold(v): k for k, v in known_epci.items()}
                close = [simple[s] for s in difflib.get_close_matches(fold(e), list(simple), n=3, cutoff=0.5)]
            sugg = ", ".join(f"{k} ({known_epci[k]})" for k in close)
            parts.append(f"« {e} »" + (f" — EPCI proches : {sugg}" if sugg else ""))
        raise TerritoryError(
            f"{origin} : SIREN d'EPCI inconnu(s) au 1er janvier 2025 : " + " ; ".join(parts)
            + ". Correctif : utilisez le SIREN (9 chiffres) d'un EPCI du COG 2025 "
            "(colonne epci_siren de cog/communes.csv).")
    return set(com.loc[com["epci_siren"].isin(epcis), "code_commune"])


# --- report ---------------------------------------------------------------------------------------

def _load_all() -> tuple[list[Territory], list[str]]:
    """Every perimeter that loads, and one French line per file that does not (or warns): one
    bad file (malformed, oversized, alias bomb, unknown codes…) never stops the others."""
    found, problems = _scan_perimeters()
    terrs, errors = [], [f"avertissement : {m}" for m in problems]
    for cid, path in sorted(found.items()):
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                terrs.append(Territory.from_yaml(path))
            errors.extend(f"avertissement ({cid}) : {w.message}" for w in caught)
        except CptsDiagError as exc:
            errors.append(f"fichier ignoré ({path.name}) : {exc}")
        except (OSError, ValueError, TypeError, KeyError, RecursionError, MemoryError) as exc:
            errors.append(f"fichier ignoré ({path.name}) : erreur inattendue "
                          f"{exc.__class__.__name__} : {exc}")
    return terrs, errors


def coverage_by_commune(territories: list[Territory], com: pd.DataFrame, dep: str = "42") -> pd.DataFrame:
    """Communes of ``dep`` with the ids of the given territories that contain them (pure)."""
    rows = [(c, t.id) for t in territories for c in t.communes]
    member = pd.DataFrame(rows, columns=["code_commune", "cpts_id"])
    base = com.loc[com["dep"] == dep, ["code_commune", "nom", "epci_siren", "epci_nom"]]
    member = member.drop_duplicates().sort_values(["code_commune", "cpts_id"])
    grouped = member.groupby("code_commune")["cpts_id"]
    out = base.assign(cpts=base["code_commune"].map(grouped.agg(", ".join)).fillna(""),
                      n_cpts=base["code_commune"].map(grouped.size()).fillna(0).astype(int))
    return out.reset_index(drop=True)


def perimeters_report(dep: str = "42") -> str:
    """French text: known CPTS (communes, départements) and coverage of the communes of ``dep``."""
    from .loaders import load_communes, load_population

    com = load_communes()
    terrs, errors = _load_all()
    folders = ", ".join(str(p) for p in data_roots().perimeters)
    lines = [f"Périmètres de CPTS connus : {len(terrs)} (dossiers : {folders})", ""]
    w = max([len(t.id) for t in terrs] + [2])
    lines.append(f"{'id':<{w}}  {'communes':>8}  {'dép.':<8}  {'validité':<24}  nom")
    for t in terrs:
        valid = (f"{t.valid_from or '?'} → {t.valid_to}" if t.valid_to
                 else f"depuis {t.valid_from}" if t.valid_from else "non précisée")
        status = f" — remplacé par {t.replaced_by}" if t.replaced_by else ""
        sup = f" (remplace {t.supersedes})" if t.supersedes else ""
        lines.append(f"{t.id:<{w}}  {len(t.communes):>8}  {', '.join(t.departements):<8}  "
                     f"{valid:<24}  {t.name}{sup}{status}")
    current = [t for t in terrs if t.is_current]
    historical = [t for t in terrs if not t.is_current]
    dep_name = com.loc[com["dep"] == dep, "nom_dep"].iloc[0] if (com["dep"] == dep).any() else dep
    cov = coverage_by_commune(current, com, dep)
    pop = load_population().set_index("code_commune")["pop_2022"]
    cov["pop_2022"] = cov["code_commune"].map(pop)
    n = len(cov)
    lines += ["", f"Couverture des {n} communes du département {dep} ({dep_name}) par les périmètres "
              "EN VIGUEUR" + (f" (millésimes remplacés exclus : {', '.join(t.id for t in historical)} ;"
                               " deux millésimes d'une même CPTS ne sont pas un chevauchement)"
                               if historical else "") + " :"]

    def _pop(df):
        from .fmt import fmt_number
        return fmt_number(df["pop_2022"].sum(min_count=1))

    covered = cov[cov["n_cpts"] == 1]
    none = cov[cov["n_cpts"] == 0]
    several = cov[cov["n_cpts"] > 1]
    lines.append(f"- couvertes par une seule CPTS : {len(covered)} communes ({_pop(covered)} hab. en 2022)")
    lines.append(f"- couvertes par aucune CPTS connue : {len(none)} communes ({_pop(none)} hab.)")
    for (siren, epci), g in none.groupby(["epci_siren", "epci_nom"], sort=True):
        names = ", ".join(f"{r.nom} ({r.code_commune})" for r in g.itertuples())
        lines.append(f"    {epci} [{siren}] — {len(g)} : {names}")
    lines.append(f"- couvertes par plusieurs CPTS en vigueur : {len(several)} communes"
                 + (f" ({_pop(several)} hab.)" if len(several) else ""))
    for r in several.itertuples():
        lines.append(f"    {r.nom} ({r.code_commune}) : {r.cpts}")
    if historical:
        lines += ["", "Millésimes historiques (non comptés ci-dessus) :"]
        for t in historical:
            succ = next((c for c in terrs if c.id == t.replaced_by), None)
            if succ is not None:
                gone = sorted(set(t.communes) - set(succ.communes))
                added = sorted(set(succ.communes) - set(t.communes))
                lines.append(f"- {t.id} → {succ.id} : {len(added)} communes ajoutées, "
                             f"{len(gone)} retirées")
            else:
                lines.append(f"- {t.id} : remplacé par « {t.replaced_by} », périmètre inconnu")
    lines += ["", "Les communes de CPTS sans liste publique (Forez-Est, Loire Forez, Loire et Coise, "
              "Pilat : contrat de données §3.17) apparaissent comme non couvertes."]
    if errors:
        lines += ["", "Problèmes rencontrés :"] + [f"- {e}" for e in errors]
    return "\n".join(lines)
