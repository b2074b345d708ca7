#!/usr/bin/env bash
# Run the whole test suite (installs the test tools into ./.venv first). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
scripts/bootstrap.sh test
exec .venv/bin/python -m pytest "$@"
