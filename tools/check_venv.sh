#!/bin/sh
# Usage: sh tools/check_venv.sh [VENV]   (run by `make` before it installs anything)
# Removes a virtual environment that cannot work, so that `make` rebuilds it, and says so in one
# line: no VENV/bin/python, a Python older than 3.11, an install that never finished (no
# VENV/.installed marker), or, marker present, cpts_diag not imported from this checkout or a
# direct dependency whose package files are gone.
venv=${1:-.venv}
[ -e "$venv" ] || [ -L "$venv" ] || exit 0
case "$venv" in  # absolute: the import probe below runs from / (nothing of this folder on the path)
  /*) py="$venv/bin/python" ;;
  *) py="$(pwd -P)/$venv/bin/python" ;;
esac
probe='import importlib.metadata as md, os, re, sys
import cpts_diag
src = os.path.dirname(os.path.realpath(cpts_diag.__file__))
bad = [] if src.startswith(sys.argv[1] + os.sep) else ["cpts_diag (celui de " + src + ")"]
for req in md.requires("cpts-diag") or ():
    name = re.match(r"[\w.-]+", req).group()
    try:
        files = md.distribution(name).files or ()
    except md.PackageNotFoundError:
        files = None
    if files is None or any(f.name == "__init__.py" and not os.path.exists(f.locate()) for f in files):
        bad.append(name)
print(", ".join(bad))
sys.exit(bool(bad))'
here=$(pwd -P)
if ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
  if [ -x "$py" ]; then why="créé par $("$py" -V 2>&1 | head -n 1), Python ≥ 3.11 requis"; else why="$py absent"; fi
elif [ ! -f "$venv/.installed" ]; then
  why="installation interrompue : pas de $venv/.installed"
elif ! out=$(cd / && "$py" -I -c "$probe" "$here" 2>&1); then
  why="ne s'importe plus : $(printf '%s\n' "$out" | tail -n 1)"
else
  exit 0
fi
if rm -rf "$venv" 2>/dev/null && [ ! -e "$venv" ]; then
  echo "$venv inutilisable ($why) : supprimé, réinstallation."
else
  echo "$venv inutilisable ($why) et impossible à supprimer : faites « rm -rf $venv » puis relancez make." >&2
  exit 1
fi
