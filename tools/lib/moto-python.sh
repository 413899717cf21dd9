#!/usr/bin/env bash
# Runs a Python script with moto (5.2.1, a real S3 API server from PyPI) and boto3 importable, installing them into a
# private virtual environment (var/moto-python) on first use. The S3 source tests run
#   tools/lib/moto-python.sh Tests/Fixtures/s3/moto_s3.py BUCKET FILE...
# to serve a bucket on loopback with SigV4 checked.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VENV=${IMGEDGE_MOTO_VENV:-$ROOT/var/moto-python}
if ! "$VENV/bin/python" -c 'import moto, boto3, flask, sys; sys.exit(moto.__version__ != "5.2.1")' 2>/dev/null; then
  echo "[moto-python] installing moto[server]==5.2.1 into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q 'moto[server]==5.2.1'
fi
cd "$ROOT"
exec "$VENV/bin/python" "$@"
