#!/usr/bin/env bash
# Runs a Python script with imgix's official Python client (imgix==4.0.0 from PyPI) importable, installing it
# into a private virtual environment (var/imgix-python) on first use. tools/test runs
#   tools/lib/imgix-python.sh Tests/Fixtures/imgix-signing/generate.py
# before the suite, so the signed URLs the tests verify are the ones the library builds on this machine.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VENV=${IMGEDGE_IMGIX_VENV:-$ROOT/var/imgix-python}
if ! "$VENV/bin/python" -c 'import imgix, sys; sys.exit(imgix.__version__ != "4.0.0")' 2>/dev/null; then
  echo "[imgix-python] installing imgix==4.0.0 into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q 'imgix==4.0.0'
fi
cd "$ROOT"
exec "$VENV/bin/python" "$@"
