#!/usr/bin/env bash
# Remake the README's screenshots (docs/admin-*.png) in Chromium at 1280 px against the test Hub:
# the dashboard, Add from Hub and a job page. Needs /usr/bin/chromium; pngquant, when installed
# (apt-get install pngquant), reduces each to a small palette PNG.
set -euo pipefail
cd "$(dirname "$0")/.."
MODELHUB_DOCS_SCREENSHOTS=1 MODELHUB_REQUIRE_BROWSER=1 exec .venv/bin/python -m pytest -p no:cacheprovider -q \
  tests/downloads/admin/test_browser_docs_screenshots.py "$@"
