"""Hostile and careless command lines, scenario inputs, data roots and snapshot folders.

Each case: the exit code, a French message naming the option or file and the fix, no traceback,
nothing changed outside the run's own files."""
from __future__ import annotations

import pytest

from tests.adversarial.conftest import assert_refused, run_cli

BOMB = ("a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
        "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
        "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
        "g: [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n")
SUPPLY_HEAD = "code_commune,medecins,activite,age,centre_de_sante\n"
HEALTH_HEAD = "indicateur,niveau,code,valeur,effectif,unite,annee,source\n"

# (case id, argv, files {name: text}, needles)
CASES = [
    # report: ids and options refused at the door
    ("report-no-id", ["report"], {}, ["--all"]),
    ("report-unknown-id", ["report", "nulle-part"], {}, ["nulle-part", "connues"]),
    ("report-path-id", ["report", "../../etc/passwd"], {}, ["inconnue"]),
    ("report-empty-id", ["report", ""], {}, ["inconnue"]),
    ("report-jobs-zero", ["report", "roannais-2024", "--jobs", "0"], {}, ["--jobs"]),
    ("report-jobs-negative", ["report", "roannais-2024", "--jobs", "-3"], {}, ["--jobs"]),
    ("report-jobs-text", ["report", "roannais-2024", "--jobs", "deux"], {}, ["--jobs"]),
    ("report-jobs-huge", ["report", "roannais-2024", "--jobs", "100000"], {}, ["--jobs"]),
    ("report-timeout-negative", ["report", "roannais-2024", "--timeout", "-5"], {}, ["--timeout"]),
    ("report-timeout-zero", ["report", "roannais-2024", "--timeout", "0"], {}, ["--timeout"]),
    ("report-timeout-nan", ["report", "roannais-2024", "--timeout", "nan"], {}, ["--timeout"]),
    ("report-out-empty", ["report", "roannais-2024", "--out", ""], {}, ["--out"]),
    ("report-out-is-file", ["report", "roannais-2024", "--out", "fichier.txt"],
     {"fichier.txt": "à moi"}, ["--out"]),
    ("report-out-under-file", ["report", "roannais-2024", "--out", "fichier.txt/sous"],
     {"fichier.txt": "à moi"}, ["--out"]),
    ("report-scenario-missing", ["report", "roannais-2024", "--scenario", "absent.yaml"], {},
     ["absent.yaml"]),
    ("report-scenario-bomb", ["report", "roannais-2024", "--scenario", "s.yaml"], {"s.yaml": BOMB},
     ["alias"]),
    ("report-scenario-python-tag", ["report", "roannais-2024", "--scenario", "s.yaml"],
     {"s.yaml": "title: !!python/object/apply:os.system ['true']\n"}, ["s.yaml"]),
    ("report-scenario-list", ["report", "roannais-2024", "--scenario", "s.yaml"],
     {"s.yaml": "- a\n- b\n"}, ["s.yaml"]),
    ("report-scenario-unknown-key", ["report", "roannais-2024", "--scenario", "s.yaml"],
     {"s.yaml": "title: x\nremove_gps: {'42187': 1}\ncouleur: rouge\n"}, ["couleur"]),
    ("report-all-scenario-of-one-cpts", ["report", "--all", "--scenario", "s.yaml"],
     {"s.yaml": "title: x\nremove_gps: {'42187': 1}\n"}, ["hors du périmètre", "grand-saint-etienne"]),
    ("report-scenario-alias-title", ["report", "roannais-2024", "--scenario", "s.yaml"],
     {"s.yaml": "title: &t [a, b]\nremove_gps: {'42187': 1}\n"}, ["title"]),
    # report --health: the user's health tables (docs/health_tables.md), checked at the door
    ("report-health-missing", ["report", "roannais-2024", "--health", "absent.csv"], {}, ["absent.csv"]),
    ("report-health-unknown-level", ["report", "roannais-2024", "--health", "h.csv"],
     {"h.csv": HEALTH_HEAD + "X,commune,42187,3,,%,2024,CPAM\n"}, ["h.csv", "ligne 2", "niveau"]),
    ("report-health-rate-over-100", ["report", "roannais-2024", "--health", "h.csv"],
     {"h.csv": HEALTH_HEAD + "X,cpts,,150,,%,2024,CPAM\n"}, ["ligne 2", "valeur"]),
    ("report-health-text-value", ["report", "roannais-2024", "--health", "h.csv"],
     {"h.csv": HEALTH_HEAD + "X,cpts,,beaucoup,,%,2024,CPAM\n"}, ["ligne 2", "valeur"]),
    ("report-health-no-source", ["report", "roannais-2024", "--health", "h.csv"],
     {"h.csv": HEALTH_HEAD + "X,cpts,,12,,%,2024,\n"}, ["ligne 2", "source"]),
    ("report-health-duplicate", ["report", "roannais-2024", "--health", "h.csv"],
     {"h.csv": HEALTH_HEAD + "X,cpts,,12,,%,2024,CPAM\nX,cpts,,13,,%,2024,CPAM\n"}, ["ligne 3"]),
    ("report-health-bad-year", ["report", "roannais-2024", "--health", "h.csv"],
     {"h.csv": HEALTH_HEAD + "X,cpts,,12,,%,1789,CPAM\n"}, ["ligne 2", "annee"]),
    ("report-health-negative-count", ["report", "roannais-2024", "--health", "h.csv"],
     {"h.csv": HEALTH_HEAD + "X,cpts,,12,-3,%,2024,CPAM\n"}, ["ligne 2", "effectif"]),
    ("report-health-binary", ["report", "roannais-2024", "--health", "h.csv"],
     {"h.csv": b"\x00\xff\xfe\x00"}, ["h.csv"]),
    # indicators
    ("indicators-unknown", ["indicators", "nulle-part"], {}, ["nulle-part"]),
    ("indicators-empty", ["indicators", ""], {}, ["inconnue"]),
    ("indicators-dotdot", ["indicators", "../data/cpts/roannais-2024"], {}, ["inconnue"]),
    # scenario command
    ("scenario-remove-no-colon", ["scenario", "roannais-2024", "--remove", "42187"], {}, ["--remove"]),
    ("scenario-remove-text", ["scenario", "roannais-2024", "--remove", "42187:trois"], {}, ["--remove"]),
    ("scenario-remove-negative", ["scenario", "roannais-2024", "--remove", "42187:-3"], {}, ["42187"]),
    ("scenario-remove-nan", ["scenario", "roannais-2024", "--remove", "42187:nan"], {}, ["--remove"]),
    ("scenario-remove-inf", ["scenario", "roannais-2024", "--remove", "42187:inf"], {}, ["--remove"]),
    ("scenario-remove-outside", ["scenario", "roannais-2024", "--remove", "75056:1"], {}, ["75056"]),
    ("scenario-remove-unknown", ["scenario", "roannais-2024", "--remove", "42999:1"], {}, ["42999"]),
    ("scenario-remove-too-many", ["scenario", "roannais-2024", "--remove", "42187:100000"], {},
     ["42187"]),
    ("scenario-year-absent", ["scenario", "roannais-2024", "--remove", "42187:1", "--year", "1900"],
     {}, ["1900"]),
    ("scenario-retire-without-supply", ["scenario", "roannais-2024", "--retire-age", "65"], {},
     ["--supply"]),
    ("scenario-retire-negative", ["scenario", "roannais-2024", "--retire-age", "-4", "--supply",
                                  "s.csv"], {"s.csv": SUPPLY_HEAD + "42187,2,1,50,0\n"}, ["retire"]),
    ("scenario-top-negative", ["scenario", "roannais-2024", "--remove", "42187:1", "--top", "-1"],
     {}, ["--top"]),
    ("scenario-supply-missing", ["scenario", "roannais-2024", "--supply", "absent.csv",
                                 "--remove", "42187:1"], {}, ["absent.csv"]),
    ("scenario-supply-bad-columns", ["scenario", "roannais-2024", "--supply", "s.csv",
                                     "--remove", "42187:1"], {"s.csv": "a,b\n1,2\n"}, ["colonne"]),
    ("scenario-supply-text-count", ["scenario", "roannais-2024", "--supply", "s.csv",
                                    "--remove", "42187:1"],
     {"s.csv": SUPPLY_HEAD + "42187,beaucoup,1,50,0\n"}, ["medecins"]),
    ("scenario-supply-negative", ["scenario", "roannais-2024", "--supply", "s.csv",
                                  "--remove", "42187:1"],
     {"s.csv": SUPPLY_HEAD + "42187,-2,1,50,0\n"}, ["medecins"]),
    ("scenario-supply-binary", ["scenario", "roannais-2024", "--supply", "s.csv",
                                "--remove", "42187:1"], {"s.csv": b"\x00\xff\xfe\x00"}, ["s.csv"]),
    ("scenario-od-bad", ["scenario", "roannais-2024", "--od", "od.csv", "--remove", "42187:1"],
     {"od.csv": "origin,destination,minutes\n42187,42184,-4\n"}, ["minutes"]),
    ("scenario-spec-bomb", ["scenario", "roannais-2024", "--spec", "s.yaml"], {"s.yaml": BOMB},
     ["alias"]),
    ("scenario-spec-missing", ["scenario", "roannais-2024", "--spec", "absent.yaml"], {},
     ["absent.yaml"]),
    ("scenario-out-is-file", ["scenario", "roannais-2024", "--remove", "42187:1", "--out",
                              "f.txt"], {"f.txt": "à moi"}, ["--out"]),
    # data commands
    ("install-missing-folder", ["data", "install", "--from", "absent"], {}, ["absent"]),
    ("install-no-sums", ["data", "install", "--from", "snap"], {"snap/cog/communes.csv": "x\n"},
     ["SHA256SUMS"]),
    ("install-dotdot-sums", ["data", "install", "--from", "snap"],
     {"snap/SHA256SUMS": "0" * 64 + "  ../../evil.csv\n"}, ["evil.csv"]),
    ("install-absolute-sums", ["data", "install", "--from", "snap"],
     {"snap/SHA256SUMS": "0" * 64 + "  /etc/passwd\n"}, ["passwd"]),
    ("install-garbage-sums", ["data", "install", "--from", "snap"],
     {"snap/SHA256SUMS": "pas une empreinte\n"}, ["SHA256SUMS"]),
    ("fetch-unknown-source", ["data", "fetch", "--only", "inconnue"], {}, ["inconnue"]),
]


@pytest.mark.parametrize("case, argv, files, needles", CASES, ids=[c[0] for c in CASES])
def test_hostile_command_line_is_refused(workspace, capsys, case, argv, files, needles):
    for name, text in files.items():
        workspace.file(name, text)
    code, out, err, changed = run_cli(workspace, argv, capsys)
    assert_refused(code, out, err, needles)
    assert not changed, changed
