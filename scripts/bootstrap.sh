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
  target="."
  [ -n "$extra" ] && target=".[$extra]"
  # (pip's notes about unreachable local index folders on some machines are noise: filtered)
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e "$target" \
    2> >(grep -v "^WARNING: Location" >&2)
  touch "$stamp"
fi
