"""Command line: ``cpts-diag data install|fetch|status``, ``perimeters``, ``indicators``, ``report``,
``scenario``."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .config import data_roots, default_snapshot_dir
from .errors import CptsDiagError


def _on_terminal() -> bool:
    """Progress bars only on a terminal: piped logs (make, CI) get no carriage returns."""
    from .batch import stderr_is_tty

    return stderr_is_tty()


def _cmd_data_install(args) -> int:
    from .snapshot import install_snapshot

    src = Path(args.source) if args.source else default_snapshot_dir()
    files = install_snapshot(src, link=args.link, progress=_on_terminal())
    roots = data_roots()
    print(f"{len(files)} fichiers installés depuis {src} dans {roots.tabular} et {roots.geo}"
          f" ({'liens' if args.link else 'copies'}).")
    return 0


def _cmd_data_fetch(args) -> int:
    from .fetch import fetch_all

    fetch_all(only=args.only, force=args.force, progress=_on_terminal())
    return 0


def _cmd_data_status(args) -> int:
    from .snapshot import status, sums_problem

    problem = sums_problem()
    rows = status(check_hashes=not args.no_hash)
    roots = data_roots()
    print(f"Données tabulaires : {roots.tabular}\nGéométries : {roots.geo}\nCache : {roots.cache}\n")
    w = max(len(r.source) for r in rows)
    fw = max(len(r.file) for r in rows)
    print(f"{'source':<{w}}  {'millésimes':<22} {'COG':<22} {'fichier':<{fw}}  état")
    for r in rows:
        mark = "OK " if r.ok else "!! "
        print(f"{r.source:<{w}}  {r.vintages:<22} {r.cog[:22]:<22} {r.file:<{fw}}  {mark}{r.hash_state}"
              + ("" if r.required else " (facultatif)"))
    bad = [r for r in rows if not r.ok]
    if bad:
        print(f"\n{len(bad)} fichier(s) absent(s), altéré(s) ou non listé(s) dans SHA256SUMS. "
              "Correctif : `cpts-diag data install --from ../shared/opendata` ou "
              "`cpts-diag data fetch`.", file=sys.stderr)
    if problem:
        print(f"\ncpts-diag: {problem}", file=sys.stderr)
    if bad or problem:
        return 1
    if args.no_hash:
        print("\nToutes les sources requises sont présentes (empreintes SHA-256 non vérifiées : "
              "--no-hash).")
    else:
        print("\nToutes les sources requises sont présentes et intègres.")
    return 0


def _cmd_perimeters(args) -> int:
    from .territory import perimeters_report

    print(perimeters_report())
    return 0


def _cmd_indicators(args) -> int:
    import json

    from .catalogue import catalogue, catalogue_text
    from .territory import Territory

    terr = Territory.load(args.cpts_id)
    cat = catalogue(terr)
    if args.json:
        print(json.dumps(cat, ensure_ascii=False, indent=1))
    else:
        print(catalogue_text(cat))
    return 0


def _cmd_report(args) -> int:
    from .batch import default_out_dir, resolve_ids, run_batch
    from .door_checks import check_jobs, check_out_dir, check_timeout

    jobs, timeout = check_jobs(args.jobs, "--jobs"), check_timeout(args.timeout, "--timeout")
    args.cpts_ids = _territory_ids(args)
    if args.communes is not None:  # bad codes or name: said before --out is created
        terr = _communes_territory(args)
    else:
        args.cpts_ids = resolve_ids(args.cpts_ids, args.all)  # unknown ids: said before --out exists
    out = check_out_dir(default_out_dir() if args.out is None else args.out, "--out")
    params = {}
    if args.health:
        from .health_tables import health_tables_for

        paths = [str(Path(p).resolve()) for p in args.health]
        health_tables_for(paths)  # checked now (French message naming the line), not per notebook
        params["health_tables"] = paths
    if args.scenario:
        from .scenario import ScenarioSpec

        path = Path(args.scenario).resolve()
        spec = ScenarioSpec.from_yaml(path)  # fail now, not in every notebook
        _scenario_fits(spec, resolve_ids(args.cpts_ids, args.all), args.scenario)
        params["scenario"] = str(path)
    if args.communes is not None:
        from .report.write import write_report

        path = write_report(terr, out=out, pdf=args.pdf, timeout=timeout, force=args.force,
                            progress=_on_terminal(), parameters=params or None)
        print(f"Rapport écrit : {path}")
        return 0
    return run_batch(args.cpts_ids, all_=args.all, jobs=jobs, out=out, timeout=timeout,
                     parameters=params or None, pdf=args.pdf, force=args.force,
                     rebuild=args.rebuild)


#: Options naming territories by a prefixed id (territory_kinds.PREFIXED_KINDS): option → kind.
KIND_OPTIONS = {"epci": "epci", "bv": "bv", "dep": "dep"}
#: « every EPCI / bassin de vie of a département »: option → kind.
ALL_KIND_OPTIONS = {"all_epci": "epci", "all_bv": "bv"}


def _territory_ids(args) -> list[str]:
    """The ids of ``report``: positional ids, then ``--epci``/``--bv``/``--dep`` as prefixed ids,
    then ``--all-epci``/``--all-bv`` of ``--in-dep``. Refuses a national run and mixed options."""
    from .errors import ArgumentError
    from .territory_kinds import ids_for

    ids = list(args.cpts_ids or [])
    for opt, kind in KIND_OPTIONS.items():
        ids += [f"{kind}-{str(c).strip()}" for c in getattr(args, opt) or []]
    wanted = [(opt, kind) for opt, kind in ALL_KIND_OPTIONS.items() if getattr(args, opt)]
    for opt, kind in wanted:
        flag = "--" + opt.replace("_", "-")
        if args.in_dep is None:
            n = len(ids_for(kind))
            raise ArgumentError(f"{flag} sans --in-dep produirait {n} rapports (toute la France). "
                                f"Correctif : {flag} --in-dep 42 (un département à la fois).")
        ids += ids_for(kind, in_dep=args.in_dep)
    if args.in_dep is not None and not wanted:
        raise ArgumentError("--in-dep ne s'utilise qu'avec --all-epci ou --all-bv. "
                            "Correctif : cpts-diag report --all-epci --in-dep 42.")
    if args.communes is not None and (ids or args.all or args.scenario):
        raise ArgumentError("--communes produit un seul rapport : ne le combinez ni avec des "
                            "identifiants, ni avec --all, --epci, --bv, --dep, --all-epci, --all-bv, "
                            "ni avec --scenario. Correctif : lancez deux commandes.")
    if args.name is not None and args.communes is None:
        raise ArgumentError("--name ne s'utilise qu'avec --communes. Correctif : cpts-diag report "
                            "--communes 42187,42184 --name \"Roanne et Riorges\".")
    return ids


def _communes_territory(args):
    """``--communes CODE,CODE,… --name NOM``: the territory of a list of communes (« le
    territoire », id ``territoire-<nom>``), reported through :func:`cpts_diag.report.write_report`
    (a temporary perimeter file)."""
    from .errors import ArgumentError
    from .fmt import fold
    from .territory import Territory
    from .territory_kinds import COMMUNES_ID_PREFIX

    codes = [c for c in args.communes.replace(";", ",").replace(" ", ",").split(",") if c]
    if not codes:
        raise ArgumentError("--communes : aucune commune. Correctif : --communes 42187,42184 "
                            "--name \"Roanne et Riorges\" (codes Insee séparés par des virgules).")
    if not (args.name or "").strip():
        raise ArgumentError("--communes : --name manque (le nom du territoire dans le rapport). "
                            "Correctif : --name \"Roanne et Riorges\".")
    slug = fold(args.name, "-")[:60].strip("-") or "personnalise"
    return Territory.from_codes(codes, id=COMMUNES_ID_PREFIX + slug, name=args.name.strip(),
                                source="liste de communes (--communes)")


def _scenario_fits(spec, ids: list[str], where: str) -> None:
    """Refuse, before any notebook runs, a scenario that changes communes outside one of the
    requested perimeters (it would fail in that CPTS's notebook)."""
    from .errors import APLInputError
    from .territory import Territory

    codes = [str(c) for c in [*spec.remove_gps, *spec.add_gps]]
    for cid in ids:
        members = set(Territory.load(cid).communes)
        outside = [c for c in dict.fromkeys(codes) if c not in members]
        if outside:
            raise APLInputError(
                f"--scenario {where} : commune(s) {', '.join(outside[:5])} hors du périmètre de la "
                f"CPTS {cid}. Correctif : un scénario par CPTS (cpts-diag report <id> --scenario "
                "FICHIER.yaml), avec des communes de son périmètre (cpts-diag perimeters).")


def _gp_changes(items: list[str] | None, flag: str) -> dict[str, float]:
    """``["42187:3", …]`` of ``--remove`` / ``--add`` → ``{code: number}`` (checked later by
    :class:`~cpts_diag.scenario.ScenarioSpec`: finite, > 0, commune of the perimeter)."""
    from .errors import APLInputError

    out: dict[str, float] = {}
    for it in items or []:
        code, sep, n = it.partition(":")
        if not sep:
            raise APLInputError(f"{flag} {it!r} : attendu CODE:NOMBRE (code commune, deux-points, "
                                f"nombre de médecins). Correctif : {flag} 42187:3")
        try:
            out[code.strip()] = out.get(code.strip(), 0.0) + float(n.replace(",", "."))
        except ValueError:
            raise APLInputError(f"{flag} {it!r} : « {n} » n'est pas un nombre de médecins. "
                                f"Correctif : {flag} {code.strip() or '42187'}:3") from None
    return out


def _cmd_scenario(args) -> int:
    from .door_checks import check_int
    from .scenario import ScenarioSpec, run_spec

    args.top = check_int(args.top, "--top", 0, example=10)
    args.year = check_int(args.year, "--year", 1, example=2023)
    if args.spec:
        spec = ScenarioSpec.from_yaml(args.spec)
        if args.remove or args.add or args.retire_age is not None:
            print("cpts-diag: --spec donné : --remove, --add et --retire-age sont ignorés.",
                  file=sys.stderr)
    else:
        spec = ScenarioSpec.from_mapping(
            {"title": args.title, "remove_gps": _gp_changes(args.remove, "--remove"),
             "add_gps": _gp_changes(args.add, "--add"), "retire_age": args.retire_age,
             "supply": args.supply, "travel_times": args.od, "year": args.year}, where="options")
    if args.od and args.spec:
        spec.travel_times = args.od
    if args.supply and args.spec:
        spec.supply = args.supply
    res = run_spec(args.cpts_id, spec)
    print(res.summary_text())
    n = min(args.top, len(res.communes))
    if n:
        from .fmt import fmt_number

        print("\nCommunes les plus touchées (APL publiée → après, variation) :")
        for _, r in res.communes.head(n).iterrows():
            print(f"  {r['code_commune']} {r['nom']:<32} {fmt_number(r['apl_publiee'], 2):>6} → "
                  f"{fmt_number(r['apl_publiee_apres'], 2):>6}  ({fmt_number(r['variation'], 3, signed=True)})")
    if args.out:
        paths = res.save(args.out)
        print("\nÉcrit : " + ", ".join(str(p) for p in paths.values()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cpts-diag", description="Diagnostics territoriaux de CPTS.")
    sub = p.add_subparsers(dest="command", required=True)

    data = sub.add_parser("data", help="install, fetch or check the open data")
    dsub = data.add_subparsers(dest="data_command", required=True)
    inst = dsub.add_parser("install", help="install a snapshot laid out like ../shared/opendata")
    inst.add_argument("--from", dest="source", help="snapshot folder (default ../shared/opendata)")
    inst.add_argument("--link", action="store_true", help="symlink instead of copying")
    inst.set_defaults(func=_cmd_data_install)
    fetch = dsub.add_parser("fetch", help="download from the official publishers")
    fetch.add_argument("--only", nargs="*", help="source ids to fetch (default: all)")
    fetch.add_argument("--force", action="store_true", help="download again even if cached")
    fetch.set_defaults(func=_cmd_data_fetch)
    st = dsub.add_parser("status", help="list sources, vintages and file states")
    st.add_argument("--no-hash", action="store_true", help="skip SHA-256 checks (faster)")
    st.set_defaults(func=_cmd_data_status)

    per = sub.add_parser("perimeters", help="list the known CPTS perimeters")
    per.set_defaults(func=_cmd_perimeters)

    ind = sub.add_parser("indicators", help="indicator catalogue of one CPTS")
    ind.add_argument("cpts_id")
    ind.add_argument("--json", action="store_true", help="print the JSON catalogue")
    ind.set_defaults(func=_cmd_indicators)

    rep = sub.add_parser("report", help="produce diagnostic reports")
    rep.add_argument("cpts_ids", nargs="*", metavar="CPTS_ID")
    rep.add_argument("--all", action="store_true", help="every known CPTS")
    rep.add_argument("--epci", nargs="+", metavar="SIREN", help="EPCI by SIREN (id epci-SIREN)")
    rep.add_argument("--bv", nargs="+", metavar="CODE", help="bassin de vie 2022 by code (bv-CODE)")
    rep.add_argument("--dep", nargs="+", metavar="CODE", help="département by code (dep-CODE)")
    rep.add_argument("--all-epci", action="store_true", help="every EPCI of --in-dep")
    rep.add_argument("--all-bv", action="store_true", help="every bassin de vie of --in-dep")
    rep.add_argument("--in-dep", metavar="DEP", help="département of --all-epci / --all-bv")
    rep.add_argument("--communes", metavar="CODE,CODE,…",
                     help="one report of a list of communes (needs --name)")
    rep.add_argument("--name", help="name of the --communes territory in the report")
    rep.add_argument("--jobs", default=1, help="notebooks run at once (1 to 32, default 1)")
    rep.add_argument("--out", default=None, help="output folder (default outputs/)")
    rep.add_argument("--timeout", default=600, help="seconds per notebook (default 600)")
    rep.add_argument("--scenario", metavar="FILE.yaml",
                     help="add the section « Scénario » (5.6) from a scenario YAML file")
    rep.add_argument("--health", action="append", metavar="FILE.csv",
                     help="a health table of the CPTS (docs/health_tables.md), repeatable")
    rep.add_argument("--pdf", action="store_true",
                     help="also print each report to <out>/<id>/rapport.pdf (A4, needs chromium)")
    rep.add_argument("--force", action="store_true",
                     help="replace a report folder (or index.html) holding files cpts-diag did not "
                          "write; those files are kept beside the new report, never deleted")
    rep.add_argument("--rebuild", action="store_true",
                     help="rebuild every report, even those whose inputs did not change")
    rep.set_defaults(func=_cmd_report)

    sc = sub.add_parser("scenario", help="simulate GP departures / arrivals and their effect on the APL")
    sc.add_argument("cpts_id")
    sc.add_argument("--remove", action="append", metavar="CODE:N",
                    help="N GPs leave commune CODE (repeatable), e.g. --remove 42187:3")
    sc.add_argument("--add", action="append", metavar="CODE:N",
                    help="N GPs arrive in commune CODE (repeatable), e.g. --add 42184:2")
    sc.add_argument("--retire-age", type=float, default=None,
                    help="every GP of this age or older leaves (needs --supply with an 'age' column)")
    sc.add_argument("--supply", help="supply CSV: code_commune, medecins, activite, age, centre_de_sante")
    sc.add_argument("--od", help="travel-time CSV: origin, destination, minutes")
    sc.add_argument("--spec", help="scenario YAML file (title, remove_gps, add_gps, …)")
    sc.add_argument("--title", default="", help="title of the scenario (French)")
    sc.add_argument("--year", default=2023, help="APL vintage (parameters and published APL)")
    sc.add_argument("--top", default=10, help="communes listed (most affected first)")
    sc.add_argument("--out", help="folder for the CSV tables, summary and map")
    sc.set_defaults(func=_cmd_scenario)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CptsDiagError as exc:
        print(f"cpts-diag: erreur : {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:  # SIGINT/SIGTERM during a batch, or Ctrl-C elsewhere
        from .outputs import BatchInterrupted

        print(f"cpts-diag: {exc if isinstance(exc, BatchInterrupted) else 'interrompu (SIGINT)'}",
              file=sys.stderr)
        return exc.exit_code if isinstance(exc, BatchInterrupted) else 130


if __name__ == "__main__":
    sys.exit(main())
