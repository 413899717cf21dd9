#!/usr/bin/env bash
# Runs a Python script with botocore (1.43.11 from PyPI, AWS's own request signer) importable, installing it into a
# private virtual environment (var/botocore-python) on first use. tools/test runs
#   tools/lib/botocore-python.sh Tests/Fixtures/sigv4/generate.py
# before the suite, so the S3 signatures the tests check are the ones botocore makes on this machine.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VENV=${IMGEDGE_BOTOCORE_VENV:-$ROOT/var/botocore-python}
if ! "$VENV/bin/python" -c 'import botocore, sys; sys.exit(botocore.__version__ != "1.43.11")' 2>/dev/null; then
  echo "[botocore-python] installing botocore==1.43.11 into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q 'botocore==1.43.11'
fi
cd "$ROOT"
exec "$VENV/bin/python" "$@"
