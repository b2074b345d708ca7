#!/usr/bin/env bash
# Create ./.venv with python3.11 (or $PYTHON) and install ModelHub pinned by requirements.lock.
# Usage: scripts/bootstrap.sh [extra]   e.g. "test" for the test tools. Re-runs only when inputs change.
set -euo pipefail
cd "$(dirname "$0")/.."
extra=${1:-}
py=${PYTHON:-}
if [ -z "$py" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then py=$candidate; break; fi
  done
fi
[ -n "$py" ] || { echo "ModelHub needs Python 3.11 (python3.11 or python3 on PATH)" >&2; exit 1; }
"$py" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' || {
  echo "ModelHub needs Python 3.11; $py is $("$py" --version 2>&1). Set PYTHON=/path/to/python3.11" >&2; exit 1; }
if [ ! -x .venv/bin/python ]; then
  "$py" -m venv .venv
fi
stamp=".venv/.installed-$(cat pyproject.toml requirements.lock | sha1sum | cut -c1-12)${extra:+-$extra}"
if [ ! -f "$stamp" ]; then
  # Only the dependencies pyproject.toml lists (plus the extra's): the project runs from this
  # folder and ships no package. Installing it, editable or not, would add a build folder or an
  # import hook that every process pays for at start-up.
  reqs=$(mktemp)
  trap 'rm -f "$reqs"' EXIT
  .venv/bin/python - "$extra" >"$reqs" <<'PY'
import sys
import tomllib

project = tomllib.load(open("pyproject.toml", "rb"))["project"]
extra = sys.argv[1]
print("\n".join(project["dependencies"] + (project["optional-dependencies"][extra] if extra else [])))
PY
  # An editable install left by an older bootstrap: its import hook goes too.
  .venv/bin/python -m pip uninstall --quiet --yes modelhub >/dev/null 2>&1 || true
  # (pip's notes about unreachable local index folders on some machines are noise: filtered)
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -r "$reqs" \
    2> >(grep -v "^WARNING: Location" >&2)
  touch "$stamp"
fi
scripts/compile.sh
