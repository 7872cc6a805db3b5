#!/usr/bin/env bash
# venv.sh VENV REQUIREMENTS PROBE...: puts the pinned REQUIREMENTS into the Python virtual environment VENV, then runs
# PROBE (a command inside it, e.g. `bin/aiperf --version`) to prove the install starts. Idempotent: a venv whose stamp
# matches the requirements (and the Python that built it) is reused as it is; anything else is rebuilt from scratch,
# so a half-finished install is never taken for a whole one. Needs Python >= 3.11 and PyPI; VENV_PYTHON (or
# AIPERF_PYTHON) picks the interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$1
req=$2
shift 2

python="${VENV_PYTHON:-${AIPERF_PYTHON:-}}"
if [ -z "$python" ]; then
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then python="$candidate"; break; fi
  done
fi
if [ -z "$python" ] || ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "venv: $venv needs Python >= 3.11 (found: ${python:-none}); set VENV_PYTHON" >&2
  exit 1
fi

stamp="$(sha256sum "$req" | cut -d' ' -f1) $("$python" -c 'import sys; print(sys.version.split()[0])')"
if [ -f "$venv/.stamp" ] && [ "$(cat "$venv/.stamp")" = "$stamp" ]; then
  echo "venv: $venv is up to date"
  exit 0
fi

started=$SECONDS
rm -rf "$venv"
"$python" -m venv "$venv"
export PIP_DISABLE_PIP_VERSION_CHECK=1
# --no-deps: the file is the whole environment; pip check then fails on anything it lacks rather than pip fetching
# an unpinned version of it.
"$venv/bin/pip" install -q --no-deps -r "$req"
"$venv/bin/pip" check >/dev/null
"$venv/$1" "${@:2}" >/dev/null # an install that cannot start fails here, before the stamp
echo "$stamp" >"$venv/.stamp"
echo "venv: installed $req into $venv in $((SECONDS - started)) s"
