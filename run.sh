#!/usr/bin/env bash
# Start ModelHub: install, migrate, make sure a staff login exists, then run the web server and a
# django-q2 worker together. Open http://127.0.0.1:8000/admin/ (MODELHUB_ADDR changes the address).
set -euo pipefail
cd "$(dirname "$0")"
scripts/bootstrap.sh
PY=.venv/bin/python
$PY manage.py migrate --noinput
$PY manage.py collectstatic --noinput --verbosity 0
addr=${MODELHUB_ADDR:-127.0.0.1:8000}
# The address and the login in a box: on the first start the new password, later where it is kept.
$PY manage.py ensure_admin --url "http://$addr/admin/"
echo "Ctrl-C stops the web server and the worker."
$PY manage.py qcluster &
worker=$!
trap 'kill $worker 2>/dev/null || true; wait $worker 2>/dev/null || true' EXIT INT TERM
# Workers, threads and the /hub pool: modelhub/gunicorn.conf.py (MODELHUB_WEB_WORKERS and friends).
.venv/bin/gunicorn -c modelhub/gunicorn.conf.py --bind "$addr" --access-logfile -
