#!/usr/bin/env bash
# Runs a Python script with imgix's official Python client (imgix==4.0.0 from PyPI) importable, installing it
# into a private virtual environment on first use. Only for regenerating committed test fixtures, e.g.
#   tools/lib/imgix-python.sh Tests/Fixtures/imgix-signing/generate.py
# tools/test does not call this: the Swift tests read the committed JSON.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VENV=${IMGEDGE_IMGIX_VENV:-${TMPDIR:-/tmp}/imgedge-imgix-python}
if ! "$VENV/bin/python" -c 'import imgix, sys; sys.exit(imgix.__version__ != "4.0.0")' 2>/dev/null; then
  echo "[imgix-python] installing imgix==4.0.0 into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q 'imgix==4.0.0'
fi
cd "$ROOT"
exec "$VENV/bin/python" "$@"
